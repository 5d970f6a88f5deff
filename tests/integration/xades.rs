//! XAdES e-prescriptions (issue #27 item 1): a prescription CSV signed with the test HPKI card's **signature** key
//! through `hcpki_docsig::signature::xades` (prepare → the card's PKCS#1 v1.5 over the canonical SignedInfo →
//! assemble), time-stamped by the in-process RFC 3161 authority, and checked by the independent peers:
//! `xmlsec1 --verify` with only the test HPKI root trusted (B-B and B-T: the three References, the signature,
//! the certificate chain) and `openssl ts -verify -data` on the canonical SignatureValue (the signature time
//! stamp). Tampered data and tampered SignedProperties fail in both; XML signature wrapping, which xmlsec1 cannot
//! tell (it checks what the Ids point to, not where they are), fails in ours; a DTD is refused. No database:
//! it runs once.

use crate::fixtures::run_ok;
use crate::harness::describe;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hcpki_docsig::signature::xades::{self, Level, XadesError, XmlError};
use hcpki_docsig::timestamp::client::Query;
use hcpki_docsig::timestamp::{Accuracy, TimeStampAuthority, TimeStampResp, TsaSettings};
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use hcpki_vcard::testpki::HpkiSubject;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{Decode, Encode};

/// A JAHIS prescription CSV (JAHIS10, CRLF as written for the 2D symbol) that `Prescription::read` reads: the
/// patient, two Rps, and a third whose amount is of the active ingredient (力価フラグ 2).
pub(crate) const CSV: &str = "JAHIS10\r\n1,1,1234567,13,テスト医療機関\r\n5,,イシ タロウ,医師 太郎\r\n\
11,P0001,処方 花子,ショホウ ハナコ\r\n12,2\r\n13,19800101\r\n22,06012345\r\n23,０１－２３,１２３４,1,\r\n\
51,20261126\r\n101,1,1,,5\r\n111,1,1,,1日3回毎食後,3\r\n201,1,1,1,2,1149019F1ZZZ,ロキソプロフェンNa錠60mg,3,1,錠\r\n\
281,1,1,1,3,後発品変更不可,\r\n101,2,2,,3\r\n111,2,1,,疼痛時,\r\n201,2,1,1,2,,レバミピド錠100mg,1,1,錠\r\n\
101,3,1,,5\r\n111,3,1,,1日3回毎食後,3\r\n201,3,1,1,7,,【般】アモキシシリンカプセル,750,2,ｍｇ\r\n";

/// Prescription CSVs that read two ways (issue #42 item 5), each made from [`CSV`], with what the refusal says in
/// Japanese and in English (its line): a lone CR hiding a drug that a CR-splitting reader sees, the patient written
/// twice, a record number the layout lacks, a drug with a field too many, and Shift_JIS bytes.
pub(crate) fn ambiguous() -> Vec<(&'static str, Vec<u8>, [&'static str; 2])> {
    let hidden = CSV.replace("3,1,錠\r\n281", "3,1,錠\r201,1,2,1,2,,オキシコドン塩酸塩錠5mg,20,1,錠\r\n281");
    let twice = CSV.replace("12,2\r\n", "11,P0002,別人 太郎,ベツジン タロウ\r\n12,2\r\n");
    let unknown = CSV.replace("51,20261126\r\n", "51,20261126\r\n301,1,,検査値\r\n");
    let fields = CSV.replace("レバミピド錠100mg,1,1,錠", "レバミピド錠100mg,1,1,錠,分1");
    let shift_jis =
        CSV.as_bytes().iter().take(CSV.find("処方 花子").unwrap_or(0)).copied().chain(*b"\x8f\x88").collect();
    assert!(
        hidden.matches('\r').count() > hidden.matches("\r\n").count()
            && [&twice, &unknown, &fields].iter().all(|c| *c != CSV)
    );
    vec![
        ("a lone CR hiding a drug", hidden.into_bytes(), ["12 行目", "(line 12)"]),
        ("the patient twice", twice.into_bytes(), ["5 行目（レコード 11）", "(line 5, record 11)"]),
        ("an unknown record", unknown.into_bytes(), ["10 行目（レコード 301）", "(line 10, record 301)"]),
        ("a drug with a field too many", fields.into_bytes(), ["16 行目（レコード 201）", "(line 16, record 201)"]),
        ("Shift_JIS", shift_jis, ["4 行目", "(line 4)"]),
    ]
}

#[test]
fn xmlsec1_and_openssl_verify_b_b_and_b_t_made_with_the_hpki_signature_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);
    let card = crate::test_pki::hpki().issue(&HpkiSubject::default()).unwrap();
    let now = hcpki_pkix::time::now_unix();

    let prepared = xades::prepare(CSV.as_bytes(), &[card.signature.cert.as_slice(), &card.signature_ca], now).unwrap();
    assert_eq!(prepared.prescription().patient_name(), "処方 花子");
    let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
    let b_b = xades::assemble(prepared, &value).unwrap();
    let (tsa, tsa_pem) = tsa(dir.path());
    let b_t =
        xades::with_signature_time_stamp(&b_b, &stamp(&tsa, &xades::signature_time_stamp_digest(&b_b).unwrap(), now))
            .unwrap();
    let ours = xades::verify(&b_t).unwrap();
    assert_eq!((ours.level, ours.prescription.as_slice()), (Level::BaselineT, CSV.as_bytes()));
    assert_eq!(ours.signer.to_der().unwrap(), card.signature.cert);
    assert_eq!(ours.time_stamps.first().map(|t| t.time), Some(now));

    let root = file("hpki-root.pem");
    std::fs::write(&root, x509_cert::der::pem::encode_string("CERTIFICATE", LineEnding::LF, &card.root).unwrap())
        .unwrap();
    let xmlsec = |name: &str, xml: &[u8]| -> Output {
        let path = file(name);
        std::fs::write(&path, xml).unwrap();
        Command::new("xmlsec1")
            .args(["--verify", "--id-attr:id", "PrescriptionDocument", "--trusted-pem", path_str(&root)])
            .arg(&path)
            .output()
            .unwrap()
    };
    for (name, xml) in [("prescription-b-b.xml", &b_b), ("prescription-b-t.xml", &b_t)] {
        let ok = xmlsec(name, xml);
        assert!(ok.status.success(), "{name}: xmlsec1 refused it\n{}", describe(&ok));
        assert!(
            String::from_utf8_lossy(&ok.stderr).contains("SignedInfo References (ok/all): 3/3"),
            "{}",
            describe(&ok)
        );
    }

    // The signature time stamp, as openssl sees it: over the canonical SignatureValue.
    let canonical = file("signature-value.c14n");
    std::fs::write(&canonical, xades::canonical_signature_value(&b_t).unwrap()).unwrap();
    let token = file("signature-time-stamp.tst");
    let text = String::from_utf8(b_t.clone()).unwrap();
    let encapsulated = text.split("<xades:EncapsulatedTimeStamp>").nth(1).unwrap().split('<').next().unwrap();
    std::fs::write(&token, STANDARD.decode(encapsulated).unwrap()).unwrap();
    let ts_verify = |data: &Path| {
        Command::new("openssl")
            .args(["ts", "-verify", "-token_in", "-in", path_str(&token), "-CAfile", path_str(&tsa_pem), "-data"])
            .arg(data)
            .output()
            .unwrap()
    };
    let ok = ts_verify(&canonical);
    assert!(
        ok.status.success() && String::from_utf8_lossy(&ok.stdout).contains("Verification: OK"),
        "{}",
        describe(&ok)
    );
    let bad = ts_verify(&root);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("message imprint mismatch"), "{}", describe(&bad));

    // Tampered prescription data and tampered SignedProperties: both refuse.
    let data =
        text.split("<PrescriptionDocument id=\"PrescriptionDocument\">").nth(1).unwrap().split('<').next().unwrap();
    let evil = STANDARD.encode(CSV.replace("ロキソプロフェン", "オキシコドン"));
    let tampered = text.replacen(data, &evil, 1);
    let bad = xmlsec("tampered-data.xml", tampered.as_bytes());
    assert!(!bad.status.success(), "xmlsec1 accepted tampered data\n{}", describe(&bad));
    assert!(matches!(xades::verify(tampered.as_bytes()), Err(XadesError::DigestMismatch(_))));
    let signing_time = text.split("<xades:SigningTime>").nth(1).unwrap().split('<').next().unwrap();
    let tampered = text.replacen(signing_time, "2020-01-01T00:00:00Z", 1);
    let bad = xmlsec("tampered-properties.xml", tampered.as_bytes());
    assert!(!bad.status.success(), "xmlsec1 accepted tampered SignedProperties\n{}", describe(&bad));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("SignedInfo References (ok/all): 1/2"), "{}", describe(&bad));
    assert!(matches!(xades::verify(tampered.as_bytes()), Err(XadesError::DigestMismatch("SignedProperties"))));

    // XML signature wrapping: xmlsec1 follows the Id wherever it is and says OK; we refuse.
    let original = format!("<PrescriptionDocument id=\"PrescriptionDocument\">{data}</PrescriptionDocument>");
    let moved = text
        .replacen(&original, &format!("<PrescriptionDocument id=\"Evil\">{evil}</PrescriptionDocument>"), 1)
        .replacen("<Version Value=\"EPS1.0\"/>", &format!("<Version Value=\"EPS1.0\"/>{original}"), 1);
    let duplicated = text.replacen(
        "</PrescriptionSign>",
        &format!("</PrescriptionSign><x id=\"PrescriptionDocument\">{evil}</x>"),
        1,
    );
    for (name, xml) in [("xsw-moved.xml", &moved), ("xsw-duplicated.xml", &duplicated)] {
        let says = xmlsec(name, xml.as_bytes());
        assert!(says.status.success(), "{name}: xmlsec1 is expected to follow the Id\n{}", describe(&says));
        let err = xades::verify(xml.as_bytes()).unwrap_err();
        assert!(
            matches!(err, XadesError::Reference { .. } | XadesError::DuplicateId(_) | XadesError::Structure(_)),
            "{name}: {err}"
        );
    }

    // A DTD with an entity: refused before anything is read.
    let doctype =
        text.replacen("<Document ", "<!DOCTYPE Document [<!ENTITY csv SYSTEM \"file:///etc/passwd\">]><Document ", 1);
    let err = xades::verify(doctype.as_bytes()).unwrap_err();
    assert!(matches!(err, XadesError::Xml(XmlError::Doctype)), "{err}");
    assert!(err.to_string().contains("never reads DTDs nor expands entities"), "{err}");
}

/// An in-process TSA for a fresh P-256 key under a self-signed certificate `openssl req -x509` made (critical
/// EKU timeStamping alone, as RFC 3161 §2.3 requires), and that certificate's PEM file (the `-CAfile`).
fn tsa(dir: &Path) -> (TimeStampAuthority, std::path::PathBuf) {
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let key_file = dir.join("tsa-key.pem");
    std::fs::write(&key_file, x509_cert::der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &pkcs8).unwrap())
        .unwrap();
    let config = dir.join("tsa.cnf");
    std::fs::write(
        &config,
        "[req]\ndistinguished_name = dn\nx509_extensions = tsa\n[dn]\n[tsa]\nbasicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature\nextendedKeyUsage = critical, timeStamping\n",
    )
    .unwrap();
    let pem = dir.join("tsa.pem");
    run_ok(
        Command::new("openssl")
            .args(["req", "-x509", "-new", "-days", "2", "-subj", "/CN=hcpki XAdES test TSA", "-config"])
            .args([path_str(&config), "-key", path_str(&key_file), "-out", path_str(&pem)]),
    );
    let text = std::fs::read_to_string(&pem).unwrap();
    let der = STANDARD.decode(text.lines().filter(|l| !l.starts_with("-----")).collect::<String>()).unwrap();
    let settings = TsaSettings {
        policy: "1.3.6.1.4.1.99999.3161.1".parse().unwrap(),
        accuracy: Accuracy { seconds: Some(1), millis: None, micros: None },
    };
    (TimeStampAuthority::new(&der, Arc::new(key), settings).unwrap(), pem)
}

/// The DER of the token `tsa` grants at `now` over the SHA-256 `digest`, asked as hcpki's signers ask
/// (`timestamp::client::Query`: certReq set, so the token carries the TSA certificate; a random nonce).
fn stamp(tsa: &TimeStampAuthority, digest: &[u8; 32], now: i64) -> Vec<u8> {
    let answer = tsa.answer(Query::sha256(digest, None).unwrap().der(), now);
    answer.outcome.unwrap();
    TimeStampResp::from_der(&answer.der).unwrap().time_stamp_token.unwrap().to_der().unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}
