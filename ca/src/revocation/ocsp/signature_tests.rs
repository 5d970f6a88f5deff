//! An answer of this CA's OCSP signing code, embedded in a signature, as the signature verifier
//! (`hcpki_docsig::signature::validation`) judges it: a delegated responder's answer about the signer counts for
//! B-LT; one about another certificate does not. Here and not in `hcpki-docsig`, which cannot depend on the CA.

use super::OcspSigner;
use super::response::{Answer, Status as OcspStatus, Window, sign};
use der::{Decode, Encode};
use hcpki_docsig::signature::validation::{
    FetchRequest, Level, RevocationSource, SignatureEvidence, SigningTrust, TimeStampEvidence, validate,
};
use hcpki_pkix::asn1::ocsp::CertId;
use hcpki_pkix::keys::{KeyAlgorithm, KeyError, KeySource, SoftwareKey};
use hcpki_vcard::testpki::{HpkiCredentials, HpkiSubject, HpkiTestCas};
use sha1::Digest as _;
use spki::SubjectPublicKeyInfoOwned;
use std::sync::Arc;
use x509_cert::Certificate;

/// The card key of a test credential as a [`KeySource`], to sign OCSP answers with it.
#[derive(Debug)]
struct CardSigner {
    key: hcpki_vcard::key::CardKey,
    spki: SubjectPublicKeyInfoOwned,
}

impl KeySource for CardSigner {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Rsa2048
    }
    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.key.sign_sha256(message).map_err(|e| KeyError::Crypto(e.to_string()))
    }
}

fn cert(der: &[u8]) -> Certificate {
    Certificate::from_der(der).unwrap()
}

/// The CertID (SHA-1) of `leaf` issued by `issuer`, as a client asks for it.
fn cert_id(leaf: &Certificate, issuer: &Certificate) -> CertId {
    let key = issuer.tbs_certificate().subject_public_key_info().subject_public_key.raw_bytes();
    let name = issuer.tbs_certificate().subject().to_der().unwrap();
    CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_SHA_1,
            parameters: Some(der::Any::from(der::asn1::Null)),
        },
        issuer_name_hash: der::asn1::OctetString::new(sha1::Sha1::digest(&name).to_vec()).unwrap(),
        issuer_key_hash: der::asn1::OctetString::new(sha1::Sha1::digest(key).to_vec()).unwrap(),
        serial_number: der::asn1::Int::new(leaf.tbs_certificate().serial_number().as_bytes()).unwrap(),
    }
}

/// B-T evidence of `card`'s signature certificate carrying its CA, time-stamped at `gen_time` by `tsa`.
fn evidence(card: &HpkiCredentials, tsa: &Certificate, gen_time: i64) -> SignatureEvidence {
    let stamp = TimeStampEvidence::Intact { gen_time, tsa: Box::new(tsa.clone()), certificates: Vec::new() };
    SignatureEvidence {
        signer: Some(cert(&card.signature.cert)),
        certificates: vec![cert(&card.signature.cert), cert(&card.signature_ca)],
        signature_time_stamps: vec![stamp],
        ..SignatureEvidence::new()
    }
}

#[test]
fn an_embedded_ocsp_answer_of_the_delegated_responder_counts() {
    let now = hcpki_pkix::time::now_unix();
    let cas = HpkiTestCas::new().unwrap();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let expired = cas.issue_expired(&HpkiSubject::default()).unwrap();
    let (_, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let tsa = cert(&hcpki_vcard::testpki::tsa_certificate(&pkcs8, "TEST TSA").unwrap());
    let trust = SigningTrust::new(std::slice::from_ref(&card.root), &[tsa.to_der().unwrap()]).unwrap();
    let offline = |_: &FetchRequest<'_>| Err("offline".to_owned());

    let responder = cas.signature_ocsp_responder().unwrap();
    let spki = cert(&responder.cert).tbs_certificate().subject_public_key_info().clone();
    let signer = OcspSigner::new(&responder.cert, Arc::new(CardSigner { key: responder.key.clone(), spki })).unwrap();
    let issuer = cert(&card.signature_ca);
    let window = Window { produced_at: now - 10, this_update: now - 70, next_update: now + 3600 };
    let answer = |leaf: &Certificate| {
        let cert_id = cert_id(leaf, &issuer);
        sign(&signer, &[Answer { cert_id: &cert_id, status: OcspStatus::Good }], None, window).unwrap()
    };
    let mut e = evidence(&card, &tsa, now - 60);
    e.ocsp_responses = vec![answer(&cert(&card.signature.cert))];
    let report = validate(&e, &trust, now, &offline);
    assert_eq!((report.verdict().as_str(), report.level), ("PASSED", Some(Level::BaselineLt)), "{report:?}");
    assert_eq!(report.revocation, Some(RevocationSource::EmbeddedOcsp));
    // Answered for another certificate: not about this one.
    e.ocsp_responses = vec![answer(&cert(&expired.signature.cert))];
    assert_eq!(validate(&e, &trust, now, &offline).verdict(), "INDETERMINATE/TRY_LATER");
}
