//! The CAdES and XAdES verifications in a loop (issue #42: how much reading CMS as BER, through one token reader,
//! costs): a CAdES B-LTA `.p7s` (the test HPKI card's signature key, an in-process TSA, the signature CA and its
//! CRL embedded, an archive time stamp) checked by `cades::verify` (structure, signature, time stamps) and judged
//! by `cades::validate` offline (the whole verifier: paths, CRL, archive index); and an XAdES B-T e-prescription
//! checked by `xades::verify`. Each for SECONDS; verifications per second printed, and the CPU time this process
//! spent per verification (user + system, from /proc/self/stat: on a machine shared with other work the rate
//! follows the load, the CPU per verification much less).
//!
//!     cargo run --release -p hcpki-ca --example signature_bench -- SECONDS
//!
//! The public API it calls is the same before and after issue #42, so the same file builds against either
//! (docs/benchmarks.md, "CAdES and XAdES verification").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "shared/tsa.rs"]
mod shared_tsa;

use hcpki_docsig::signature::validation::{FetchRequest, SigningTrust};
use hcpki_docsig::signature::{cades, xades};
use hcpki_docsig::timestamp::HashAlgorithm;
use hcpki_vcard::testpki::{CrlValidity, HpkiSubject, HpkiTestCas};
use shared_tsa::{stamp, tsa};
use std::time::{Duration, Instant};

/// A FHIR document, as a referral letter travels outside CLINS.
const DOCUMENT: &[u8] = "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"title\":\"診療情報提供書\"}\n".as_bytes();
/// A JAHIS prescription CSV (the records the e-prescription summary reads).
const CSV: &str = "JAHIS10\r\n1,1,1234567,13,テスト医療機関\r\n5,,イシ タロウ,医師 太郎\r\n\
11,P0001,処方 花子,ショホウ ハナコ\r\n12,2\r\n13,19800101\r\n51,20261126\r\n101,1,1,内服,5\r\n\
111,1,1,,1日3回毎食後,3\r\n201,1,1,1,2,1149019F1ZZZ,ロキソプロフェンNa錠60mg,3,1,錠\r\n";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, seconds] = args.as_slice() else { panic!("usage: signature_bench SECONDS") };
    let budget = Duration::from_secs(seconds.parse().unwrap());
    let cas = HpkiTestCas::new().unwrap();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let (tsa, tsa_cert) = tsa();
    let now = hcpki_pkix::time::now_unix();
    let chain = [card.signature.cert.as_slice(), &card.signature_ca];

    let digest: [u8; 32] = HashAlgorithm::Sha256.digest(DOCUMENT).try_into().unwrap();
    let tbs = cades::prepare(&digest, &chain, now).unwrap();
    let value = card.signature.key.sign_sha256(tbs.bytes()).unwrap();
    let p7s = cades::assemble(tbs, &value).unwrap();
    let p7s =
        cades::with_signature_time_stamp(&p7s, &stamp(&tsa, &cades::signature_time_stamp_digest(&p7s).unwrap(), now))
            .unwrap();
    let crl = cas.signature_crl(&[], CrlValidity::fresh(24)).unwrap();
    let p7s = cades::with_validation_data(&p7s, std::slice::from_ref(&card.signature_ca), &[crl], &[]).unwrap();
    let archive = stamp(&tsa, &cades::archive_time_stamp_digest(&p7s, DOCUMENT).unwrap(), now + 1);
    let p7s = cades::with_archive_time_stamp(&p7s, DOCUMENT, &archive).unwrap();
    let trust = SigningTrust::new(std::slice::from_ref(&card.root), &[tsa_cert]).unwrap();
    let offline = |_: &FetchRequest<'_>| Err::<Vec<u8>, String>("offline".into());
    let report = cades::validate(&p7s, DOCUMENT, &trust, now + 5, &offline);
    assert_eq!(report.verdict(), "PASSED", "{report:?}");

    let prepared = xades::prepare(CSV.as_bytes(), &chain, now).unwrap();
    let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    let xml = xades::assemble(prepared, &value).unwrap();
    let xml =
        xades::with_signature_time_stamp(&xml, &stamp(&tsa, &xades::signature_time_stamp_digest(&xml).unwrap(), now))
            .unwrap();
    xades::verify(&xml).unwrap();

    println!("cades_bytes={}", p7s.len());
    measure("cades_verify", budget, || drop(cades::verify(&p7s, DOCUMENT).unwrap()));
    measure("cades_validate", budget, || drop(cades::validate(&p7s, DOCUMENT, &trust, now + 5, &offline)));
    println!("xades_bytes={}", xml.len());
    measure("xades_verify", budget, || drop(xades::verify(&xml).unwrap()));
}

/// Calls `f` for `budget`; prints `NAME_per_second` and `NAME_cpu_us` (CPU time per call).
fn measure(name: &str, budget: Duration, mut f: impl FnMut()) {
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let mut count = 0u64;
    while start.elapsed() < budget {
        f();
        count += 1;
    }
    let (wall, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    println!("{name}_per_second={:.1}", count as f64 / wall);
    println!("{name}_cpu_us={:.1}", cpu / count as f64 * 1e6);
}

/// This process's user + system CPU time, in seconds (fields 14 and 15 of /proc/self/stat, in clock ticks of
/// 1/100 s, the Linux default).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}
