//! One suite, every backend: each test below runs on SQLite (a fresh file in a
//! temporary directory) and, when `HCPKI_TEST_PG_URL` names a PostgreSQL
//! server (`scripts/pg-instance start DIR PORT` prints one), on PostgreSQL in
//! a database of its own.

use crate::audit::{self, AuditEvent, AuditHead, Outcome};
use crate::facility::{FacilityId, FacilityKind, FacilityState, NewFacility, PhoneDigits, Transition};
use crate::prelude::*;
// The crate is the store: `store::open`, `store::SessionRecord` read as they did inside the CA crate.
use crate as store;
use crate::{
    Actor, AuthorityRecord, Backend, CertStatus, CertificateFilter, FacilityChange, FacilityFilter, ImportedCrl,
    IssuanceIntent, LoginThrottle, NewJob, RateCount, RateSync, Registration, Revocation, Store, StoreError,
};
use hcpki_model::{AcmeAccountId, AcmeOrderId, CaName, CertProfile, ProfileKind, SerialHex, UnixTime};
use std::collections::HashSet;
use std::sync::Arc;

/// A store under test, and how to open a second handle on the same database
/// (another process or replica).
struct TestDb {
    url: String,
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hcpki.db").display());
        let store = store::open(&url).await.unwrap();
        assert_eq!(store.backend(), Backend::Sqlite);
        Self { url, store, _dir: Some(dir) }
    }

    async fn postgres() -> Option<Self> {
        let admin = std::env::var("HCPKI_TEST_PG_URL").ok()?;
        let url = store::create_scratch_database(&admin, "t").await.unwrap();
        let store = store::open(&url).await.unwrap();
        assert_eq!(store.backend(), Backend::Postgres);
        Some(Self { url, store, _dir: None })
    }

    async fn another_handle(&self) -> Arc<dyn Store> {
        store::open(&self.url).await.unwrap()
    }

    /// Run `sql` directly: a state an earlier version left (e.g. what a migration lists from older rows).
    async fn db_execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
    }

    /// Rows in `table`, for what the `Store` API does not show (rows kept only to be forgotten).
    async fn db_rows(&self, table: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        if self.url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
        }
    }
}

/// Runs each named `async fn(TestDb)` once per backend.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::TestDb::sqlite().await).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    match super::TestDb::postgres().await {
                        Some(db) => super::$name(db).await,
                        None => eprintln!("HCPKI_TEST_PG_URL is not set: PostgreSQL run skipped"),
                    }
                }
            )*
        }
    };
}

on_every_backend!(
    registration_assigns_sequential_ids,
    signing_requests_end_once_and_are_swept_a_day_after_their_deadline,
    listing_filters_facilities,
    devices_are_named_and_renamed_per_facility,
    issuance_halts_and_resumes_after_two_people,
    a_presence_proof_is_used_once_and_not_after_it_expires,
    duplicate_medical_code_leaves_no_trace,
    transitions_follow_the_lifecycle,
    issuance_cycle_activates_the_facility,
    certificate_listing_filters,
    duplicate_serial_and_unknown_references,
    serials_read_back_as_stored_and_a_damaged_one_is_corrupt,
    authorities_are_recorded_once,
    imported_crls_only_move_forward_and_one_of_two_racing_imports_wins,
    audit_chain_verifies_after_many_operations,
    audit_batches_append_each_event_in_order_in_one_chain,
    audit_forwarding_marks_move_forward_only_and_are_shared,
    concurrent_registrations_get_distinct_ids,
    acme_state_is_shared_between_handles,
    operators_are_added_changed_and_disabled_for_good,
    login_challenges_are_taken_once_on_any_replica,
    password_failures_are_counted_across_replicas,
    rate_limit_counts_add_up_across_replicas_and_engage_once,
    expiring_certificates_are_claimed_once_unless_renewed,
    single_use_values_are_stored_once_on_any_replica,
    token_writes_in_one_batch_apply_as_if_one_after_another,
    a_token_write_applies_its_op_only_when_both_single_use_values_are_fresh,
    sso_sessions_end_with_their_account_or_facility_and_are_swept,
    services_are_kept_with_a_change_generation,
    card_presence_leases_are_renewed_and_lapse,
    a_lent_session_keeps_its_lease_and_ends_when_the_lend_runs_out,
    a_person_lists_and_ends_only_their_own_sessions,
    console_grants_are_replaced_removed_and_audited,
    earlier_person_keys_are_claimed_once_with_their_grant,
    allocations_never_overlap_across_handles_and_registrations,
    transitions_in_one_batch_apply_as_if_one_after_another,
    an_import_batch_with_approval_registers_and_approves_in_one_transaction,
    a_cas_crl_rows_follow_revocations_holds_releases_and_expiry,
    revocations_in_one_batch_apply_as_if_one_after_another,
    a_session_and_its_login_entry_are_written_together_or_not_at_all,
    idle_caches_are_released_and_the_store_goes_on,
    stored_times_are_the_times_passed_in,
    every_stored_profile_reads_back_and_an_unknown_one_is_corrupt,
);

// ---- helpers ----

/// The time every test runs at (Unix seconds): the store reads no clock, so a test passes its own, fixed.
const NOW: i64 = 1_795_000_000;
/// [`NOW`] and 123 ms, the time of audited writes.
const AT: UnixTime = UnixTime::from_millis(NOW * 1000 + 123);

/// A valid 医療機関コード: Tokyo (13), 医科 (1), number `n`, Luhn check digit.
fn code(n: u32) -> String {
    let body = format!("131{:06}", n % 1_000_000);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            let v = if i % 2 == 0 { d * 2 } else { d };
            v / 10 + v % 10
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn clinic(name: &str, medical_code: Option<&str>) -> NewFacility {
    NewFacility::new(name, FacilityKind::Clinic, medical_code, Some("東京都千代田区1-1"), Some("03-0000-0000")).unwrap()
}

/// A stored serial from its text (test data is always well-formed).
fn sn(text: &str) -> SerialHex {
    SerialHex::from_stored(text).unwrap()
}

fn admin() -> Actor {
    Actor::cli("tester")
}

fn intent(serial: &str, facility: Option<&FacilityId>, profile: &str) -> IssuanceIntent {
    IssuanceIntent {
        serial: sn(serial),
        ca: CaName::Router,
        profile: CertProfile::from_stored(profile).unwrap(),
        facility: facility.cloned(),
        subject: format!("CN={serial},O=hcpki,C=JP"),
        sans: vec![format!("DNS:{serial}.example.jp"), "IP:192.0.2.1".into()],
        not_before: 1_800_000_000,
        not_after: 1_800_000_000 + 397 * 86_400,
        tbs_sha256: "aa".repeat(32),
        spki_sha256: "bb".repeat(32),
        requested_by: "cli:tester".into(),
        crl_shard: None,
        replaces: None,
        generation: 1,
    }
}

/// Reads the whole log page by page, checks it, and returns it.
async fn verified_log(store: &dyn Store) -> Vec<audit::AuditEntry> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map(|e: &audit::AuditEntry| e.seq).unwrap_or(0);
        let page = store.audit_entries(after, 37).await.unwrap();
        if page.is_empty() {
            break;
        }
        all.extend(page);
    }
    let head = store.audit_head().await.unwrap();
    audit::verify_chain(&all, &head).unwrap();
    all
}

/// Action, target and actor of every audit entry after `head`, the whole chain verified.
async fn audited_since(store: &dyn Store, head: &AuditHead) -> Vec<[String; 3]> {
    verified_log(store).await.into_iter().filter(|e| e.seq > head.seq).map(|e| [e.action, e.target, e.actor]).collect()
}

async fn registered(store: &dyn Store, name: &str, medical_code: Option<&str>) -> FacilityId {
    store.register_facility(&clinic(name, medical_code), &admin(), AT).await.unwrap().id
}

// ---- tests ----

async fn registration_assigns_sequential_ids(db: TestDb) {
    let s = &*db.store;
    assert_eq!(s.audit_head().await.unwrap(), AuditHead { seq: 0, hash: audit::GENESIS_HASH.into() });
    let mut ids = Vec::new();
    for (i, c) in [Some("0110113719"), None, Some(code(7).as_str())].into_iter().enumerate() {
        let f = s.register_facility(&clinic(&format!("クリニック{i}"), c), &admin(), AT).await.unwrap();
        assert_eq!(f.id, FacilityId::from_number(i as u64 + 1).unwrap());
        assert_eq!(FacilityId::parse(f.id.as_str()).unwrap(), f.id);
        assert_eq!(f.state, FacilityState::Applied);
        assert_eq!(f.medical_code.as_ref().map(|m| m.as_str()), c);
        assert_eq!(s.facility(&f.id).await.unwrap().as_ref(), Some(&f), "read back equals returned");
        ids.push(f.id);
    }
    let log = verified_log(s).await;
    assert_eq!(log.len(), 3);
    for (e, id) in log.iter().zip(&ids) {
        assert_eq!(
            (e.action.as_str(), e.target.as_str(), e.outcome.as_str()),
            ("facility.register", id.as_str(), "ok")
        );
        assert_eq!(e.actor, "cli:tester");
    }
    let detail: serde_json::Value = serde_json::from_str(&log[0].detail).unwrap();
    assert_eq!(detail, serde_json::json!({"name": "クリニック0", "kind": "clinic", "medical_code": "0110113719"}));
    assert!(s.facility(&FacilityId::from_number(4).unwrap()).await.unwrap().is_none());
}

async fn listing_filters_facilities(db: TestDb) {
    let s = &*db.store;
    let a = registered(s, "Tokyo Clinic", None).await;
    let b = registered(s, "東京病院 100%", None).await;
    let c = s
        .register_facility(&NewFacility::new("Care Home", FacilityKind::Care, None, None, None).unwrap(), &admin(), AT)
        .await
        .unwrap()
        .id;
    s.transition_facility(&b, Transition::Approve, None, &admin(), AT).await.unwrap();
    let ids = |v: Vec<crate::facility::Facility>| v.into_iter().map(|f| f.id).collect::<Vec<_>>();
    let list = |f: FacilityFilter| async move { ids(s.list_facilities(&f).await.unwrap()) };

    assert_eq!(list(FacilityFilter::default()).await, vec![a.clone(), b.clone(), c.clone()]);
    assert_eq!(
        list(FacilityFilter { state: Some(FacilityState::Approved), ..Default::default() }).await,
        vec![b.clone()]
    );
    assert_eq!(list(FacilityFilter { kind: Some(FacilityKind::Care), ..Default::default() }).await, vec![c.clone()]);
    let named = |n: &str| FacilityFilter { name_contains: Some(n.into()), ..Default::default() };
    assert_eq!(list(named("tokyo")).await, vec![a.clone()], "ASCII case-insensitive");
    assert_eq!(list(named("東京")).await, vec![b.clone()]);
    assert_eq!(list(named("100%")).await, vec![b.clone()]);
    assert_eq!(list(named("%")).await, vec![b.clone()], "% is literal");
    assert_eq!(list(named("_")).await, Vec::<FacilityId>::new(), "_ is literal");
    assert_eq!(list(FacilityFilter { limit: Some(2), ..Default::default() }).await, vec![a.clone(), b.clone()]);
    assert_eq!(list(FacilityFilter { after: Some(b.clone()), ..Default::default() }).await, vec![c.clone()]);
    assert_eq!(list(FacilityFilter { limit: Some(-5), ..Default::default() }).await, Vec::<FacilityId>::new());

    // By telephone number (issue #45 item 3): the contacts as applicants type them, searched as callers say them.
    let mut with_contact = Vec::new();
    for contact in ["受付 ０３（１２３４）５６７８", "+81-6-6123-4567 (代表)", "045ー222ー3333", "info@example.jp"]
    {
        let new = NewFacility::new("連絡先あり", FacilityKind::Clinic, None, None, Some(contact)).unwrap();
        with_contact.push(s.register_facility(&new, &admin(), AT).await.unwrap().id);
    }
    let phone = |n: &str| FacilityFilter { phone: Some(PhoneDigits::parse(n).unwrap()), ..Default::default() };
    for (said, found) in [
        ("03-1234-5678", 0),
        ("0312345678", 0),
        ("+81 3 1234 5678", 0),
        ("１２３４－５６７８", 0),
        ("06-6123-4567", 1),
        ("+81 6 6123 4567", 1),
        ("045 222 3333", 2),
        ("2223333", 2),
    ] {
        assert_eq!(list(phone(said)).await, vec![with_contact[found].clone()], "{said}");
    }
    assert_eq!(list(phone("0120-000-000")).await, Vec::<FacilityId>::new());
    assert_eq!(
        list(FacilityFilter {
            phone: Some(PhoneDigits::parse("5678").unwrap()),
            name_contains: Some("東京".into()),
            ..Default::default()
        })
        .await,
        Vec::<FacilityId>::new(),
        "the filters combine"
    );
}

/// Patient-presence proofs (D148): spent once across replicas, never after expiry; every use audited, a refused
/// one as denied.
async fn a_presence_proof_is_used_once_and_not_after_it_expires(db: TestDb) {
    let s = &*db.store;
    let other = db.another_handle().await;
    let record = |jti: &str, expires_at: i64| store::PresenceRecord {
        jti: jti.into(),
        service: "emr".into(),
        facility_id: "1310000001".into(),
        patient_ref: "ref".into(),
        issued_at: NOW,
        expires_at,
        used_at: None,
        used_by: None,
    };
    let event = |action: &str| AuditEvent {
        actor: "oidc:emr-web".into(),
        action: action.into(),
        target: "j1".into(),
        outcome: Outcome::Ok,
        detail: serde_json::json!({}),
    };
    s.presence_issue(&record("j1", NOW + 300), &event("presence.issue"), AT).await.unwrap();
    s.presence_issue(&record("j2", NOW - 1), &event("presence.issue"), AT).await.unwrap();
    assert_eq!(other.presence("j1").await.unwrap(), Some(record("j1", NOW + 300)), "another replica reads it");
    assert!(s.presence_use("j1", "emr-web", &event("presence.use"), AT).await.unwrap());
    assert!(!other.presence_use("j1", "emr-web", &event("presence.use"), AT).await.unwrap(), "once only");
    assert!(!s.presence_use("j2", "emr-web", &event("presence.use"), AT).await.unwrap(), "expired");
    assert!(!s.presence_use("nope", "emr-web", &event("presence.use"), AT).await.unwrap(), "unknown");
    let used = s.presence("j1").await.unwrap().unwrap();
    assert_eq!((used.used_at, used.used_by.as_deref()), (Some(NOW), Some("emr-web")));
    let entries = s.audit_entries(0, 1000).await.unwrap();
    let uses: Vec<_> = entries.iter().filter(|e| e.action == "presence.use").map(|e| e.outcome.as_str()).collect();
    assert_eq!(uses, ["ok", "denied", "denied", "denied"]);
}

/// The issuance stop switch (D135): a halt seen through another handle (replica), a second halt refused, one
/// person approving twice recorded once, two people resuming; every refusal audited as denied.
async fn issuance_halts_and_resumes_after_two_people(db: TestDb) {
    use crate::halt::{ApprovalOutcome, Approver, HaltReason, HaltRefusal};
    let s = &*db.store;
    let other = db.another_handle().await;
    let ttl = std::time::Duration::from_secs(3600);
    let who = |a: &str| Approver::named(&Actor(a.into())).unwrap();
    assert_eq!(other.issuance_halt().await.unwrap(), None);
    let halt = s.halt_issuance(&HaltReason::parse("鍵の調査中").unwrap(), &admin(), AT).await.unwrap();
    assert_eq!(other.issuance_halt().await.unwrap().map(|h| h.id), Some(halt.id), "another replica sees it");
    let again = s.halt_issuance(&HaltReason::parse("again").unwrap(), &admin(), AT).await;
    assert!(matches!(again, Err(StoreError::Halt(HaltRefusal::AlreadyHalted { .. }))), "{again:?}");
    let first = s.approve_resume(&who("operator:alice"), ttl, AT).await.unwrap();
    assert!(matches!(first, ApprovalOutcome::Recorded { still_needed: 1, .. }), "{first:?}");
    let twice = other.approve_resume(&who("operator:alice"), ttl, AT).await;
    assert!(matches!(twice, Err(StoreError::Halt(HaltRefusal::SameApprover(_)))), "{twice:?}");
    assert!(s.issuance_halt().await.unwrap().is_some(), "one person twice does not resume");
    let resumed = other.approve_resume(&who("cli:bob"), ttl, AT).await.unwrap();
    assert!(matches!(resumed, ApprovalOutcome::Resumed { .. }), "{resumed:?}");
    assert_eq!(s.issuance_halt().await.unwrap(), None);
    let nothing = s.approve_resume(&who("cli:carol"), ttl, AT).await;
    assert!(matches!(nothing, Err(StoreError::Halt(HaltRefusal::NotHalted))), "{nothing:?}");
    let log = verified_log(s).await;
    let kinds: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e.action.starts_with("ca.issuance."))
        .map(|e| (e.action.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("ca.issuance.halt", "ok"),
            ("ca.issuance.halt", "denied"),
            ("ca.issuance.resume.approve", "ok"),
            ("ca.issuance.resume.approve", "denied"),
            ("ca.issuance.resume.approve", "ok"),
            ("ca.issuance.resume", "ok"),
            ("ca.issuance.resume.approve", "denied"),
        ]
    );
    // The next halt is a new one: the old approvals do not carry over.
    let next = s.halt_issuance(&HaltReason::parse("second").unwrap(), &admin(), AT).await.unwrap();
    assert_eq!((next.id, next.approvals.len()), (halt.id + 1, 0));
}

/// A device's display name (D134): stored per facility and device ID, renamed in place, each change audited with
/// the name it replaces; another facility's device of the same ID is another device.
async fn devices_are_named_and_renamed_per_facility(db: TestDb) {
    let s = &*db.store;
    let (a, b) = (registered(s, "A", None).await, registered(s, "B", None).await);
    let name = |n: &str| crate::facility::DeviceName::parse(n).unwrap();
    assert!(s.device_names(&a).await.unwrap().is_empty());
    s.name_device(&a, "pc-0a1b2c3d", &name("受付PC"), &admin(), AT).await.unwrap();
    s.name_device(&a, "pc-9f8e7d6c", &name("診察室1"), &admin(), AT).await.unwrap();
    s.name_device(&b, "pc-0a1b2c3d", &name("薬局カウンター"), &admin(), AT).await.unwrap();
    s.name_device(&a, "pc-0a1b2c3d", &name("受付PC(2階)"), &Actor::system(), AT).await.unwrap();
    let shown = |v: Vec<crate::facility::NamedDevice>| {
        v.into_iter().map(|d| (d.device, d.name.to_string(), d.named_by)).collect::<Vec<_>>()
    };
    assert_eq!(
        shown(s.device_names(&a).await.unwrap()),
        [
            ("pc-0a1b2c3d".to_owned(), "受付PC(2階)".to_owned(), "system".to_owned()),
            ("pc-9f8e7d6c".into(), "診察室1".into(), "cli:tester".into())
        ]
    );
    assert_eq!(shown(s.device_names(&b).await.unwrap())[0].1, "薬局カウンター");
    let log = verified_log(s).await;
    let renamed = log.iter().rfind(|e| e.action == "facility.device.name").unwrap();
    assert_eq!((renamed.target.as_str(), renamed.actor.as_str()), (a.as_str(), "system"));
    let detail: serde_json::Value = serde_json::from_str(&renamed.detail).unwrap();
    assert_eq!(detail, serde_json::json!({"device": "pc-0a1b2c3d", "name": "受付PC(2階)", "previous": "受付PC"}));
}

async fn duplicate_medical_code_leaves_no_trace(db: TestDb) {
    let s = &*db.store;
    let first = registered(s, "First", Some("0110113719")).await;
    let head = s.audit_head().await.unwrap();
    let err = s.register_facility(&clinic("Second", Some("0110113719")), &admin(), AT).await.unwrap_err();
    match err {
        StoreError::DuplicateMedicalCode { code, existing } => {
            assert_eq!(code, "0110113719");
            assert_eq!(existing, first.as_str());
        }
        other => panic!("expected DuplicateMedicalCode, got {other:?}"),
    }
    assert_eq!(s.audit_head().await.unwrap(), head, "no audit entry");
    assert_eq!(s.list_facilities(&FacilityFilter::default()).await.unwrap().len(), 1, "no row");
    // The refused registration did not consume a number either.
    let next = registered(s, "Third", Some(&code(1))).await;
    assert_eq!(next.number(), 2);
    assert_eq!(verified_log(s).await.len(), 2);
}

async fn transitions_follow_the_lifecycle(db: TestDb) {
    let s = &*db.store;
    let id = registered(s, "Lifecycle", None).await;
    let approved = s.transition_facility(&id, Transition::Approve, Some("書類確認済み"), &admin(), AT).await.unwrap();
    assert_eq!(approved.state, FacilityState::Approved);
    assert_eq!(approved.state_reason.as_deref(), Some("書類確認済み"));
    assert_eq!(s.facility(&id).await.unwrap(), Some(approved.clone()));

    let head = s.audit_head().await.unwrap();
    let refused = s.transition_facility(&id, Transition::Approve, None, &admin(), AT).await.unwrap_err();
    assert!(matches!(refused, StoreError::Transition(ref e) if e.from == FacilityState::Approved), "{refused:?}");
    assert_eq!(s.audit_head().await.unwrap(), head, "a refused transition writes nothing");
    assert_eq!(s.facility(&id).await.unwrap(), Some(approved));

    // A rejection is stored as rejected (D132), read back as such, listed under it, and final.
    let turned_down = registered(s, "Turned down", None).await;
    let rejected =
        s.transition_facility(&turned_down, Transition::Reject, Some("書類不備"), &admin(), AT).await.unwrap();
    assert_eq!(rejected.state, FacilityState::Rejected);
    assert_eq!(s.facility(&turned_down).await.unwrap().map(|f| f.state), Some(FacilityState::Rejected));
    let listed = s
        .list_facilities(&FacilityFilter { state: Some(FacilityState::Rejected), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(listed.into_iter().map(|f| f.id).collect::<Vec<_>>(), vec![turned_down.clone()]);
    for t in [Transition::Approve, Transition::Retire, Transition::Resume, Transition::Reject] {
        assert!(
            matches!(
                s.transition_facility(&turned_down, t, Some("x"), &admin(), AT).await,
                Err(StoreError::Transition(ref e)) if e.from == FacilityState::Rejected
            ),
            "{t:?}"
        );
    }

    let steps = [
        (Transition::Suspend, FacilityState::Suspended),
        (Transition::Resume, FacilityState::Active),
        (Transition::Retire, FacilityState::Retired),
    ];
    for (t, expect) in steps {
        let f = s.transition_facility(&id, t, Some("reason"), &Actor::system(), AT).await.unwrap();
        assert_eq!(f.state, expect);
        assert_eq!(f.state_changed_by, "system");
    }
    assert!(matches!(
        s.transition_facility(&id, Transition::Resume, None, &admin(), AT).await,
        Err(StoreError::Transition(_))
    ));
    let ghost = FacilityId::from_number(999).unwrap();
    assert!(matches!(
        s.transition_facility(&ghost, Transition::Approve, None, &admin(), AT).await,
        Err(StoreError::UnknownFacility(g)) if g == ghost
    ));

    let log = verified_log(s).await;
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "facility.register",
            "facility.approve",
            "facility.register",
            "facility.reject",
            "facility.suspend",
            "facility.resume",
            "facility.retire"
        ]
    );
    let detail: serde_json::Value = serde_json::from_str(&log[1].detail).unwrap();
    assert_eq!(detail, serde_json::json!({"from": "applied", "to": "approved", "reason": "書類確認済み"}));
    let detail: serde_json::Value = serde_json::from_str(&log[3].detail).unwrap();
    assert_eq!(detail, serde_json::json!({"from": "applied", "to": "rejected", "reason": "書類不備"}));
}

async fn issuance_cycle_activates_the_facility(db: TestDb) {
    let s = &*db.store;
    let id = registered(s, "Issuing", None).await;
    s.transition_facility(&id, Transition::Approve, None, &admin(), AT).await.unwrap();
    let before = s.audit_head().await.unwrap();

    let first = intent("01ab", Some(&id), "router");
    s.record_intent(&first, UnixTime::from_secs(NOW)).await.unwrap();
    assert_eq!(s.audit_head().await.unwrap(), before, "an intent is not audited");
    let reserved = s.certificate(&sn("01ab")).await.unwrap().unwrap();
    assert_eq!((reserved.status, reserved.der.as_ref(), reserved.issued_at), (CertStatus::Reserved, None, None));
    assert_eq!(reserved.sans, first.sans);
    assert_eq!(reserved.facility.as_ref(), Some(&id));

    let issued = s.complete_issuance(&sn("01ab"), b"\x30\x03\x02\x01\x01", &admin(), AT).await.unwrap();
    assert_eq!(issued.status, CertStatus::Issued);
    assert_eq!(issued.der.as_deref(), Some(&b"\x30\x03\x02\x01\x01"[..]));
    assert!(issued.issued_at.is_some());
    assert_eq!(s.certificate(&sn("01ab")).await.unwrap(), Some(issued.clone()));
    assert_eq!(s.facility(&id).await.unwrap().unwrap().state, FacilityState::Active);

    let log = verified_log(s).await;
    let tail: Vec<_> = log.iter().skip(before.seq as usize).map(|e| (e.action.as_str(), e.target.as_str())).collect();
    assert_eq!(tail, [("cert.issue", "01ab"), ("facility.activate", id.as_str())]);
    let detail: serde_json::Value = serde_json::from_str(&log[before.seq as usize].detail).unwrap();
    assert_eq!(detail["facility"], id.as_str());
    assert_eq!(detail["sans"], serde_json::json!(first.sans));
    assert_eq!(detail["not_after"], first.not_after);

    // A second certificate: the facility is already active, so one entry only.
    s.record_intent(&intent("02cd", Some(&id), "pc"), UnixTime::from_secs(NOW)).await.unwrap();
    s.complete_issuance(&sn("02cd"), b"\x30\x00", &admin(), AT).await.unwrap();
    assert_eq!(verified_log(s).await.len(), log.len() + 1);

    // Completing twice, or an unknown serial, is refused without trace.
    let head = s.audit_head().await.unwrap();
    assert!(matches!(s.complete_issuance(&sn("01ab"), b"x", &admin(), AT).await, Err(StoreError::UnknownSerial(_))));
    assert!(matches!(s.complete_issuance(&sn("ffff"), b"x", &admin(), AT).await, Err(StoreError::UnknownSerial(_))));
    assert!(matches!(s.fail_issuance(&sn("01ab"), "late", &admin(), AT).await, Err(StoreError::UnknownSerial(_))));
    assert_eq!(s.audit_head().await.unwrap(), head);

    // A failed signing burns the serial.
    s.record_intent(&intent("03ef", Some(&id), "pc"), UnixTime::from_secs(NOW)).await.unwrap();
    s.fail_issuance(&sn("03ef"), "HSM unreachable", &admin(), AT).await.unwrap();
    assert_eq!(s.certificate(&sn("03ef")).await.unwrap().unwrap().status, CertStatus::Failed);
    let last = verified_log(s).await.pop().unwrap();
    assert_eq!((last.action.as_str(), last.outcome.as_str(), last.target.as_str()), ("cert.issue", "failed", "03ef"));
    assert!(last.detail.contains("HSM unreachable"));
    assert!(matches!(s.complete_issuance(&sn("03ef"), b"x", &admin(), AT).await, Err(StoreError::UnknownSerial(_))));
}

async fn certificate_listing_filters(db: TestDb) {
    let s = &*db.store;
    let a = registered(s, "A", None).await;
    let b = registered(s, "B", None).await;
    for (serial, f, profile) in
        [("0a", Some(&a), "router"), ("0b", Some(&a), "pc"), ("0c", Some(&b), "pc"), ("0d", None, "server")]
    {
        s.record_intent(&intent(serial, f, profile), UnixTime::from_secs(NOW)).await.unwrap();
    }
    s.transition_facility(&a, Transition::Approve, None, &admin(), AT).await.unwrap();
    s.complete_issuance(&sn("0a"), b"der", &admin(), AT).await.unwrap();
    s.fail_issuance(&sn("0c"), "test", &admin(), AT).await.unwrap();

    let serials = |f: CertificateFilter| async move {
        let mut v: Vec<String> =
            s.list_certificates(&f).await.unwrap().into_iter().map(|c| c.serial.into_string()).collect();
        v.sort();
        v
    };
    assert_eq!(serials(CertificateFilter::default()).await, ["0a", "0b", "0c", "0d"]);
    assert_eq!(serials(CertificateFilter { facility: Some(a.clone()), ..Default::default() }).await, ["0a", "0b"]);
    assert_eq!(
        serials(CertificateFilter { profile: Some(ProfileKind::Pc.into()), ..Default::default() }).await,
        ["0b", "0c"]
    );
    let by_status = |st| CertificateFilter { status: Some(st), ..Default::default() };
    assert_eq!(serials(by_status(CertStatus::Issued)).await, ["0a"]);
    assert_eq!(serials(by_status(CertStatus::Reserved)).await, ["0b", "0d"]);
    assert_eq!(serials(by_status(CertStatus::Failed)).await, ["0c"]);
    let both =
        CertificateFilter { facility: Some(a.clone()), status: Some(CertStatus::Reserved), ..Default::default() };
    assert_eq!(serials(both).await, ["0b"]);
    assert_eq!(serials(CertificateFilter { limit: Some(3), ..Default::default() }).await.len(), 3);
    // Newest first: all were created within the same second or two, so only check the order is by created_at.
    let all = s.list_certificates(&CertificateFilter::default()).await.unwrap();
    assert!(all.windows(2).all(|w| w[0].created_at >= w[1].created_at));
}

/// Each profile a certificate row can hold (the end-entity profiles, `ca-<name>`) is written as its stored text
/// and read back as the same value, as are the listing filter and the expiry claim; a text no profile has is
/// `Corrupt`, naming the row, the column and the value.
async fn every_stored_profile_reads_back_and_an_unknown_one_is_corrupt(db: TestDb) {
    let s = &*db.store;
    for (i, profile) in CertProfile::ALL.into_iter().enumerate() {
        let serial = format!("{:02x}", 0x10 + i);
        s.record_intent(&IssuanceIntent { profile, ..intent(&serial, None, "pc") }, UnixTime::from_secs(NOW))
            .await
            .unwrap();
        s.complete_issuance(&sn(&serial), b"der", &admin(), AT).await.unwrap();
        assert_eq!(s.certificate(&sn(&serial)).await.unwrap().unwrap().profile, profile);
        let listed =
            s.list_certificates(&CertificateFilter { profile: Some(profile), ..Default::default() }).await.unwrap();
        assert_eq!(listed.iter().map(|c| (c.serial.as_str(), c.profile)).collect::<Vec<_>>(), [(&*serial, profile)]);
        let claimed = s
            .expiry_claim(
                profile,
                UnixTime::from_secs(NOW),
                UnixTime::from_secs(i64::MAX),
                10,
                UnixTime::from_secs(NOW),
            )
            .await
            .unwrap();
        assert_eq!(claimed.iter().map(|c| (c.serial.as_str(), c.profile)).collect::<Vec<_>>(), [(&*serial, profile)]);
    }
    let text: Vec<(String, String)> = s
        .list_certificates(&CertificateFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.serial.into_string(), serde_json::to_value(c.profile).unwrap().as_str().unwrap().to_owned()))
        .collect();
    assert!(text.iter().any(|(_, p)| p == "scep-ra") && text.iter().any(|(_, p)| p == "ca-root"), "{text:?}");

    db.db_execute("UPDATE certificates SET profile = 'scepra' WHERE serial = '10'").await;
    let err = s.certificate(&sn("10")).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt(why) if why == "certificate 10 profile: unknown value \"scepra\""),
        "{err:?}"
    );
    assert!(matches!(s.list_certificates(&CertificateFilter::default()).await, Err(StoreError::Corrupt(_))));
}

/// Serials are written and read back as their stored text (odd-length hex included), pages of live serials
/// follow the text's order, which is [`SerialHex`]'s; a `serial` column holding no hex reads as corrupt, naming
/// the row, the column and the value.
async fn serials_read_back_as_stored_and_a_damaged_one_is_corrupt(db: TestDb) {
    let s = &*db.store;
    for serial in ["0b", "e2b", "0a"] {
        s.record_intent(&intent(serial, None, "router"), UnixTime::from_secs(NOW)).await.unwrap();
        s.complete_issuance(&sn(serial), b"der", &admin(), AT).await.unwrap();
    }
    let live = s.live_serials(CaName::Router, 1, UnixTime::from_secs(NOW), None, 10).await.unwrap();
    assert_eq!(live, [sn("0a"), sn("0b"), sn("e2b")]);
    assert!(live.windows(2).all(|w| w[0] < w[1]), "SQL order is the type's order");
    assert_eq!(
        s.live_serials(CaName::Router, 1, UnixTime::from_secs(NOW), Some(&sn("0a")), 1).await.unwrap(),
        [sn("0b")]
    );
    assert_eq!(s.certificate(&sn("e2b")).await.unwrap().unwrap().serial.as_str(), "e2b");

    db.db_execute("UPDATE certificates SET serial = 'Q1' WHERE serial = '0b'").await;
    for err in [
        s.list_certificates(&CertificateFilter::default()).await.unwrap_err(),
        s.live_serials(CaName::Router, 1, UnixTime::from_secs(NOW), None, 10).await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, StoreError::Corrupt(why) if why == "certificate serial: unknown value \"Q1\""),
            "{err:?}"
        );
    }
}

async fn duplicate_serial_and_unknown_references(db: TestDb) {
    let s = &*db.store;
    let id = registered(s, "Dup", None).await;
    s.record_intent(&intent("7f", Some(&id), "router"), UnixTime::from_secs(NOW)).await.unwrap();
    let again = intent("7f", None, "server");
    assert!(
        matches!(s.record_intent(&again, UnixTime::from_secs(NOW)).await, Err(StoreError::DuplicateSerial(x)) if x == "7f")
    );
    assert_eq!(s.certificate(&sn("7f")).await.unwrap().unwrap().profile.as_str(), "router", "first intent kept");

    let ghost = FacilityId::from_number(12345).unwrap();
    assert!(matches!(
        s.record_intent(&intent("80", Some(&ghost), "router"), UnixTime::from_secs(NOW)).await,
        Err(StoreError::UnknownFacility(g)) if g == ghost
    ));
    assert!(s.certificate(&sn("80")).await.unwrap().is_none());
    // A text that is no serial finds nothing, as before; the typed methods cannot even be asked (refused where
    // the text is read).
    assert!(s.certificate_by_text("nope").await.unwrap().is_none());
    assert!("nope".parse::<SerialHex>().is_err());
}

/// The offline root's ARLs (issue #9): the newest by number is the one served; an equal or lower number is
/// refused with both numbers and leaves no row and no audit entry; of two handles importing the same number at
/// once exactly one stores it; each import is one `crl.import` entry.
async fn imported_crls_only_move_forward_and_one_of_two_racing_imports_wins(db: TestDb) {
    let s = &*db.store;
    let arl = |number: i64| ImportedCrl {
        ca: CaName::Root,
        number,
        der: vec![0x30, 0x03, 0x02, 0x01, u8::try_from(number).unwrap()],
        this_update: 1_800_000_000,
        next_update: 1_800_000_000 + 365 * 86_400,
        entries: 0,
        sha256: format!("{number:064x}"),
        imported_at: 1_800_000_100,
        imported_by: "cli:test".into(),
    };
    assert!(s.imported_crl(CaName::Root).await.unwrap().is_none());
    s.import_crl(&arl(5), &admin(), AT).await.unwrap();
    let head = s.audit_head().await.unwrap();
    for stale in [5, 4] {
        let refused = s.import_crl(&arl(stale), &admin(), AT).await;
        assert!(
            matches!(&refused, Err(StoreError::CrlNotNewer { number, stored: 5, .. }) if *number == stale),
            "{refused:?}"
        );
    }
    assert_eq!(s.audit_head().await.unwrap(), head, "a refusal writes nothing");
    assert_eq!(s.imported_crl(CaName::Root).await.unwrap(), Some(arl(5)));
    assert!(s.imported_crl(CaName::Router).await.unwrap().is_none(), "per CA");

    let other = db.another_handle().await;
    let (nine, actor) = (arl(9), admin());
    let (a, b) = tokio::join!(s.import_crl(&nine, &actor, AT), other.import_crl(&nine, &actor, AT));
    assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1, "exactly one of {a:?} and {b:?}");
    s.import_crl(&arl(10), &admin(), AT).await.unwrap();
    assert_eq!(other.imported_crl(CaName::Root).await.unwrap(), Some(arl(10)));
    assert_eq!(db.db_rows("imported_crls").await, 3);
    let log = verified_log(s).await;
    let imports: Vec<_> = log.iter().filter(|e| e.action == "crl.import").collect();
    assert_eq!(imports.len(), 3);
    assert!(imports.iter().all(|e| e.target == "root" && e.outcome == "ok"));
    assert!(imports[2].detail.contains("\"crl_number\":10"), "{}", imports[2].detail);
}

async fn authorities_are_recorded_once(db: TestDb) {
    let s = &*db.store;
    let root = AuthorityRecord {
        name: CaName::Root,
        key_uri: "file:/var/lib/hcpki/root.key".into(),
        cert_der: vec![0x30, 0x01, 0x00],
        parent: None,
        created_at: 1_800_000_000,
    };
    let router = AuthorityRecord {
        name: CaName::Router,
        key_uri: "pkcs11:token=hcpki;object=router".into(),
        cert_der: vec![0x30, 0x02, 0x01, 0x02],
        parent: Some(CaName::Root),
        created_at: 1_800_000_001,
    };
    s.put_authority(&root, &admin(), AT).await.unwrap();
    s.put_authority(&router, &admin(), AT).await.unwrap();
    let head = s.audit_head().await.unwrap();
    let replaced = AuthorityRecord { key_uri: "file:/tmp/evil.key".into(), ..root.clone() };
    assert!(
        matches!(s.put_authority(&replaced, &admin(), AT).await, Err(StoreError::DuplicateAuthority(n)) if n == CaName::Root)
    );
    assert_eq!(s.audit_head().await.unwrap(), head);
    assert_eq!(s.authorities().await.unwrap(), vec![root, router]);
    let log = verified_log(s).await;
    assert_eq!(
        log.iter().map(|e| (e.action.as_str(), e.target.as_str())).collect::<Vec<_>>(),
        [("ca.create", "root"), ("ca.create", "router")]
    );
    assert!(log[1].detail.contains("pkcs11:token=hcpki;object=router"));
}

async fn audit_chain_verifies_after_many_operations(db: TestDb) {
    let s = &*db.store;
    let mut expected = 0;
    for i in 0..12u32 {
        let id = registered(s, &format!("Chain {i}"), Some(&code(100 + i))).await;
        s.transition_facility(&id, Transition::Approve, None, &admin(), AT).await.unwrap();
        let serial = format!("{:04x}", 0x100 + i);
        s.record_intent(&intent(&serial, Some(&id), "router"), UnixTime::from_secs(NOW)).await.unwrap();
        if i % 3 == 0 {
            s.fail_issuance(&sn(&serial), "test", &admin(), AT).await.unwrap();
            expected += 3;
        } else {
            s.complete_issuance(&sn(&serial), b"der", &admin(), AT).await.unwrap();
            expected += 4;
        }
        let refusal = AuditEvent {
            actor: "operator:CN=someone".into(),
            action: "enroll.refuse".into(),
            target: id.to_string(),
            outcome: Outcome::Denied,
            detail: serde_json::json!({"why": "テスト", "n": i}),
        };
        let entry = s.append_audit(&refusal, AT).await.unwrap();
        expected += 1;
        assert_eq!(entry.seq, expected);
        assert_eq!(s.audit_entries(expected - 1, 10).await.unwrap(), vec![entry.clone()]);
        assert_eq!(s.audit_head().await.unwrap(), AuditHead { seq: entry.seq, hash: entry.hash.clone() });
    }
    let log = verified_log(s).await;
    assert_eq!(log.len() as i64, expected);
    assert_eq!(s.audit_entries(0, 1000).await.unwrap(), log, "paged and whole reads agree");
    assert_eq!(s.audit_entries(expected, 10).await.unwrap(), vec![]);
    assert_eq!(s.audit_entries(0, 0).await.unwrap(), vec![]);
    // A second handle (another process) sees the same chain.
    let other = db.another_handle().await;
    assert_eq!(verified_log(&*other).await, log);
}

async fn audit_batches_append_each_event_in_order_in_one_chain(db: TestDb) {
    let s = &*db.store;
    registered(s, "Before the batch", Some(&code(7))).await;
    let head = s.audit_head().await.unwrap();
    assert_eq!(s.append_audits(&[], AT).await.unwrap(), vec![], "an empty batch");
    assert_eq!(s.audit_head().await.unwrap(), head, "an empty batch writes nothing");
    let refusal = |n: i64| AuditEvent {
        actor: "oidc:anonymous".into(),
        action: "oidc.client.authenticate".into(),
        target: format!("client-{n}"),
        outcome: Outcome::Denied,
        detail: serde_json::json!({ "reason": "テスト", "n": n }),
    };
    let events: Vec<AuditEvent> = (1..=3).map(refusal).collect();
    let entries = s.append_audits(&events, AT).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [head.seq + 1, head.seq + 2, head.seq + 3]);
    assert_eq!(entries.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(), ["client-1", "client-2", "client-3"]);
    assert_eq!(entries.iter().map(|e| e.prev_hash.as_str()).next(), Some(head.hash.as_str()), "linked to the head");
    let last = entries.last().unwrap();
    assert_eq!(s.audit_head().await.unwrap(), AuditHead { seq: last.seq, hash: last.hash.clone() });
    assert_eq!(s.audit_entries(head.seq, 10).await.unwrap(), entries, "as stored");
    verified_log(s).await;
}

/// The ATNA forwarder's mark (D98): none at first, then what was set; a smaller mark (a replica behind) changes
/// nothing; another handle (a restarted server) reads it; destinations are apart; nothing is audited.
async fn audit_forwarding_marks_move_forward_only_and_are_shared(db: TestDb) {
    let s = &*db.store;
    let head = s.audit_head().await.unwrap();
    assert_eq!(s.audit_forwarded("atna").await.unwrap(), None);
    s.set_audit_forwarded("atna", 5, UnixTime::from_secs(NOW)).await.unwrap();
    assert_eq!(s.audit_forwarded("atna").await.unwrap(), Some(5));
    s.set_audit_forwarded("atna", 3, UnixTime::from_secs(NOW + 1)).await.unwrap();
    assert_eq!(s.audit_forwarded("atna").await.unwrap(), Some(5), "the mark never moves back");
    s.set_audit_forwarded("atna", 9, UnixTime::from_secs(NOW + 2)).await.unwrap();
    let other = db.another_handle().await;
    assert_eq!(other.audit_forwarded("atna").await.unwrap(), Some(9));
    assert_eq!(other.audit_forwarded("elsewhere").await.unwrap(), None);
    assert_eq!(s.audit_head().await.unwrap(), head, "marks are not audited");
}

async fn concurrent_registrations_get_distinct_ids(db: TestDb) {
    const TASKS: u32 = 8;
    const EACH: u32 = 25;
    // Two handles on one database: two processes on one SQLite file, two replicas on PostgreSQL.
    let handles = [db.store.clone(), db.another_handle().await];
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let s = handles[(t % 2) as usize].clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..EACH {
                // Every other registration carries a 医療機関コード, so the uniqueness check runs concurrently too.
                let c = (i % 2 == 0).then(|| code(10_000 + t * 100 + i));
                ids.push(
                    s.register_facility(&clinic(&format!("並行 {t}-{i}"), c.as_deref()), &admin(), AT)
                        .await
                        .unwrap()
                        .id,
                );
            }
            ids
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        for id in t.await.unwrap() {
            assert!(ids.insert(id));
        }
    }
    let total = TASKS * EACH;
    assert_eq!(ids.len(), total as usize);
    let numbers: HashSet<u64> = ids.iter().map(FacilityId::number).collect();
    assert_eq!(numbers, (1..=u64::from(total)).collect(), "no gaps, no reuse");
    let log = verified_log(&*db.store).await;
    assert_eq!(log.len(), total as usize);

    // Racing for one 医療機関コード: exactly one wins, the rest name the winner.
    let contested = code(999_999);
    let mut racers = Vec::new();
    for t in 0..TASKS {
        let s = handles[(t % 2) as usize].clone();
        let c = contested.clone();
        racers.push(tokio::spawn(async move {
            s.register_facility(&clinic(&format!("Racer {t}"), Some(&c)), &admin(), AT).await
        }));
    }
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for r in racers {
        match r.await.unwrap() {
            Ok(f) => winners.push(f.id),
            Err(StoreError::DuplicateMedicalCode { existing, .. }) => losers.push(existing),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1);
    assert!(losers.iter().all(|l| l == winners[0].as_str()));
    assert_eq!(verified_log(&*db.store).await.len(), total as usize + 1);
}

// ---- SQLite only ----

#[tokio::test]
async fn sqlite_urls_create_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub.db");
    let short = format!("sqlite:{}", path.display());
    let id = {
        let s = store::open(&short).await.unwrap();
        registered(&*s, "Persist", Some("0110113719")).await
    };
    assert!(path.exists(), "created when missing");
    // Same file by the other URL form; migrations are already applied.
    let s = store::open(&format!("sqlite://{}", path.display())).await.unwrap();
    assert_eq!(s.facility(&id).await.unwrap().unwrap().name, "Persist");
    assert_eq!(verified_log(&*s).await.len(), 1);
    assert!(matches!(store::open("mysql://x").await, Err(StoreError::Url(_))));
}

#[tokio::test]
async fn sqlite_pragmas_are_set() {
    let dir = tempfile::tempdir().unwrap();
    let s = super::SqliteStore::open(&format!("sqlite://{}", dir.path().join("p.db").display())).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&s.pool).await.unwrap();
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&s.pool).await.unwrap();
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&s.pool).await.unwrap();
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&s.pool).await.unwrap();
    assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
    assert!(busy >= 5000, "busy_timeout {busy} ms");
}

#[tokio::test]
async fn closed_pool_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let s = super::SqliteStore::open(&format!("sqlite://{}", dir.path().join("c.db").display())).await.unwrap();
    s.pool.close().await;
    // Audited writes run on the write group's own connection (D159); reads go through the pool.
    assert!(matches!(s.audit_head().await, Err(StoreError::Unavailable(_))));
    assert!(matches!(s.list_facilities(&Default::default()).await, Err(StoreError::Unavailable(_))));
}

/// ACME state as two replicas see it: a nonce is taken once, an order update is conditional on the version
/// read, accounts are found by thumbprint, a certificate's ordering account by its serial, and creations and key
/// changes are audited.
async fn acme_state_is_shared_between_handles(db: TestDb) {
    use crate::{AcmeAccount, AcmeOrder, CredentialRecord, Protocol};
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let facility = registered(&*s, "ACME clinic", None).await;
    s.transition_facility(&facility, Transition::Approve, None, &admin(), AT).await.unwrap();
    // The EAB credential the account redeemed, as `enroll::credential::mint` records one (no secret is checked
    // here, so its salt and hash are placeholders).
    let credential = CredentialRecord {
        id: "0123456789abcdef0123456789abcdef".into(),
        facility: facility.clone(),
        protocol: Protocol::Est,
        profiles: vec![ProfileKind::Pc],
        salt: "00112233445566778899aabbccddeeff".into(),
        secret_hash: "00".repeat(32),
        created_by: "test".into(),
        created_at: NOW,
        expires_at: NOW + 3600,
        used_at: None,
        used_by: None,
        revoked_at: None,
    };
    s.create_credential(&credential, &admin(), AT).await.unwrap();

    let now = NOW;
    s.acme_put_nonce("n1", UnixTime::from_secs(now + 600), UnixTime::from_secs(now)).await.unwrap();
    s.acme_put_nonce("old", UnixTime::from_secs(now - 1), UnixTime::from_secs(now - 700)).await.unwrap();
    assert!(other.acme_take_nonce("n1", UnixTime::from_secs(now)).await.unwrap());
    assert!(!s.acme_take_nonce("n1", UnixTime::from_secs(now)).await.unwrap(), "a nonce works once, on any replica");
    assert!(!s.acme_take_nonce("old", UnixTime::from_secs(now)).await.unwrap(), "an expired nonce is refused");
    assert!(!s.acme_take_nonce("never", UnixTime::from_secs(now)).await.unwrap());

    let a1 = AcmeAccountId::from_random([0xa1; 16]);
    let o1 = AcmeOrderId::from_random([0x01; 16]);
    let mut account = AcmeAccount {
        id: a1.clone(),
        thumbprint: "tp1".into(),
        jwk: "{}".into(),
        facility: facility.clone(),
        profile: ProfileKind::Pc,
        credential: credential.id.clone(),
        status: "valid".into(),
        contact: vec!["mailto:a@example.org".into()],
        created_at: now,
    };
    s.acme_create_account(&account, &account.actor(), AT).await.unwrap();
    assert_eq!(other.acme_account_by_thumbprint("tp1").await.unwrap().as_ref(), Some(&account));
    account.thumbprint = "tp2".into();
    s.acme_update_account(&account, "key-change", &account.actor(), AT).await.unwrap();
    assert!(other.acme_account_by_thumbprint("tp1").await.unwrap().is_none());
    assert_eq!(other.acme_account(&a1).await.unwrap().unwrap().thumbprint, "tp2");

    let mut order = AcmeOrder {
        id: o1.clone(),
        account: a1.clone(),
        status: "pending".into(),
        expires_at: now + 60,
        identifiers: vec!["pc-1.example".into()],
        authorizations: vec![],
        certificate: None,
        error: None,
        version: 0,
    };
    s.acme_create_order(&order, &account.actor(), AT).await.unwrap();
    let mut theirs = other.acme_order(&o1).await.unwrap().unwrap();
    assert_eq!(theirs, order);
    order.status = "ready".into();
    order.version += 1;
    theirs.status = "invalid".into();
    theirs.version += 1;
    assert!(s.acme_update_order(&order).await.unwrap());
    assert!(!other.acme_update_order(&theirs).await.unwrap(), "the second writer of one version loses");
    assert_eq!(other.acme_order(&o1).await.unwrap().unwrap().status, "ready");

    // Who ordered a certificate (revokeCert by account, issue #24): the account of the order finalized with it.
    assert_eq!(other.acme_certificate_account(&sn("0abc")).await.unwrap(), None);
    order.status = "valid".into();
    order.certificate = Some("0abc".into());
    order.version += 1;
    assert!(s.acme_update_order(&order).await.unwrap());
    assert_eq!(other.acme_certificate_account(&sn("0abc")).await.unwrap(), Some(a1.clone()));
    assert_eq!(other.acme_certificate_account(&sn("0abd")).await.unwrap(), None);

    let entries = s.audit_entries(0, 1000).await.unwrap();
    for action in ["acme.account.create", "acme.account.key-change", "acme.order.create"] {
        assert!(entries.iter().any(|e| e.action == action), "no {action}");
    }
}

async fn operators_are_added_changed_and_disabled_for_good(db: TestDb) {
    use crate::operator::{OperatorName, OperatorRecord, OperatorRole};
    let s = &*db.store;
    let name = OperatorName::parse("ops").unwrap();
    let record = |role| OperatorRecord {
        name: name.clone(),
        role,
        created_by: "cli:tester".into(),
        created_at: 1_700_000_000,
        disabled_at: None,
        disabled_by: None,
    };
    assert_eq!(s.operator(&name).await.unwrap(), None);
    s.put_operator(&record(OperatorRole::Auditor), &admin(), AT).await.unwrap();
    let changed = s.put_operator(&record(OperatorRole::Operator), &admin(), AT).await.unwrap();
    assert_eq!((changed.role, changed.created_at), (OperatorRole::Operator, 1_700_000_000));
    assert_eq!(s.list_operators().await.unwrap(), vec![changed.clone()]);
    let disabled = s.disable_operator(&name, &admin(), AT).await.unwrap();
    assert!(disabled.disabled_at.is_some() && disabled.disabled_by.as_deref() == Some("cli:tester"));
    assert_eq!(s.disable_operator(&name, &admin(), AT).await.unwrap(), disabled, "disabling twice changes nothing");
    assert!(matches!(
        s.put_operator(&record(OperatorRole::Operator), &admin(), AT).await,
        Err(StoreError::OperatorDisabled(_))
    ));
    let nobody = OperatorName::parse("nobody").unwrap();
    assert!(matches!(s.disable_operator(&nobody, &admin(), AT).await, Err(StoreError::UnknownOperator(_))));
    let actions: Vec<String> = verified_log(s).await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["operator.add", "operator.role", "operator.disable"]);
}

/// A single-use value (client-assertion jti, PAR request) is stored once across replicas while unexpired; an
/// expired one under the same key is taken over; other expired ones wait for the sweep.
async fn single_use_values_are_stored_once_on_any_replica(db: TestDb) {
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let now = 1_700_000_000;
    assert!(s.oidc_once_put("jti", "a", "", UnixTime::from_secs(now + 60), UnixTime::from_secs(now)).await.unwrap());
    assert!(
        !other.oidc_once_put("jti", "a", "", UnixTime::from_secs(now + 60), UnixTime::from_secs(now)).await.unwrap(),
        "a replay on another replica"
    );
    assert!(
        !s.oidc_once_put("jti", "a", "", UnixTime::from_secs(now + 120), UnixTime::from_secs(now + 59)).await.unwrap(),
        "a replay before expiry"
    );
    assert!(
        s.oidc_once_put("par", "a", "v", UnixTime::from_secs(now + 60), UnixTime::from_secs(now)).await.unwrap(),
        "kinds are apart"
    );
    assert!(s.oidc_once_put("jti", "b", "", UnixTime::from_secs(now + 10), UnixTime::from_secs(now)).await.unwrap());
    assert!(
        other
            .oidc_once_put("jti", "a", "", UnixTime::from_secs(now + 200), UnixTime::from_secs(now + 60))
            .await
            .unwrap(),
        "expired: taken over"
    );
    assert!(
        !s.oidc_once_put("jti", "a", "", UnixTime::from_secs(now + 200), UnixTime::from_secs(now + 100)).await.unwrap(),
        "and single-use again"
    );
    assert_eq!(s.oidc_once_take("par", "a", UnixTime::from_secs(now)).await.unwrap().as_deref(), Some("v"));
    assert_eq!(other.oidc_once_take("par", "a", UnixTime::from_secs(now)).await.unwrap(), None, "taken once");
    assert_eq!(
        s.portal_sweep(UnixTime::from_secs(now + 100), 0, 100).await.unwrap().once,
        1,
        "the expired b, not the live a"
    );
}

/// The token endpoint's batch (one transaction, bulk statements) gives each request what it would have got had
/// they run one after another: a jti seen twice is a replay whose op is not applied; a second use of a code or
/// of a rotated refresh token revokes the grant, and so does a wrong or an expired code (as one at a time did);
/// an unknown grant, or a refresh secret a grant never had, is refused (D152).
async fn token_writes_in_one_batch_apply_as_if_one_after_another(db: TestDb) {
    use crate::{GrantOp, GrantRecord, GrantUse, OnceRecord, TokenWrite};
    let s = &*db.store;
    let now = 1_700_000_000;
    let grant = |id: &str, state: &str, code: Option<&str>, refresh: Option<&str>, expires_at: i64| GrantRecord {
        id: id.into(),
        client_id: "rp".into(),
        session_hash: "session".into(),
        data: "{}".into(),
        code_hash: code.map(Into::into),
        refresh_hash: refresh.map(Into::into),
        state: state.into(),
        created_at: now - 10,
        expires_at,
    };
    for g in [
        grant("a", "code", Some("ca"), None, now + 60),
        grant("b", "code", Some("cb"), None, now + 60),
        grant("c", "code", Some("cc"), None, now - 1),
        grant("d", "active", None, Some("rd"), now + 600),
        grant("e", "active", None, Some("re"), now + 600),
        grant("f", "code", Some("cf"), None, now + 60),
    ] {
        s.oidc_create_grant(&g).await.unwrap();
    }
    let once = |key: &str| Some(OnceRecord { kind: "jti".into(), key: key.into(), expires_at: now + 60 });
    let redeem = |id: &str, code: &str| {
        Some(GrantOp::Redeem {
            id: id.into(),
            code_hash: code.into(),
            refresh_hash: format!("r-{id}"),
            expires_at: now + 900,
            // The redemption of a records something in the grant's data (a DPoP key); the others keep theirs.
            data: (id == "a").then(|| r#"{"dpop_jkt":"K"}"#.to_owned()),
        })
    };
    let rotate = |id: &str, old: &str, new: &str| {
        Some(GrantOp::Rotate { id: id.into(), old_hash: old.into(), new_hash: new.into() })
    };
    let writes = [
        TokenWrite { once: once("j1"), dpop: None, op: redeem("a", "ca") }, // 0: accepted
        TokenWrite { once: once("j1"), dpop: None, op: redeem("f", "cf") }, // 1: jti replay: f untouched
        TokenWrite { once: once("j2"), dpop: None, op: redeem("a", "ca") }, // 2: the code again: a revoked
        TokenWrite { once: None, dpop: None, op: redeem("b", "wrong") },    // 3: wrong code: b revoked
        TokenWrite { once: once("j3"), dpop: None, op: redeem("c", "cc") }, // 4: expired: revoked like any failed use
        TokenWrite { once: once("j4"), dpop: None, op: rotate("d", "rd", "rd2") }, // 5: accepted
        TokenWrite { once: None, dpop: None, op: rotate("d", "rd", "rd3") }, // 6: the old refresh token again: d revoked
        TokenWrite { once: None, dpop: None, op: rotate("e", "re", "re2") }, // 7: accepted
        TokenWrite { once: once("j5"), dpop: None, op: None },               // 8: only the jti
        TokenWrite { once: None, dpop: None, op: redeem("nobody", "x") },    // 9: unknown grant
    ];
    let out = s.oidc_token_writes(&writes, UnixTime::from_secs(now)).await.unwrap();
    let fresh: Vec<bool> = out.iter().map(|w| w.once_fresh).collect();
    assert_eq!(fresh, [true, false, true, true, true, true, true, true, true, true]);
    let kind = |i: usize| match &out[i].grant {
        None => "none",
        Some(GrantUse::Accepted(_)) => "accepted",
        Some(GrantUse::Replayed(_)) => "replayed",
        Some(GrantUse::Refused) => "refused",
    };
    let kinds: Vec<&str> = (0..out.len()).map(kind).collect();
    assert_eq!(
        kinds,
        ["accepted", "none", "replayed", "replayed", "replayed", "accepted", "replayed", "accepted", "none", "refused"]
    );
    let Some(GrantUse::Accepted(a)) = &out[0].grant else { unreachable!() };
    assert_eq!((a.state.as_str(), a.refresh_hash.as_deref(), a.expires_at), ("active", Some("r-a"), now + 900));
    assert_eq!(a.data, r#"{"dpop_jkt":"K"}"#, "the redemption's data replaces the grant's");
    let state = |id: &'static str| async move { s.oidc_grant(id).await.unwrap().unwrap().state };
    assert_eq!(state("a").await, "revoked", "a code used twice revokes the grant");
    assert_eq!(state("b").await, "revoked");
    assert_eq!(state("d").await, "revoked", "a rotated refresh token used again revokes the grant");
    assert_eq!(state("f").await, "code", "the op of a replayed jti is not applied");
    assert_eq!(s.oidc_grant("f").await.unwrap().unwrap().data, "{}", "no data given: kept");
    let e = s.oidc_grant("e").await.unwrap().unwrap();
    assert_eq!((e.state.as_str(), e.refresh_hash.as_deref()), ("active", Some("re2")));
    assert!(
        !s.oidc_once_put("jti", "j5", "", UnixTime::from_secs(now + 60), UnixTime::from_secs(now)).await.unwrap(),
        "a jti alone is recorded"
    );
    let again = s
        .oidc_token_writes(
            &[TokenWrite { once: once("j2"), dpop: None, op: redeem("f", "cf") }],
            UnixTime::from_secs(now),
        )
        .await
        .unwrap();
    assert!(!again[0].once_fresh && again[0].grant.is_none(), "a jti of an earlier batch is a replay");
    let found: Vec<String> = {
        let mut ids: Vec<String> = s
            .oidc_grants(&["a".into(), "e".into(), "nobody".into()])
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(found, ["a", "e"]);
    // Three rotations run as a statement built for four rows (its NULL padding row matches nothing), twice:
    // the second batch reuses the prepared statement.
    let ids = ["g", "h", "i"];
    for id in ids {
        s.oidc_create_grant(&grant(id, "active", None, Some(&format!("r{id}0")), now + 600)).await.unwrap();
    }
    for round in 1..=2 {
        let writes: Vec<TokenWrite> = ids
            .iter()
            .map(|id| TokenWrite {
                once: None,
                dpop: None,
                op: rotate(id, &format!("r{id}{}", round - 1), &format!("r{id}{round}")),
            })
            .collect();
        let out = s.oidc_token_writes(&writes, UnixTime::from_secs(now)).await.unwrap();
        assert!(out.iter().all(|w| matches!(w.grant, Some(GrantUse::Accepted(_)))), "round {round}");
    }
    let h = s.oidc_grant("h").await.unwrap().unwrap();
    assert_eq!((h.state.as_str(), h.refresh_hash.as_deref()), ("active", Some("rh2")));
    // D152: a secret grant g never had is refused and leaves it alone (the grant id is no secret); its refresh
    // token of two rotations ago is a reuse, in a later batch, and revokes it.
    let one = |op| async move {
        let out = s.oidc_token_writes(&[TokenWrite { once: None, dpop: None, op }], UnixTime::from_secs(now)).await;
        out.unwrap().remove(0).grant
    };
    assert_eq!(one(rotate("g", "made-up", "x")).await, Some(GrantUse::Refused));
    assert_eq!(s.oidc_grant("g").await.unwrap().unwrap().refresh_hash.as_deref(), Some("rg2"), "untouched");
    assert!(matches!(one(rotate("g", "rg0", "y")).await, Some(GrantUse::Replayed(_))));
    assert_eq!(s.oidc_grant("g").await.unwrap().unwrap().state, "revoked");
    assert_eq!(one(rotate("g", "rg2", "z")).await, Some(GrantUse::Refused), "the family is dead: its newest too");
    // The spent tokens go with their grant when the sweep deletes it.
    s.portal_sweep(UnixTime::from_secs(now + 10_000), 0, 100).await.unwrap();
    assert_eq!(one(rotate("g", "rg0", "w")).await, Some(GrantUse::Refused));
}

/// A token request with a client assertion and a DPoP proof records both jtis in the batch's transaction, and
/// its op is applied only when both were fresh; the write says which one was replayed (in an earlier batch or
/// earlier in the same one), and the fresh one is recorded all the same, as each was when recorded on its own.
async fn a_token_write_applies_its_op_only_when_both_single_use_values_are_fresh(db: TestDb) {
    use crate::{GrantOp, GrantRecord, GrantUse, OnceRecord, TokenWrite};
    let s = &*db.store;
    let now = 1_700_000_000;
    for id in ["p", "q", "r"] {
        let g = GrantRecord {
            id: id.into(),
            client_id: "rp".into(),
            session_hash: "session".into(),
            data: "{}".into(),
            code_hash: Some(format!("c{id}")),
            refresh_hash: None,
            state: "code".into(),
            created_at: now - 10,
            expires_at: now + 60,
        };
        s.oidc_create_grant(&g).await.unwrap();
    }
    let jti = |key: &str| Some(OnceRecord { kind: "jti".into(), key: key.into(), expires_at: now + 60 });
    let proof = |key: &str| Some(OnceRecord { kind: "dpop".into(), key: key.into(), expires_at: now + 180 });
    let redeem = |id: &str| {
        Some(GrantOp::Redeem {
            id: id.into(),
            code_hash: format!("c{id}"),
            refresh_hash: format!("r-{id}"),
            expires_at: now + 900,
            data: None,
        })
    };
    let write = |once, dpop, op| TokenWrite { once, dpop, op };
    let writes = [
        write(jti("j1"), proof("d1"), redeem("p")), // 0: both fresh: accepted
        write(jti("j2"), proof("d1"), redeem("q")), // 1: the proof's jti again in the batch: q untouched
        write(jti("j1"), proof("d2"), redeem("r")), // 2: the assertion's jti again in the batch: r untouched
    ];
    let out = s.oidc_token_writes(&writes, UnixTime::from_secs(now)).await.unwrap();
    let fresh: Vec<(bool, bool)> = out.iter().map(|w| (w.once_fresh, w.dpop_fresh)).collect();
    assert_eq!(fresh, [(true, true), (true, false), (false, true)]);
    assert!(matches!(out[0].grant, Some(GrantUse::Accepted(ref g)) if g.id == "p"), "{:?}", out[0]);
    assert!(out[1].grant.is_none() && out[2].grant.is_none(), "{out:?}");
    let state = |id: &'static str| async move { s.oidc_grant(id).await.unwrap().unwrap().state };
    assert_eq!((state("q").await, state("r").await), ("code".into(), "code".into()), "not spent by a replay");
    // The fresh value of a refused write is recorded all the same.
    assert!(
        !s.oidc_once_put("jti", "j2", "", UnixTime::from_secs(now + 60), UnixTime::from_secs(now)).await.unwrap(),
        "j2 recorded"
    );
    assert!(
        !s.oidc_once_put("dpop", "d2", "", UnixTime::from_secs(now + 180), UnixTime::from_secs(now)).await.unwrap(),
        "d2 recorded"
    );
    let writes = [
        write(jti("j3"), proof("d1"), redeem("q")), // 0: the proof's jti of an earlier batch: q untouched
        write(None, proof("d3"), redeem("r")),      // 1: a public client's proof alone: accepted
    ];
    let out = s.oidc_token_writes(&writes, UnixTime::from_secs(now)).await.unwrap();
    assert_eq!((out[0].once_fresh, out[0].dpop_fresh, &out[0].grant), (true, false, &None));
    assert!(out[1].once_fresh && out[1].dpop_fresh, "{:?}", out[1]);
    assert!(matches!(out[1].grant, Some(GrantUse::Accepted(ref g)) if g.id == "r"), "{:?}", out[1]);
    assert_eq!((state("q").await, state("r").await), ("code".into(), "active".into()));
}

/// A card-login challenge is handed out once across replicas; an expired one is still returned (so the caller
/// can say "expired") and gone afterwards; storing a new one sweeps expired ones nobody took; no audit entries.
async fn login_challenges_are_taken_once_on_any_replica(db: TestDb) {
    use crate::LoginChallengeRecord;
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let record = |challenge: &str, expires_at| LoginChallengeRecord {
        challenge: challenge.into(),
        binding: "cookie-hash".into(),
        origin: "https://portal.example".into(),
        issued_at: 1_700_000_000,
        expires_at,
    };
    let now = 1_700_000_000;
    s.put_login_challenge(&record("c1", now + 120), UnixTime::from_secs(now)).await.unwrap();
    s.put_login_challenge(&record("expired", now + 1), UnixTime::from_secs(now)).await.unwrap();
    s.put_login_challenge(&record("stale", now + 1), UnixTime::from_secs(now)).await.unwrap();
    assert!(
        s.put_login_challenge(&record("c1", now + 120), UnixTime::from_secs(now)).await.is_err(),
        "a value is stored once"
    );
    assert_eq!(other.take_login_challenge("c1").await.unwrap(), Some(record("c1", now + 120)));
    assert_eq!(s.take_login_challenge("c1").await.unwrap(), None, "a challenge works once, on any replica");
    assert_eq!(s.take_login_challenge("expired").await.unwrap(), Some(record("expired", now + 1)));
    assert_eq!(s.take_login_challenge("expired").await.unwrap(), None);
    // Storing at a later time sweeps the expired challenge nobody took.
    s.put_login_challenge(&record("c2", now + 200), UnixTime::from_secs(now + 100)).await.unwrap();
    assert_eq!(s.take_login_challenge("stale").await.unwrap(), None);
    assert_eq!(s.take_login_challenge("never").await.unwrap(), None);
    assert!(verified_log(&*s).await.is_empty(), "challenges are not audited; the login is");
}

/// Password attempts are counted in the database: two replicas add to one count; an attempt an idle
/// `forget_after` later counts afresh; a success forgets; the sweep deletes counts idle past the grace period.
/// Past the free attempts the statement itself refuses (returns nothing, records nothing) until the wait is
/// over, the wait doubling per attempt up to the cap; and of parallel attempts exactly the free ones pass.
async fn password_failures_are_counted_across_replicas(db: TestDb) {
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let now = 1_700_000_000;
    let unthrottled = LoginThrottle { free_failures: 1000, first_wait: 30, max_wait: 900, forget_after: 3600 };
    assert_eq!(s.portal_login_failures("alice").await.unwrap(), None);
    for n in 1..=6_i64 {
        let replica = if n % 2 == 0 { &other } else { &s };
        assert_eq!(
            replica.portal_login_attempt("alice", UnixTime::from_secs(now + n), &unthrottled).await.unwrap(),
            Some(n)
        );
    }
    assert_eq!(other.portal_login_failures("alice").await.unwrap(), Some((6, now + 6)));
    assert_eq!(
        s.portal_login_attempt("bob", UnixTime::from_secs(now), &unthrottled).await.unwrap(),
        Some(1),
        "per account"
    );
    let later = now + 6 + 3600;
    assert_eq!(
        s.portal_login_attempt("alice", UnixTime::from_secs(later), &unthrottled).await.unwrap(),
        Some(1),
        "afresh after an idle hour"
    );
    other.portal_login_succeeded("alice").await.unwrap();
    assert_eq!(s.portal_login_failures("alice").await.unwrap(), None, "a success forgets");

    // The schedule, decided by the statement: 2 free attempts, then 10 s, 20 s, 40 s, capped at 50 s.
    let t = LoginThrottle { free_failures: 2, first_wait: 10, max_wait: 50, forget_after: 3600 };
    let store = &s;
    let at =
        |n: i64| async move { store.portal_login_attempt("carol", UnixTime::from_secs(now + n), &t).await.unwrap() };
    assert_eq!(at(0).await, Some(1));
    assert_eq!(at(0).await, Some(2));
    assert_eq!(at(9).await, None, "the third attempt waits 10 s after the second");
    assert_eq!(s.portal_login_failures("carol").await.unwrap(), Some((2, now)), "a refused attempt records nothing");
    assert_eq!(at(10).await, Some(3));
    assert_eq!(at(29).await, None, "then 20 s");
    assert_eq!(at(30).await, Some(4));
    assert_eq!(at(69).await, None, "then 40 s");
    assert_eq!(at(70).await, Some(5));
    assert_eq!(at(119).await, None, "then the cap, 50 s");
    assert_eq!(at(120).await, Some(6));
    assert_eq!(at(169).await, None);
    assert_eq!(at(120 + 3600).await, Some(1), "an idle hour forgets");

    // Parallel attempts on two handles: exactly the free ones are admitted.
    let t = LoginThrottle { free_failures: 5, first_wait: 30, max_wait: 900, forget_after: 3600 };
    let attempts = (0..20).map(|n| {
        let store = if n % 2 == 0 { s.clone() } else { other.clone() };
        tokio::spawn(async move { store.portal_login_attempt("dave", UnixTime::from_secs(now), &t).await.unwrap() })
    });
    let mut admitted: Vec<i64> = Vec::new();
    for a in attempts {
        admitted.extend(a.await.unwrap());
    }
    admitted.sort_unstable();
    assert_eq!(admitted, [1, 2, 3, 4, 5], "of 20 parallel attempts exactly the 5 free ones are counted");
    assert_eq!(s.portal_login_failures("dave").await.unwrap(), Some((5, now)));

    let swept = s.portal_sweep(UnixTime::from_secs(now + 3600), 3600, 100).await.unwrap();
    assert_eq!(swept.login_failures, 2, "bob's and dave's counts, idle for the grace period: {swept:?}");
    assert_eq!(s.portal_login_failures("bob").await.unwrap(), None);
    assert!(verified_log(&*s).await.is_empty(), "failure counts are not audited; the refused logins are");
}

/// The shared rate-limit counts (D31 addendum): two replicas' additions sum per (class, address, window); a
/// sync reads back only the watched pairs from the window asked for, however many there are (more than one
/// statement's worth); concurrent syncs adding to the same rows in different orders lose nothing (and do not
/// deadlock on PostgreSQL); replicas count as alive until their deadline; a refused window is claimed by one
/// replica, and only the first window of an engagement starts one; the sweep deletes old windows, and a sync
/// forgets replicas gone for an hour.
async fn rate_limit_counts_add_up_across_replicas_and_engage_once(db: TestDb) {
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let now = 1_700_000_040;
    let w0 = now - now % 60;
    let count = |class: &str, address: &str, window_start: i64, requests: i64| RateCount {
        class: class.into(),
        address: address.into(),
        window_start,
        requests,
    };
    let key = |class: &str, address: &str| (class.to_owned(), address.to_owned());
    let sync = |replica: &'static str, at: i64, add: Vec<RateCount>, watch: Vec<(String, String)>, since: i64| {
        let store = if replica == "a" { s.clone() } else { other.clone() };
        async move {
            let sync = RateSync { replica, now: at, alive_until: at + 3, add: &add, watch: &watch, since };
            let mut totals = store.rate_limit_sync(&sync).await.unwrap();
            totals.counts.sort();
            totals
        }
    };
    let ip = "192.0.2.1";
    let first = sync("a", now, vec![count("enroll", ip, w0 - 60, 2), count("enroll", ip, w0, 3)], vec![], w0).await;
    assert_eq!((first.replicas, first.counts), (1, vec![]), "nothing watched, nothing read");
    let add = vec![count("enroll", ip, w0, 4), count("login", ip, w0, 1), count("revocation", ip, w0, 0)];
    let watch = vec![key("enroll", ip), key("login", ip), key("revocation", "198.51.100.9")];
    let totals = sync("b", now + 1, add, watch.clone(), w0 - 60).await;
    assert_eq!(totals.replicas, 2);
    let expected = vec![count("enroll", ip, w0 - 60, 2), count("enroll", ip, w0, 7), count("login", ip, w0, 1)];
    assert_eq!(totals.counts, expected, "summed per window; a zero addition writes no row");
    let current = sync("a", now + 2, vec![], watch.clone(), w0).await;
    assert_eq!(current.counts, expected[1..], "from `since` on");
    assert_eq!(sync("b", now + 6, vec![], vec![], w0).await.replicas, 1, "a's deadline (now + 5) passed");

    // Many pairs, added concurrently by both replicas in opposite orders, all read back.
    let many: Vec<RateCount> =
        (0..1200).map(|n| count("revocation", &format!("10.0.{}.{}", n / 256, n % 256), w0, 1)).collect();
    let watched: Vec<(String, String)> = many.iter().map(|c| (c.class.clone(), c.address.clone())).collect();
    let mut rounds = tokio::task::JoinSet::new();
    for n in 0..8 {
        let mut add = many.clone();
        if n % 2 == 1 {
            add.reverse();
        }
        rounds.spawn(sync(if n % 2 == 0 { "a" } else { "b" }, now + 7, add, vec![], w0));
    }
    rounds.join_all().await;
    let totals = sync("a", now + 7, vec![], watched, w0).await;
    assert_eq!(totals.counts.len(), 1200);
    assert!(totals.counts.iter().all(|c| c.requests == 8), "{:?}", totals.counts.first());

    assert!(
        s.rate_limit_engage("enroll", ip, UnixTime::from_secs(w0)).await.unwrap(),
        "the first refusal of an engagement"
    );
    assert!(
        !other.rate_limit_engage("enroll", ip, UnixTime::from_secs(w0)).await.unwrap(),
        "the window is claimed once"
    );
    assert!(
        !other.rate_limit_engage("enroll", ip, UnixTime::from_secs(w0 + 60)).await.unwrap(),
        "the engagement goes on"
    );
    assert!(!s.rate_limit_engage("enroll", ip, UnixTime::from_secs(w0 + 60)).await.unwrap());
    assert!(s.rate_limit_engage("login", ip, UnixTime::from_secs(w0)).await.unwrap(), "per class");
    assert!(
        s.rate_limit_engage("enroll", ip, UnixTime::from_secs(w0 + 180)).await.unwrap(),
        "a quiet minute ends the engagement"
    );
    assert!(
        other.rate_limit_engage("enroll", "198.51.100.9", UnixTime::from_secs(w0)).await.unwrap(),
        "a window with no count yet"
    );
    let engaged_only =
        sync("a", now + 8, vec![count("enroll", "198.51.100.9", w0, 2)], vec![key("enroll", "198.51.100.9")], w0).await;
    assert_eq!(engaged_only.counts, vec![count("enroll", "198.51.100.9", w0, 2)], "counted on after the mark");

    // Windows up to the one starting at w0 + 180 - 1 are no longer read then.
    let later = w0 + 180 + super::rate_limits::KEEP_SECS - 1;
    let swept = s.portal_sweep(UnixTime::from_secs(later), 3600, 100).await.unwrap();
    assert_eq!(swept.rate_limit_counts, 100, "one batch: {swept:?}");
    let mut left = 0;
    loop {
        let more = s.portal_sweep(UnixTime::from_secs(later), 3600, 1000).await.unwrap();
        left += more.rate_limit_counts;
        if more.rate_limit_counts == 0 {
            break;
        }
    }
    // enroll (3 windows), login, 198.51.100.9 and the 1200 pairs.
    assert_eq!(left, 3 + 1 + 1 + 1200 - 100, "every window before the one starting at w0 + 180");
    let kept = sync("b", now + 9, vec![], vec![key("enroll", ip)], w0).await;
    assert_eq!(kept.counts, vec![count("enroll", ip, w0 + 180, 0)], "the newest window stays");
    let alive = |at: i64| {
        let store = db.store.clone();
        async move {
            store
                .rate_limit_sync(&RateSync { replica: "c", now: at, alive_until: at, add: &[], watch: &[], since: at })
                .await
                .unwrap()
                .replicas
        }
    };
    assert_eq!(alive(now + 13).await, 1, "a and b gone (b at now + 12), c alive");
    assert_eq!(db.db_rows("rate_limit_replicas").await, 3, "a and b are remembered for an hour");
    alive(now + 13 + 3600).await;
    assert_eq!(db.db_rows("rate_limit_replicas").await, 1, "then forgotten by the next sync");
    assert!(verified_log(&*s).await.is_empty(), "counts are not audited; the server audits engagements");
}

/// The expiry webhook's claims: an expiring certificate with no successor is claimed once across replicas; a
/// renewed one (a later-expiring issued certificate of the same facility, profile and subject) never; another
/// profile or a certificate outside the window not; a released claim comes back; expired claims are forgotten.
async fn expiring_certificates_are_claimed_once_unless_renewed(db: TestDb) {
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let id = registered(&*s, "Expiry", None).await;
    s.transition_facility(&id, Transition::Approve, None, &admin(), AT).await.unwrap();
    // A device's names are its subject and SANs: the renewal of pc-2 repeats both.
    let at = |serial: &str, subject: &str, not_after: i64, profile: &str| IssuanceIntent {
        subject: subject.into(),
        sans: vec![subject.replace("CN=", "DNS:") + ".example.jp"],
        not_after,
        ..intent(serial, Some(&id), profile)
    };
    let t = 1_800_000_000 + 100 * 86_400;
    for (serial, subject, not_after, profile) in [
        ("e1", "CN=pc-1", t, "pc"),
        ("e2", "CN=pc-2", t + 10, "pc"),
        ("e2b", "CN=pc-2", t + 400 * 86_400, "pc"), // pc-2 was renewed
        ("e3", "CN=router-1", t + 20, "router"),
        ("e4", "CN=pc-4", t + 90 * 86_400, "pc"), // outside the window
    ] {
        s.record_intent(&at(serial, subject, not_after, profile), UnixTime::from_secs(NOW)).await.unwrap();
        s.complete_issuance(&sn(serial), b"der", &admin(), AT).await.unwrap();
    }
    let window = (t - 30 * 86_400, t + 30 * 86_400);
    let (pc, router) = (CertProfile::EndEntity(ProfileKind::Pc), CertProfile::EndEntity(ProfileKind::Router));
    let claimed = s
        .expiry_claim(pc, UnixTime::from_secs(window.0), UnixTime::from_secs(window.1), 100, UnixTime::from_secs(t))
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|c| c.serial.as_str()).collect::<Vec<_>>(), ["e1"], "{claimed:?}");
    assert_eq!(claimed[0].facility_id.as_deref(), Some(id.as_str()));
    assert!(
        other
            .expiry_claim(pc, UnixTime::from_secs(window.0), UnixTime::from_secs(window.1), 100, UnixTime::from_secs(t))
            .await
            .unwrap()
            .is_empty(),
        "claimed twice"
    );
    assert_eq!(
        other
            .expiry_claim(
                router,
                UnixTime::from_secs(window.0),
                UnixTime::from_secs(window.1),
                100,
                UnixTime::from_secs(t)
            )
            .await
            .unwrap()
            .len(),
        1
    );
    s.expiry_release(&[sn("e1")], UnixTime::from_secs(0)).await.unwrap();
    assert_eq!(
        other
            .expiry_claim(pc, UnixTime::from_secs(window.0), UnixTime::from_secs(window.1), 1, UnixTime::from_secs(t))
            .await
            .unwrap()
            .len(),
        1,
        "released, claimed again"
    );
    s.expiry_release(&[], UnixTime::from_secs(t + 1)).await.unwrap();
    assert_eq!(
        s.expiry_claim(pc, UnixTime::from_secs(window.0), UnixTime::from_secs(window.1), 100, UnixTime::from_secs(t))
            .await
            .unwrap()
            .len(),
        1,
        "forgotten after expiry"
    );
}

// ---- SSO session lifecycle and services in the database (issue #6, D26) ----

fn sso_session(id: &str, person: &str, facility: Option<&FacilityId>, expires_at: i64) -> store::SessionRecord {
    store::SessionRecord {
        id_hash: id.into(),
        person_key: person.into(),
        card_id: None,
        data: "{}".into(),
        auth_time: expires_at - 3600,
        created_at: expires_at - 3600,
        expires_at,
        ended_at: None,
        facility_id: facility.map(|f| f.to_string()),
        end_reason: None,
        presence_hash: None,
        presence_until: None,
        facility_serial: None,
        lend: None,
    }
}

/// The audit event of the login that makes `session`.
fn login_event(session: &store::SessionRecord) -> AuditEvent {
    AuditEvent {
        actor: format!("portal:{}", session.person_key),
        action: "portal.login".into(),
        target: session.person_key.clone(),
        outcome: Outcome::Ok,
        detail: serde_json::json!({ "session": session.id_hash }),
    }
}

/// Store `session` with its login's audit entry.
async fn start_session(store: &dyn Store, session: &store::SessionRecord) {
    store.portal_create_session(session, &login_event(session), AT).await.unwrap();
}

fn sso_grant(id: &str, session: &str, expires_at: i64) -> store::GrantRecord {
    store::GrantRecord {
        id: id.into(),
        client_id: "rp".into(),
        session_hash: session.into(),
        data: "{}".into(),
        code_hash: None,
        refresh_hash: Some("r".into()),
        state: "active".into(),
        created_at: expires_at - 3600,
        expires_at,
    }
}

/// Disabling an account ends its sessions and revokes their grants in one transaction; suspending a facility
/// ends the sessions started there; a replica claims each ended session's back-channel logout once; a session
/// is not live at its deadline (e.g. the card's notAfter); the sweep deletes what is spent, in bounded
/// batches, and only notified sessions.
async fn sso_sessions_end_with_their_account_or_facility_and_are_swept(db: TestDb) {
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let now = NOW;
    let facility = registered(&*s, "Clinic S", None).await;
    s.transition_facility(&facility, Transition::Approve, None, &admin(), AT).await.unwrap();
    let user = store::PortalUser {
        username: "bob".into(),
        display_name: "Bob".into(),
        hc_role: None,
        password_hash: "x".into(),
        totp_secret: "y".into(),
        last_totp_step: 0,
        created_by: "cli:tester".into(),
        created_at: now,
        disabled_at: None,
    };
    s.portal_add_user(&user, &admin(), AT).await.unwrap();
    let until = now + 3600;
    start_session(&*s, &sso_session("bob1", "pwd:bob", None, until)).await;
    start_session(&*s, &sso_session("card1", "hpki:x", Some(&facility), until)).await;
    start_session(&*s, &sso_session("carol", "pwd:carol", None, until)).await;
    s.oidc_create_grant(&sso_grant("g1", "bob1", until)).await.unwrap();

    // The deadline is exclusive: a session capped at a certificate's notAfter is refused from then on.
    assert!(s.portal_session("bob1", UnixTime::from_secs(until - 1)).await.unwrap().is_some());
    assert!(s.portal_session("bob1", UnixTime::from_secs(until)).await.unwrap().is_none(), "alive at its deadline");

    assert!(s.portal_disable_user("bob", &admin(), AT).await.unwrap());
    assert!(
        s.portal_session("bob1", UnixTime::from_secs(now)).await.unwrap().is_none(),
        "a disabled account's session is live"
    );
    assert!(
        s.portal_session("carol", UnixTime::from_secs(now)).await.unwrap().is_some(),
        "another account's session ended"
    );
    assert_eq!(s.oidc_grant("g1").await.unwrap().unwrap().state, "revoked");
    s.transition_facility(&facility, Transition::Suspend, Some("audit"), &admin(), AT).await.unwrap();
    assert!(
        s.portal_session("card1", UnixTime::from_secs(now)).await.unwrap().is_none(),
        "the suspended facility's session is live"
    );

    let claimed = other.portal_claim_ended_sessions(UnixTime::from_secs(now), 1).await.unwrap();
    assert_eq!(claimed.len(), 1, "at most the limit");
    let mut claimed: Vec<_> =
        claimed.into_iter().chain(s.portal_claim_ended_sessions(UnixTime::from_secs(now), 10).await.unwrap()).collect();
    claimed.sort_by(|a, b| a.id_hash.cmp(&b.id_hash));
    let reasons: Vec<_> = claimed.iter().map(|c| (c.id_hash.as_str(), c.end_reason.as_deref())).collect();
    assert_eq!(reasons, [("bob1", Some("account-disabled")), ("card1", Some("facility-suspended"))]);
    assert!(other.portal_claim_ended_sessions(UnixTime::from_secs(now), 10).await.unwrap().is_empty(), "claimed twice");
    assert_eq!(s.oidc_session_grants("bob1").await.unwrap().len(), 1, "revoked grants are still listed");

    // A logout ended in-process is notified by that process: it is never claimed.
    let ended =
        s.portal_end_session("carol", "logout", UnixTime::from_secs(now)).await.unwrap().expect("carol was live");
    assert_eq!(ended.end_reason.as_deref(), Some("logout"), "the end reason is recorded");
    let record = s.portal_session_record("carol").await.unwrap().expect("the ended row stays until the sweep");
    assert_eq!((record.ended_at, record.end_reason.as_deref()), (Some(now), Some("logout")));
    assert!(s.portal_claim_ended_sessions(UnixTime::from_secs(now), 10).await.unwrap().is_empty());

    // Spent single-use rows and challenges, and a batch of one.
    s.oidc_once_put("par", "k1", "v", UnixTime::from_secs(now + 10), UnixTime::from_secs(now)).await.unwrap();
    s.oidc_once_put("par", "k2", "v", UnixTime::from_secs(now + 10), UnixTime::from_secs(now)).await.unwrap();
    let challenge = store::LoginChallengeRecord {
        challenge: "c".into(),
        binding: "b".into(),
        origin: "https://portal.example".into(),
        issued_at: now,
        expires_at: now + 10,
    };
    s.put_login_challenge(&challenge, UnixTime::from_secs(now)).await.unwrap();
    let first = s.portal_sweep(UnixTime::from_secs(now + 20), 0, 1).await.unwrap();
    assert_eq!((first.once, first.challenges), (1, 1), "{first:?}");
    assert!(first.sessions <= 1 && first.grants <= 1, "a batch of one deleted more: {first:?}");
    let rest = other.portal_sweep(UnixTime::from_secs(now + 20), 0, 100).await.unwrap();
    assert_eq!(first.sessions + rest.sessions, 3, "the three ended sessions: {first:?} {rest:?}");
    assert_eq!(first.once + rest.once, 2);
    assert_eq!(first.grants + rest.grants, 0, "a grant before its deadline");
    assert_eq!(
        s.portal_sweep(UnixTime::from_secs(until), 0, 100).await.unwrap().grants,
        1,
        "the grant at its deadline"
    );
    assert_eq!(s.portal_sweep(UnixTime::from_secs(until + 10_000), 0, 100).await.unwrap().total(), 0, "nothing left");
    assert!(s.portal_claim_ended_sessions(UnixTime::from_secs(now), 10).await.unwrap().is_empty());

    // An unclaimed ended session waits for its logout: the sweep keeps it until it is claimed.
    start_session(&*s, &sso_session("dave1", "pwd:dave", Some(&facility), until)).await;
    s.transition_facility(&facility, Transition::Resume, None, &admin(), AT).await.unwrap();
    start_session(&*s, &sso_session("erin1", "pwd:erin", Some(&facility), until)).await;
    s.transition_facility(&facility, Transition::Retire, None, &admin(), AT).await.unwrap();
    assert_eq!(
        s.portal_sweep(UnixTime::from_secs(now + 20), 0, 100).await.unwrap().sessions,
        0,
        "an unnotified session swept"
    );
    assert_eq!(s.portal_claim_ended_sessions(UnixTime::from_secs(now), 10).await.unwrap().len(), 2);
    assert_eq!(s.portal_sweep(UnixTime::from_secs(now + 20), 0, 100).await.unwrap().sessions, 2);

    let log = verified_log(&*s).await;
    let disable = log.iter().find(|e| e.action == "portal.user.disable").unwrap();
    assert!(disable.detail.contains("\"sessions_ended\":1"), "{}", disable.detail);
    let ends: Vec<_> = log.iter().filter(|e| e.action == "portal.sessions.end").map(|e| e.detail.clone()).collect();
    assert_eq!(ends.len(), 2, "{ends:?}");
    assert!(ends[0].contains("facility-suspended") && ends[1].contains("facility-retired"), "{ends:?}");
}

/// Services: seeded once, added (an existing id refused without replace), replaced, removed; every change
/// moves the generation replicas poll and is audited.
async fn services_are_kept_with_a_change_generation(db: TestDb) {
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let record = |id: &str, definition: &str| store::ServiceRecord {
        id: id.into(),
        position: 0,
        definition: definition.into(),
        updated_by: String::new(),
        updated_at: 0,
    };
    assert_eq!(s.portal_services().await.unwrap(), (vec![], 0, false));
    let seed = [record("wiki", "id = \"wiki\""), record("emr", "id = \"emr\"")];
    assert!(s.portal_put_services(&seed, false, true, &Actor::system(), AT).await.unwrap());
    assert!(!other.portal_put_services(&seed, false, true, &Actor::system(), AT).await.unwrap(), "seeded twice");
    let (rows, generation, seeded) = other.portal_services().await.unwrap();
    assert_eq!(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["wiki", "emr"], "the file's order");
    assert!(seeded && generation == 1, "{generation} {seeded}");
    match s.portal_put_services(&[record("wiki", "x")], false, false, &admin(), AT).await {
        Err(StoreError::ServiceExists(id)) => assert_eq!(id, "wiki"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.portal_services_generation().await.unwrap(), 1, "a refused change moved the generation");
    s.portal_put_services(&[record("wiki", "id = \"wiki\" # v2")], true, false, &admin(), AT).await.unwrap();
    s.portal_put_services(&[record("lab", "id = \"lab\"")], false, false, &admin(), AT).await.unwrap();
    assert!(s.portal_remove_service("emr", &admin(), AT).await.unwrap());
    assert!(!s.portal_remove_service("emr", &admin(), AT).await.unwrap());
    let (rows, generation, _) = other.portal_services().await.unwrap();
    let ids: Vec<_> = rows.iter().map(|r| (r.id.as_str(), r.definition.as_str())).collect();
    assert_eq!(ids, [("wiki", "id = \"wiki\" # v2"), ("lab", "id = \"lab\"")]);
    assert_eq!(generation, 4);
    let actions: Vec<_> =
        verified_log(&*s).await.into_iter().map(|e| e.action).filter(|a| a.starts_with("portal.service")).collect();
    assert_eq!(
        actions,
        [
            "portal.service.import",
            "portal.service.import",
            "portal.service.replace",
            "portal.service.add",
            "portal.service.remove"
        ]
    );
}

/// A card session on a presence lease: refused once the lease is past (on any replica, before anything ends
/// it), renewed only with its token and card while live, ended with its grants revoked when it lapsed, then
/// claimed for back-channel logout with reason `presence-lapsed`.
async fn card_presence_leases_are_renewed_and_lapse(db: TestDb) {
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let now = NOW;
    let lease = |id: &str, until: i64| store::SessionRecord {
        card_id: Some("card-1".into()),
        presence_hash: Some(format!("token-of-{id}")),
        presence_until: Some(until),
        facility_serial: None,
        ..sso_session(id, "hpki:x", None, now + 3600)
    };
    start_session(&*s, &lease("a", now + 60)).await;
    start_session(&*s, &lease("b", now + 60)).await;
    s.oidc_create_grant(&sso_grant("ga", "a", now + 3600)).await.unwrap();
    assert!(other.portal_session("a", UnixTime::from_secs(now + 59)).await.unwrap().is_some());
    assert!(
        other.portal_session("a", UnixTime::from_secs(now + 60)).await.unwrap().is_none(),
        "live past its presence lease"
    );
    assert!(
        s.portal_renew_presence("token-of-a", "card-2", UnixTime::from_secs(now + 600), UnixTime::from_secs(now))
            .await
            .unwrap()
            .is_none(),
        "other card"
    );
    assert!(
        s.portal_renew_presence("token-of-x", "card-1", UnixTime::from_secs(now + 600), UnixTime::from_secs(now))
            .await
            .unwrap()
            .is_none(),
        "bad token"
    );
    let renewed = other
        .portal_renew_presence("token-of-a", "card-1", UnixTime::from_secs(now + 600), UnixTime::from_secs(now))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((renewed.id_hash.as_str(), renewed.presence_until), ("a", Some(now + 600)));
    assert!(
        s.portal_renew_presence("token-of-b", "card-1", UnixTime::from_secs(now + 600), UnixTime::from_secs(now + 60))
            .await
            .unwrap()
            .is_none(),
        "lapsed"
    );
    assert_eq!(s.portal_end_lapsed_sessions(UnixTime::from_secs(now + 100)).await.unwrap(), 1, "only b lapsed");
    assert!(s.portal_session("a", UnixTime::from_secs(now + 100)).await.unwrap().is_some());
    let claimed = other.portal_claim_ended_sessions(UnixTime::from_secs(now + 100), 10).await.unwrap();
    let reasons: Vec<_> = claimed.iter().map(|c| (c.id_hash.as_str(), c.end_reason.as_deref())).collect();
    assert_eq!(reasons, [("b", Some("presence-lapsed"))]);
    assert_eq!(
        s.portal_end_lapsed_sessions(UnixTime::from_secs(now + 700)).await.unwrap(),
        1,
        "a, once its renewed lease passed"
    );
    assert_eq!(s.oidc_grant("ga").await.unwrap().unwrap().state, "revoked");
}

/// Lending the reader (D91): only a live card session, once; its presence lease is held while the lend runs
/// (not refused, not ended as lapsed, renewable); card removal does not end it; the return clears the lend and
/// renews the lease; a lend that runs out ends its session (`lend-expired`, grants revoked, audited, claimed for
/// back-channel logout), and a browser's own run-out lend only that one, marked notified.
async fn a_lent_session_keeps_its_lease_and_ends_when_the_lend_runs_out(db: TestDb) {
    let (s, other) = (db.store.clone(), db.another_handle().await);
    let now = NOW;
    let card = |id: &str| store::SessionRecord {
        card_id: Some("card-1".into()),
        presence_hash: Some(format!("token-of-{id}")),
        presence_until: Some(now + 60),
        ..sso_session(id, "hpki:x", None, now + 3600)
    };
    let entry = |action: &str| AuditEvent {
        actor: "portal:hpki:x".into(),
        action: action.into(),
        target: "hpki:x".into(),
        outcome: Outcome::Ok,
        detail: serde_json::json!({}),
    };
    start_session(&*s, &card("a")).await;
    start_session(&*s, &card("b")).await;
    start_session(&*s, &card("c")).await;
    start_session(&*s, &sso_session("pwd", "pwd:alice", None, now + 3600)).await;
    s.oidc_create_grant(&sso_grant("gb", "b", now + 3600)).await.unwrap();
    let at = now * 1000;
    let lend = |id: &'static str, until: i64| {
        let s = s.clone();
        let e = entry("session.lend");
        async move {
            s.portal_lend_session(id, UnixTime::from_secs(until), "consent-1", &e, UnixTime::from_millis(at))
                .await
                .unwrap()
        }
    };
    assert!(lend("pwd", now + 300).await.is_none(), "a password session has no card to lend");
    let lent = lend("a", now + 300).await.unwrap();
    assert_eq!(
        lent.lend.as_ref().map(|l| (l.until, l.lent_for.as_str(), l.card_out_at)),
        Some((now + 300, "consent-1", None))
    );
    assert!(lend("a", now + 900).await.is_none(), "lent already");
    assert!(lend("b", now + 300).await.is_some());
    assert!(lend("c", now + 300).await.is_some());

    // The lease lapses during the lend: the session is still found (its lend decides), not ended as lapsed.
    assert!(
        other.portal_session("a", UnixTime::from_secs(now + 120)).await.unwrap().is_some(),
        "a lent session's lease is held"
    );
    assert_eq!(
        s.portal_end_lapsed_sessions(UnixTime::from_secs(now + 120)).await.unwrap(),
        0,
        "no lent session ends as lapsed"
    );
    assert!(
        s.portal_end_card_sessions("hpki:x", "card-1", UnixTime::from_secs(now + 120)).await.unwrap().is_empty(),
        "card removal"
    );
    let out = s.portal_lend_card_out("a", UnixTime::from_secs(now + 121)).await.unwrap().unwrap();
    assert_eq!(out.lend.and_then(|l| l.card_out_at), Some(now + 121));
    assert!(s.portal_lend_card_out("pwd", UnixTime::from_secs(now + 121)).await.unwrap().is_none(), "not lent");

    // The card is back: the lend ends, the lease starts afresh.
    let back = other
        .portal_return_lend(
            "a",
            Some(UnixTime::from_secs(now + 422)),
            &entry("session.lend.return"),
            UnixTime::from_millis(at),
        )
        .await
        .unwrap();
    let back = back.unwrap();
    assert_eq!((back.lend, back.presence_until), (None, Some(now + 422)));
    assert!(
        s.portal_return_lend("a", None, &entry("session.lend.return"), UnixTime::from_millis(at))
            .await
            .unwrap()
            .is_none(),
        "twice"
    );

    // c's lend runs out and its browser comes back: only c ends, marked notified.
    let c = s.portal_end_lapsed_lends(UnixTime::from_secs(now + 300), Some("c")).await.unwrap();
    assert_eq!(
        c.iter().map(|r| (r.id_hash.as_str(), r.end_reason.as_deref())).collect::<Vec<_>>(),
        [("c", Some("lend-expired"))]
    );
    // b's lend runs out: the housekeeping ends it; a (returned) lives on.
    let ended = s.portal_end_lapsed_lends(UnixTime::from_secs(now + 300), None).await.unwrap();
    assert_eq!(ended.iter().map(|r| r.id_hash.as_str()).collect::<Vec<_>>(), ["b"]);
    assert_eq!(s.oidc_grant("gb").await.unwrap().unwrap().state, "revoked");
    assert!(s.portal_session("a", UnixTime::from_secs(now + 300)).await.unwrap().is_some());
    let claimed = other.portal_claim_ended_sessions(UnixTime::from_secs(now + 301), 10).await.unwrap();
    let reasons: Vec<_> = claimed.iter().map(|c| (c.id_hash.as_str(), c.end_reason.as_deref())).collect();
    assert_eq!(reasons, [("b", Some("lend-expired"))], "c was notified by the server that ended it");
    let audit = s.audit_entries(0, 100).await.unwrap();
    let actions: Vec<_> =
        audit.iter().filter(|e| e.action.starts_with("session.lend")).map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "session.lend",
            "session.lend",
            "session.lend",
            "session.lend.return",
            "session.lend.expired",
            "session.lend.expired"
        ]
    );
}

/// A person's live sessions are listed newest first (ended, expired and other people's left out); "log out
/// everywhere" ends them all and revokes their grants in one audited transaction, marks them notified (the
/// server notifies at once, no replica claims them) and leaves other people's sessions alone.
async fn a_person_lists_and_ends_only_their_own_sessions(db: TestDb) {
    let s = db.store.clone();
    let now = NOW;
    let mut older = sso_session("a-old", "pwd:alice", None, now + 3600);
    older.created_at = now - 100;
    let mut newer = sso_session("a-new", "pwd:alice", None, now + 7200);
    newer.created_at = now - 10;
    start_session(&*s, &older).await;
    start_session(&*s, &newer).await;
    start_session(&*s, &sso_session("a-expired", "pwd:alice", None, now - 1)).await;
    start_session(&*s, &sso_session("a-ended", "pwd:alice", None, now + 3600)).await;
    assert!(s.portal_end_session("a-ended", "logout", UnixTime::from_secs(now)).await.unwrap().is_some());
    let mut lapsed = sso_session("a-lapsed", "pwd:alice", None, now + 3600);
    lapsed.presence_until = Some(now - 1);
    start_session(&*s, &lapsed).await;
    start_session(&*s, &sso_session("b1", "pwd:bob", None, now + 3600)).await;
    s.oidc_create_grant(&sso_grant("ga", "a-old", now + 3600)).await.unwrap();
    s.oidc_create_grant(&sso_grant("gb", "b1", now + 3600)).await.unwrap();

    let listed: Vec<_> = s
        .portal_person_sessions("pwd:alice", UnixTime::from_secs(now))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id_hash)
        .collect();
    assert_eq!(listed, ["a-new", "a-old"], "live sessions, newest first");
    assert!(s.portal_person_sessions("pwd:nobody", UnixTime::from_secs(now)).await.unwrap().is_empty());

    let actor = Actor("portal:pwd:alice".into());
    let ended =
        s.portal_end_person_sessions("pwd:alice", "ended-by-user", UnixTime::from_secs(now), &actor).await.unwrap();
    let mut ended: Vec<_> = ended.into_iter().map(|r| r.id_hash).collect();
    ended.sort();
    assert_eq!(ended, ["a-lapsed", "a-new", "a-old"], "every unended, unexpired session of the person");
    assert!(s.portal_person_sessions("pwd:alice", UnixTime::from_secs(now)).await.unwrap().is_empty());
    assert!(s.portal_session("a-new", UnixTime::from_secs(now)).await.unwrap().is_none());
    assert_eq!(s.oidc_grant("ga").await.unwrap().unwrap().state, "revoked");
    assert_eq!(s.oidc_grant("gb").await.unwrap().unwrap().state, "active", "another person's grant revoked");
    assert!(
        s.portal_session("b1", UnixTime::from_secs(now)).await.unwrap().is_some(),
        "another person's session ended"
    );
    assert!(
        s.portal_claim_ended_sessions(UnixTime::from_secs(now), 10).await.unwrap().is_empty(),
        "notified by the caller already"
    );
    assert!(
        s.portal_end_person_sessions("pwd:alice", "ended-by-user", UnixTime::from_secs(now), &actor)
            .await
            .unwrap()
            .is_empty()
    );

    let log = verified_log(&*s).await;
    let logouts: Vec<_> = log.iter().filter(|e| e.action == "portal.logout").collect();
    assert_eq!(logouts.len(), 2, "one entry per call");
    assert_eq!((logouts[0].actor.as_str(), logouts[0].target.as_str()), ("portal:pwd:alice", "pwd:alice"));
    assert!(logouts[0].detail.contains("\"sessions_ended\":3"), "{}", logouts[0].detail);
    assert!(logouts[0].detail.contains("ended-by-user"), "{}", logouts[0].detail);
}

/// Person-key links (migration 0021, issue #24 item 10): an earlier card key listed unclaimed goes to the first
/// anchor-bound key that produces it, with its console grant, audited once; that key stays linked; another key
/// producing the same earlier key, or an unlisted earlier key, gets nothing. A new key granted already keeps its
/// own grant and the earlier one is dropped.
async fn earlier_person_keys_are_claimed_once_with_their_grant(db: TestDb) {
    use crate::console_grant::{ConsoleGrant, ConsoleRole};
    use crate::operator::OperatorRole;
    let s = db.store.clone();
    let grant = |person: &str, role: OperatorRole| ConsoleGrant {
        person_key: person.into(),
        role: ConsoleRole::Staff(role),
        note: "note".into(),
        granted_at: 1_800_000_000,
        granted_by: admin().as_str().to_owned(),
    };
    let (earlier, other_earlier) = ("hpki:HCPKI TEST:Test000001", "hpki:HCPKI TEST:Test000002");
    db.db_execute(&format!("INSERT INTO person_key_links (legacy_key) VALUES ('{earlier}'), ('{other_earlier}')"))
        .await;
    s.console_grant_put(&grant(earlier, OperatorRole::Operator), &admin(), AT).await.unwrap();
    s.console_grant_put(&grant(other_earlier, OperatorRole::Operator), &admin(), AT).await.unwrap();
    s.console_grant_put(&grant("hpki:d:O:2", OperatorRole::Auditor), &admin(), AT).await.unwrap();
    let head = s.audit_head().await.unwrap();

    assert_eq!(s.person_key_linked("hpki:a:O:1").await.unwrap(), None);
    assert_eq!(
        s.person_key_link("hpki:a:O:1", earlier, UnixTime::from_secs(10)).await.unwrap().as_deref(),
        Some(earlier)
    );
    assert_eq!(s.console_grant("hpki:a:O:1").await.unwrap().map(|g| g.role.name()), Some("operator"));
    assert!(s.console_grant(earlier).await.unwrap().is_none(), "the grant moved");
    assert_eq!(
        s.person_key_link("hpki:a:O:1", earlier, UnixTime::from_secs(11)).await.unwrap().as_deref(),
        Some(earlier)
    );
    assert_eq!(
        s.person_key_link("hpki:b:O:1", earlier, UnixTime::from_secs(12)).await.unwrap(),
        None,
        "claimed by another key"
    );
    assert!(s.console_grant("hpki:b:O:1").await.unwrap().is_none());
    assert_eq!(
        s.person_key_link("hpki:c:O:9", "hpki:HCPKI TEST:unlisted", UnixTime::from_secs(12)).await.unwrap(),
        None
    );
    assert_eq!(s.person_key_linked("hpki:a:O:1").await.unwrap().as_deref(), Some(earlier));
    assert_eq!(s.person_key_linked("hpki:b:O:1").await.unwrap(), None);
    // A key granted already keeps its own grant; the earlier one is superseded.
    assert_eq!(
        s.person_key_link("hpki:d:O:2", other_earlier, UnixTime::from_secs(13)).await.unwrap().as_deref(),
        Some(other_earlier)
    );
    assert_eq!(s.console_grant("hpki:d:O:2").await.unwrap().map(|g| g.role.name()), Some("auditor"));
    assert!(s.console_grant(other_earlier).await.unwrap().is_none());

    let made = audited_since(&*s, &head).await;
    assert_eq!(
        made,
        [
            ["person.key-linked".to_owned(), "hpki:a:O:1".to_owned(), "card:hpki:a:O:1".to_owned()],
            ["person.key-linked".to_owned(), "hpki:d:O:2".to_owned(), "card:hpki:d:O:2".to_owned()],
        ]
    );
    verified_log(&*s).await;
}

/// Console grants (D42): one per person, replaced by a second `put`, seen by another handle at once, removed
/// once; every change one audit entry in the same transaction, a removal of nothing none.
async fn console_grants_are_replaced_removed_and_audited(db: TestDb) {
    use crate::console_grant::{ConsoleGrant, ConsoleRole};
    use crate::operator::OperatorRole;
    let store = db.store.clone();
    let other = db.another_handle().await;
    let f = registered(store.as_ref(), "Grant clinic", None).await;
    let grant = |person: &str, role: ConsoleRole| ConsoleGrant {
        person_key: person.into(),
        role,
        note: "note".into(),
        granted_at: 1_800_000_000,
        granted_by: admin().as_str().to_owned(),
    };
    let card = "hpki:HCPKI TEST:Test000001";
    store.console_grant_put(&grant(card, ConsoleRole::Staff(OperatorRole::Operator)), &admin(), AT).await.unwrap();
    store.console_grant_put(&grant("pwd:clerk", ConsoleRole::FacilityAdmin(f.clone())), &admin(), AT).await.unwrap();
    assert_eq!(other.console_grant(card).await.unwrap().unwrap().role, ConsoleRole::Staff(OperatorRole::Operator));
    store.console_grant_put(&grant(card, ConsoleRole::Staff(OperatorRole::Auditor)), &admin(), AT).await.unwrap();
    let listed = other.console_grants().await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed.iter().find(|g| g.person_key == card).unwrap().role, ConsoleRole::Staff(OperatorRole::Auditor));
    assert_eq!(listed.iter().find(|g| g.person_key == "pwd:clerk").unwrap().role, ConsoleRole::FacilityAdmin(f));
    let removed = other.console_grant_remove(card, &admin(), AT).await.unwrap().unwrap();
    assert_eq!(removed.role, ConsoleRole::Staff(OperatorRole::Auditor));
    assert!(store.console_grant(card).await.unwrap().is_none());
    assert!(store.console_grant_remove(card, &admin(), AT).await.unwrap().is_none(), "removed twice");
    let log = verified_log(store.as_ref()).await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).filter(|a| a.starts_with("console.")).collect();
    assert_eq!(actions, ["console.grant.add", "console.grant.add", "console.grant.add", "console.grant.remove"]);
}

/// Address allocations (issue #24, item 2): an overlap with any allocation is refused naming the holder, also
/// when two handles (replicas) add overlapping ranges at once (exactly one wins) and when a registration (CSV
/// import) brings an overlapping one (not registered, a denied entry); removal takes exactly what is held.
async fn allocations_never_overlap_across_handles_and_registrations(db: TestDb) {
    use crate::facility::Allocation;
    let store = db.store.clone();
    let other = db.another_handle().await;
    let a = registered(store.as_ref(), "Allocation clinic A", None).await;
    let b = registered(store.as_ref(), "Allocation clinic B", None).await;
    let p = |t: &str| Allocation::parse(t).unwrap();
    store.add_allocation(&a, &p("2001:db8:10::/48"), &admin(), AT).await.unwrap();
    store.add_allocation(&a, &p("192.0.2.7"), &admin(), AT).await.unwrap();
    for (who, wanted) in [(&b, "2001:db8:10:1::/64"), (&b, "2001:db8::/32"), (&a, "192.0.2.0/24"), (&b, "192.0.2.7")] {
        match other.add_allocation(who, &p(wanted), &admin(), AT).await {
            Err(StoreError::AllocationHeld { holder, .. }) => assert_eq!(holder, a, "{wanted}"),
            got => panic!("{wanted} for {who}: {got:?}"),
        }
    }
    assert!(matches!(
        store.add_allocation(&FacilityId::from_number(999).unwrap(), &p("198.51.100.1"), &admin(), AT).await,
        Err(StoreError::UnknownFacility(_))
    ));
    // Racing overlapping adds on two handles, for two facilities: one wins.
    let (wide, narrow, actor) = (p("198.51.100.0/25"), p("198.51.100.64/26"), admin());
    let (x, y) =
        tokio::join!(store.add_allocation(&a, &wide, &actor, AT), other.add_allocation(&b, &narrow, &actor, AT));
    assert_eq!(usize::from(x.is_ok()) + usize::from(y.is_ok()), 1, "{x:?} {y:?}");
    let mut new = clinic("Importing clinic", None);
    new.allocations = vec![p("203.0.113.0/24"), p("2001:db8:10:ff::/64")];
    let r = store.register_facilities(&[new], &admin(), AT).await.unwrap();
    assert!(matches!(&r[..], [Registration::AddressHeld { holder, .. }] if *holder == a), "{r:?}");
    let mut fine = clinic("Importing clinic 2", None);
    fine.allocations = vec![p("203.0.113.0/24")];
    let Registration::New(c) = store.register_facilities(&[fine], &admin(), AT).await.unwrap().remove(0) else {
        panic!("not registered")
    };
    let held = other.allocations(Some(&c.id)).await.unwrap();
    assert_eq!(held.iter().map(|r| r.allocation.to_string()).collect::<Vec<_>>(), ["203.0.113.0/24"]);
    let of_a = store.allocations(Some(&a)).await.unwrap().len();
    assert_eq!(store.allocations_of(&[a.clone(), c.id.clone()]).await.unwrap().len(), of_a + held.len());
    assert!(matches!(
        store.remove_allocation(&b, &p("192.0.2.7"), &admin(), AT).await,
        Err(StoreError::UnknownAllocation { .. })
    ));
    store.remove_allocation(&a, &p("192.0.2.7"), &admin(), AT).await.unwrap();
    store.add_allocation(&b, &p("192.0.2.0/28"), &admin(), AT).await.unwrap();
    let log = verified_log(store.as_ref()).await;
    let count = |action: &str, outcome: Outcome| {
        log.iter().filter(|e| e.action == action && e.outcome == outcome.as_str()).count()
    };
    assert_eq!(count("facility.address.add", Outcome::Ok), 5, "two for A, the race's winner, the import, B's");
    assert_eq!(count("facility.address.add", Outcome::Denied), 1, "the refused registration");
    assert_eq!(count("facility.address.remove", Outcome::Ok), 1);
}

/// A batch of lifecycle changes (group commit, D35 addendum) gives each change the result it gets when the
/// same changes run one after another: a change refused by the state an earlier change of the batch left is
/// refused the same way, an unknown facility is named, and only the changes made are audited, each with its
/// own actor.
async fn transitions_in_one_batch_apply_as_if_one_after_another(db: TestDb) {
    let s = &*db.store;
    let ghost = FacilityId::from_number(999).unwrap();
    // (facility index, or none for the ghost; transition; reason; actor)
    let plan: [(Option<usize>, Transition, Option<&str>, Actor); 7] = [
        (Some(0), Transition::Approve, None, admin()),
        (Some(0), Transition::Approve, None, admin()),
        (Some(0), Transition::Suspend, Some("調査中"), admin()),
        (Some(1), Transition::Reject, Some("書類不備"), admin()),
        (Some(1), Transition::Approve, None, admin()),
        (None, Transition::Approve, None, admin()),
        (Some(2), Transition::Approve, None, Actor::system()),
    ];
    let changes = |ids: &[FacilityId]| -> Vec<FacilityChange> {
        plan.iter()
            .map(|(i, t, reason, actor)| FacilityChange {
                id: i.map_or_else(|| ghost.clone(), |i| ids[i].clone()),
                transition: *t,
                reason: reason.map(str::to_owned),
                actor: actor.clone(),
            })
            .collect()
    };
    let shape = |r: &Result<crate::facility::Facility, StoreError>| match r {
        Ok(f) => format!("{} by {} ({:?})", f.state, f.state_changed_by, f.state_reason),
        Err(StoreError::Transition(e)) => e.to_string(),
        Err(StoreError::UnknownFacility(id)) => format!("unknown {id}"),
        Err(other) => panic!("unexpected {other:?}"),
    };
    let mut one_by_one = Vec::new();
    let alone: Vec<FacilityId> =
        [registered(s, "A1", None).await, registered(s, "B1", None).await, registered(s, "C1", None).await].into();
    for c in changes(&alone) {
        one_by_one.push(shape(&s.transition_facility(&c.id, c.transition, c.reason.as_deref(), &c.actor, AT).await));
    }
    let grouped: Vec<FacilityId> =
        [registered(s, "A2", None).await, registered(s, "B2", None).await, registered(s, "C2", None).await].into();
    let head = s.audit_head().await.unwrap();
    let batch = s.transition_facilities(&changes(&grouped), AT).await.unwrap();
    let batch: Vec<String> = batch.iter().map(shape).collect();
    assert_eq!(batch, one_by_one);
    assert_eq!(
        batch,
        [
            "approved by cli:tester (None)".to_owned(),
            "cannot approve a facility that is approved".into(),
            "suspended by cli:tester (Some(\"調査中\"))".into(),
            "rejected by cli:tester (Some(\"書類不備\"))".into(),
            "cannot approve a facility that is rejected".into(),
            format!("unknown {ghost}"),
            "approved by system (None)".into(),
        ]
    );
    let made = audited_since(s, &head).await;
    let (a, b, c) = (grouped[0].as_str(), grouped[1].as_str(), grouped[2].as_str());
    assert_eq!(
        made,
        [
            ["facility.approve", a, "cli:tester"],
            ["facility.suspend", a, "cli:tester"],
            ["facility.reject", b, "cli:tester"],
            ["facility.approve", c, "system"],
        ],
        "one audit entry per change made, none for a refusal"
    );
    for (id, state) in grouped.iter().zip([FacilityState::Suspended, FacilityState::Rejected, FacilityState::Approved])
    {
        assert_eq!(s.facility(id).await.unwrap().unwrap().state, state);
    }
    // An empty batch is no change at all.
    let head = s.audit_head().await.unwrap();
    assert!(s.transition_facilities(&[], AT).await.unwrap().is_empty());
    assert_eq!(s.audit_head().await.unwrap(), head);
}

/// An import job's batch with approval (D38 addendum): every new facility registered and approved, each
/// audited once, and its item marked, all in the batch's one transaction; a row whose code is registered
/// already is skipped and not approved; a worker that no longer holds the job writes nothing.
async fn an_import_batch_with_approval_registers_and_approves_in_one_transaction(db: TestDb) {
    let s = &*db.store;
    let holder = registered(s, "先に登録", Some(&code(7))).await;
    let items = (0..3).map(|i| (format!("{}", i + 2), "{}".to_owned())).collect();
    let job_id = hcpki_model::JobId::from_random([7; 8]);
    let job = NewJob { id: job_id.clone(), kind: "facility-import".into(), params: "{}".into(), items };
    s.create_job(&job, &admin(), AT).await.unwrap();
    assert!(s.claim_job(&job_id, "w1", UnixTime::from_secs(100), UnixTime::from_secs(40)).await.unwrap());
    let batch = vec![(0, clinic("一", Some(&code(8)))), (1, clinic("二", Some(&code(7)))), (2, clinic("三", None))];
    let head = s.audit_head().await.unwrap();
    assert!(s.register_facilities_for_job(&job_id, "w2", &batch, true, &admin(), AT).await.unwrap().is_none());
    assert_eq!(s.audit_head().await.unwrap(), head, "a worker that lost the job writes nothing");

    let done = s.register_facilities_for_job(&job_id, "w1", &batch, true, &admin(), AT).await.unwrap().unwrap();
    let states: Vec<Option<FacilityState>> = done
        .iter()
        .map(|r| match r {
            Registration::New(f) => Some(f.state),
            Registration::AlreadyRegistered { .. } | Registration::AddressHeld { .. } => None,
        })
        .collect();
    assert_eq!(states, [Some(FacilityState::Approved), None, Some(FacilityState::Approved)]);
    assert!(matches!(&done[1], Registration::AlreadyRegistered { existing, .. } if *existing == holder.to_string()));
    let approved = s
        .list_facilities(&FacilityFilter { state: Some(FacilityState::Approved), ..FacilityFilter::default() })
        .await
        .unwrap();
    assert_eq!(approved.len(), 2);
    assert_eq!(s.facility(&holder).await.unwrap().unwrap().state, FacilityState::Applied, "the holder is untouched");
    let log = verified_log(s).await;
    let actions: Vec<&str> = log.iter().filter(|e| e.seq > head.seq).map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["facility.register", "facility.approve", "facility.register", "facility.approve"]);
    let items = s.job_items(&job_id, None, -1, 10).await.unwrap();
    let marked: Vec<&str> = items.iter().map(|i| i.state.as_str()).collect();
    assert_eq!(marked, ["done", "skipped", "done"]);
}

/// What a CRL lists (`revoked_of_ca`, and the marker that says a cached one is stale) through every path that
/// writes a revocation: a revocation, a facility's suspension (hold), its resumption (the hold released: off the
/// CRL), its retirement (holds made permanent, live certificates revoked); per CA, per shard, and without the
/// certificates that have expired. The query reads the certificates' `revoked` status, so this pins that the
/// status and the revocation rows never disagree.
async fn a_cas_crl_rows_follow_revocations_holds_releases_and_expiry(db: TestDb) {
    let s = &*db.store;
    let f = registered(s, "CRL clinic", None).await;
    s.transition_facility(&f, Transition::Approve, None, &admin(), AT).await.unwrap();
    let issue = |serial: &'static str, ca: &'static str, shard: Option<u16>, not_after: i64| {
        let f = f.clone();
        async move {
            let mut i = intent(serial, Some(&f), "pc");
            i.ca = CaName::from_stored(ca).unwrap();
            i.crl_shard = shard;
            i.not_before = 1_700_000_000;
            i.not_after = not_after;
            s.record_intent(&i, UnixTime::from_secs(NOW)).await.unwrap();
            s.complete_issuance(&sn(serial), b"\x30\x00", &admin(), AT).await.unwrap();
        }
    };
    let now = NOW;
    let later = now + 86_400 * 30;
    issue("0a01", "pc", Some(1), later).await;
    issue("0a02", "pc", Some(2), later).await;
    issue("0a03", "pc", Some(1), now + 100).await;
    issue("0b01", "router", None, later).await;
    let rows = |ca: &'static str, shard: Option<u16>, at: i64| async move {
        let ca: CaName = ca.parse().unwrap();
        let listed = s.revoked_of_ca(ca, None, shard, UnixTime::from_secs(at)).await.unwrap();
        let marker = s.revocation_marker(ca, None, shard, UnixTime::from_secs(at)).await.unwrap();
        assert_eq!(marker.0, listed.len() as i64, "marker count of {ca} {shard:?}: {marker:?} {listed:?}");
        assert_eq!(marker.2, listed.iter().map(|r| r.2).sum::<i64>(), "marker reasons of {ca}");
        listed.into_iter().map(|(serial, _, reason)| (serial.into_string(), reason)).collect::<Vec<_>>()
    };
    let list = |v: &[(&str, i64)]| v.iter().map(|(a, b)| (a.to_string(), *b)).collect::<Vec<_>>();
    assert!(rows("pc", None, now).await.is_empty());

    s.revoke_certificate(&sn("0a02"), 1, &admin(), AT).await.unwrap();
    assert_eq!(rows("pc", None, now).await, list(&[("0a02", 1)]));
    assert!(rows("router", None, now).await.is_empty(), "another CA's revocation listed");

    // Generations (D151): each generation's CRL lists what it issued only; without a generation (OCSP), all.
    for (serial, generation) in [("0d01", 1), ("0d02", 2)] {
        let mut i = intent(serial, Some(&f), "server");
        (i.ca, i.generation, i.not_before, i.not_after) = (CaName::Server, generation, 1_700_000_000, later);
        s.record_intent(&i, UnixTime::from_secs(NOW)).await.unwrap();
        s.complete_issuance(&sn(serial), b"\x30\x00", &admin(), AT).await.unwrap();
        s.revoke_certificate(&sn(serial), 1, &admin(), AT).await.unwrap();
    }
    for (generation, want) in [(Some(1), &["0d01"][..]), (Some(2), &["0d02"]), (None, &["0d01", "0d02"])] {
        let at = UnixTime::from_secs(now);
        let listed = s.revoked_of_ca(CaName::Server, generation, None, at).await.unwrap();
        let marker = s.revocation_marker(CaName::Server, generation, None, at).await.unwrap();
        let serials: Vec<&str> = listed.iter().map(|r| r.0.as_str()).collect();
        assert_eq!((serials.as_slice(), marker.0), (want, want.len() as i64), "generation {generation:?}");
    }

    s.transition_facility(&f, Transition::Suspend, Some("audit"), &admin(), AT).await.unwrap();
    assert_eq!(rows("pc", None, now).await, list(&[("0a01", 6), ("0a02", 1), ("0a03", 6)]));
    assert_eq!(rows("pc", Some(1), now).await, list(&[("0a01", 6), ("0a03", 6)]));
    assert_eq!(rows("pc", Some(2), now).await, list(&[("0a02", 1)]));
    assert_eq!(rows("router", None, now).await, list(&[("0b01", 6)]));
    assert_eq!(rows("pc", None, now + 200).await, list(&[("0a01", 6), ("0a02", 1)]), "an expired one listed");

    s.transition_facility(&f, Transition::Resume, None, &admin(), AT).await.unwrap();
    assert_eq!(rows("pc", None, now).await, list(&[("0a02", 1)]), "released holds still listed");
    assert!(rows("router", None, now).await.is_empty());

    s.transition_facility(&f, Transition::Suspend, None, &admin(), AT).await.unwrap();
    s.transition_facility(&f, Transition::Retire, None, &admin(), AT).await.unwrap();
    assert_eq!(rows("pc", None, now).await, list(&[("0a01", 5), ("0a02", 1), ("0a03", 5)]));
    assert_eq!(rows("router", None, now).await, list(&[("0b01", 5)]));
    verified_log(s).await;
}

/// `revoke_certificates` (group commit, D35 addendum 2): a batch gives each revocation the answer it would have
/// had alone, one after another — a serial revoked by an earlier item of the same batch, an unknown one and a
/// pending intent are refused by serial — and only the revocations made are written and audited, each with its
/// own reason and actor.
async fn revocations_in_one_batch_apply_as_if_one_after_another(db: TestDb) {
    let s = &*db.store;
    let f = registered(s, "失効一括", None).await;
    s.transition_facility(&f, Transition::Approve, None, &admin(), AT).await.unwrap();
    let issued = |serial: String| {
        let f = f.clone();
        async move {
            s.record_intent(&intent(&serial, Some(&f), "router"), UnixTime::from_secs(NOW)).await.unwrap();
            s.complete_issuance(&sn(&serial), b"\x30\x00", &admin(), AT).await.unwrap();
        }
    };
    // (serial, reason, actor): run once one by one on the "a0" serials, once as a batch on the "b0" ones.
    let plan: [(&str, u8, Actor); 6] = [
        ("01", 1, admin()),
        ("01", 4, admin()),
        ("02", 3, Actor::system()),
        ("ff", 1, admin()),
        ("03", 1, admin()),
        ("04", 5, admin()),
    ];
    let batch = |prefix: &str| -> Vec<Revocation> {
        plan.iter()
            .map(|(serial, reason, actor)| Revocation {
                serial: sn(&format!("{prefix}{serial}")),
                reason: *reason,
                actor: actor.clone(),
            })
            .collect()
    };
    let shape = |r: &Result<crate::CertificateRecord, StoreError>| match r {
        Ok(c) => format!("{:?}", c.status).to_lowercase(),
        Err(StoreError::UnknownSerial(serial)) => format!("not revocable {}", &serial[2..]),
        Err(other) => panic!("unexpected {other:?}"),
    };
    for prefix in ["a0", "b0"] {
        for n in ["01", "02", "04"] {
            issued(format!("{prefix}{n}")).await;
        }
        // "03" only has its intent (reserved, never signed), so it is not revocable.
        s.record_intent(&intent(&format!("{prefix}03"), Some(&f), "router"), UnixTime::from_secs(NOW)).await.unwrap();
    }
    let mut one_by_one = Vec::new();
    for r in batch("a0") {
        one_by_one.push(shape(&s.revoke_certificate(&r.serial, r.reason, &r.actor, AT).await));
    }
    let head = s.audit_head().await.unwrap();
    let grouped: Vec<String> = s.revoke_certificates(&batch("b0"), AT).await.unwrap().iter().map(shape).collect();
    assert_eq!(grouped, one_by_one);
    assert_eq!(grouped, ["revoked", "not revocable 01", "revoked", "not revocable ff", "not revocable 03", "revoked"]);
    let made = audited_since(s, &head).await;
    assert_eq!(
        made,
        [
            ["cert.revoke", "b001", "cli:tester"],
            ["cert.revoke", "b002", "system"],
            ["cert.revoke", "b004", "cli:tester"]
        ],
        "one audit entry per revocation made, none for a refusal"
    );
    let listed: Vec<(String, i64)> = s
        .revoked_of_ca(CaName::Router, None, None, UnixTime::from_secs(NOW))
        .await
        .unwrap()
        .into_iter()
        .filter(|(serial, _, _)| serial.as_str().starts_with("b0"))
        .map(|(serial, _, reason)| (serial.into_string(), reason))
        .collect();
    assert_eq!(listed, [("b001".to_owned(), 1), ("b002".into(), 3), ("b004".into(), 5)], "the first reason stands");
    for (serial, status) in
        [("b001", CertStatus::Revoked), ("b003", CertStatus::Reserved), ("b004", CertStatus::Revoked)]
    {
        assert_eq!(s.certificate(&sn(serial)).await.unwrap().unwrap().status, status, "{serial}");
    }
    // An empty batch is no change at all.
    let head = s.audit_head().await.unwrap();
    assert!(s.revoke_certificates(&[], AT).await.unwrap().is_empty());
    assert_eq!(s.audit_head().await.unwrap(), head);
}

/// A session and its login's audit entry share one transaction (issue #6: every login audited; issue #9: a crash
/// leaves no session without its entry): both land, and a session that cannot be stored (here, its id taken)
/// leaves no entry behind either.
async fn a_session_and_its_login_entry_are_written_together_or_not_at_all(db: TestDb) {
    let s = &*db.store;
    let head = s.audit_head().await.unwrap();
    let until = NOW + 3600;
    let session = sso_session("together", "pwd:alice", None, until);
    let entry = s.portal_create_session(&session, &login_event(&session), AT).await.unwrap();
    assert_eq!(entry.action, "portal.login");
    assert!(
        s.portal_session("together", UnixTime::from_secs(until - 60)).await.unwrap().is_some(),
        "the session is live"
    );

    let again = sso_session("together", "pwd:mallory", None, until);
    assert!(s.portal_create_session(&again, &login_event(&again), AT).await.is_err(), "a second session under one id");
    let made = audited_since(s, &head).await;
    assert_eq!(made, [["portal.login".to_owned(), "pwd:alice".to_owned(), "portal:pwd:alice".to_owned()]]);
}

/// An idle server's release of the database caches (the server's idle memory release): SQLite shrinks every
/// idle connection of both pools, each once; PostgreSQL has nothing in the process to release. Either way the
/// store answers as before.
async fn idle_caches_are_released_and_the_store_goes_on(db: TestDb) {
    let s = &*db.store;
    let id = registered(s, "Clinic R", None).await;
    let shrunk = s.release_memory().await.unwrap();
    match s.backend() {
        // At least the connection that just registered, at most both pools' connections.
        Backend::Sqlite => assert!((1..=10).contains(&shrunk), "{shrunk} connections shrunk"),
        Backend::Postgres => assert_eq!(shrunk, 0),
    }
    assert_eq!(s.facility(&id).await.unwrap().unwrap().name, "Clinic R", "read after the release");
    registered(s, "Clinic R2", None).await;
    verified_log(s).await;
}

/// The store reads no clock: a row's time and its audit entry's are the ones the caller passed, here far from
/// the real time.
async fn stored_times_are_the_times_passed_in(db: TestDb) {
    let s = &*db.store;
    let registered_at_ms = 1_234_567_890_123;
    let f = s
        .register_facility(&clinic("時刻の病院", None), &admin(), UnixTime::from_millis(registered_at_ms))
        .await
        .unwrap();
    assert_eq!((f.created_at, f.state_changed_at), (1_234_567_890, 1_234_567_890));
    let approved_at_ms = registered_at_ms + 86_400_000 + 1;
    s.transition_facility(&f.id, Transition::Approve, None, &admin(), UnixTime::from_millis(approved_at_ms))
        .await
        .unwrap();
    let stored = s.facility(&f.id).await.unwrap().unwrap();
    assert_eq!((stored.created_at, stored.state_changed_at), (1_234_567_890, 1_234_567_890 + 86_400));
    let log = verified_log(s).await;
    let times: Vec<(&str, i64)> = log.iter().map(|e| (e.action.as_str(), e.at_ms)).collect();
    assert_eq!(times, [("facility.register", registered_at_ms), ("facility.approve", approved_at_ms)]);
}

fn signing_request(id: &str, expires_at: i64) -> store::signing_request::SigningRequestRecord {
    store::signing_request::SigningRequestRecord {
        id: id.parse().unwrap(),
        client_id: "emr".into(),
        person_key: "hpki:00:MEDIS:Test1".into(),
        grant_id: "g1".into(),
        sub: "pairwise".into(),
        format: "cades".into(),
        level: "b-t".into(),
        title: "診療情報提供書".into(),
        document: vec![0, 1, 2, 255],
        document_sha256: "ab".repeat(32),
        state: store::signing_request::SigningState::Pending,
        result: None,
        signer_sha256: None,
        gen_time: None,
        created_at: NOW,
        expires_at,
        error: None,
        signature_mode: None,
    }
}

/// A request is stored with its entry, ends once (signed here, so a second finisher and a refusal find it
/// taken), keeps an attempt's error while pending, cannot end after its deadline, and is swept a day after it.
async fn signing_requests_end_once_and_are_swept_a_day_after_their_deadline(db: TestDb) {
    use store::signing_request::{SigningEnd, SigningState};
    let s = &*db.store;
    let other = db.another_handle().await;
    let event = |action: &str, id: &str| AuditEvent {
        actor: "oidc:emr".into(),
        action: action.into(),
        target: id.into(),
        outcome: Outcome::Ok,
        detail: serde_json::json!({}),
    };
    let a = signing_request("a", NOW + 900);
    s.signing_request_create(&a, &event("signing_request.create", "a"), AT).await.unwrap();
    s.signing_request_create(&signing_request("b", NOW + 900), &event("signing_request.create", "b"), AT)
        .await
        .unwrap();
    assert_eq!(other.signing_request(&"a".parse().unwrap()).await.unwrap().as_ref(), Some(&a), "read back as stored");
    assert!(s.signing_request(&"missing".parse().unwrap()).await.unwrap().is_none());

    assert!(
        s.signing_request_note_error(
            &"a".parse().unwrap(),
            "no TSA answered",
            &event("signing_request.error", "a"),
            AT
        )
        .await
        .unwrap()
    );
    assert_eq!(
        s.signing_request(&"a".parse().unwrap()).await.unwrap().unwrap().error.as_deref(),
        Some("no TSA answered")
    );
    let mode = Some(r#"{"mode":"session","n":2,"of":250}"#.to_owned());
    let signed = SigningEnd::Signed {
        result: vec![0x30, 0x80],
        signer_sha256: "cd".repeat(32),
        gen_time: Some(NOW),
        signature_mode: mode.clone(),
    };
    let done = s
        .signing_request_finish(&"a".parse().unwrap(), &signed, &event("signing_request.sign", "a"), AT)
        .await
        .unwrap();
    let done = done.expect("pending: ends");
    assert_eq!(
        (done.state, done.result.as_deref(), done.gen_time, done.error, done.signature_mode),
        (SigningState::Signed, Some(&[0x30, 0x80][..]), Some(NOW), None, mode)
    );
    let refuse = SigningEnd::Closed { state: SigningState::Refused, reason: "no".into() };
    assert!(
        other.signing_request_finish(&"a".parse().unwrap(), &refuse, &event("x", "a"), AT).await.unwrap().is_none(),
        "once"
    );
    assert!(!s.signing_request_note_error(&"a".parse().unwrap(), "late", &event("x", "a"), AT).await.unwrap());
    let pending = SigningEnd::Closed { state: SigningState::Pending, reason: "no".into() };
    assert!(
        s.signing_request_finish(&"b".parse().unwrap(), &pending, &event("x", "b"), AT).await.is_err(),
        "not an end state"
    );
    let late = (NOW + 900) * 1000;
    assert!(
        s.signing_request_finish(&"b".parse().unwrap(), &refuse, &event("x", "b"), UnixTime::from_millis(late))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );

    assert_eq!(
        s.portal_sweep(UnixTime::from_secs(NOW + 900 + 86_399), 0, 100).await.unwrap().signing_requests,
        0,
        "kept a day"
    );
    assert_eq!(s.portal_sweep(UnixTime::from_secs(NOW + 900 + 86_400), 0, 100).await.unwrap().signing_requests, 2);
    let log = verified_log(s).await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["signing_request.create", "signing_request.create", "signing_request.error", "signing_request.sign"]
    );
}

/// Consents and identity links (issue #28): a file of their own.
mod ca_rollovers;
mod consents;
mod delegations;
mod passkeys;
mod router_psks;
mod session_limits;

/// Group commit (D159): many writers at once share transactions; a writer that fails (a duplicate 医療機関コード,
/// rolled back inside the group) loses only its own work, every other writer's work is kept and durable (seen
/// by a second handle on the file), and the audit chain stays contiguous and verifiable.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_share_commits_and_a_failing_one_loses_only_its_own_work() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    let s = std::sync::Arc::new(super::SqliteStore::open(&url).await.unwrap());
    let taken = registered(&*s, "Holder", Some("0110113719")).await;
    let mut tasks = Vec::new();
    for i in 0..48 {
        let s = std::sync::Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            // Every fourth writer asks for the code already held and must fail alone.
            let code = (i % 4 == 0).then_some("0110113719");
            (i, s.register_facility(&clinic(&format!("Clinic {i}"), code), &admin(), AT).await)
        }));
    }
    let mut kept = Vec::new();
    for task in tasks {
        let (i, result) = task.await.unwrap();
        match result {
            Ok(registration) => {
                assert_ne!(i % 4, 0, "writer {i} should have been refused");
                kept.push(registration.id);
            }
            Err(e) => {
                assert_eq!(i % 4, 0, "writer {i} failed: {e}");
                assert!(matches!(e, StoreError::DuplicateMedicalCode { .. }), "{e:?}");
            }
        }
    }
    assert_eq!(kept.len(), 36);
    let other = super::SqliteStore::open(&url).await.unwrap();
    let listed = other.list_facilities(&Default::default()).await.unwrap();
    assert_eq!(listed.len(), 37);
    for id in kept.iter().chain([&taken]) {
        assert!(listed.iter().any(|f| &f.id == id), "{id} not durable");
    }
    let entries = verified_log(&other).await;
    assert_eq!(entries.len(), 37, "one audit entry per kept registration, none for the refused");
    // After the burst the group is closed: another process can write at once (no lock left held).
    registered(&other, "After", None).await;
    registered(&*s, "After again", None).await;
    assert_eq!(verified_log(&*s).await.len(), 39);
}
