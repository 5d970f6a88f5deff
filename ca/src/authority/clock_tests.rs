//! The authority reads the time from its injected clock only: at a fixed clock, a certificate's notBefore
//! and stored `issued_at`, a revocation's time and a CRL's thisUpdate are that time (issue #25).

use super::tests::{csr, request};
use super::*;
use crate::facility::{FacilityKind, NewFacility, Transition};
use crate::profile::ProfileKind;
use crate::revocation::Reason;
use hcpki_pkix::time::FixedClock;
use x509_cert::crl::CertificateList;

/// A time well away from now (2030-01-01T00:00:00Z), so a stray system-clock read would show.
const AT: i64 = 1_893_456_000;

async fn authority_at(dir: &std::path::Path, clock: Arc<FixedClock>) -> Authority {
    let pass = dir.join("pass");
    std::fs::write(&pass, "test passphrase").unwrap();
    let keys = KeyContext { base_dir: dir.to_owned(), passphrase_file: Some(pass), pkcs11: None };
    let store = crate::store::open(&format!("sqlite:{}", dir.join("t.db").display())).await.unwrap();
    let options = InitOptions { placement: KeyPlacement::Software, algorithms: BTreeMap::new() };
    Authority::init_with_clock(store, keys, ProfileSettings::default(), &options, &Actor::cli("test"), clock)
        .await
        .unwrap()
}

#[tokio::test]
async fn issuance_revocation_and_crls_read_the_injected_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::at(AT));
    let ca = authority_at(dir.path(), clock.clone()).await;
    let backdate = ca.settings().backdate();
    let root = Certificate::from_der(ca.ca_certificate(CaName::Root).unwrap()).unwrap();
    assert_eq!(hcpki_pkix::time::unix(&root.tbs_certificate().validity().not_before), AT - backdate, "the root too");

    let actor = Actor::cli("test");
    let new = NewFacility::new("A clinic", FacilityKind::Clinic, None, None, None).unwrap();
    let a = ca.registrar().register_facility(&new, &actor).await.unwrap();
    ca.registrar().transition(&a.id, Transition::Approve, None, &actor).await.unwrap();
    let (_, issued) = ca
        .pipeline()
        .issue(&request(ProfileKind::Pc, Some(&a.id), csr(KeyAlgorithm::P256), vec![]), &actor)
        .await
        .unwrap();
    assert_eq!(issued.not_before, AT - backdate, "notBefore is the clock's time, back-dated by the setting");
    let stored = ca.store().certificate(&issued.serial).await.unwrap().unwrap();
    assert_eq!(stored.issued_at, Some(AT), "issued_at is the clock's time");

    clock.advance(3600);
    ca.revoker()
        .revoke(&issued.serial, Reason(x509_cert::ext::pkix::crl::CrlReason::KeyCompromise), &actor)
        .await
        .unwrap();
    clock.advance(60);
    let der = ca.revoker().crl(CaName::Pc).await.unwrap();
    let crl: CertificateList = CertificateList::from_der(&der).unwrap();
    assert_eq!(hcpki_pkix::time::unix(&crl.tbs_cert_list.this_update), AT + 3660 - backdate, "thisUpdate");
    let entries = crl.tbs_cert_list.revoked_certificates.unwrap_or_default();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(hcpki_pkix::time::unix(&entries[0].revocation_date), AT + 3600, "the revocation's time");
}
