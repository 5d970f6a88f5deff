//! What cards and links do wrong ends as a typed error, never a panic.

use std::sync::Arc;

use hcpki_agent::apdu::{CardError, StatusWord};
use hcpki_agent::driver::{CardInput, DriverError, PinSource, TextPin, hpki, registry};
use hcpki_agent::service::KeyRole;
use hcpki_agent::transport::func::FnCard;
use hcpki_agent::transport::{Session, TransportError};

use super::common::*;

const MESSAGE: &[u8] = b"fault injection";

/// A card holding one transparent file at every FID, read with the vcard's READ BINARY semantics (Le
/// 00 returns what there is with 9000; a shorter Le past the end returns what there is with 6282).
fn file_card(file: Vec<u8>) -> FnCard {
    FnCard::new(vec![], move |c| match c {
        [0x00, 0xA4 | 0x20, ..] => vec![0x90, 0x00],
        [0x00, 0xB0, p1, p2, le] => {
            let offset = usize::from(u16::from_be_bytes([*p1, *p2]));
            let ne = if *le == 0 { 256 } else { usize::from(*le) };
            let Some(rest) = file.get(offset..) else { return vec![0x6B, 0x00] };
            let mut out = rest[..ne.min(rest.len())].to_vec();
            out.extend_from_slice(if out.len() < ne && *le != 0 { &[0x62, 0x82] } else { &[0x90, 0x00] });
            out
        }
        _ => vec![0x6D, 0x00],
    })
}

fn read_jpki_certs(link: &mut FnCard) -> Result<Vec<hcpki_agent::service::CardCertificate>, DriverError> {
    JPKI.read_certificates(&mut Session::new(link))
}

#[test]
fn a_length_header_that_lies_is_malformed() {
    // Announces 0x400 bytes, holds 300: once with a 256-byte last read (9000, short), once with a short
    // Le (6282).
    for body in [300, 0x400 - 10] {
        let mut file = vec![0x30, 0x82, 0x04, 0x00];
        file.resize(4 + body, 0xAB);
        let err = read_jpki_certs(&mut file_card(file)).unwrap_err();
        assert!(matches!(&err, DriverError::Malformed { reason, .. } if reason.contains("1028")), "{err}");
    }
    // Indefinite length, and an empty file.
    for file in [vec![0x30, 0x80, 0x01, 0x02], vec![]] {
        assert!(matches!(read_jpki_certs(&mut file_card(file)), Err(DriverError::Malformed { .. })));
    }
    // Longer than READ BINARY's 15-bit offset reaches.
    let mut huge = vec![0x30, 0x83, 0x01, 0x00, 0x00];
    huge.resize(0x1_0005, 0x11);
    let err = read_jpki_certs(&mut file_card(huge)).unwrap_err();
    assert!(matches!(&err, DriverError::Malformed { reason, .. } if reason.contains("32767")), "{err}");
}

#[test]
fn a_missing_file_is_a_typed_status() {
    let c = card(Which::Jpki);
    let inner = Arc::clone(&c);
    let mut link = FnCard::new(vec![], move |apdu| {
        if apdu == [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0B] {
            vec![0x6A, 0x82]
        } else {
            inner.lock().unwrap().process(apdu)
        }
    });
    assert_eq!(
        read_jpki_certs(&mut link),
        Err(DriverError::Status { step: "SELECT certificate EF", error: CardError::FileNotFound })
    );
    // The JMA card without its signature AP: read_certificates skips it, sign says there is no key.
    let c = card(Which::Jma);
    let inner = Arc::clone(&c);
    let sign_aid = hpki::JMA.sign.as_ref().unwrap().aid.to_vec();
    let mut link = FnCard::new(vec![], move |apdu| {
        if apdu.ends_with(&sign_aid) { vec![0x6A, 0x82] } else { inner.lock().unwrap().process(apdu) }
    });
    let d = JMA;
    let certs = d.read_certificates(&mut Session::new(&mut link)).unwrap();
    assert_eq!(certs.iter().map(|c| c.role).collect::<Vec<_>>(), vec![KeyRole::Auth]);
    let pin = d.check_pin(KeyRole::Sign, &pin("hpki1234")).unwrap();
    let err = d.sign(&mut Session::new(&mut link), KeyRole::Sign, &PinSource::Typed(&pin), &rsa_input(MESSAGE), false);
    assert_eq!(err, Err(DriverError::Status { step: "SELECT application", error: CardError::FileNotFound }));
    // Without its authentication AP, the signature certificate is the identity, and confirms.
    let c = card(Which::Jma);
    let auth_aid = hpki::JMA.auth.as_ref().unwrap().aid.to_vec();
    let mut link =
        FnCard::new(
            vec![],
            move |apdu| {
                if apdu.ends_with(&auth_aid) { vec![0x6A, 0x82] } else { c.lock().unwrap().process(apdu) }
            },
        );
    let certs = d.read_certificates(&mut Session::new(&mut link)).unwrap();
    let identity = d.identity_certificate(&certs).unwrap().to_vec();
    assert_eq!(identity, cert(Which::Jma, "signature"));
    assert!(d.confirm_identity(&mut Session::new(&mut link), &identity).unwrap());
}

#[test]
fn short_and_wrong_responses() {
    // No status word at all.
    let mut link = FnCard::new(vec![], |_| vec![0x90]);
    assert!(matches!(registry::probe(&mut Session::new(&mut link)), Err(DriverError::Malformed { .. })));
    // A signature one byte short, and one the card refuses.
    for (answer, want_malformed) in [([0x11u8; 255].to_vec(), true), (vec![], false)] {
        let mut link = FnCard::new(vec![], move |c| match c {
            [0x80, 0x2A, ..] if answer.is_empty() => vec![0x69, 0x82],
            [0x80, 0x2A, ..] => [answer.as_slice(), &[0x90, 0x00]].concat(),
            _ => vec![0x90, 0x00],
        });
        let err = JPKI
            .sign(&mut Session::new(&mut link), KeyRole::Auth, &PinSource::Typed(b"1234"), &rsa_input(MESSAGE), false)
            .unwrap_err();
        if want_malformed {
            assert!(matches!(err, DriverError::Malformed { step: "SIGN", .. }), "{err}");
        } else {
            assert_eq!(err, DriverError::Status { step: "SIGN", error: CardError::SecurityStatusNotSatisfied });
        }
    }
    // 6300 to VERIFY is a failure, not a warning.
    let mut link = FnCard::new(vec![], |c| if c[1] == 0x20 { vec![0x63, 0x00] } else { vec![0x90, 0x00] });
    let err = JPKI
        .sign(
            &mut Session::new(&mut link),
            KeyRole::Auth,
            &PinSource::Typed(b"1234"),
            &CardInput::RsaDigestInfo(vec![0x30; 51]),
            false,
        )
        .unwrap_err();
    assert_eq!(err, DriverError::Status { step: "VERIFY", error: CardError::Other(StatusWord(0x6300)) });
    // A T=0 card answering 61xx: the session fetches the signature with GET RESPONSE.
    let mut link = FnCard::new(vec![], |c| match c {
        [0x80, 0x2A, ..] => vec![0x61, 0x00],
        [0x00, 0xC0, 0x00, 0x00, 0x00] => [[0x42; 256].as_slice(), &[0x90, 0x00]].concat(),
        _ => vec![0x90, 0x00],
    });
    let out = JPKI
        .sign(
            &mut Session::new(&mut link),
            KeyRole::Auth,
            &PinSource::Typed(b"1234"),
            &CardInput::RsaDigestInfo(vec![0x30; 51]),
            false,
        )
        .unwrap();
    assert_eq!(out.signature, vec![0x42; 256]);
    // A DigestInfo the card cannot take is refused before any APDU.
    let mut link = FnCard::new(vec![], |_| panic!("no APDU expected"));
    for d in [JPKI, JMA] {
        let err = d
            .sign(
                &mut Session::new(&mut link),
                KeyRole::Auth,
                &PinSource::Typed(b"1234"),
                &CardInput::RsaDigestInfo(vec![0; 300]),
                false,
            )
            .unwrap_err();
        assert!(matches!(err, DriverError::DigestInfo { len: 300, .. }), "{err}");
    }
}

#[test]
fn basic_four_items_missing_or_not_utf8() {
    let items = |name: &[u8]| {
        let mut body = vec![0xDF, 0x21, 0x00, 0xDF, 0x22, u8::try_from(name.len()).unwrap()];
        body.extend_from_slice(name);
        body.extend_from_slice(&[0xDF, 0x23, 0x01, b'a', 0xDF, 0x24, 0x01, b'1', 0xDF, 0x25, 0x01, b'2']);
        let mut file = vec![0xFF, 0x20, u8::try_from(body.len()).unwrap()];
        file.extend(body);
        file
    };
    let pin = TextPin::new(&pin("1234")).unwrap();
    let ok = JPKI.read_basic_attributes(&mut Session::new(&mut file_card(items(b"x"))), &pin).unwrap();
    assert_eq!((ok.name.as_str(), ok.address.as_str(), ok.birth_date.as_str(), ok.sex.as_str()), ("x", "a", "1", "2"));
    let err = JPKI.read_basic_attributes(&mut Session::new(&mut file_card(items(&[0xFF, 0xFE]))), &pin);
    assert!(matches!(err, Err(DriverError::Malformed { reason, .. }) if reason.contains("UTF-8")));
    let err = JPKI.read_basic_attributes(&mut Session::new(&mut file_card(vec![0xFF, 0x20, 0x00, 0x00])), &pin);
    assert!(matches!(err, Err(DriverError::Malformed { reason, .. }) if reason.contains("name")));
}

/// Pulls the card after n APDUs, for every n a cold login takes: each run ends Ok or with Removed.
#[test]
fn removal_mid_operation() {
    for which in [Which::Jpki, Which::Jma, Which::Jahis] {
        let mut completed = false;
        for n in 0.. {
            let c = card(which);
            let mut sent = 0;
            let mut link = FnCard::fallible(vec![], move |apdu| {
                sent += 1;
                if sent > n { Err(TransportError::Removed) } else { Ok(c.lock().unwrap().process(apdu)) }
            });
            let mut s = Session::new(&mut link);
            let result = (|| {
                let d = registry::probe(&mut s)?.ok_or(DriverError::Unsupported("probe"))?;
                d.read_certificates(&mut s)?;
                let pin = d.check_pin(KeyRole::Auth, &pin(if d == JPKI { "1234" } else { "hpki1234" }))?;
                d.pin_status(&mut s, KeyRole::Auth)?;
                d.sign(&mut s, KeyRole::Auth, &PinSource::Typed(&pin), &rsa_input(MESSAGE), false)?;
                if d == JPKI {
                    d.read_basic_attributes(&mut s, &TextPin::new(&super::common::pin("1234"))?)?;
                }
                Ok::<_, DriverError>(())
            })();
            match result {
                Ok(()) => {
                    completed = true;
                    break;
                }
                Err(e) => assert_eq!(e, DriverError::Transport(TransportError::Removed), "{which:?} after {n}"),
            }
        }
        assert!(completed);
    }
}

/// Pseudo-random answers to every APDU: whatever comes back, the drivers return.
#[test]
fn garbage_answers_never_panic() {
    let mut seed = 0x2545_F491_u64;
    for round in 0..400 {
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let bias = round % 4;
        let mut link = FnCard::new(vec![], move |_| {
            let r = next();
            let len = (r % 300) as usize;
            let mut out: Vec<u8> = (0..len).map(|i| (r >> (i % 56)) as u8).collect();
            // Mostly plausible status words, so the drivers get deep.
            match bias {
                0 => out.extend_from_slice(&[0x90, 0x00]),
                1 => out.extend_from_slice(&[(r >> 8) as u8, (r >> 16) as u8]),
                2 if r % 3 == 0 => out.extend_from_slice(&[0x61, (r >> 24) as u8]),
                _ => {}
            }
            out
        });
        let mut s = Session::new(&mut link);
        for d in [JPKI, JMA, JAHIS] {
            let _ = registry::probe(&mut s);
            let _ = d.read_certificates(&mut s);
            let _ = d.confirm_identity(&mut s, &[0x30; 40]);
            let _ = d.pin_status(&mut s, KeyRole::Sign);
            let _ = d.sign(&mut s, KeyRole::Sign, &PinSource::Typed(b"ABCDEF"), &rsa_input(MESSAGE), true);
            let _ = d.read_basic_attributes(&mut s, &TextPin::new(&pin("1234")).unwrap());
        }
    }
}
