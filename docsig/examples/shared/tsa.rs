//! The benchmarks' TSA: hcpki's authority in-process under a self-signed certificate, asked as a signer asks.

use der::{Decode, Encode};
use hcpki_docsig::timestamp::client::Query;
use hcpki_docsig::timestamp::{Accuracy, TimeStampAuthority, TimeStampResp, TsaSettings};
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use std::sync::Arc;

/// An in-process TSA under a self-signed certificate (critical EKU timeStamping) for a P-256 key.
pub fn tsa() -> (TimeStampAuthority, Vec<u8>) {
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let cert = hcpki_vcard::testpki::tsa_certificate(&pkcs8, "TEST bench TSA").unwrap();
    let settings = TsaSettings {
        policy: "1.3.6.1.4.1.99999.3161.1".parse().unwrap(),
        accuracy: Accuracy { seconds: Some(1), millis: None, micros: None },
    };
    (TimeStampAuthority::new(&cert, Arc::new(key), settings).unwrap(), cert)
}

/// A token over the SHA-256 `digest`, asked as a signer asks (`timestamp::client::Query`: nonce, certReq).
pub fn stamp(tsa: &TimeStampAuthority, digest: &[u8; 32], now: i64) -> Vec<u8> {
    let query = Query::sha256(digest, None).unwrap();
    let answer = tsa.answer(query.der(), now);
    answer.outcome.unwrap();
    TimeStampResp::from_der(&answer.der).unwrap().time_stamp_token.unwrap().to_der().unwrap()
}
