//! The signers' TSA client's checks of an answer (`hcpki_docsig::timestamp::client::check_reply`): whatever a
//! configured TSA sends back, or anyone on the path to a plain-HTTP one, reaches them — TimeStampResp,
//! PKIStatusInfo, the CMS SignedData token, TSTInfo (genTime with fractions), the ESS attributes, certificates.
//!
//! Must hold: no panic, and no token accepted. The only trust anchor is the fixture CA (no timeStamping EKU, and
//! its key signs nothing here) and every call asks with a fresh random nonce, so every input ends in an error,
//! whose message must say something.
#![no_main]

use hcpki_docsig::timestamp::client::{Query, TsaTrust, check_reply};
use libfuzzer_sys::fuzz_target;

const ANCHOR: &[u8] = include_bytes!("../fixtures/crl-issuer.der");
/// 2026-01-02 00:00 UTC.
const NOW: i64 = 1_767_312_000;

fuzz_target!(|data: &[u8]| {
    let trust = TsaTrust::new(&[ANCHOR.to_vec()]).expect("the fixture CA decodes");
    let query = Query::sha256(&[0x5a; 32], None).expect("a request encodes");
    match check_reply(&query, data, &trust, NOW) {
        Ok(stamp) => panic!("accepted a token from {} that no trusted key signed", stamp.tsa),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
