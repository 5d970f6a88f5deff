//! `issue_many`: a batch with good and bad requests gives one result per request, in order; refusals are
//! audited; nothing partial is stored; the audit chain stays whole.

use super::*;
use crate::csr;
use crate::facility::{Facility, FacilityId, FacilityKind, NewFacility, Transition};
use crate::profile::ProfileKind;
use crate::store::{CertStatus, CertificateFilter, StoreError};
use hcpki_model::SerialHex;
use hcpki_pkix::keys::SoftwareKey;
use std::collections::HashMap;

pub(crate) async fn authority(dir: &std::path::Path) -> Authority {
    let pass = dir.join("pass");
    std::fs::write(&pass, "test passphrase").unwrap();
    let keys = KeyContext { base_dir: dir.to_owned(), passphrase_file: Some(pass), pkcs11: None };
    let store = crate::store::open(&format!("sqlite:{}", dir.join("t.db").display())).await.unwrap();
    let options = InitOptions { placement: KeyPlacement::Software, algorithms: BTreeMap::new() };
    Authority::init(store, keys, ProfileSettings::default(), &options, &Actor::cli("test")).await.unwrap()
}

pub(crate) fn csr(alg: KeyAlgorithm) -> Vec<u8> {
    let (key, _) = SoftwareKey::generate_device_key(alg).unwrap();
    csr::build(&key, x509_cert::name::Name::default()).unwrap()
}

pub(crate) fn request(
    profile: ProfileKind,
    facility: Option<&FacilityId>,
    csr: Vec<u8>,
    sans: Vec<String>,
) -> IssueRequest {
    IssueRequest {
        profile,
        facility: facility.cloned(),
        csr: csr.into(),
        sans,
        device: None,
        router: None,
        router_eku: None,
        ocsp_for: None,
        not_after: None,
    }
}

#[tokio::test]
async fn a_mixed_batch_issues_the_good_requests_and_refuses_the_rest_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let ca = authority(dir.path()).await;
    let actor = Actor::cli("test");
    let new = |name: &str| NewFacility::new(name, FacilityKind::Clinic, None, None, None).unwrap();
    let a = ca.registrar().register_facility(&new("A clinic"), &actor).await.unwrap();
    ca.registrar().transition(&a.id, Transition::Approve, None, &actor).await.unwrap();
    let b = ca.registrar().register_facility(&new("B clinic"), &actor).await.unwrap();
    ca.registrar().transition(&b.id, Transition::Approve, None, &actor).await.unwrap();
    let applied = ca.registrar().register_facility(&new("Not yet approved"), &actor).await.unwrap();
    let unknown = FacilityId::from_number(99_999_999).unwrap();
    let head_before = ca.store().audit_head().await.unwrap();

    let dns = |f: &Facility| vec![ca.settings().router_dns_name(&f.id)];
    let batch = [
        request(ProfileKind::Router, Some(&a.id), csr(KeyAlgorithm::P256), dns(&a)),
        request(ProfileKind::Router, Some(&a.id), b"not a CSR".to_vec(), dns(&a)),
        request(ProfileKind::Pc, Some(&b.id), csr(KeyAlgorithm::P256), vec![]),
        request(ProfileKind::Router, Some(&b.id), csr(KeyAlgorithm::P256), dns(&a)), // A's name for B
        request(ProfileKind::Pc, Some(&applied.id), csr(KeyAlgorithm::P256), vec![]),
        request(ProfileKind::Router, Some(&b.id), csr(KeyAlgorithm::Rsa2048), dns(&b)),
        request(ProfileKind::Pc, Some(&unknown), csr(KeyAlgorithm::P256), vec![]),
    ];
    let results = ca.pipeline().issue_many(&batch, &actor).await;
    assert_eq!(results.len(), batch.len(), "one result per request");

    let ok: Vec<bool> = results.iter().map(Result::is_ok).collect();
    assert_eq!(ok, [true, false, true, false, false, true, false], "{results:?}");
    assert!(matches!(results[1], Err(SigningError::Csr(_))), "{:?}", results[1]);
    assert!(matches!(results[3], Err(SigningError::Profile(_))), "{:?}", results[3]);
    assert!(matches!(results[4], Err(SigningError::Facility(FacilityRefusal::State { .. }))), "{:?}", results[4]);
    assert!(matches!(results[6], Err(SigningError::Facility(FacilityRefusal::Unknown(_)))), "{:?}", results[6]);
    // Each good result belongs to its own request.
    for (i, r) in results.iter().enumerate() {
        if let Ok((_, record)) = r {
            assert_eq!(record.facility, batch[i].facility, "result {i}");
            assert_eq!(record.profile.to_string(), batch[i].profile.to_string(), "result {i}");
        }
    }

    let issued = ca
        .store()
        .list_certificates(&CertificateFilter { status: Some(CertStatus::Issued), ..Default::default() })
        .await
        .unwrap();
    let end_entity = issued.iter().filter(|c| c.facility.is_some()).count();
    assert_eq!(end_entity, 3, "exactly the three good requests are stored");
    let reserved = ca
        .store()
        .list_certificates(&CertificateFilter { status: Some(CertStatus::Reserved), ..Default::default() })
        .await
        .unwrap();
    assert!(reserved.is_empty(), "no intent is left behind: {reserved:?}");

    // Every refusal is audited with its reason, and the chain verifies.
    let entries = ca.store().audit_entries(head_before.seq, 1000).await.unwrap();
    let denied = entries.iter().filter(|e| e.outcome == "denied").count();
    assert_eq!(denied, batch.len() - 3, "one denied entry per refused request: {entries:#?}");
    let all = ca.store().audit_entries(0, 100_000).await.unwrap();
    let head = ca.store().audit_head().await.unwrap();
    crate::audit::verify_chain(&all, &head).unwrap();
}

#[tokio::test]
async fn an_empty_batch_is_an_empty_answer() {
    let dir = tempfile::tempdir().unwrap();
    let ca = authority(dir.path()).await;
    assert!(ca.pipeline().issue_many(&[], &Actor::cli("test")).await.is_empty());
}

/// `not_after` only ever shortens a validity: an earlier time (even one already past, within the five-minute
/// back-dating) ends the certificate there, a later one leaves the profile's lifetime.
#[tokio::test]
async fn a_requested_not_after_shortens_the_validity_and_never_extends_it() {
    let dir = tempfile::tempdir().unwrap();
    let ca = authority(dir.path()).await;
    let actor = Actor::cli("test");
    let new = NewFacility::new("A clinic", FacilityKind::Clinic, None, None, None).unwrap();
    let a = ca.registrar().register_facility(&new, &actor).await.unwrap();
    ca.registrar().transition(&a.id, Transition::Approve, None, &actor).await.unwrap();
    let now = hcpki_pkix::time::now_unix();
    let issue = |not_after: Option<i64>| {
        let mut r = request(ProfileKind::Router, Some(&a.id), csr(KeyAlgorithm::P256), vec![]);
        r.not_after = not_after;
        r
    };
    let (_, expired) = ca.pipeline().issue(&issue(Some(now - 60)), &actor).await.unwrap();
    assert_eq!(expired.not_after, now - 60);
    assert!(expired.not_before < expired.not_after);
    let (_, later) = ca.pipeline().issue(&issue(Some(now + 3650 * 86_400)), &actor).await.unwrap();
    let (_, default) = ca.pipeline().issue(&issue(None), &actor).await.unwrap();
    assert!(later.not_after <= default.not_after && default.not_after - later.not_after < 5, "{later:?} {default:?}");
    assert!(
        ca.pipeline().issue(&issue(Some(now - 3600)), &actor).await.is_err(),
        "notAfter before notBefore is a lint error"
    );
}

/// Through the group-commit worker (D35 addendum), 40 concurrent approvals of 20 facilities, each asked twice:
/// every facility approved exactly once, every second request refused as "already approved", exactly as one
/// after another; one `facility.approve` audit entry per facility and the chain whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_approvals_through_group_commit_answer_as_one_after_another() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Arc::new(authority(dir.path()).await);
    ca.start_group_commit();
    let actor = Actor::cli("test");
    let batch: Vec<NewFacility> = (0..20)
        .map(|i| NewFacility::new(&format!("並行承認 {i}"), FacilityKind::Clinic, None, None, None).unwrap())
        .collect();
    let ids: Vec<FacilityId> = ca
        .store()
        .register_facilities(&batch, &actor, hcpki_pkix::time::now())
        .await
        .unwrap()
        .into_iter()
        .map(|r| match r {
            crate::store::Registration::New(f) => f.id,
            other => panic!("{other:?}"),
        })
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids.iter().chain(ids.iter()) {
        let (ca, actor, id) = (ca.clone(), actor.clone(), id.clone());
        tasks.spawn(
            async move { (id.clone(), ca.registrar().transition(&id, Transition::Approve, None, &actor).await) },
        );
    }
    let mut approved = HashMap::new();
    let mut refused = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (id, result) = joined.unwrap();
        match result {
            Ok(f) => {
                assert_eq!(f.state, crate::facility::FacilityState::Approved);
                *approved.entry(id).or_insert(0) += 1;
            }
            Err(RegistryError::Store(StoreError::Transition(e))) => {
                assert_eq!(e.from, crate::facility::FacilityState::Approved, "{e}");
                *refused.entry(id).or_insert(0) += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    for id in &ids {
        assert_eq!((approved.get(id), refused.get(id)), (Some(&1), Some(&1)), "{id}");
    }
    let all = ca.store().audit_entries(0, 100_000).await.unwrap();
    assert_eq!(all.iter().filter(|e| e.action == "facility.approve").count(), ids.len());
    let head = ca.store().audit_head().await.unwrap();
    crate::audit::verify_chain(&all, &head).unwrap();
}

/// Revocations through the group-commit worker (D35 addendum 2): many callers at once, two per certificate,
/// get the answers they would have had one after another — each certificate revoked once, the other caller
/// told it is not revocable — with one `cert.revoke` audit entry per certificate and the chain whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_revocations_through_group_commit_answer_as_one_after_another() {
    use crate::revocation::Reason;
    let dir = tempfile::tempdir().unwrap();
    let ca = Arc::new(authority(dir.path()).await);
    ca.start_group_commit();
    let actor = Actor::cli("test");
    let clinic = NewFacility::new("並行失効", FacilityKind::Clinic, None, None, None).unwrap();
    let f = ca.registrar().register_facility(&clinic, &actor).await.unwrap();
    ca.registrar().transition(&f.id, Transition::Approve, None, &actor).await.unwrap();
    let batch: Vec<IssueRequest> =
        (0..20).map(|_| request(ProfileKind::Pc, Some(&f.id), csr(KeyAlgorithm::P256), vec![])).collect();
    let serials: Vec<SerialHex> =
        ca.pipeline().issue_many(&batch, &actor).await.into_iter().map(|r| r.unwrap().1.serial).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for serial in serials.iter().chain(serials.iter()) {
        let (ca, actor, serial) = (ca.clone(), actor.clone(), serial.clone());
        tasks.spawn(async move {
            let reason = Reason(crate::revocation::CrlReason::KeyCompromise);
            (serial.clone(), ca.revoker().revoke(&serial, reason, &actor).await)
        });
    }
    let mut revoked = HashMap::new();
    let mut refused = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (serial, result) = joined.unwrap();
        match result {
            Ok(record) => {
                assert_eq!((record.serial.as_str(), record.status), (serial.as_str(), CertStatus::Revoked));
                *revoked.entry(serial).or_insert(0) += 1;
            }
            Err(RevocationError::NotRevocable(s)) => {
                assert_eq!(s.as_str(), serial.as_str());
                *refused.entry(serial).or_insert(0) += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    for serial in &serials {
        assert_eq!((revoked.get(serial), refused.get(serial)), (Some(&1), Some(&1)), "{serial}");
    }
    let all = ca.store().audit_entries(0, 100_000).await.unwrap();
    assert_eq!(all.iter().filter(|e| e.action == "cert.revoke").count(), serials.len());
    let head = ca.store().audit_head().await.unwrap();
    crate::audit::verify_chain(&all, &head).unwrap();
}
