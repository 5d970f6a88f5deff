//! The signature verifier against the independent peers for XAdES e-prescriptions and PAdES PDFs (issue #27
//! item 5; signature_verify.rs is the CAdES part): two fixture sets made at test time around the test HPKI
//! hierarchy (its signature CA signs the CRLs) and one TSA, judged by `hcpki signature verify FILE --json` (which
//! tells the format from the file) and by the peers: for XAdES `xmlsec1 --verify` with only the HPKI test root
//! trusted and `openssl ts -verify` on the signature time stamp over the canonical ds:SignatureValue; for PAdES
//! `pyhanko sign validate` (no revocation check), `pyhanko sign adesverify` (EN 319 102-1 style, revocation from
//! the DSS, at the time the time stamps prove) and poppler's `pdfsig`. Every answer of every side is pinned; the
//! table of all of them is printed, and every difference from the pins is reported at once.
//!
//! Where the sides legitimately differ, the pins say so (docs/interop.md and docs/signatures.md, "The verifier
//! against xmlsec1, pyHanko and pdfsig"):
//!
//! * xmlsec1 and `pyhanko sign validate` judge the certificate **now** and never look at revocation: a signer
//!   revoked before the time stamp passes both, an expired certificate with a time stamp from its validity is
//!   refused by both (xmlsec1 accepts it once told that time, `--verification-gmt-time`). `pyhanko sign
//!   adesverify` judges at the time the evidence proves, with the DSS's CRLs, and agrees with hcpki on every PDF
//!   (accepts the PASSED ones, refuses the others; B-T without a DSS lacks revocation data in both).
//! * pdfsig checks the signature value and the digest only (its certificate check uses the NSS store, where the
//!   test root is not, and it cannot check document time stamps): it refuses only a changed byte and changed
//!   signed attributes, and says "Signature is Valid." for a file a PDF editor changed afterwards (with "Not total
//!   document signed"), an authentication certificate, an unknown root.
//! * xmlsec1 does not look at keyUsage (an authentication certificate passes) nor at where a Reference's Id is:
//!   XML signature wrapping (the signed data moved, an evil copy where a reader takes it) passes it, and is
//!   FAILED/FORMAT_FAILURE for hcpki, which reads the prescription by position.
//! * A broken signature time stamp is ignored by hcpki and by pyHanko's AdES validation (no proof of time, the
//!   signature judged as B-B); `pyhanko sign validate` refuses the whole signature for it; xmlsec1 and pdfsig do
//!   not look at unsigned properties / attributes; `openssl ts -verify` refuses the token.
//! * An e-prescription carries no validation data: hcpki fetches its signer's CRL from the distribution point
//!   the certificate names, a repository served here (`hpki_repository`); withdrawn, the same B-T is
//!   INDETERMINATE/TRY_LATER. The expired signer's is TRY_LATER too: the CRL served was issued after its
//!   certificate expired and does not say it keeps expired certificates (no expiredCertsOnCRL), so it proves
//!   nothing of it (D86); xmlsec1 looks at no revocation and accepts it at the time stamp's time. The PDFs' hierarchy names an unreachable one (`hcpki-test.invalid`): only their
//!   DSS proves a status, and B-T without one is TRY_LATER.
//!
//! No database is used beyond the hcpki directory the verifier's configuration lives in: it runs once (SQLite).

use crate::cades::{path, write_pem};
use crate::harness::{Backend, Hcpki, describe};
use crate::hpki_repository::HpkiRepository;
use crate::signature_verify::{serial, validity};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hcpki_docsig::signature::{pades, xades};
use hcpki_docsig::timestamp::client::Query;
use hcpki_docsig::timestamp::{HashAlgorithm, TimeStampAuthority, TimeStampResp};
use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject, HpkiTestCas, Revoked};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use x509_cert::der::{Decode, Encode};

#[test]
fn hcpki_xmlsec1_and_openssl_agree_on_the_xades_fixture_set() {
    // An e-prescription carries no validation data: hcpki fetches the signer's CRL from the distribution point
    // its certificate names, which this hierarchy's certificates point at a repository served here.
    let repository = HpkiRepository::start();
    let w = World::new(HpkiTestCas::with_repository(&repository.base_url()).unwrap());
    let now = w.now;
    let (from, _) = validity(&w.expired.signature.cert);
    let crl_url = w.cas.signature_crl_url();
    let revoked = [(&w.revoked_before, now - 60), (&w.revoked_after, now - 60)];
    repository.set_crl(&crl_url, Some(w.crl(now + 1, &revoked)));
    repository.set_crl(&w.cas.root_arl_url(), Some(w.cas.root_arl(&[], CrlValidity::fresh(24)).unwrap()));
    let b_t = w.xades(&w.card, now, Some(now));
    let text = String::from_utf8(b_t.clone()).unwrap();
    let ok = |stamped: bool| {
        let mut peers = vec![(Peer::Xmlsec, true)];
        if stamped {
            peers.push((Peer::XadesTimeStamp, true));
        }
        peers
    };
    let mut fixtures = vec![
        Fixture::new("b-b", w.xades(&w.card, now, None), ("PASSED", Some("B-B")), ok(false)),
        Fixture::new("b-t", b_t.clone(), ("PASSED", Some("B-T")), ok(true)),
        Fixture::new(
            "tampered-prescription",
            tamper_prescription(&text).into_bytes(),
            ("FAILED/HASH_FAILURE", None),
            vec![(Peer::Xmlsec, false), (Peer::XadesTimeStamp, true)],
        ),
        Fixture::new(
            "tampered-signed-properties",
            replace_text(&text, "xades:SigningTime", "2020-01-01T00:00:00Z").into_bytes(),
            ("FAILED/HASH_FAILURE", None),
            vec![(Peer::Xmlsec, false), (Peer::XadesTimeStamp, true)],
        ),
        Fixture::new(
            "revoked-before-time-stamp",
            w.xades(&w.revoked_before, now, Some(now)),
            ("FAILED/REVOKED", Some("B-T")),
            ok(true),
        ),
        Fixture::new(
            "revoked-after-time-stamp",
            w.xades(&w.revoked_after, now - 3600, Some(now - 3600)),
            ("PASSED", Some("B-T")),
            ok(true),
        ),
        Fixture::new(
            "expired-time-stamped-in-validity",
            w.xades(&w.expired, from + 3600, Some(from + 3600)),
            // The only CRL served was issued after the certificate expired and does not say it keeps expired
            // certificates: it proves nothing of them (D86).
            ("INDETERMINATE/TRY_LATER", Some("B-T")),
            vec![(Peer::Xmlsec, false), (Peer::XmlsecAt(from + 3600), true), (Peer::XadesTimeStamp, true)],
        ),
        Fixture::new(
            "authentication-certificate",
            w.xades_by_authentication_key(now),
            ("FAILED/CHAIN_CONSTRAINTS_FAILURE", Some("B-B")),
            vec![(Peer::Xmlsec, true)],
        ),
        Fixture::new(
            "unknown-root",
            w.xades(&w.stranger, now, Some(now)),
            ("INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND", Some("B-T")),
            vec![(Peer::Xmlsec, false), (Peer::XadesTimeStamp, true)],
        ),
        Fixture::new(
            "broken-time-stamp",
            break_xades_time_stamp(&text).into_bytes(),
            ("PASSED", Some("B-B")),
            vec![(Peer::Xmlsec, true), (Peer::XadesTimeStamp, false)],
        ),
    ];
    for (name, xml) in xml_signature_wrapping(&text) {
        fixtures.push(Fixture::new(
            name,
            xml.into_bytes(),
            ("FAILED/FORMAT_FAILURE", None),
            vec![(Peer::Xmlsec, true), (Peer::XadesTimeStamp, true)],
        ));
    }
    w.judge("xades", "xml", &fixtures);
    assert!(repository.gets(&crl_url) > 0, "hcpki never fetched the signature CA's CRL");

    // The CRL withdrawn (and no OCSP responder): nothing proves the signer's status.
    repository.set_crl(&crl_url, None);
    let withdrawn = Fixture::new("b-t-crl-withdrawn", b_t, ("INDETERMINATE/TRY_LATER", Some("B-T")), ok(true));
    w.judge("xades", "xml", &[withdrawn]);
}

#[test]
fn hcpki_pyhanko_and_pdfsig_agree_on_the_pades_fixture_set() {
    // Certificates naming an unreachable CRL distribution point: only the DSS can prove a status.
    let w = World::new(HpkiTestCas::new().unwrap());
    let now = w.now;
    let (from, _) = validity(&w.expired.signature.cert);
    let original = w.h.path("letter.pdf");
    crate::pades::peer(&["make-pdf", path(&original), "--pages", "2", "--title", "診療情報提供書"]);
    let pdf = std::fs::read(&original).unwrap();
    let crl = |at: i64, revoked: &[(&HpkiCredentials, i64)]| vec![w.crl(at, revoked)];
    let fresh = crl(now + 1, &[]);
    let sign = |card: &HpkiCredentials, at: i64, stamp: Option<i64>, crls: &[Vec<u8>], archive: Option<i64>| {
        w.pades(&pdf, card, at, stamp, crls, archive)
    };
    let b_lt = sign(&w.card, now, Some(now), &fresh, None);
    let revoked = [(&w.revoked_before, now - 60), (&w.revoked_after, now - 60)];
    let by_pyhanko = w.pyhanko_sign(&pdf, "Signature1", &w.card, None);
    let by_pyhanko_lt = w.pyhanko_validation(&by_pyhanko);
    let dangling_pdf = w.h.path("dangling.pdf");
    crate::pades::peer(&["make-pdf", path(&dangling_pdf), "--dangling", "40"]);
    let dangling = std::fs::read(&dangling_pdf).unwrap();
    let peers = |validate: bool, ades: bool, pdfsig: bool| {
        vec![(Peer::Pyhanko, validate), (Peer::PyhankoAdes, ades), (Peer::Pdfsig, pdfsig)]
    };

    let fixtures = vec![
        Fixture::new(
            "b-b",
            sign(&w.card, now, None, &crl(now - 60, &[]), None),
            ("PASSED", Some("B-B")),
            peers(true, true, true),
        ),
        Fixture::new(
            "b-t",
            sign(&w.card, now, Some(now), &[], None),
            ("INDETERMINATE/TRY_LATER", Some("B-T")),
            peers(true, false, true),
        ),
        Fixture::new("b-lt", b_lt.clone(), ("PASSED", Some("B-LT")), peers(true, true, true)),
        Fixture::new(
            "b-lta",
            sign(&w.card, now, Some(now), &fresh, Some(now + 2)),
            ("PASSED", Some("B-LTA")),
            peers(true, true, true),
        ),
        Fixture::new("tampered-content", tamper_page(&b_lt), ("FAILED/HASH_FAILURE", None), peers(false, false, false)),
        Fixture::new(
            "revision-after-signing",
            w.forge_revision(&b_lt),
            ("FAILED/HASH_FAILURE", None),
            peers(false, false, true),
        ),
        Fixture::new(
            "tampered-signed-attributes",
            tamper_message_digest(&b_lt),
            ("FAILED/SIG_CRYPTO_FAILURE", None),
            peers(false, false, false),
        ),
        Fixture::new(
            "revoked-before-time-stamp",
            sign(&w.revoked_before, now, Some(now), &crl(now + 1, &revoked), None),
            ("FAILED/REVOKED", Some("B-T")),
            peers(true, false, true),
        ),
        Fixture::new(
            "revoked-after-time-stamp",
            sign(&w.revoked_after, now - 3600, Some(now - 3600), &crl(now + 1, &revoked), None),
            ("PASSED", Some("B-LT")),
            peers(true, true, true),
        ),
        Fixture::new(
            "expired-time-stamped-in-validity",
            sign(&w.expired, from + 3600, Some(from + 3600), &crl(from + 7200, &[]), None),
            ("PASSED", Some("B-LT")),
            peers(false, true, true),
        ),
        Fixture::new(
            "authentication-certificate",
            w.pades_by_authentication_key(&original),
            ("FAILED/CHAIN_CONSTRAINTS_FAILURE", Some("B-B")),
            peers(false, false, true),
        ),
        Fixture::new(
            "unknown-root",
            sign(&w.stranger, now, Some(now), &fresh, None),
            ("INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND", Some("B-T")),
            peers(false, false, true),
        ),
        Fixture::new(
            "broken-time-stamp",
            break_pades_time_stamp(&sign(&w.card, now, Some(now), &crl(now - 60, &[]), None)),
            ("PASSED", Some("B-B")),
            peers(false, true, true),
        ),
        // Other signers' files (issue #42 item 4): pyHanko signs, extends and signs again; hcpki and pyHanko add to
        // each other's files.
        Fixture::new("pyhanko-b-lt", by_pyhanko_lt.clone(), ("PASSED", Some("B-LT")), peers(true, true, true)),
        Fixture::new(
            "pyhanko-b-lta",
            w.pyhanko(&["add-document-time-stamp"], &by_pyhanko_lt, &[]),
            ("PASSED", Some("B-LTA")),
            peers(true, true, true),
        ),
        Fixture::new(
            "two-physicians-by-pyhanko",
            w.pyhanko_validation(&w.pyhanko_sign(&by_pyhanko, "Signature2", &w.second, None)),
            ("PASSED", Some("B-LT")),
            peers(true, true, true),
        ),
        Fixture::new(
            "hcpki-then-pyhanko-visible",
            w.dss(
                &w.pyhanko_sign(
                    &sign(&w.card, now, Some(now), &[], None),
                    "Signature2",
                    &w.second,
                    Some("72,72,272,132"),
                ),
                &[&w.card, &w.second],
                &fresh,
                now + 1,
            ),
            ("PASSED", Some("B-LT")),
            peers(true, true, true),
        ),
        Fixture::new(
            "pyhanko-renewed-by-hcpki",
            w.renew(&by_pyhanko_lt, now + 2),
            ("PASSED", Some("B-LTA")),
            peers(true, true, true),
        ),
        // What a signed revision leaves open (issue #42 items 3 and 4): an object it refers to but does not define
        // (null when signed) defined by a later revision; an object appended after its %%EOF with no
        // cross-reference section.
        Fixture::new(
            "dangling-reference-defined-later",
            w.define_object(&w.pades(&dangling, &w.card, now, Some(now), &fresh, None), 40),
            ("FAILED/HASH_FAILURE", None),
            peers(false, false, true),
        ),
        Fixture::new(
            "object-appended-without-xref",
            w.append_object(&b_lt, 5),
            ("INDETERMINATE/SIG_CONSTRAINTS_FAILURE", Some("B-LT")),
            peers(true, true, true),
        ),
    ];
    w.judge("pades", "pdf", &fixtures);

    // The report names each revision and what it changed (the API answers the same JSON, signature_verify.rs).
    let json = |name: &str| -> serde_json::Value {
        let out = w.h.run(&["signature", "verify", path(&w.h.path(&format!("pades-{name}.pdf"))), "--json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let two = json("two-physicians-by-pyhanko");
    let revisions = two["revisions"].as_array().unwrap();
    let third = &revisions[2];
    assert_eq!(third["signatures"], serde_json::json!(["Signature2"]), "{two:#}");
    let changes = third["changes"].as_array().unwrap();
    assert!(changes.contains(&serde_json::json!({ "change": "signature", "field": "Signature2", "visible": false })));
    assert!(changes.contains(&serde_json::json!({ "change": "document-information" })), "{two:#}");
    assert_eq!(two["signatures"][1]["revision"], 3, "{two:#}");
    let appended = json("object-appended-without-xref");
    assert_eq!(appended["after_last_revision"]["kind"], "unaccounted", "{appended:#}");
    let out = w.h.run(&["signature", "verify", path(&w.h.path("pades-dangling-reference-defined-later.pdf"))]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("defines object 40 0 R, which the signed revision refers to but left undefined"), "{text}");
    assert!(text.contains("NOT ALLOWED after a signature"), "{text}");

    // A signed file over the largest a format takes is refused before it is read (exit 3: nothing judged), as is
    // a device that never ends; renewing one writes nothing.
    let big = w.h.path("big.pdf");
    std::fs::File::create(&big).unwrap().set_len(50_000_000).unwrap();
    for file in [big.as_path(), Path::new("/dev/zero")] {
        let out = w.h.run(&["signature", "verify", path(file)]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.code() == Some(3) && said.contains("over the limit of 20971520 bytes"),
            "{}",
            describe(&out)
        );
    }
    let out = w.h.run(&["signature", "renew", path(&big)]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("nothing was read"),
        "{}",
        describe(&out)
    );
}

/// A peer's way of judging a fixture file.
#[derive(Clone, Copy, Debug)]
enum Peer {
    /// `xmlsec1 --verify` with the HPKI test root trusted, at the current time.
    Xmlsec,
    /// The same at the given time (`--verification-gmt-time`).
    XmlsecAt(i64),
    /// `openssl ts -verify` of the first signature time stamp over the canonical ds:SignatureValue.
    XadesTimeStamp,
    /// `pyhanko sign validate --no-revocation-check`, the HPKI test root and the TSA trusted.
    Pyhanko,
    /// `pyhanko sign adesverify`: AdES validation with the revocation data of the DSS.
    PyhankoAdes,
    /// `pdfsig`: every signature "Signature is Valid.".
    Pdfsig,
}

/// One fixture: its name, the file, hcpki's expected verdict and level, each peer's expected acceptance.
struct Fixture {
    name: &'static str,
    bytes: Vec<u8>,
    hcpki: (&'static str, Option<&'static str>),
    peers: Vec<(Peer, bool)>,
}

impl Fixture {
    fn new(
        name: &'static str,
        bytes: Vec<u8>,
        hcpki: (&'static str, Option<&'static str>),
        peers: Vec<(Peer, bool)>,
    ) -> Self {
        Self { name, bytes, hcpki, peers }
    }
}

/// The hcpki directory with `[signing]` trusting the HPKI test root and the TSA, the cards, the TSA.
struct World {
    h: Hcpki,
    cas: HpkiTestCas,
    card: HpkiCredentials,
    /// A second physician (a second signature on the same letter).
    second: HpkiCredentials,
    revoked_before: HpkiCredentials,
    revoked_after: HpkiCredentials,
    expired: HpkiCredentials,
    /// A card of another HPKI hierarchy (an unknown root).
    stranger: HpkiCredentials,
    tsa: TimeStampAuthority,
    tsa_cert: Vec<u8>,
    tsa_pem: PathBuf,
    /// The TSA's RSA key (PKCS#8 PEM), for pyHanko's own token maker (DummyTimeStamper, RSA only).
    tsa_key_pem: PathBuf,
    /// Files handed to pyHanko so far (each call its own names).
    files: std::cell::Cell<u32>,
    root_pem: PathBuf,
    /// Two minutes back: the fixtures' CRLs are dated a second after their time stamp, and OpenSSL refuses a
    /// CRL whose thisUpdate is still ahead of its clock.
    now: i64,
}

impl World {
    fn new(cas: HpkiTestCas) -> Self {
        let h = Hcpki::initialized(Backend::Sqlite);
        let card = cas.issue(&HpkiSubject::default()).unwrap();
        let other = |id: &str| HpkiSubject { registration_id: id.to_owned(), ..HpkiSubject::default() };
        let revoked_before = cas.issue(&other("Test000002")).unwrap();
        let revoked_after = cas.issue(&other("Test000003")).unwrap();
        let expired = cas.issue_expired(&other("Test000004")).unwrap();
        let stranger = crate::test_pki::stranger().clone();
        let second = cas.issue(&other("Test000005")).unwrap();
        let (tsa, tsa_cert, tsa_pkcs8) = rsa_tsa("hcpki agreement test TSA");
        let tsa_pem = h.path("agreement-tsa.pem");
        write_pem(&tsa_pem, "CERTIFICATE", &tsa_cert);
        let tsa_key_pem = h.path("agreement-tsa.key");
        write_pem(&tsa_key_pem, "PRIVATE KEY", &tsa_pkcs8);
        let root_pem = h.path("hpki-root.pem");
        write_pem(&root_pem, "CERTIFICATE", &card.root);
        let config = std::fs::read_to_string(h.dir().join("hcpki.toml")).unwrap();
        std::fs::write(
            h.dir().join("hcpki.toml"),
            format!(
                "{config}\n[signing]\nanchors = [\"{}\"]\n\n[[signing.tsa]]\nurl = \"http://127.0.0.1:1/tsa\"\nroots = [\"{}\"]\n",
                path(&root_pem),
                path(&tsa_pem)
            ),
        )
        .unwrap();
        let now = hcpki_pkix::time::now_unix() - 120;
        Self {
            h,
            cas,
            card,
            second,
            revoked_before,
            revoked_after,
            expired,
            stranger,
            tsa,
            tsa_cert,
            tsa_pem,
            tsa_key_pem,
            files: std::cell::Cell::new(0),
            root_pem,
            now,
        }
    }

    /// The token the TSA grants at `at` over the SHA-256 `digest`, asked as hcpki's signers ask (certReq set).
    fn stamp(&self, digest: &[u8; 32], at: i64) -> Vec<u8> {
        let answer = self.tsa.answer(Query::sha256(digest, None).unwrap().der(), at);
        answer.outcome.unwrap();
        TimeStampResp::from_der(&answer.der).unwrap().time_stamp_token.unwrap().to_der().unwrap()
    }

    /// A signature CA CRL issued at `at`, valid a day, listing the signature certificates of `revoked`.
    fn crl(&self, at: i64, revoked: &[(&HpkiCredentials, i64)]) -> Vec<u8> {
        let entries: Vec<Revoked> = revoked
            .iter()
            .map(|(c, t)| Revoked { serial: serial(&c.signature.cert), at: odt(*t), reason: None })
            .collect();
        self.cas
            .signature_crl(&entries, CrlValidity { this_update: odt(at), next_update: odt(at + 86_400), number: 1 })
            .unwrap()
    }

    /// An e-prescription signed by `card`'s signature key at `at`, time-stamped at `stamp_at` (B-T) if given.
    fn xades(&self, card: &HpkiCredentials, at: i64, stamp_at: Option<i64>) -> Vec<u8> {
        let csv = crate::xades::CSV.as_bytes();
        let prepared = xades::prepare(csv, &[card.signature.cert.as_slice(), &card.signature_ca], at).unwrap();
        let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
        let b_b = xades::assemble(prepared, &value).unwrap();
        match stamp_at {
            Some(t) => {
                let token = self.stamp(&xades::signature_time_stamp_digest(&b_b).unwrap(), t);
                xades::with_signature_time_stamp(&b_b, &token).unwrap()
            }
            None => b_b,
        }
    }

    /// The B-B e-prescription a careless signer makes with the card's **authentication** key: `xades::prepare`
    /// refuses that certificate, so the signature certificate's envelope is rewritten for it (KeyInfo,
    /// SigningCertificateV2), every Reference digest recomputed with hcpki's exc-c14n and the canonical
    /// SignedInfo signed again.
    fn xades_by_authentication_key(&self, at: i64) -> Vec<u8> {
        let (signature, authentication) = (&self.card.signature, &self.card.authentication);
        let mut text = String::from_utf8(self.xades(&self.card, at, None)).unwrap();
        for (from, to) in [
            (STANDARD.encode(&signature.cert), STANDARD.encode(&authentication.cert)),
            (STANDARD.encode(&self.card.signature_ca), STANDARD.encode(&self.card.authentication_ca)),
            (sha256_b64(&signature.cert), sha256_b64(&authentication.cert)),
            (STANDARD.encode(issuer_serial(&signature.cert)), STANDARD.encode(issuer_serial(&authentication.cert))),
        ] {
            assert!(text.contains(&from), "the envelope does not carry {from}");
            text = text.replace(&from, &to);
        }
        // The References in order (data, SignedProperties, KeyInfo): each digest over the element as it is now.
        let digests: Vec<(String, String)> = {
            let document = xades::xml::parse(&text).unwrap();
            let references = document.descendants().filter(|n| n.tag_name().name() == "Reference");
            references
                .map(|reference| {
                    let id = reference.attribute("URI").unwrap().trim_start_matches('#');
                    let target = document
                        .descendants()
                        .find(|n| n.attribute("Id") == Some(id) || n.attribute("id") == Some(id))
                        .unwrap();
                    let value = reference.descendants().find(|n| n.tag_name().name() == "DigestValue").unwrap();
                    let digest = HashAlgorithm::Sha256.digest(&xades::c14n::exclusive(target));
                    (value.text().unwrap().to_owned(), STANDARD.encode(digest))
                })
                .collect()
        };
        for (old, new) in digests {
            text = text.replacen(&old, &new, 1);
        }
        let signed_info = {
            let document = xades::xml::parse(&text).unwrap();
            let node = document.descendants().find(|n| n.tag_name().name() == "SignedInfo").unwrap();
            xades::c14n::exclusive(node)
        };
        let value = authentication.key.sign_sha256(&signed_info).unwrap();
        replace_text(&text, "ds:SignatureValue", &STANDARD.encode(value)).into_bytes()
    }

    /// `pdf` signed by `card`'s signature key at `at`, time-stamped at `stamp_at`, its DSS holding the chains and
    /// `crls` with the root's ARL (when `crls` is not empty), a document time stamp at `archive_at` if given.
    fn pades(
        &self,
        pdf: &[u8],
        card: &HpkiCredentials,
        at: i64,
        stamp_at: Option<i64>,
        crls: &[Vec<u8>],
        archive_at: Option<i64>,
    ) -> Vec<u8> {
        let prepared = pades::prepare(pdf, &[card.signature.cert.as_slice(), &card.signature_ca], at).unwrap();
        let value = card.signature.key.sign_sha256(prepared.to_be_signed()).unwrap();
        let mut signed = pades::assemble(prepared, &value).unwrap();
        if let Some(t) = stamp_at {
            let token = self.stamp(&pades::signature_time_stamp_digest(&signed).unwrap(), t);
            signed = pades::with_signature_time_stamp(&signed, &token).unwrap();
        }
        if !crls.is_empty() {
            // Issued right after the signature time stamp, as a signer gathering B-LT data would find it.
            signed = self.dss(&signed, &[card], crls, stamp_at.unwrap_or(at) + 1);
        }
        if let Some(t) = archive_at {
            let prepared = pades::prepare_document_time_stamp(&signed).unwrap();
            let token = self.stamp(&prepared.digest(), t);
            signed = pades::assemble_document_time_stamp(prepared, &token).unwrap();
        }
        signed
    }

    /// `pdf` with hcpki's B-LT revision: the chains of `cards` and the TSA, `crls` and the root's ARL issued at
    /// `issued` (valid a year, as root ARLs are: the CAs change seldom).
    fn dss(&self, pdf: &[u8], cards: &[&HpkiCredentials], crls: &[Vec<u8>], issued: i64) -> Vec<u8> {
        let validity = CrlValidity { this_update: odt(issued), next_update: odt(issued + 365 * 86_400), number: 1 };
        let mut certificates = vec![cards[0].signature_ca.clone(), cards[0].root.clone(), self.tsa_cert.clone()];
        certificates.extend(cards.iter().map(|c| c.signature.cert.clone()));
        let data = pades::ValidationData {
            certificates,
            crls: crls.iter().cloned().chain([self.cas.root_arl(&[], validity).unwrap()]).collect(),
            ocsps: Vec::new(),
        };
        pades::add_validation_data(pdf, &data).unwrap()
    }

    /// `tests/peers/pades_peer.py COMMAND IN OUT ARGS…` on `pdf` (with the TSA's key and certificate for the
    /// commands that time-stamp): what pyHanko writes.
    fn pyhanko(&self, command: &[&str], pdf: &[u8], args: &[&str]) -> Vec<u8> {
        let count = self.files.get() + 1;
        self.files.set(count);
        let (input, output) =
            (self.h.path(&format!("pyhanko-{count}-in.pdf")), self.h.path(&format!("pyhanko-{count}-out.pdf")));
        std::fs::write(&input, pdf).unwrap();
        let mut all: Vec<&str> = command.to_vec();
        all.extend([path(&input), path(&output)]);
        all.extend_from_slice(args);
        if command.iter().any(|c| *c == "sign" || *c == "add-document-time-stamp") {
            all.extend(["--tsa-key", path(&self.tsa_key_pem), "--tsa-cert", path(&self.tsa_pem)]);
        }
        crate::pades::peer(&all);
        std::fs::read(&output).unwrap()
    }

    /// `pdf` signed by pyHanko (PAdES, B-T by pyHanko's TSA) in a new field `field` with `card`'s signature key,
    /// visible in the rectangle `visible` of the first page if given.
    fn pyhanko_sign(&self, pdf: &[u8], field: &str, card: &HpkiCredentials, visible: Option<&str>) -> Vec<u8> {
        let (key, cert, ca) = (
            self.h.path(&format!("{field}-{}.key", card.signature.cert.len())),
            self.h.path(&format!("{field}-{}.pem", card.signature.cert.len())),
            self.h.path("signature-ca.pem"),
        );
        write_pem(&key, "PRIVATE KEY", card.signature.key.pkcs8_der());
        write_pem(&cert, "CERTIFICATE", &card.signature.cert);
        write_pem(&ca, "CERTIFICATE", &card.signature_ca);
        let mut args = vec!["--field", field, "--key", path(&key), "--cert", path(&cert), "--chain", path(&ca)];
        if let Some(rect) = visible {
            args.extend(["--visible", rect]);
        }
        self.pyhanko(&["sign"], pdf, &args)
    }

    /// pyHanko's B-LT for every signature of `pdf`: the signature CA and the root, the signature CA's CRL and the
    /// root's ARL (issued a second after now), nothing fetched.
    fn pyhanko_validation(&self, pdf: &[u8]) -> Vec<u8> {
        let (ca, crl, arl) =
            (self.h.path("signature-ca.pem"), self.h.path("signature-ca.crl"), self.h.path("root.arl"));
        write_pem(&ca, "CERTIFICATE", &self.card.signature_ca);
        std::fs::write(&crl, self.crl(self.now + 1, &[])).unwrap();
        let validity =
            CrlValidity { this_update: odt(self.now + 1), next_update: odt(self.now + 365 * 86_400), number: 1 };
        std::fs::write(&arl, self.cas.root_arl(&[], validity).unwrap()).unwrap();
        let args = ["--trust", path(&self.root_pem), "--trust", path(&self.tsa_pem), "--cert", path(&ca)];
        let args: Vec<&str> = args.into_iter().chain(["--crl", path(&crl), "--crl", path(&arl)]).collect();
        self.pyhanko(&["add-validation"], pdf, &args)
    }

    /// hcpki's renewal of `pdf` (`pades::renew`, as `hcpki signature renew` does it): the TSA certificate into
    /// the DSS, then a document time stamp granted at `at`.
    fn renew(&self, pdf: &[u8], at: i64) -> Vec<u8> {
        let data = pades::ValidationData { certificates: vec![self.tsa_cert.clone()], ..Default::default() };
        let prepared = pades::renew(pdf, &data).unwrap();
        let token = self.stamp(&prepared.digest(), at);
        pades::assemble_document_time_stamp(prepared, &token).unwrap()
    }

    /// `pdf` with a revision defining object `number` (a content stream), written by hand.
    fn define_object(&self, pdf: &[u8], number: u32) -> Vec<u8> {
        self.by_hand("define-object", pdf, number)
    }

    /// `pdf` with object `number` (a content stream) appended after its %%EOF, no cross-reference section.
    fn append_object(&self, pdf: &[u8], number: u32) -> Vec<u8> {
        self.by_hand("append-object", pdf, number)
    }

    fn by_hand(&self, command: &str, pdf: &[u8], number: u32) -> Vec<u8> {
        let (input, output) = (self.h.path(&format!("{command}-in.pdf")), self.h.path(&format!("{command}.pdf")));
        std::fs::write(&input, pdf).unwrap();
        crate::pades::peer(&[command, path(&input), path(&output), &number.to_string()]);
        std::fs::read(&output).unwrap()
    }

    /// The PDF a careless signer makes with the card's **authentication** key (`pades::prepare` refuses that
    /// certificate): `pyhanko sign addsig --use-pades` with the key and certificate as files.
    fn pades_by_authentication_key(&self, original: &Path) -> Vec<u8> {
        let (key, cert, ca, out) = (
            self.h.path("authentication.key"),
            self.h.path("authentication.pem"),
            self.h.path("authentication-ca.pem"),
            self.h.path("signed-by-authentication-key.pdf"),
        );
        write_pem(&key, "PRIVATE KEY", self.card.authentication.key.pkcs8_der());
        write_pem(&cert, "CERTIFICATE", &self.card.authentication.cert);
        write_pem(&ca, "CERTIFICATE", &self.card.authentication_ca);
        crate::fixtures::run_ok(
            Command::new(crate::oidc::tools().join("bin/pyhanko"))
                .args(["sign", "addsig", "--field", "Signature1", "--use-pades", "pemder", "--no-pass"])
                .args(["--key", path(&key), "--cert", path(&cert), "--chain", path(&ca)])
                .args([path(original), path(&out)]),
        );
        std::fs::read(&out).unwrap()
    }

    /// `pdf` with a revision a PDF editor appends after signing, rewriting the first page.
    fn forge_revision(&self, pdf: &[u8]) -> Vec<u8> {
        let (signed, forged) = (self.h.path("to-forge.pdf"), self.h.path("forged.pdf"));
        std::fs::write(&signed, pdf).unwrap();
        crate::pades::peer(&["forge-revision", path(&signed), path(&forged)]);
        std::fs::read(&forged).unwrap()
    }

    /// Runs hcpki and every peer on every fixture; prints the table; fails with every answer that is not the
    /// pinned one.
    fn judge(&self, format: &str, extension: &str, fixtures: &[Fixture]) {
        let mut table = Vec::new();
        let mut wrong = Vec::new();
        for f in fixtures {
            let file = self.h.path(&format!("{format}-{}.{extension}", f.name));
            std::fs::write(&file, &f.bytes).unwrap();
            let out = self.h.run(&["signature", "verify", path(&file), "--json"]);
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            let verdict = json["verdict"].as_str().unwrap_or("(no JSON answer)");
            let level = json["level"].as_str();
            let code = match verdict {
                "PASSED" => 0,
                v if v.starts_with("FAILED") => 1,
                _ => 2,
            };
            if (verdict, level) != f.hcpki || json["format"] != format || out.status.code() != Some(code) {
                wrong.push(format!(
                    "{}: hcpki said {verdict} {level:?} (format {}, exit {:?}), pinned {:?}\n{}",
                    f.name,
                    json["format"],
                    out.status.code(),
                    f.hcpki,
                    describe(&out)
                ));
            }
            let mut row = format!("{:<34} hcpki {:<42} {:<6}", f.name, verdict, level.unwrap_or("-"));
            for (peer, expected) in &f.peers {
                let out = self.run_peer(*peer, &file, &f.bytes, f.name);
                if !answered(*peer, &out) {
                    wrong.push(format!("{}: {peer:?} gave no answer (a broken run)\n{}", f.name, describe(&out)));
                }
                let accepted = accepts(*peer, &out);
                row += &format!(" {peer:?} {}{}", if accepted { "OK" } else { "refused" }, status(*peer, &out));
                if accepted != *expected {
                    wrong.push(format!(
                        "{}: {peer:?} {}, pinned {}\n{}",
                        f.name,
                        if accepted { "accepted" } else { "refused" },
                        if *expected { "accepted" } else { "refused" },
                        describe(&out)
                    ));
                }
            }
            table.push(row);
        }
        eprintln!("{}", table.join("\n"));
        assert!(wrong.is_empty(), "{} answers differ from the pins:\n\n{}", wrong.len(), wrong.join("\n\n"));
    }

    fn run_peer(&self, peer: Peer, file: &Path, bytes: &[u8], name: &str) -> Output {
        let xmlsec = || {
            let mut command = Command::new("xmlsec1");
            command.args(["--verify", "--id-attr:id", "PrescriptionDocument", "--enabled-reference-uris", "same-doc"]);
            command.args(["--trusted-pem", path(&self.root_pem)]);
            command
        };
        let trust = ["--trust", path(&self.root_pem), "--trust", path(&self.tsa_pem), "--trust-replace"];
        let pyhanko = |command: &str, more: &[&str]| {
            crate::peers::pyhanko(&[&["sign", command][..], &trust, more, &[path(file)]].concat())
        };
        let output = |command: &mut Command| command.output().unwrap();
        match peer {
            Peer::Xmlsec => output(xmlsec().arg(file)),
            Peer::XmlsecAt(at) => {
                let at = time::OffsetDateTime::from_unix_timestamp(at).unwrap();
                let at = format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    at.year(),
                    u8::from(at.month()),
                    at.day(),
                    at.hour(),
                    at.minute(),
                    at.second()
                );
                output(xmlsec().args(["--verification-gmt-time", &at]).arg(file))
            }
            Peer::XadesTimeStamp => {
                let canonical = self.h.path(&format!("xades-{name}.signature-value.c14n"));
                // Found by name, not by hcpki's reader (which refuses the wrapping variants' shape).
                let document = xades::xml::parse_bytes(bytes).unwrap();
                let value = document.descendants().find(|n| n.tag_name().name() == "SignatureValue").unwrap();
                std::fs::write(&canonical, xades::c14n::exclusive(value)).unwrap();
                let token = self.h.path(&format!("xades-{name}.tst"));
                let text = String::from_utf8_lossy(bytes);
                std::fs::write(&token, STANDARD.decode(element_text(&text, "xades:EncapsulatedTimeStamp")).unwrap())
                    .unwrap();
                output(
                    Command::new("openssl")
                        .args(["ts", "-verify", "-token_in", "-in", path(&token), "-data", path(&canonical)])
                        .args(["-CAfile", path(&self.tsa_pem)]),
                )
            }
            Peer::Pyhanko => pyhanko("validate", &["--no-revocation-check"]),
            Peer::PyhankoAdes => pyhanko("adesverify", &[]),
            Peer::Pdfsig => output(Command::new("pdfsig").arg(file)),
        }
    }
}

/// A TSA with an RSA key (pyHanko's DummyTimeStamper signs only with RSA), self-signed, critical EKU
/// timeStamping: the authority, its certificate and its key (PKCS#8 DER).
fn rsa_tsa(cn: &str) -> (TimeStampAuthority, Vec<u8>, Vec<u8>) {
    use hcpki_docsig::timestamp::{Accuracy, TsaSettings};
    use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::Rsa2048).unwrap();
    let cert = hcpki_vcard::testpki::tsa_certificate(&pkcs8, cn).unwrap();
    let settings = TsaSettings {
        policy: "1.3.6.1.4.1.99999.3161.1".parse().unwrap(),
        accuracy: Accuracy { seconds: Some(1), millis: None, micros: None },
    };
    (TimeStampAuthority::new(&cert, std::sync::Arc::new(key), settings).unwrap(), cert, pkcs8.to_vec())
}

/// Whether `peer` ran its check to the end and said something (either way): a run that stopped before (a missing
/// tool, a bad argument, a crash) must fail the test, not count as a refusal.
fn answered(peer: Peer, out: &Output) -> bool {
    let stdout = String::from_utf8_lossy(&out.stdout);
    match peer {
        Peer::Xmlsec | Peer::XmlsecAt(_) => {
            String::from_utf8_lossy(&out.stderr).contains("SignedInfo References (ok/all)")
        }
        Peer::XadesTimeStamp => stdout.contains("Verification: "),
        // A file pyHanko cannot read in strict mode (a reference to an object it lacks) is its refusal.
        Peer::Pyhanko | Peer::PyhankoAdes => {
            stdout.lines().any(|l| l.starts_with("Signature1:"))
                || String::from_utf8_lossy(&out.stderr).contains("Failed to read PDF file in strict mode")
        }
        Peer::Pdfsig => stdout.contains("Signature #1:"),
    }
}

/// Whether `out` is `peer`'s acceptance.
fn accepts(peer: Peer, out: &Output) -> bool {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match peer {
        Peer::Xmlsec | Peer::XmlsecAt(_) => out.status.success() && stderr.contains("OK"),
        Peer::XadesTimeStamp => out.status.success() && stdout.contains("Verification: OK"),
        Peer::Pyhanko | Peer::PyhankoAdes => out.status.success(),
        // pdfsig cannot check document time stamps ("Signature Type: unknown", "not yet been verified"): every
        // CAdES signature must be valid, and there must be one.
        Peer::Pdfsig => {
            let signatures: Vec<&str> =
                stdout.split("Signature #").filter(|s| s.contains("Signature Type: ETSI.CAdES.detached")).collect();
            !signatures.is_empty() && signatures.iter().all(|s| s.contains("Signature Validation: Signature is Valid."))
        }
    }
}

/// pyHanko's status of the first signature (e.g. ` INTACT:REVOKED`), for the table.
fn status(peer: Peer, out: &Output) -> String {
    if !matches!(peer, Peer::Pyhanko | Peer::PyhankoAdes) {
        return String::new();
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("Signature1:")).unwrap_or_default();
    let flags = line.splitn(3, ':').nth(2).unwrap_or_default();
    format!(" ({})", flags.split(',').next().unwrap_or_default())
}

/// The text of the first `<tag …>` element of `xml` (hcpki writes the e-prescription on one line).
fn element_text<'a>(xml: &'a str, tag: &str) -> &'a str {
    let start =
        [format!("<{tag}>"), format!("<{tag} ")].iter().filter_map(|open| xml.find(open.as_str())).min().unwrap();
    let rest = &xml[start..];
    let text = &rest[rest.find('>').unwrap() + 1..];
    &text[..text.find('<').unwrap()]
}

/// `xml` with the text of the first `<tag …>` replaced by `text`.
fn replace_text(xml: &str, tag: &str, text: &str) -> String {
    let old = element_text(xml, tag);
    let start = old.as_ptr() as usize - xml.as_ptr() as usize;
    format!("{}{text}{}", &xml[..start], &xml[start + old.len()..])
}

/// The prescription's data (Base64 of the CSV) with another drug in it.
fn tamper_prescription(xml: &str) -> String {
    let evil = STANDARD.encode(crate::xades::CSV.replace("ロキソプロフェン", "オキシコドン"));
    let open = "<PrescriptionDocument id=\"PrescriptionDocument\">";
    let data = xml.split(open).nth(1).unwrap().split('<').next().unwrap();
    xml.replacen(&format!("{open}{data}<"), &format!("{open}{evil}<"), 1)
}

/// Three XML signature wrapping variants of `xml`, each carrying the signed data (with its Id) somewhere the
/// Reference still finds it, and another prescription where the document's reader takes it from.
fn xml_signature_wrapping(xml: &str) -> [(&'static str, String); 3] {
    let open = "<PrescriptionDocument id=\"PrescriptionDocument\">";
    let data = xml.split(open).nth(1).unwrap().split('<').next().unwrap();
    let original = format!("{open}{data}</PrescriptionDocument>");
    let evil = STANDARD.encode(crate::xades::CSV.replace("ロキソプロフェン", "オキシコドン"));
    let evil_in_place = format!("<PrescriptionDocument id=\"Evil\">{evil}</PrescriptionDocument>");
    // The signed data moved into PrescriptionManagement, the evil one in its place.
    let moved = xml.replacen(&original, &evil_in_place, 1).replacen(
        "<Version Value=\"EPS1.0\"/>",
        &format!("<Version Value=\"EPS1.0\"/>{original}"),
        1,
    );
    // A second element with the data's Id after the signature, holding the evil data.
    let duplicated = xml.replacen(
        "</PrescriptionSign>",
        &format!("</PrescriptionSign><x id=\"PrescriptionDocument\">{evil}</x>"),
        1,
    );
    // The signed data wrapped in a ds:Object of the signature itself, the evil one in its place.
    let wrapped = xml.replacen(&original, &evil_in_place, 1).replacen(
        "</ds:Signature>",
        &format!("<ds:Object>{original}</ds:Object></ds:Signature>"),
        1,
    );
    [("xsw-moved", moved), ("xsw-duplicated-id", duplicated), ("xsw-wrapped-in-object", wrapped)]
}

/// `xml` with the last octet of its signature time stamp token flipped (the TSA's signature broken).
fn break_xades_time_stamp(xml: &str) -> String {
    let encoded = element_text(xml, "xades:EncapsulatedTimeStamp");
    let mut token = STANDARD.decode(encoded).unwrap();
    *token.last_mut().unwrap() ^= 0x01;
    xml.replacen(encoded, &STANDARD.encode(token), 1)
}

/// A character of the first page's text changed after signing.
fn tamper_page(pdf: &[u8]) -> Vec<u8> {
    let mut bytes = pdf.to_vec();
    let page = bytes.windows(9).position(|w| w == b"page 1) T").unwrap();
    bytes[page + 5] = b'9';
    bytes
}

/// The /Contents hexadecimal string of the first signature (between `<` and `>`: what its /ByteRange leaves
/// out) and the CMS it holds.
fn first_contents(pdf: &[u8]) -> (std::ops::Range<usize>, Vec<u8>) {
    let start = pdf.windows(11).position(|w| w == b"/ByteRange ").unwrap();
    let numbers: Vec<usize> = std::str::from_utf8(&pdf[start..start + 80])
        .unwrap_or_else(|e| std::str::from_utf8(&pdf[start..start + e.valid_up_to()]).unwrap())
        .split(['[', ']'])
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let hex_range = numbers[1] + 1..numbers[2] - 1;
    let contents = hex::decode(&pdf[hex_range.clone()]).unwrap();
    assert_eq!(&contents[..2], &[0x30, 0x82], "a CMS of 256 bytes to 64 KiB");
    let length = 4 + usize::from(u16::from_be_bytes([contents[2], contents[3]]));
    (hex_range, contents[..length].to_vec())
}

/// `pdf` with the CMS of its first signature at `offset` XORed with `mask`, written back as hexadecimal digits
/// in place: the file's structure (offsets, /ByteRange) stays exactly as it was.
fn patch_cms(pdf: &[u8], offset: usize, mask: u8) -> Vec<u8> {
    let (range, cms) = first_contents(pdf);
    let mut bytes = pdf.to_vec();
    let at = range.start + 2 * offset;
    let upper = bytes[at..at + 2].iter().any(u8::is_ascii_uppercase);
    let digits = format!("{:02x}", cms[offset] ^ mask);
    let digits = if upper { digits.to_ascii_uppercase() } else { digits };
    bytes[at..at + 2].copy_from_slice(digits.as_bytes());
    bytes
}

/// A byte of the messageDigest signed attribute changed (still a well-formed CMS, no longer what was signed).
fn tamper_message_digest(pdf: &[u8]) -> Vec<u8> {
    // id-messageDigest (1.2.840.113549.1.9.4), then SET { OCTET STRING (32) }.
    const OID: [u8; 11] = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
    let (_, cms) = first_contents(pdf);
    let at = cms.windows(OID.len()).position(|w| w == OID).unwrap() + OID.len();
    assert_eq!(&cms[at..at + 4], &[0x31, 0x22, 0x04, 0x20], "messageDigest: SET {{ OCTET STRING (32) }}");
    patch_cms(pdf, at + 4, 0x01)
}

/// `pdf` with the last octet of its first signature's CMS flipped: the last octet of the signature time stamp
/// token (the last unsigned attribute), i.e. the TSA's signature broken.
fn break_pades_time_stamp(pdf: &[u8]) -> Vec<u8> {
    let (_, cms) = first_contents(pdf);
    patch_cms(pdf, cms.len() - 1, 0x01)
}

/// The DER of RFC 5035's IssuerSerial of `cert`: SEQUENCE { GeneralNames { [4] issuer }, serialNumber }.
fn issuer_serial(cert: &[u8]) -> Vec<u8> {
    let cert = x509_cert::Certificate::from_der(cert).unwrap();
    let tbs = cert.tbs_certificate();
    let names = tlv(0x30, &tlv(0xa4, &tbs.issuer().to_der().unwrap()));
    tlv(0x30, &[names, tbs.serial_number().to_der().unwrap()].concat())
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let length = content.len();
    let mut out = vec![tag];
    match length {
        0..=0x7f => out.push(length as u8),
        0x80..=0xff => out.extend([0x81, length as u8]),
        _ => out.extend([0x82, (length >> 8) as u8, length as u8]),
    }
    out.extend_from_slice(content);
    out
}

fn sha256_b64(bytes: &[u8]) -> String {
    STANDARD.encode(HashAlgorithm::Sha256.digest(bytes))
}

fn odt(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap()
}
