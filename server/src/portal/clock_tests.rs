//! The portal takes the time from its caller or the process's clock, never the system clock (issue #25, D52):
//! at a time long past, a session lives exactly its lifetime from then, and audit entries carry that time.

use super::cookie::SessionCookies as _;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::Store;
use hcpki_pkix::time::FixedClock;
use hcpki_sso::policy::Subject;
use hcpki_sso::refusals::Refusals;
use hcpki_sso::secret::PortalSecret;
use hcpki_sso::session::{CredentialDetails, NewSession, Sessions};
use std::sync::Arc;

/// 2001-09-09T01:46:40Z: a session started then would long be over by the system clock, so a stray read of it
/// would show.
const AT: i64 = 1_000_000_000;

async fn store() -> Arc<dyn Store> {
    hcpki_ca::store::open("sqlite::memory:").await.unwrap()
}

#[tokio::test]
async fn a_session_lives_its_lifetime_from_the_time_passed_in() {
    let store = store().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = Arc::new(PortalSecret::load_or_create(&dir.path().join("portal.secret")).unwrap());
    let sessions = Sessions::new(store.clone(), secret, 3600, None);
    let login = NewSession {
        subject: Subject::password_totp("受付 三郎", None),
        person_key: "pwd:uketsuke".into(),
        facility: None,
        credential: CredentialDetails { method: "password-totp".into(), ..CredentialDetails::default() },
        auth_time: AT,
        card_not_after: None,
        facility_not_after: None,
    };
    let entry = AuditEvent {
        actor: "portal:pwd:uketsuke".into(),
        action: "portal.login".into(),
        target: "uketsuke".into(),
        outcome: Outcome::Ok,
        detail: serde_json::json!({}),
    };

    let created = sessions.create(login, None, entry, AT * 1000 + 250).await.unwrap();
    assert_eq!(created.session.expires_at, AT + 3600, "the lifetime counts from the time passed in");
    // The cookie outlives the session by the hour its row is kept: the next visit is told the time ran out.
    assert!(created.set_cookie.contains("Max-Age=7200"), "{}", created.set_cookie);
    let id = created.set_cookie.split(';').next().and_then(|c| c.split_once('=')).map(|(_, v)| v.to_owned()).unwrap();
    let live = sessions.of_cookie(Some(&id), AT + 3599).await.unwrap();
    assert_eq!(live.map(|(s, _)| s.id_hash), Some(created.session.id_hash.clone()), "live a second before its end");
    assert!(sessions.of_cookie(Some(&id), AT + 3600).await.unwrap().is_none(), "over at its end");
    assert_eq!(sessions.of_person("pwd:uketsuke", AT + 10).await.unwrap().len(), 1);

    let login = store.audit_entries(0, 10).await.unwrap();
    assert_eq!(login.last().map(|e| (e.action.as_str(), e.at_ms)), Some(("portal.login", AT * 1000 + 250)));

    let ended = sessions.end_because(&created.session.id_hash, "card-removed", AT + 60).await.unwrap();
    assert!(ended.is_some(), "ended while live at the time passed in");
    // The card agent's removal report is the reason the next visit is told (D59).
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(axum::http::header::COOKIE, format!("{}={id}", hcpki_sso::session::COOKIE).parse().unwrap());
    assert_eq!(sessions.ended(&headers, AT + 61).await.unwrap(), Some(hcpki_sso::problem::Problem::EndedCardRemoved));
}

#[tokio::test]
async fn refusals_are_stamped_by_the_injected_clock() {
    let store = store().await;
    let clock = Arc::new(FixedClock::at(AT));
    let refusals = Refusals::start(store.clone(), clock.clone());
    refusals.record("portal:anonymous", "portal.login", "-", serde_json::json!({ "reason": "test" })).await;
    clock.advance(90);
    refusals.record("portal:anonymous", "portal.login", "-", serde_json::json!({ "reason": "test" })).await;

    let stamps: Vec<i64> = store.audit_entries(0, 10).await.unwrap().iter().map(|e| e.at_ms).collect();
    assert_eq!(stamps, [AT * 1000, (AT + 90) * 1000]);
}
