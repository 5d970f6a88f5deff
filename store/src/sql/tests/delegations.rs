//! Delegations (issue #29 item 4, D95) on every backend: listed while live, ended once by their physician only,
//! ending revokes the grants of the sessions that acted under it, a session acts under one delegation at a time.

use super::{AT, NOW, TestDb, verified_log};
use crate::GrantRecord;
use crate::audit::{AuditEvent, Outcome};
use crate::delegation::DelegationRecord;
use hcpki_model::UnixTime;

on_every_backend!(delegations_are_listed_while_live_and_ending_one_revokes_what_was_acted_under_it);

fn event(action: &str, target: &str) -> AuditEvent {
    AuditEvent {
        actor: "portal:hpki:dr".into(),
        action: action.into(),
        target: target.into(),
        outcome: Outcome::Ok,
        detail: serde_json::json!({ "delegate": "pwd:clerk" }),
    }
}

fn delegation(id: &str, expires_at: i64) -> DelegationRecord {
    DelegationRecord {
        id: id.parse().unwrap(),
        facility_id: "HF00000001X".into(),
        physician_key: "hpki:dr".into(),
        physician_name: "Dr Test".into(),
        physician_role: "medical-doctor".into(),
        delegate_username: "clerk".into(),
        delegate_name: "Clerk".into(),
        services: vec!["emr".into(), "wiki".into()],
        created_at: NOW,
        expires_at,
        ended_at: None,
        ended_by: None,
    }
}

fn grant(id: &str, session: &str) -> GrantRecord {
    GrantRecord {
        id: id.into(),
        client_id: "emr".into(),
        session_hash: session.into(),
        data: "{}".into(),
        code_hash: None,
        refresh_hash: Some(format!("r{id}")),
        state: "active".into(),
        created_at: NOW,
        expires_at: NOW + 3600,
    }
}

async fn delegations_are_listed_while_live_and_ending_one_revokes_what_was_acted_under_it(db: TestDb) {
    let s = db.store.as_ref();
    s.delegation_create(&delegation("d1", NOW + 3600), &event("delegation.create", "d1"), AT).await.unwrap();
    s.delegation_create(&delegation("d2", NOW + 60), &event("delegation.create", "d2"), AT).await.unwrap();
    let live: Vec<String> = s
        .delegations_by("hpki:dr", UnixTime::from_secs(NOW))
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id.to_string())
        .collect();
    assert_eq!(live.len(), 2);
    // d2 runs out: listed neither for the physician nor for the delegate, but still readable.
    assert_eq!(s.delegations_to("clerk", UnixTime::from_secs(NOW + 60)).await.unwrap().len(), 1);
    assert_eq!(s.delegation(&"d2".parse().unwrap()).await.unwrap().unwrap().services, ["emr", "wiki"]);
    assert!(s.delegations_by("hpki:other", UnixTime::from_secs(NOW)).await.unwrap().is_empty());

    // The clerk's session acts under d2, then under d1: one choice at a time.
    s.delegation_choose("sess1", Some(&"d2".parse().unwrap()), &event("delegation.act", "d2"), AT).await.unwrap();
    s.delegation_choose("sess1", Some(&"d1".parse().unwrap()), &event("delegation.act", "d1"), AT).await.unwrap();
    assert_eq!(s.delegation_acting("sess1").await.unwrap().unwrap().id.as_str(), "d1");
    s.oidc_create_grant(&grant("g1", "sess1")).await.unwrap();
    s.oidc_create_grant(&grant("g2", "sess2")).await.unwrap();

    // Another physician cannot end it; the physician can, once; the acting session's grant is revoked.
    assert!(
        s.delegation_end(&"d1".parse().unwrap(), "hpki:other", &event("delegation.end", "d1"), AT)
            .await
            .unwrap()
            .is_none()
    );
    let (ended, revoked) =
        s.delegation_end(&"d1".parse().unwrap(), "hpki:dr", &event("delegation.end", "d1"), AT).await.unwrap().unwrap();
    assert_eq!((ended.ended_at, ended.ended_by.as_deref(), revoked), (Some(NOW), Some("portal:hpki:dr"), 1));
    assert!(!ended.live_at(NOW));
    assert!(
        s.delegation_end(&"d1".parse().unwrap(), "hpki:dr", &event("delegation.end", "d1"), AT)
            .await
            .unwrap()
            .is_none()
    );
    let grants = s.oidc_session_grants("sess1").await.unwrap();
    assert_eq!(grants[0].state, "revoked");
    assert_eq!(s.oidc_session_grants("sess2").await.unwrap()[0].state, "active");
    // The session still names its (ended) choice, so the sign-in can say why it is refused; stopping clears it.
    assert!(s.delegation_acting("sess1").await.unwrap().is_some());
    s.delegation_choose("sess1", None, &event("delegation.stop", "d1"), AT).await.unwrap();
    assert!(s.delegation_acting("sess1").await.unwrap().is_none());
    let actions: Vec<String> = verified_log(s).await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions.iter().filter(|a| a.starts_with("delegation.")).count(), 6, "{actions:?}");
}
