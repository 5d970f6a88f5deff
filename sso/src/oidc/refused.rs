//! The audit entries of the back-channel endpoints' refusals (issue #6, "Bad input": each refused with a clear
//! message and an audit entry), written through the portal's group-committed refusal writer
//! ([`crate::refusals`]). An entry names the client and says why, with the OAuth error answered; it
//! never holds a secret the request carried (a code, a token, an assertion).

use super::OAuthError;
use super::client::ClientCredentials;
use crate::refusals::{Refusals, named};
use serde_json::{Value, json};

/// Longest reason kept in an entry: some quote what the request sent (an unknown JWS `alg`).
const MAX_REASON: usize = 512;

/// A client that failed to authenticate at `endpoint` (`/token`, `/par`, `/introspect`, `/revoke`), audited
/// `oidc.client.authenticate` by `oidc:anonymous` on the client it claimed to be: its `client_id`, else its
/// assertion's `iss` (unverified: only to say whose name was used). Returns the refusal to answer with. A server
/// error is no refusal: it is logged, not audited.
pub async fn client(refusals: &Refusals, endpoint: &str, sent: &ClientCredentials, e: OAuthError) -> OAuthError {
    if e.status.is_server_error() {
        return e;
    }
    let claimed = sent.claimed();
    let detail =
        json!({ "endpoint": endpoint, "error": e.error, "reason": reason(&e.description), "sent": sent.way() });
    refusals.record("oidc:anonymous", "oidc.client.authenticate", &named(claimed.as_deref()), detail).await;
    e
}

/// An authenticated client's request refused at `action` (`oidc.token`, `oidc.par`, `oidc.introspect`,
/// `oidc.revoke`), audited by `oidc:<client>`
/// on the client, with `more`'s members (e.g. the grant). Returns the refusal; a server error is not audited.
pub async fn request(refusals: &Refusals, client_id: &str, action: &str, e: OAuthError, more: Value) -> OAuthError {
    if e.status.is_server_error() {
        return e;
    }
    let mut detail = json!({ "error": e.error, "reason": reason(&e.description) });
    if let (Some(map), Value::Object(more)) = (detail.as_object_mut(), more) {
        map.extend(more);
    }
    refusals.record(&format!("oidc:{client_id}"), action, client_id, detail).await;
    e
}

/// A reason fit for an entry: at most [`MAX_REASON`] characters.
pub fn reason(text: &str) -> String {
    text.chars().take(MAX_REASON).collect()
}
