//! The OpenID Connect provider (issue #6, D24): clients, grants, tokens and single-use values.

use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::records::Actor;
use crate::sso::{GrantRecord, OidcClientRecord, TokenWrite, TokenWritten};
use hcpki_model::{OidcClientId, UnixTime};

/// The OpenID Connect provider (issue #6, D24): clients, grants, tokens and single-use values.
#[async_trait::async_trait]
pub trait Oidc: Send + Sync {
    /// Register a client, audited as `oidc.client.add`.
    async fn oidc_add_client(&self, client: &OidcClientRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// One client.
    async fn oidc_client(&self, id: &OidcClientId) -> Result<Option<OidcClientRecord>, StoreError>;

    /// All clients, by id.
    async fn oidc_clients(&self) -> Result<Vec<OidcClientRecord>, StoreError>;

    /// Replace client `id`'s registration with `data` if it still reads `expected` (a concurrent change wins:
    /// `false`), with its audit `event`, in one transaction.
    async fn oidc_update_client(
        &self,
        id: &OidcClientId,
        expected: &str,
        data: &str,
        event: &crate::audit::AuditEvent,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Remove a client and revoke its grants, audited as `oidc.client.remove`; `false` if unknown.
    async fn oidc_remove_client(&self, id: &OidcClientId, actor: &Actor, at: UnixTime) -> Result<bool, StoreError>;

    /// Store a new grant (state `code`).
    async fn oidc_create_grant(&self, grant: &GrantRecord) -> Result<(), StoreError>;

    /// Store a new grant with the audit entry of the decision that made it, in one transaction: `/authorize`'s
    /// one write turn instead of two (issue #52).
    async fn oidc_create_grant_audited(
        &self,
        grant: &GrantRecord,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// One grant, whatever its state.
    async fn oidc_grant(&self, id: &str) -> Result<Option<GrantRecord>, StoreError>;

    /// The grants among `ids` that exist, in no particular order (one statement for a batch of token requests).
    async fn oidc_grants(&self, ids: &[String]) -> Result<Vec<GrantRecord>, StoreError>;

    /// The token endpoint's writes for a batch of requests, in one transaction (one durable commit for all: the
    /// endpoint group-commits them, D28 addendum), one [`TokenWritten`] per write, as if applied in order.
    /// Each write's single-use value is recorded first; a value taken already (also by an earlier write of the
    /// batch) is a replay and its op is not applied. A code presented a second time or a refresh token the grant
    /// rotated out revokes the grant ([`GrantUse::Replayed`]); so does a second op on the same grant in the batch.
    /// Each accepted rotation records the token it spent; a refresh secret the grant never had is only refused
    /// ([`GrantUse::Refused`], D152).
    async fn oidc_token_writes(&self, writes: &[TokenWrite], now: UnixTime) -> Result<Vec<TokenWritten>, StoreError>;

    /// Revoke one grant; the grant if it was not revoked already.
    async fn oidc_revoke_grant(&self, id: &str) -> Result<Option<GrantRecord>, StoreError>;

    /// Revoke every grant of a session (logout); those that were not revoked already.
    async fn oidc_revoke_session_grants(&self, session_hash: &str) -> Result<Vec<GrantRecord>, StoreError>;

    /// Store a single-use value until `expires_at`; `false` if `(kind, key)` is taken by a value unexpired at
    /// `now` (a replay). An expired value under the same key is replaced; other expired values are left to
    /// [`Sessions::portal_sweep`](crate::Sessions::portal_sweep).
    async fn oidc_once_put(
        &self,
        kind: &str,
        key: &str,
        value: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Take a single-use value, if it exists and is unexpired at `now`: for exactly one caller.
    async fn oidc_once_take(&self, kind: &str, key: &str, now: UnixTime) -> Result<Option<String>, StoreError>;

    /// Every grant made in a session, whatever its state (back-channel logout after the grants were revoked).
    async fn oidc_session_grants(&self, session_hash: &str) -> Result<Vec<GrantRecord>, StoreError>;
}
