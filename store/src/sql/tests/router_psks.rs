//! Routers' pre-shared keys (issue #50 item 1, D156) on every backend: issued for an approved facility only,
//! rotated with an overlap, viewed only by their facility while working, withdrawn with the facility, the hub
//! export carrying only working keys, and no key or sealed form in any audit detail.

use super::{AT, NOW, TestDb, admin, registered, verified_log};
use crate::StoreError;
use crate::facility::{FacilityId, Transition};
use crate::router_psk::RouterPskRecord;
use hcpki_model::UnixTime;

on_every_backend!(pre_shared_keys_rotate_with_an_overlap_and_are_withdrawn_with_their_facility);

fn key(id: &str, facility: &FacilityId, sealed: &str) -> RouterPskRecord {
    RouterPskRecord {
        key_id: id.into(),
        facility_id: facility.clone(),
        peer: "hub1".into(),
        remote_id: format!("{}.router.example.jp", facility.as_str().to_lowercase()),
        vendor: "yamaha-rtx".into(),
        sealed: sealed.into(),
        created_by: String::new(),
        created_at: 0,
        retires_at: None,
        withdrawn_at: None,
    }
}

async fn pre_shared_keys_rotate_with_an_overlap_and_are_withdrawn_with_their_facility(db: TestDb) {
    let s = db.store.as_ref();
    let a = registered(s, "PSK 病院", None).await;
    let b = registered(s, "PSK 診療所", None).await;
    // Not yet approved: no key.
    let e = s.psk_issue(&key("k0", &a, "SEALED-0"), 3600, &admin(), AT).await.unwrap_err();
    assert!(matches!(e, StoreError::FacilityState { .. }), "{e}");
    for f in [&a, &b] {
        s.transition_facility(f, Transition::Approve, None, &admin(), AT).await.unwrap();
    }
    s.psk_issue(&key("k1", &a, "SEALED-1"), 3600, &admin(), AT).await.unwrap();
    s.psk_issue(&key("kb", &b, "SEALED-B"), 3600, &admin(), AT).await.unwrap();
    let later = UnixTime::from_millis((NOW + 100) * 1000);
    s.psk_issue(&key("k2", &a, "SEALED-2"), 3600, &admin(), later).await.unwrap();
    let listed = s.psk_list(&a).await.unwrap();
    assert_eq!(listed.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>(), ["k2", "k1"]);
    assert_eq!(listed[1].retires_at, Some(NOW + 100 + 3600), "the old key overlaps an hour");
    assert_eq!(listed[0].created_by, "cli:tester");

    // Inside the overlap both reach the hub; after it only the new one, and the old cannot be viewed.
    let ids = |v: Vec<RouterPskRecord>| v.into_iter().map(|k| k.key_id).collect::<Vec<_>>();
    let in_overlap = UnixTime::from_millis((NOW + 200) * 1000);
    assert_eq!(ids(s.psk_hub_export("hub1", &admin(), in_overlap).await.unwrap()).len(), 3);
    let after = UnixTime::from_millis((NOW + 100 + 3600) * 1000);
    let mut working = ids(s.psk_hub_export("hub1", &admin(), after).await.unwrap());
    working.sort();
    assert_eq!(working, ["k2", "kb"]);
    assert!(s.psk_hub_export("hub2", &admin(), after).await.unwrap().is_empty(), "keys are per peer");
    assert!(matches!(s.psk_view(&a, "k1", &admin(), after).await, Err(StoreError::PskUnavailable(_))));
    assert_eq!(s.psk_view(&a, "k2", &admin(), after).await.unwrap().sealed, "SEALED-2");
    // Another facility's administrator cannot view a's key by its id.
    assert!(matches!(s.psk_view(&b, "k2", &admin(), after).await, Err(StoreError::PskUnavailable(_))));

    // Suspending a withdraws its keys in the same transaction: gone from the hub, not viewable, and resuming
    // does not bring them back.
    s.transition_facility(&a, Transition::Suspend, Some("incident"), &admin(), after).await.unwrap();
    assert_eq!(ids(s.psk_hub_export("hub1", &admin(), after).await.unwrap()), ["kb"]);
    assert!(matches!(s.psk_view(&a, "k2", &admin(), after).await, Err(StoreError::PskUnavailable(_))));
    let e = s.psk_issue(&key("k3", &a, "SEALED-3"), 0, &admin(), after).await.unwrap_err();
    assert!(matches!(e, StoreError::FacilityState { .. }), "a suspended facility gets no key: {e}");
    s.transition_facility(&a, Transition::Resume, None, &admin(), after).await.unwrap();
    assert_eq!(ids(s.psk_hub_export("hub1", &admin(), after).await.unwrap()), ["kb"]);

    let log = verified_log(s).await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).filter(|a| a.starts_with("psk.")).collect();
    assert_eq!(
        actions,
        [
            "psk.issue",
            "psk.issue",
            "psk.rotate",
            "psk.hub_export",
            "psk.hub_export",
            "psk.hub_export",
            "psk.view",
            "psk.withdraw",
            "psk.hub_export",
            "psk.hub_export"
        ]
    );
    for e in &log {
        let detail = e.detail.to_string();
        assert!(!detail.contains("SEALED"), "no sealed key in the audit log: {detail}");
    }
}
