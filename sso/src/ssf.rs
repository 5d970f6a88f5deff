//! The Shared Signals transmitter (OpenID Shared Signals Framework 1.0 with CAEP and RISC event types; issue
//! #51 item 2, D162), HTTP-free: relying services learn when a session or grant they hold ends, when a person's
//! credential changes and when an account is disabled, as Security Event Tokens (RFC 8417) signed with the
//! provider's signing key, pushed to them (RFC 8935) or polled by them (RFC 8936).
//!
//! Each confidential client may have one event stream ([`stream`]), managed by the client itself with a
//! client-credentials token of scope `ssf` ([`management`]). Every way a session ends reaches
//! [`emit::sessions_ended`] through the back-channel logout's one entry point (`oidc::backchannel::notify`,
//! which calls the provider's [`SessionSignals`] hook, [`Transmitter`]), so a new way to end a session cannot
//! forget its event; `/revoke` reaches the same hook, credential and account changes [`emit::person_changed`]. A SET names its subject as the client knows it: the `sub` of the
//! client's ID tokens (pairwise where the client is pairwise) and the session's `sid` ([`event`]). SETs wait in
//! the store's outbox until the receiver took them: the server's push worker retries with back-off across
//! restarts; a poll receiver acknowledges their `jti`s.

pub mod emit;
pub mod event;
pub mod management;
pub mod stream;

use crate::oidc::Provider;
use crate::oidc::SessionSignals;
use crate::scim;
use hcpki_ca::store::GrantRecord;

pub use crate::oidc::client_credentials::SSF_PATH;
/// The transmitter as the provider's [`SessionSignals`] hook and SCIM's [`scim::Signals`] hook.
#[derive(Debug)]
pub struct Transmitter;

#[async_trait::async_trait]
impl SessionSignals for Transmitter {
    async fn grants_ended(&self, provider: &Provider, grants: &[GrantRecord], why: &str) {
        emit::sessions_ended(provider, grants, why).await;
    }
}

/// SCIM de-provisioning announced (its sessions' ends are announced by the provider's hook as they end).
#[derive(Debug)]
pub struct Deprovisioning {
    /// The provider.
    pub provider: std::sync::Arc<Provider>,
}

#[async_trait::async_trait]
impl scim::Signals for Deprovisioning {
    async fn deprovisioned(&self, account: &scim::Deprovisioned) {
        tracing::info!(user = %account.username, facility = %account.facility, "SCIM de-provisioned an account");
        // The store recorded the account's `account-disabled` with the disable itself (D175): announced now
        // rather than at the next housekeeping round.
        if let Err(e) = emit::person_events(&self.provider, 100).await {
            tracing::warn!(error = %e, "SSF: person events not announced; the housekeeping retries");
        }
    }

    async fn password_changed(&self, person_key: &str) {
        let change = event::Event::CredentialChange(event::Credential::Password, event::Change::Update);
        emit::person_changed(&self.provider, person_key, &change).await;
    }
}

/// The transmitter configuration metadata's path (SSF 1.0 §7.1).
pub const CONFIGURATION_PATH: &str = "/.well-known/ssf-configuration";
/// The stream management endpoint's path.
pub const STREAM_PATH: &str = "/ssf/stream";
/// The stream status endpoint's path.
pub const STATUS_PATH: &str = "/ssf/status";
/// The verification endpoint's path.
pub const VERIFY_PATH: &str = "/ssf/verify";
pub use stream::POLL_PATH;

/// The transmitter configuration metadata (SSF 1.0 §7.1) of the provider at `issuer`.
pub fn configuration(issuer: &str) -> serde_json::Value {
    serde_json::json!({
        "spec_version": "1_0",
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/jwks"),
        "delivery_methods_supported": [stream::PUSH, stream::POLL],
        "configuration_endpoint": format!("{issuer}{STREAM_PATH}"),
        "status_endpoint": format!("{issuer}{STATUS_PATH}"),
        "verification_endpoint": format!("{issuer}{VERIFY_PATH}"),
        "critical_subject_members": ["user"],
        "authorization_schemes": [{ "spec_urn": "urn:ietf:rfc:6749" }],
        "default_subjects": "ALL",
    })
}
