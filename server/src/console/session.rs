//! Who a console sign-in is, checked on every request (issue #8, D42): the session cookie ([`ticket`]) names
//! the OIDC grant of a portal sign-in; [`current`] reads the grant, the portal session behind it and the
//! person's console grant again, so a removed grant, a portal sign-out or a pulled card ends console access at
//! the next request. A refusal is its own page ([`refused_page`]), which says what to do. The sign-in itself
//! (the redirect to the portal and its answer) is [`super::signin`].

use super::i18n::{Lang, M};
use super::view;
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::ticket::{self, TicketError};
use crate::portal::cookie::cookie_value;
use crate::portal::facility;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum_server::tls::TlsInfo;
use hcpki_ca::FacilityId;
use hcpki_ca::access::{AdminBasis, AdminSignIn, Principal};
use hcpki_ca::console_grant::ConsoleRole;
use hcpki_ca::operator::OperatorRole;
use hcpki_ca::store::Actor;
use hcpki_sso::oidc::client::CONSOLE_CLIENT_ID;
use maud::html;

/// Why a portal sign-in gives no console access (now). Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The server runs without `[portal]`.
    #[error("sign-in by card needs the SSO portal ([portal] in hcpki.toml); use a certificate")]
    NoPortal,
    /// `[console] url` is unset: the portal has nowhere it may send the sign-in back to (issue #24 item 12).
    #[error(
        "sign-in by card is off: the operator sets [console] url in hcpki.toml to the console's external URL \
         (https://host[:port]); until then use a certificate"
    )]
    NoConsoleUrl,
    /// The cookie is forged, tampered with, too old or idle too long.
    #[error(transparent)]
    Cookie(#[from] TicketError),
    /// The sign-in's state does not match this browser's, or the portal answered with an error.
    #[error("{0}")]
    Flow(String),
    /// The sign-in was signed out, or its grant revoked (portal sign-out, "log out everywhere").
    #[error("the console sign-in has ended (signed out, or its portal session ended): sign in again")]
    SignInEnded,
    /// The portal session behind the sign-in ended (sign-out, card removed, expired).
    #[error("your portal session has ended (signed out, card removed or expired): sign in again")]
    PortalSessionEnded,
    /// The portal session behind the sign-in is paused: its card reader is lent to a patient's card (D91).
    #[error(
        "your session is paused while a patient uses the card reader: put your own card back in the reader, then \
         reload this page (without the card back in time the session ends and you sign in again)"
    )]
    PortalSessionLent,
    /// The person has no console grant.
    #[error("you have no console access: an operator can grant it to person key {person_key}")]
    NoGrant {
        /// Who signed in.
        person_key: String,
    },
    /// An operator or auditor grant used with a password + TOTP login.
    #[error(
        "the {role} role needs a sign-in with your card and PIN, not a password: sign out of the portal and sign \
         in with your card"
    )]
    CardRequired {
        /// Who signed in.
        person_key: String,
        /// The grant's role.
        role: OperatorRole,
    },
    /// A facility-admin grant away from the facility's PCs.
    #[error(
        "your facility-admin access to {facility} works only at that facility's PCs: sign in to the portal and \
         open the console on a PC that holds the facility's certificate"
    )]
    WrongFacility {
        /// Who signed in.
        person_key: String,
        /// The grant's facility.
        facility: FacilityId,
    },
    /// The connection's client certificate may not be used (suspended facility, revoked certificate).
    #[error("{0}")]
    Connection(String),
    /// The database or the provider failed; logged.
    #[error("the console cannot check your sign-in now; try again shortly")]
    Unavailable,
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Self::NoPortal | Self::NoConsoleUrl => StatusCode::NOT_FOUND,
            Self::Cookie(_) | Self::Flow(_) | Self::SignInEnded | Self::PortalSessionEnded => StatusCode::UNAUTHORIZED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::PortalSessionLent => StatusCode::LOCKED,
            _ => StatusCode::FORBIDDEN,
        }
    }

    /// What happened and what to do, for a Japanese page. The English `Display` text stays the audit's and the
    /// log's; a `Flow` or `Connection` detail (a protocol or certificate reason) is left to them, as the person
    /// can only start again or ask for help either way.
    fn in_japanese(&self) -> String {
        match self {
            Self::NoPortal => "カードでのサインインは、このサーバーでは使えません（ポータルが動いていません）。\
                               運用者証明書または施設の PC 証明書を選んでサインインしてください。"
                .into(),
            Self::NoConsoleUrl => "カードでのサインインは、まだ使えません（コンソールの外部 URL、hcpki.toml の \
                                   [console] url が設定されていません）。運用者に連絡するか、証明書でサインインして\
                                   ください。"
                .into(),
            Self::Cookie(TicketError::Invalid) => "コンソールのセッションを確認できませんでした（このサーバーが\
                                                  発行したものではないか、改変されています）。もう一度サインインしてください。"
                .into(),
            Self::Cookie(TicketError::Expired) => {
                "コンソールのセッションは最長時間に達したため終了しました。もう一度サインインしてください。".into()
            }
            Self::Cookie(TicketError::Idle) => {
                "しばらく操作がなかったため、コンソールのセッションは終了しました。もう一度サインインしてください。".into()
            }
            Self::Flow(_) => "サインインの手続きを完了できませんでした（時間切れ、このブラウザーで始めたものではない、\
                              またはポータルが断りました）。もう一度最初からサインインしてください。"
                .into(),
            Self::SignInEnded => "コンソールのサインインは終了しました（サインアウト、またはポータルのセッションの終了）。\
                                  もう一度サインインしてください。"
                .into(),
            Self::PortalSessionEnded => "ポータルのセッションが終了しました（サインアウト、カードの取り外し、\
                                         または期限切れ）。もう一度サインインしてください。"
                .into(),
            Self::PortalSessionLent => "患者さんがカードリーダーを使っている間、セッションは一時停止しています。\
                                        ご自分のカードをカードリーダーに戻してから、このページを再読み込みしてください\
                                        （時間内に戻らないとセッションは終了し、もう一度ログインが必要です）。"
                .into(),
            Self::NoGrant { .. } => "コンソールを使う権限がありません。運用者に権限の付与を依頼してください。".into(),
            Self::CardRequired { role, .. } => {
                let role = match role {
                    OperatorRole::Operator => "運用者",
                    OperatorRole::Auditor => "監査担当",
                };
                format!(
                    "{role}の権限には、パスワードではなくカードと暗証番号でのサインインが必要です。ポータルから\
                     サインアウトし、カードでサインインし直してください。"
                )
            }
            Self::WrongFacility { facility, .. } => format!(
                "施設管理者の権限（{facility}）は、その施設の PC からだけ使えます。施設の PC 証明書がある PC で\
                 ポータルにサインインしてから、コンソールを開いてください。"
            ),
            Self::Connection(_) => "この PC の証明書は、いまは使えません（施設の利用停止、または証明書の失効）。\
                                    施設の管理者か運用者に連絡してください。"
                .into(),
            Self::Unavailable => {
                "いまはサインインを確認できません。しばらくしてから、もう一度お試しください。".into()
            }
        }
    }

    /// The audit actor: the person when known.
    fn actor(&self) -> Actor {
        match self {
            Self::NoGrant { person_key }
            | Self::CardRequired { person_key, .. }
            | Self::WrongFacility { person_key, .. } => Actor(format!("person:{person_key}")),
            _ => Actor("console:anonymous".into()),
        }
    }

    fn error(&self) -> ApiError {
        let title = match self.status() {
            StatusCode::UNAUTHORIZED => "sign in again",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "no console access",
        };
        ApiError::new(self.status(), title, self.to_string())
    }
}

/// A failure of the database or the provider, logged, as the refusal the person sees.
pub(super) fn unavailable(e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "console sign-in check failed");
    Refusal::Unavailable
}

/// A console sign-in that holds now.
#[derive(Debug)]
pub struct SignedIn {
    /// Who, as the decision table sees them.
    pub principal: Principal,
    /// The OIDC grant the cookie names.
    pub grant: String,
}

/// The principal of a console session cookie, checked against the database now (every request). A refusal is
/// audited as `console.session`.
pub async fn current(state: &AppState, cookie: &str, tls: Option<&TlsInfo>) -> Result<SignedIn, Refusal> {
    let now = state.clock.now();
    let checked = match state.console_tickets.read_session(cookie, now) {
        Ok(t) => resolve(state, &t.grant, tls, now.as_secs()).await,
        Err(e) => Err(Refusal::Cookie(e)),
    };
    match checked {
        Ok(s) => Ok(s),
        Err(r) => Err(audit_refusal(state, "console.session", r).await),
    }
}

/// Who the person behind the console's OIDC grant `gid` is now: the grant live and the console's, the portal
/// session behind it live, the person's console grant, and the login strong enough for it.
pub(super) async fn resolve(state: &AppState, gid: &str, tls: Option<&TlsInfo>, now: i64) -> Result<SignedIn, Refusal> {
    let portal = state.portal.as_ref().ok_or(Refusal::NoPortal)?;
    let grant = state.store.oidc_grant(gid).await.map_err(unavailable)?;
    let grant = grant
        .filter(|g| g.client_id == CONSOLE_CLIENT_ID && g.state == "active" && g.expires_at > now)
        .ok_or(Refusal::SignInEnded)?;
    let session = portal.sessions.live_lent_ok(&grant.session_hash, now).await.map_err(unavailable)?;
    let session = session.ok_or(Refusal::PortalSessionEnded)?;
    if hcpki_sso::lending::state(session.lend.as_ref(), now) != hcpki_sso::lending::LendState::NotLent {
        return Err(Refusal::PortalSessionLent);
    }
    let person_key = session.person_key.clone();
    let Some(console_grant) = state.store.console_grant(&person_key).await.map_err(unavailable)? else {
        return Err(Refusal::NoGrant { person_key });
    };
    let principal = match console_grant.role {
        ConsoleRole::Staff(role) => {
            // The operating body's roles rest on a person's card and PIN (HPKI or JPKI), never a password or a
            // passkey (D157).
            if !session.subject.credential().is_card() {
                return Err(Refusal::CardRequired { person_key, role });
            }
            // The RA the person acts for, if any (D167): held to its scope by the access decision.
            let ra = state.admin.registrar().ra_of_person(&person_key).await.map_err(unavailable)?;
            Principal::Person { person_key, name: session.subject.name().to_owned(), role, ra }
        }
        ConsoleRole::FacilityAdmin(facility) => {
            // As the portal counts a session's facility (D24): only while this connection presents one of the
            // facility's PC certificates, and the login was made at one of them.
            let here = facility::pc_for_request(state.store.as_ref(), tls, session.facility_id.as_ref(), now)
                .await
                .map_err(unavailable)?
                .map_err(|refused| Refusal::Connection(refused.reason))?;
            let pc = match here {
                Some((context, serial)) if context.id == facility => serial,
                _ => return Err(Refusal::WrongFacility { person_key, facility }),
            };
            // Changes rest on a card unless the operating body accepts password + TOTP at this facility
            // (issue #24 item 7); a password sign-in elsewhere still reads. A passkey counts as its password +
            // TOTP account (D157), never as a card.
            let sign_in = if session.subject.credential().is_card() {
                AdminSignIn::Card
            } else if state.store.facility_admin_password_totp(&facility).await.map_err(unavailable)? {
                AdminSignIn::PasswordTotp
            } else {
                AdminSignIn::PasswordTotpNotAllowed
            };
            Principal::FacilityAdmin { facility, basis: AdminBasis::Person { person_key, pc, sign_in } }
        }
    };
    Ok(SignedIn { principal, grant: grant.id })
}

/// Audit a refusal (denied, with the reason) and hand it back.
pub(super) async fn audit_refusal(state: &AppState, action: &str, r: Refusal) -> Refusal {
    if matches!(r, Refusal::Unavailable) {
        return r;
    }
    crate::app::auth::refuse(state, &r.actor(), action, "-", r.error()).await;
    r
}

/// The page for a refused console session: the reason, a way to sign in again, and both cookies cleared.
pub fn refused_page(lang: Lang, r: &Refusal) -> Response {
    let body = match r {
        Refusal::NoPortal => html! { p { (M::CardSignInUnavailable.text(lang)) } },
        Refusal::NoGrant { person_key } => html! {
            p { (M::NoGrantHelp.text(lang)) }
            p { code { (person_key) } }
            p { a href="/console/" { (M::Back.text(lang)) } }
        },
        Refusal::PortalSessionLent => html! {
            div class="error" role="alert" { p { @if lang == Lang::Ja { (r.in_japanese()) } @else { (r.to_string()) } } }
            p { a href="/console/" { (M::Back.text(lang)) } }
        },
        _ => html! {
            div class="error" role="alert" { p { @if lang == Lang::Ja { (r.in_japanese()) } @else { (r.to_string()) } } }
            p { a href="/console/login" { (M::SignInWithCard.text(lang)) } }
        },
    };
    let title = if r.status() == StatusCode::UNAUTHORIZED { M::SessionEnded } else { M::NoConsoleAccess };
    let page = view::page(lang, &Principal::Anonymous, r.status(), title.text(lang), body);
    // A paused session continues once the card is back: its sign-in is kept.
    if matches!(r, Refusal::PortalSessionLent) { page } else { with_cleared_cookies(page) }
}

/// [`refused_page`], or the held page ([`super::held`]) when the connection's PC certificate is a suspended or
/// retired facility's (both cookies cleared too: the sign-in is refused either way).
pub async fn refused_or_held(state: &AppState, lang: Lang, tls: Option<&TlsInfo>, r: &Refusal) -> Response {
    // A lent session is paused, not refused: its own page says how it continues.
    if !matches!(r, Refusal::PortalSessionLent)
        && let Some(held) = super::held::for_session(state, lang, tls).await
    {
        return with_cleared_cookies(held);
    }
    refused_page(lang, r)
}

/// `response` with the session and sign-in cookies deleted.
pub(super) fn with_cleared_cookies(mut response: Response) -> Response {
    for c in ticket::clear_cookies() {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Renew the session cookie's idle deadline on an answer to a request that carried a valid one (signature
/// and lifetimes only; the request's handler checked the rest), unless the answer sets or clears it itself.
pub fn renew(state: &AppState, request_headers: &HeaderMap, response: &mut Response) {
    let sets_it = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(ticket::SESSION_COOKIE.as_bytes()));
    if sets_it {
        return;
    }
    let Some(value) = cookie_value(request_headers, ticket::SESSION_COOKIE) else { return };
    let now = state.clock.now();
    if let Ok(t) = state.console_tickets.read_session(&value, now)
        && let Ok(v) = HeaderValue::from_str(&state.console_tickets.set_session(&t, now))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}
