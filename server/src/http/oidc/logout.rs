//! `GET /logout` (RP-initiated logout 1.0): the session cookie and the query; the hint is verified by the
//! provider, the session ended by the portal ([`crate::portal::end_session`]). Its POST (the confirmation form)
//! is the portal's `logout`.

use crate::portal::cookie::SessionCookies as _;
use crate::portal::{self, PortalState};
use crate::web::oauth::OAuthResponse;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hcpki_sso::oidc::OAuthError;
use hcpki_sso::refusals::named;
use serde_json::{Value, json};
use std::collections::HashMap;

/// `GET /logout` (RP-initiated logout 1.0): with a valid `id_token_hint` and a registered
/// `post_logout_redirect_uri`, the session ends and the browser returns to the client; otherwise the user
/// confirms on a form (a cross-site link alone never ends a session without proof from the client).
pub async fn logout_get(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = portal::lang::negotiate(None, &headers);
    let current = match state.sessions.current(&headers, state.clock.now_unix()).await {
        Ok(s) => s,
        Err(e) => return OAuthError::from(e).into_response(),
    };
    let actor =
        current.as_ref().map_or_else(|| "portal:anonymous".to_owned(), |(s, _)| format!("portal:{}", s.person_key));
    // A hint that does not verify is refused (audited) and the user asked to confirm, as without one.
    let hint = match query.get("id_token_hint").map(|t| state.oidc.verify_own(t)) {
        Some(Ok((_, claims))) => Some(claims),
        Some(Err(e)) => {
            let why = format!("id_token_hint does not verify ({e}): the user is asked to confirm");
            let detail = json!({ "reason": hcpki_sso::oidc::refused::reason(&why) });
            state.refusals.record(&actor, "oidc.logout", "-", detail).await;
            None
        }
        None => None,
    };
    let aud = hint.as_ref().and_then(|c| c.get("aud")).and_then(Value::as_str).map(str::to_owned);
    let target = match (&aud, query.get("post_logout_redirect_uri")) {
        (Some(aud), Some(uri)) => match state.oidc.clients.load_recorded(aud).await {
            Ok(Some(c)) if c.config.post_logout_redirect_uris.contains(uri) => Some(uri.clone()),
            Ok(_) => {
                let why = "post_logout_redirect_uri is not registered for this client";
                let detail = json!({ "reason": why, "post_logout_redirect_uri": named(Some(uri)) });
                state.refusals.record(&actor, "oidc.logout", &named(Some(aud)), detail).await;
                return portal::refused_page(lang, StatusCode::BAD_REQUEST, why);
            }
            Err(e) => return e.into_response(),
        },
        _ => None,
    };
    let Some((session, csrf)) = current else {
        return portal::signed_out(lang, target.map(|t| with_state(&t, query.get("state"))).as_deref());
    };
    let sid = hint.as_ref().and_then(|c| c.get("sid")).and_then(Value::as_str);
    let ours = hcpki_sso::oidc::sid(&session.id_hash);
    if hint.is_none() || sid != Some(ours.as_str()) {
        return portal::confirm_logout(lang, &csrf);
    }
    portal::end_session(&state, &session).await;
    portal::signed_out(lang, target.map(|t| with_state(&t, query.get("state"))).as_deref())
}

fn with_state(uri: &str, state: Option<&String>) -> String {
    match state {
        Some(s) => {
            let sep = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{sep}{}", hcpki_sso::oidc::authorize::encode(&[("state".into(), s.clone())]))
        }
        None => uri.to_owned(),
    }
}
