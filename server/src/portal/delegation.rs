//! `GET /delegations` and its forms (issue #29 item 4, D95): a physician delegates to a staff account and ends
//! a delegation; a staff member chooses to act for a physician or as themselves. The decisions are
//! `hcpki_sso::delegation`'s; every change and every refusal is audited with both people, and a refused form
//! stores nothing.

use super::lang::{Lang, PageLang};
use super::pages::delegation::{DelegationPage, delegation_page};
use super::pages::unavailable_in;
use super::respond::{check_form_csrf, signed_in_or_login};
use super::state::PortalState;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::StoreError;
use hcpki_ca::store::delegation::DelegationRecord;
use hcpki_model::{DelegationId, InvalidSsoId};
use hcpki_pkix::time::UnixTime;
use hcpki_sso::audit::audit;
use hcpki_sso::delegation::rules::{self, DelegationError, NewDelegation, Physician};
use hcpki_sso::delegation::{account_key, account_of, action};
use hcpki_sso::session::Session;
use serde_json::json;

/// The most service ids of a refused form kept in its audit entry.
const MAX_AUDITED_SERVICES: usize = 32;

/// `GET /delegations`.
pub async fn show(State(state): State<PortalState>, PageLang(lang): PageLang, headers: HeaderMap) -> Response {
    let (session, csrf) = match signed_in_or_login(&state, lang, &headers, "/delegations", false).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    render(&state, lang, &session, &csrf, None).await
}

/// `POST /delegations`: the form of a new delegation (repeated `services`).
pub async fn create(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (session, csrf) = match form_session(&state, lang, &headers, get("csrf").as_deref()).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let request = NewDelegation {
        delegate: get("delegate").unwrap_or_default(),
        hours: get("hours").unwrap_or_default(),
        services: form.iter().filter(|(n, _)| n == "services").map(|(_, v)| v.clone()).collect(),
    };
    let now = state.clock.now_unix();
    let made = match made(&state, &session, &request, now).await {
        Ok(made) => made,
        Err(Made::Store(e)) => return unavailable_in(lang, e),
        Err(Made::Refused(e)) => {
            // What the form sent goes into the permanent chain only bounded and without control characters.
            let delegate = account_key(&bounded(request.delegate.trim()));
            let services: Vec<String> =
                request.services.iter().take(MAX_AUDITED_SERVICES).map(|s| bounded(s)).collect();
            let detail = json!({ "physician": session.person_key, "delegate": delegate, "services": services,
                "hours": bounded(&request.hours), "error": e.code(), "reason": bounded(&e.to_string()) });
            refused_audit(&state, &session, action::CREATE, "-", detail).await;
            return render(&state, lang, &session, &csrf, Some(reason(&e, lang))).await;
        }
    };
    let detail = json!({ "physician": made.physician_key, "delegate": account_key(&made.delegate_username),
        "facility": made.facility_id, "services": made.services, "expires_at": made.expires_at });
    let event = event(&session, action::CREATE, made.id.as_str(), Outcome::Ok, detail);
    match state.store.delegation_create(&made, &event, state.clock.now()).await {
        Ok(_) => Redirect::to("/delegations").into_response(),
        Err(e) => unavailable_in(lang, e),
    }
}

/// The form of [`end`] and [`choose`].
#[derive(Debug, serde::Deserialize)]
pub struct OneForm {
    csrf: Option<String>,
    /// The delegation's id (empty: act as oneself again).
    #[serde(default)]
    delegation: String,
}

/// `POST /delegations/end`: the physician ends one of their delegations at once; the grants of the sessions
/// that acted under it are revoked in the same transaction.
pub async fn end(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<OneForm>,
) -> Response {
    let (session, csrf) = match form_session(&state, lang, &headers, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let id = match DelegationId::parse(&form.delegation) {
        Ok(id) => id,
        Err(e) => return malformed(&state, lang, &session, &csrf, action::END, &form.delegation, e).await,
    };
    let found = match state.store.delegation(&id).await {
        Ok(d) => d.filter(|d| d.physician_key == session.person_key),
        Err(e) => return unavailable_in(lang, e),
    };
    let detail = |d: Option<&DelegationRecord>| json!({ "physician": session.person_key, "delegate": d.map(|d| account_key(&d.delegate_username)) });
    let event = event(&session, action::END, id.as_str(), Outcome::Ok, detail(found.as_ref()));
    let ended = match state.store.delegation_end(&id, &session.person_key, &event, state.clock.now()).await {
        Ok(ended) => ended,
        Err(e) => return unavailable_in(lang, e),
    };
    if ended.is_none() {
        let e = DelegationError::NotYours;
        let mut d = detail(found.as_ref());
        if let Some(map) = d.as_object_mut() {
            map.insert("reason".into(), json!(e.to_string()));
        }
        refused_audit(&state, &session, action::END, id.as_str(), d).await;
        return render(&state, lang, &session, &csrf, Some(reason(&e, lang))).await;
    }
    Redirect::to("/delegations").into_response()
}

/// `POST /delegations/act`: the staff member's session acts for the physician of a running delegation to them,
/// or (an empty `delegation`) as itself again.
pub async fn choose(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<OneForm>,
) -> Response {
    let (session, csrf) = match form_session(&state, lang, &headers, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let now = state.clock.now_unix();
    let chosen = if form.delegation.is_empty() {
        None
    } else {
        let id = match DelegationId::parse(&form.delegation) {
            Ok(id) => id,
            Err(e) => return malformed(&state, lang, &session, &csrf, action::CHOOSE, &form.delegation, e).await,
        };
        let given = match given(&state, &session, now).await {
            Ok(g) => g.unwrap_or_default(),
            Err(e) => return unavailable_in(lang, e),
        };
        let Some(d) = given.into_iter().find(|d| d.id == id) else {
            let e = DelegationError::NotYours;
            let detail = json!({ "delegate": session.person_key, "reason": "no running delegation to this account has that id" });
            refused_audit(&state, &session, action::CHOOSE, id.as_str(), detail).await;
            return render(&state, lang, &session, &csrf, Some(reason(&e, lang))).await;
        };
        Some(d)
    };
    let target = chosen.as_ref().map_or("-", |d| d.id.as_str());
    let detail = json!({ "delegate": session.person_key, "physician": chosen.as_ref().map(|d| &d.physician_key),
        "acting": chosen.is_some() });
    let event = event(&session, action::CHOOSE, target, Outcome::Ok, detail);
    let id = chosen.as_ref().map(|d| &d.id);
    match state.store.delegation_choose(&session.id_hash, id, &event, state.clock.now()).await {
        Ok(_) => Redirect::to("/delegations").into_response(),
        Err(e) => unavailable_in(lang, e),
    }
}

/// Why a new delegation is not made.
enum Made {
    Refused(DelegationError),
    Store(StoreError),
}

/// The delegation `request` of the physician signed in as `session` would make at `now`, checked.
async fn made(
    state: &PortalState,
    session: &Session,
    request: &NewDelegation,
    now: i64,
) -> Result<DelegationRecord, Made> {
    let physician = Physician::of(session).map_err(Made::Refused)?;
    let user = state.store.portal_user(request.delegate.trim()).await.map_err(Made::Store)?;
    let offered = state.services.current().await.map_err(|e| Made::Store(StoreError::Database(e.to_string())))?;
    let id = hcpki_pkix::keys::random_secret(16).map_err(|e| Made::Store(StoreError::Database(e.to_string())))?;
    let id = DelegationId::parse(&hex::encode(id.as_slice()))
        .map_err(|e| Made::Store(StoreError::Database(e.to_string())))?;
    rules::check(&physician, request, user.as_ref(), &offered, state.delegation_max_hours, id, now)
        .map_err(Made::Refused)
}

/// The running delegations to the staff account of `session`, if it is one.
async fn given(state: &PortalState, session: &Session, now: i64) -> Result<Option<Vec<DelegationRecord>>, StoreError> {
    match account_of(&session.person_key) {
        Some(name) => Ok(Some(state.store.delegations_to(name, UnixTime::from_secs(now)).await?)),
        None => Ok(None),
    }
}

/// The page for `session`, with `error` (in `lang`) at the top when a form was refused.
async fn render(state: &PortalState, lang: Lang, session: &Session, csrf: &str, error: Option<String>) -> Response {
    let now = state.clock.now_unix();
    let may_delegate = Physician::of(session).map(|_| ()).map_err(|e| reason(&e, lang));
    let made = if may_delegate.is_ok() {
        match state.store.delegations_by(&session.person_key, UnixTime::from_secs(now)).await {
            Ok(m) => m,
            Err(e) => return unavailable_in(lang, e),
        }
    } else {
        Vec::new()
    };
    let given = match given(state, session, now).await {
        Ok(g) => g,
        Err(e) => return unavailable_in(lang, e),
    };
    let acting = match state.store.delegation_acting(&session.id_hash).await {
        Ok(a) => a.map(|d| d.id),
        Err(e) => return unavailable_in(lang, e),
    };
    let offered = match state.services.current().await {
        Ok(all) => all.iter().map(|s| (s.id.clone(), s.name.clone())).collect(),
        Err(e) => return unavailable_in(lang, e),
    };
    delegation_page(&DelegationPage {
        lang,
        csrf,
        error,
        may_delegate,
        offered,
        max_hours: state.delegation_max_hours.clamp(1, rules::MAX_HOURS_CEILING),
        made: &made,
        given: given.as_deref(),
        acting: acting.as_ref().map(DelegationId::as_str),
    })
}

/// The session a form acts from, its CSRF token checked.
async fn form_session(
    state: &PortalState,
    lang: Lang,
    headers: &HeaderMap,
    sent: Option<&str>,
) -> Result<(Session, String), Response> {
    let (session, csrf) = signed_in_or_login(state, lang, headers, "/delegations", false).await?;
    check_form_csrf(lang, state, &session, &csrf, sent).await?;
    Ok((session, csrf))
}

fn event(session: &Session, action: &str, target: &str, outcome: Outcome, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        actor: format!("portal:{}", session.person_key),
        action: action.to_owned(),
        target: target.to_owned(),
        outcome,
        detail,
    }
}

/// A refused form, audited as denied with both people in `detail`.
async fn refused_audit(state: &PortalState, session: &Session, action: &str, target: &str, detail: serde_json::Value) {
    let actor = format!("portal:{}", session.person_key);
    audit(state.store.as_ref(), state.clock.now_unix_ms(), &actor, action, target, Outcome::Denied, detail).await;
}

/// A form's delegation id that is none (the page's forms always carry one): refused as malformed with the page,
/// 400, audited denied with the text as sent (bounded); nothing is looked up.
async fn malformed(
    state: &PortalState,
    lang: Lang,
    session: &Session,
    csrf: &str,
    action: &str,
    sent: &str,
    e: InvalidSsoId,
) -> Response {
    let e = DelegationError::Malformed(e);
    let detail = json!({ "person": session.person_key, "error": e.code(), "reason": bounded(&e.to_string()) });
    refused_audit(state, session, action, &bounded(sent), detail).await;
    render(state, lang, session, csrf, Some(reason(&e, lang))).await
}

/// Posted text as the audit log keeps it: bounded, control characters replaced, whatever was sent.
fn bounded(text: &str) -> String {
    hcpki_sso::refusals::named(Some(text))
}

/// A refused delegation's reason in `lang` (English is the error's own text): the rules are the core's
/// (`hcpki_sso::delegation::rules`), the words the portal's.
fn reason(e: &DelegationError, lang: Lang) -> String {
    if lang == Lang::En {
        return e.to_string();
    }
    match e {
        DelegationError::NotHpkiCard => "代理の設定には HPKI カードでのログインが必要です。ログアウトし、HPKI カードでログインし直してください。".into(),
        DelegationError::NoQualification => "代理の設定には医療資格(hcRole)の記録された HPKI カードが必要です。このカードには資格の記録がありません。".into(),
        DelegationError::NoFacility => "代理の設定は施設の PC(施設証明書のある PC)からのログインでのみできます。施設の PC からログインしてください。".into(),
        DelegationError::UnknownAccount(n) => format!("職員アカウント「{n}」はありません。ユーザー名を職員の方に確認してください。"),
        DelegationError::AccountDisabled(n) => format!("職員アカウント「{n}」は無効にされています。施設の管理者に確認するか、別のアカウントを選んでください。"),
        DelegationError::Hours { max } => format!("期間は 1 から {max} までの時間数で指定してください。"),
        DelegationError::TooLong { hours, max } => format!("代理の期間は 1〜{max} 時間です({hours} 時間は指定できません)。短い期間を選んでください。"),
        DelegationError::NoServices => "代理で使えるサービスを 1 つ以上選んでください。".into(),
        DelegationError::UnknownService(s) => format!("サービス「{s}」はここでは提供されていません。一覧から選んでください。"),
        DelegationError::NotYours => "その代理は既に終了しているか、あなたの設定したものではありません。".into(),
        DelegationError::Malformed(_) => "フォームの代理 ID が正しくありません。代理の設定ページを開き直し、そのボタンを使ってください。".into(),
        // A reason added to the core before its words here: the English text rather than none.
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_japanese_words_and_english_is_the_error_text() {
        let all = [
            DelegationError::NotHpkiCard,
            DelegationError::NoQualification,
            DelegationError::NoFacility,
            DelegationError::UnknownAccount("clerk".into()),
            DelegationError::AccountDisabled("clerk".into()),
            DelegationError::Hours { max: 12 },
            DelegationError::TooLong { hours: 13, max: 12 },
            DelegationError::NoServices,
            DelegationError::UnknownService("lab".into()),
            DelegationError::NotYours,
            DelegationError::Malformed(hcpki_model::DelegationId::parse("d 1").unwrap_err()),
        ];
        for e in all {
            assert!(!reason(&e, Lang::Ja).is_empty() && reason(&e, Lang::En) == e.to_string(), "{e:?}");
        }
    }
}
