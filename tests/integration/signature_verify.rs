//! The signature verifier against the independent peers (issue #27 item 5, CAdES part): a fixture set made at
//! test time around the test HPKI hierarchy (its signature CA signs the CRLs) and an hcpki `tsa` certificate,
//! judged by `hcpki signature verify --json` and by `openssl cms -verify -cades` (+ `openssl ts -verify` on the
//! signature time stamp). Where OpenSSL can judge, the two agree; where they legitimately differ, the test pins
//! both answers and says why (docs/interop.md):
//!
//! * OpenSSL checks revocation only when asked (`-crl_check`) and then at the current time: a signer revoked
//!   *after* the time stamp is refused by it and PASSED by hcpki (EN 319 102-1 judges at the proven time).
//! * OpenSSL checks validity at the current time: an expired certificate with a time stamp from its validity
//!   passes only with `-attime` set to the time stamp's time.
//! * OpenSSL's `-purpose any` does not look at keyUsage nonRepudiation: an authentication certificate used to
//!   sign passes OpenSSL and is FAILED/CHAIN_CONSTRAINTS_FAILURE for hcpki.
//! * `openssl cms -verify` ignores unsigned attributes: a broken time stamp fails `openssl ts -verify` only; hcpki
//!   ignores the token too (no proof of time, a note) and judges the signature as B-B.
//! * Without embedded revocation data hcpki fetches the CRL from the certificate's distribution point, then asks
//!   its OCSP responder. The fixtures of a second hierarchy point at a repository the test serves
//!   (`hpki_repository`: its CRL, and a real `openssl ocsp` responder): B-T judged from the fetched CRL or OCSP
//!   answer is PASSED at B-T, and a signer the responder says was revoked before the time stamp FAILED/REVOKED,
//!   after it PASSED — while `openssl ocsp` asking the same responder says revoked (it judges now). The first
//!   hierarchy's distribution point (`hcpki-test.invalid`) does not resolve, so B-T without B-LT data there is
//!   INDETERMINATE/TRY_LATER.
//!
//! No database is used beyond the hcpki directory `hcpki issue` needs, so it runs once (SQLite). The API
//! (`POST /api/v1/signatures/verify`, audited) runs once per backend.

use crate::cades::{cms_verify, path, stamp, ts_verify, write_pem};
use crate::harness::{Backend, Hcpki, describe};
use crate::hpki_repository::{HpkiRepository, OcspEntry, openssl_ocsp};
use hcpki_docsig::signature::{cades, pades, xades};
use hcpki_docsig::timestamp::{HashAlgorithm, TimeStampAuthority};
use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject, HpkiTestCas, Revoked};
use std::path::Path;
use std::process::{Command, Output};
use x509_cert::der::{Decode, Encode};

on_both_backends!(the_api_judges_posted_signatures_and_audits_each);

const DOCUMENT: &[u8] = "{\"resourceType\":\"Bundle\",\"title\":\"診療情報提供書\"}\n".as_bytes();

/// One fixture: what it is, the files, and what each side must say.
struct Fixture {
    name: &'static str,
    p7s: Vec<u8>,
    data: &'static [u8],
    /// hcpki's verdict and level.
    hcpki: (&'static str, Option<&'static str>),
    /// Whether `openssl cms -verify -cades` accepts it (with the extra arguments given).
    openssl: bool,
    openssl_args: Vec<String>,
    /// Whether `openssl ts -verify` accepts its signature time stamp (None: it has none).
    ts: Option<bool>,
    /// For the served hierarchy's fixtures: whether the repository serves the signature CA's CRL while hcpki
    /// judges it (else only the OCSP responder answers), and where hcpki must say the status came from.
    served: Option<(bool, &'static str)>,
    /// The root `openssl ts -verify` trusts for the signature time stamp (default: the in-process TSA's).
    ts_root: Option<std::path::PathBuf>,
}

#[test]
fn hcpki_and_openssl_agree_on_the_cades_fixture_set() {
    let h = Hcpki::initialized(Backend::Sqlite);
    let cas = crate::test_pki::hpki();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let expired = cas.issue_expired(&HpkiSubject::default()).unwrap();
    let stranger = crate::test_pki::stranger();
    let repository = HpkiRepository::start();
    let served = HpkiTestCas::with_repository(&repository.base_url()).unwrap();
    let (good, revoked) =
        (served.issue(&HpkiSubject::default()).unwrap(), served.issue(&HpkiSubject::default()).unwrap());
    let (tsa, tsa_cert) = old_tsa(&h);
    // Two minutes back: the fixtures' CRLs are dated a second after their time stamp, and OpenSSL refuses a
    // CRL whose thisUpdate is still ahead of its clock ("CRL is not yet valid") when it runs within that second.
    let now = hcpki_pkix::time::now_unix() - 120;
    let root = h.path("hpki-root.pem");
    write_pem(&root, "CERTIFICATE", &card.root);
    let served_root = h.path("served-hpki-root.pem");
    write_pem(&served_root, "CERTIFICATE", &good.root);
    let config = std::fs::read_to_string(h.dir().join("hcpki.toml")).unwrap();
    let tsa_roots = tsa_cert.clone();
    // A reference TSA whose tokens carry their certificates out of DER's order (`openssl ts -reply -chain`): the
    // one `hcpki tsa stamp` asks, and trusted by the verifier beside the in-process one.
    let reference = crate::tsa::ReferenceTsa::start(&h.path("reference-tsa"));
    std::fs::write(
        h.dir().join("hcpki.toml"),
        format!(
            "{config}\n[signing]\nanchors = [\"{}\", \"{}\"]\n\n[[signing.tsa]]\nurl = \"{}\"\nroots = [\"{}\"]\n\n\
             [[signing.tsa]]\nurl = \"http://127.0.0.1:1/tsa\"\nroots = [\"{}\"]\n",
            path(&root),
            path(&served_root),
            reference.at("chain"),
            path(&reference.root()),
            path(&tsa_roots)
        ),
    )
    .unwrap();
    let s = Signer { h: &h, tsa: &tsa, cas };
    // The served hierarchy: `revoked`'s signature certificate revoked a minute before the time stamps of `now`,
    // in the CRL the repository serves and in the responder's index.
    let s2 = Signer { h: &h, tsa: &tsa, cas: &served };
    let served_crl = s2.crl(now + 1, &[(&revoked, now - 60)]);
    repository.serve_ocsp(
        &served,
        &[OcspEntry::good(&good.signature.cert), OcspEntry::revoked(&revoked.signature.cert, now - 60)],
    );
    repository.set_crl(&served.root_arl_url(), Some(served.root_arl(&[], CrlValidity::fresh(24)).unwrap()));
    let crl_at = |at: i64, revoked: &[(&HpkiCredentials, i64)]| s.crl(at, revoked);
    let (from, to) = validity(&expired.signature.cert);

    let b_lt = s.sign(&card, now, Some(now), &[crl_at(now + 1, &[])], false);
    let mut fixtures = vec![
        Fixture::new("b-b", s.sign(&card, now, None, &[crl_at(now - 60, &[])], false), ("PASSED", Some("B-B"))),
        Fixture::new("b-t", s.sign(&card, now, Some(now), &[], false), ("INDETERMINATE/TRY_LATER", Some("B-T")))
            .stamped(true),
        Fixture::new("b-lt", b_lt.clone(), ("PASSED", Some("B-LT"))).stamped(true),
        Fixture::new("b-lta", s.sign(&card, now, Some(now), &[crl_at(now + 1, &[])], true), ("PASSED", Some("B-LTA")))
            .stamped(true),
        Fixture { data: b"tampered", ..Fixture::new("tampered-content", b_lt.clone(), ("FAILED/HASH_FAILURE", None)) }
            .refused()
            .stamped(true),
        Fixture::new(
            "tampered-signed-attributes",
            tamper_signing_time(&b_lt, now),
            ("FAILED/SIG_CRYPTO_FAILURE", None),
        )
        .refused(),
        Fixture::new(
            "revoked-before-time-stamp",
            s.sign(&card, now, Some(now), &[crl_at(now + 1, &[(&card, now - 60)])], false),
            ("FAILED/REVOKED", Some("B-T")),
        )
        .stamped(true),
        Fixture::new(
            "revoked-after-time-stamp",
            s.sign(&card, now - 3600, Some(now - 3600), &[crl_at(now + 1, &[(&card, now - 60)])], false),
            ("PASSED", Some("B-LT")),
        )
        .stamped(true),
        Fixture::new(
            "expired-time-stamped-in-validity",
            s.sign(&expired, from + 3600, Some(from + 3600), &[crl_at(from + 7200, &[])], false),
            ("PASSED", Some("B-LT")),
        )
        .refused()
        .stamped(true),
        Fixture::new(
            "authentication-certificate",
            s.sign_with(&card.authentication, &card.authentication_ca, now, &[]),
            ("FAILED/CHAIN_CONSTRAINTS_FAILURE", Some("B-B")),
        ),
        Fixture::new(
            "unknown-root",
            s.sign(stranger, now, None, &[], false),
            ("INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND", Some("B-B")),
        )
        .refused(),
        Fixture::new("broken-time-stamp", s.broken_time_stamp(&card, now), ("PASSED", Some("B-B"))).stamped(false),
        Fixture::new("b-t-fetched-crl", s2.sign(&good, now, Some(now), &[], false), ("PASSED", Some("B-T")))
            .stamped(true)
            .fetched_crl(),
        Fixture::new("b-t-fetched-ocsp", s2.sign(&good, now, Some(now), &[], false), ("PASSED", Some("B-T")))
            .stamped(true)
            .fetched_ocsp(),
        Fixture::new(
            "revoked-before-time-stamp-fetched-crl",
            s2.sign(&revoked, now, Some(now), &[], false),
            ("FAILED/REVOKED", Some("B-T")),
        )
        .stamped(true)
        .fetched_crl(),
        Fixture::new(
            "revoked-before-time-stamp-fetched-ocsp",
            s2.sign(&revoked, now, Some(now), &[], false),
            ("FAILED/REVOKED", Some("B-T")),
        )
        .stamped(true)
        .fetched_ocsp(),
        Fixture::new(
            "revoked-after-time-stamp-fetched-ocsp",
            s2.sign(&revoked, now - 3600, Some(now - 3600), &[], false),
            ("PASSED", Some("B-T")),
        )
        .stamped(true)
        .fetched_ocsp(),
    ];
    // As OpenSSL writes them with `-stream`: BER, the document inside (and the same with it taken out, as OpenSSL
    // will not write a streamed detached signature); with and without `-cades` (the ESS signingCertificateV2
    // attribute, which CAdES requires and plain CMS does not have). A BER file is judged like any other.
    let streamed = |flags: &[&str]| crate::cades::openssl_sign(&good.signature, &good.signature_ca, DOCUMENT, flags);
    let cades_stream = streamed(&["-stream", "-cades"]);
    let plain_stream = streamed(&["-stream"]);
    assert_eq!((&cades_stream[..2], &plain_stream[..2]), (&[0x30, 0x80][..], &[0x30, 0x80][..]), "not BER");
    fixtures.extend([
        Fixture::new("openssl-stream-cades", cades_stream.clone(), ("PASSED", Some("B-B"))).fetched_crl(),
        Fixture::new("openssl-stream-cades-detached", crate::cades::detached(&cades_stream), ("PASSED", Some("B-B")))
            .fetched_crl(),
        Fixture::new(
            "openssl-stream-without-cades",
            plain_stream.clone(),
            ("INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND", None),
        )
        .refused()
        .fetched_crl(),
        Fixture::new(
            "openssl-stream-without-cades-detached",
            crate::cades::detached(&plain_stream),
            ("INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND", None),
        )
        .refused()
        .fetched_crl(),
    ]);
    // The BER signature time-stamped through the reference TSA (a token whose certificates are not in DER order):
    // B-T, not B-B (issue #42); `openssl ts -verify` takes the token under the reference root.
    let value = cades::CadesSignature::from_ber(&cades_stream).unwrap().signature_value().to_vec();
    let (value_file, token_file) = (h.path("stream-value.bin"), h.path("stream-value.tst"));
    std::fs::write(&value_file, &value).unwrap();
    h.ok(&["tsa", "stamp", "--data", path(&value_file), "--out", path(&token_file)]);
    let chained = cades::with_signature_time_stamp(&cades_stream, &std::fs::read(&token_file).unwrap()).unwrap();
    fixtures.push(
        Fixture {
            ts_root: Some(reference.root()),
            ..Fixture::new("b-t-openssl-chain-token", chained, ("PASSED", Some("B-T")))
        }
        .stamped(true)
        .fetched_crl(),
    );
    // Attacks on the encoding of what is signed: the signed attributes re-ordered, or given an indefinite length.
    // Their signature is over their DER (RFC 5652 §5.4), so as they stand they are not what the signer signed:
    // hcpki refuses both. OpenSSL checks the signature over the attributes re-encoded with definite lengths in the
    // order received: it refuses the re-ordered set (the signature fails) and takes the indefinite one (a second
    // encoding of the same signature, which hcpki does not accept: docs/interop.md).
    let attacks: [(&str, Attack, bool); 2] =
        [("signed-attributes-reordered", reorder, false), ("signed-attributes-indefinite", indefinite, true)];
    for (name, attack, openssl) in attacks {
        let p7s = signed_attributes_changed(&b_lt, attack);
        fixtures.push(Fixture { openssl, ..Fixture::new(name, p7s, ("FAILED/FORMAT_FAILURE", None)) });
    }
    // The legitimate differences, made to agree by telling OpenSSL what hcpki knows (module documentation).
    let expired_fixture = fixtures.iter_mut().find(|f| f.name.starts_with("expired")).unwrap();
    let attime = Fixture {
        openssl: true,
        openssl_args: vec!["-attime".into(), (from + 3600).to_string()],
        ..Fixture::new("expired-attime", expired_fixture.p7s.clone(), ("PASSED", Some("B-LT")))
    }
    .stamped(true);
    fixtures.push(attime);
    let _ = to;

    let document = h.path("document.json");
    std::fs::write(&document, DOCUMENT).unwrap();
    let mut table = Vec::new();
    for f in &fixtures {
        let p7s = h.path(&format!("{}.p7s", f.name));
        std::fs::write(&p7s, &f.p7s).unwrap();
        let data = if f.data == DOCUMENT { document.clone() } else { h.path(&format!("{}.data", f.name)) };
        std::fs::write(&data, f.data).unwrap();
        if let Some((crl, _)) = f.served {
            repository.set_crl(&served.signature_crl_url(), crl.then(|| served_crl.clone()));
        }
        let ocsp_asked = repository.ocsp_requests();
        let out = h.run(&["signature", "verify", path(&p7s), "--data", path(&data), "--json"]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e})\n{}", f.name, describe(&out)));
        let verdict = json["verdict"].as_str().unwrap_or_default().to_owned();
        let expected_code = if verdict == "PASSED" {
            0
        } else if verdict.starts_with("FAILED") {
            1
        } else {
            2
        };
        assert_eq!(out.status.code(), Some(expected_code), "{}: exit code\n{}", f.name, describe(&out));
        assert_eq!((verdict.as_str(), json["level"].as_str()), f.hcpki, "{}: {json:#}", f.name);
        if let Some((crl, source)) = f.served {
            // The report names the source when the signature stands (a refusal's words say why instead).
            if verdict == "PASSED" {
                assert_eq!(json["revocation"].as_str(), Some(source), "{}: {json:#}", f.name);
            }
            // From the CRL, the responder is not asked; without it, it is.
            assert_eq!(repository.ocsp_requests() > ocsp_asked, !crl, "{}: OCSP requests", f.name);
        }
        if f.name.starts_with("revoked-after") {
            assert!(json["notes"].to_string().contains("revoked"), "{}: {json:#}", f.name);
        }
        let anchor = if f.served.is_some() { &served_root } else { &root };
        let mut cms = cms_verify_with(&p7s, &data, anchor, &f.openssl_args);
        let cms_ok = cms.status.success();
        assert_eq!(cms_ok, f.openssl, "{}: openssl cms -verify -cades\n{}", f.name, describe(&cms));
        if let Some(expected) = f.ts {
            let token = h.path(&format!("{}.tst", f.name));
            let signature = cades::CadesSignature::from_ber(&f.p7s).unwrap();
            std::fs::write(&token, signature.signature_time_stamps().first().unwrap()).unwrap();
            let digest = hex::encode(HashAlgorithm::Sha256.digest(signature.signature_value()));
            let anchor = f.ts_root.as_ref().unwrap_or(&tsa_cert);
            cms = ts_verify(&token, &digest, anchor, anchor);
            assert_eq!(cms.status.success(), expected, "{}: openssl ts -verify\n{}", f.name, describe(&cms));
        }
        table.push(format!(
            "{:<40} hcpki {:<44} openssl cms {}",
            f.name,
            verdict,
            if cms_ok { "OK" } else { "refused" }
        ));
    }
    // OpenSSL's own revocation check (the CRL embedded in the SignedData), at the current time: both revoked
    // fixtures fail it, the valid B-LT passes it.
    for name in ["revoked-before-time-stamp", "revoked-after-time-stamp"] {
        let args = vec!["-crl_check".to_owned()];
        let out = cms_verify_with(&h.path(&format!("{name}.p7s")), &document, &root, &args);
        assert!(!out.status.success(), "{name}: openssl -crl_check accepted a revoked signer\n{}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("revoked"), "{name}\n{}", describe(&out));
    }
    let out = cms_verify_with(&h.path("b-lt.p7s"), &document, &root, &["-crl_check".to_owned()]);
    assert!(out.status.success(), "b-lt: openssl -crl_check\n{}", describe(&out));
    // OpenSSL's OCSP client asks the responder hcpki asked: good for the one, revoked (at the index's time) for
    // the other. It has no notion of the time stamp, so "revoked" is its answer for both revoked fixtures.
    let ocsp_url = served.signature_ocsp_url().unwrap();
    let ask = |cert: &[u8]| openssl_ocsp(&ocsp_url, h.dir(), &good.root, &good.signature_ca, cert);
    let said = ask(&good.signature.cert);
    assert!(said.contains("Response verify OK") && said.contains(": good"), "{said}");
    let said = ask(&revoked.signature.cert);
    assert!(said.contains("Response verify OK") && said.contains(": revoked"), "{said}");
    eprintln!("{}", table.join("\n"));
}

/// `POST /api/v1/signatures/verify` by an auditor: a B-B signature with its CRL embedded is PASSED, the same over
/// another document FAILED/HASH_FAILURE; an `openssl cms -sign -stream` signature (BER, attached) PASSED alone, and
/// FAILED/FORMAT_FAILURE with its signed attributes re-ordered; anonymous callers, bodies over the limit and bad Base64 are refused; every
/// call is audited with the verdict and the document's SHA-256.
fn the_api_judges_posted_signatures_and_audits_each(b: Backend) {
    use base64::Engine as _;
    use serde_json::json;
    let h = Hcpki::initialized(b);
    let cas = crate::test_pki::hpki();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let root = h.path("hpki-root.pem");
    write_pem(&root, "CERTIFICATE", &card.root);
    let config = std::fs::read_to_string(h.dir().join("hcpki.toml")).unwrap();
    std::fs::write(h.dir().join("hcpki.toml"), format!("{config}\n[signing]\nanchors = [\"{}\"]\n", path(&root)))
        .unwrap();
    let (tsa, _) = old_tsa(&h);
    let s = Signer { h: &h, tsa: &tsa, cas };
    let now = hcpki_pkix::time::now_unix();
    let p7s = s.sign(&card, now, None, &[s.crl(now - 60, &[])], false);
    let auditor = crate::admin::operator(&h, "aud", "auditor");
    let server = crate::serve::Served::start(&h, &[]);
    let api = crate::admin::Api::new(&h, &server);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let verify = "/api/v1/signatures/verify";

    let r = api.post(verify, &json!({ "signature": b64(&p7s), "data": b64(DOCUMENT) }), &auditor);
    assert_eq!(
        (r.status, r.json["verdict"].as_str(), r.json["level"].as_str()),
        (200, Some("PASSED"), Some("B-B")),
        "{r:?}"
    );
    assert_eq!(r.json["hc_roles"], json!(["Medical Doctor"]), "{r:?}");
    let r = api.post(verify, &json!({ "signature": b64(&p7s), "data": b64(b"another") }), &auditor);
    assert_eq!((r.status, r.json["verdict"].as_str()), (200, Some("FAILED/HASH_FAILURE")), "{r:?}");
    // As `openssl cms -sign -stream -cades` writes it (BER, the document inside), its CRL added by hcpki: judged
    // alone, PASSED (issue #42); with its signed attributes re-ordered, refused.
    let streamed = crate::cades::openssl_sign(&card.signature, &card.signature_ca, DOCUMENT, &["-stream", "-cades"]);
    let streamed = cades::with_validation_data(&streamed, &[], &[s.crl(now - 60, &[])], &[]).unwrap();
    let r = api.post(verify, &json!({ "signature": b64(&streamed) }), &auditor);
    assert_eq!(
        (r.status, r.json["verdict"].as_str(), r.json["level"].as_str()),
        (200, Some("PASSED"), Some("B-B")),
        "{r:?}"
    );
    let reordered = signed_attributes_changed(&streamed, reorder);
    let r = api.post(verify, &json!({ "signature": b64(&reordered) }), &auditor);
    assert_eq!((r.status, r.json["verdict"].as_str()), (200, Some("FAILED/FORMAT_FAILURE")), "{r:?}");
    assert!(r.text.contains("not in their DER encoding"), "{r:?}");
    let r = api.post(verify, &json!({ "signature": b64(&p7s), "data": b64(DOCUMENT) }), &crate::admin::As::Nobody);
    assert!(r.status == 401 || r.status == 403, "{r:?}");
    let r = api.post(verify, &json!({ "signature": "not base64!", "data": "" }), &auditor);
    assert!(r.status == 400 && r.text.contains("Base64"), "{r:?}");
    let big = "A".repeat(800 * 1024);
    let r = api.post(verify, &json!({ "signature": big, "data": "" }), &auditor);
    assert_eq!(r.status, 413, "{r:?}");
    // The format is read from the file: a detached signature without its document is refused (audited); an
    // e-prescription carries its document and is judged alone (its revocation data is not embedded and the
    // server fetches none: TRY_LATER), and refuses a document beside it.
    let r = api.post(verify, &json!({ "signature": b64(&p7s) }), &auditor);
    assert!(r.status == 400 && r.text.contains("detached CAdES signature"), "{r:?}");
    let csv = crate::xades::CSV.as_bytes();
    let prepared = xades::prepare(csv, &[&card.signature.cert, &card.signature_ca], now).unwrap();
    let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    let prescription = xades::assemble(prepared, &value).unwrap();
    let r = api.post(verify, &json!({ "signature": b64(&prescription) }), &auditor);
    assert_eq!(
        (r.status, r.json["format"].as_str(), r.json["verdict"].as_str(), r.json["level"].as_str()),
        (200, Some("xades"), Some("INDETERMINATE/TRY_LATER"), Some("B-B")),
        "{r:?}"
    );
    assert_eq!(r.json["signatures"].as_array().map(Vec::len), Some(1), "{r:?}");
    let r = api.post(verify, &json!({ "signature": b64(&prescription), "data": b64(csv) }), &auditor);
    assert!(r.status == 400 && r.text.contains("carries the document it signs"), "{r:?}");
    // PDFs (issue #42 items 3, 4): two signatures, each revision reported with what it changed; a reference the
    // signed revision left undefined, defined later (new text on the page); an object appended after %%EOF.
    let pdf = |dangling: bool| {
        let file = h.path("letter.pdf");
        let extra: &[&str] = if dangling { &["--dangling", "40"] } else { &[] };
        crate::pades::peer(&[&["make-pdf", path(&file)][..], extra].concat());
        std::fs::read(&file).unwrap()
    };
    let sign_pdf = |pdf: &[u8]| {
        let prepared = pades::prepare(pdf, &[&card.signature.cert, &card.signature_ca], now).unwrap();
        let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
        pades::assemble(prepared, &value).unwrap()
    };
    let two = sign_pdf(&sign_pdf(&pdf(false)));
    let r = api.post(verify, &json!({ "signature": b64(&two) }), &auditor);
    assert_eq!((r.status, r.json["format"].as_str()), (200, Some("pades")), "{r:?}");
    assert_eq!(r.json["signatures"].as_array().map(Vec::len), Some(2), "{r:?}");
    assert_eq!(
        r.json["revisions"][2]["changes"],
        json!([{ "change": "signature", "field": "Signature2", "visible": false }])
    );
    assert_eq!(
        (r.json["signatures"][0]["revision"].as_u64(), r.json["signatures"][1]["revision"].as_u64()),
        (Some(2), Some(3))
    );
    let by_hand = |command: &str, pdf: &[u8]| {
        let (input, output) = (h.path("in.pdf"), h.path("out.pdf"));
        std::fs::write(&input, pdf).unwrap();
        crate::pades::peer(&[command, path(&input), path(&output), "40"]);
        std::fs::read(&output).unwrap()
    };
    let forged = by_hand("define-object", &sign_pdf(&pdf(true)));
    let r = api.post(verify, &json!({ "signature": b64(&forged) }), &auditor);
    assert_eq!(r.json["verdict"].as_str(), Some("FAILED/HASH_FAILURE"), "{r:?}");
    assert!(r.json["detail"].as_str().unwrap_or_default().contains("defines object 40 0 R"), "{r:?}");
    let appended = by_hand("append-object", &two);
    let r = api.post(verify, &json!({ "signature": b64(&appended) }), &auditor);
    assert_eq!(r.json["verdict"].as_str(), Some("INDETERMINATE/SIG_CONSTRAINTS_FAILURE"), "{r:?}");
    assert_eq!(r.json["after_last_revision"]["kind"].as_str(), Some("unaccounted"), "{r:?}");
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    let lines: Vec<&str> = audit.lines().filter(|l| l.contains("signature.verify")).collect();
    assert!(lines.len() >= 11, "{}", lines.join("\n"));
    assert!(lines.iter().any(|l| l.contains("FAILED/HASH_FAILURE")), "{audit}");
    let document = hex::encode(HashAlgorithm::Sha256.digest(DOCUMENT));
    assert!(lines.iter().any(|l| l.contains(&document)), "{audit}");
    h.ok(&["audit", "verify"]);
    server.stop();
}

impl Fixture {
    fn new(name: &'static str, p7s: Vec<u8>, hcpki: (&'static str, Option<&'static str>)) -> Self {
        let (openssl_args, ts, served, ts_root) = (Vec::new(), None, None, None);
        Self { name, p7s, data: DOCUMENT, hcpki, openssl: true, openssl_args, ts, served, ts_root }
    }

    /// Judged with the served repository's CRL there: hcpki fetches it and needs nothing else.
    fn fetched_crl(self) -> Self {
        Self { served: Some((true, "fetched-crl")), ..self }
    }

    /// Judged with the CRL withdrawn (404): hcpki goes on to the OCSP responder.
    fn fetched_ocsp(self) -> Self {
        Self { served: Some((false, "fetched-ocsp")), ..self }
    }

    fn refused(self) -> Self {
        Self { openssl: false, ..self }
    }

    fn stamped(self, accepted: bool) -> Self {
        Self { ts: Some(accepted), ..self }
    }
}

/// Makes the fixtures: the card's key signs, the in-process TSA stamps at any time asked.
struct Signer<'a> {
    h: &'a Hcpki,
    tsa: &'a TimeStampAuthority,
    cas: &'a HpkiTestCas,
}

impl Signer<'_> {
    /// A signature by `card`'s signature key at `at`, time-stamped at `stamp_at`, carrying `crls` (B-LT when
    /// stamped), archive-stamped one second later when `archive`.
    fn sign(&self, card: &HpkiCredentials, at: i64, stamp_at: Option<i64>, crls: &[Vec<u8>], archive: bool) -> Vec<u8> {
        let mut p7s = self.sign_with(&card.signature, &card.signature_ca, at, &[]);
        if let Some(t) = stamp_at {
            let token = stamp(self.h, self.tsa, &cades::signature_time_stamp_digest(&p7s).unwrap(), t);
            p7s = cades::with_signature_time_stamp(&p7s, &token).unwrap();
        }
        if !crls.is_empty() {
            p7s = cades::with_validation_data(&p7s, &[], crls, &[]).unwrap();
        }
        if archive {
            let digest = cades::archive_time_stamp_digest(&p7s, DOCUMENT).unwrap();
            let token = stamp(self.h, self.tsa, &digest, stamp_at.unwrap_or(at) + 1);
            p7s = cades::with_archive_time_stamp(&p7s, DOCUMENT, &token).unwrap();
        }
        p7s
    }

    /// A B-B signature by `credential` (whatever its key usage: the fixture for a careless signer), carrying
    /// its CA, with `crls`.
    fn sign_with(
        &self,
        credential: &hcpki_vcard::testpki::Credential,
        ca: &[u8],
        at: i64,
        crls: &[Vec<u8>],
    ) -> Vec<u8> {
        let digest: [u8; 32] = HashAlgorithm::Sha256.digest(DOCUMENT).try_into().unwrap();
        let chain = [credential.cert.as_slice(), ca];
        // prepare refuses an authentication certificate; the fixture needs one, so the attributes are made for
        // the signature certificate shape and signed by whichever key is given.
        let tbs = match cades::prepare(&digest, &chain, at) {
            Ok(tbs) => tbs,
            Err(_) => return careless(credential, ca, &digest, at),
        };
        let value = credential.key.sign_sha256(tbs.bytes()).unwrap();
        let p7s = cades::assemble(tbs, &value).unwrap();
        if crls.is_empty() { p7s } else { cades::with_validation_data(&p7s, &[], crls, &[]).unwrap() }
    }

    /// A signature whose signature time stamp's TSA signature is broken (last octet of the token, the last of the
    /// file, flipped).
    fn broken_time_stamp(&self, card: &HpkiCredentials, now: i64) -> Vec<u8> {
        let p7s = self.sign_with(&card.signature, &card.signature_ca, now, &[self.crl(now - 60, &[])]);
        let token = stamp(self.h, self.tsa, &cades::signature_time_stamp_digest(&p7s).unwrap(), now);
        // Added whole (signing refuses a broken token, as the verifier does), then broken where it ends the file.
        let mut p7s = cades::with_signature_time_stamp(&p7s, &token).unwrap();
        if let Some(last) = p7s.last_mut() {
            *last ^= 0x01;
        }
        p7s
    }

    /// A signature CA CRL issued at `at`, valid a day, listing `revoked`.
    fn crl(&self, at: i64, revoked: &[(&HpkiCredentials, i64)]) -> Vec<u8> {
        let odt = |t: i64| time::OffsetDateTime::from_unix_timestamp(t).unwrap();
        let entries: Vec<Revoked> = revoked
            .iter()
            .map(|(c, t)| Revoked { serial: serial(&c.signature.cert), at: odt(*t), reason: None })
            .collect();
        self.cas
            .signature_crl(&entries, CrlValidity { this_update: odt(at), next_update: odt(at + 86_400), number: 1 })
            .unwrap()
    }
}

/// [`crate::cades::old_tsa`] and the file of its certificate (its own trust anchor).
fn old_tsa(h: &Hcpki) -> (TimeStampAuthority, std::path::PathBuf) {
    let (tsa, cert) = crate::cades::old_tsa("hcpki verifier test TSA");
    let file = h.path("verifier-tsa.pem");
    write_pem(&file, "CERTIFICATE", &cert);
    (tsa, file)
}

/// A B-B signature by an authentication certificate: `cades::prepare` refuses one, so the fixture is the
/// OpenSSL way (`openssl cms -sign -cades`), as a careless signer would make it.
fn careless(credential: &hcpki_vcard::testpki::Credential, ca: &[u8], _digest: &[u8; 32], _at: i64) -> Vec<u8> {
    crate::cades::openssl_sign(credential, ca, DOCUMENT, &["-cades", "-nosmimecap"])
}

fn cms_verify_with(p7s: &Path, content: &Path, root: &Path, extra: &[String]) -> Output {
    if extra.is_empty() {
        return cms_verify(p7s, content, root);
    }
    Command::new("openssl")
        .args(["cms", "-verify", "-cades", "-binary", "-inform", "DER", "-purpose", "any", "-out", "/dev/null"])
        .args(["-in", path(p7s), "-content", path(content), "-CAfile", path(root)])
        .args(extra)
        .output()
        .unwrap()
}

/// A change to the encoding of the signed attributes (given and returning the `[0]` element).
type Attack = fn(&[u8]) -> Vec<u8>;

/// `p7s` with its signed attributes' encoding changed by `attack` (given and returning the `[0]` element), every
/// attribute's octets kept.
fn signed_attributes_changed(p7s: &[u8], attack: Attack) -> Vec<u8> {
    let signed = hcpki_pkix::asn1::signed_data::ReceivedSignedData::read(p7s, "signature").unwrap();
    let mut parts = signed.parts().clone();
    parts.signer.signed_attrs = attack(&parts.signer.signed_attrs);
    parts.encode()
}

/// The attributes in the reverse of DER's order (same octets, same length).
fn reorder(signed_attrs: &[u8]) -> Vec<u8> {
    let element = hcpki_pkix::asn1::ber::Element::whole(signed_attrs).unwrap();
    let attributes: Vec<Vec<u8>> = element.children().unwrap().iter().rev().map(|a| a.encoding.to_vec()).collect();
    let header = &signed_attrs[..signed_attrs.len() - element.contents.len()];
    [header.to_vec(), attributes.concat()].concat()
}

/// The same attributes under an indefinite length (BER's streaming form).
fn indefinite(signed_attrs: &[u8]) -> Vec<u8> {
    let element = hcpki_pkix::asn1::ber::Element::whole(signed_attrs).unwrap();
    [&[0xA0, 0x80][..], element.contents, &[0, 0]].concat()
}

/// The signing time changed in the signed attributes (still a valid time, no longer what was signed).
fn tamper_signing_time(p7s: &[u8], at: i64) -> Vec<u8> {
    let time = x509_cert::time::Time::try_from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at as u64))
        .unwrap()
        .to_der()
        .unwrap();
    let pos = p7s.windows(time.len()).position(|w| w == time.as_slice()).unwrap();
    let mut tampered = p7s.to_vec();
    let digit = &mut tampered[pos + time.len() - 2];
    *digit = if *digit == b'1' { b'2' } else { b'1' };
    tampered
}

pub(crate) fn serial(cert: &[u8]) -> Vec<u8> {
    x509_cert::Certificate::from_der(cert).unwrap().tbs_certificate().serial_number().as_bytes().to_vec()
}

pub(crate) fn validity(cert: &[u8]) -> (i64, i64) {
    let cert = x509_cert::Certificate::from_der(cert).unwrap();
    let v = cert.tbs_certificate().validity();
    (hcpki_pkix::time::unix(&v.not_before), hcpki_pkix::time::unix(&v.not_after))
}
