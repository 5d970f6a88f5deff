//! The break-glass confirmation page (D94): `/authorize` with purpose of use `EMER`, for a card holder with a
//! qualification at a service that accepts it, sends the browser here (`GET /break-glass?request=KEY`). The
//! page says what is about to happen in plain words, asks for the reason and an explicit confirmation, and
//! posts them (`POST /break-glass`: the session's CSRF token; the browser-POST Origin / `Sec-Fetch-Site` guard
//! of every portal POST). The post hands the kept request to `/authorize`'s core with the confirmation, which
//! issues the code, audits `oidc.break_glass` and sends the browser back to the service.
//!
//! The kept request (`oidc::break_glass::Pending`) is single use and bound to the session that made it.

use super::cookie::SessionCookies as _;
use super::lang::PageLang;
use super::pages::{self, Chrome, page_with, unavailable_in, with_form_target};
use super::respond::{check_form_csrf, problem_page, refused_page, signed_in_or_login};
use super::state::PortalState;
use crate::web::oauth::OAuthResponse;
use axum::extract::{Extension, Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_server::tls::TlsInfo;
use hcpki_ca::audit::Outcome;
use hcpki_html::Lang;
use hcpki_pkix::time::UnixTime;
use hcpki_sso::audit::audit;
use hcpki_sso::oidc::authorize::{self, AuthorizeAnswer, AuthorizeCall, PageStatus, SessionLookup};
use hcpki_sso::oidc::break_glass::{self, Confirmed, Pending, Reason};
use maud::html;
use serde_json::json;
use std::sync::Arc;

hcpki_html::messages! {
    Title => "緊急時のアクセス(ブレークグラス)", "Emergency access (break-glass)";
    Lead => "通常の権限を超えて、次のサービスを緊急時の目的で開こうとしています。", "You are about to open this service for an emergency, beyond your usual access.";
    Service => "サービス", "Service";
    Person => "あなた", "You";
    Facility => "施設", "Facility";
    NoFacility => "(施設の PC ではありません)", "(not a facility PC)";
    Recorded => "この操作は理由とともに記録され、施設の管理者と運用者があとで確認します。緊急でなければ、やめてください。", "This is recorded with your reason, and the facility's administrators and the operators will review it. If it is not an emergency, stop here.";
    ReasonLabel => "理由(必須)", "Reason (required)";
    ReasonHint => "例: 意識のない救急搬送の患者の服薬歴を確認するため。4〜500 文字。", "For example: to check the medication history of an unconscious emergency patient. 4 to 500 characters.";
    ConfirmLabel => "緊急の必要があり、この記録が確認されることを理解しました", "This is an emergency, and I understand this access will be reviewed";
    Submit => "理由を記録してサービスを開く", "Record the reason and open the service";
    Cancel => "やめてホームに戻る", "Stop and go back to the home page";
    ReasonMissing => "理由を 4 文字以上で入力してください。", "Give the reason in at least 4 characters.";
    ReasonTooLong => "理由は 500 文字以内にしてください。", "Keep the reason to 500 characters or fewer.";
    ReasonControl => "理由には通常の文字だけを入力してください。", "Type the reason as plain text.";
    NotConfirmed => "「緊急の必要があり…」にチェックを入れてください。", "Tick \"This is an emergency…\" to go on.";
    Expired => "この緊急アクセスの依頼は期限が切れたか、すでに使われています。サービスからもう一度やり直してください。", "This emergency access request has expired or was already used. Start again from the service.";
    OtherSession => "この緊急アクセスの依頼は、いまのログインで始められたものではありません。サービスからもう一度やり直してください。", "This emergency access request was not started in your current sign-in. Start again from the service.";
}

/// `GET /break-glass?request=…`.
#[derive(Debug, serde::Deserialize)]
pub struct PageQuery {
    request: Option<String>,
}

/// `GET /break-glass`: the confirmation page of the kept request.
pub async fn show(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let key = q.request.unwrap_or_default();
    let back = format!("{}?request={}", break_glass::PAGE_PATH, hcpki_sso::uri::percent(&key));
    let (session, csrf) = match signed_in_or_login(&state, lang, &headers, &back, false).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let pending = match pending(&state, lang, &key, &session.id_hash, &session.person_key, true).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    render(&state, lang, &session, &csrf, &key, &pending, None).await
}

/// The confirmation form.
#[derive(Debug, serde::Deserialize)]
pub struct ConfirmForm {
    csrf: Option<String>,
    request: Option<String>,
    reason: Option<String>,
    confirm: Option<String>,
}

/// `POST /break-glass`: confirm with a reason; the kept request is decided with the confirmation.
pub async fn confirm(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    tls: Option<Extension<Arc<TlsInfo>>>,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let now = state.clock.now_unix();
    let (session, csrf) = match state.sessions.current(&headers, now).await {
        Ok(Some(s)) => s,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return unavailable_in(lang, e),
    };
    if let Err(refused) = check_form_csrf(lang, &state, &session, &csrf, form.csrf.as_deref()).await {
        return refused;
    }
    let key = form.request.unwrap_or_default();
    let reason = Reason::parse(form.reason.as_deref().unwrap_or_default());
    let confirmed = form.confirm.as_deref() == Some("yes");
    if reason.is_err() || !confirmed {
        // The person's form, not an attack: the page again with what to fix (the request is kept for it).
        let problem = match &reason {
            Err(break_glass::ReasonError::TooLong) => M::ReasonTooLong,
            Err(break_glass::ReasonError::Control) => M::ReasonControl,
            Err(_) => M::ReasonMissing,
            Ok(_) => M::NotConfirmed,
        };
        let detail = json!({ "reason": "form", "message": problem.text(Lang::En) });
        audit_refusal(&state, &session.person_key, "-", detail).await;
        let pending = match pending(&state, lang, &key, &session.id_hash, &session.person_key, true).await {
            Ok(p) => p,
            Err(answer) => return answer,
        };
        return render(&state, lang, &session, &csrf, &key, &pending, Some(problem)).await;
    }
    let Ok(reason) = reason else { return Redirect::to("/").into_response() };
    let pending = match pending(&state, lang, &key, &session.id_hash, &session.person_key, false).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let lookup = SessionLookup { sessions: &state.sessions, cookie: super::cookie::session_cookie(&headers) };
    let certificate = super::facility::peer_certificate(tls.as_ref().map(|t| t.0.as_ref()));
    let call = AuthorizeCall {
        params: pending.params,
        session: lookup,
        certificate,
        confirmed: Some(Confirmed { reason, session_hash: session.id_hash.clone() }),
    };
    match authorize::authorize(state.oidc_context(), call, now).await {
        AuthorizeAnswer::Redirect(to) => Redirect::to(&to).into_response(),
        AuthorizeAnswer::Refused { status: PageStatus::BadRequest, message } => {
            refused_page(lang, StatusCode::BAD_REQUEST, &message)
        }
        AuthorizeAnswer::Problem { problem, detail } => problem_page(lang, &problem, detail.as_deref()),
        AuthorizeAnswer::Failed(e) => e.into_response(),
    }
}

/// The kept request `key` of the session `session_hash`, taken (and, with `keep`, put back with its deadline for
/// the page's post); or the refusal page, audited.
async fn pending(
    state: &PortalState,
    lang: Lang,
    key: &str,
    session_hash: &str,
    person_key: &str,
    keep: bool,
) -> Result<Pending, Response> {
    let now = state.clock.now_unix();
    let store = state.store.as_ref();
    let taken = match store.oidc_once_take(break_glass::PENDING_KIND, key, UnixTime::from_secs(now)).await {
        Ok(t) => t,
        Err(e) => return Err(unavailable_in(lang, e)),
    };
    let Some(pending) = taken.and_then(|t| serde_json::from_str::<Pending>(&t).ok()) else {
        audit_refusal(state, person_key, "-", json!({ "reason": "unknown, used or expired request" })).await;
        return Err(pages::refused(lang, StatusCode::GONE, M::Expired.text(lang)));
    };
    let client = pending.params.get("client_id").cloned().unwrap_or_default();
    if pending.session_hash != session_hash {
        audit_refusal(state, person_key, &client, json!({ "reason": "another session's request" })).await;
        return Err(pages::refused(lang, StatusCode::FORBIDDEN, M::OtherSession.text(lang)));
    }
    if keep {
        let value = serde_json::to_string(&pending).unwrap_or_default();
        if let Err(e) = store
            .oidc_once_put(
                break_glass::PENDING_KIND,
                key,
                &value,
                UnixTime::from_secs(pending.expires_at),
                UnixTime::from_secs(now),
            )
            .await
        {
            return Err(unavailable_in(lang, e));
        }
    }
    Ok(pending)
}

/// A refused confirmation, audited `oidc.break_glass` denied.
async fn audit_refusal(state: &PortalState, person_key: &str, client: &str, detail: serde_json::Value) {
    let actor = format!("portal:{person_key}");
    let now_ms = state.clock.now_unix_ms();
    audit(state.store.as_ref(), now_ms, &actor, break_glass::AUDIT_ACTION, client, Outcome::Denied, detail).await;
}

/// The page for `pending`, with `problem` above the form when the last post was incomplete.
async fn render(
    state: &PortalState,
    lang: Lang,
    session: &hcpki_sso::session::Session,
    csrf: &str,
    key: &str,
    pending: &Pending,
    problem: Option<M>,
) -> Response {
    let t = |m: M| m.text(lang);
    let client_id = pending.params.get("client_id").map(String::as_str).unwrap_or_default();
    let service_name = match state.oidc.clients.load_recorded(client_id).await {
        Ok(Some(client)) => match state.services.current().await {
            Ok(services) => services.get(&client.config.service).map(|s| s.name.clone()),
            Err(e) => return unavailable_in(lang, e),
        },
        Ok(None) => None,
        Err(e) => return e.into_response(),
    }
    .unwrap_or_else(|| client_id.to_owned());
    let facility = match &session.facility_id {
        Some(id) => match state.store.facility(id).await {
            Ok(f) => Some(f.map_or_else(|| id.to_string(), |f| format!("{} ({id})", f.name))),
            Err(e) => return unavailable_in(lang, e),
        },
        None => None,
    };
    let role = session.subject.role().map(|r| if lang == Lang::Ja { r.label_ja() } else { r.label_en() });
    let body = html! {
        p { (t(M::Lead)) }
        dl class="facts" data-break-glass=(client_id) {
            dt { (t(M::Service)) } dd { strong { (service_name) } }
            dt { (t(M::Person)) } dd { (session.subject.name()) @if let Some(r) = role { " (" (r) ")" } }
            dt { (t(M::Facility)) } dd { (facility.as_deref().unwrap_or(t(M::NoFacility))) }
        }
        div class="notice" role="note" { p { (t(M::Recorded)) } }
        @if let Some(p) = problem {
            div class="error" role="alert" id="break-glass-problem" { p { (t(p)) } }
        }
        form method="post" action=(break_glass::PAGE_PATH) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="request" value=(key);
            p {
                label for="reason" { (t(M::ReasonLabel)) }
                br;
                textarea id="reason" name="reason" rows="4" cols="60" required
                    minlength=(break_glass::MIN_REASON_CHARS) maxlength=(break_glass::MAX_REASON_CHARS)
                    aria-describedby="reason-hint" {}
                br;
                span id="reason-hint" { (t(M::ReasonHint)) }
            }
            p {
                input type="checkbox" id="confirm" name="confirm" value="yes" required;
                " "
                label for="confirm" { (t(M::ConfirmLabel)) }
            }
            p { button type="submit" class="danger" { (t(M::Submit)) } }
        }
        p { a href="/" { (t(M::Cancel)) } }
    };
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let chrome = Chrome { switch: Some(format!("{}?request={}", break_glass::PAGE_PATH, key)), ..Chrome::new(lang) };
    let response = page_with(&chrome, status, t(M::Title), body, None);
    // The post's answer is a redirect to the service: the CSP's form-action must name its origin (D57).
    let origin = pending.params.get("redirect_uri").and_then(|u| origin_of(u));
    with_form_target(response, origin.as_deref())
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn origins_of_redirect_uris() {
        assert_eq!(super::origin_of("http://127.0.0.1:9/cb?x=1").as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(super::origin_of("https://emr.example.jp/cb").as_deref(), Some("https://emr.example.jp"));
        assert_eq!(super::origin_of("nonsense"), None);
    }
}
