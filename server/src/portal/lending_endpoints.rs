//! Lending the card reader over HTTP (D91): the lend and the return (the consent page's script calls them), the
//! guard that pauses a lent session everywhere else, the paused page, and what the card's reports and the
//! housekeeping do to lends. The decisions are [`hcpki_sso::lending`]'s.
//!
//! ```text
//! POST /session/lend          csrf, consent → {"lent_until": N}                        audited session.lend
//! POST /session/lend/return   csrf, card_id → {"lent": false}                          audited session.lend.return
//! any other portal request with a lent session's cookie → 423, the paused page        recorded session.lend.use
//! ```
//!
//! Errors are JSON `{"error": {"code", "message"}}`, the message saying what to do.

use super::cookie::{self, SessionCookies as _};
use super::pages::{self, BodyData, Chrome, Scripts};
use super::state::PortalState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_html::Lang;
use hcpki_sso::lending::{self, ConsentRef, LendRefused, LendState, Return, ReturnRefused};
use hcpki_sso::oidc;
use hcpki_sso::refusals::named;
use hcpki_sso::session::{Session, SessionError, presence_token};
use maud::html;
use serde_json::json;

/// What a lent session may still reach (D91): the lend's own endpoints, the consent pages, the returning
/// patient's identification, the card-removed
/// report (a lent session notes the removal there), the agent's reports (no cookie) and static files.
pub fn open_while_lent(path: &str) -> bool {
    let under = |prefix: &str| path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
    under("/session/lend")
        || under("/consent")
        || under("/patients/identify")
        || under("/static")
        || path == "/logout/card-removed"
        || path == "/presence"
}

/// The portal's guard (every route of the portal listener): a request whose session cookie comes from another
/// PC or browser than its session's ends that session and goes on without it ([`super::terminal`], D161), and
/// an unlent session idle too long is locked ([`super::idle_lock`]); then a request whose session cookie names a lent
/// session is answered with the paused page (423, recorded `session.lend.use`) unless its path is
/// [`open_while_lent`]; a session whose lend ran out is ended first (`lend-expired`, back-channel logout), and
/// the request then goes on without a session. Requests without a session cookie cost nothing here.
pub async fn guard(State(state): State<PortalState>, request: Request, next: Next) -> Response {
    let Some(cookie) = cookie::session_cookie(request.headers()) else { return next.run(request).await };
    let now = state.clock.now_unix();
    // A database failure here is the handler's to answer: the sessions it reads never include lent ones.
    let Ok(Some((session, csrf))) = state.sessions.of_cookie_any(Some(&cookie), now).await else {
        return next.run(request).await;
    };
    // The one read of the session serves the terminal binding and the idle lock too (D161): a cookie from
    // another PC or browser ends its session, lent or not, and the request goes on without it.
    if let Some(found) = super::terminal::elsewhere(&session, &request) {
        super::terminal::end(&state, &session, found).await;
        return next.run(request).await;
    }
    match lending::state(session.lend.as_ref(), now) {
        // A lent session is the patient's to use meanwhile: its idle time counts again from the return.
        LendState::NotLent => super::idle_lock::guarded(&state, &session, request, next, now).await,
        LendState::RanOut(_) => {
            if let Err(e) = state.end_lend_ran_out(&session.id_hash, now).await {
                tracing::error!(error = %e, "a run-out lend was not ended; the housekeeping will");
            }
            next.run(request).await
        }
        LendState::Lent(_) if open_while_lent(request.uri().path()) => next.run(request).await,
        LendState::Lent(lend) => {
            let lang = super::lang::negotiate(request.uri().query(), request.headers());
            let detail = json!({ "reason": "the session is lent to a patient's card", "lent_until": lend.until,
                "path": named(Some(request.uri().path())), "session": oidc::sid(&session.id_hash) });
            state.refusals.record(&actor(&session), "session.lend.use", &session.person_key, detail).await;
            paused(lang, &state, &session, &csrf, lend.until)
        }
    }
}

/// The lend's form: the session's CSRF token and the consent it is for.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct LendForm {
    csrf: String,
    consent: String,
}

/// `POST /session/lend`: lend this card session's reader until now + `[portal] lend_secs`; `{"lent_until": N}`.
pub async fn lend(
    State(state): State<PortalState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LendForm>,
) -> Response {
    let now_ms = state.clock.now_unix_ms();
    let now = now_ms.div_euclid(1000);
    let (session, csrf) = match state.sessions.current_lent_ok(&headers, now).await {
        Ok(Some(found)) => found,
        Ok(None) => return no_session(),
        Err(e) => return unavailable(e),
    };
    if form.csrf != csrf {
        return stale(&state, &session, "/session/lend", now_ms).await;
    }
    let decided = ConsentRef::parse(&form.consent).and_then(|consent| {
        let until = lending::lend_until(
            session.credential.card_id.as_deref(),
            session.lend.as_ref(),
            state.sessions.lend_secs(),
            now,
        )?;
        Ok((consent, until))
    });
    let (consent, until) = match decided {
        Ok(decided) => decided,
        Err(refused) => {
            let detail = json!({ "reason": refused.to_string(), "session": oidc::sid(&session.id_hash) });
            state.refusals.record(&actor(&session), "session.lend", &session.person_key, detail).await;
            let (status, code) = match refused {
                LendRefused::Consent => (StatusCode::BAD_REQUEST, "consent"),
                LendRefused::NotCardSession => (StatusCode::CONFLICT, "not_card_session"),
                LendRefused::AlreadyLent => (StatusCode::CONFLICT, "lent"),
            };
            return json_error(status, code, &refused.to_string());
        }
    };
    let entry = AuditEvent {
        actor: actor(&session),
        action: "session.lend".into(),
        target: session.person_key.clone(),
        outcome: Outcome::Ok,
        detail: json!({ "consent": consent.as_str(), "lent_until": until, "session": oidc::sid(&session.id_hash) }),
    };
    match state.sessions.lend(&session, until, &consent, &entry, now_ms).await {
        Ok(Some(_)) => Json(json!({ "lent_until": until })).into_response(),
        // Ended, lent or lapsed between the read and the write.
        Ok(None) => json_error(StatusCode::CONFLICT, "lent", &LendRefused::AlreadyLent.to_string()),
        Err(e) => unavailable(e),
    }
}

/// The return's form: the session's CSRF token and the card the agent sees in the reader.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ReturnForm {
    csrf: String,
    card_id: String,
}

/// `POST /session/lend/return`: the session's own login card is back; the lend ends and the session goes on
/// (`{"lent": false}`, also when it was returned already). Another card is refused (403, recorded) and the
/// session stays lent.
pub async fn return_card(
    State(state): State<PortalState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ReturnForm>,
) -> Response {
    let now_ms = state.clock.now_unix_ms();
    let now = now_ms.div_euclid(1000);
    let (session, csrf) = match state.sessions.current_lent_ok(&headers, now).await {
        Ok(Some(found)) => found,
        Ok(None) => return no_session(),
        Err(e) => return unavailable(e),
    };
    if form.csrf != csrf {
        return stale(&state, &session, "/session/lend/return", now_ms).await;
    }
    match lending::card_returned(session.credential.card_id.as_deref(), session.lend.as_ref(), &form.card_id, now) {
        Ok(Return::NotLent) => Json(json!({ "lent": false })).into_response(),
        Ok(Return::EndLend) => match state.return_lend(&session, "page", now_ms).await {
            Ok(true) => Json(json!({ "lent": false })).into_response(),
            Ok(false) => no_session(),
            Err(e) => unavailable(e),
        },
        Err(refused) => {
            let detail = json!({ "reason": refused.to_string(), "card_id": named(Some(&form.card_id)),
                "session": oidc::sid(&session.id_hash) });
            state.refusals.record(&actor(&session), "session.lend.return", &session.person_key, detail).await;
            match refused {
                ReturnRefused::OtherCard => json_error(StatusCode::FORBIDDEN, "other_card", &refused.to_string()),
                ReturnRefused::RanOut => json_error(StatusCode::GONE, "ran_out", &refused.to_string()),
            }
        }
    }
}

impl PortalState {
    /// End the running lend of `session` (its card is back, as `via` saw: `page`, `agent`), audited
    /// `session.lend.return`; whether a lend ran.
    pub async fn return_lend(&self, session: &Session, via: &str, now_ms: i64) -> Result<bool, SessionError> {
        let lend = session.lend.as_ref();
        let entry = AuditEvent {
            actor: actor(session),
            action: "session.lend.return".into(),
            target: session.person_key.clone(),
            outcome: Outcome::Ok,
            detail: json!({ "via": via, "consent": lend.map(|l| l.lent_for.as_str()),
                "card_was_out": lend.is_some_and(|l| l.card_out_at.is_some()), "session": oidc::sid(&session.id_hash) }),
        };
        Ok(self.sessions.return_lend(session, &entry, now_ms).await?.is_some())
    }

    /// Note that the login card of the lent `session` is out, as `via` reported: audited
    /// `session.lend.card_out` (nothing when the lend no longer runs).
    pub async fn note_lend_card_out(&self, session: &Session, via: &str, now_ms: i64) -> Result<(), SessionError> {
        if let Some(noted) = self.sessions.lend_card_out(&session.id_hash, now_ms.div_euclid(1000)).await? {
            let detail = json!({ "via": via, "consent": noted.lend.as_ref().map(|l| l.lent_for.as_str()),
                "lent_until": noted.lend.as_ref().map(|l| l.until), "session": oidc::sid(&session.id_hash) });
            let actor = actor(session);
            hcpki_sso::audit::audit(
                self.store.as_ref(),
                now_ms,
                &actor,
                "session.lend.card_out",
                &session.person_key,
                Outcome::Ok,
                detail,
            )
            .await;
        }
        Ok(())
    }

    /// End the session `id_hash` if its lend ran out by `now` (`lend-expired`, audited `session.lend.expired`),
    /// as a card-removal logout ends one: its relying services get their back-channel logout. How many ended.
    pub async fn end_lend_ran_out(&self, id_hash: &str, now: i64) -> Result<usize, SessionError> {
        let ended = self.sessions.end_lapsed_lends(now, Some(id_hash)).await?;
        for s in &ended {
            self.after_session_end(s, "lend-expired").await;
        }
        Ok(ended.len())
    }
}

/// The audit actor of a session's person.
fn actor(session: &Session) -> String {
    format!("portal:{}", session.person_key)
}

/// The paused page of the lent `session` (423; the card-removed report answers it too): see [`paused`].
pub fn paused_page(lang: Lang, state: &PortalState, session: &Session, csrf: &str) -> Response {
    paused(lang, state, session, csrf, session.lend.as_ref().map_or(0, |l| l.until))
}

/// The paused page (423): the session is paused while a patient uses the reader; putting one's own card back
/// continues it (the page's card watch posts the return and reloads), or it ends at `until`.
fn paused(lang: Lang, state: &PortalState, session: &Session, csrf: &str, until: i64) -> Response {
    let (title, what, resume, ends) = match lang {
        Lang::En => (
            "Session paused",
            "This session is paused while a patient uses the card reader. Nobody can use it meanwhile.",
            "To continue, put your own card (the one you signed in with) back in the reader: this page then goes \
             on by itself. If it does not, reload the page after putting the card in.",
            "If your card is not back by the time below, the session ends and you sign in again.",
        ),
        _ => (
            "セッションは一時停止中です",
            "患者さんがカードリーダーを使っている間、このセッションは一時停止しています。その間は誰も使えません。",
            "続けるには、ご自分のカード（ログインに使ったカード）をカードリーダーに戻してください。このページは自動で\
             再開します。再開しないときは、カードを入れてからページを再読み込みしてください。",
            "下の時刻までにカードが戻らないと、セッションは終了します。その場合はもう一度ログインしてください。",
        ),
    };
    let until_text = until.to_string();
    let body = html! {
        div class="notice" role="status" {
            p { (what) }
            p { (resume) }
        }
        p { (ends) " " strong { (pages::jst(until, lang)) } }
        p { a href="/" { (if lang == Lang::En { "Reload" } else { "再読み込み" }) } }
    };
    let chrome = Chrome::new(lang);
    let card = state.cards.as_ref().zip(session.credential.card_id.as_deref());
    let presence = session.presence.then(|| presence_token(csrf));
    let scripts = card.map(|(cards, card_id)| Scripts {
        src: "/static/card-watch.js",
        agent: cards.agent.as_str(),
        data: BodyData {
            agent: Some(cards.agent.as_str()),
            card: Some(card_id),
            csrf: Some(csrf),
            presence: presence.as_deref(),
            continue_to: None,
            lent: Some(&until_text),
        },
    });
    pages::page_with(&chrome, StatusCode::LOCKED, title, body, scripts)
}

async fn stale(state: &PortalState, session: &Session, path: &str, now_ms: i64) -> Response {
    let detail = json!({ "reason": "missing or wrong CSRF token", "path": path });
    hcpki_sso::audit::audit(state.store.as_ref(), now_ms, &actor(session), "portal.csrf", "-", Outcome::Denied, detail)
        .await;
    json_error(StatusCode::FORBIDDEN, "csrf", "the page is stale: reload it and try again")
}

fn no_session() -> Response {
    json_error(StatusCode::UNAUTHORIZED, "no_session", "no live session in this browser: sign in again")
}

fn unavailable(e: SessionError) -> Response {
    tracing::error!(error = %e, "lending the reader failed");
    json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the portal cannot answer now; try again")
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::open_while_lent;

    #[test]
    fn a_lent_session_reaches_only_the_consent_flow_and_static_files() {
        for open in [
            "/session/lend",
            "/session/lend/return",
            "/consent",
            "/consent/c-1/sign",
            "/patients/identify",
            "/patients/identify/challenge",
            "/static/card-watch.js",
            "/static/hcpki.css",
            "/logout/card-removed",
            "/presence",
        ] {
            assert!(open_while_lent(open), "{open}");
        }
        for closed in [
            "/",
            "/login",
            "/logout",
            "/sessions",
            "/sessions/end-all",
            "/authorize",
            "/sign/x",
            "/consentx",
            "/consents/new",
            "/patients",
            "/patients/identifyx",
            "/session/lendx",
            "/staticx",
            "/logout/card-removed/x",
        ] {
            assert!(!open_while_lent(closed), "{closed}");
        }
    }
}
