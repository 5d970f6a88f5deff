//! Shared fixtures of the unit tests: one identity per card kind (RSA key generation is the slow
//! part, so it happens once per test binary), APDU helpers, signature checks and a BER walker.

use crate::card::VirtualCard;
use crate::hpki::HpkiLayout;
use crate::identity::{HpkiIdentity, HpkiPins, Identity, IdentityRequest, JpkiIdentity, JpkiPins};
use crate::testpki::{HpkiSubject, JpkiSubject};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use der::Decode;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// A JPKI identity with the default subject and PINs (auth `1234`, sign `SIGN1234`, text `1234`).
pub(crate) fn jpki_identity() -> &'static JpkiIdentity {
    static ID: OnceLock<JpkiIdentity> = OnceLock::new();
    ID.get_or_init(|| {
        let request = IdentityRequest::Jpki {
            subject: JpkiSubject::default(),
            pins: JpkiPins::default(),
            algorithm: Default::default(),
        };
        match Identity::generate(&request).unwrap() {
            Identity::Jpki(id) => id,
            Identity::Hpki(_) => unreachable!("asked for JPKI"),
        }
    })
}

/// An HPKI identity with distinct PINs per AP, so a test notices when the wrong one is checked.
pub(crate) fn hpki_identity() -> &'static HpkiIdentity {
    static ID: OnceLock<HpkiIdentity> = OnceLock::new();
    ID.get_or_init(|| hpki_identity_for(crate::key::CardAlgorithm::Rsa2048))
}

/// A fresh HPKI identity (JMA layout, the test PINs) whose keys are of `algorithm`.
pub(crate) fn hpki_identity_for(algorithm: crate::key::CardAlgorithm) -> HpkiIdentity {
    let request = IdentityRequest::Hpki {
        subject: HpkiSubject::default(),
        layout: HpkiLayout::JMA,
        pins: HpkiPins { signature: "sig-PIN-1".to_owned(), authentication: "auth-PIN-2".to_owned() },
        algorithm,
    };
    match Identity::generate(&request).unwrap() {
        Identity::Hpki(id) => id,
        Identity::Jpki(_) => unreachable!("asked for HPKI"),
    }
}

/// A fresh JPKI card (full PIN counters).
pub(crate) fn jpki_card() -> VirtualCard {
    Identity::Jpki(jpki_identity().clone()).card()
}

/// A fresh HPKI card with `layout`.
pub(crate) fn hpki_card(layout: HpkiLayout) -> VirtualCard {
    let mut id = hpki_identity().clone();
    id.layout = layout;
    Identity::Hpki(id).card()
}

/// Sends a C-APDU and splits the answer into data and SW.
pub(crate) fn send(card: &mut VirtualCard, capdu: &[u8]) -> (Vec<u8>, u16) {
    let r = card.process(capdu);
    let (data, sw) = crate::apdu::split_response(&r).unwrap();
    (data.to_vec(), sw.0)
}

/// [`send`] with the C-APDU in hex (spaces allowed).
pub(crate) fn send_hex(card: &mut VirtualCard, capdu: &str) -> (Vec<u8>, u16) {
    let bytes = hex::decode(capdu.replace(' ', "")).unwrap();
    send(card, &bytes)
}

/// Only the status word of [`send_hex`].
pub(crate) fn sw(card: &mut VirtualCard, capdu: &str) -> u16 {
    send_hex(card, capdu).1
}

/// A short case-3 APDU `header ‖ Lc ‖ data`.
pub(crate) fn case3(header: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut apdu = header.to_vec();
    apdu.push(u8::try_from(data.len()).unwrap());
    apdu.extend_from_slice(data);
    apdu
}

/// DER DigestInfo of SHA-256(`msg`), what a host sends to the JPKI card.
pub(crate) fn sha256_digest_info(msg: &[u8]) -> Vec<u8> {
    let mut di = hex::decode("3031300d060960864801650304020105000420").unwrap();
    di.extend_from_slice(&Sha256::digest(msg));
    di
}

/// Whether `sig` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `msg` by the key in `cert_der`.
pub(crate) fn verifies(cert_der: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let cert = x509_cert::Certificate::from_der(cert_der).unwrap();
    let spki = cert.tbs_certificate().subject_public_key_info();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.subject_public_key.raw_bytes()).verify(msg, sig).is_ok()
}

/// The BER TLVs one after another in `bytes`: (tag bytes, value). Multi-byte tags (`DF21`, `FF20`)
/// and lengths up to four bytes.
pub(crate) fn tlvs(mut bytes: &[u8]) -> Vec<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut tag_len = 1;
        if bytes[0] & 0x1F == 0x1F {
            while bytes[tag_len] & 0x80 != 0 {
                tag_len += 1;
            }
            tag_len += 1;
        }
        let tag = bytes[..tag_len].to_vec();
        let (len, len_len) = match bytes[tag_len] {
            n if n < 0x80 => (usize::from(n), 1),
            n => {
                let k = usize::from(n & 0x7F);
                let len = bytes[tag_len + 1..tag_len + 1 + k].iter().fold(0usize, |acc, b| acc << 8 | usize::from(*b));
                (len, 1 + k)
            }
        };
        let start = tag_len + len_len;
        out.push((tag, &bytes[start..start + len]));
        bytes = &bytes[start + len..];
    }
    out
}

/// The value of the single TLV in `bytes`, checking its tag.
pub(crate) fn only(bytes: &[u8], tag: &[u8]) -> Vec<u8> {
    let all = tlvs(bytes);
    assert_eq!(all.len(), 1, "one TLV expected in {}", hex::encode(bytes));
    assert_eq!(all[0].0, tag, "tag in {}", hex::encode(bytes));
    all[0].1.to_vec()
}
