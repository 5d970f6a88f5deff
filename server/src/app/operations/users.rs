//! The help desk's view of the SSO portal's users (issue #8), shared by `GET /api/v1/users` and the console's
//! `/console/users`: who a user is, how they signed in lately, which sessions they hold, whether their
//! password account is throttled; and the two things the help desk does about it (end every session of a
//! person, clear an account's throttle). Operators and auditors may search, operators may act.
//!
//! Users are of two kinds, and the store keeps them differently:
//! * **password + TOTP accounts** are rows of `portal_users` (person key `pwd:<name>`);
//! * **card holders** have no row of their own: a card login leaves a `login.card` audit entry (target the
//!   person key, detail the name, hcRole and card kind) and a session. They are found in the newest
//!   [`SCAN_LIMIT`] audit entries, so a card holder who has not signed in for that long is not listed.

use super::super::AppState;
use super::super::api_error::ApiError;
use super::super::auth::Caller;
use super::limit;
use hcpki_ca::access::Action;
use hcpki_ca::audit::AuditEntry;
use hcpki_pkix::time::UnixTime;
use serde::Serialize;
use serde_json::Value;

/// Longest search text (characters).
pub const MAX_QUERY: usize = 100;
/// Longest person key or account name an action names.
pub const MAX_PERSON: usize = 300;
/// The audit entries searched, newest first, for card holders and sign-in history.
pub const SCAN_LIMIT: i64 = 20_000;
/// Most users one search returns.
pub const MAX_USERS: usize = 50;
/// Sign-ins shown per user, newest first.
pub const LOGINS_PER_USER: usize = 5;
/// The audited reason of sessions the help desk ended.
pub const ENDED_BY_OPERATOR: &str = "ended-by-operator";
const AUDIT_PAGE: i64 = 1000;
const CARD_LOGIN: &str = "login.card";
const PORTAL_LOGIN: &str = "portal.login";

/// A user as the help desk sees them.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    /// `password` (a portal account), `hpki-card` or `jpki-card`.
    pub kind: String,
    /// The person key sessions and audit entries carry (`pwd:<name>`, `hpki:…`, `jpki:…`).
    pub person: String,
    /// The account name (password accounts).
    pub account: Option<String>,
    /// Display name (account) or the card's name (latest card login).
    pub name: String,
    /// The hcRole code, if any.
    pub hc_role: Option<String>,
    /// Whether the account is disabled (password accounts).
    pub disabled: bool,
    /// The newest sign-ins, newest first.
    pub logins: Vec<Login>,
    /// Live SSO sessions, newest first.
    pub sessions: Vec<LiveSession>,
    /// The password throttle's record (password accounts with recent failures).
    pub lockout: Option<Lockout>,
}

/// One sign-in attempt, from the audit log.
#[derive(Clone, Debug, Serialize)]
pub struct Login {
    /// When (Unix seconds).
    pub at: i64,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    /// `password-totp`, `hpki`, `jpki`, …
    pub method: String,
    /// Why it was refused.
    pub reason: Option<String>,
    /// The facility of the connection, if any.
    pub facility: Option<String>,
}

/// A live SSO session (never its identifiers).
#[derive(Clone, Debug, Serialize)]
pub struct LiveSession {
    /// When its credential was checked.
    pub started: i64,
    /// When it ends by itself.
    pub expires: i64,
    /// The facility of the login's connection.
    pub facility: Option<String>,
    /// Whether a card signed it in.
    pub card: bool,
}

/// Failed password sign-ins on record for an account.
#[derive(Clone, Debug, Serialize)]
pub struct Lockout {
    /// Failures counted.
    pub failures: i64,
    /// The last one (Unix seconds).
    pub last_at: i64,
    /// Seconds until the account may try again; none when it may now.
    pub wait_secs: Option<i64>,
}

/// What a search found.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    /// The users, password accounts first.
    pub users: Vec<User>,
    /// Whether more matched than [`MAX_USERS`].
    pub truncated: bool,
}

/// The search text, trimmed, or an audited 400 saying what is wrong with it.
pub async fn query(caller: &Caller, text: Option<&str>) -> Result<String, ApiError> {
    let name = Action::SearchUsers.name();
    let text = text.map(str::trim).unwrap_or("");
    let checked = limit("q", Some(text), MAX_QUERY).and_then(|()| {
        if text.is_empty() {
            Err("q is empty: give part of a name, an account name or a person key".into())
        } else {
            Ok(())
        }
    });
    match checked {
        Ok(()) => Ok(text.to_owned()),
        Err(detail) => Err(caller.refuse(&name, "-", ApiError::bad_request("invalid search", detail)).await),
    }
}

/// Users whose account name, display name or person key contains `text` (case-insensitive), with their
/// sign-ins, sessions and throttle (operators and auditors).
pub async fn search(state: &AppState, caller: &Caller, text: &str) -> Result<Found, ApiError> {
    caller.may(Action::SearchUsers).await?;
    let store = state.store.as_ref();
    let needle = text.to_lowercase();
    let hit = |s: &str| s.to_lowercase().contains(&needle);
    let logins = login_entries(store).await.map_err(ApiError::unavailable)?;
    let mut users: Vec<User> = store
        .portal_users()
        .await
        .map_err(ApiError::unavailable)?
        .into_iter()
        .filter(|u| hit(&u.username) || hit(&u.display_name) || hit(&format!("pwd:{}", u.username)))
        .map(|u| User {
            kind: "password".into(),
            person: format!("pwd:{}", u.username),
            account: Some(u.username),
            name: u.display_name,
            hc_role: u.hc_role,
            disabled: u.disabled_at.is_some(),
            logins: Vec::new(),
            sessions: Vec::new(),
            lockout: None,
        })
        .collect();
    // Card person keys (`hpki:…`, `jpki:…`) never collide with accounts' (`pwd:…`).
    users.extend(card_holders(&logins, &hit));
    let truncated = users.len() > MAX_USERS;
    users.truncate(MAX_USERS);
    let now = state.clock.now();
    for u in &mut users {
        u.logins = history(&logins, u);
        u.sessions = sessions(store, &u.person, now).await.map_err(ApiError::unavailable)?;
        if let Some(account) = &u.account {
            u.lockout = lockout(store, account, now).await.map_err(ApiError::unavailable)?;
        }
    }
    Ok(Found { users, truncated })
}

/// An active password account with no confirmed second factor (D161, D166), as the help desk's list shows it.
#[derive(Debug, Serialize)]
pub struct NotReady {
    /// The account name.
    pub account: String,
    /// Its display name.
    pub name: String,
    /// The hcRole code, if any.
    pub hc_role: Option<String>,
    /// When it was made (RFC 3339, UTC).
    pub created: String,
}

/// The accounts that must still set up their second factor (operators and auditors; the help desk's list,
/// `hcpki portal user not-ready`): each person sets it up at their next sign-in at a facility PC until
/// `[portal] second_factor_deadline` and its grace (D166), or is handed a new secret.
pub async fn not_ready(state: &AppState, caller: &Caller) -> Result<Vec<NotReady>, ApiError> {
    caller.may(Action::SearchUsers).await?;
    let store = state.store.as_ref();
    let users = hcpki_sso::accounts::not_ready(store, store).await.map_err(ApiError::unavailable)?;
    Ok(users
        .into_iter()
        .map(|u| NotReady {
            account: u.username,
            name: u.display_name,
            hc_role: u.hc_role,
            created: hcpki_pkix::time::rfc3339(u.created_at),
        })
        .collect())
}

/// End every live session of `person` (operators): the physician's own "log out everywhere" (D34) done by
/// the help desk — one audited transaction (`portal.logout`, reason `ended-by-operator`, the operator as
/// actor), then back-channel logout to each session's clients. How many ended.
pub async fn end_sessions(state: &AppState, caller: &Caller, person: &str) -> Result<usize, ApiError> {
    let name = Action::EndUserSessions.name();
    caller.may(Action::EndUserSessions).await?;
    let person = named(caller, &name, "person", person).await?;
    let Some(portal) = &state.portal else {
        let e = ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "no SSO portal on this server",
            "this server runs without [portal]: end the sessions on a server that runs the portal",
        );
        return Err(caller.refuse(&name, person, e).await);
    };
    portal.end_person_sessions(person, ENDED_BY_OPERATOR, &caller.actor()).await.map_err(ApiError::unavailable)
}

/// Clear a password account's sign-in throttle (operators), audited `portal.user.clear_lockout`; `Ok(false)`
/// when no failures were on record.
pub async fn clear_lockout(state: &AppState, caller: &Caller, account: &str) -> Result<bool, ApiError> {
    let name = Action::ClearLockout.name();
    caller.may(Action::ClearLockout).await?;
    let account = named(caller, &name, "account", account).await?;
    state
        .store
        .portal_clear_login_failures(account, &caller.actor(), state.clock.now())
        .await
        .map_err(ApiError::unavailable)
}

/// A person key or account name from the request, trimmed, or an audited 400.
async fn named<'a>(caller: &Caller, action: &str, field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    let value = value.trim();
    let checked = limit(field, Some(value), MAX_PERSON)
        .and_then(|()| if value.is_empty() { Err(format!("{field} is empty")) } else { Ok(()) });
    match checked {
        Ok(()) => Ok(value),
        Err(detail) => Err(caller.refuse(action, "-", ApiError::bad_request("invalid request", detail)).await),
    }
}

/// The sign-in entries (`login.card`, `portal.login`) among the newest [`SCAN_LIMIT`] audit entries, newest
/// first.
async fn login_entries(store: &dyn hcpki_ca::store::AuditLog) -> Result<Vec<AuditEntry>, hcpki_ca::store::StoreError> {
    let mut end = store.audit_head().await?.seq;
    let stop = (end - SCAN_LIMIT).max(0);
    let mut found = Vec::new();
    while end > stop {
        let start = (end - AUDIT_PAGE).max(stop);
        let page = store.audit_entries(start, end - start).await?;
        found.extend(page.into_iter().rev().filter(|e| e.action == CARD_LOGIN || e.action == PORTAL_LOGIN));
        end = start;
    }
    Ok(found)
}

/// Card holders whose person key or card name `hit`s, each once, as their newest successful `login.card`
/// entry among `entries` (newest first) describes them.
fn card_holders(entries: &[AuditEntry], hit: &dyn Fn(&str) -> bool) -> Vec<User> {
    let mut found: Vec<User> = Vec::new();
    for e in entries.iter().filter(|e| e.action == CARD_LOGIN && e.outcome == "ok") {
        if found.iter().any(|u| u.person == e.target) {
            continue;
        }
        let detail: Value = serde_json::from_str(&e.detail).unwrap_or(Value::Null);
        let name = field(&detail, "name").unwrap_or("").to_owned();
        if hit(&e.target) || hit(&name) {
            let kind = field(&detail, "kind").unwrap_or("card");
            found.push(User {
                kind: format!("{kind}-card"),
                person: e.target.clone(),
                account: None,
                name,
                hc_role: field(&detail, "hc_role").map(str::to_owned),
                disabled: false,
                logins: Vec::new(),
                sessions: Vec::new(),
                lockout: None,
            });
        }
    }
    found
}

/// A text field of an audit entry's detail.
fn field<'a>(detail: &'a Value, key: &str) -> Option<&'a str> {
    detail.get(key).and_then(Value::as_str)
}

/// `u`'s newest sign-ins: an account's `portal.login` entries (its name is their target), a card holder's
/// `login.card` and `portal.login` entries (the person key is theirs). A refused card login names no person
/// (the card was not verified), so it is not anyone's.
fn history(entries: &[AuditEntry], u: &User) -> Vec<Login> {
    let target = u.account.as_deref().unwrap_or(&u.person);
    entries
        .iter()
        .filter(|e| e.target == target)
        .take(LOGINS_PER_USER)
        .map(|e| {
            let detail: Value = serde_json::from_str(&e.detail).unwrap_or(Value::Null);
            let method = field(&detail, "credential").or(field(&detail, "kind")).unwrap_or("-");
            Login {
                at: e.at_ms.div_euclid(1000),
                outcome: e.outcome.clone(),
                method: method.to_owned(),
                reason: field(&detail, "reason").map(str::to_owned),
                facility: field(&detail, "facility").map(str::to_owned),
            }
        })
        .collect()
}

async fn sessions(
    store: &dyn hcpki_ca::store::Sessions,
    person: &str,
    now: UnixTime,
) -> Result<Vec<LiveSession>, hcpki_ca::store::StoreError> {
    Ok(store
        .portal_person_sessions(person, now)
        .await?
        .into_iter()
        .map(|s| LiveSession {
            started: s.auth_time,
            expires: s.expires_at,
            facility: s.facility_id,
            card: s.card_id.is_some(),
        })
        .collect())
}

async fn lockout(
    store: &dyn hcpki_ca::store::PortalUsers,
    account: &str,
    now: UnixTime,
) -> Result<Option<Lockout>, hcpki_ca::store::StoreError> {
    let Some((failures, last_at)) = store.portal_login_failures(account).await? else { return Ok(None) };
    let wait_secs = hcpki_sso::throttle::check(store, account, now.as_secs()).await?.err();
    Ok(Some(Lockout { failures, last_at, wait_secs }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, target: &str, outcome: &str, at: i64, detail: Value) -> AuditEntry {
        AuditEntry {
            seq: at,
            at_ms: at * 1000,
            actor: "x".into(),
            action: action.into(),
            target: target.into(),
            outcome: outcome.into(),
            detail: detail.to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn card_holders_are_found_by_name_or_key_once_with_their_history() {
        let card = |at, name: &str, role: &str| {
            entry(CARD_LOGIN, "hpki:A1", "ok", at, serde_json::json!({ "kind": "hpki", "name": name, "hc_role": role }))
        };
        // Newest first, as `login_entries` returns them.
        let entries = vec![
            card(30, "Yamada Taro", "Dr"),
            entry(CARD_LOGIN, "card-login", "denied", 25, serde_json::json!({ "reason": "revoked" })),
            entry(PORTAL_LOGIN, "hpki:A1", "denied", 22, serde_json::json!({ "reason": "facility suspended" })),
            entry(PORTAL_LOGIN, "alice", "ok", 21, serde_json::json!({ "credential": "password-totp" })),
            card(20, "Yamada (old name)", "Ph"),
            entry(CARD_LOGIN, "jpki:B2", "ok", 10, serde_json::json!({ "kind": "jpki", "name": "Suzuki Hanako" })),
        ];
        let by = |needle: &str| {
            let n = needle.to_lowercase();
            card_holders(&entries, &move |s: &str| s.to_lowercase().contains(&n))
        };
        let found = by("yamada");
        assert_eq!(found.len(), 1, "one person, found once: {found:?}");
        assert_eq!((found[0].kind.as_str(), found[0].name.as_str()), ("hpki-card", "Yamada Taro"), "the newest");
        assert_eq!(found[0].hc_role.as_deref(), Some("Dr"));
        assert_eq!(by("JPKI:b2")[0].name, "Suzuki Hanako");
        assert!(by("revoked").is_empty() && by("card-login").is_empty(), "a refused card is no one");
        let logins = history(&entries, &found[0]);
        let seen: Vec<_> = logins.iter().map(|l| (l.at, l.outcome.as_str(), l.reason.as_deref())).collect();
        assert_eq!(seen, [(30, "ok", None), (22, "denied", Some("facility suspended")), (20, "ok", None)]);
        assert_eq!(logins[0].method, "hpki");
    }
}
