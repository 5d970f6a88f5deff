//! Where the provider announces ended sessions and grants beyond back-channel logout: the hook the Shared
//! Signals transmitter (`crate::ssf`, D162) implements, declared here so the provider needs nothing above it.

use super::Provider;
use hcpki_ca::store::GrantRecord;

/// Told of every session or grant end, after the grants were revoked.
#[async_trait::async_trait]
pub trait SessionSignals: Send + Sync + std::fmt::Debug {
    /// `grants` (already revoked) ended for `why`: their session's end reason, or `revoke` when the client
    /// revoked its own grant at `/revoke`.
    async fn grants_ended(&self, provider: &Provider, grants: &[GrantRecord], why: &str);
}

/// Nothing beyond back-channel logout (tests of the provider alone).
#[derive(Debug)]
pub struct NoSignals;

#[async_trait::async_trait]
impl SessionSignals for NoSignals {
    async fn grants_ended(&self, _provider: &Provider, _grants: &[GrantRecord], _why: &str) {}
}
