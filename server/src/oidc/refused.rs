//! The audit entries of the back-channel endpoints' refusals (issue #6, "Bad input": each refused with a clear
//! message and an audit entry), written through the portal's group-committed refusal writer
//! ([`crate::portal::refusals`]). An entry names the client and says why, with the OAuth error answered; it
//! never holds a secret the request carried (a code, a token, an assertion).

use super::{OAuthError, jws};
use crate::portal::PortalState;
use crate::portal::refusals::named;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Longest reason kept in an entry: some quote what the request sent (an unknown JWS `alg`).
const MAX_REASON: usize = 512;

/// A client that failed to authenticate at `endpoint` (`/token`, `/par`, `/introspect`, `/revoke`), audited
/// `oidc.client.authenticate` by `oidc:anonymous` on the client it claimed to be: its `client_id`, else its
/// assertion's `iss` (unverified: only to say whose name was used). Returns the refusal to answer with. A server
/// error is no refusal: it is logged, not audited.
pub async fn client(state: &PortalState, endpoint: &str, form: &HashMap<String, String>, e: OAuthError) -> OAuthError {
    if e.status.is_server_error() {
        return e;
    }
    let claimed =
        form.get("client_id").cloned().or_else(|| form.get("client_assertion").and_then(|a| jws::unverified_issuer(a)));
    let detail = json!({ "endpoint": endpoint, "error": e.error, "reason": reason(&e.description) });
    state.refusals.record("oidc:anonymous", "oidc.client.authenticate", &named(claimed.as_deref()), detail).await;
    e
}

/// An authenticated client's request refused at `action` (`oidc.token`, `oidc.par`, `oidc.introspect`,
/// `oidc.revoke`), audited by `oidc:<client>`
/// on the client, with `more`'s members (e.g. the grant). Returns the refusal; a server error is not audited.
pub async fn request(state: &PortalState, client_id: &str, action: &str, e: OAuthError, more: Value) -> OAuthError {
    if e.status.is_server_error() {
        return e;
    }
    let mut detail = json!({ "error": e.error, "reason": reason(&e.description) });
    if let (Some(map), Value::Object(more)) = (detail.as_object_mut(), more) {
        map.extend(more);
    }
    state.refusals.record(&format!("oidc:{client_id}"), action, client_id, detail).await;
    e
}

/// A reason fit for an entry: at most [`MAX_REASON`] characters.
pub fn reason(text: &str) -> String {
    text.chars().take(MAX_REASON).collect()
}
