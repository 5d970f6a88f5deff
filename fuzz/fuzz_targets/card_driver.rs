//! The card drivers against a card whose every answer comes from the input: probe, then
//! read_certificates, confirm_identity, pin_status, sign (both keys, with the chain) and the JPKI basic
//! four items. A hostile or broken card must end in an error, never a panic.
//!
//! Input: byte 0 picks the driver when the probe finds none; then one answer per APDU, each led by a
//! control byte c:
//!   00–3F  a status word only, from `STATUS` (9000, 6A82, 63Cx, 61xx, 6Cxx, …), c indexing it;
//!   40–7F  data of the next byte's length, then 9000;
//!   80–BF  data of the next two bytes' length (capped at 1024), then 9000;
//!   C0–FF  a raw R-APDU of the next byte's length (may be shorter than a status word).
//! Data bytes come from the input; when it runs out the card is "removed".
//! Must hold: no panic; a signature is one modulus long; every certificate read is one whole TLV.
#![no_main]

use hcpki_agent::driver::{TextPin, registry};
use hcpki_agent::service::{KeyRole, Pin};
use hcpki_agent::tlv;
use hcpki_agent::transport::{Session, Transport, TransportError};
use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;

const STATUS: [[u8; 2]; 16] = [
    [0x90, 0x00],
    [0x6A, 0x82],
    [0x63, 0xC3],
    [0x63, 0xC0],
    [0x69, 0x83],
    [0x69, 0x82],
    [0x67, 0x00],
    [0x61, 0x00],
    [0x61, 0x10],
    [0x6C, 0x04],
    [0x62, 0x82],
    [0x63, 0x00],
    [0x6B, 0x00],
    [0x69, 0x81],
    [0x6D, 0x00],
    [0x90, 0x01],
];

struct Card<'a>(&'a [u8]);

impl Card<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).first().copied()
    }
}

impl Transport for Card<'_> {
    fn transmit(&mut self, _capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let c = self.byte().ok_or(TransportError::Removed)?;
        let ok = [0x90, 0x00];
        Ok(match c >> 6 {
            0 => STATUS[usize::from(c) % STATUS.len()].to_vec(),
            1 => {
                let n = usize::from(self.byte().unwrap_or(0));
                [self.take(n), &ok].concat()
            }
            2 => {
                let hi = self.byte().unwrap_or(0);
                let lo = self.byte().unwrap_or(0);
                let n = usize::from(u16::from_be_bytes([hi, lo])).min(1024);
                [self.take(n), &ok].concat()
            }
            _ => {
                let n = usize::from(self.byte().unwrap_or(0));
                self.take(n).to_vec()
            }
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, answers)) = data.split_first() else { return };
    let mut card = Card(answers);
    let mut s = Session::new(&mut card);
    let driver = match registry::probe(&mut s) {
        Ok(Some(d)) => d,
        _ => match registry::DRIVERS.get(usize::from(pick) % registry::DRIVERS.len()) {
            Some(d) => *d,
            None => return,
        },
    };
    let certs = driver.read_certificates(&mut s).unwrap_or_default();
    for chain in certs.iter().flat_map(|c| &c.chain) {
        assert_eq!(tlv::encoded_len(chain), Ok(chain.len()), "a certificate read is one whole TLV");
    }
    let identity = driver.identity_certificate(&certs).map(<[u8]>::to_vec).unwrap_or_else(|| vec![0x30; 64]);
    let _ = driver.confirm_identity(&mut s, &identity);
    // Both inputs a card can be handed (D177): an RSA DigestInfo and a P-384 hash.
    let inputs = [
        hcpki_agent_protocol::card_input(hcpki_agent_protocol::CardKeyAlgorithm::RsaPkcs1Sha256, answers),
        hcpki_agent_protocol::card_input(hcpki_agent_protocol::CardKeyAlgorithm::EcdsaP384Sha384, answers),
    ];
    for (role, typed) in [(KeyRole::Auth, "1234"), (KeyRole::Sign, "sign1234")] {
        let _ = driver.pin_status(&mut s, role);
        let pin = Pin(Zeroizing::new(typed.to_owned()));
        // Both PINs fit both card families' formats.
        let Ok(bytes) = driver.check_pin(role, &pin) else { continue };
        for input in &inputs {
            if let Ok(out) = driver.sign(&mut s, role, &hcpki_agent::driver::PinSource::Typed(&bytes), input, true) {
                let len = out.signature.len();
                assert!(len == 256 || len == 96, "an RSA-2048 modulus or a P-384 r ‖ s, not {len} bytes");
            }
        }
    }
    if let Ok(pin) = TextPin::new(&Pin(Zeroizing::new("1234".into()))) {
        let _ = driver.read_basic_attributes(&mut s, &pin);
    }
});
