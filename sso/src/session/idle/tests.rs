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

/// D175: a session in use writes its use once per period (a sixth of the limit, at least a minute), an idle one
/// never; the sweep's cut-off leaves a period of slack, so a written use always keeps a session the request
/// check would keep.
#[test]
fn a_session_in_use_is_written_once_a_period_and_the_sweep_allows_for_it() {
    let limit = IdleLimit::from_minutes(30);
    assert_eq!(seen_every(limit), Some(300));
    assert_eq!(seen_every(IdleLimit::from_minutes(1)), Some(60), "at least a minute");
    assert_eq!(seen_every(IdleLimit::OFF), None);
    // Requests every 10 s from the login on: one write per 300 s period.
    let mut writes = Vec::new();
    let mut last = LOGIN;
    for now in (LOGIN + 10..LOGIN + 1200).step_by(10) {
        if seen_due(limit, last, now) {
            writes.push(now);
        }
        last = now;
    }
    assert_eq!(writes, [LOGIN + 300, LOGIN + 600, LOGIN + 900], "the first request of each period");
    assert!(!seen_due(IdleLimit::OFF, LOGIN, LOGIN + 86_400), "off: never written");
    // The last request at `t` was written at `w` in the same period: t - w < 300, so a session the sweep ends
    // (w <= now - 1800 - 300) was idle for the full limit.
    let (t, w) = (LOGIN + 1190, *writes.last().unwrap());
    assert!(t - w < 300);
    let cut = idle_before(limit, t + 1800).unwrap();
    assert!(w > cut, "not yet: the request check would not lock it either");
    assert!(w <= idle_before(limit, w + 2100).unwrap());
    assert_eq!(idle_before(IdleLimit::OFF, LOGIN), None);
}
