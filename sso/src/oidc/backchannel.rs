//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a session ends, its grants are
//! revoked and every client with a registered `backchannel_logout_uri` gets a logout token, POSTed with
//! retries in the background; each delivery is audited. https endpoints are verified like any TLS server
//! (WebPKI roots plus `[oidc] backchannel_ca_file`, host name checked) under the server's TLS policy.

use super::{GrantData, Provider, random_token};
use hcpki_ca::audit::AuditEvent;
use serde_json::json;
use std::collections::BTreeMap;

/// Logout tokens live this long (seconds); the retired signing key stays published at least as long.
pub const LOGOUT_TOKEN_SECS: i64 = 120;

/// Revoke the session's grants and notify their clients (in the background); `why` is the session's end reason.
pub async fn session_ended(provider: &Provider, session_hash: &str, why: &str) {
    let grants = match provider.store.oidc_revoke_session_grants(session_hash).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "cannot revoke the ended session's grants");
            return;
        }
    };
    notify(provider, grants, why).await;
}

/// What follows every session end: the session's grants revoked, back-channel logout, and the `portal.logout`
/// entry naming `why` (the session of `person_key` whose id hash is `session_hash`).
pub async fn session_ended_audited(provider: &Provider, person_key: &str, session_hash: &str, why: &str) {
    session_ended(provider, session_hash, why).await;
    let (actor, detail) =
        (format!("portal:{person_key}"), json!({ "reason": why, "session": super::sid(session_hash) }));
    crate::audit::audit(
        provider.store.as_ref(),
        provider.clock.now_unix_ms(),
        &actor,
        "portal.logout",
        person_key,
        hcpki_ca::audit::Outcome::Ok,
        detail,
    )
    .await;
}

/// Send a logout token to every client with a registered `backchannel_logout_uri` among `grants`' clients
/// (grants of one ended session, already revoked), and CAEP `session-revoked` to those with a Shared Signals
/// stream (D162): every way a session ends passes here, so none can end it without its events. `why` is the
/// session's end reason.
pub async fn notify(provider: &Provider, grants: Vec<hcpki_ca::store::GrantRecord>, why: &str) {
    provider.signals.grants_ended(provider, &grants, why).await;
    // One logout token per client: (client, sub, sid) are the same for all its grants in this session.
    let mut per_client = BTreeMap::new();
    let now = provider.clock.now_unix();
    for g in grants {
        per_client.entry(g.client_id.clone()).or_insert(g);
    }
    for (client_id, grant) in per_client {
        let Ok(Some(c)) = provider.clients.load_recorded(&client_id).await else { continue };
        let Some(uri) = c.config.backchannel_logout_uri.clone() else { continue };
        let Ok(data) = GrantData::of(&grant) else { continue };
        let claims = json!({
            "iss": provider.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + LOGOUT_TOKEN_SECS,
            "jti": random_token(16).unwrap_or_default(),
            "sub": data.sub,
            "sid": data.sid,
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        });
        let token = match provider.sign(c.config.id_token_signed_response_alg, "logout+jwt", &claims) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e.description, "cannot sign a logout token");
                continue;
            }
        };
        let store = provider.store.clone();
        let post = provider.logout.clone();
        let clock = provider.clock.clone();
        tokio::spawn(async move {
            let body = format!("logout_token={token}").into_bytes();
            let (outcome, detail) =
                post.deliver(&uri, "application/x-www-form-urlencoded", "hcpki-backchannel-logout", body).await;
            let event = AuditEvent {
                actor: "system".into(),
                action: "oidc.backchannel_logout".into(),
                target: client_id,
                outcome,
                detail: json!({ "uri": uri, "result": detail }),
            };
            if let Err(e) = store.append_audit(&event, clock.now()).await {
                tracing::error!(error = %e, "cannot audit a back-channel logout");
            }
        });
    }
}
