//! CA key rollovers (issue #47, D145) on every backend: one open rollover per CA, each step only from its state,
//! the switch making the new generation the CA that issues, refusals audited and changing nothing, and the old
//! generation's holders counted by facility.

use super::{AT, NOW, TestDb, admin, intent, registered, sn, verified_log};
use crate::rollover::{RolloverRecord, RolloverRefusal, RolloverState, RolloverStep, RootLinks};
use crate::{AuthorityRecord, StoreError};
use hcpki_model::{CaName, UnixTime};

on_every_backend!(
    a_rollover_steps_once_through_its_states_and_refusals_change_nothing,
    old_generation_holders_are_counted_by_facility
);

fn rollover(generation: u32) -> RolloverRecord {
    RolloverRecord {
        ca: CaName::Router,
        generation,
        state: RolloverState::Published,
        key_uri: format!("file:keys/router-g{generation}.p8"),
        cert_der: vec![0x30, 0x03, 0x02, 0x01, generation as u8],
        old_key_uri: "file:keys/router.p8".into(),
        old_cert_der: vec![0x30, 0x01, 0x00],
        started_at: NOW,
        started_by: "cli:tester".into(),
        switched_at: None,
        ended_at: None,
        ended_by: None,
        compromised: false,
        // A root rollover's link certificates round-trip (D160); the store does not judge which CA has them.
        links: (generation == 2)
            .then(|| RootLinks { new_with_old: vec![0x30, 0x00], old_with_new: vec![0x30, 0x01, 0x05] }),
    }
}

async fn a_rollover_steps_once_through_its_states_and_refusals_change_nothing(db: TestDb) {
    let s = &*db.store;
    let old = AuthorityRecord {
        name: CaName::Router,
        key_uri: "file:keys/router.p8".into(),
        cert_der: vec![0x30, 0x01, 0x00],
        parent: Some(CaName::Root),
        created_at: NOW,
    };
    s.put_authority(&old, &admin(), AT).await.unwrap();
    let refused = |r: Result<RolloverRecord, StoreError>| match r {
        Err(StoreError::Rollover(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    };
    // Nothing to step before a start.
    assert_eq!(
        refused(s.advance_rollover(CaName::Router, RolloverStep::Switch, &admin(), AT).await),
        RolloverRefusal::NotOpen { ca: CaName::Router }
    );
    s.start_rollover(&rollover(2), &admin(), AT).await.unwrap();
    // Started twice: refused, the first one stays.
    let twice = s.start_rollover(&rollover(3), &admin(), AT).await;
    assert!(
        matches!(twice, Err(StoreError::Rollover(RolloverRefusal::AlreadyOpen { generation: 2, .. }))),
        "{twice:?}"
    );
    assert_eq!(s.rollovers().await.unwrap(), vec![rollover(2)]);
    // Retire before the switch: refused.
    let early =
        refused(s.advance_rollover(CaName::Router, RolloverStep::Retire { compromised: false }, &admin(), AT).await);
    assert!(early.to_string().contains("switch first"), "{early}");
    // Another replica switches: the authorities row now holds the new generation.
    let other = db.another_handle().await;
    let switched = other.advance_rollover(CaName::Router, RolloverStep::Switch, &admin(), AT).await.unwrap();
    assert_eq!(switched.state, RolloverState::Switched);
    assert_eq!(switched.switched_at, Some(NOW));
    let now_issuing = s.authorities().await.unwrap();
    assert_eq!(now_issuing[0].key_uri, "file:keys/router-g2.p8");
    assert_eq!(now_issuing[0].cert_der, rollover(2).cert_der);
    // Abort after the switch: refused.
    let late = refused(s.advance_rollover(CaName::Router, RolloverStep::Abort, &admin(), AT).await);
    assert!(late.to_string().contains("cannot be aborted"), "{late}");
    let retired =
        s.advance_rollover(CaName::Router, RolloverStep::Retire { compromised: true }, &admin(), AT).await.unwrap();
    assert_eq!((retired.state, retired.compromised, retired.ended_at), (RolloverState::Retired, true, Some(NOW)));
    // A second rollover may start now, and be aborted before its switch.
    s.start_rollover(&rollover(3), &admin(), AT).await.unwrap();
    let aborted = s.advance_rollover(CaName::Router, RolloverStep::Abort, &admin(), AT).await.unwrap();
    assert_eq!(aborted.state, RolloverState::Aborted);
    assert_eq!(s.authorities().await.unwrap()[0].key_uri, "file:keys/router-g2.p8");
    let all = s.rollovers().await.unwrap();
    assert_eq!(
        all.iter().map(|r| (r.generation, r.state)).collect::<Vec<_>>(),
        [(2, RolloverState::Retired), (3, RolloverState::Aborted)]
    );
    let log = verified_log(s).await;
    let steps: Vec<_> = log
        .iter()
        .filter(|e| e.action.starts_with("ca.rollover."))
        .map(|e| (e.action.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("ca.rollover.switch", "denied"),
            ("ca.rollover.start", "ok"),
            ("ca.rollover.start", "denied"),
            ("ca.rollover.retire", "denied"),
            ("ca.rollover.switch", "ok"),
            ("ca.rollover.abort", "denied"),
            ("ca.rollover.retire", "ok"),
            ("ca.rollover.start", "ok"),
            ("ca.rollover.abort", "ok"),
        ]
    );
}

async fn old_generation_holders_are_counted_by_facility(db: TestDb) {
    let s = &*db.store;
    let a = registered(s, "Rollover A", None).await;
    let b = registered(s, "Rollover B", None).await;
    for (serial, facility) in [("0a01", &a), ("0a02", &a), ("0b01", &b)] {
        s.record_intent(&intent(serial, Some(facility), "router"), UnixTime::from_secs(NOW)).await.unwrap();
        s.complete_issuance(&sn(serial), b"der", &admin(), UnixTime::from_secs(NOW)).await.unwrap();
    }
    // Issued at NOW; valid until 1_800_000_000 + 397 days (the helper's intent).
    let cut = UnixTime::from_secs(NOW + 1);
    let at = UnixTime::from_secs(NOW);
    let holders = s.old_generation_holders(CaName::Router, cut, at).await.unwrap();
    assert_eq!(holders, vec![(Some(a.as_str().to_owned()), 2), (Some(b.as_str().to_owned()), 1)]);
    // Issued after the cut: the new generation's, not counted.
    let before = UnixTime::from_secs(NOW - 1);
    assert!(s.old_generation_holders(CaName::Router, before, at).await.unwrap().is_empty());
    // Ended: not counted.
    let later = UnixTime::from_secs(1_800_000_000 + 398 * 86_400);
    assert!(s.old_generation_holders(CaName::Router, cut, later).await.unwrap().is_empty());
    assert!(s.old_generation_holders(CaName::Pc, cut, at).await.unwrap().is_empty());
}
