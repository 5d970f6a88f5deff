//! Shared fixtures: generated identities (keys are slow to make, so once per binary), virtual cards
//! behind `FnCard`, and signature verification with the certificate's key.

use std::sync::{Arc, Mutex, OnceLock};

use hcpki_agent::driver::{Driver, hpki, jpki};
use hcpki_agent::service::Pin;
use hcpki_agent::transport::func::FnCard;
use hcpki_vcard::card::{Emulated, VirtualCard};
use hcpki_vcard::hpki::{HpkiAp, HpkiLayout};
use hcpki_vcard::identity::{HpkiPins, Identity, IdentityRequest, JpkiPins};
use hcpki_vcard::jpki::JpkiPin;
use hcpki_vcard::key::CardAlgorithm;
use hcpki_vcard::testpki::JpkiSubject;
use zeroize::Zeroizing;

/// The drivers under test, as the broker holds them.
pub const JPKI: Driver = &jpki::JPKI;
pub const JMA: Driver = &hpki::JMA;
pub const JAHIS: Driver = &hpki::JAHIS_EXAMPLE;

/// What a driver is handed to sign `message` with an RSA key: the SHA-256 DigestInfo.
pub fn rsa_input(message: &[u8]) -> hcpki_agent::driver::CardInput {
    hcpki_agent::driver::CardInput::RsaDigestInfo(hcpki_agent::driver::sha256_digest_info(message))
}

/// Which identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Jpki,
    /// A second My Number card, with an address long enough that EF 0002's length takes 3 bytes.
    JpkiLongAddress,
    Jma,
    Jahis,
    /// An HPKI card in the JMA layout whose keys are ECDSA P-384 (D177).
    JmaP384,
}

pub fn identity(which: Which) -> &'static Identity {
    static IDS: OnceLock<Vec<Identity>> = OnceLock::new();
    let ids = IDS.get_or_init(|| {
        let mut long = JpkiSubject::default();
        long.attributes.address = "北海道札幌市中央区北一条西二丁目".repeat(8);
        let hpki = |layout, algorithm| IdentityRequest::Hpki {
            subject: Default::default(),
            layout,
            pins: HpkiPins::default(),
            algorithm,
        };
        let (rsa, p384) = (CardAlgorithm::Rsa2048, CardAlgorithm::P384);
        [
            IdentityRequest::Jpki {
                subject: JpkiSubject::default(),
                pins: JpkiPins::default(),
                algorithm: Default::default(),
            },
            IdentityRequest::Jpki { subject: long, pins: JpkiPins::default(), algorithm: Default::default() },
            hpki(HpkiLayout::JMA, rsa),
            hpki(HpkiLayout::JAHIS_EXAMPLE, rsa),
            hpki(HpkiLayout::JMA, p384),
        ]
        .iter()
        .map(|r| Identity::generate(r).unwrap())
        .collect()
    });
    &ids[which as usize]
}

/// The certificate of `name` (vcard identity file names: auth, sign-ca, signature, …).
pub fn cert(which: Which, name: &str) -> Vec<u8> {
    identity(which).certificates().into_iter().find(|(n, _)| *n == name).unwrap().1.to_vec()
}

/// A fresh virtual card (full PIN counters), shared so tests can look at it after the driver ran.
pub fn card(which: Which) -> Arc<Mutex<VirtualCard>> {
    Arc::new(Mutex::new(identity(which).card()))
}

/// A link to the card.
pub fn link(card: &Arc<Mutex<VirtualCard>>) -> FnCard {
    let card = Arc::clone(card);
    let atr = card.lock().unwrap().atr().to_vec();
    FnCard::new(atr, move |c| card.lock().unwrap().process(c))
}

/// A link that answers 6700 to every extended-length APDU, as a reader without extended length
/// support (or a card without it) does.
pub fn short_only_link(card: &Arc<Mutex<VirtualCard>>) -> FnCard {
    let card = Arc::clone(card);
    FnCard::new(
        vec![],
        move |c| {
            if c.len() > 5 && c[4] == 0x00 { vec![0x67, 0x00] } else { card.lock().unwrap().process(c) }
        },
    )
}

pub fn pin(s: &str) -> Pin {
    Pin(Zeroizing::new(s.to_owned()))
}

/// Tries left as the emulated card counts them.
pub fn jpki_tries(card: &Arc<Mutex<VirtualCard>>, pin: JpkiPin) -> u8 {
    match card.lock().unwrap().emulated() {
        Emulated::Jpki(c) => c.tries_left(pin),
        Emulated::Hpki(_) => panic!("not a JPKI card"),
    }
}

pub fn hpki_tries(card: &Arc<Mutex<VirtualCard>>, ap: HpkiAp) -> u8 {
    match card.lock().unwrap().emulated() {
        Emulated::Hpki(c) => c.tries_left(ap).unwrap(),
        Emulated::Jpki(_) => panic!("not an HPKI card"),
    }
}

pub fn apdus_seen(card: &Arc<Mutex<VirtualCard>>) -> u64 {
    card.lock().unwrap().stats().apdus
}

/// Verifies sha256WithRSAEncryption over `message` with the certificate's key.
pub fn verify_signature(cert: &[u8], message: &[u8], signature: &[u8]) {
    use der::{Decode as _, Encode as _};
    let cert = x509_cert::Certificate::from_der(cert).unwrap();
    let spki = cert.tbs_certificate().subject_public_key_info().to_der().unwrap();
    let spki = spki::SubjectPublicKeyInfoRef::from_der(&spki).unwrap();
    let key = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        spki.subject_public_key.raw_bytes(),
    );
    key.verify(message, signature).expect("the card's signature verifies with its certificate's key");
}

/// READ BINARY commands the drivers use for an object of `len` bytes: the 4-byte header, then chunks of
/// up to 256 bytes.
pub fn reads(len: usize) -> u32 {
    1 + u32::try_from(len.saturating_sub(4).div_ceil(256)).unwrap()
}
