//! PAdES for PDF referral letters and consent forms (issue #27 item 1): a PDF made by pyHanko's own writer,
//! signed through `hcpki_docsig::signature::pades` with the test HPKI card's **signature** key (prepare → the card's
//! PKCS#1 v1.5 over the signed attributes → assemble), time-stamped by an in-test TSA (hcpki's RFC 3161 authority
//! under a TSA certificate OpenSSL issued from a root made here), given its DSS (the HPKI chain, the TSA chain
//! and the test root's CRL) and a document time stamp; then every level checked by the independent peers: `pyhanko sign
//! validate` with only the test HPKI root and the TSA root trusted (INTACT, TRUSTED, the time stamp trusted, the
//! later revisions recognised as validation data and time stamps) and `pdfsig` (poppler) as a second view. A
//! tampered byte and a revision written by a PDF editor after signing are refused by pyHanko and by hcpki. A
//! consent form whose file uses a cross-reference stream goes through the same steps (its updates are xref
//! streams) and is checked at B-LTA. No database: it runs once.
//!
//! The HPKI hierarchy's certificates point at a repository the test serves (`hpki_repository`: the root's ARL,
//! the signature CA's CRL and an `openssl ocsp` responder), so pyHanko checks revocation as it would in
//! production: it fetches what the certificates name and refuses a signer its CA revoked.

use crate::fixtures::run_ok;
use crate::harness::{describe, repo_root};
use crate::hpki_repository::{HpkiRepository, OcspEntry};
use hcpki_docsig::signature::cades::CadesError;
use hcpki_docsig::signature::pades::{self, Level, PadesError, ValidationData};
use hcpki_docsig::timestamp::{Accuracy, TimeStampAuthority, TimeStampResp, TsaSettings};
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject, HpkiTestCas, Revoked};
use sha2::Digest as _;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{Decode, Encode};

#[test]
fn pyhanko_and_pdfsig_accept_every_level_made_with_the_hpki_signature_key() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    let original = at("referral.pdf");
    peer(&["make-pdf", path(&original), "--pages", "2", "--title", "診療情報提供書"]);
    let pdf = std::fs::read(&original).unwrap();
    let summary = pades::summary(&pdf).unwrap();
    assert_eq!((summary.title.as_deref(), summary.pages), (Some("診療情報提供書"), 2));

    let repository = HpkiRepository::start();
    let cas = HpkiTestCas::with_repository(&repository.base_url()).unwrap();
    let card = cas.issue(&HpkiSubject::default()).unwrap();
    let revoked = cas.issue(&HpkiSubject::default()).unwrap();
    let (tsa, tsa_root, tsa_cert) = tsa(dir.path());
    let now = hcpki_pkix::time::now_unix();
    let revoked_at = time::OffsetDateTime::from_unix_timestamp(now - 3600).unwrap();
    let entry = Revoked { serial: serial(&revoked.signature.cert), at: revoked_at, reason: None };
    repository.set_crl(&cas.root_arl_url(), Some(cas.root_arl(&[], CrlValidity::fresh(24)).unwrap()));
    repository.set_crl(&cas.signature_crl_url(), Some(cas.signature_crl(&[entry], CrlValidity::fresh(24)).unwrap()));
    repository.serve_ocsp(
        &cas,
        &[OcspEntry::good(&card.signature.cert), OcspEntry::revoked(&revoked.signature.cert, now - 3600)],
    );

    let (tsa_chain, hpki) = ([pem_file_der(&tsa_root), pem_file_der(&tsa_cert)], (&cas, &card));
    let [b_b, b_t, b_lt, b_lta] = sign_every_level(&pdf, hpki, &tsa, &tsa_chain, &at("referral"), now);
    let (document_digest, token) = document_time_stamp(&b_lta);
    // OpenSSL checks the document time stamp against the digest of the bytes it covers.
    std::fs::write(at("doc.tst"), &token).unwrap();
    let out = Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in", path(&at("doc.tst")), "-digest", &hex::encode(document_digest)])
        .args(["-CAfile", path(&tsa_root), "-untrusted", path(&tsa_cert)])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verification: OK"), "{}", describe(&out));

    let root = at("hpki-root.pem");
    write_pem(&root, &card.root);
    let levels = [
        ("b-b", &b_b, Level::BaselineB),
        ("b-t", &b_t, Level::BaselineT),
        ("b-lt", &b_lt, Level::BaselineLt),
        ("b-lta", &b_lta, Level::BaselineLta),
    ];
    for (name, signed, level) in levels {
        assert!(signed.starts_with(&pdf), "{name}: the original bytes changed");
        assert_eq!(pades::verify(signed).unwrap().level(), level, "{name}");
        let file = at(&format!("referral-{name}.pdf"));
        std::fs::write(&file, signed).unwrap();
        let fetched = repository.gets(&cas.signature_crl_url()) + repository.ocsp_requests();
        let out = pyhanko_validate_checking_revocation(&file, &root, &tsa_root);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("INTACT:TRUSTED"), "{name}: pyHanko\n{}", describe(&out));
        assert!(
            repository.gets(&cas.signature_crl_url()) + repository.ocsp_requests() > fetched,
            "{name}: pyHanko judged the signer without asking the repository\n{}",
            describe(&out)
        );
        if level >= Level::BaselineT {
            assert!(text.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"), "{name}: pyHanko\n{}", describe(&out));
        }
        // The DSS and the document time stamp are later revisions pyHanko calls signature maintenance.
        let coverage = if level >= Level::BaselineLt { "EXTENDED_WITH_LTA_UPDATES" } else { "UNTOUCHED" };
        assert!(text.contains(coverage), "{name}: pyHanko\n{}", describe(&out));
        let out = Command::new("pdfsig").arg(&file).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Signature Validation: Signature is Valid."), "{name}: pdfsig\n{}", describe(&out));
        assert!(text.contains("Signature Type: ETSI.CAdES.detached"), "{name}: pdfsig\n{}", describe(&out));
    }

    // A consent form whose file has a cross-reference stream: the updates are xref streams too.
    let consent = at("consent.pdf");
    peer(&["make-pdf", path(&consent), "--title", "同意書", "--xref-stream"]);
    let [.., consent_lta] =
        sign_every_level(&std::fs::read(&consent).unwrap(), hpki, &tsa, &tsa_chain, &at("consent"), now);
    assert_eq!(pades::verify(&consent_lta).unwrap().level(), Level::BaselineLta);
    std::fs::write(&consent, &consent_lta).unwrap();
    let out = pyhanko_validate_checking_revocation(&consent, &root, &tsa_root);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("INTACT:TRUSTED") && text.contains("EXTENDED_WITH_LTA_UPDATES"), "{}", describe(&out));
    let out = Command::new("pdfsig").arg(&consent).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Signature is Valid."), "pdfsig\n{}", describe(&out));

    // The same consent form signed by the next My Number card (D153) as the agent does it: the card is handed the
    // SHA-384 of the signed attributes, answers r ‖ s, and the one conversion makes the DER the CMS carries.
    p384_consent(&tsa, &tsa_root, dir.path(), now);

    // A signer whose certificate the CA revoked an hour ago: its CRL and its OCSP responder say so, and pyHanko
    // refuses the signature at every level that does not prove it older (B-T's time stamp is from now).
    let [revoked_b_b, revoked_b_t, ..] =
        sign_every_level(&pdf, (&cas, &revoked), &tsa, &tsa_chain, &at("revoked"), now);
    for (name, signed) in [("b-b", revoked_b_b), ("b-t", revoked_b_t)] {
        let file = at(&format!("revoked-{name}.pdf"));
        std::fs::write(&file, signed).unwrap();
        let out = pyhanko_validate_checking_revocation(&file, &root, &tsa_root);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "revoked {name}: pyHanko accepted a revoked signer\n{}", describe(&out));
        assert!(text.contains(":INTACT:REVOKED"), "revoked {name}: pyHanko\n{}", describe(&out));
        // Without revocation checking, pyHanko would have taken it: the refusal is the revocation's.
        let out = pyhanko_validate(&file, &root, &tsa_root);
        assert!(out.status.success(), "revoked {name}: pyHanko --no-revocation-check\n{}", describe(&out));
    }

    // The signature CA's own status came from the root's ARL at the repository.
    assert!(repository.gets(&cas.root_arl_url()) > 0, "pyHanko did not fetch the root's ARL");

    // A byte of the letter changed after signing.
    let tampered = at("referral-tampered.pdf");
    let mut bytes = b_lta.clone();
    let page = bytes.windows(9).position(|w| w == b"page 1) T").unwrap();
    bytes[page + 5] = b'9';
    std::fs::write(&tampered, &bytes).unwrap();
    let out = pyhanko_validate_checking_revocation(&tampered, &root, &tsa_root);
    assert!(!out.status.success(), "pyHanko accepted a tampered letter\n{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(":INVALID"), "{}", describe(&out));
    let err = pades::verify(&bytes).unwrap_err();
    assert!(matches!(err, PadesError::Cms(CadesError::ContentMismatch)), "{err}");

    // A PDF editor's revision after the signature, rewriting the first page.
    let forged = at("referral-forged.pdf");
    peer(&["forge-revision", path(&at("referral-b-lta.pdf")), path(&forged)]);
    let out = pyhanko_validate_checking_revocation(&forged, &root, &tsa_root);
    assert!(!out.status.success(), "pyHanko accepted a forged revision\n{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ILLEGAL_MODIFICATIONS"), "{}", describe(&out));
    let err = pades::verify(&std::fs::read(&forged).unwrap()).unwrap_err();
    assert!(matches!(err, PadesError::ModifiedAfterSigning { .. }), "{err}");
}

/// A consent form signed at B-T with a P-384 My Number card's signing key (ECDSA P-384 / SHA-384, SHA-384 as the
/// CMS digest), accepted by pyHanko (the P-384 TEST JPKI signing root and the TSA root trusted) and by pdfsig.
fn p384_consent(tsa: &TimeStampAuthority, tsa_root: &Path, dir: &Path, now: i64) {
    let started = std::time::Instant::now();
    use hcpki_vcard::key::CardAlgorithm;
    use hcpki_vcard::testpki::{JpkiSubject, issue_jpki_for};
    let original = dir.join("consent-p384.pdf");
    peer(&["make-pdf", path(&original), "--title", "同意書"]);
    let pdf = std::fs::read(&original).unwrap();
    let card = issue_jpki_for(&JpkiSubject::default(), CardAlgorithm::P384).unwrap();
    let prepared = pades::prepare(&pdf, &[card.sign.cert.as_slice(), &card.sign_root], now).unwrap();
    let key = hcpki_agent_protocol::CardKeyAlgorithm::EcdsaP384Sha384;
    let answer =
        card.sign.key.sign_card_input(hcpki_agent_protocol::card_input(key, prepared.to_be_signed()).bytes()).unwrap();
    assert_eq!(answer.len(), 96, "the card answers r ‖ s");
    let value = hcpki_pkix::card_signature::from_card_answer(key, &answer).unwrap();
    let b_b = pades::assemble(prepared, &value).unwrap();
    let token = stamp(tsa, &pades::signature_time_stamp_digest(&b_b).unwrap(), &dir.join("consent-p384.sig"), now);
    let b_t = pades::with_signature_time_stamp(&b_b, &token).unwrap();
    assert_eq!(pades::verify(&b_t).unwrap().level(), Level::BaselineT);
    std::fs::write(&original, &b_t).unwrap();
    let root = dir.join("jpki-p384-sign-root.pem");
    write_pem(&root, &card.sign_root);
    let out = pyhanko_validate(&original, &root, tsa_root);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("INTACT:TRUSTED"), "P-384: pyHanko\n{}", describe(&out));
    assert!(text.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"), "P-384: pyHanko\n{}", describe(&out));
    let out = Command::new("pdfsig").arg(&original).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Signature Validation: Signature is Valid."), "P-384: pdfsig\n{}", describe(&out));
    assert!(text.contains("Signature Type: ETSI.CAdES.detached"), "P-384: pdfsig\n{}", describe(&out));
    eprintln!("P-384 consent PDF (sign, pyHanko, pdfsig): {:.1} s", started.elapsed().as_secs_f64());
}

/// B-B, B-T, B-LT and B-LTA of `pdf`: signed with the card's signature key, time-stamped by `tsa` (its requests
/// written beside `name`), the DSS holding the HPKI chain, `tsa_chain` and the root's CRL.
fn sign_every_level(
    pdf: &[u8],
    (cas, card): (&HpkiTestCas, &HpkiCredentials),
    tsa: &TimeStampAuthority,
    tsa_chain: &[Vec<u8>],
    name: &Path,
    now: i64,
) -> [Vec<u8>; 4] {
    let prepared = pades::prepare(pdf, &[card.signature.cert.as_slice(), &card.signature_ca], now).unwrap();
    let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    let b_b = pades::assemble(prepared, &value).unwrap();
    let token = stamp(tsa, &pades::signature_time_stamp_digest(&b_b).unwrap(), &name.with_extension("sig"), now);
    let b_t = pades::with_signature_time_stamp(&b_b, &token).unwrap();
    let data = ValidationData {
        certificates: [&card.signature.cert, &card.signature_ca, &card.root]
            .into_iter()
            .cloned()
            .chain(tsa_chain.iter().cloned())
            .collect(),
        crls: vec![cas.root_arl(&[], CrlValidity::fresh(24)).unwrap()],
        ocsps: Vec::new(),
    };
    let b_lt = pades::add_validation_data(&b_t, &data).unwrap();
    let prepared = pades::prepare_document_time_stamp(&b_lt).unwrap();
    let token = stamp(tsa, &prepared.digest(), &name.with_extension("doc"), now);
    let b_lta = pades::assemble_document_time_stamp(prepared, &token).unwrap();
    [b_b, b_t, b_lt, b_lta]
}

/// The newest document time stamp's token and the SHA-256 of the bytes it covers (its /ByteRange).
fn document_time_stamp(pdf: &[u8]) -> ([u8; 32], Vec<u8>) {
    let document = pades::pdf::Document::parse(pdf).unwrap();
    let catalog = document.catalog().unwrap();
    let form = document.resolve(catalog.get("AcroForm").unwrap()).unwrap();
    let fields = document.resolve(form.as_dictionary().unwrap().get("Fields").unwrap()).unwrap();
    let last = document.resolve(fields.as_array().unwrap().last().unwrap()).unwrap();
    let value = document.resolve(last.as_dictionary().unwrap().get("V").unwrap()).unwrap();
    let value = value.as_dictionary().unwrap();
    let range: Vec<usize> =
        value.get("ByteRange").unwrap().as_array().unwrap().iter().map(|n| n.as_integer().unwrap() as usize).collect();
    let covered = [&pdf[range[0]..range[0] + range[1]], &pdf[range[2]..range[2] + range[3]]].concat();
    let contents = value.get("Contents").unwrap().as_string().unwrap();
    assert_eq!(&contents[..2], &[0x30, 0x82], "a token of 256 bytes to 64 KiB");
    let length = 4 + usize::from(u16::from_be_bytes([contents[2], contents[3]]));
    (sha2::Sha256::digest(&covered).into(), contents[..length].to_vec())
}

/// tests/peers/pades_peer.py with the venv's python (pyHanko).
pub(crate) fn peer(args: &[&str]) {
    run_ok(
        Command::new(crate::oidc::tools().join("bin/python"))
            .arg(repo_root().join("tests/peers/pades_peer.py"))
            .args(args),
    );
}

/// `pyhanko sign validate --no-revocation-check --trust HPKI-ROOT --trust TSA-ROOT --trust-replace FILE`: for
/// certificates whose revocation data nobody serves (`HpkiTestCas::new`'s).
pub(crate) fn pyhanko_validate(file: &Path, root: &Path, tsa_root: &Path) -> Output {
    pyhanko(file, root, tsa_root, &["--no-revocation-check"])
}

/// `pyhanko sign validate --trust HPKI-ROOT --trust TSA-ROOT --trust-replace FILE`: pyHanko fetches the CRLs and
/// OCSP answers the certificates name and fails the validation when none can be had (its default, hard-fail).
pub(crate) fn pyhanko_validate_checking_revocation(file: &Path, root: &Path, tsa_root: &Path) -> Output {
    pyhanko(file, root, tsa_root, &[])
}

fn pyhanko(file: &Path, root: &Path, tsa_root: &Path, options: &[&str]) -> Output {
    let trust = ["--trust", path(root), "--trust", path(tsa_root), "--trust-replace", path(file)];
    crate::peers::pyhanko(&[&["sign", "validate"][..], options, &trust].concat())
}

fn serial(cert: &[u8]) -> Vec<u8> {
    x509_cert::Certificate::from_der(cert).unwrap().tbs_certificate().serial_number().as_bytes().to_vec()
}

/// hcpki's RFC 3161 authority under a TSA certificate (critical EKU timeStamping) that OpenSSL issues from a
/// root made here for a fresh P-256 key; the root's and the TSA certificate's PEM files.
fn tsa(dir: &Path) -> (TimeStampAuthority, std::path::PathBuf, std::path::PathBuf) {
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let key_file = dir.join("tsa.key");
    std::fs::write(&key_file, x509_cert::der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &pkcs8).unwrap())
        .unwrap();
    let openssl = |args: &[&str]| run_ok(Command::new("openssl").current_dir(dir).args(args));
    openssl(
        &["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tsa-root.key"]
            .into_iter()
            .chain(["-subj", "/CN=TEST PAdES TSA Root", "-days", "2", "-out", "tsa-root.pem"])
            .chain(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            .collect::<Vec<_>>(),
    );
    std::fs::write(
        dir.join("tsa.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n",
    )
    .unwrap();
    openssl(&["req", "-new", "-key", "tsa.key", "-subj", "/CN=TEST PAdES TSA", "-out", "tsa.csr"]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "tsa.csr",
        "-CA",
        "tsa-root.pem",
        "-CAkey",
        "tsa-root.key",
        "-days",
        "2",
        "-extfile",
        "tsa.ext",
        "-out",
        "tsa.pem",
    ]);
    let settings = TsaSettings {
        policy: "1.3.6.1.4.1.99999.3161.1".parse().unwrap(),
        accuracy: Accuracy { seconds: Some(1), millis: None, micros: None },
    };
    let tsa = TimeStampAuthority::new(&pem_file_der(&dir.join("tsa.pem")), Arc::new(key), settings).unwrap();
    (tsa, dir.join("tsa-root.pem"), dir.join("tsa.pem"))
}

/// The DER of the token `tsa` grants at `now` over the SHA-256 `digest`, asked by `openssl ts -query -cert` (so
/// the token carries the TSA certificate); `name` is the request file's stem.
fn stamp(tsa: &TimeStampAuthority, digest: &[u8], name: &Path, now: i64) -> Vec<u8> {
    let query = name.with_extension("tsq");
    run_ok(Command::new("openssl").args([
        "ts",
        "-query",
        "-sha256",
        "-cert",
        "-digest",
        &hex::encode(digest),
        "-out",
        path(&query),
    ]));
    let answer = tsa.answer(&std::fs::read(&query).unwrap(), now);
    answer.outcome.unwrap();
    TimeStampResp::from_der(&answer.der).unwrap().time_stamp_token.unwrap().to_der().unwrap()
}

fn pem_file_der(file: &Path) -> Vec<u8> {
    crate::oidc::pem_to_der(&std::fs::read_to_string(file).unwrap())
}

fn write_pem(file: &Path, der: &[u8]) {
    std::fs::write(file, x509_cert::der::pem::encode_string("CERTIFICATE", LineEnding::LF, der).unwrap()).unwrap();
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}
