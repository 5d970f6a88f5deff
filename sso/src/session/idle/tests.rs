//! The idle lock with the time passed in: locked at the limit, a stamp counts only for its own session and never
//! from the future, the login counts without one.

use super::*;
use std::sync::Arc;

const LOGIN: i64 = 1_800_000_000;

fn session(id_hash: &str) -> Activity<'_> {
    Activity { id_hash, auth_time: LOGIN, expires_at: LOGIN + 12 * 3600 }
}

fn secret() -> Arc<PortalSecret> {
    let dir = tempfile::tempdir().unwrap();
    Arc::new(PortalSecret::load_or_create(&dir.path().join("portal.secret")).unwrap())
}

fn value(set_cookie: &str) -> &str {
    set_cookie.split(';').next().and_then(|c| c.strip_prefix("__Host-hcpki-seen=")).unwrap()
}

#[test]
fn a_session_idle_for_the_limit_is_locked_and_every_use_moves_the_limit() {
    let (secret, s) = (secret(), session("a"));
    let limit = IdleLimit::from_minutes(15);
    assert_eq!(limit.secs(), Some(900));
    // No stamp yet: the login is the last use.
    assert_eq!(last_used(&secret, s, None, LOGIN + 10), LOGIN);
    assert!(!locked(limit, LOGIN, LOGIN + 899));
    assert!(locked(limit, LOGIN, LOGIN + 900), "locked at the limit");
    // A use at +800 moves it.
    let stamped = stamp(&secret, s, LOGIN + 800);
    assert!(stamped.contains("HttpOnly") && stamped.contains(&format!("Max-Age={}", 12 * 3600 - 800)), "{stamped}");
    let used = last_used(&secret, s, Some(value(&stamped)), LOGIN + 1000);
    assert_eq!(used, LOGIN + 800);
    assert!(!locked(limit, used, LOGIN + 1699) && locked(limit, used, LOGIN + 1700));
    // Off: never locked; more than a day is a day.
    assert!(!locked(IdleLimit::from_minutes(0), LOGIN, LOGIN + 10 * 86_400));
    assert_eq!(IdleLimit::from_minutes(100_000).secs(), Some(86_400));
}

#[test]
fn a_stamp_counts_only_for_its_session_and_never_from_the_future() {
    let (secret, s) = (secret(), session("a"));
    let other = stamp(&secret, session("b"), LOGIN + 800);
    assert_eq!(last_used(&secret, s, Some(value(&other)), LOGIN + 1000), LOGIN, "another session's stamp");
    let future = stamp(&secret, s, LOGIN + 5000);
    assert_eq!(last_used(&secret, s, Some(value(&future)), LOGIN + 1000), LOGIN, "a stamp from the future");
    let forged = format!("{}.{}", LOGIN + 900, secret.activity_mac("a", LOGIN + 800));
    assert_eq!(last_used(&secret, s, Some(&forged), LOGIN + 1000), LOGIN, "a time the MAC is not over");
    for junk in ["", ".", "x.y", "123", "-5.abc"] {
        assert_eq!(last_used(&secret, s, Some(junk), LOGIN + 1000), LOGIN, "{junk:?}");
    }
    // Another portal secret's stamp (another installation) counts for nothing.
    let foreign = stamp(&self::secret(), s, LOGIN + 800);
    assert_eq!(last_used(&secret, s, Some(value(&foreign)), LOGIN + 1000), LOGIN);
}
