//! The help desk (operators and auditors): `/console/users` searches the SSO portal's users and shows each
//! one's kind, hcRole, recent sign-ins, live sessions and password throttle; operators end a person's
//! sessions or clear an account's throttle. Everything is `http::operations::users`, which
//! `/api/v1/users` shares.

use super::i18n::M;
use super::view::{self, badge, csrf_field, table, when};
use super::{OrPage, Viewer};
use crate::html::esc;
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::operations::users::{self as ops, User};
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use serde::Deserialize;

type Page = Result<Response, Response>;

/// The query of [`search`] (`lang`, the language switch, is the guard's).
#[derive(Debug, Deserialize)]
pub struct UsersQuery {
    q: Option<String>,
}

/// `GET /console/users?q=TEXT`.
pub async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<UsersQuery>, QueryRejection>,
) -> Page {
    viewer.caller.may(Action::SearchUsers).await.or_page(&viewer)?;
    let q = match query {
        Ok(Query(q)) => q.q,
        Err(e) => {
            let e = ApiError::bad_request("invalid search", format!("{e}: search with the form"));
            return Err(viewer.refusal(&viewer.caller.refuse(&Action::SearchUsers.name(), "-", e).await));
        }
    };
    let given = q.as_deref().is_some_and(|s| !s.trim().is_empty());
    let results = if given {
        let text = ops::query(&viewer.caller, q.as_deref()).await.or_page(&viewer)?;
        let found = ops::search(&state, &viewer.caller, &text).await.or_page(&viewer)?;
        let more = if found.truncated {
            format!("<p role=\"status\">{}</p>", M::TooManyUsers.text(viewer.lang))
        } else {
            String::new()
        };
        let list: String = found.users.iter().map(|u| user_section(&viewer, u)).collect();
        if found.users.is_empty() {
            format!("<p>{}</p>", M::NoneFound.text(viewer.lang))
        } else {
            format!("{more}{list}")
        }
    } else {
        String::new()
    };
    Ok(page(&viewer, q.as_deref().unwrap_or(""), &results, StatusCode::OK))
}

/// The search form and `results`.
fn page(viewer: &Viewer, q: &str, results: &str, status: StatusCode) -> Response {
    let t = |m: M| m.text(viewer.lang);
    let body = format!(
        "<p>{help}</p><form method=\"get\" action=\"/console/users\" role=\"search\">{q}\
         <p><button type=\"submit\">{search}</button></p></form>{results}",
        help = t(M::UsersHelp),
        q = view::input("q", "q", t(M::UserQuery), q, ops::MAX_QUERY, ""),
        search = t(M::Search),
    );
    view::page(viewer.lang, viewer.principal(), status, t(M::Users), &body)
}

/// One user: facts, sign-ins, sessions, throttle, and the forms the viewer may use.
fn user_section(viewer: &Viewer, u: &User) -> String {
    let t = |m: M| m.text(viewer.lang);
    let opt = |v: Option<&str>| esc(v.unwrap_or("-"));
    let disabled = if u.disabled { format!(" {}", badge(t(M::Disabled))) } else { String::new() };
    let facts = [
        (M::UserKind, format!("{}{disabled}", esc(&u.kind))),
        (M::Person, format!("<code class=\"person\">{}</code>", esc(&u.person))),
        (M::Account, opt(u.account.as_deref())),
        (M::HcRole, opt(u.hc_role.as_deref())),
    ];
    let dl: String = facts.iter().map(|(k, v)| format!("<dt>{}</dt><dd>{v}</dd>", t(*k))).collect();
    let logins: Vec<Vec<String>> = u
        .logins
        .iter()
        .map(|l| {
            vec![
                when(l.at),
                badge(&l.outcome),
                esc(&l.method),
                opt(l.reason.as_deref()),
                facility_link(l.facility.as_deref()),
            ]
        })
        .collect();
    let sessions: Vec<Vec<String>> = u
        .sessions
        .iter()
        .map(|s| {
            vec![
                when(s.started),
                when(s.expires),
                t(if s.card { M::Card } else { M::Password }).to_owned(),
                facility_link(s.facility.as_deref()),
            ]
        })
        .collect();
    let rows_or_none = |caption: M, head: &[&str], rows: &[Vec<String>]| {
        if rows.is_empty() { format!("<p>{}</p>", t(M::NoneFound)) } else { table(t(caption), head, rows) }
    };
    let logins =
        rows_or_none(M::RecentLogins, &[t(M::At), t(M::Outcome), t(M::Method), t(M::Reason), t(M::Facility)], &logins);
    let sessions =
        rows_or_none(M::LiveSessions, &[t(M::Started), t(M::Expires), t(M::Method), t(M::Facility)], &sessions);
    let end = if viewer.can(&Action::EndUserSessions) && !u.sessions.is_empty() {
        hidden_form(viewer, "/console/users/end-sessions", "person", &u.person, M::EndAllSessions)
    } else {
        String::new()
    };
    let lockout = match (&u.account, &u.lockout) {
        (None, _) => String::new(),
        (Some(_), None) => format!("<h3>{}</h3><p class=\"lockout\">{}</p>", t(M::Lockout), t(M::NotLocked)),
        (Some(account), Some(l)) => {
            let state = match l.wait_secs {
                Some(w) => format!("<strong>{}: {w}</strong>", t(M::Locked)),
                None => t(M::NotLocked).to_owned(),
            };
            let clear = if viewer.can(&Action::ClearLockout) {
                hidden_form(viewer, "/console/users/clear-lockout", "account", account, M::ClearLockout)
            } else {
                String::new()
            };
            format!(
                "<h3>{}</h3><p class=\"lockout\">{state} ({}: {}, {})</p>{clear}",
                t(M::Lockout),
                t(M::Failures),
                l.failures,
                when(l.last_at)
            )
        }
    };
    format!(
        "<section class=\"user\"><h2>{name}</h2><dl>{dl}</dl><h3>{rl}</h3>{logins}<h3>{ls}</h3>{sessions}{end}\
         {lockout}</section>",
        name = esc(if u.name.is_empty() { &u.person } else { &u.name }),
        rl = t(M::RecentLogins),
        ls = t(M::LiveSessions),
    )
}

fn facility_link(id: Option<&str>) -> String {
    match id {
        Some(f) => format!("<a href=\"/console/facilities/{f}\">{f}</a>", f = esc(f)),
        None => "-".into(),
    }
}

/// A POST form carrying one hidden field and its CSRF token.
fn hidden_form(viewer: &Viewer, action: &str, field: &str, value: &str, label: M) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{action}\">{csrf}\
         <input type=\"hidden\" name=\"{field}\" value=\"{value}\">\
         <button type=\"submit\" class=\"danger\">{label}</button></form>",
        csrf = csrf_field(&viewer.csrf()),
        value = esc(value),
        label = label.text(viewer.lang),
    )
}

/// The end-sessions form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonForm {
    person: String,
}

/// `POST /console/users/end-sessions` (operators).
pub async fn end_sessions(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let name = Action::EndUserSessions.name();
    viewer.caller.may(Action::EndUserSessions).await.or_page(&viewer)?;
    let form: PersonForm = viewer.form(&name, "-", body).await?;
    let ended = ops::end_sessions(&state, &viewer.caller, &form.person).await.or_page(&viewer)?;
    let notice = format!("{} <strong id=\"sessions-ended\">{ended}</strong>", M::SessionsEnded.text(viewer.lang));
    Ok(done(&viewer, form.person.trim(), &notice))
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
    let notice = (if cleared { M::LockoutCleared } else { M::NoLockout }).text(viewer.lang);
    Ok(done(&viewer, form.account.trim(), notice))
}

/// The answer to an action: its notice, and the search form filled in for the user it was about.
fn done(viewer: &Viewer, q: &str, notice: &str) -> Response {
    let back = format!(
        "<div class=\"notice\" role=\"status\"><p>{notice}</p></div>\
         <p><a href=\"/console/users?q={}\">{}</a></p>",
        esc(&urlencoding(q)),
        M::Back.text(viewer.lang)
    );
    page(viewer, q, &back, StatusCode::OK)
}

/// `q` as a query parameter value.
fn urlencoding(q: &str) -> String {
    serde_urlencoded::to_string([("", q)]).map(|s| s.trim_start_matches('=').to_owned()).unwrap_or_default()
}
