//! Passkeys' HTTP endpoints (issue #48 item 1, D157): the account page (`/passkeys`: list, register, rename,
//! revoke) and the sign-in (`/login/passkey`). Each checks what HTTP brings (session or pre-login cookie, CSRF —
//! the Origin and Sec-Fetch-Site checks are the portal's `csrf_guard`) and hands the decision to
//! [`super::passkey_login`] and `hcpki_sso::passkey`; challenges are single use, 300 s, bound to the session
//! (registration) or the pre-login cookie (sign-in).

use super::card_login::PRELOGIN_COOKIE;
use super::card_login::endpoints::{json_error, prelogin_csrf};
use super::cookie;
use super::cookie::SessionCookies as _;
use super::lang::{Lang, PageLang};
use super::pages::passkeys::say;
use super::pages::{self, unavailable_in};
use super::passkey_login::{self as core, MayNotRegister};
use super::request_body::SignInForm;
use super::respond::{Tls, check_form_csrf, login_connection, safe_return, signed_out, start_session};
use super::state::PortalState;
use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hcpki_ca::audit::Outcome;
use hcpki_sso::passkey::{self, AssertionResponse, PasskeyError, RegistrationResponse, RelyingParty};
use hcpki_sso::session::Session;
use hcpki_sso::ssf::event::{Change, Credential, Event};
use serde_json::json;

/// The name authenticators show for this portal.
const RP_NAME: &str = "hcpki";

/// This portal as a WebAuthn relying party: its issuer's host. None when the issuer is an IP address (no RP id
/// can be one): passkeys are then off.
pub fn relying_party(state: &PortalState) -> Option<RelyingParty> {
    RelyingParty::of_origin(&state.oidc.issuer, RP_NAME)
}

/// Why this session may not register, in `lang`.
fn may_not_register_text(lang: Lang, why: MayNotRegister) -> &'static str {
    match why {
        MayNotRegister::CardLogin => say(
            lang,
            "パスキーはカードを持たない職員のアカウント(パスワードとワンタイムコード)のためのものです。カードをお持ちの方はカードでログインしてください。",
            "Passkeys are for staff accounts (password and one-time code): card holders sign in with their card.",
        ),
        MayNotRegister::PasskeyLogin => say(
            lang,
            "パスキーを追加するには、いったんログアウトし、パスワードとワンタイムコードでログインし直してください。",
            "To add a passkey, sign out and sign in again with your password and one-time code.",
        ),
        _ => say(
            lang,
            "このログインではパスキーを登録できません。ユーザー名・パスワード・ワンタイムコードでログインしてください。",
            "This sign-in cannot add a passkey: sign in with your user name, password and one-time code.",
        ),
    }
}

/// What went wrong with a passkey, Japanese first, the ceremony's own English message after it.
fn problem_text(lang: Lang, e: &PasskeyError) -> String {
    let ja = match e {
        PasskeyError::Challenge => {
            "この操作の有効期限が切れたか、すでに使われています。ページを開き直して、もう一度操作してください。"
        }
        PasskeyError::WrongOrigin { .. } | PasskeyError::CrossOrigin | PasskeyError::WrongRpId => {
            "このパスキーはこのポータル用のものではありません。ポータルの正しいアドレスで操作してください。"
        }
        PasskeyError::UserNotVerified | PasskeyError::UserNotPresent => {
            "認証器で本人確認(指紋・顔認証・PIN)ができませんでした。認証器の PIN や指紋を設定してから、もう一度操作してください。"
        }
        PasskeyError::CounterWentBack { .. } => {
            "このパスキーは複製された可能性があるため使えません。ヘルプデスクに連絡し、パスキーを削除してもらってください。"
        }
        PasskeyError::UnknownCredential => {
            "このパスキーは登録されていないか、削除されています。パスワードとワンタイムコードでログインし、登録し直してください。"
        }
        PasskeyError::OtherUser => "このパスキーは別のアカウントのものです。ご自分のパスキーを使ってください。",
        PasskeyError::AlreadyRegistered => "このパスキーはすでに登録されています。そのままログインに使えます。",
        PasskeyError::AttestationRefused | PasskeyError::AttestationFormat(_) => {
            "この認証器は施設の方針で認められていません。施設が指定する認証器を使ってください。"
        }
        _ => "認証器の応答を確認できませんでした。もう一度操作し、続く場合は別の認証器かブラウザーを使ってください。",
    };
    match lang {
        Lang::Ja => format!("{ja} ({e})"),
        Lang::En => e.to_string(),
    }
}

/// `GET /passkeys`: the person's passkeys, and the registration form when this sign-in may add one.
pub async fn show(State(state): State<PortalState>, PageLang(lang): PageLang, headers: HeaderMap) -> Response {
    let now = state.clock.now_unix();
    let (session, csrf) = match state.sessions.current(&headers, now).await {
        Ok(Some(s)) => s,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return unavailable_in(lang, e),
    };
    page(&state, lang, &session, &csrf).await
}

async fn page(state: &PortalState, lang: Lang, session: &Session, csrf: &str) -> Response {
    let keys = match state.store.passkeys_of(&session.person_key).await {
        Ok(k) => k,
        Err(e) => return unavailable_in(lang, e),
    };
    let why = match (relying_party(state), core::may_register(session)) {
        (None, _) => Some(say(
            lang,
            "このポータルのアドレスでは、パスキーを使えません(IP アドレスではなくホスト名で運用してください)。",
            "Passkeys need the portal to be served under a host name, not an IP address.",
        )),
        (Some(_), Err(why)) => Some(may_not_register_text(lang, why)),
        (Some(_), Ok(())) => None,
    };
    pages::passkeys::passkeys(lang, session.subject.name(), &keys, csrf, why)
}

/// The CSRF field of the JSON option requests.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /passkeys/options`: `PublicKeyCredentialCreationOptionsJSON` with a fresh challenge bound to this
/// session, for a session that may register.
pub async fn creation_options(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let now = state.clock.now_unix();
    let Some(rp) = relying_party(&state) else {
        return json_error(StatusCode::NOT_FOUND, "passkeys_off", "passkeys need the portal under a host name");
    };
    let (session, csrf) = match state.sessions.current(&headers, now).await {
        Ok(Some(s)) => s,
        Ok(None) => return json_error(StatusCode::UNAUTHORIZED, "no_session", "sign in again, then add the passkey"),
        Err(_) => return json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again in a moment"),
    };
    if form.csrf != csrf {
        return json_error(StatusCode::FORBIDDEN, "csrf", "the page is stale: reload it and try again");
    }
    if let Err(why) = core::may_register(&session) {
        return json_error(StatusCode::FORBIDDEN, "may_not_register", &why.to_string());
    }
    let issued =
        passkey::issue_challenge(state.store.as_ref(), &rp, &passkey::registration_binding(&session.id_hash), now)
            .await;
    let exclude = state.store.passkeys_of(&session.person_key).await;
    let rule = core::facility_rule(state.store.as_ref(), session.facility_id.as_ref()).await;
    match (issued, exclude, rule) {
        (Ok(challenge), Ok(exclude), Ok(rule)) => {
            let username = session.person_key.strip_prefix("pwd:").unwrap_or(&session.person_key);
            Json(passkey::creation_options(
                &rp,
                &challenge,
                &session.person_key,
                username,
                session.subject.name(),
                &exclude,
                &rule,
            ))
            .into_response()
        }
        _ => json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the portal cannot answer now; try again"),
    }
}

/// What the registration form posts.
#[derive(Debug, serde::Deserialize)]
pub struct RegisterForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    id: String,
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(rename = "attestationObject")]
    attestation_object: String,
    #[serde(default)]
    transports: String,
}

/// `POST /passkeys/register`: verify the new credential against this session's challenge and keep it, audited
/// `passkey.register` (allowed or refused, with the reason); the passkeys page again.
pub async fn register(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<RegisterForm>,
) -> Response {
    let now = state.clock.now_unix();
    let (session, _) = match session_and_csrf(&state, lang, &headers, form.csrf.as_deref(), now).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let deny = |reason: &str, message: String| {
        let detail = json!({ "reason": reason, "message": message });
        core::event(
            &session.person_key,
            core::REGISTER,
            &hcpki_sso::refusals::named(Some(&form.id)),
            Outcome::Denied,
            detail,
        )
    };
    let Some(rp) = relying_party(&state) else {
        return pages::refused(lang, StatusCode::NOT_FOUND, say(lang, "パスキーは使えません。", "Passkeys are off."));
    };
    if let Err(why) = core::may_register(&session) {
        audit(&state, deny("may-not-register", why.to_string())).await;
        return pages::refused(lang, StatusCode::FORBIDDEN, may_not_register_text(lang, why));
    }
    let name = match core::name(&form.name, say(lang, "パスキー", "Passkey")) {
        Ok(n) => n,
        Err(e) => return pages::refused(lang, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let response = RegistrationResponse {
        id: form.id.clone(),
        client_data_json: form.client_data_json.clone(),
        attestation_object: form.attestation_object.clone(),
        transports: form.transports.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
    };
    let binding = passkey::registration_binding(&session.id_hash);
    let rule = match core::facility_rule(state.store.as_ref(), session.facility_id.as_ref()).await {
        Ok(rule) => rule,
        Err(e) => return unavailable_in(lang, e),
    };
    let credential = match passkey::register(state.store.as_ref(), &rp, &binding, &response, &rule, now).await {
        Ok(c) => c,
        Err(PasskeyError::Store(e)) => return unavailable_in(lang, e),
        Err(e) => {
            audit(&state, deny(e.code(), e.to_string())).await;
            return pages::refused(lang, StatusCode::BAD_REQUEST, &problem_text(lang, &e));
        }
    };
    let record = core::record(&session, &credential, name, now);
    let detail = json!({
        "name": record.name,
        "aaguid": record.aaguid,
        "attestation": record.attestation,
        "backup_eligible": record.backup_eligible,
        "transports": record.transports,
    });
    let entry = core::event(&session.person_key, core::REGISTER, &record.credential_id, Outcome::Ok, detail);
    match state.store.passkey_add(&record, &entry, hcpki_pkix::time::UnixTime::from_secs(now)).await {
        Ok(true) => {
            fido2_changed(&state, &session.person_key, Change::Create).await;
            Redirect::to("/passkeys").into_response()
        }
        Ok(false) => pages::refused(lang, StatusCode::CONFLICT, &problem_text(lang, &PasskeyError::AlreadyRegistered)),
        Err(e) => unavailable_in(lang, e),
    }
}

/// What the rename and revoke forms post.
#[derive(Debug, serde::Deserialize)]
pub struct ChangeForm {
    csrf: Option<String>,
    id: String,
    #[serde(default)]
    name: String,
}

/// `POST /passkeys/rename`: rename one of the person's live passkeys, audited `passkey.rename`.
pub async fn rename(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<ChangeForm>,
) -> Response {
    let now = state.clock.now_unix();
    let (session, _) = match session_and_csrf(&state, lang, &headers, form.csrf.as_deref(), now).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let name = match core::name(&form.name, "") {
        Ok(n) if !n.is_empty() => n,
        Ok(_) => {
            return pages::refused(
                lang,
                StatusCode::BAD_REQUEST,
                say(lang, "名前を入力してください。", "Type a name."),
            );
        }
        Err(e) => return pages::refused(lang, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let entry = core::event(&session.person_key, core::RENAME, &form.id, Outcome::Ok, json!({ "name": name }));
    let at = hcpki_pkix::time::UnixTime::from_secs(now);
    match state.store.passkey_rename(&session.person_key, &form.id, &name, &entry, at).await {
        Ok(true) => Redirect::to("/passkeys").into_response(),
        Ok(false) => not_own(&state, lang, &session, core::RENAME, &form.id).await,
        Err(e) => unavailable_in(lang, e),
    }
}

/// `POST /passkeys/revoke`: revoke one of the person's live passkeys (audited `passkey.revoke`), which ends every
/// session it opened (their grants revoked, back-channel logout). Revoking the one this session signed in with
/// signs this browser out.
pub async fn revoke(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<ChangeForm>,
) -> Response {
    let now = state.clock.now_unix();
    let (session, _) = match session_and_csrf(&state, lang, &headers, form.csrf.as_deref(), now).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let entry = core::event(&session.person_key, core::REVOKE, &form.id, Outcome::Ok, json!({ "by": "owner" }));
    let at = hcpki_pkix::time::UnixTime::from_secs(now);
    match state.store.passkey_revoke(&session.person_key, &form.id, &entry, at).await {
        Ok(Some(_)) => fido2_changed(&state, &session.person_key, Change::Revoke).await,
        Ok(None) => return not_own(&state, lang, &session, core::REVOKE, &form.id).await,
        Err(e) => return unavailable_in(lang, e),
    }
    // The sessions it opened ended with it (grants revoked, in the revocation's transaction); their clients are
    // told now rather than at the next housekeeping round. A failure here leaves them to that round.
    if let Err(e) = state.notify_ended_sessions(now, 100).await {
        tracing::warn!(error = %e, "back-channel logout of a revoked passkey's sessions left to housekeeping");
    }
    if session.credential.card_id.as_deref() == Some(core::card_id(&form.id).as_str()) {
        return signed_out(lang, Some("/login"));
    }
    Redirect::to("/passkeys").into_response()
}

/// CAEP `credential-change` for a passkey of `person_key` registered or revoked (D162).
async fn fido2_changed(state: &PortalState, person_key: &str, change: Change) {
    let event = Event::CredentialChange(Credential::Fido2, change);
    hcpki_sso::ssf::emit::person_changed(&state.oidc, person_key, &event).await;
}

/// An id that is not a live passkey of this person (unknown, revoked, or another person's): one answer for each,
/// audited denied.
async fn not_own(state: &PortalState, lang: Lang, session: &Session, action: &str, id: &str) -> Response {
    let target = hcpki_sso::refusals::named(Some(id));
    let detail = json!({ "reason": "no live passkey of this person has that id" });
    audit(state, core::event(&session.person_key, action, &target, Outcome::Denied, detail)).await;
    pages::refused(
        lang,
        StatusCode::NOT_FOUND,
        say(
            lang,
            "そのパスキーは見つかりません(削除済みか、別のアカウントのものです)。パスキーのページを開き直してください。",
            "No such passkey of yours (removed, or another account's): open the passkeys page again.",
        ),
    )
}

async fn audit(state: &PortalState, event: hcpki_ca::audit::AuditEvent) {
    hcpki_sso::audit::audit(
        state.store.as_ref(),
        state.clock.now_unix_ms(),
        &event.actor,
        &event.action,
        &event.target,
        event.outcome,
        event.detail,
    )
    .await;
}

/// The session of a form and its CSRF token checked; or the answer.
async fn session_and_csrf(
    state: &PortalState,
    lang: Lang,
    headers: &HeaderMap,
    sent: Option<&str>,
    now: i64,
) -> Result<(Session, String), Response> {
    let (session, csrf) = match state.sessions.current(headers, now).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(Redirect::to("/login").into_response()),
        Err(e) => return Err(unavailable_in(lang, e)),
    };
    check_form_csrf(lang, state, &session, &csrf, sent).await?;
    Ok((session, csrf))
}

/// `POST /login/passkey/options`: `PublicKeyCredentialRequestOptionsJSON` with a fresh challenge bound to this
/// browser's pre-login cookie (the login page's CSRF token checked).
pub async fn request_options(
    State(state): State<PortalState>,
    headers: HeaderMap,
    SignInForm(form): SignInForm<CsrfForm>,
) -> Response {
    let Some(rp) = relying_party(&state) else {
        return json_error(StatusCode::NOT_FOUND, "passkeys_off", "passkeys need the portal under a host name");
    };
    let Some(id) = cookie::cookie_value(&headers, PRELOGIN_COOKIE) else {
        return json_error(StatusCode::FORBIDDEN, "no_login_page", "open the login page again (it sets a cookie)");
    };
    if form.csrf != prelogin_csrf(&state, &id) {
        return json_error(StatusCode::FORBIDDEN, "csrf", "the login page is stale: reload it and try again");
    }
    match passkey::issue_challenge(state.store.as_ref(), &rp, &passkey::sign_in_binding(&id), state.clock.now_unix())
        .await
    {
        Ok(challenge) => Json(passkey::request_options(&rp, &challenge)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot issue a passkey challenge");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the portal cannot answer now; try again")
        }
    }
}

/// What the login page's passkey form posts.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct LoginForm {
    csrf: String,
    return_to: Option<String>,
    id: String,
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(rename = "authenticatorData")]
    authenticator_data: String,
    signature: String,
    #[serde(rename = "userHandle")]
    user_handle: String,
}

/// `POST /login/passkey`: verify the assertion against this browser's challenge and start the session
/// (`passkey.login` and `portal.login` audited), then where the login was going; a refusal is a page saying
/// what to do, audited `passkey.login` denied with its reason.
pub async fn sign_in(
    State(state): State<PortalState>,
    PageLang(lang): PageLang,
    tls: Tls,
    headers: HeaderMap,
    SignInForm(form): SignInForm<LoginForm>,
) -> Response {
    let Some(rp) = relying_party(&state) else {
        return pages::refused(lang, StatusCode::NOT_FOUND, say(lang, "パスキーは使えません。", "Passkeys are off."));
    };
    let Some(id) = cookie::cookie_value(&headers, PRELOGIN_COOKIE) else {
        return pages::refused(lang, StatusCode::FORBIDDEN, super::words::M::NoLoginCookie.text(lang));
    };
    if form.csrf != prelogin_csrf(&state, &id) {
        return pages::refused(lang, StatusCode::FORBIDDEN, super::words::M::StaleForm.text(lang));
    }
    let return_to = safe_return(form.return_to.as_deref());
    let now_ms = state.clock.now_unix_ms();
    let now = now_ms.div_euclid(1000);
    let facility = match login_connection(lang, &state, &tls, now_ms, "portal:anonymous", "passkey", "passkey").await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let answer = AssertionResponse {
        id: form.id,
        client_data_json: form.client_data_json,
        authenticator_data: form.authenticator_data,
        signature: form.signature,
        user_handle: form.user_handle,
    };
    let ctx =
        core::Context { store: state.store.as_ref(), rp: &rp, services: &state.services, refusals: &state.refusals };
    let signed_in = match core::sign_in(ctx, &passkey::sign_in_binding(&id), &answer, facility, now).await {
        Ok(s) => s,
        Err(core::Refused::Passkey(e)) => {
            return pages::refused(lang, StatusCode::UNAUTHORIZED, &problem_text(lang, &e));
        }
        Err(e @ core::Refused::AccountDisabled) => {
            let text = match lang {
                Lang::Ja => format!("このパスキーのアカウントは無効です。ヘルプデスクに連絡してください。 ({e})"),
                Lang::En => e.to_string(),
            };
            return pages::refused(lang, StatusCode::FORBIDDEN, &text);
        }
        Err(e) => return unavailable_in(lang, e),
    };
    let response =
        start_session(&state, lang, &headers, &tls, signed_in.session, signed_in.entry, now_ms, &return_to).await;
    // The pre-login id has done its work: a new sign-in starts from a new one.
    let cleared = format!("{PRELOGIN_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
    crate::web::headers::with_header(response, header::SET_COOKIE, &cleared)
}

pub use super::pages::passkeys::SCRIPT_PATH;

/// `GET /static/passkey.js`.
pub async fn script() -> Response {
    super::respond::script(include_str!("passkey.js"))
}
