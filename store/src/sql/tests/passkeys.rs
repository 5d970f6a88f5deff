//! Passkeys (issue #48 item 1, D147, D157) on every backend: registered once per credential id, read back as
//! stored, a counter accepted once and never backwards (also across replicas), renamed and revoked only by their
//! person and only while live, every write audited in the same transaction.

use super::{AT, NOW, TestDb, sso_grant, sso_session, start_session, verified_log};
use crate::audit::{AuditEvent, Outcome};
use crate::traits::PasskeyRecord;
use hcpki_model::UnixTime;

on_every_backend!(
    a_passkey_is_registered_once_and_read_back_as_stored,
    a_counter_is_accepted_once_and_never_backwards_on_any_replica,
    only_the_person_renames_or_revokes_a_live_passkey,
    revoking_a_passkey_ends_the_sessions_it_opened_and_their_grants,
);

fn event(action: &str, target: &str) -> AuditEvent {
    AuditEvent {
        actor: "portal:pwd:clerk".into(),
        action: action.into(),
        target: target.into(),
        outcome: Outcome::Ok,
        detail: serde_json::json!({}),
    }
}

fn passkey(id: &str, person: &str, sign_count: i64) -> PasskeyRecord {
    PasskeyRecord {
        credential_id: id.into(),
        person_key: person.into(),
        user_handle: "dXNlci1oYW5kbGU".into(),
        subject_name: "受付 花子".into(),
        subject_role: Some("clerk".into()),
        public_key: "pQECAyYgASFYIA".into(),
        algorithm: -7,
        sign_count,
        backup_eligible: true,
        backup_state: false,
        transports: "internal,hybrid".into(),
        aaguid: "00".repeat(16),
        attestation: "none".into(),
        name: "ノートPC".into(),
        created_at: NOW,
        last_used_at: None,
        revoked_at: None,
    }
}

/// The actions and outcomes of the log's passkey entries, in order.
async fn passkey_entries(db: &TestDb) -> Vec<(String, Outcome)> {
    verified_log(&*db.store)
        .await
        .into_iter()
        .filter(|e| e.action.starts_with("passkey."))
        .map(|e| (e.action, Outcome::parse(&e.outcome).unwrap()))
        .collect()
}

async fn a_passkey_is_registered_once_and_read_back_as_stored(db: TestDb) {
    let s = &*db.store;
    let a = passkey("cred-a", "pwd:clerk", 0);
    assert!(s.passkey_add(&a, &event("passkey.register", "cred-a"), AT).await.unwrap());
    assert_eq!(s.passkey("cred-a").await.unwrap(), Some(a.clone()), "read back as stored");
    assert!(s.passkey("missing").await.unwrap().is_none());

    // The same credential id again (another person's browser replaying it): refused, the refusal audited.
    let theirs = passkey("cred-a", "pwd:other", 0);
    assert!(!s.passkey_add(&theirs, &event("passkey.register", "cred-a"), AT).await.unwrap());
    assert_eq!(s.passkey("cred-a").await.unwrap().unwrap().person_key, "pwd:clerk", "the first stays");

    let mut b = passkey("cred-b", "pwd:clerk", 5);
    b.created_at = NOW + 1;
    b.backup_eligible = false;
    b.subject_role = None;
    assert!(s.passkey_add(&b, &event("passkey.register", "cred-b"), AT).await.unwrap());
    let listed = db.another_handle().await.passkeys_of("pwd:clerk").await.unwrap();
    assert_eq!(listed, vec![a, b], "oldest first, on another handle too");
    assert!(s.passkeys_of("pwd:other").await.unwrap().is_empty());
    assert_eq!(
        passkey_entries(&db).await,
        [
            ("passkey.register".into(), Outcome::Ok),
            ("passkey.register".into(), Outcome::Denied),
            ("passkey.register".into(), Outcome::Ok)
        ]
    );
}

async fn a_counter_is_accepted_once_and_never_backwards_on_any_replica(db: TestDb) {
    let s = &*db.store;
    let other = db.another_handle().await;
    s.passkey_add(&passkey("c", "pwd:clerk", 3), &event("passkey.register", "c"), AT).await.unwrap();
    let later = UnixTime::from_secs(NOW + 60);
    let used = event("passkey.login", "c");

    // Two replicas verified the same assertion (counter 4): one records it, the other refuses it as a clone.
    let (one, two) =
        tokio::join!(s.passkey_use("c", 4, true, &used, later), other.passkey_use("c", 4, true, &used, later));
    assert_eq!([one.unwrap(), two.unwrap()].iter().filter(|ok| **ok).count(), 1, "one of two wins");
    let now = s.passkey("c").await.unwrap().unwrap();
    assert_eq!((now.sign_count, now.backup_state, now.last_used_at), (4, true, Some(NOW + 60)));
    assert!(now.backup_eligible, "BE is kept from registration: a use never changes it");

    assert!(!s.passkey_use("c", 2, false, &used, later).await.unwrap(), "backwards: a cloned authenticator");
    assert!(s.passkey_use("c", 9, false, &used, later).await.unwrap());
    let now = s.passkey("c").await.unwrap().unwrap();
    assert_eq!((now.sign_count, now.backup_state), (9, false), "BS recorded at each use");
    assert!(!s.passkey_use("unknown", 10, false, &used, later).await.unwrap());

    // An authenticator that keeps no counter (0 stored, 0 presented) signs in every time.
    s.passkey_add(&passkey("z", "pwd:clerk", 0), &event("passkey.register", "z"), AT).await.unwrap();
    assert!(s.passkey_use("z", 0, false, &event("passkey.login", "z"), later).await.unwrap());
    assert!(s.passkey_use("z", 0, false, &event("passkey.login", "z"), later).await.unwrap());

    let outcomes: Vec<Outcome> =
        passkey_entries(&db).await.into_iter().filter(|(a, _)| a == "passkey.login").map(|(_, o)| o).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == Outcome::Denied).count(), 3, "every refusal audited");
    assert_eq!(outcomes.len(), 7);
}

async fn only_the_person_renames_or_revokes_a_live_passkey(db: TestDb) {
    let s = &*db.store;
    s.passkey_add(&passkey("c", "pwd:clerk", 1), &event("passkey.register", "c"), AT).await.unwrap();
    assert!(!s.passkey_rename("pwd:other", "c", "盗った", &event("passkey.rename", "c"), AT).await.unwrap());
    assert!(s.passkey_rename("pwd:clerk", "c", "受付の鍵", &event("passkey.rename", "c"), AT).await.unwrap());
    assert_eq!(s.passkey("c").await.unwrap().unwrap().name, "受付の鍵");

    let later = UnixTime::from_secs(NOW + 30);
    assert!(s.passkey_revoke("pwd:other", "c", &event("passkey.revoke", "c"), later).await.unwrap().is_none());
    let revoked = s.passkey_revoke("pwd:clerk", "c", &event("passkey.revoke", "c"), later).await.unwrap();
    assert_eq!(revoked.map(|(r, ended)| (r.credential_id, r.revoked_at, ended)), Some(("c".into(), Some(NOW + 30), 0)));
    assert_eq!(s.passkey("c").await.unwrap().unwrap().revoked_at, Some(NOW + 30));
    assert!(s.passkey_revoke("pwd:clerk", "c", &event("passkey.revoke", "c"), later).await.unwrap().is_none(), "once");
    assert!(!s.passkey_rename("pwd:clerk", "c", "x", &event("passkey.rename", "c"), later).await.unwrap());
    assert!(!s.passkey_use("c", 2, false, &event("passkey.login", "c"), later).await.unwrap(), "revoked: no sign-in");
    assert_eq!(
        passkey_entries(&db).await,
        [
            ("passkey.register".into(), Outcome::Ok),
            ("passkey.rename".into(), Outcome::Ok),
            ("passkey.revoke".into(), Outcome::Ok),
            ("passkey.login".into(), Outcome::Denied)
        ],
        "refused renames and revocations change nothing and write nothing"
    );
}

async fn revoking_a_passkey_ends_the_sessions_it_opened_and_their_grants(db: TestDb) {
    let s = &*db.store;
    s.passkey_add(&passkey("c", "pwd:clerk", 1), &event("passkey.register", "c"), AT).await.unwrap();
    let mut opened = sso_session("by-passkey", "pwd:clerk", None, NOW + 3600);
    opened.card_id = Some("passkey:c".into());
    let by_password = sso_session("by-password", "pwd:clerk", None, NOW + 3600);
    let mut other_key = sso_session("by-other-passkey", "pwd:clerk", None, NOW + 3600);
    other_key.card_id = Some("passkey:d".into());
    for session in [&opened, &by_password, &other_key] {
        start_session(s, session).await;
    }
    s.oidc_create_grant(&sso_grant("g1", "by-passkey", NOW + 3600)).await.unwrap();
    s.oidc_create_grant(&sso_grant("g2", "by-password", NOW + 3600)).await.unwrap();

    let at = UnixTime::from_secs(NOW + 5);
    let (_, ended) = s.passkey_revoke("pwd:clerk", "c", &event("passkey.revoke", "c"), at).await.unwrap().unwrap();
    assert_eq!(ended, 1, "only the session this passkey opened");
    let live: Vec<String> =
        s.portal_person_sessions("pwd:clerk", at).await.unwrap().into_iter().map(|r| r.id_hash).collect();
    assert_eq!(live.len(), 2);
    assert!(!live.contains(&"by-passkey".to_owned()));
    let grants = |id: &'static str| async move { s.oidc_session_grants(id).await.unwrap() };
    assert!(grants("by-passkey").await.iter().all(|g| g.state == "revoked"), "its grants revoked with it");
    assert!(grants("by-password").await.iter().all(|g| g.state != "revoked"));
    // Left for a server replica's back-channel logout, with the reason the person is shown.
    let claimed = s.portal_claim_ended_sessions(at, 10).await.unwrap();
    let mine = claimed.iter().find(|r| r.id_hash == "by-passkey").expect("claimable for its logout");
    assert_eq!(mine.end_reason.as_deref(), Some("passkey-revoked"));
}
