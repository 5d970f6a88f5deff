//! A rollover of issuing CAs through every state on a real (SQLite) authority: the new generation is signed by
//! the root and served beside the old one, issues only after the switch (as every replica loads it), and the old
//! one is retired only when nothing is left on it, or at once as compromised (its certificate revoked). Bad
//! steps are refused, say what to do, and change nothing.

use super::rollover::{RolloverError, RolloverOptions};
use super::tests::{authority, csr, request};
use super::*;
use crate::facility::{FacilityKind, NewFacility, Transition};
use crate::profile::ProfileKind;
use crate::store::rollover::{RolloverRefusal, RolloverState, RolloverStep};
use crate::store::{CertStatus, CertificateFilter};
use hcpki_model::name::common_name;

fn issuer_cn(der: &[u8]) -> String {
    common_name(Certificate::from_der(der).unwrap().tbs_certificate().issuer()).unwrap()
}

fn subject_cn(der: &[u8]) -> String {
    common_name(Certificate::from_der(der).unwrap().tbs_certificate().subject()).unwrap()
}

/// The authority as a freshly started replica sees the store.
async fn reloaded(ca: &Authority) -> Authority {
    let h = ca.hierarchy();
    Authority::load_with_clock(ca.store().clone(), h.keys().clone(), h.settings().clone(), h.clock().clone())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_issuing_ca_rolls_over_through_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(hcpki_pkix::time::FixedClock::at(hcpki_pkix::time::now_unix()));
    let ca = authority(dir.path()).await.with_clock(clock.clone());
    let actor = Actor::cli("test");
    let facility = ca
        .registrar()
        .register_facility(&NewFacility::new("Roll clinic", FacilityKind::Clinic, None, None, None).unwrap(), &actor)
        .await
        .unwrap()
        .id;
    ca.registrar().transition(&facility, Transition::Approve, None, &actor).await.unwrap();
    let pc = || request(ProfileKind::Pc, Some(&facility), csr(KeyAlgorithm::P256), vec![]);
    let (before, _) = ca.pipeline().issue(&pc(), &actor).await.unwrap();
    let old_cert = ca.ca_certificate(CaName::Pc).unwrap().to_vec();

    // Nothing to switch.
    let none = ca.rollover_step(CaName::Pc, RolloverStep::Switch, &actor).await.unwrap_err();
    assert!(matches!(none, RolloverError::Refused(RolloverRefusal::NotOpen { .. })), "{none}");

    let started = ca.rollover_start(CaName::Pc, &RolloverOptions::default(), &actor).await.unwrap();
    assert_eq!((started.generation, started.state), (2, RolloverState::Published));
    assert_eq!(started.key_uri, "file:keys/pc-g2.p8");
    assert!(dir.path().join("keys/pc-g2.p8").exists());
    assert_eq!(subject_cn(&started.cert_der), "hcpki Facility PC CA G2");
    assert_eq!(issuer_cn(&started.cert_der), "hcpki Root CA");
    // Recorded and audited like every certificate: a `ca-pc` row issued by the root.
    let rows = ca.pipeline().certificates().list_certificates(&CertificateFilter::default()).await.unwrap();
    assert_eq!(rows.iter().filter(|r| r.profile.as_str() == "ca-pc" && r.status == CertStatus::Issued).count(), 2);

    let twice = ca.rollover_start(CaName::Pc, &RolloverOptions::default(), &actor).await.unwrap_err();
    assert!(twice.to_string().contains("under way already"), "{twice}");
    let early = ca.rollover_step(CaName::Pc, RolloverStep::Retire { compromised: false }, &actor).await.unwrap_err();
    assert!(early.to_string().contains("switch first"), "{early}");

    // Published: both generations served, the old one still issues.
    let replica = reloaded(&ca).await;
    assert_eq!(replica.hierarchy().next_generation(CaName::Pc), Some(started.cert_der.as_slice()));
    assert_eq!(replica.hierarchy().other_generation(CaName::Pc), Some(started.cert_der.as_slice()));
    let (during, _) = replica.pipeline().issue(&pc(), &actor).await.unwrap();
    assert_eq!(issuer_cn(&during.der), "hcpki Facility PC CA");

    clock.advance(10);
    ca.rollover_step(CaName::Pc, RolloverStep::Switch, &actor).await.unwrap();
    clock.advance(10);
    let replica = reloaded(&ca).await;
    assert_eq!(replica.ca_certificate(CaName::Pc).unwrap(), started.cert_der.as_slice());
    assert_eq!(replica.hierarchy().other_generation(CaName::Pc), Some(old_cert.as_slice()));
    assert_eq!(replica.hierarchy().next_generation(CaName::Pc), None);
    let (after, _) = replica.pipeline().issue(&pc(), &actor).await.unwrap();
    assert_eq!(issuer_cn(&after.der), "hcpki Facility PC CA G2");
    let late = ca.rollover_step(CaName::Pc, RolloverStep::Abort, &actor).await.unwrap_err();
    assert!(late.to_string().contains("cannot be aborted"), "{late}");
    // SCEP GetCRL answers the CRL of the generation named as the certificate's issuer (D160); another name is
    // refused with what to ask for.
    for cert in [&old_cert, &started.cert_der] {
        let name = Certificate::from_der(cert).unwrap().tbs_certificate().subject().clone();
        let crl = crate::enroll::scep::ScepAuthority::crl(&replica, ProfileKind::Pc, &name).await.unwrap();
        let crl: x509_cert::crl::CertificateList = x509_cert::crl::CertificateList::from_der(&crl).unwrap();
        assert_eq!(crl.tbs_cert_list.issuer, name);
    }
    let stranger = Certificate::from_der(&before.der).unwrap().tbs_certificate().subject().clone();
    let refused = crate::enroll::scep::ScepAuthority::crl(&replica, ProfileKind::Pc, &stranger).await.unwrap_err();
    assert!(refused.to_string().contains("GetCRL's issuer is that certificate's issuer"), "{refused}");

    // The two certificates issued before the switch hold the old generation: retiring is refused.
    let status = replica.rollover_status(CaName::Pc).await.unwrap();
    assert_eq!(status.old_holders, vec![(Some(facility.as_str().to_owned()), 2)]);
    let refused = ca.rollover_step(CaName::Pc, RolloverStep::Retire { compromised: false }, &actor).await.unwrap_err();
    assert!(matches!(refused, RolloverError::OldStillValid { certificates: 2, facilities: 1, .. }), "{refused}");
    assert_eq!(replica.rollover_status(CaName::Pc).await.unwrap().latest.unwrap().state, RolloverState::Switched);
    drop(before);

    // Declared compromised: retired at once, the old CA certificate revoked.
    let retired = ca.rollover_step(CaName::Pc, RolloverStep::Retire { compromised: true }, &actor).await.unwrap();
    assert_eq!((retired.state, retired.compromised), (RolloverState::Retired, true));
    let rows = ca.pipeline().certificates().list_certificates(&CertificateFilter::default()).await.unwrap();
    let old_row = rows.iter().find(|r| r.der.as_deref() == Some(old_cert.as_slice())).unwrap();
    assert_eq!(old_row.status, CertStatus::Revoked);
    assert_eq!(reloaded(&ca).await.hierarchy().other_generation(CaName::Pc), None);
}

#[tokio::test]
async fn an_aborted_rollover_leaves_the_old_generation_issuing_and_the_next_one_takes_a_new_number() {
    let dir = tempfile::tempdir().unwrap();
    let ca = authority(dir.path()).await;
    let actor = Actor::cli("test");
    let old = ca.ca_certificate(CaName::Server).unwrap().to_vec();
    ca.rollover_start(CaName::Server, &RolloverOptions::default(), &actor).await.unwrap();
    let aborted = ca.rollover_step(CaName::Server, RolloverStep::Abort, &actor).await.unwrap();
    assert_eq!(aborted.state, RolloverState::Aborted);
    let replica = reloaded(&ca).await;
    assert_eq!(replica.ca_certificate(CaName::Server).unwrap(), old.as_slice());
    assert_eq!(replica.hierarchy().other_generation(CaName::Server), None);
    let again = ca.rollover_start(CaName::Server, &RolloverOptions::default(), &actor).await.unwrap();
    assert_eq!((again.generation, again.key_uri.as_str()), (3, "file:keys/server-g3.p8"));
    assert_eq!(subject_cn(&again.cert_der), "hcpki Server CA G3");
}

#[tokio::test]
async fn a_start_whose_key_cannot_be_made_says_why_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ca = authority(dir.path()).await;
    let actor = Actor::cli("test");
    // What an interrupted start (or a key made by hand) leaves: the file the next generation's key would take.
    std::fs::write(dir.path().join("keys/pc-g2.p8"), b"left over").unwrap();
    let certificates = ca.pipeline().certificates().clone();
    let rows = || async { certificates.list_certificates(&CertificateFilter::default()).await.unwrap().len() };
    let before = rows().await;
    let e = ca.rollover_start(CaName::Pc, &RolloverOptions::default(), &actor).await.unwrap_err();
    assert!(e.to_string().contains("exists already"), "{e}");
    assert!(ca.store().rollovers().await.unwrap().is_empty());
    assert_eq!(rows().await, before, "no CA certificate issued for a key that was not made");
    assert_eq!(std::fs::read(dir.path().join("keys/pc-g2.p8")).unwrap(), b"left over", "never overwritten");
}
