//! `hcpki signature verify` on every format and `hcpki signature renew` (issue #27 items 1 and 5, B-LTA "renewable
//! by `hcpki signature renew`"), end to end through the command line against `hcpki serve`'s own `/tsa` as the
//! one `[[signing.tsa]]`: a referral letter (PDF made by pyHanko's writer) and a FHIR document (detached CAdES)
//! signed with the test HPKI card's signature key, time-stamped by `hcpki tsa stamp` over the signature value,
//! given their validation data (B-LT), then renewed twice each. After each step the verifier reads the format
//! from the file and gives the level; pyHanko (PDF, the HPKI root and the server root trusted) and `openssl cms
//! -verify -cades` (the `.p7s`) accept the renewed files. Then again through a reference TSA whose tokens carry
//! their certificates out of DER's order (`openssl ts -reply -chain`, issue #42), with a third file: a signature
//! as `openssl cms -sign -stream -cades` writes it (BER, its document inside), time-stamped there to B-T and
//! renewed without `--data`. What cannot be renewed says why and writes nothing: an e-prescription (XAdES stops
//! at B-T), a detached signature without its document, a tampered PDF.
//!
//! SQLite only: nothing here is stored beyond the directory `hcpki serve` needs.

use crate::cades::{cms_verify, path, write_pem};
use crate::harness::{Backend, Hcpki, describe};
use crate::serve::Served;
use hcpki_docsig::signature::{cades, pades, xades};
use hcpki_docsig::timestamp::HashAlgorithm;
use hcpki_vcard::testpki::{CrlValidity, HpkiSubject, HpkiTestCas};
use std::path::Path;

const DOCUMENT: &[u8] = "{\"resourceType\":\"Bundle\",\"title\":\"診療情報提供書\"}\n".as_bytes();

#[test]
fn signatures_of_every_format_are_judged_and_pdf_and_cades_renew_with_the_served_tsa() {
    let h = Hcpki::initialized(Backend::Sqlite);
    std::fs::OpenOptions::new()
        .append(true)
        .open(h.dir().join("hcpki.toml"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"\n[tsa]\npolicy = \"1.3.6.1.4.1.99999.3161.1\"\n"))
        .unwrap();
    let server = Served::start(&h, &[]);
    let tsa_url = format!("http://127.0.0.1:{}/tsa", server.http_port);
    let cas = crate::test_pki::hpki();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let hpki_root = h.path("hpki-root.pem");
    write_pem(&hpki_root, "CERTIFICATE", &card.root);
    let config = std::fs::read_to_string(h.dir().join("hcpki.toml")).unwrap();
    std::fs::write(
        h.dir().join("hcpki.toml"),
        format!(
            "{config}\n[signing]\nanchors = [\"{}\"]\n\n[[signing.tsa]]\nurl = \"{tsa_url}\"\nroots = [\"{}\"]\n",
            path(&hpki_root),
            path(&h.chain_file("server"))
        ),
    )
    .unwrap();
    let tsa_chain = [pem_der(&h.dir().join("tsa/tsa.pem")), pem_der(&h.ca_cert_file("server"))];

    // A referral letter: B-B by the card's signature key, B-T through the served TSA, B-LT with the chains and
    // the signature CA's CRL in the DSS.
    let letter = h.path("referral.pdf");
    crate::pades::peer(&["make-pdf", path(&letter), "--pages", "2", "--title", "診療情報提供書"]);
    let pdf = std::fs::read(&letter).unwrap();
    let prepared = pades::prepare(&pdf, &[&card.signature.cert, &card.signature_ca], now()).unwrap();
    let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    let b_b = pades::assemble(prepared, &value).unwrap();
    let b_t = pades::with_signature_time_stamp(&b_b, &stamp_value(&h, &value)).unwrap();
    let data = pades::ValidationData {
        certificates: [vec![card.signature.cert.clone(), card.signature_ca.clone()], tsa_chain.to_vec()].concat(),
        crls: vec![crl(cas)],
        ocsps: Vec::new(),
    };
    let b_lt = h.path("referral-b-lt.pdf");
    std::fs::write(&b_lt, pades::add_validation_data(&b_t, &data).unwrap()).unwrap();
    let first = verdict(&h, &b_lt, None, "pades", "B-LT");
    assert_eq!(first["signatures"][0]["field"], "Signature1", "{first}");
    assert_eq!(first["hc_roles"], serde_json::json!(["Medical Doctor"]), "{first}");

    let renewed = h.path("referral-b-lta.pdf");
    let out = h.ok(&["signature", "renew", path(&b_lt), "--out", path(&renewed)]);
    assert!(out.contains(&format!("archive time stamp from {tsa_url} at ")), "{out}");
    let once = verdict(&h, &renewed, None, "pades", "B-LTA");
    h.ok(&["signature", "renew", path(&renewed)]);
    let twice = verdict(&h, &renewed, None, "pades", "B-LTA");
    assert!(twice["archive_time_stamp"].as_str() >= once["archive_time_stamp"].as_str(), "{once}\n{twice}");
    let pdf = std::fs::read(&renewed).unwrap();
    assert_eq!(pades::verify(&pdf).unwrap().document_time_stamps.len(), 2);
    // The server chain (root and server CA) as pyHanko's TSA trust: the tokens carry the TSA certificate only.
    let out = crate::pades::pyhanko_validate(&renewed, &hpki_root, &h.chain_file("server"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("INTACT:TRUSTED"), "pyHanko\n{}", describe(&out));
    assert!(text.contains("EXTENDED_WITH_LTA_UPDATES"), "pyHanko\n{}", describe(&out));

    // A FHIR document: detached CAdES, B-T through the served TSA, B-LT with the CRL, renewed twice.
    let digest: [u8; 32] = HashAlgorithm::Sha256.digest(DOCUMENT).try_into().unwrap();
    let tbs = cades::prepare(&digest, &[&card.signature.cert, &card.signature_ca], now()).unwrap();
    let value = card.signature.key.sign_sha256(tbs.bytes()).unwrap();
    let p7s = cades::assemble(tbs, &value).unwrap();
    let p7s = cades::with_signature_time_stamp(&p7s, &stamp_value(&h, &value)).unwrap();
    let p7s_file = h.path("bundle.json.p7s");
    std::fs::write(&p7s_file, cades::with_validation_data(&p7s, &tsa_chain, &[crl(cas)], &[]).unwrap()).unwrap();
    let document = h.path("bundle.json");
    std::fs::write(&document, DOCUMENT).unwrap();
    verdict(&h, &p7s_file, Some(&document), "cades", "B-LT");
    // The same signature as OpenSSL writes it by default (PEM, "-----BEGIN CMS-----") is the same verdict.
    let pem = h.path("bundle.json.p7s.pem");
    crate::fixtures::run_ok(
        std::process::Command::new("openssl")
            .args(["cms", "-cmsout", "-inform", "DER", "-outform", "PEM", "-in", path(&p7s_file), "-out"])
            .arg(&pem),
    );
    assert!(std::fs::read_to_string(&pem).unwrap().starts_with("-----BEGIN CMS-----"));
    verdict(&h, &pem, Some(&document), "cades", "B-LT");
    h.ok(&["signature", "renew", path(&p7s_file), "--data", path(&document)]);
    h.ok(&["signature", "renew", path(&p7s_file), "--data", path(&document)]);
    verdict(&h, &p7s_file, Some(&document), "cades", "B-LTA");
    let out = cms_verify(&p7s_file, &document, &hpki_root);
    assert!(out.status.success(), "openssl cms -verify -cades on the renewed signature\n{}", describe(&out));

    // Through a TSA whose tokens carry their certificates out of DER's order (`openssl ts -reply -chain`, the
    // reference TSA's /chain): hcpki's verifier, renewal and the signers' client all take them (issue #42). It
    // comes first in the list; hcpki's own stays trusted for the time stamps it made.
    let reference = crate::tsa::ReferenceTsa::start(&h.path("reference-tsa"));
    let chain_url = reference.at("chain");
    std::fs::write(
        h.dir().join("hcpki.toml"),
        format!(
            "{config}\n[signing]\nanchors = [\"{}\"]\n\n[[signing.tsa]]\nurl = \"{chain_url}\"\nroots = [\"{}\"]\n\n\
             [[signing.tsa]]\nurl = \"{tsa_url}\"\nroots = [\"{}\"]\n",
            path(&hpki_root),
            path(&reference.root()),
            path(&h.chain_file("server"))
        ),
    )
    .unwrap();
    let out = h.ok(&["signature", "renew", path(&renewed)]);
    assert!(out.contains(&format!("archive time stamp from {chain_url} at ")), "{out}");
    verdict(&h, &renewed, None, "pades", "B-LTA");
    let both_tsas = h.path("both-tsa-roots.pem");
    let server_chain = std::fs::read_to_string(h.chain_file("server")).unwrap();
    std::fs::write(&both_tsas, server_chain + &std::fs::read_to_string(reference.root()).unwrap()).unwrap();
    let out = crate::pades::pyhanko_validate(&renewed, &hpki_root, &both_tsas);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("INTACT:TRUSTED"),
        "{}",
        describe(&out)
    );
    let out = h.ok(&["signature", "renew", path(&p7s_file), "--data", path(&document)]);
    assert!(out.contains(&format!("archive time stamp from {chain_url} at ")), "{out}");
    verdict(&h, &p7s_file, Some(&document), "cades", "B-LTA");
    assert!(cms_verify(&p7s_file, &document, &hpki_root).status.success());
    // A signature as `openssl cms -sign -stream -cades` writes it (BER, the document inside), time-stamped through
    // /chain: B-T, not B-B; B-LT with its validation data; renewed without --data (it carries its document).
    let streamed = crate::cades::openssl_sign(&card.signature, &card.signature_ca, DOCUMENT, &["-stream", "-cades"]);
    assert_eq!(&streamed[..2], [0x30, 0x80], "not BER: the test proves nothing");
    let value = cades::CadesSignature::from_ber(&streamed).unwrap().signature_value().to_vec();
    let streamed = cades::with_signature_time_stamp(&streamed, &stamp_value(&h, &value)).unwrap();
    let reference_chain = [pem_der(&reference.dir().join("tsa.pem")), pem_der(&reference.root())];
    let stream_file = h.path("bundle-stream.p7s");
    let with_data = cades::with_validation_data(&streamed, &reference_chain, &[crl(cas)], &[]).unwrap();
    std::fs::write(&stream_file, with_data).unwrap();
    verdict(&h, &stream_file, None, "cades", "B-LT");
    let out = h.ok(&["signature", "renew", path(&stream_file)]);
    assert!(out.contains(&format!("archive time stamp from {chain_url} at ")), "{out}");
    verdict(&h, &stream_file, None, "cades", "B-LTA");
    verdict(&h, &stream_file, Some(&document), "cades", "B-LTA");
    let out = cms_verify(&stream_file, &document, &hpki_root);
    assert!(out.status.success(), "openssl cms -verify -cades on the renewed stream signature\n{}", describe(&out));
    let renewed_stream = cades::CadesSignature::from_ber(&std::fs::read(&stream_file).unwrap()).unwrap();
    assert_eq!(renewed_stream.carried_document().unwrap().as_deref(), Some(DOCUMENT));

    // What cannot be renewed: nothing is written.
    let err = h.fails(&["signature", "renew", path(&p7s_file)]);
    assert!(err.contains("detached CAdES signature") && err.contains("--data"), "{err}");
    let prescription = h.path("prescription.xml");
    let prepared =
        xades::prepare(crate::xades::CSV.as_bytes(), &[&card.signature.cert, &card.signature_ca], now()).unwrap();
    let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    let xml = xades::assemble(prepared, &value).unwrap();
    std::fs::write(&prescription, &xml).unwrap();
    let err = h.fails(&["signature", "renew", path(&prescription)]);
    assert!(err.contains("XAdES e-prescription") && err.contains("B-T"), "{err}");
    assert_eq!(std::fs::read(&prescription).unwrap(), xml);
    let mut tampered = std::fs::read(&b_lt).unwrap();
    let at = tampered.windows(8).position(|w| w == b"Referral").unwrap();
    tampered[at] = b'X';
    let tampered_file = h.path("tampered.pdf");
    std::fs::write(&tampered_file, &tampered).unwrap();
    let err = h.fails(&["signature", "renew", path(&tampered_file)]);
    assert!(err.contains("does not match") || err.contains("changed"), "{err}");
    assert_eq!(std::fs::read(&tampered_file).unwrap(), tampered);
    // The verifier's answer for it, and for a file it cannot judge at all (exit 3, not FAILED's 1).
    let out = h.run(&["signature", "verify", path(&tampered_file)]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("verdict: FAILED/HASH_FAILURE"), "{}", describe(&out));
    let out = h.run(&["signature", "verify", path(&p7s_file)]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--data"), "{}", describe(&out));
    server.stop();
}

/// `hcpki signature verify FILE [--data DOCUMENT] --json`: PASSED at `level`, in `format`; the JSON.
fn verdict(h: &Hcpki, file: &Path, document: Option<&Path>, format: &str, level: &str) -> serde_json::Value {
    let mut args = vec!["signature", "verify", path(file), "--json"];
    if let Some(document) = document {
        args.extend(["--data", path(document)]);
    }
    let out = h.run(&args);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: hcpki signature verify printed no JSON\n{}", describe(&out)));
    assert_eq!(
        (out.status.code(), json["format"].as_str(), json["verdict"].as_str(), json["level"].as_str()),
        (Some(0), Some(format), Some("PASSED"), Some(level)),
        "{}",
        describe(&out)
    );
    json
}

/// A signature time stamp: `hcpki tsa stamp` over the signature value (its SHA-256 is the imprint).
fn stamp_value(h: &Hcpki, value: &[u8]) -> Vec<u8> {
    let (input, token) = (h.path("value.bin"), h.path("value.tst"));
    std::fs::write(&input, value).unwrap();
    h.ok(&["tsa", "stamp", "--data", path(&input), "--out", path(&token)]);
    std::fs::read(&token).unwrap()
}

/// The signature CA's CRL, issued now (after the time stamps made so far), valid a day, listing nobody.
fn crl(cas: &HpkiTestCas) -> Vec<u8> {
    let odt = |t: i64| time::OffsetDateTime::from_unix_timestamp(t).unwrap();
    let now = now();
    cas.signature_crl(&[], CrlValidity { this_update: odt(now), next_update: odt(now + 86_400), number: 1 }).unwrap()
}

fn now() -> i64 {
    hcpki_pkix::time::now_unix()
}

fn pem_der(file: &Path) -> Vec<u8> {
    crate::oidc::pem_to_der(&std::fs::read_to_string(file).unwrap())
}
