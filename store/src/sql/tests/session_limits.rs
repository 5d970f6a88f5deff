//! The Shared Signals' store side of D175 on every backend: the session limits' sweep ends what is past its
//! absolute deadline or idle (not what was seen in use, not a deadline the deleting sweep owns) and leaves each
//! end for one replica's claim; person events are written with the change and claimed once per lease.

use super::{AT, NOW, TestDb, admin, sso_grant, sso_session, start_session};
use crate as store;
use crate::traits::{PERSON_ACCOUNT_DISABLED, PERSON_TOTP_RESET};
use hcpki_model::UnixTime;

on_every_backend!(spent_sessions_end_once_and_person_events_are_claimed_once);

async fn spent_sessions_end_once_and_person_events_are_claimed_once(db: TestDb) {
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let at = |secs: i64| UnixTime::from_secs(secs);
    // expires_at − 3600 is each session's login (`sso_session`).
    start_session(&*s, &sso_session("expired", "pwd:a", None, NOW - 10)).await;
    start_session(&*s, &sso_session("long-gone", "pwd:b", None, NOW - 7200)).await;
    start_session(&*s, &sso_session("idle", "pwd:c", None, NOW + 3000)).await;
    start_session(&*s, &sso_session("in-use", "pwd:d", None, NOW + 3000)).await;
    start_session(&*s, &sso_session("fresh", "pwd:e", None, NOW + 3500)).await;
    s.oidc_create_grant(&sso_grant("g-idle", "idle", NOW + 3000)).await.unwrap();
    s.portal_session_seen("in-use", at(NOW - 60)).await.unwrap();

    // Idle: last use before NOW − 300 (the logins of "idle" and "in-use" were at NOW − 600).
    let idle_before = Some(at(NOW - 300));
    let ended = s.portal_end_spent_sessions(at(NOW), at(NOW - 3600), idle_before, 500).await.unwrap();
    assert_eq!(ended, 2, "the expired one and the idle one");
    assert_eq!(other.portal_end_spent_sessions(at(NOW), at(NOW - 3600), idle_before, 500).await.unwrap(), 0);
    assert_eq!(s.oidc_grant("g-idle").await.unwrap().unwrap().state, "revoked", "its grants with it");
    let mut claimed: Vec<_> = other
        .portal_claim_ended_sessions(at(NOW), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id_hash, r.end_reason))
        .collect();
    claimed.sort();
    assert_eq!(claimed, [("expired".into(), Some("expired".into())), ("idle".into(), Some("idle".into()))]);
    assert!(s.portal_session("in-use", at(NOW)).await.unwrap().is_some(), "seen a minute ago");
    assert!(s.portal_session("fresh", at(NOW)).await.unwrap().is_some());
    let gone = s.portal_session_record("long-gone").await.unwrap().unwrap();
    assert_eq!(gone.ended_at, None, "a deadline past the grace is the deleting sweep's");
    assert_eq!(s.portal_end_spent_sessions(at(NOW), at(NOW - 3600), None, 500).await.unwrap(), 0, "idle off");

    // Person events: written with the disable and the reset, claimed by one handle per lease, then done.
    let user = |name: &str| store::PortalUser {
        username: name.into(),
        display_name: name.into(),
        hc_role: None,
        password_hash: "x".into(),
        totp_secret: "y".into(),
        last_totp_step: 0,
        created_by: "cli:tester".into(),
        created_at: NOW,
        disabled_at: None,
    };
    for name in ["off", "reset"] {
        s.portal_add_user(&user(name), &admin(), AT).await.unwrap();
    }
    assert!(s.portal_disable_user("off", &admin(), AT).await.unwrap());
    assert!(s.portal_reset_totp("reset", "sealed", &admin(), AT).await.unwrap());
    assert!(!s.portal_reset_totp("off", "sealed", &admin(), AT).await.unwrap(), "disabled: nothing, no event");
    let lease = |ms: i64| UnixTime::from_millis(AT.as_millis() + ms);
    let events = s.ssf_claim_person_events(AT, lease(60_000), 10).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| (e.person_key.as_str(), e.event.as_str())).collect();
    assert_eq!(kinds, [("pwd:off", PERSON_ACCOUNT_DISABLED), ("pwd:reset", PERSON_TOTP_RESET)]);
    assert!(other.ssf_claim_person_events(AT, lease(60_000), 10).await.unwrap().is_empty(), "held by the lease");
    let again = other.ssf_claim_person_events(lease(60_001), lease(120_000), 10).await.unwrap();
    assert_eq!(again, events, "a replica that stopped leaves them to the next after the lease");
    other.ssf_person_events_done(&again).await.unwrap();
    assert!(s.ssf_claim_person_events(lease(200_000), lease(300_000), 10).await.unwrap().is_empty(), "done");
}
