//! The consent core: the state machine table, the patient key, the identity link, and the whole life applied
//! to a real store (SQLite, and PostgreSQL when `HCPKI_TEST_PG_URL` names one).

use super::audit::{Actor, action};
use super::evidence::{AttestationReason, Evidence, Sha256Hex, Signer};
use super::identity::{self, CardCertificates, Confirmation};
use super::life::{self, NewConsent, Phase};
use super::purpose::{PORTAL_CLIENT, Purpose, Requester};
use super::settings::ConsentSettings;
use super::{ConsentError, record};
use crate::patient_key::{FacilityPatientId, PatientKey, PatientKeyError, PatientKeySecret};
use hcpki_ca::FacilityId;
use hcpki_ca::person_key::PersonKey;
use hcpki_ca::store::Store;
use hcpki_ca::store::consent::{ConsentMove, ConsentRecord, ConsentState, EvidenceLevel};
use std::sync::Arc;

const NOW: i64 = 1_795_000_000;

fn secret() -> PatientKeySecret {
    PatientKeySecret::from_server_secret(&[7u8; 32]).unwrap()
}

fn facility() -> FacilityId {
    FacilityId::from_number(1).unwrap()
}

fn patient(id: &str) -> PatientKey {
    secret().key(&facility(), &FacilityPatientId::parse(id).unwrap())
}

fn physician() -> PersonKey {
    PersonKey::parse("hpki:0123456789abcdef0123456789abcdef:MEDIS:Doctor1").unwrap()
}

fn staff() -> PersonKey {
    PersonKey::parse("hpki:0123456789abcdef0123456789abcdef:MEDIS:Staff1").unwrap()
}

fn new_consent(purpose: &str) -> NewConsent {
    NewConsent {
        requester: Requester::service("emr").unwrap(),
        purpose: Purpose::parse(purpose).unwrap(),
        facility: facility(),
        patient: patient("P-0001"),
        physician: physician(),
    }
}

pub(super) fn requested(id: &str) -> ConsentRecord {
    life::request(id.parse().unwrap(), &new_consent("record-link"), &ConsentSettings::default(), NOW).unwrap().0
}

fn evidence(signer: Signer, document: &[u8], at: i64) -> Evidence {
    Evidence::new(signer, Sha256Hex::of(document), "pades", "b-lt", Sha256Hex::of(b"signer certificate"), at).unwrap()
}

fn at(consent: &ConsentRecord, state: ConsentState) -> ConsentRecord {
    let mut c = consent.clone();
    c.state = state;
    if state == ConsentState::Signed || state == ConsentState::Withdrawn {
        c.signature = Some(evidence(Signer::Patient, b"consent", NOW + 10).to_record());
    }
    c
}

#[test]
fn the_patient_key_is_keyed_framed_and_hides_the_patient_id() {
    let a = patient("P-0001");
    assert_eq!(a, patient("P-0001"), "the same patient, the same key");
    assert!(PatientKey::parse(a.as_str()).is_some() && a.as_str().starts_with("pk1:"));
    assert!(!a.as_str().contains("P-0001"));
    assert_ne!(a, patient("P-0002"));
    let other_facility =
        secret().key(&FacilityId::from_number(2).unwrap(), &FacilityPatientId::parse("P-0001").unwrap());
    assert_ne!(a, other_facility, "a patient ID means a patient only within its facility");
    let other_secret = PatientKeySecret::from_server_secret(&[8u8; 32]).unwrap();
    assert_ne!(a, other_secret.key(&facility(), &FacilityPatientId::parse("P-0001").unwrap()), "keyed");
    assert!(matches!(PatientKeySecret::from_server_secret(&[1u8; 16]), Err(PatientKeyError::Secret(16))));
    for bad in ["", " P1", "P1 ", "０００１", "P\u{7}1", &"9".repeat(65)] {
        assert!(matches!(FacilityPatientId::parse(bad), Err(PatientKeyError::PatientId(_))), "{bad:?}");
    }
    assert!(PatientKey::parse("pk1:short").is_none() && PatientKey::parse("P-0001").is_none());
    assert!(!format!("{:?}", FacilityPatientId::parse("P-0001").unwrap()).contains("P-0001"), "kept out of logs");
}

#[test]
fn purposes_and_requesters_are_parsed_once() {
    for good in ["record-link", "disclosure.hospital-b", "a", "0_x"] {
        assert!(Purpose::parse(good).is_ok(), "{good}");
    }
    for bad in ["", "-x", "Record", "リンク", "a b", &"a".repeat(65)] {
        assert!(matches!(Purpose::parse(bad), Err(ConsentError::Purpose(_))), "{bad:?}");
    }
    assert!(matches!(Requester::service(PORTAL_CLIENT), Err(ConsentError::ReservedClient(_))));
    assert_eq!(Requester::Portal.client_id(), PORTAL_CLIENT);
}

/// Every (phase, move) pair: which are allowed, and which error each refused one gives.
#[test]
fn moves_follow_the_state_machine_and_refused_ones_say_what_to_do() {
    let base = requested("c1");
    let actor = Actor::Person(physician());
    let signed = evidence(Signer::Patient, b"consent", NOW + 10);
    let withdrawal = evidence(Signer::Patient, b"withdrawal", NOW + 20);
    let late = base.expires_at;
    type Judge = fn(&ConsentRecord, &Evidence, &Evidence, &Actor, i64) -> Result<life::Step, ConsentError>;
    let moves: [(&str, Judge); 4] = [
        ("show", |c, _, _, a, now| life::show(c, a, now)),
        ("sign", |c, e, _, a, now| life::sign(c, e, a, now)),
        ("refuse", |c, _, _, a, now| life::refuse(c, "患者が希望しない", a, now)),
        ("withdraw", |c, _, w, a, now| life::withdraw(c, w, a, now)),
    ];
    // (state, time, [show, sign, refuse, withdraw]): Ok = allowed, else the error's name.
    let table: [(ConsentState, i64, [&str; 4]); 7] = [
        (ConsentState::Requested, NOW + 30, ["ok", "not_shown", "ok", "not_signed"]),
        (ConsentState::Shown, NOW + 30, ["already_shown", "ok", "ok", "not_signed"]),
        (ConsentState::Requested, late, ["expired", "expired", "expired", "not_signed"]),
        (ConsentState::Shown, late, ["expired", "expired", "expired", "not_signed"]),
        (ConsentState::Signed, late + 9_999, ["ended", "ended", "ended", "ok"]),
        (ConsentState::Refused, NOW + 30, ["ended", "ended", "ended", "not_signed"]),
        (ConsentState::Withdrawn, NOW + 30, ["ended", "ended", "ended", "ended"]),
    ];
    for (state, now, expected) in table {
        let consent = at(&base, state);
        for ((name, judge), want) in moves.iter().zip(expected) {
            let got = match judge(&consent, &signed, &withdrawal, &actor, now) {
                Ok(step) => {
                    assert_eq!(step.event().target, "c1");
                    "ok"
                }
                Err(ConsentError::NotShown(_)) => "not_shown",
                Err(ConsentError::AlreadyShown(_)) => "already_shown",
                Err(ConsentError::NotSigned(_)) => "not_signed",
                Err(ConsentError::Expired { .. }) => "expired",
                Err(ConsentError::Ended { .. }) => "ended",
                Err(other) => panic!("{state:?} {name}: {other}"),
            };
            assert_eq!(got, want, "{state:?} at {now}: {name}");
        }
    }
    assert_eq!(Phase::of(&base, NOW + 599), Phase::Requested);
    assert_eq!(Phase::of(&base, NOW + 600), Phase::Expired, "the deadline is exclusive");
}

#[test]
fn a_signature_stamped_outside_the_request_is_not_its_signature() {
    let shown = at(&requested("c1"), ConsentState::Shown);
    let actor = Actor::Person(physician());
    let early = evidence(Signer::Patient, b"old", NOW - 61);
    assert!(matches!(life::sign(&shown, &early, &actor, NOW + 30), Err(ConsentError::StampOutsideWindow { .. })));
    let future = evidence(Signer::Patient, b"new", NOW + 30 + 61);
    assert!(matches!(life::sign(&shown, &future, &actor, NOW + 30), Err(ConsentError::StampOutsideWindow { .. })));
    assert!(life::sign(&shown, &evidence(Signer::Patient, b"x", NOW - 60), &actor, NOW + 30).is_ok(), "clock skew");
    let hash = Sha256Hex::of(b"x");
    assert!(matches!(
        Evidence::new(Signer::Patient, hash.clone(), "pades", "b-t", hash.clone(), NOW),
        Err(ConsentError::Signature(_))
    ));
    assert!(matches!(
        Evidence::new(Signer::Patient, hash.clone(), "xades", "b-lt", hash, NOW),
        Err(ConsentError::Signature(_))
    ));
    assert!(matches!(Sha256Hex::parse("document", "abc"), Err(ConsentError::Hash { .. })));
    assert!(matches!(
        ConsentSettings { deadline_secs: 59, ..Default::default() }.deadline(),
        Err(ConsentError::Deadline(59))
    ));
}

#[test]
fn audit_events_name_the_patient_by_key_and_mark_the_weaker_evidence() {
    let (consent, event) =
        life::request("c1".parse().unwrap(), &new_consent("record-link"), &ConsentSettings::default(), NOW).unwrap();
    assert_eq!((event.action.as_str(), event.actor.as_str()), (action::REQUESTED, "oidc:emr"));
    assert_eq!(event.detail["patient"], patient("P-0001").as_str());
    assert!(!event.detail.to_string().contains("P-0001"), "no patient ID in clear: {}", event.detail);
    let shown = at(&consent, ConsentState::Shown);
    let attested = evidence(Signer::PhysicianAttesting(AttestationReason::KeyLocked), b"consent", NOW + 5);
    let step = life::sign(&shown, &attested, &Actor::Person(physician()), NOW + 10).unwrap();
    assert_eq!(step.event().action, action::SIGNED);
    assert_eq!(step.event().detail["evidence_level"], "physician_attestation");
    assert_eq!(step.event().detail["attestation_reason"], "key_locked");
    let ConsentMove::Sign(kept) = step.change() else { panic!("{:?}", step.change()) };
    assert_eq!(kept.level, EvidenceLevel::PhysicianAttestation, "weaker in the record too");
}

fn card(signing: &[u8], auth: Option<&[u8]>) -> CardCertificates {
    CardCertificates { signing: Sha256Hex::of(signing), authentication: auth.map(Sha256Hex::of) }
}

fn confirmation(patient_id: &str, card: CardCertificates) -> Confirmation {
    Confirmation { patient: patient(patient_id), facility: facility(), card, staff: staff() }
}

#[test]
fn a_link_is_made_kept_corrected_and_never_given_to_two_patients() {
    let first =
        identity::link(None, &[], &confirmation("P-0001", card(b"sig1", Some(b"auth1"))), NOW).unwrap().unwrap();
    assert_eq!((first.link().generation, first.event().action.as_str()), (1, action::LINKED));
    let stored = first.link().clone();
    // The same card again (the auth certificate not read this time): nothing to write.
    let same = confirmation("P-0001", card(b"sig1", None));
    assert!(identity::link(Some(&stored), std::slice::from_ref(&stored), &same, NOW + 1).unwrap().is_none());
    // A new card after an address change: the same link, corrected.
    let renewed = confirmation("P-0001", card(b"sig2", Some(b"auth2")));
    let fixed = identity::link(Some(&stored), &[], &renewed, NOW + 2).unwrap().unwrap();
    assert_eq!((fixed.link().generation, fixed.link().created_at), (2, NOW));
    assert_eq!(fixed.event().action, action::CORRECTED);
    assert_eq!(fixed.event().detail["previous_signing_sha256"], stored.signing_sha256);
    // The first card confirmed for another patient ID of the facility: refused.
    let elsewhere = confirmation("P-0002", card(b"sig1", None));
    let refused = identity::link(None, std::slice::from_ref(&stored), &elsewhere, NOW);
    assert!(matches!(refused, Err(ConsentError::CardLinkedElsewhere)));
    assert_eq!(
        identity::identified(std::slice::from_ref(&stored), &Sha256Hex::of(b"auth1")).unwrap(),
        Some(patient("P-0001"))
    );
    assert_eq!(identity::identified(std::slice::from_ref(&stored), &Sha256Hex::of(b"auth9")).unwrap(), None);
    let mut twin = stored.clone();
    twin.patient_key = patient("P-0003").as_str().into();
    assert!(matches!(identity::identified(&[stored, twin], &Sha256Hex::of(b"auth1")), Err(ConsentError::Ambiguous)));
}

async fn stores() -> Vec<(Arc<dyn Store>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = hcpki_ca::store::open(&format!("sqlite://{}", dir.path().join("c.db").display())).await.unwrap();
    let mut all = vec![(sqlite, Some(dir))];
    match std::env::var("HCPKI_TEST_PG_URL") {
        Ok(admin) => {
            let url = hcpki_ca::store::create_scratch_database(&admin, "consent").await.unwrap();
            all.push((hcpki_ca::store::open(&url).await.unwrap(), None));
        }
        Err(_) => eprintln!("HCPKI_TEST_PG_URL is not set: PostgreSQL run skipped"),
    }
    all
}

/// The whole life on a real store: requested, shown, signed (a racing refusal loses and says so), a second
/// request refused while one is live, withdrawn at once, kept as history; and the identity link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_lives_on_the_store_and_its_moves_are_audited() {
    for (store, _dir) in stores().await {
        let s = &*store;
        let ms = |t: i64| t * 1000;
        let settings = ConsentSettings::default();
        let physician_acts = Actor::Person(physician());
        let (c, event) = life::request("c1".parse().unwrap(), &new_consent("record-link"), &settings, NOW).unwrap();
        record::open(s, &c, &[], &event, ms(NOW)).await.unwrap();
        let c = record::apply(s, life::show(&c, &physician_acts, NOW + 5).unwrap(), ms(NOW + 5)).await.unwrap();
        let refusal = life::refuse(&c, "患者が希望しない", &physician_acts, NOW + 9).unwrap();
        let signed = evidence(Signer::Patient, b"consent", NOW + 8);
        let c =
            record::apply(s, life::sign(&c, &signed, &physician_acts, NOW + 10).unwrap(), ms(NOW + 10)).await.unwrap();
        assert_eq!(c.state, ConsentState::Signed);
        let lost = record::apply(s, refusal, ms(NOW + 11)).await;
        assert!(matches!(lost, Err(ConsentError::Raced(_, "signed"))), "{lost:?}");

        let (again, event) =
            life::request("c2".parse().unwrap(), &new_consent("record-link"), &settings, NOW + 20).unwrap();
        let refused = record::open(s, &again, &[], &event, ms(NOW + 20)).await;
        assert!(matches!(refused, Err(ConsentError::AlreadyConsented(ref id)) if id.as_str() == "c1"), "{refused:?}");
        assert!(record::read(s, &"c2".parse().unwrap()).await.is_err(), "nothing stored");

        let withdrawal = evidence(Signer::Patient, b"withdrawal", NOW + 3000);
        let gone = life::withdraw(&c, &withdrawal, &physician_acts, NOW + 3000).unwrap();
        let gone = record::apply(s, gone, ms(NOW + 3000)).await.unwrap();
        assert_eq!(gone.state, ConsentState::Withdrawn);
        assert!(s.consent_live("emr", c.patient_key.as_str(), "record-link").await.unwrap().is_none());
        let history = s.consent_history(&c.patient_key).await.unwrap();
        assert_eq!(history.len(), 1, "withdrawn, kept");
        assert_eq!(record::sweep(s, &settings, NOW + 3000 + 86_400, 100).await.unwrap(), 0, "kept for years");

        let link = record::save_link(s, &confirmation("P-0001", card(b"sig1", Some(b"auth1"))), ms(NOW)).await.unwrap();
        assert_eq!(link.map(|l| l.generation), Some(1));
        let renewed = confirmation("P-0001", card(b"sig2", Some(b"auth2")));
        assert_eq!(record::save_link(s, &renewed, ms(NOW + 1)).await.unwrap().map(|l| l.generation), Some(2));
        assert!(record::save_link(s, &renewed, ms(NOW + 2)).await.unwrap().is_none(), "unchanged");
        let found = record::identify(s, &facility(), &Sha256Hex::of(b"auth2")).await.unwrap();
        assert_eq!(found, Some(patient("P-0001")));
        assert_eq!(record::identify(s, &facility(), &Sha256Hex::of(b"auth1")).await.unwrap(), None, "updated");

        let log = s.audit_entries(0, 100).await.unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [action::REQUESTED, action::SHOWN, action::SIGNED, action::WITHDRAWN, action::LINKED, action::CORRECTED]
        );
        assert!(log.iter().all(|e| !e.detail.to_string().contains("P-0001")), "the patient by key only");
    }
}

/// A portal session of `person_key`, at the test facility or none.
fn session(person_key: &str, at_facility: bool) -> crate::session::Session {
    crate::session::Session {
        id_hash: "session-hash".into(),
        person_key: person_key.into(),
        subject: crate::policy::Subject::hpki("山田 太郎", None),
        facility_id: at_facility.then(facility),
        credential: Default::default(),
        auth_time: NOW - 60,
        expires_at: NOW + 3600,
        presence: false,
        lend: None,
        terminal: None,
    }
}

#[test]
fn staff_at_a_facility_ask_from_the_portal_reception_included() {
    use super::ask::{may_ask, portal_templates};
    use super::desk::DeskError;
    let card = physician().to_string();
    assert_eq!(may_ask(&session(&card, true)).unwrap(), physician());
    assert!(matches!(may_ask(&session(&card, false)), Err(DeskError::NoFacility)));
    // Reception (a password + second-factor sign-in) starts a consent too (issue #49 item 2), at a facility only.
    assert_eq!(may_ask(&session("pwd:reception-1", true)).unwrap().to_string(), "pwd:reception-1");
    assert!(matches!(may_ask(&session("pwd:reception-1", false)), Err(DeskError::NoFacility)));
    assert!(matches!(may_ask(&session("password:staff-1", true)), Err(DeskError::NotAPhysician)));
    let patient = format!("jpki:{}:{}", physician().to_string().split(':').nth(1).unwrap(), "ab".repeat(32));
    assert!(matches!(may_ask(&session(&patient, true)), Err(DeskError::NotAPhysician)), "{patient}");
    let template = super::template::Template::example;
    let settings = ConsentSettings {
        templates: vec![template("emr", "record-link"), template(PORTAL_CLIENT, "visit-history")],
        ..ConsentSettings::default()
    };
    let offered: Vec<&str> = portal_templates(&settings).iter().map(|t| t.purpose.as_str()).collect();
    assert_eq!(offered, ["visit-history"], "a service's template is not the portal's to offer");
}

#[test]
fn an_identification_challenge_cannot_finish_a_login_nor_a_login_challenge_an_identification() {
    let s = session(&physician().to_string(), true);
    let identify = super::identification::binding(&s);
    let login = crate::login::challenge::prelogin_binding(&s.id_hash);
    assert_ne!(identify, login);
    assert!(identify.starts_with("identify:") && !login.contains(':'), "{identify} / {login}");
}
