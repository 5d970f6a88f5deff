//! The client's readers on their own; the client against a real CA's time-stamping authority is tested in
//! `hcpki-ca` (`ca/src/tsa_client_tests.rs`), which issues the certificates.

use crate::timestamp::GenTime;
use der::Decode;

/// genTime with a fraction of a second (many TSAs write milliseconds) reads; a non-DER fraction does not.
#[test]
fn gen_time_reads_fractions_of_a_second() {
    let read = |text: &str| GenTime::from_der(&[&[0x18, text.len() as u8][..], text.as_bytes()].concat());
    assert_eq!(read("20261126143000.123Z").unwrap().unix(), 1_795_703_400);
    assert_eq!(read("20261126143000Z").unwrap().unix(), 1_795_703_400);
    for bad in ["20261126143000.120Z", "20261126143000.Z", "20261126143000", "202611261430Z"] {
        assert!(read(bad).is_err(), "{bad}");
    }
}
