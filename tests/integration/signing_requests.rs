//! Signing requests from relying services (issue #27 item 3), one journey per backend: the EMR service (an OIDC
//! client with `private_key_jwt`) asks for a B-T CAdES signature by the physician whose access token it holds;
//! refusals first (an unknown client, another client authenticating with the EMR's token, a revoked token, a
//! document over 10 MiB, an unknown format); the physician's page (axe-core clean in Japanese and English in
//! Chromium, SQLite run), another person refused it; a signature of another document refused; the card's B-B
//! posted, the time stamp added by the reference TSA (`openssl ts -reply`) of `[[signing.tsa]]`; the service
//! collects the result, which `openssl cms -verify -cades` and `openssl ts -verify` accept; a B-LT request on this
//! portal, which caches no CRL of the signature CA, is not signed and says what to configure; every step
//! audited, never the document or a token. A second journey per backend asks B-LT and B-LTA in CAdES and PAdES of
//! a portal that caches that CRL, and has OpenSSL, pyHanko and hcpki's verifier check the results.
//!
//! That journey makes the `.p7s` as the agent makes it — `cades::prepare` → the virtual HPKI card's signature key
//! → `assemble` — and posts it as the page's form does, so it can try what a page would not send. The second
//! test, once, drives the page's own script in Chromium through the real card agent and the virtual card behind
//! pcscd.

use crate::browser::{Chromium, chromium_at_pc};
use crate::harness::{Backend, describe, repo_root};
use crate::oidc::{self, Portal, Reply, Rp};
use crate::tsa::ReferenceTsa;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hcpki_docsig::signature::cades::{self, CadesSignature};
use hcpki_docsig::signature::pades;
use hcpki_docsig::signature::validation::{Indication, Level, SigningTrust};
use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use x509_cert::der::Encode as _;

on_both_backends!(
    a_service_has_the_physician_sign_a_document_and_collects_it_time_stamped,
    a_service_collects_long_term_signatures_with_the_signers_crl_inside
);

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn a_service_has_the_physician_sign_a_document_and_collects_it_time_stamped(b: Backend) {
    let started = std::time::Instant::now();
    let hpki = crate::test_pki::hpki();
    let card = hpki.issue(&HpkiSubject::default()).unwrap();
    let tsa_dir = tempfile::tempdir().unwrap();
    let tsa = ReferenceTsa::start(tsa_dir.path());
    let signing = format!(
        "\n[[signing.tsa]]\nurl = \"{}\"\nroots = [\"{}\"]\npolicy = \"{}\"\n",
        tsa.url,
        tsa.root().display(),
        ReferenceTsa::POLICY
    );
    let (p, pc) = crate::card_login::portal_card_session(b, &card, &signing);
    let rp = Rp::load(&p);
    let emr_token = access_token(&p, &pc, &rp);
    let document = "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"title\":\"診療情報提供書\"}\n";
    let document_file = p.h.path("referral.json");
    std::fs::write(&document_file, document).unwrap();
    let encoded = p.h.path("referral.b64");
    std::fs::write(&encoded, STANDARD.encode(document)).unwrap();
    let create = |client: &str, token: &str, format: &str, encoded: &Path| {
        create_request(&p, &rp, client, token, (format, "b-t"), encoded)
    };

    // Refusals, each with its status and OAuth error.
    let refused = |r: Reply, status: u16, error: &str| {
        assert_eq!(r.status, status, "{r:?}");
        let body: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {r:?}"));
        assert_eq!(body["error"], error, "{body}");
        body["error_description"].as_str().unwrap().to_owned()
    };
    refused(create("nope", &emr_token, "cades", &encoded), 401, "invalid_client");
    let said = refused(create("rp1", &emr_token, "cades", &encoded), 401, "invalid_token");
    assert!(said.contains("issued to another client"), "{said}");
    let revoked = access_token(&p, &pc, &rp);
    let assertion = rp.assertion_as(&p, "emr", 60, None);
    let r = p.submit(
        "/revoke",
        &[("client_assertion_type", JWT_BEARER), ("client_assertion", &assertion), ("token", &revoked)],
        None,
    );
    assert_eq!(r.status, 200, "{r:?}");
    refused(create("emr", &revoked, "cades", &encoded), 401, "invalid_token");
    let said = refused(create("emr", &emr_token, "pdf", &encoded), 400, "unsupported_format");
    assert!(said.contains("send format=cades"), "{said}");
    let said = refused(create("emr", &emr_token, "pades", &encoded), 400, "invalid_request");
    assert!(said.contains("not a PDF"), "{said}");
    let said = refused(create("emr", &emr_token, "xades-eprescription", &encoded), 400, "invalid_request");
    assert!(said.contains("not an e-prescription CSV"), "{said}");
    // A prescription CSV that reads two ways is refused when the request is made, with its line (issue #42 item 5).
    let (_, hidden, [_, line]) = crate::xades::ambiguous().swap_remove(0);
    let hidden_file = p.h.path("hidden-rx.b64");
    std::fs::write(&hidden_file, STANDARD.encode(hidden)).unwrap();
    let said = refused(create("emr", &emr_token, "xades-eprescription", &hidden_file), 400, "invalid_request");
    assert!(said.contains("cannot be read unambiguously") && said.contains(line), "{said}");
    let oversize = p.h.path("oversize.b64");
    std::fs::write(&oversize, STANDARD.encode(vec![b'x'; 10 * 1024 * 1024 + 1])).unwrap();
    let said = refused(create("emr", &emr_token, "cades", &oversize), 413, "too_large");
    assert!(said.contains("10 MiB"), "{said}");

    // The request: 201 with the page and the status URL.
    let r = create("emr", &emr_token, "cades", &encoded);
    assert_eq!(r.status, 201, "{r:?}");
    let created: Value = serde_json::from_str(&r.body).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["sign_url"], format!("{}/sign/{id}", p.issuer), "{created}");
    assert_eq!(created["status_url"], format!("{}/api/v1/signing-requests/{id}", p.issuer), "{created}");
    let status = |client: &str| {
        let assertion = rp.assertion_as(&p, client, 60, None);
        let query = format!("client_assertion_type={}&client_assertion={assertion}", oidc::enc(JWT_BEARER));
        let r = p.get(&format!("/api/v1/signing-requests/{id}?{query}"));
        (r.status, serde_json::from_str::<Value>(&r.body).unwrap())
    };
    let (code, pending) = status("emr");
    assert_eq!((code, &pending["state"]), (200, &json!("pending")), "{pending}");
    assert_eq!(status("rp1").0, 404, "another client learns nothing of it");

    // The physician's page: who asks, what, the document's hash; another person is refused it.
    let page = pc.get(&format!("/sign/{id}"));
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(document.as_bytes()));
    for words in ["文書への署名の依頼", "診療情報提供書 (山田太郎様)", "(emr)", &sha256, "B-T", "カードで署名する"]
    {
        assert!(page.status == 200 && page.body.contains(words), "{words} not on the page: {page:?}");
    }
    let other = p.other_browser("alice-browser");
    let r = other.login("alice", oidc::PASSWORD, &oidc::totp(&p.totp_secret, 0), None);
    assert!(r.status == 303 || r.status == 200, "{r:?}");
    let r = other.get(&format!("/sign/{id}"));
    assert!(r.status == 403 && r.body.contains("ログインしている方あてではありません"), "{r:?}");
    if b == Backend::Sqlite {
        page_in_chromium(&p, &pc, &id);
    }

    // A signature of another document, then the card's B-B of this one.
    let csrf = crate::portal_card::field(&page.body, "csrf");
    // With the agent's word on how it was authorised (D163): the 2nd signature of a signing session (the key and
    // the time are the agent's and the page's own, dropped).
    let mode = r#"{"mode":"session","n":2,"of":250,"expires_at":1800000000}"#;
    let post = |p7s: &[u8]| {
        let signature = STANDARD.encode(p7s);
        let form = [("csrf", csrf.as_str()), ("action", "sign"), ("signature", &signature), ("signing", mode)];
        pc.submit(&format!("/sign/{id}"), &form, None)
    };
    let r = post(&b_b(&card, b"another document"));
    assert!(r.status == 400 && r.body.contains("カードの署名を確認できなかった"), "{r:?}");
    let b_b = b_b(&card, document.as_bytes());
    let r = post(&b_b);
    assert!(r.status == 200 && r.body.contains("署名しました"), "{r:?}");
    assert_eq!(post(&b_b).status, 409, "signed once");

    // The service collects it: a B-T signature OpenSSL accepts, its time stamp from the reference TSA.
    let (code, signed) = status("emr");
    assert_eq!((code, &signed["state"], &signed["level"]), (200, &json!("signed"), &json!("b-t")), "{signed}");
    let p7s = STANDARD.decode(signed["signed_document"].as_str().unwrap()).unwrap();
    let signer_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&card.signature.cert));
    assert_eq!(signed["signer_certificate_sha256"], signer_sha256, "{signed}");
    assert_eq!(signed["signing"], json!({"mode": "session", "n": 2, "of": 250}), "{signed}");
    let p7s_file = p.h.path("referral.json.p7s");
    std::fs::write(&p7s_file, &p7s).unwrap();
    let root = p.h.path("hpki-root.pem");
    std::fs::write(&root, pem(&card.root)).unwrap();
    let ok = Command::new("openssl")
        .args(["cms", "-verify", "-cades", "-binary", "-inform", "DER", "-purpose", "any", "-out", "/dev/null"])
        .arg("-in")
        .arg(&p7s_file)
        .arg("-content")
        .arg(&document_file)
        .arg("-CAfile")
        .arg(&root)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&ok.stderr).contains("Verification successful"), "{}", describe(&ok));
    let token = CadesSignature::from_ber(&p7s).unwrap().signature_time_stamps().remove(0);
    let token_file = p.h.path("signature-time-stamp.tst");
    std::fs::write(&token_file, token).unwrap();
    let imprint = cades::signature_time_stamp_digest(&b_b).unwrap();
    let ok = Command::new("openssl")
        .args(["ts", "-verify", "-digest", &hex::encode(imprint), "-token_in", "-in"])
        .arg(&token_file)
        .arg("-CAfile")
        .arg(tsa.root())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Verification: OK"), "{}", describe(&ok));
    let gen_time = signed["gen_time"].as_i64().unwrap();
    assert!((gen_time - hcpki_pkix::time::now_unix()).abs() < 300, "genTime {gen_time}");

    // B-LT needs the signer's CRL, and this portal has none ([login] crl_urls names no CRL of the signature CA):
    // nothing is signed, the request stays pending, the service reads what the operator must configure, and the
    // step is audited as failed (D82). Never a B-T answer to a B-LT request.
    let r = create_request(&p, &rp, "emr", &emr_token, ("cades", "b-lt"), &encoded);
    assert_eq!(r.status, 201, "{r:?}");
    let lt_id = serde_json::from_str::<Value>(&r.body).unwrap()["id"].as_str().unwrap().to_owned();
    let r = sign_on_page(&pc, &lt_id, &b_b);
    assert!(r.status == 503 && r.body.contains("失効情報"), "{r:?}");
    let (_, lt) = status_of(&p, &rp, &lt_id);
    assert_eq!(lt["state"], "pending", "{lt}");
    assert!(lt.get("signed_document").is_none(), "{lt}");
    let error = lt["error"].as_str().unwrap_or_default();
    for words in ["no CRL of", "HPKI-01-TestSignCA-forNonRepudiation", "[login] crl_urls", "hcpki login crls"] {
        assert!(error.contains(words), "{words}: {error}");
    }

    // Every step audited, with hashes, never the document or a token.
    let entries = p.h.audit_entries();
    let of = |action: &str, outcome: &str| {
        entries.iter().filter(|e| e["action"] == action && e["outcome"] == outcome).cloned().collect::<Vec<_>>()
    };
    let created = &of("signing_request.create", "ok")[0];
    assert_eq!((&created["actor"], &created["target"]), (&json!("oidc:emr"), &json!(id)), "{created}");
    assert_eq!(created["detail"]["document_sha256"], sha256, "{created}");
    assert!(of("signing_request.create", "denied").len() >= 5, "the refusals: {entries:?}");
    assert!(!of("signing_request.show", "ok").is_empty(), "shown to the physician");
    let sign = &of("signing_request.sign", "ok")[0];
    for (key, value) in [
        ("signer_sha256", json!(signer_sha256)),
        ("document_sha256", json!(sha256)),
        ("level", json!("b-t")),
        ("client", json!("emr")),
        ("signature_mode", json!({"mode": "session", "n": 2, "of": 250})),
    ] {
        assert_eq!(sign["detail"][key], value, "{key}: {sign}");
    }
    assert!(sign["detail"]["gen_time"].is_string(), "{sign}");
    assert_eq!(of("signing_request.sign", "denied").len(), 2, "another document, then signed already");
    let failed = of("signing_request.sign", "failed");
    assert_eq!(failed.len(), 1, "the B-LT without a CRL: {failed:?}");
    assert_eq!((&failed[0]["target"], &failed[0]["detail"]["level"]), (&json!(lt_id), &json!("b-lt")), "{failed:?}");
    assert_eq!(failed[0]["detail"]["format"], "cades", "{failed:?}");
    assert!(!of("signing_request.show", "denied").is_empty(), "another person's refusal");
    assert!(!of("signing_request.fetch", "ok").is_empty(), "the service collected it");
    let log = serde_json::to_string(&entries).unwrap();
    assert!(!log.contains(&STANDARD.encode(document)) && !log.contains(&emr_token), "no document, no token");
    p.h.ok(&["audit", "verify"]);
    eprintln!("signing request journey ({b:?}): {:.1} s", started.elapsed().as_secs_f64());
}

/// A service asks for B-LT and B-LTA signatures in CAdES and PAdES; the portal caches the signature CA's CRL
/// from a `file:` URL of `[login] crl_urls`. Each returned document carries the signer's path, the TSA's
/// certificate and that CRL (D82): OpenSSL's `cms -verify -cades -crl_check` accepts the `.p7s` with the CRL it
/// embeds (and refuses the card's B-B, which has none), pyHanko accepts the PDF under the test roots, and hcpki's
/// own verifier reaches B-LT / B-LTA (`cades::validate` PASSED offline; `pades::verify`'s level). An
/// e-prescription is refused above B-T when the request is made. Every signature audited with format and level.
fn a_service_collects_long_term_signatures_with_the_signers_crl_inside(b: Backend) {
    let started = std::time::Instant::now();
    let hpki = crate::test_pki::hpki();
    let card = hpki.issue(&HpkiSubject::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tsa = ReferenceTsa::start(&dir.path().join("tsa"));
    let crl = hpki.signature_crl(&[], CrlValidity::fresh(24)).unwrap();
    let crl_file = dir.path().join("hpki-signature-ca.crl");
    std::fs::write(&crl_file, &crl).unwrap();
    let settings = format!(
        "crl_urls = [\"file:{}\"]\n[[signing.tsa]]\nurl = \"{}\"\nroots = [\"{}\"]\npolicy = \"{}\"\n",
        crl_file.display(),
        tsa.url,
        tsa.root().display(),
        ReferenceTsa::POLICY
    );
    let (p, pc) = crate::card_login::portal_card_session(b, &card, &settings);
    let rp = Rp::load(&p);
    let token = access_token(&p, &pc, &rp);
    let root = p.h.path("hpki-root.pem");
    std::fs::write(&root, pem(&card.root)).unwrap();
    let (_, tsa_root) = x509_cert::der::pem::decode_vec(&std::fs::read(tsa.root()).unwrap()).unwrap();
    let judge = SigningTrust::new(std::slice::from_ref(&card.root), &[tsa_root]).unwrap();

    // An e-prescription goes to the national service at B-T: B-LT is refused when asked.
    let rx = p.h.path("rx.b64");
    std::fs::write(&rx, STANDARD.encode(crate::xades::CSV)).unwrap();
    let r = create_request(&p, &rp, "emr", &token, ("xades-eprescription", "b-lt"), &rx);
    let body: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}"));
    assert_eq!((r.status, &body["error"]), (400, &json!("unsupported_level")), "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("takes B-T"), "{body}");

    let referral = "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"title\":\"紹介状\"}\n".as_bytes();
    let letter = p.h.path("letter.pdf");
    crate::pades::peer(&["make-pdf", letter.to_str().unwrap(), "--pages", "1", "--title", "紹介状"]);
    let letter = std::fs::read(&letter).unwrap();
    for (format, level) in [("cades", "b-lt"), ("cades", "b-lta"), ("pades", "b-lt"), ("pades", "b-lta")] {
        let document = if format == "cades" { referral.to_vec() } else { letter.clone() };
        let encoded = p.h.path(&format!("{format}-{level}.b64"));
        std::fs::write(&encoded, STANDARD.encode(&document)).unwrap();
        let r = create_request(&p, &rp, "emr", &token, (format, level), &encoded);
        assert_eq!(r.status, 201, "{format} {level}: {r:?}");
        let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"].as_str().unwrap().to_owned();
        let page = pc.get(&format!("/sign/{id}"));
        let shown = [if format == "cades" { "CAdES 分離署名" } else { "PAdES(PDF の中に署名)" }, &level.to_uppercase()];
        assert!(shown.iter().all(|words| page.body.contains(words)), "{format} {level}: {shown:?} in {page:?}");
        let card_signed = if format == "cades" { b_b(&card, &document) } else { pades_b_b(&card, &document) };
        let r = sign_on_page(&pc, &id, &card_signed);
        assert!(r.status == 200 && r.body.contains("署名しました"), "{format} {level}: {r:?}");
        let (_, collected) = status_of(&p, &rp, &id);
        assert_eq!((&collected["state"], &collected["level"]), (&json!("signed"), &json!(level)), "{collected}");
        let signed = STANDARD.decode(collected["signed_document"].as_str().unwrap()).unwrap();
        let reached = if level == "b-lt" { Level::BaselineLt } else { Level::BaselineLta };
        let now = hcpki_pkix::time::now_unix();
        if format == "cades" {
            let (file, sig, card_sig) = (p.h.path("lt.json"), p.h.path("lt.json.p7s"), p.h.path("lt-b-b.p7s"));
            std::fs::write(&file, &document).unwrap();
            std::fs::write(&sig, &signed).unwrap();
            std::fs::write(&card_sig, &card_signed).unwrap();
            let out = cms_verify_crl_check(&sig, &file, &root);
            assert!(out.status.success(), "{level}: OpenSSL with the embedded CRL\n{}", describe(&out));
            assert!(String::from_utf8_lossy(&out.stderr).contains("Verification successful"), "{}", describe(&out));
            let out = cms_verify_crl_check(&card_sig, &file, &root);
            assert!(!out.status.success(), "the card's B-B carries no CRL: -crl_check refuses it\n{}", describe(&out));
            let report = cades::validate(&signed, &document, &judge, now, &|_| Err("this test fetches nothing".into()));
            assert_eq!(report.indication, Indication::Passed, "{level}: {}", report.detail);
            assert_eq!(report.level, Some(reached), "{level}: {report:?}");
            let embedded = CadesSignature::from_ber(&signed).unwrap();
            assert!(embedded.revocation().iter().any(|r| r.to_der().unwrap() == crl), "{level}: the cached CRL");
        } else {
            let pdf = p.h.path("lt.signed.pdf");
            std::fs::write(&pdf, &signed).unwrap();
            let out = crate::pades::pyhanko_validate(&pdf, &root, &tsa.root());
            let said = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(out.status.success(), "{level}: pyHanko refused it\n{}", describe(&out));
            for words in ["INTACT:TRUSTED", "TIMESTAMP_TOKEN<INTACT:TRUSTED>", "EXTENDED_WITH_LTA_UPDATES"] {
                assert!(said.contains(words), "{level}: {words}\n{}", describe(&out));
            }
            let verified = pades::verify(&signed).unwrap();
            assert_eq!(verified.level(), reached, "{level}");
            assert_eq!(verified.validation_data.crls, std::slice::from_ref(&crl), "{level}: the cached CRL in /DSS");
            assert!(verified.validation_data.certificates.contains(&card.signature_ca), "{level}: the signer's CA");
            assert_eq!(verified.document_time_stamps.len(), usize::from(level == "b-lta"), "{level}");
        }
    }

    // Each signature audited with its format and level, the validation data counted, the archive time stamp's time.
    let entries = p.h.audit_entries();
    let signs: Vec<&Value> =
        entries.iter().filter(|e| e["action"] == "signing_request.sign" && e["outcome"] == "ok").collect();
    let said: Vec<(String, String)> = signs
        .iter()
        .map(|e| (e["detail"]["format"].as_str().unwrap().into(), e["detail"]["level"].as_str().unwrap().into()))
        .collect();
    let want = [("cades", "b-lt"), ("cades", "b-lta"), ("pades", "b-lt"), ("pades", "b-lta")];
    assert_eq!(said, want.map(|(f, l)| (f.to_owned(), l.to_owned())), "{signs:?}");
    for e in &signs {
        assert_eq!(e["detail"]["validation_data"]["crls"], 1, "{e}");
        assert_eq!(e["detail"]["archive_gen_time"].is_string(), e["detail"]["level"] == "b-lta", "{e}");
    }
    p.h.ok(&["audit", "verify"]);
    eprintln!("long-term signing requests ({b:?}): {:.1} s", started.elapsed().as_secs_f64());
}

/// The EMR-side `POST /api/v1/signing-requests` of `client` with the physician's access `token`, for
/// (format, level), the document base64 in the file `encoded`.
fn create_request(
    p: &Portal,
    rp: &Rp,
    client: &str,
    token: &str,
    (format, level): (&str, &str),
    encoded: &Path,
) -> Reply {
    let assertion = rp.assertion_as(p, client, 60, None);
    let args = [
        "-H".to_owned(),
        format!("Authorization: Bearer {token}"),
        "--data-urlencode".into(),
        format!("client_assertion_type={JWT_BEARER}"),
        "--data-urlencode".into(),
        format!("client_assertion={assertion}"),
        "--data-urlencode".into(),
        format!("format={format}"),
        "--data-urlencode".into(),
        format!("level={level}"),
        "--data-urlencode".into(),
        "title=診療情報提供書 (山田太郎様)".into(),
        "--data-urlencode".into(),
        format!("document@{}", encoded.display()),
        format!("{}/api/v1/signing-requests", p.issuer),
    ];
    p.curl(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The EMR's view of request `id`: HTTP status and JSON.
fn status_of(p: &Portal, rp: &Rp, id: &str) -> (u16, Value) {
    let assertion = rp.assertion_as(p, "emr", 60, None);
    let query = format!("client_assertion_type={}&client_assertion={assertion}", oidc::enc(JWT_BEARER));
    let r = p.get(&format!("/api/v1/signing-requests/{id}?{query}"));
    (r.status, serde_json::from_str::<Value>(&r.body).unwrap_or_else(|_| panic!("{r:?}")))
}

/// The page's post of the card's `signed` document for request `id`, from the physician's browser `pc`.
fn sign_on_page(pc: &Portal, id: &str, signed: &[u8]) -> Reply {
    let page = pc.get(&format!("/sign/{id}"));
    assert_eq!(page.status, 200, "{page:?}");
    let csrf = crate::portal_card::field(&page.body, "csrf");
    let signature = STANDARD.encode(signed);
    pc.submit(&format!("/sign/{id}"), &[("csrf", &csrf), ("action", "sign"), ("signature", &signature)], None)
}

/// `openssl cms -verify -cades -crl_check`: the signer's CRL must be among the CRLs the `.p7s` embeds.
fn cms_verify_crl_check(p7s: &Path, content: &Path, root: &Path) -> std::process::Output {
    Command::new("openssl")
        .args(["cms", "-verify", "-cades", "-crl_check", "-binary", "-inform", "DER", "-purpose", "any"])
        .args(["-out", "/dev/null", "-in"])
        .arg(p7s)
        .arg("-content")
        .arg(content)
        .arg("-CAfile")
        .arg(root)
        .output()
        .unwrap()
}

/// The card's PAdES B-B of `pdf`, made as the card agent makes it (`pades::prepare` → the virtual card's
/// signature key → `assemble`).
fn pades_b_b(card: &HpkiCredentials, pdf: &[u8]) -> Vec<u8> {
    let now = hcpki_pkix::time::now_unix();
    let prepared = pades::prepare(pdf, &[card.signature.cert.as_slice(), &card.signature_ca], now).unwrap();
    let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    pades::assemble(prepared, &value).unwrap()
}

/// An access token of the EMR client for the physician signed in at `pc` (authorization code with PKCE).
pub(crate) fn access_token(p: &Portal, pc: &Portal, rp: &Rp) -> String {
    let (verifier, redirect) = ("s".repeat(64), "http://127.0.0.1:9/emr");
    let r = pc.get(&format!(
        "/authorize?response_type=code&client_id=emr&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        oidc::enc(redirect),
        oidc::challenge(&verifier)
    ));
    let code = oidc::param(&r.location, "code").unwrap_or_else(|| panic!("no code: {r:?}"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", redirect),
        ("code_verifier", &verifier),
    ];
    let tokens = p.token(&form, &rp.assertion_as(p, "emr", 60, None));
    tokens["access_token"].as_str().unwrap_or_else(|| panic!("{tokens}")).to_owned()
}

/// The page in Chromium with the physician's session cookie, axe-core clean in Japanese and English, and
/// photographed (`HCPKI_UPDATE_SCREENSHOTS=1` copies the shots into docs/screenshots).
fn page_in_chromium(p: &Portal, pc: &Portal, id: &str) {
    // The physician's PC's browser (D161: the session lives only there).
    let (mut browser, _policy) = chromium_at_pc(pc, "sign");
    browser.cmd(json!({"cmd": "viewport", "width": 1280, "height": 900}));
    let shots = p.h.path("sign-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for (lang, name) in [("ja", "signing-request.png"), ("en", "signing-request-en.png")] {
        browser.goto(&format!("{}/sign/{id}?lang={lang}", p.issuer));
        assert_eq!(browser.eval("document.documentElement.lang"), lang);
        assert_eq!(browser.eval("document.getElementById('sign-button').hidden"), false, "the script ran");
        crate::accessibility::assert_wcag21_aa(&mut browser, "main", &format!("the signing request page ({lang})"));
        browser.screenshot(&shots.join(name));
    }
    if std::env::var_os("HCPKI_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        for name in ["signing-request.png", "signing-request-en.png"] {
            std::fs::copy(shots.join(name), repo_root().join("docs/screenshots").join(name)).unwrap();
        }
    }
}

/// The card's B-B `.p7s` over `document`, made as the card agent makes it: the signed attributes from
/// `cades::prepare`, signed with the virtual HPKI card's signature key, assembled.
fn b_b(card: &HpkiCredentials, document: &[u8]) -> Vec<u8> {
    let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(document).into();
    let now = hcpki_pkix::time::now_unix();
    let tbs = cades::prepare(&digest, &[card.signature.cert.as_slice(), &card.signature_ca], now).unwrap();
    let value = card.signature.key.sign_sha256(tbs.bytes()).unwrap();
    cades::assemble(tbs, &value).unwrap()
}

pub(crate) fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// The whole way through real parts, once (SQLite), for each format: the physician signed in with the virtual
/// HPKI card through the card agent; the EMR's request (a FHIR referral, an e-prescription CSV, a PDF letter); the
/// portal's page in Chromium, whose script hands the document to the agent (CORS, Private Network Access and the
/// page's CSP let it through); the agent's own page in its window shows it and asks for the signature PIN; the
/// card's signature key signs; the page posts the signed document; the server checks it is this physician's over
/// this document and adds the reference TSA's time stamp; the EMR collects it and the format's peer accepts it
/// under the test HPKI root alone (OpenSSL, xmlsec1, pyHanko).
#[test]
fn the_page_signs_through_the_card_agent_with_the_card_in_the_reader() {
    use crate::agent::{self, hpki};
    use crate::portal_card::{card_portal_with, card_session};
    let started = std::time::Instant::now();
    let tsa_dir = tempfile::tempdir().unwrap();
    let tsa = ReferenceTsa::start(tsa_dir.path());
    let agent_port = crate::harness::free_port();
    let agent_origin = format!("http://127.0.0.1:{agent_port}");
    let signing = format!(
        "card_presence_secs = 600\n[[signing.tsa]]\nurl = \"{}\"\nroots = [\"{}\"]\npolicy = \"{}\"\n",
        tsa.url,
        tsa.root().display(),
        ReferenceTsa::POLICY
    );
    let p = card_portal_with(Backend::Sqlite, &agent_origin, &signing, |_| ());
    // The card holds its end-entity certificates only: the agent adds the signature CA (D71).
    let named = |name: &str| hpki().certificates().into_iter().find(|(n, _)| *n == name).unwrap().1.to_vec();
    std::fs::write(p.h.path("hpki-signature-ca.pem"), pem(&named("signature-ca"))).unwrap();
    let config = p.h.path("agent.toml");
    std::fs::write(&config, "version = 1\n[signing]\nca_certificates = [\"hpki-signature-ca.pem\"]\n").unwrap();
    let ca = p.h.chain_file("server");
    let _pcsc = crate::pcsc_lock::pcsc_lock();
    let agent_log = p.h.path("agent.log");
    let agent = agent::Served::start_with_log(
        &p.issuer,
        &format!("127.0.0.1:{agent_port}"),
        &["--portal-ca-file", ca.to_str().unwrap(), "--config", config.to_str().unwrap()],
        &agent_log,
    );
    let card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    let (facility, cert, key) = oidc::issue_pc(&p.h, "Signing clinic");
    // The facility limits its signing sessions below the agent's 250 / 18 h (D172): the page hands the limit
    // to the agent, which opens the session with the lower. Above the ceiling is refused, nothing set.
    let err = p.h.fails(&["facility", "signing-limit", &facility, "--max-signatures", "300", "--max-hours", "8"]);
    assert!(err.contains("give 0 to 250"), "{err}");
    assert_eq!(p.h.ok(&["facility", "signing-limit", &facility]).trim(), "agent\tagent\tagent");
    p.h.ok(&["facility", "signing-limit", &facility, "--max-signatures", "5", "--max-hours", "8"]);
    assert_eq!(p.h.ok(&["facility", "signing-limit", &facility]).trim(), "5\t8\ton");
    let pc = p.with_client_cert(cert, key);
    card_session(&pc, &agent);
    let rp = Rp::load(&p);
    let token = access_token(&p, &pc, &rp);

    // The physician's browser: the session of the card login.
    let (mut browser, _policy) = chromium_at_pc(&pc, "sign-agent");
    let dir = p.h.path("agent-signed");
    std::fs::create_dir_all(&dir).unwrap();
    let root = dir.join("hpki-root.pem");
    std::fs::write(&root, pem(&named("root-ca"))).unwrap();
    let signature_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(named("signature")));

    // A FHIR referral (CAdES), an e-prescription (XAdES) and a PDF letter (PAdES), each requested by the EMR,
    // signed on the page through the agent, time-stamped and collected.
    let letter = dir.join("letter.pdf");
    crate::pades::peer(&["make-pdf", letter.to_str().unwrap(), "--pages", "1", "--title", "紹介状"]);
    let documents: [(&str, Vec<u8>, &str); 3] = [
        (
            "cades",
            "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"title\":\"紹介状\"}\n".as_bytes().to_vec(),
            "紹介状",
        ),
        ("xades-eprescription", crate::xades::CSV.as_bytes().to_vec(), "処方 花子"),
        ("pades", std::fs::read(&letter).unwrap(), "紹介状"),
    ];
    // The first signature's PIN opens a signing session (D163): the next two are confirmed on the agent's page by the
    // physician's own key press on its "署名する" button, no PIN; the service learns each one's mode.
    for (n, (format, document, shown_words)) in (1u64..).zip(documents) {
        let assertion = rp.assertion_as(&p, "emr", 60, None);
        let encoded = dir.join(format!("{format}.b64"));
        std::fs::write(&encoded, STANDARD.encode(&document)).unwrap();
        let r = p.curl(&[
            "-H",
            &format!("Authorization: Bearer {token}"),
            "--data-urlencode",
            &format!("client_assertion_type={JWT_BEARER}"),
            "--data-urlencode",
            &format!("client_assertion={assertion}"),
            "--data-urlencode",
            &format!("format={format}"),
            "--data-urlencode",
            "level=b-t",
            "--data-urlencode",
            "title=紹介状",
            "--data-urlencode",
            &format!("document@{}", encoded.display()),
            &format!("{}/api/v1/signing-requests", p.issuer),
        ]);
        assert_eq!(r.status, 201, "{format}: {r:?}");
        let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"].as_str().unwrap().to_owned();

        browser.cmd(json!({"cmd": "forget_popups"}));
        browser.goto(&format!("{}/sign/{id}?lang=ja", p.issuer));
        let before = card.card().stats().signatures;
        browser.cmd(json!({"cmd": "click", "selector": "#sign-button"}));
        let window = browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
        assert!(window["url"].as_str().unwrap().starts_with(&format!("{agent_origin}/pin/")), "{window}");
        // The agent's page shows what the portal's page handed it: its hash (in groups of eight, as people
        // compare it) and what the agent read from it (the patient of the prescription, the PDF's own title).
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&document));
        let grouped: Vec<&str> = sha256.as_bytes().chunks(8).map(|c| std::str::from_utf8(c).unwrap()).collect();
        let shown = wait_text_in_popup(&mut browser, &grouped.join(" "));
        assert!(shown.contains(shown_words), "{format}: {shown}");
        if n == 1 {
            assert!(shown.contains("この PIN で署名セッションを開始します"), "{format}: {shown}");
            browser.cmd(json!({"cmd": "keys", "tab": "popup", "text": "hpki1234"}));
        } else {
            assert!(shown.contains(&format!("署名セッション: {n} 件目 / 5 件")), "{format}: {shown}");
        }
        browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));

        // The page posts what the agent returned; the server checks it, time-stamps it; the EMR collects it.
        let collected = wait_signed(&p, &rp, &id);
        assert_eq!(card.card().stats().signatures, before + 1, "{format}: one signature by the card");
        assert_eq!(collected["signer_certificate_sha256"], json!(signature_sha256), "{format}: the signature key");
        assert!(collected["gen_time"].is_i64(), "{format}: B-T: {collected}");
        assert_eq!(collected["signing"], json!({"mode": "session", "n": n, "of": 5}), "{format}: {collected}");
        // The page shows the result once its post is answered (it may still be loading when the EMR collects).
        let done = wait_text_in(&mut browser, "main", "署名しました");
        assert!(done.contains("B-T(署名+タイムスタンプ)"), "{format}: {done}");
        let signed = STANDARD.decode(collected["signed_document"].as_str().unwrap()).unwrap();
        let out = match format {
            "cades" => {
                let (file, sig) = (dir.join("letter.json"), dir.join("letter.json.p7s"));
                std::fs::write(&file, &document).unwrap();
                std::fs::write(&sig, &signed).unwrap();
                crate::cades::cms_verify(&sig, &file, &root)
            }
            "xades-eprescription" => {
                let xml = dir.join("rx.xml");
                std::fs::write(&xml, &signed).unwrap();
                Command::new("xmlsec1")
                    .args(["--verify", "--id-attr:id", "PrescriptionDocument", "--trusted-pem", root.to_str().unwrap()])
                    .arg(&xml)
                    .output()
                    .unwrap()
            }
            _ => {
                let pdf = dir.join("letter.signed.pdf");
                std::fs::write(&pdf, &signed).unwrap();
                crate::pades::pyhanko_validate(&pdf, &root, &tsa.root())
            }
        };
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{format}: the peer refused it\n{}", describe(&out));
        let ok = ["Verification successful", "References (ok/all): 3/3", "INTACT:TRUSTED"];
        assert!(ok.iter().any(|w| said.contains(w)), "{format}: {said}");
    }
    // Signing out from the home page ends the signing session in the agent first (D163: its PIN wiped), with
    // the card still in the reader.
    browser.goto(&format!("{}/", p.issuer));
    browser.cmd(json!({"cmd": "click", "selector": "form[action='/logout'] button"}));
    browser.wait_url(&format!("{}/logout", p.issuer), "main");
    let logged = crate::oidc::poll(|| {
        let log = std::fs::read_to_string(&agent_log).unwrap_or_default();
        log.lines().find(|l| l.contains("signing sessions ended by their page (logout)")).map(str::to_owned)
    });
    // The log's fields may be coloured: the escape sequences out before reading `ended=1`.
    let mut plain = String::new();
    let mut rest = logged.as_str();
    while let Some((before, after)) = rest.split_once('\u{1b}') {
        plain.push_str(before);
        rest = after.split_once('m').map_or("", |(_, tail)| tail);
    }
    plain.push_str(rest);
    assert!(plain.contains("ended=1"), "the sign-out ended the signing session: {plain}");
    drop(browser);
    eprintln!("signing requests through the card agent: {:.1} s", started.elapsed().as_secs_f64());
}

/// The text of the agent's window once it shows `want` (its page loads after the window opens).
pub(crate) fn wait_text_in_popup(browser: &mut Chromium, want: &str) -> String {
    wait_text_in(browser, "popup", want)
}

/// The text of tab `tab`'s page once it shows `want` (a page that is still loading, or navigating after a post,
/// has no body yet: asked again until it shows, at most 30 s).
pub(crate) fn wait_text_in(browser: &mut Chromium, tab: &str, want: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let reply = browser.try_cmd(&json!({"cmd": "eval", "tab": tab, "expr": "document.body?.innerText ?? ''"}));
        let text = reply["value"].as_str().unwrap_or_default().to_owned();
        if text.contains(want) {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "tab {tab} never showed {want:?}: {text}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The EMR's view of request `id` once it is signed (the page's post and the time stamp take a moment).
fn wait_signed(p: &Portal, rp: &Rp, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let assertion = rp.assertion_as(p, "emr", 60, None);
        let query = format!("client_assertion_type={}&client_assertion={assertion}", oidc::enc(JWT_BEARER));
        let r = p.get(&format!("/api/v1/signing-requests/{id}?{query}"));
        let body: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}"));
        if body["state"] == "signed" {
            return body;
        }
        assert!(body["state"] == "pending", "{body}");
        assert!(std::time::Instant::now() < deadline, "the request was never signed: {body}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}
