//! The help desk (operators and auditors): `/console/users` searches the SSO portal's users and shows each
//! one's kind, hcRole, recent sign-ins, live sessions and password throttle; operators end a person's
//! sessions or clear an account's throttle. Everything is `app::operations::users`, which
//! `/api/v1/users` shares.

use super::i18n::M;
use super::problem::Problem;
use super::view::{self, badge, csrf_field, table_or_none};
use super::{OrPage, Viewer};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations::users::{self as ops, User};
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hcpki_ca::access::Action;
use maud::{Markup, html};
use serde::Deserialize;

type Page = Result<Response, Response>;

/// The query of [`search`] (`lang`, the language switch, is the guard's).
#[derive(Debug, Deserialize)]
pub struct UsersQuery {
    q: Option<String>,
    /// What the action before the redirect here did ([`Done`]); unknown values are ignored.
    done: Option<String>,
}

/// What an action did, carried by its redirect to the user's page: a kind, never text from the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Done {
    /// `POST /console/users/end-sessions` ended the person's sessions.
    SessionsEnded,
}

impl Done {
    const SESSIONS_ENDED: &'static str = "sessions-ended";

    fn parse(v: Option<&str>) -> Option<Self> {
        (v == Some(Self::SESSIONS_ENDED)).then_some(Self::SessionsEnded)
    }

    fn notice(self) -> M {
        match self {
            Self::SessionsEnded => M::SessionsEndedNotice,
        }
    }
}

/// `GET /console/users?q=TEXT`.
pub async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<UsersQuery>, QueryRejection>,
) -> Page {
    viewer.caller.may(Action::SearchUsers).await.or_page(&viewer)?;
    let (q, done) = match query {
        Ok(Query(q)) => (q.q, Done::parse(q.done.as_deref())),
        Err(e) => {
            let e = ApiError::bad_request("invalid search", format!("{e}: search with the form"));
            viewer.caller.refuse(&Action::SearchUsers.name(), "-", e).await;
            return Ok(page(&viewer, "", problem(&viewer), StatusCode::BAD_REQUEST));
        }
    };
    let given = q.as_deref().is_some_and(|s| !s.trim().is_empty());
    let results = if given {
        let text = match ops::query(&viewer.caller, q.as_deref()).await {
            Ok(text) => text,
            // The query's own rule (its length, no control characters) is the operation's only 400: said on the
            // search form with the text kept (issue #45 item 1); the refusal is audited by the operation.
            Err(e) if e.status == StatusCode::BAD_REQUEST => {
                return Ok(page(&viewer, q.as_deref().unwrap_or(""), problem(&viewer), e.status));
            }
            Err(e) => return Err(viewer.refusal(Problem::of(&e, Problem::NotFound))),
        };
        let found = ops::search(&state, &viewer.caller, &text).await.or_page(&viewer)?;
        html! {
            @if found.users.is_empty() {
                p { (M::NoneFound.text(viewer.lang)) }
            } @else {
                @if found.truncated { p role="status" { (M::TooManyUsers.text(viewer.lang)) } }
                @for u in &found.users { (user_section(&viewer, u)) }
            }
        }
    } else {
        not_ready_section(&viewer, &ops::not_ready(&state, &viewer.caller).await.or_page(&viewer)?)
    };
    let results = html! {
        @if let Some(d) = done { div class="notice" role="status" id="done" { p { (d.notice().text(viewer.lang)) } } }
        (results)
    };
    Ok(page(&viewer, q.as_deref().unwrap_or(""), results, StatusCode::OK))
}

/// The help desk's list of accounts still to set up their second factor (D166), shown before any search.
fn not_ready_section(viewer: &Viewer, accounts: &[ops::NotReady]) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let rows: Vec<Vec<Markup>> = accounts
        .iter()
        .map(|a| {
            vec![
                html! { (a.account) },
                html! { (a.name) },
                html! { (a.hc_role.as_deref().unwrap_or("-")) },
                html! { (a.created) },
            ]
        })
        .collect();
    let head = [t(M::Account), t(M::Name), t(M::HcRole), t(M::CreatedOn)];
    html! {
        section id="not-ready" {
            h2 { (t(M::NotReadyTitle)) }
            p { (t(M::NotReadyHelp)) }
            (view::table_or_none(viewer.lang, t(M::NotReadyTitle), &head, &rows))
        }
    }
}

/// What to fix in a refused search.
fn problem(viewer: &Viewer) -> Markup {
    html! { div class="error" role="alert" id="problem" { p { (M::UserQueryRule.text(viewer.lang)) } } }
}

/// The search form and `results`.
fn page(viewer: &Viewer, q: &str, results: Markup, status: StatusCode) -> Response {
    let t = |m: M| m.text(viewer.lang);
    let body = html! {
        p { (t(M::UsersHelp)) }
        form method="get" action="/console/users" role="search" {
            (view::input("q", "q", t(M::UserQuery), q, ops::MAX_QUERY).focus_if(status == StatusCode::BAD_REQUEST))
            p { button type="submit" { (t(M::Search)) } }
        }
        (results)
    };
    view::page(viewer.lang, viewer.principal(), status, t(M::Users), body)
}

/// One user: facts, sign-ins, sessions, throttle, and the forms the viewer may use.
fn user_section(viewer: &Viewer, u: &User) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let opt = |v: Option<&str>| html! { (v.unwrap_or("-")) };
    let facts = [
        (M::UserKind, html! { (u.kind) @if u.disabled { " " (badge(t(M::Disabled))) } }),
        (M::Person, html! { code class="person" { (u.person) } }),
        (M::Account, opt(u.account.as_deref())),
        (M::HcRole, opt(u.hc_role.as_deref())),
    ];
    let logins: Vec<Vec<Markup>> = u
        .logins
        .iter()
        .map(|l| {
            vec![
                view::jst(l.at, viewer.lang),
                badge(&l.outcome),
                html! { (l.method) },
                opt(l.reason.as_deref()),
                facility_link(l.facility.as_deref()),
            ]
        })
        .collect();
    let sessions = session_rows(viewer, u);
    let lang = viewer.lang;
    let login_head = [t(M::At), t(M::Outcome), t(M::Method), t(M::Reason), t(M::Facility)];
    let session_head = [t(M::Started), t(M::Expires), t(M::Method), t(M::Facility)];
    let may_end = viewer.can(&Action::EndUserSessions) && !u.sessions.is_empty();
    html! {
        section class="user" {
            h2 { (if u.name.is_empty() { &u.person } else { &u.name }) }
            dl { @for (k, v) in &facts { dt { (t(*k)) } dd { (v) } } }
            h3 { (t(M::RecentLogins)) }
            (table_or_none(lang, t(M::RecentLogins), &login_head, &logins))
            h3 { (t(M::LiveSessions)) }
            (table_or_none(lang, t(M::LiveSessions), &session_head, &sessions))
            @if may_end {
                p { a class="button danger" href={ "/console/users/end-sessions/confirm?person=" (urlencoding(&u.person)) } {
                    (t(M::EndAllSessions))
                } }
            }
            @if let Some(account) = &u.account {
                h3 { (t(M::Lockout)) }
                @match &u.lockout {
                    None => p class="lockout" { (t(M::NotLocked)) },
                    Some(l) => {
                        p class="lockout" {
                            @match l.wait_secs {
                                Some(w) => strong { (t(M::Locked)) ": " (w) },
                                None => (t(M::NotLocked)),
                            }
                            " (" (t(M::Failures)) ": " (l.failures) ", " (view::jst(l.last_at, viewer.lang)) ")"
                        }
                        @if viewer.can(&Action::ClearLockout) {
                            (hidden_form(viewer, "/console/users/clear-lockout", "account", account, M::ClearLockout))
                        }
                    }
                }
            }
        }
    }
}

/// A person's live sessions as table rows (started, expires, method, facility).
fn session_rows(viewer: &Viewer, u: &User) -> Vec<Vec<Markup>> {
    let t = |m: M| m.text(viewer.lang);
    u.sessions
        .iter()
        .map(|s| {
            vec![
                view::jst(s.started, viewer.lang),
                view::jst(s.expires, viewer.lang),
                html! { (t(if s.card { M::Card } else { M::Password })) },
                facility_link(s.facility.as_deref()),
            ]
        })
        .collect()
}

fn facility_link(id: Option<&str>) -> Markup {
    html! {
        @match id {
            Some(f) => a href={ "/console/facilities/" (f) } { (f) },
            None => "-",
        }
    }
}

/// A POST form carrying one hidden field and its CSRF token.
fn hidden_form(viewer: &Viewer, action: &str, field: &str, value: &str, label: M) -> Markup {
    html! {
        form class="inline" method="post" action=(action) {
            (csrf_field(&viewer.csrf()))
            input type="hidden" name=(field) value=(value);
            button type="submit" class="danger" { (label.text(viewer.lang)) }
        }
    }
}

/// The end-sessions form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonForm {
    person: String,
}

/// The query of [`confirm_end_sessions`].
#[derive(Debug, Deserialize)]
pub struct PersonQuery {
    person: Option<String>,
}

/// `GET /console/users/end-sessions/confirm?person=KEY` (operators): what ending the person's sessions ends — who,
/// each live session, what the person and their services see — before anything ends (issue #45 item 2).
pub async fn confirm_end_sessions(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<PersonQuery>, QueryRejection>,
) -> Page {
    viewer.caller.may(Action::EndUserSessions).await.or_page(&viewer)?;
    let person = query.ok().and_then(|Query(q)| q.person).unwrap_or_default();
    let text = ops::query(&viewer.caller, Some(&person)).await.or_page(&viewer)?;
    let found = ops::search(&state, &viewer.caller, &text).await.or_page(&viewer)?;
    let t = |m: M| m.text(viewer.lang);
    let back = html! { a href={ "/console/users?q=" (urlencoding(&text)) } { (t(M::KeepSessions)) } };
    let Some(u) = found.users.iter().find(|u| u.person == text) else {
        let body = html! { p { (t(M::NoSuchPerson)) } p { (back) } };
        return Ok(view::page(viewer.lang, viewer.principal(), StatusCode::NOT_FOUND, t(M::EndSessionsTitle), body));
    };
    let sessions = session_rows(&viewer, u);
    let head = [t(M::Started), t(M::Expires), t(M::Method), t(M::Facility)];
    let body = html! {
        dl {
            dt { (t(M::PersonName)) } dd { (if u.name.is_empty() { &u.person } else { &u.name }) }
            dt { (t(M::Person)) } dd { code class="person wrap" { (u.person) } }
        }
        h2 { (t(M::LiveSessions)) }
        (table_or_none(viewer.lang, t(M::LiveSessions), &head, &sessions))
        div class="notice warn" role="note" { p { (t(M::EndSessionsConsequence)) } }
        @if !u.sessions.is_empty() {
            form method="post" action="/console/users/end-sessions" {
                (csrf_field(&viewer.csrf()))
                input type="hidden" name="person" value=(u.person);
                button type="submit" class="danger" { (t(M::EndSessionsConfirm)) }
            }
        }
        p { (back) }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::EndSessionsTitle), body))
}

/// `POST /console/users/end-sessions` (operators): ends them, then back to the person's page with the notice
/// ([`Done::SessionsEnded`]), where the live sessions now read none.
pub async fn end_sessions(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let name = Action::EndUserSessions.name();
    viewer.caller.may(Action::EndUserSessions).await.or_page(&viewer)?;
    let form: PersonForm = viewer.form(&name, "-", body).await?;
    ops::end_sessions(&state, &viewer.caller, &form.person).await.or_page(&viewer)?;
    let to = format!("/console/users?q={}&done={}", urlencoding(form.person.trim()), Done::SESSIONS_ENDED);
    Ok(axum::response::Redirect::to(&to).into_response())
}

/// The clear-lockout form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountForm {
    account: String,
}

/// `POST /console/users/clear-lockout` (operators).
pub async fn clear_lockout(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let name = Action::ClearLockout.name();
    viewer.caller.may(Action::ClearLockout).await.or_page(&viewer)?;
    let form: AccountForm = viewer.form(&name, "-", body).await?;
    let cleared = ops::clear_lockout(&state, &viewer.caller, &form.account).await.or_page(&viewer)?;
    let notice = html! { ((if cleared { M::LockoutCleared } else { M::NoLockout }).text(viewer.lang)) };
    Ok(done(&viewer, form.account.trim(), notice))
}

/// The answer to an action: its notice, and the search form filled in for the user it was about.
fn done(viewer: &Viewer, q: &str, notice: Markup) -> Response {
    let back = html! {
        div class="notice" role="status" { p { (notice) } }
        p { a href={ "/console/users?q=" (urlencoding(q)) } { (M::Back.text(viewer.lang)) } }
    };
    page(viewer, q, back, StatusCode::OK)
}

/// `q` as a query parameter value.
fn urlencoding(q: &str) -> String {
    serde_urlencoded::to_string([("", q)]).map(|s| s.trim_start_matches('=').to_owned()).unwrap_or_default()
}
