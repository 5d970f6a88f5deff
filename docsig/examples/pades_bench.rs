//! scripts/bench-pades' hcpki side: sign a PDF at PAdES B-LT (test HPKI card key, in-process TSA), write it, then
//! verify it with `hcpki_docsig::signature::pades::verify` in a loop and print verifications per second.
//!
//!     cargo run --release -p hcpki-ca --example pades_bench -- IN.pdf OUT.pdf SECONDS TRUST-DIR
//!
//! TRUST-DIR receives `hpki-root.pem` and `tsa.pem` (self-signed) for the reference validator. The last line
//! of standard output is `verifications_per_second=N`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "shared/tsa.rs"]
mod shared_tsa;

use hcpki_docsig::signature::pades::{self, Level, ValidationData};
use hcpki_vcard::testpki::{CrlValidity, HpkiSubject, HpkiTestCas};
use shared_tsa::{stamp, tsa};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output, seconds, trust] = args.as_slice() else {
        panic!("usage: pades_bench IN.pdf OUT.pdf SECONDS TRUST-DIR");
    };
    let pdf = std::fs::read(input).unwrap();
    let cas = HpkiTestCas::new().unwrap();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let (tsa, tsa_cert) = tsa();
    let now = hcpki_pkix::time::now_unix();

    let prepared = pades::prepare(&pdf, &[card.signature.cert.as_slice(), &card.signature_ca], now).unwrap();
    let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    let b_b = pades::assemble(prepared, &value).unwrap();
    let token = stamp(&tsa, &pades::signature_time_stamp_digest(&b_b).unwrap(), now);
    let b_t = pades::with_signature_time_stamp(&b_b, &token).unwrap();
    let data = ValidationData {
        certificates: vec![card.signature.cert.clone(), card.signature_ca.clone(), card.root.clone(), tsa_cert.clone()],
        crls: vec![cas.root_arl(&[], CrlValidity::fresh(24)).unwrap()],
        ocsps: Vec::new(),
    };
    let b_lt = pades::add_validation_data(&b_t, &data).unwrap();
    assert_eq!(pades::verify(&b_lt).unwrap().level(), Level::BaselineLt);
    std::fs::write(output, &b_lt).unwrap();
    let pem = |der: &[u8]| der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap();
    std::fs::write(format!("{trust}/hpki-root.pem"), pem(&card.root)).unwrap();
    std::fs::write(format!("{trust}/tsa.pem"), pem(&tsa_cert)).unwrap();

    let budget = Duration::from_secs(seconds.parse().unwrap());
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < budget {
        pades::verify(&b_lt).unwrap();
        count += 1;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    println!("file_bytes={}", b_lt.len());
    println!("verifications={count}");
    println!("verifications_per_second={rate:.1}");
}
