//! The portal's and the provider's audit entries of what happened (a login, a grant, a revocation): written at
//! once, unlike the group-committed refusals ([`crate::refusals`]). In the SSO core, below the server's `portal`
//! and `oidc`, so that either writes entries without importing the other.

use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::AuditLog;
use hcpki_pkix::time::UnixTime;

/// Append an audit entry at `at_ms` (Unix milliseconds); a failure is logged (the request it records has
/// happened either way).
pub async fn audit(
    store: &(impl AuditLog + ?Sized),
    at_ms: i64,
    actor: &str,
    action: &str,
    target: &str,
    outcome: Outcome,
    detail: serde_json::Value,
) {
    let event =
        AuditEvent { actor: actor.to_owned(), action: action.to_owned(), target: target.to_owned(), outcome, detail };
    if let Err(e) = store.append_audit(&event, UnixTime::from_millis(at_ms)).await {
        tracing::error!(error = %e, action, "cannot write the audit entry");
    }
}
