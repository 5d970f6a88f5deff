//! The drivers against `hcpki-vcard`'s emulated cards.

use hcpki_agent::driver::{self, Driver, DriverError, PinFormatError, PinSource, PinStatus, TextPin, registry};
use hcpki_agent::service::{CardCertificate, CardKind, KeyRole};
use hcpki_agent::transport::Session;
use hcpki_agent::transport::func::FnCard;
use hcpki_vcard::card::VirtualCard;
use hcpki_vcard::hpki::HpkiAp;
use hcpki_vcard::identity::Identity;
use hcpki_vcard::jpki::JpkiPin;
use std::sync::{Arc, Mutex};

use super::common::*;

const MESSAGE: &[u8] = b"https://portal.example login challenge";

fn probe(card: &Arc<Mutex<VirtualCard>>) -> Option<Driver> {
    let mut link = link(card);
    registry::probe(&mut Session::new(&mut link)).unwrap()
}

fn driver(which: Which) -> Driver {
    match which {
        Which::Jpki | Which::JpkiLongAddress => JPKI,
        Which::Jma | Which::JmaP384 => JMA,
        Which::Jahis => JAHIS,
    }
}

/// One operation in its own transaction, returning its result and APDU count.
fn run<T>(card: &Arc<Mutex<VirtualCard>>, f: impl FnOnce(&mut Session<'_>) -> T) -> (T, u32) {
    let mut link = link(card);
    let mut s = Session::new(&mut link);
    let out = f(&mut s);
    (out, s.apdus())
}

fn sign(
    card: &Arc<Mutex<VirtualCard>>,
    which: Which,
    role: KeyRole,
    pin_text: &str,
    want_chain: bool,
) -> Result<driver::SignOutput, DriverError> {
    let d = driver(which);
    let pin = d.check_pin(role, &pin(pin_text))?;
    let di = rsa_input(MESSAGE);
    run(card, |s| d.sign(s, role, &PinSource::Typed(&pin), &di, want_chain)).0
}

#[test]
fn probe_picks_the_driver() {
    assert_eq!(probe(&card(Which::Jpki)), Some(JPKI));
    for (which, name) in [(Which::Jma, "jma"), (Which::Jahis, "jahis-example")] {
        match probe(&card(which)) {
            Some(d) if d.kind() == CardKind::Hpki => assert_eq!(d.name(), name),
            other => panic!("{which:?}: {other:?}"),
        }
    }
    // Cards that know none of the AIDs: file not found, or SELECT refused outright.
    for answer in [vec![0x6A, 0x82], vec![0x6D, 0x00], vec![0x6E, 0x00]] {
        let mut link = FnCard::new(vec![], move |_| answer.clone());
        assert_eq!(registry::probe(&mut Session::new(&mut link)).unwrap(), None);
    }
}

#[test]
fn certificates_are_read_byte_identical() {
    let (certs, _) = run(&card(Which::Jpki), |s| JPKI.read_certificates(s).unwrap());
    let want = vec![CardCertificate {
        role: KeyRole::Auth,
        chain: vec![cert(Which::Jpki, "auth"), cert(Which::Jpki, "auth-ca")],
    }];
    assert_eq!(certs, want);
    for which in [Which::Jma, Which::Jahis] {
        let (certs, _) = run(&card(which), |s| driver(which).read_certificates(s).unwrap());
        let want = vec![
            CardCertificate { role: KeyRole::Auth, chain: vec![cert(which, "authentication")] },
            CardCertificate { role: KeyRole::Sign, chain: vec![cert(which, "signature")] },
        ];
        assert_eq!(certs, want, "{which:?}");
        assert_eq!(driver(which).identity_certificate(&certs), Some(cert(which, "authentication").as_slice()));
    }
}

#[test]
fn signatures_verify_with_the_certificates() {
    let c = card(Which::Jpki);
    let out = sign(&c, Which::Jpki, KeyRole::Auth, "1234", true).unwrap();
    assert_eq!(out.chain, None, "the auth chain is readable without a PIN");
    verify_signature(&cert(Which::Jpki, "auth"), MESSAGE, &out.signature);
    // The signing password in lower case: the driver upper-cases it.
    let out = sign(&c, Which::Jpki, KeyRole::Sign, "sign1234", true).unwrap();
    let chain = out.chain.unwrap();
    assert_eq!(chain, vec![cert(Which::Jpki, "sign"), cert(Which::Jpki, "sign-ca")]);
    verify_signature(&chain[0], MESSAGE, &out.signature);
    assert_eq!(sign(&c, Which::Jpki, KeyRole::Sign, "SIGN1234", false).unwrap().chain, None);

    for which in [Which::Jma, Which::Jahis] {
        let c = card(which);
        for (role, name) in [(KeyRole::Auth, "authentication"), (KeyRole::Sign, "signature")] {
            let out = sign(&c, which, role, "hpki1234", true).unwrap();
            assert_eq!(out.chain, None);
            verify_signature(&cert(which, name), MESSAGE, &out.signature);
        }
    }
}

#[test]
fn pso_falls_back_to_command_chaining_when_extended_length_is_refused() {
    let c = card(Which::Jma);
    let d = driver(Which::Jma);
    let pin = d.check_pin(KeyRole::Sign, &pin("hpki1234")).unwrap();
    let di = rsa_input(MESSAGE);
    let mut link = short_only_link(&c);
    let mut s = Session::new(&mut link);
    let out = d.sign(&mut s, KeyRole::Sign, &PinSource::Typed(&pin), &di, false).unwrap();
    verify_signature(&cert(Which::Jma, "signature"), MESSAGE, &out.signature);
    // 6 to the extended PSO, then the refused PSO and two chained parts.
    assert_eq!(s.apdus(), 6 + 2);
}

#[test]
fn wrong_pins_count_down_then_block() {
    let c = card(Which::Jpki);
    for left in [2, 1] {
        assert_eq!(
            sign(&c, Which::Jpki, KeyRole::Auth, "9999", false),
            Err(DriverError::WrongPin { tries_left: left })
        );
        assert_eq!(run(&c, |s| JPKI.pin_status(s, KeyRole::Auth).unwrap()).0, PinStatus::TriesLeft(left));
    }
    assert_eq!(sign(&c, Which::Jpki, KeyRole::Auth, "9999", false), Err(DriverError::PinBlocked));
    assert_eq!(jpki_tries(&c, JpkiPin::Auth), 0);
    assert_eq!(sign(&c, Which::Jpki, KeyRole::Auth, "1234", false), Err(DriverError::PinBlocked));
    assert_eq!(run(&c, |s| JPKI.pin_status(s, KeyRole::Auth).unwrap()).0, PinStatus::Blocked);
    // The other PIN is untouched.
    assert_eq!(run(&c, |s| JPKI.pin_status(s, KeyRole::Sign).unwrap()).0, PinStatus::TriesLeft(5));

    let c = card(Which::Jma);
    assert_eq!(sign(&c, Which::Jma, KeyRole::Sign, "wrong-pin", false), Err(DriverError::WrongPin { tries_left: 14 }));
    assert_eq!(run(&c, |s| driver(Which::Jma).pin_status(s, KeyRole::Sign).unwrap()).0, PinStatus::TriesLeft(14));
    assert!(sign(&c, Which::Jma, KeyRole::Sign, "hpki1234", false).is_ok());
    assert_eq!(hpki_tries(&c, HpkiAp::Signature), 15, "a right PIN resets the counter");
}

#[test]
fn pin_format_errors_spend_no_try_and_send_nothing() {
    let cases = [
        (Which::Jpki, KeyRole::Auth, "123", PinFormatError::Digits(4)),
        (Which::Jpki, KeyRole::Auth, "12345", PinFormatError::Digits(4)),
        (Which::Jpki, KeyRole::Sign, "ab-123", PinFormatError::JpkiSignPassword),
        (Which::Jpki, KeyRole::Sign, "abc12", PinFormatError::JpkiSignPassword),
        (Which::Jma, KeyRole::Sign, "abc", PinFormatError::Ascii { min: 4, max: 16 }),
        (Which::Jahis, KeyRole::Auth, "パスワード", PinFormatError::Ascii { min: 4, max: 16 }),
    ];
    for (which, role, text, want) in cases {
        let c = card(which);
        assert_eq!(sign(&c, which, role, text, false), Err(DriverError::PinFormat(want)), "{which:?} {text}");
        assert_eq!(apdus_seen(&c), 0, "{which:?} {text}: no APDU before the format check");
    }
}

#[test]
fn confirm_identity_tells_cards_apart() {
    let auth = cert(Which::Jpki, "auth");
    let (same, n) = run(&card(Which::Jpki), |s| JPKI.confirm_identity(s, &auth).unwrap());
    assert!(same);
    assert_eq!(n, 3);
    assert!(!run(&card(Which::JpkiLongAddress), |s| JPKI.confirm_identity(s, &auth).unwrap()).0);
    for which in [Which::Jma, Which::Jahis] {
        let own = cert(which, "authentication");
        assert!(run(&card(which), |s| driver(which).confirm_identity(s, &own).unwrap()).0, "{which:?}");
        assert!(!run(&card(which), |s| driver(which).confirm_identity(s, &auth).unwrap()).0, "{which:?}");
    }
}

#[test]
fn basic_four_items() {
    for which in [Which::Jpki, Which::JpkiLongAddress] {
        let Identity::Jpki(id) = identity(which) else { unreachable!() };
        let want = &id.subject.attributes;
        let c = card(which);
        let text_pin = TextPin::new(&pin("1234")).unwrap();
        let (got, n) = run(&c, |s| JPKI.read_basic_attributes(s, &text_pin).unwrap());
        assert_eq!(
            (got.name.as_str(), got.address.as_str(), got.birth_date.as_str(), got.sex.as_str()),
            (want.name.as_str(), want.address.as_str(), want.birth_date.as_str(), want.sex.as_str())
        );
        assert!(!format!("{got:?}").contains(&want.name), "Debug hides personal data");
        // SELECT AP, SELECT PIN EF, VERIFY, SELECT EF, then the reads; a length of 3 bytes makes the
        // header 5 bytes, one more than the first read fetches.
        let items = [b"\x00\x01\x00".len(), want.name.len(), want.address.len(), want.birth_date.len(), want.sex.len()];
        let body: usize = items
            .iter()
            .map(|l| {
                2 + if *l < 0x80 {
                    1
                } else if *l < 0x100 {
                    2
                } else {
                    3
                } + l
            })
            .sum();
        let (header, extra) = if body < 0x80 {
            (3, 0)
        } else if body < 0x100 {
            (4, 0)
        } else {
            (5, 1)
        };
        let want_n = 4 + extra + 1 + (header + body - 4 - extra).div_ceil(256);
        assert_eq!(usize::try_from(n).unwrap(), want_n, "{which:?}");
        assert_eq!(extra, usize::from(which == Which::JpkiLongAddress));
    }
    let c = card(Which::Jpki);
    let wrong = TextPin::new(&pin("0000")).unwrap();
    assert_eq!(run(&c, |s| JPKI.read_basic_attributes(s, &wrong)).0, Err(DriverError::WrongPin { tries_left: 2 }));
    assert_eq!(jpki_tries(&c, JpkiPin::Text), 2);
    let any = TextPin::new(&pin("1234")).unwrap();
    assert!(matches!(
        run(&card(Which::Jma), |s| driver(Which::Jma).read_basic_attributes(s, &any)).0,
        Err(DriverError::Unsupported(_))
    ));
}

/// APDUs per operation: a warm login (certificates cached: PIN status, then VERIFY and sign) stays
/// within 8; a cold one adds the probe and the certificate reads.
#[test]
fn apdu_counts() {
    let di = rsa_input(MESSAGE);
    for (which, probe_n, status_n, sign_n) in [(Which::Jpki, 1, 3, 5), (Which::Jma, 4, 2, 6), (Which::Jahis, 6, 2, 4)] {
        let c = card(which);
        let d = driver(which);
        let pin = d.check_pin(KeyRole::Auth, &pin(if which == Which::Jpki { "1234" } else { "hpki1234" })).unwrap();
        let (_, n_probe) = run(&c, |s| registry::probe(s).unwrap());
        let (_, n_certs) = run(&c, |s| d.read_certificates(s).unwrap());
        let (_, n_status) = run(&c, |s| d.pin_status(s, KeyRole::Auth).unwrap());
        let (_, n_sign) = run(&c, |s| d.sign(s, KeyRole::Auth, &PinSource::Typed(&pin), &di, false).unwrap());
        let certs_n = match which {
            Which::Jpki | Which::JpkiLongAddress => {
                3 + reads(cert(which, "auth").len()) + reads(cert(which, "auth-ca").len())
            }
            // Per AP: SELECT AID, SELECT EF (JMA only), the reads.
            Which::Jma => 4 + reads(cert(which, "authentication").len()) + reads(cert(which, "signature").len()),
            Which::Jahis => 2 + reads(cert(which, "authentication").len()) + reads(cert(which, "signature").len()),
            Which::JmaP384 => unreachable!("not in this table"),
        };
        assert_eq!((n_probe, n_certs, n_status, n_sign), (probe_n, certs_n, status_n, sign_n), "{which:?}");
        assert!(n_status + n_sign <= 8, "{which:?}: warm login {}", n_status + n_sign);
    }
}

/// An HPKI card with ECDSA P-384 keys (D177): the driver hands the card the bare SHA-384 in the same PSO (no
/// padding), gets r ‖ s back, and a host-side RSA block is refused by the card rather than signed.
#[test]
fn an_ec_hpki_card_signs_the_bare_hash_in_both_applications() {
    use aws_lc_rs::signature::{ECDSA_P384_SHA384_FIXED, UnparsedPublicKey};
    use der::Decode as _;
    let c = card(Which::JmaP384);
    let d = driver(Which::JmaP384);
    assert_eq!(probe(&c).map(|d| d.name()), Some("jma"));
    for (role, pin_text, name) in
        [(KeyRole::Auth, "hpki1234", "authentication"), (KeyRole::Sign, "hpki1234", "signature")]
    {
        let pin = d.check_pin(role, &pin(pin_text)).unwrap();
        let input = hcpki_agent_protocol::card_input(hcpki_agent_protocol::CardKeyAlgorithm::EcdsaP384Sha384, MESSAGE);
        let (out, n) = run(&c, |s| d.sign(s, role, &PinSource::Typed(&pin), &input, false));
        let out = out.unwrap();
        assert_eq!(out.signature.len(), 96, "{role:?}: r ‖ s");
        assert!(n <= 6, "{role:?}: {n} APDUs");
        let der = cert(Which::JmaP384, name);
        let certificate = x509_cert::Certificate::from_der(&der).unwrap();
        let key = certificate.tbs_certificate().subject_public_key_info().subject_public_key.raw_bytes().to_vec();
        UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, key).verify(MESSAGE, &out.signature).unwrap();
    }
    // The driver told the card holds RSA pads a block; this card answers "wrong length", surfaced as such.
    let pin = d.check_pin(KeyRole::Auth, &pin("hpki1234")).unwrap();
    let padded = run(&c, |s| d.sign(s, KeyRole::Auth, &PinSource::Typed(&pin), &rsa_input(MESSAGE), false)).0;
    assert!(matches!(padded, Err(DriverError::Status { .. })), "{padded:?}");
}
