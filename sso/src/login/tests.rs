//! Unit tests of the card-login core on the virtual-card test PKI: path validation corners, the CRL cache's
//! rules (issuer, rollback, staleness, backoff), and the anchor set deciding the card kind. The end-to-end
//! cases (both databases, OpenSSL cross-checks) are in tests/integration/card_login.rs.

use super::card::RevocationChecked;
use super::crl_cache::{CrlError, Revocation};
use super::trust::{ParsedCert, TrustError};
use super::*;
use crate::policy::Credential;
use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject, HpkiTestCas, Revoked};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

const ORIGIN: &str = "https://portal.unit";

fn pki() -> (HpkiTestCas, HpkiCredentials) {
    let cas = HpkiTestCas::new().unwrap();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    (cas, card)
}

/// The usual HPKI configuration: the root as anchor, the authentication CA as configured intermediate.
fn hpki_trust(card: &HpkiCredentials) -> TrustAnchors {
    TrustAnchors::new(std::slice::from_ref(&card.root), &[], std::slice::from_ref(&card.authentication_ca)).unwrap()
}

fn parsed(der: &[u8]) -> ParsedCert {
    ParsedCert::from_der(der).unwrap()
}

fn now() -> i64 {
    hcpki_pkix::time::now_unix()
}

/// A verifier whose cache holds fresh, empty CRLs of both HPKI CAs.
fn verifier(cas: &HpkiTestCas, trust: TrustAnchors, policy: RevocationPolicy) -> CardVerifier {
    let crls = Arc::new(CrlCache::new(Vec::new(), &trust));
    crls.install("auth", &cas.authentication_crl(&[], CrlValidity::fresh(24)).unwrap(), now()).unwrap();
    crls.install("arl", &cas.root_arl(&[], CrlValidity::fresh(24)).unwrap(), now()).unwrap();
    CardVerifier::new(Arc::new(trust), crls, policy)
}

fn signed_login(card: &HpkiCredentials) -> (Challenge, Vec<u8>) {
    let challenge = Challenge::for_tests(&[7; 32], ORIGIN);
    let message = hcpki_agent_protocol::login_message(ORIGIN, challenge.bytes());
    (challenge, card.authentication.key.sign_sha256(&message).unwrap())
}

#[test]
fn anchor_sets_are_kept_apart_and_hold_only_cas() {
    let (_, card) = pki();
    let both = TrustAnchors::new(std::slice::from_ref(&card.root), std::slice::from_ref(&card.root), &[]);
    assert!(matches!(both, Err(TrustError::InBothSets { .. })));
    let leaf = TrustAnchors::new(std::slice::from_ref(&card.authentication.cert), &[], &[]);
    assert!(matches!(leaf, Err(TrustError::NotCa { .. })));
}

#[test]
fn the_anchor_set_decides_the_kind_and_jpki_never_carries_a_role() {
    let (cas, card) = pki();
    // The same HPKI chain, its root configured as a *JPKI* anchor: identity only, the hcRole ignored.
    let trust = TrustAnchors::new(&[], std::slice::from_ref(&card.root), std::slice::from_ref(&card.authentication_ca))
        .unwrap();
    let (challenge, signature) = signed_login(&card);
    let v = verifier(&cas, trust, RevocationPolicy::FailClosed);
    let verified = v.verify(&challenge, &signature, std::slice::from_ref(&card.authentication.cert), now()).unwrap();
    assert_eq!(verified.kind, CardKind::Jpki);
    assert_eq!(verified.subject.credential(), Credential::Jpki);
    assert_eq!(verified.subject.role(), None);
    assert!(verified.person_key.starts_with("jpki:"));
}

#[test]
fn paths_need_their_intermediate_and_valid_cas() {
    let (cas, card) = pki();
    let trust = TrustAnchors::new(std::slice::from_ref(&card.root), &[], &[]).unwrap();
    let leaf_only = [parsed(&card.authentication.cert)];
    let Err(CardLoginError::UntrustedChain { detail }) = trust.validate(&leaf_only, now()) else {
        panic!("a path without its intermediate")
    };
    assert!(detail.contains("no configured anchor or intermediate"), "{detail}");
    // Posted, the intermediate completes the path; 25 years on, the authentication CA (20 years) has expired.
    let posted = [parsed(&card.authentication.cert), parsed(&card.authentication_ca)];
    assert_eq!(trust.validate(&posted, now()).unwrap().certs.len(), 3);
    let Err(CardLoginError::UntrustedChain { detail }) = trust.validate(&posted, now() + 25 * 365 * 86_400) else {
        panic!("an expired CA")
    };
    assert!(detail.contains("is valid only from"), "{detail}");
    // The signature CA has the same issuer but cannot stand in for the authentication CA.
    let wrong = [parsed(&card.authentication.cert), parsed(&card.signature_ca)];
    assert!(trust.validate(&wrong, now()).is_err());
    drop(cas);
}

#[test]
fn crls_must_come_from_a_configured_ca_and_never_roll_back() {
    let (cas, card) = pki();
    let trust = hpki_trust(&card);
    let cache = CrlCache::new(Vec::new(), &trust);
    let (stranger, _) = pki();
    let foreign = stranger.authentication_crl(&[], CrlValidity::fresh(24)).unwrap();
    assert!(matches!(cache.install("x", &foreign, now()), Err(CrlError::UnknownIssuer { .. })));

    let leaf = parsed(&card.authentication.cert);
    let ca = parsed(&card.authentication_ca);
    let serial = leaf.cert.tbs_certificate().serial_number().as_bytes().to_vec();
    let t = OffsetDateTime::now_utc();
    let revoked = [Revoked { serial, at: t - Duration::hours(2), reason: None }];
    let newer = CrlValidity { this_update: t - Duration::hours(1), next_update: t + Duration::hours(23), number: 2 };
    let older = CrlValidity { this_update: t - Duration::hours(3), next_update: t + Duration::hours(21), number: 1 };
    cache.install("auth", &cas.authentication_crl(&revoked, newer).unwrap(), now()).unwrap();
    // An attacker replaying yesterday's CRL (without the entry) changes nothing.
    cache.install("auth", &cas.authentication_crl(&[], older).unwrap(), now()).unwrap();
    assert!(matches!(cache.status(&leaf, &ca, now()), Revocation::Revoked { reason: "unspecified", .. }));
    // Listed stays revoked after nextUpdate; an unlisted certificate becomes unknown.
    assert!(matches!(cache.status(&leaf, &ca, now() + 2 * 86_400), Revocation::Revoked { .. }));
    let other = parsed(&cas.issue(&HpkiSubject::default()).unwrap().authentication.cert);
    assert!(matches!(cache.status(&other, &ca, now()), Revocation::Good { .. }));
    let Revocation::Unknown(why) = cache.status(&other, &ca, now() + 2 * 86_400) else { panic!("stale") };
    assert!(why.contains("stale"), "{why}");
}

#[test]
fn crl_with_a_future_this_update_is_refused() {
    let (cas, card) = pki();
    let trust = hpki_trust(&card);
    let cache = CrlCache::new(Vec::new(), &trust);
    let t = OffsetDateTime::now_utc();
    let future = CrlValidity { this_update: t + Duration::hours(2), next_update: t + Duration::hours(26), number: 1 };
    let crl = cas.authentication_crl(&[], future).unwrap();
    assert!(matches!(cache.install("auth", &crl, now()), Err(CrlError::Times { .. })));
}

#[tokio::test]
async fn failed_fetches_back_off_and_successes_wait_for_80_percent() {
    let (cas, card) = pki();
    let trust = hpki_trust(&card);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auth.crl");
    let url = format!("file:{}", file.display());
    let cache = CrlCache::new(vec![url], &trust);
    let t = now();
    assert_eq!(cache.refresh_due(t).await.as_secs(), 30, "first retry after 30 s");
    assert_eq!(cache.refresh_due(t + 30).await.as_secs(), 60, "then doubled");
    assert_eq!(cache.refresh_due(t + 31).await.as_secs(), 59, "not due: nothing fetched");
    let this = OffsetDateTime::now_utc() - Duration::hours(1);
    let validity = CrlValidity { this_update: this, next_update: this + Duration::hours(10), number: 1 };
    std::fs::write(&file, cas.authentication_crl(&[], validity).unwrap()).unwrap();
    let wait = cache.refresh_due(t + 90).await.as_secs() as i64;
    // thisUpdate + 8 h, seen from t + 90 s.
    let expected = (this.unix_timestamp() + 8 * 3600) - (t + 90);
    assert!((wait - expected).abs() <= 2, "{wait} vs {expected}");
    assert_eq!(cache.summary().len(), 1);
}

#[test]
fn fail_open_marks_and_fail_closed_refuses() {
    let (_, card) = pki();
    let trust = || hpki_trust(&card);
    let (challenge, signature) = signed_login(&card);
    let chain = [card.authentication.cert.clone()];
    let empty = |t: TrustAnchors, p| CardVerifier::new(Arc::new(t), Arc::new(CrlCache::new(Vec::new(), &trust())), p);
    let closed = empty(trust(), RevocationPolicy::FailClosed).verify(&challenge, &signature, &chain, now());
    assert_eq!(closed.unwrap_err().code(), "revocation_unknown");
    let open = empty(trust(), RevocationPolicy::FailOpen).verify(&challenge, &signature, &chain, now()).unwrap();
    assert!(matches!(open.revocation, RevocationChecked::Unknown { .. }));
    let event = audit_event(&Ok(open), ORIGIN, "ip:192.0.2.1");
    assert_eq!(event.action, "login.card");
    assert_eq!(event.detail["revocation"]["status"], "unknown");
    let denied = audit_event(&Err(CardLoginError::BadSignature), ORIGIN, "ip:192.0.2.1");
    assert_eq!((denied.actor.as_str(), denied.detail["reason"].as_str()), ("ip:192.0.2.1", Some("bad_signature")));
}

/// Signature-certificate policies are matched by OID arcs, not by text: the arc itself and the OIDs below it
/// are signature policies, a sibling whose last arc merely starts with the same digits is not.
#[test]
fn signature_policies_are_matched_by_arcs() {
    use super::card::is_signature_policy;
    use der::asn1::ObjectIdentifier as Oid;
    for below in ["1.2.392.100495.1.5.1.1", "1.2.392.100495.1.5.1.1.3", "1.2.392.200149.8.5.1.1.10.2"] {
        assert!(is_signature_policy(&Oid::new_unwrap(below)), "{below}");
    }
    for other in
        ["1.2.392.100495.1.5.1.10", "1.2.392.100495.1.5.1.2.1", "1.2.392.100495.1.5.1", "1.2.392.200149.8.5.1.11"]
    {
        assert!(!is_signature_policy(&Oid::new_unwrap(other)), "{other}");
    }
}

/// The card signs the purpose the agent's page named (`AuthPurpose`, issue #45 item 7): a signature made for a
/// patient's identification at reception does not finish a login, nor a login's an identification, though the
/// challenge, origin and card are the same.
#[test]
fn a_signature_verifies_only_for_the_purpose_it_was_made_for() {
    use hcpki_agent_protocol::AuthPurpose;
    let (cas, card) = pki();
    let v = verifier(&cas, hpki_trust(&card), RevocationPolicy::FailClosed);
    let chain = [card.authentication.cert.clone(), card.authentication_ca.clone()];
    let challenge = Challenge::for_tests(&[7; 32], ORIGIN);
    let identification = AuthPurpose::Identification.message(ORIGIN, challenge.bytes());
    let signed_for_identification = card.authentication.key.sign_sha256(&identification).unwrap();
    assert!(matches!(
        v.verify(&challenge, &signed_for_identification, &chain, now()),
        Err(CardLoginError::BadSignature)
    ));
    v.verify_as(AuthPurpose::Identification, &challenge, &signed_for_identification, &chain, now()).unwrap();
    let (challenge, signed_for_login) = signed_login(&card);
    assert!(matches!(
        v.verify_as(AuthPurpose::Identification, &challenge, &signed_for_login, &chain, now()),
        Err(CardLoginError::BadSignature)
    ));
    v.verify(&challenge, &signed_for_login, &chain, now()).unwrap();
}

/// A verifier trusting the JPKI test roots of `cas`, with fresh empty CRLs of both.
fn jpki_verifier(
    cas: &hcpki_vcard::testpki::JpkiTestCas,
    card: &hcpki_vcard::testpki::JpkiCredentials,
) -> CardVerifier {
    let anchors = [card.auth_root.clone(), card.sign_root.clone()];
    let trust = TrustAnchors::new(&[], &anchors, &[]).unwrap();
    let crls = Arc::new(CrlCache::new(Vec::new(), &trust));
    crls.install("auth", &cas.auth_crl(&[], CrlValidity::fresh(24)).unwrap(), now()).unwrap();
    crls.install("sign", &cas.sign_crl(&[], CrlValidity::fresh(24)).unwrap(), now()).unwrap();
    CardVerifier::new(Arc::new(trust), crls, RevocationPolicy::FailClosed)
}

/// The next My Number card (D153): ECDSA P-384 / SHA-384 keys under P-384 roots. Its login and identification
/// verify like an RSA card's; a malformed ECDSA value and a key on another curve are refused as such.
#[test]
fn a_p384_my_number_card_logs_in_and_malformed_ecdsa_is_refused_by_name() {
    use hcpki_vcard::key::CardAlgorithm;
    use hcpki_vcard::testpki::{JpkiSubject, JpkiTestCas};
    let cas = JpkiTestCas::new_for(CardAlgorithm::P384).unwrap();
    let card = cas.issue(&JpkiSubject::default()).unwrap();
    let v = jpki_verifier(&cas, &card);
    let chain = [card.auth.cert.clone()];
    let challenge = Challenge::for_tests(&[9; 32], ORIGIN);
    let message = hcpki_agent_protocol::login_message(ORIGIN, challenge.bytes());
    let signature = card.auth.key.sign_message(&message).unwrap();
    let verified = v.verify(&challenge, &signature, &chain, now()).unwrap();
    assert_eq!(verified.kind, CardKind::Jpki);
    assert!(verified.person_key.starts_with("jpki:"));

    // Identification: the same card under its own purpose; a login signature does not pass for it.
    let identify = hcpki_agent_protocol::AuthPurpose::Identification.message(ORIGIN, challenge.bytes());
    let id_signature = card.auth.key.sign_message(&identify).unwrap();
    let purpose = hcpki_agent_protocol::AuthPurpose::Identification;
    assert!(v.verify_as(purpose, &challenge, &id_signature, &chain, now()).is_ok());
    assert!(matches!(v.verify_as(purpose, &challenge, &signature, &chain, now()), Err(CardLoginError::BadSignature)));

    // The card's raw r ‖ s (not converted), r = 0, and bad DER: malformed, said so, with their own audit code.
    let raw = hcpki_pkix::card_signature::EcdsaSignature::from_der(&signature).unwrap().to_raw();
    let mut zero_r = vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01];
    let truncated = signature[..signature.len() - 1].to_vec();
    for (bad, says) in [(raw, "not a DER"), (std::mem::take(&mut zero_r), "r is zero"), (truncated, "truncated")] {
        let err = v.verify(&challenge, &bad, &chain, now()).unwrap_err();
        assert!(matches!(err, CardLoginError::MalformedSignature { .. }), "{err:?}");
        assert_eq!(err.code(), "malformed_signature");
        assert!(err.to_string().contains(says), "{err}");
    }
}

/// A P-384 signature posted with a certificate whose key is on another curve (P-256): refused as an unsupported
/// key, naming the curve, before any signature arithmetic.
#[test]
fn a_certificate_on_another_curve_is_refused_naming_it() {
    let p256 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&p256).unwrap().der().to_vec();
    let (cas, card) = pki();
    let v = verifier(&cas, hpki_trust(&card), RevocationPolicy::FailClosed);
    let challenge = Challenge::for_tests(&[7; 32], ORIGIN);
    let p384 = hcpki_vcard::key::CardKey::generate_for(hcpki_vcard::key::CardAlgorithm::P384).unwrap();
    let message = hcpki_agent_protocol::login_message(ORIGIN, challenge.bytes());
    let signature = p384.sign_message(&message).unwrap();
    let err = v.verify(&challenge, &signature, &[cert], now()).unwrap_err();
    assert!(matches!(err, CardLoginError::UnsupportedKey { .. }), "{err:?}");
    assert_eq!(err.code(), "unsupported_key");
    assert!(err.to_string().contains("P-256"), "{err}");
}
