//! The responder against a real authority on SQLite: pre-signed answers are served as stored, a revocation
//! replaces exactly the answer it concerns after one maintenance round, nonces get fresh answers, and bad
//! requests are refused with the right status.

use super::*;
use crate::authority::tests::{authority, csr, request};
use crate::facility::{FacilityKind, NewFacility, Transition};
use crate::profile::ProfileKind;
use crate::revocation::{CrlReason, Reason};
use crate::store::Actor;
use der::Encode;
use der::asn1::OctetString;
use hcpki_pkix::asn1::ocsp::{BasicOcspResponse, CertStatus as Wire, OcspRequest, OcspResponse, Request, TbsRequest};
use hcpki_pkix::keys::KeySource;
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use x509_cert::ext::Extension;

fn ask(ids: Vec<CertId>, nonce: Option<&[u8]>) -> Vec<u8> {
    let request_extensions = nonce.map(|n| {
        let value = OctetString::new(n).unwrap().to_der().unwrap();
        vec![Extension {
            extn_id: hcpki_pkix::asn1::ocsp::ID_PKIX_OCSP_NONCE,
            critical: false,
            extn_value: OctetString::new(value).unwrap(),
        }]
    });
    let request_list = ids.into_iter().map(|req_cert| Request { req_cert, single_request_extensions: None }).collect();
    let tbs = TbsRequest { version: Default::default(), requestor_name: None, request_list, request_extensions };
    OcspRequest { tbs_request: tbs, optional_signature: None }.to_der().unwrap()
}

fn statuses(der: &[u8]) -> (Vec<Wire>, bool) {
    let response = OcspResponse::from_der(der).unwrap();
    let basic = BasicOcspResponse::from_der(response.response_bytes.unwrap().response.as_bytes()).unwrap();
    let data = basic.tbs_response_data;
    (data.responses.into_iter().map(|r| r.cert_status).collect(), data.response_extensions.is_some())
}

/// An authority with an approved clinic, two router certificates (kept, gone) and a responder for the router
/// CA with its answers pre-signed.
struct Fixture {
    _dir: tempfile::TempDir,
    ca: crate::Authority,
    responder: Responder,
    kept: crate::issuer::Issued,
    gone: crate::issuer::Issued,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = authority(dir.path()).await;
        let actor = Actor::cli("test");
        let facility = NewFacility::new("OCSP clinic", FacilityKind::Clinic, None, None, None).unwrap();
        let f = ca.registrar().register_facility(&facility, &actor).await.unwrap();
        ca.registrar().transition(&f.id, Transition::Approve, None, &actor).await.unwrap();
        let names = vec![ca.settings().router_dns_name(&f.id)];
        let router = |csr| request(ProfileKind::Router, Some(&f.id), csr, names.clone());
        let (kept, _) = ca.pipeline().issue(&router(csr(KeyAlgorithm::P256)), &actor).await.unwrap();
        let (gone, _) = ca.pipeline().issue(&router(csr(KeyAlgorithm::P256)), &actor).await.unwrap();

        let (key, _) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
        let key: Arc<dyn KeySource> = Arc::new(key);
        let mut signer_request =
            request(ProfileKind::Ocsp, None, crate::csr::build(key.as_ref(), Default::default()).unwrap(), vec![]);
        signer_request.ocsp_for = Some(CaName::Router);
        let (signer_cert, _) = ca.pipeline().issue(&signer_request, &actor).await.unwrap();
        let board = Arc::new(RevocationBoard::new(&[CaName::Router]));
        let now = hcpki_pkix::time::now();
        board.refresh(ca.store().as_ref(), CaName::Router, now, true).await.unwrap();
        let served = Served {
            ca: CaName::Router,
            generation: 1,
            certificate: ca.ca_certificate(CaName::Router).unwrap().to_vec(),
            signer: OcspSigner::new(&signer_cert.der, key).unwrap(),
        };
        let (store, settings) = (ca.store(), ResponderSettings::default());
        let responder =
            Responder::new(store.clone(), store.clone(), board, vec![served], settings, ca.clock().clone()).unwrap();
        assert_eq!(responder.prewarm().await.unwrap(), 3, "both router certificates and the responder's own");
        Self { _dir: dir, ca, responder, kept, gone }
    }

    fn id(&self, serial: &SerialHex) -> CertId {
        sha1_cert_id(&self.responder.issuers[0], serial).unwrap()
    }
}

#[tokio::test]
async fn answers_are_pre_signed_and_replaced_when_revoked() {
    let f = Fixture::new().await;
    let (ca, responder, kept, gone, actor) = (&f.ca, &f.responder, &f.kept, &f.gone, Actor::cli("test"));
    let id = |serial: &SerialHex| f.id(serial);

    // Pre-signed: the same stored answer twice.
    let Reply::Cached(first) = responder.respond(&ask(vec![id(&kept.serial)], None)).await else { panic!() };
    let Reply::Cached(again) = responder.respond(&ask(vec![id(&kept.serial)], None)).await else { panic!() };
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(statuses(&first.der).0, [Wire::Good(Null)]);
    let Reply::Cached(before) = responder.respond(&ask(vec![id(&gone.serial)], None)).await else { panic!() };

    // Revoked: the next maintenance round re-signs exactly that answer.
    ca.revoker().revoke(&gone.serial, Reason(CrlReason::KeyCompromise), &actor).await.unwrap();
    let round = responder.maintain(hcpki_pkix::time::now()).await.unwrap();
    assert_eq!((round.changed, round.resigned), (1, 1));
    let Reply::Cached(after) = responder.respond(&ask(vec![id(&gone.serial)], None)).await else { panic!() };
    assert!(!Arc::ptr_eq(&before, &after));
    let (after_statuses, _) = statuses(&after.der);
    let [Wire::Revoked(info)] = after_statuses.as_slice() else { panic!("not revoked") };
    assert_eq!(info.revocation_reason, Some(CrlReason::KeyCompromise));
    let Reply::Cached(still) = responder.respond(&ask(vec![id(&kept.serial)], None)).await else { panic!() };
    assert!(Arc::ptr_eq(&first, &still), "the other answer is untouched");

    // A nonce, or several certificates: signed for the request, nonce echoed.
    let Reply::Fresh(fresh) = responder.respond(&ask(vec![id(&kept.serial)], Some(&[7u8; 16]))).await else { panic!() };
    assert_eq!(statuses(&fresh), (vec![Wire::Good(Null)], true));
    let two = ask(vec![id(&kept.serial), id(&gone.serial)], None);
    let Reply::Fresh(both) = responder.respond(&two).await else { panic!() };
    assert!(matches!(statuses(&both).0.as_slice(), [Wire::Good(_), Wire::Revoked(_)]));

    // Never issued: a signed unknown. Garbage: malformedRequest. Another CA's hashes: unauthorized.
    let Reply::Cached(unknown) = responder.respond(&ask(vec![id(&"7f0102".parse().unwrap())], None)).await else {
        panic!()
    };
    assert_eq!(statuses(&unknown.der).0, [Wire::Unknown(Null)]);
    let Reply::Refused(status, _) = responder.respond(b"\x30\x03\x02\x01\x00").await else { panic!() };
    assert_eq!(status, OcspResponseStatus::MalformedRequest);
    let mut foreign = id(&kept.serial);
    foreign.issuer_key_hash = OctetString::new(vec![0u8; 20]).unwrap();
    let Reply::Refused(status, _) = responder.respond(&ask(vec![foreign], None)).await else { panic!() };
    assert_eq!(status, OcspResponseStatus::Unauthorized);
}

/// thisUpdate lies the back-dating (five minutes by default) before producedAt, the signing time, so a relying
/// party whose clock runs a few minutes behind accepts the answer; nextUpdate is a full validity after
/// signing; the maintenance sweep re-signs answers half-way from signing to nextUpdate, well before it.
fn unix(t: &der::asn1::GeneralizedTime) -> i64 {
    t.to_unix_duration().as_secs() as i64
}

#[tokio::test]
async fn answers_are_back_dated_and_re_signed_before_next_update() {
    let f = Fixture::new().await;
    let settings = ResponderSettings::default();
    let request = ask(vec![f.id(&f.kept.serial)], None);
    let ask_kept = || f.responder.respond(&request);
    let Reply::Cached(first) = ask_kept().await else { panic!() };
    let w = first.window;
    assert_eq!(w.this_update, w.produced_at - settings.backdate_secs);
    assert_eq!(settings.backdate_secs, 300);
    assert_eq!(w.next_update, w.produced_at + settings.validity_secs);
    let data = BasicOcspResponse::from_der(
        OcspResponse::from_der(&first.der).unwrap().response_bytes.unwrap().response.as_bytes(),
    )
    .unwrap()
    .tbs_response_data;
    assert_eq!(unix(&data.produced_at), w.produced_at);
    let single = &data.responses[0];
    assert_eq!(unix(&single.this_update), w.this_update);
    assert_eq!(single.next_update.map(|t| unix(&t)), Some(w.next_update));

    // Just before half-way the sweep leaves it; at half-way it signs a new one.
    f.responder.maintain(UnixTime::from_secs(first.refresh_at() - 1)).await.unwrap();
    let Reply::Cached(kept) = ask_kept().await else { panic!() };
    assert!(Arc::ptr_eq(&first, &kept));
    let due = first.refresh_at() + SWEEP_SECS;
    assert!(due < w.next_update);
    let round = f.responder.maintain(UnixTime::from_secs(due)).await.unwrap();
    assert!(round.resigned >= 1, "{round:?}");
    let Reply::Cached(renewed) = ask_kept().await else { panic!() };
    assert!(!Arc::ptr_eq(&first, &renewed));
    assert_eq!(renewed.window.produced_at, due);
    assert_eq!(renewed.window.this_update, due - settings.backdate_secs);
}
