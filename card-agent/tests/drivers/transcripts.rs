//! The drivers replayed against transcripts written from the reference notes
//! (`tests/transcripts/make-transcripts`): every C-APDU must be the documented one, in order, and every
//! recorded exchange must be made.

use hcpki_agent::driver::{PinSource, PinStatus, registry};
use hcpki_agent::service::{CardKind, KeyRole};
use hcpki_agent::transport::Session;
use hcpki_agent::transport::replay::Replay;

use super::common::{JMA, JPKI, pin, rsa_input};

/// The message make-transcripts signs.
const MESSAGE: &[u8] = b"hcpki transcript challenge";

fn replay(text: &str) -> Replay {
    Replay::parse(vec![], text).unwrap()
}

#[test]
fn jpki_login() {
    let mut r = replay(include_str!("../transcripts/jpki-login.transcript"));
    {
        let mut s = Session::new(&mut r);
        let d = registry::probe(&mut s).unwrap().unwrap();
        assert_eq!(d, JPKI);
        let certs = d.read_certificates(&mut s).unwrap();
        let lens: Vec<usize> = certs[0].chain.iter().map(Vec::len).collect();
        assert_eq!((certs.len(), certs[0].role, lens), (1, KeyRole::Auth, vec![4 + 0x104, 3 + 0xF0]));
        assert_eq!(d.pin_status(&mut s, KeyRole::Auth).unwrap(), PinStatus::TriesLeft(3));
        let pin = d.check_pin(KeyRole::Auth, &pin("1234")).unwrap();
        let out = d.sign(&mut s, KeyRole::Auth, &PinSource::Typed(&pin), &rsa_input(MESSAGE), false).unwrap();
        assert_eq!((out.signature.len(), out.chain), (256, None));
    }
    r.finish().unwrap();
}

#[test]
fn jpki_pin_status() {
    let mut r = replay(include_str!("../transcripts/jpki-pin-status.transcript"));
    {
        let mut s = Session::new(&mut r);
        assert_eq!(JPKI.pin_status(&mut s, KeyRole::Auth).unwrap(), PinStatus::TriesLeft(2));
        assert_eq!(JPKI.pin_status(&mut s, KeyRole::Sign).unwrap(), PinStatus::TriesLeft(5));
        assert_eq!(JPKI.pin_status(&mut s, KeyRole::Sign).unwrap(), PinStatus::Blocked);
        assert_eq!(s.apdus(), 9);
    }
    r.finish().unwrap();
}

#[test]
fn jpki_sign_reads_the_signing_chain_after_the_password() {
    let mut r = replay(include_str!("../transcripts/jpki-sign-with-chain.transcript"));
    {
        let mut s = Session::new(&mut r);
        let pin = JPKI.check_pin(KeyRole::Sign, &pin("sign1234")).unwrap();
        let out = JPKI.sign(&mut s, KeyRole::Sign, &PinSource::Typed(&pin), &rsa_input(MESSAGE), true).unwrap();
        let lens: Vec<usize> = out.chain.unwrap().iter().map(Vec::len).collect();
        assert_eq!(lens, vec![4 + 0x190, 4 + 0x110]);
    }
    r.finish().unwrap();
}

#[test]
fn hpki_jma_login() {
    let mut r = replay(include_str!("../transcripts/hpki-jma-login.transcript"));
    {
        let mut s = Session::new(&mut r);
        let d = registry::probe(&mut s).unwrap().unwrap();
        assert!(d.kind() == CardKind::Hpki && d.name() == "jma", "{d:?}");
        let certs = d.read_certificates(&mut s).unwrap();
        let shape: Vec<(KeyRole, usize)> = certs.iter().map(|c| (c.role, c.chain.concat().len())).collect();
        assert_eq!(shape, vec![(KeyRole::Auth, 1414), (KeyRole::Sign, 1414)]);
        assert_eq!(d.pin_status(&mut s, KeyRole::Sign).unwrap(), PinStatus::TriesLeft(15));
        let pin = d.check_pin(KeyRole::Sign, &pin("hpki1234")).unwrap();
        let out = d.sign(&mut s, KeyRole::Sign, &PinSource::Typed(&pin), &rsa_input(MESSAGE), false).unwrap();
        assert_eq!(out.signature.len(), 256);
    }
    r.finish().unwrap();
}

#[test]
fn hpki_jma_sign_falls_back_to_chaining() {
    let mut r = replay(include_str!("../transcripts/hpki-jma-sign-chained.transcript"));
    {
        let mut s = Session::new(&mut r);
        let d = JMA;
        let pin = d.check_pin(KeyRole::Sign, &pin("hpki1234")).unwrap();
        let out = d.sign(&mut s, KeyRole::Sign, &PinSource::Typed(&pin), &rsa_input(MESSAGE), false).unwrap();
        assert_eq!(out.signature.len(), 256);
    }
    r.finish().unwrap();
}
