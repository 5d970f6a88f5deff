//! HPKI / JPKI card login on the portal (issue #6): the HTTP side of [`crate::login`].
//!
//! ```text
//! GET  /login                 pre-login cookie (random id) + the page; its script (card-login.js) …
//! POST /login/card/challenge  … gets a challenge bound to hash(pre-login id) and the portal's origin
//!      local card agent       signs login_message(origin, challenge) after the PIN, typed in the agent's window
//! POST /login/card            challenge taken (single use) → CardVerifier::verify → `login.card` audit entry
//!                             → SSO session (the card id derived from the verified certificate, never
//!                             the post's) → redirect, or with a presence lease the
//!                             "continuing" page that hands the agent the session's presence token first;
//!                             all but the answer in [`complete`]
//! POST /logout/card-removed   the home page's card-watch.js saw the agent report the card gone: the sessions
//!                             of this person with this card end and every client gets its back-channel
//!                             logout (another card's id is refused, audited)
//! POST /presence              the agent, with no page needed: the card is still in (lease renewed) or gone
//!                             (session ended, back-channel logout); D26
//! ```
//!
//! The pre-login cookie makes a challenge useless in another browser: the binding is a hash of a value only
//! this browser holds, and the CSRF token of the two POSTs is derived from it as well.

use super::login_form::RawCardLogin;
use super::request_body::SignInForm;
use super::session::{Created, CredentialDetails, NewSession, SessionError, Sessions};
use super::{PortalState, Tls, audit, pages, safe_return, unavailable};
use crate::login::{CardKind, CardLoginError, CardVerifier, challenge};
use crate::policy::{FacilityContext, Services};
use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hcpki_agent_protocol::presence;
use hcpki_ca::audit::Outcome;
use hcpki_ca::store::Store;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The pre-login cookie: a random id naming this browser until it logs in.
pub const PRELOGIN_COOKIE: &str = "__Host-hcpki-login";
/// How long a pre-login id lives (a login page left open over lunch still works).
const PRELOGIN_SECS: i64 = 3600;

/// The card login of a portal, when `[login]` has trust anchors.
#[derive(Debug)]
pub struct CardLogin {
    /// Verifies signatures, chains and revocation (CRL cache filled by its background task).
    pub verifier: CardVerifier,
    /// The portal's origin: challenges are issued for it and the signed message is rebuilt from it.
    pub origin: String,
    /// Challenge lifetime, seconds.
    pub ttl_secs: u32,
    /// The local card agent's origin, e.g. `http://127.0.0.1:7717` (the page's script talks to it).
    pub agent: String,
}

impl CardLogin {
    /// A fresh single-use challenge for the browser holding `prelogin_id`, at this portal's origin.
    pub async fn challenge(
        &self,
        store: &dyn Store,
        prelogin_id: &str,
        now: i64,
    ) -> Result<challenge::IssuedChallenge, CardLoginError> {
        challenge::issue(store, &binding(prelogin_id), &self.origin, self.ttl_secs, now).await
    }
}

/// The browser's pre-login id, and the `Set-Cookie` value when a new one had to be made.
pub fn prelogin(headers: &HeaderMap) -> Result<(String, Option<String>), String> {
    if let Some(id) = super::session::cookie_value(headers, PRELOGIN_COOKIE).filter(|v| v.len() == 43) {
        return Ok((id, None));
    }
    let raw = hcpki_ca::keys::random_secret(32).map_err(|e| e.to_string())?;
    let id = URL_SAFE_NO_PAD.encode(raw.as_slice());
    let cookie = format!("{PRELOGIN_COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={PRELOGIN_SECS}");
    Ok((id, Some(cookie)))
}

/// What a challenge is bound to: a hash of the pre-login id (the id itself never reaches the database).
pub fn binding(prelogin_id: &str) -> String {
    hex::encode(Sha256::digest(format!("hcpki card login binding\0{prelogin_id}").as_bytes()))
}

/// The CSRF token of the login page's POSTs, derived from the pre-login id.
pub fn prelogin_csrf(state: &PortalState, prelogin_id: &str) -> String {
    state.secret.csrf_token(&format!("pre-login\0{prelogin_id}"))
}

fn with_cookie(mut response: Response, cookie: Option<&str>) -> Response {
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ChallengeForm {
    csrf: String,
}

/// `POST /login/card/challenge`: a fresh single-use challenge for this browser, as JSON.
pub async fn challenge(
    State(state): State<PortalState>,
    headers: HeaderMap,
    SignInForm(form): SignInForm<ChallengeForm>,
) -> Response {
    let Some(cards) = state.cards.clone() else {
        return json_error(StatusCode::NOT_FOUND, "card_login_off", "card login is not configured on this portal");
    };
    let Some(id) = super::session::cookie_value(&headers, PRELOGIN_COOKIE) else {
        return json_error(StatusCode::FORBIDDEN, "no_login_page", "open the login page again (it sets a cookie)");
    };
    if form.csrf != prelogin_csrf(&state, &id) {
        return json_error(StatusCode::FORBIDDEN, "csrf", "the login page is stale: reload it and try again");
    }
    match cards.challenge(state.store.as_ref(), &id, hcpki_ca::time::now_unix()).await {
        Ok(issued) => Json(issued).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot issue a card login challenge");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the portal cannot answer now; try again")
        }
    }
}

/// `POST /login/card`: verify the card's answer and start the SSO session. The form is parsed before any I/O
/// (issue #24 item 5): a `kind` other than `hpki`/`jpki`, or a field the login page's script could not have
/// sent, is refused (400) and audited `login.card` without its value. It carries no card id: the session's is
/// derived from the verified certificate (item 4).
pub async fn submit(
    State(state): State<PortalState>,
    tls: Tls,
    headers: HeaderMap,
    SignInForm(raw): SignInForm<RawCardLogin>,
) -> Response {
    let Some(cards) = state.cards.clone() else {
        return pages::refused(StatusCode::NOT_FOUND, "card login is not configured on this portal");
    };
    let form = match raw.parse() {
        Ok(form) => form,
        Err(malformed) => {
            let detail = json!({ "reason": "malformed", "field": malformed.field(), "origin": cards.origin });
            state.refusals.record("portal:anonymous", crate::login::audit::ACTION, "card-login", detail).await;
            return pages::refused_ja(StatusCode::BAD_REQUEST, &malformed.to_string());
        }
    };
    let return_to = safe_return(form.return_to.as_deref());
    let Some(id) = super::session::cookie_value(&headers, PRELOGIN_COOKIE) else {
        return pages::refused(StatusCode::FORBIDDEN, "open the login page again (it sets a cookie) and retry");
    };
    if form.csrf != prelogin_csrf(&state, &id) {
        return pages::refused(StatusCode::FORBIDDEN, "the login page is stale: reload it and try again");
    }
    let super::LoginFacility { context: facility, certificate: facility_certificate, not_after: facility_not_after } =
        match super::login_connection(&state, &tls, "portal:anonymous", "card-login", "card").await {
            Ok(found) => found,
            Err(refused) => return refused,
        };
    let answer = CardAnswer {
        challenge_id: &form.challenge_id,
        signature: &form.signature,
        chain: &form.chain,
        button: form.kind,
    };
    // Cloned: the refusal page below shows the facility too.
    let source = LoginSource { prelogin_id: &id, facility: facility.clone(), facility_certificate, facility_not_after };
    let services = match state.services.current().await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let now = hcpki_ca::time::now_unix();
    let created = match complete(&state.store, &state.sessions, &cards, &services, &answer, source, now).await {
        Ok(created) => created,
        Err(Incomplete::Card(CardLoginError::Store(e))) => return unavailable(e),
        Err(Incomplete::Card(e)) => {
            // The page again, with the card buttons: the next attempt needs a new challenge anyway.
            let card = pages::CardSection { agent: cards.agent.clone(), csrf: form.csrf.clone() };
            return pages::login(facility.as_ref(), &return_to, Some(&e.to_string()), Some(&card));
        }
        Err(Incomplete::Session(e)) => return super::session_failed(e),
    };
    // A session on a presence lease first hands its token to the agent (D26): a login started by a relying
    // service goes straight back to it, and no other portal page may ever be opened.
    let next = if created.session.presence {
        let token = super::session::presence_token(&created.csrf);
        let card_id = created.session.credential.card_id.as_deref().unwrap_or_default();
        pages::continuing(&return_to, &cards.agent, card_id, &created.csrf, &token)
    } else {
        Redirect::to(&return_to).into_response()
    };
    let response = with_cookie(next, Some(&created.set_cookie));
    // The pre-login id has done its work: a new login starts from a new one.
    with_cookie(response, Some(&format!("{PRELOGIN_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")))
}

/// What the card login page posts, as the form's text: the card's answer to a challenge.
#[derive(Debug)]
pub struct CardAnswer<'a> {
    /// The challenge (base64url) the card signed.
    pub challenge_id: &'a str,
    /// Base64 signature from the agent.
    pub signature: &'a str,
    /// Base64 DER certificates, card certificate first, comma-separated.
    pub chain: &'a str,
    /// The button pressed (audited; the chain decides what the card is).
    pub button: CardKind,
}

/// Where a card login comes from: the browser's pre-login id and the connection's facility.
#[derive(Debug)]
pub struct LoginSource<'a> {
    /// The pre-login cookie's value (the challenge is bound to its hash).
    pub prelogin_id: &'a str,
    /// The facility of the connection's verified PC certificate, if any.
    pub facility: Option<FacilityContext>,
    /// That certificate's serial.
    pub facility_certificate: Option<String>,
    /// That certificate's notAfter (Unix seconds): the session ends by then.
    pub facility_not_after: Option<i64>,
}

/// Why [`complete`] started no session.
#[derive(Debug)]
pub enum Incomplete {
    /// The card login was refused (or the database failed while checking it: `CardLoginError::Store`).
    Card(CardLoginError),
    /// The login was good but the session could not be stored.
    Session(SessionError),
}

/// The server side of a card login once the HTTP checks (pre-login cookie, CSRF, connection's facility) have
/// passed: take the challenge (single use), verify the card's answer, append the `login.card` audit entry
/// (refusals too; a success records the policy's decision for each of `services`, what the home page lists)
/// and start the SSO session. `POST /login/card` and `hcpki bench login` both run this, so the bench measures
/// what a login costs the server.
pub async fn complete(
    store: &Arc<dyn Store>,
    sessions: &Sessions,
    cards: &CardLogin,
    services: &Services,
    answer: &CardAnswer<'_>,
    source: LoginSource<'_>,
    now: i64,
) -> Result<Created, Incomplete> {
    let client =
        source.facility.as_ref().map_or_else(|| "portal:no-facility".to_owned(), |f| format!("facility:{}", f.id));
    let result = verify(store.as_ref(), cards, answer, source.prelogin_id, now).await;
    let mut event = crate::login::audit_event(&result, &cards.origin, &client);
    if let Some(obj) = event.detail.as_object_mut() {
        obj.insert("button".into(), json!(answer.button));
        obj.insert("facility".into(), json!(source.facility.as_ref().map(|f| f.id.to_string())));
    }
    let card = match result {
        Ok(card) => card,
        Err(e) => {
            if let Err(store_error) = store.append_audit(&event, hcpki_ca::time::now_unix_ms()).await {
                tracing::error!(error = %store_error, "cannot write the login.card audit entry");
            }
            return Err(Incomplete::Card(e));
        }
    };
    // The key this card gave before trust-anchor binding, if listed by migration 0021: linked (claimed by the
    // first such login), so the console grant and relying parties' `sub` carry over.
    let linked = store
        .person_key_link(&card.person_key, &card.legacy_person_key, now)
        .await
        .map_err(|e| Incomplete::Card(CardLoginError::Store(e)))?;
    if let Some(obj) = event.detail.as_object_mut() {
        let listing = crate::policy::listing(&card.subject, source.facility.as_ref(), services);
        obj.insert("services".into(), json!(listing));
        obj.insert("linked_legacy_key".into(), json!(linked));
    }
    let method = match card.kind {
        CardKind::Hpki => "hpki-card",
        CardKind::Jpki => "jpki-card",
    };
    let new = NewSession {
        subject: card.subject,
        person_key: card.person_key,
        facility: source.facility,
        credential: CredentialDetails {
            method: method.into(),
            card_id: Some(card.card_id),
            certificate: Some(format!("{} {}", card.serial, card.issuer)),
            facility_certificate: source.facility_certificate,
        },
        auth_time: now,
        card_not_after: Some(card.not_after),
        facility_not_after: source.facility_not_after,
    };
    // A verified card's entry goes in with its session (one transaction).
    sessions.create(new, event).await.map_err(Incomplete::Session)
}

async fn verify(
    store: &dyn Store,
    cards: &CardLogin,
    answer: &CardAnswer<'_>,
    prelogin_id: &str,
    now: i64,
) -> Result<crate::login::VerifiedCard, CardLoginError> {
    // Taken first, whatever else is wrong with the post: a challenge is worth one attempt.
    let taken = challenge::take(store, answer.challenge_id, &binding(prelogin_id), &cards.origin, now).await?;
    let decoded = crate::login::answer::decode(answer.signature, answer.chain)?;
    cards.verifier.verify(&taken, &decoded.signature, &decoded.chain, now)
}

#[derive(Debug, serde::Deserialize)]
pub struct CardRemovedForm {
    csrf: String,
    card_id: String,
}

/// `POST /logout/card-removed`: the card this session logged in with left its reader.
pub async fn card_removed(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Form(form): Form<CardRemovedForm>,
) -> Response {
    let (session, csrf) = match state.sessions.current(&headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return super::signed_out(None),
        Err(e) => return unavailable(e),
    };
    if form.csrf != csrf {
        let detail = json!({ "reason": "missing or wrong CSRF token", "path": "/logout/card-removed" });
        audit(&state.store, &format!("portal:{}", session.person_key), "portal.csrf", "-", Outcome::Denied, detail)
            .await;
        return pages::refused(StatusCode::FORBIDDEN, "stale page: reload it");
    }
    // Only this session's own card (derived from its verified certificate at login), and then only this
    // person's sessions with it: a card id seen in an agent log on a shared PC ends nobody else's session.
    if session.credential.card_id.as_deref() != Some(form.card_id.as_str()) {
        let detail = json!({ "reason": "card-removed report for a card this session did not log in with",
            "card_id": super::refusals::named(Some(&form.card_id)) });
        let actor = format!("portal:{}", session.person_key);
        state.refusals.record(&actor, "portal.card-removed", "-", detail).await;
        return pages::refused(
            StatusCode::CONFLICT,
            "this session was not started with that card: sign out from the home page instead",
        );
    }
    match state.end_sessions_for_card(&session.person_key, &form.card_id).await {
        Ok(_) => super::signed_out(None),
        Err(e) => unavailable(e),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct PresenceForm {
    /// The session's presence token (from the home page's `data-presence`).
    token: String,
    /// The card the agent sees.
    card_id: String,
    /// `present` (renew the lease) or `removed` (end the session).
    event: String,
}

/// `POST /presence`: the card agent reports the login card present, renewing the session's presence lease,
/// or removed, ending the session (back-channel logout, audited `card-removed`), without any portal page
/// open (D26). The contract is `hcpki_agent_protocol::presence`: `present` is answered 200 with the lease
/// (`{"lease_secs": N}`) so the agent knows how often to renew; `removed` 204; 404 when no live session has
/// this token and card (the agent stops reporting); 400 for a malformed report.
pub async fn presence(State(state): State<PortalState>, Form(form): Form<PresenceForm>) -> Response {
    let Some(event) = presence::Event::parse(&form.event) else {
        return json_error(StatusCode::BAD_REQUEST, "event", "event must be present or removed");
    };
    if !presence::valid_token(&form.token) || !presence::valid_card_id(&form.card_id) {
        return json_error(StatusCode::BAD_REQUEST, "malformed", "token or card_id does not have the agent's form");
    }
    let now = hcpki_ca::time::now_unix();
    let session = match state.sessions.renew_presence(&form.token, &form.card_id, now).await {
        Ok(Some(s)) => s,
        Ok(None) => return json_error(StatusCode::NOT_FOUND, "no_session", "no live session for this token and card"),
        Err(e) => return unavailable(e),
    };
    match event {
        presence::Event::Present => {
            let lease = state.sessions.presence_secs().unwrap_or_default();
            Json(json!({ presence::LEASE_FIELD: lease })).into_response()
        }
        presence::Event::Removed => match state.sessions.end(&session.id_hash).await {
            Ok(ended) => {
                if let Some(ended) = ended {
                    state.after_session_end(&ended, "card-removed").await;
                }
                StatusCode::NO_CONTENT.into_response()
            }
            Err(e) => unavailable(e),
        },
    }
}

/// `GET /static/card-login.js` and `/static/card-watch.js`: the login page's and the home page's scripts.
pub async fn script_login() -> Response {
    script(include_str!("card-login.js"))
}

/// See [`script_login`].
pub async fn script_watch() -> Response {
    script(include_str!("card-watch.js"))
}

fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
