//! HPKI / JPKI card login on the portal (issue #6): the portal's side of [`hcpki_sso::login`]. This file is the
//! login itself, over typed inputs ([`complete`]); what the card's later reports (removed, present) decide is
//! [`presence`], as HTTP-free; the HTTP endpoints of both are in [`endpoints`].
//!
//! ```text
//! GET  /login                 pre-login cookie (random id) + the page; its script (card-login.js) …
//! POST /login/card/challenge  … gets a challenge bound to hash(pre-login id) and the portal's origin
//!      local card agent       signs login_message(origin, challenge) after the PIN, typed in the agent's window
//! POST /login/card            challenge taken (single use) → CardVerifier::verify → `login.card` audit entry
//!                             → SSO session (the card id derived from the verified certificate, never
//!                             the post's) → redirect (the home page hands the agent the session's
//!                             presence token), or, going back to a relying service with a presence lease,
//!                             the "continuing" page that hands it over first; all but the answer in
//!                             [`complete`]
//! POST /logout/card-removed   the home page's card-watch.js saw the agent report the card gone: the sessions
//!                             of this person with this card end and every client gets its back-channel
//!                             logout (another card's id is refused, audited)
//! POST /presence              the agent, with no page needed: the card is still in (lease renewed) or gone
//!                             (session ended, back-channel logout); D26
//! ```
//!
//! The pre-login cookie makes a challenge useless in another browser: the binding is a hash of a value only
//! this browser holds, and the CSRF token of the two POSTs is derived from it as well.

pub mod endpoints;
pub mod presence;

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hcpki_ca::store::{AuditLog, PortalUsers};
use hcpki_pkix::time::UnixTime;
use hcpki_sso::login::{self, CardKind, CardLoginError, CardVerifier};
use hcpki_sso::policy::{FacilityContext, Services};
use hcpki_sso::session::{Created, CredentialDetails, NewSession, SessionError, Sessions};
use serde_json::json;

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
        store: &dyn PortalUsers,
        prelogin_id: &str,
        now: i64,
    ) -> Result<login::challenge::IssuedChallenge, CardLoginError> {
        login::challenge::issue(
            store,
            &login::challenge::prelogin_binding(prelogin_id),
            &self.origin,
            self.ttl_secs,
            now,
        )
        .await
    }
}

/// The browser's pre-login id, and the `Set-Cookie` value when a new one had to be made.
pub fn prelogin(headers: &HeaderMap) -> Result<(String, Option<String>), String> {
    if let Some(id) = super::cookie::cookie_value(headers, PRELOGIN_COOKIE).filter(|v| v.len() == 43) {
        return Ok((id, None));
    }
    let raw = hcpki_pkix::keys::random_secret(32).map_err(|e| e.to_string())?;
    let id = URL_SAFE_NO_PAD.encode(raw.as_slice());
    let cookie = format!("{PRELOGIN_COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={PRELOGIN_SECS}");
    Ok((id, Some(cookie)))
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
    /// The connection's TLS client certificate (DER), if any: the session is bound to it (D161).
    pub pc_certificate: Option<&'a [u8]>,
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
/// and start the SSO session, all at `now_ms` (Unix milliseconds). `POST /login/card` and `hcpki bench login`
/// both run this, so the bench measures what a login costs the server.
pub async fn complete(
    store: &(impl AuditLog + hcpki_ca::store::Sessions + PortalUsers + ?Sized),
    sessions: &Sessions,
    cards: &CardLogin,
    services: &Services,
    answer: &CardAnswer<'_>,
    source: LoginSource<'_>,
    now_ms: i64,
) -> Result<Created, Incomplete> {
    let now = now_ms.div_euclid(1000);
    let client =
        source.facility.as_ref().map_or_else(|| "portal:no-facility".to_owned(), |f| format!("facility:{}", f.id));
    let result = verify(store, cards, answer, source.prelogin_id, now).await;
    let mut event = hcpki_sso::login::audit_event(&result, &cards.origin, &client);
    if let Some(obj) = event.detail.as_object_mut() {
        obj.insert("button".into(), json!(answer.button));
        obj.insert("facility".into(), json!(source.facility.as_ref().map(|f| f.id.to_string())));
    }
    let card = match result {
        Ok(card) => card,
        Err(e) => {
            if let Err(store_error) = store.append_audit(&event, UnixTime::from_millis(now_ms)).await {
                tracing::error!(error = %store_error, "cannot write the login.card audit entry");
            }
            return Err(Incomplete::Card(e));
        }
    };
    // The key this card gave before trust-anchor binding, if listed by migration 0021: linked (claimed by the
    // first such login), so the console grant and relying parties' `sub` carry over.
    let linked = store
        .person_key_link(&card.person_key, &card.legacy_person_key, UnixTime::from_secs(now))
        .await
        .map_err(|e| Incomplete::Card(CardLoginError::Store(e)))?;
    if let Some(obj) = event.detail.as_object_mut() {
        let listing = hcpki_sso::policy::listing(&card.subject, source.facility.as_ref(), services);
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
    sessions.create(new, source.pc_certificate, event, now_ms).await.map_err(Incomplete::Session)
}

async fn verify(
    store: &(impl PortalUsers + ?Sized),
    cards: &CardLogin,
    answer: &CardAnswer<'_>,
    prelogin_id: &str,
    now: i64,
) -> Result<hcpki_sso::login::VerifiedCard, CardLoginError> {
    // Taken first, whatever else is wrong with the post: a challenge is worth one attempt.
    let taken = login::challenge::take(
        store,
        answer.challenge_id,
        &login::challenge::prelogin_binding(prelogin_id),
        &cards.origin,
        now,
    )
    .await?;
    let decoded = hcpki_sso::login::answer::decode(answer.signature, answer.chain)?;
    cards.verifier.verify(&taken, &decoded.signature, &decoded.chain, now)
}
