//! Card login, server side (`hcpki login challenge|verify`, the core the portal's handlers call): HPKI and
//! JPKI cards from the virtual-card test PKI, signed by OpenSSL with the card's key exactly as the agent has the
//! card sign (`dgst -sha256 -sign` = PKCS#1 v1.5 over the login message), CRLs served over HTTP by the test and
//! prefetched by the cache. Each refusal has its reason code and a `login.card` denied audit entry. Verdicts are
//! cross-checked with OpenSSL (`verify -crl_check`, `dgst -verify`).

use crate::harness::{Backend, Hcpki, describe};
use hcpki_vcard::testpki::{CrlValidity, HpkiCredentials, HpkiSubject, HpkiTestCas, JpkiSubject, JpkiTestCas, Revoked};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};
use x509_cert::der::Decode;

on_both_backends!(
    hpki_card_with_role_logs_in_as_its_role,
    an_ec_hpki_card_logs_in_with_sha384_and_its_crl_checked,
    hpki_cards_without_or_with_unknown_role_have_none,
    configured_role_texts_map_and_are_audited_as_configured,
    configured_role_text_reaches_the_id_token,
    card_without_role_logs_in_and_is_refused_qualified_services_audited,
    jpki_card_gives_identity_only,
    forged_or_misdirected_signatures_are_refused,
    challenges_are_single_use_session_and_origin_bound_and_expire,
    untrusted_expired_and_signature_certificates_are_refused,
    revoked_card_is_refused_from_the_cached_crl,
    cards_of_a_revoked_hpki_ca_are_refused,
    missing_crl_fails_closed_or_open_as_configured,
    malformed_posts_are_refused,
);

const ORIGIN: &str = "https://portal.test";
const BINDING: &str = "pre-login-cookie-hash";

/// CRLs served over plain HTTP from memory, as an HPKI repository would; a path not set is 404.
#[derive(Clone)]
pub(crate) struct CrlServer {
    port: u16,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl CrlServer {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let served = files.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let body = served.lock().unwrap().get(&path).cloned();
                let _ = match body {
                    Some(b) => stream
                        .write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                b.len()
                            )
                            .as_bytes(),
                        )
                        .and_then(|_| stream.write_all(&b)),
                    None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                };
            }
        });
        Self { port, files }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn put(&self, path: &str, der: Vec<u8>) {
        self.files.lock().unwrap().insert(path.to_owned(), der);
    }
}

/// An hcpki directory with `[login]` configured for one HPKI PKI (root anchor, authentication CA as
/// intermediate) and one JPKI PKI, CRLs at the test's HTTP server.
struct Portal {
    h: Hcpki,
    crls: CrlServer,
    hpki: &'static HpkiTestCas,
    jpki: &'static JpkiTestCas,
}

/// The HPKI and JPKI test CAs (`test_pki`) and the anchors taken from them, made once per test process.
struct TestCas {
    hpki: &'static HpkiTestCas,
    jpki: &'static JpkiTestCas,
    /// (directory, file name, certificate DER) of each anchor a portal is configured with.
    anchors: [(&'static str, &'static str, Vec<u8>); 3],
}

/// Every test has its own hcpki directory, anchors and CRL server, and issues its own cards: sharing the CAs
/// (nothing a test does changes them) leaves what each test sees as it was, and saves the nine RSA keys each
/// test made before (five CA keys, four of the sample cards the anchors were read from; issue #43 item 7).
fn test_cas() -> &'static TestCas {
    static CAS: OnceLock<TestCas> = OnceLock::new();
    CAS.get_or_init(|| {
        let (hpki, jpki) = (crate::test_pki::hpki(), crate::test_pki::jpki());
        // The anchors come from one issued card per PKI (the CA certificates are the same for every card).
        let sample = hpki.issue(&HpkiSubject::default()).unwrap();
        let jsample = jpki.issue(&JpkiSubject::default()).unwrap();
        let anchors = [
            ("anchors/hpki", "root.pem", sample.root),
            ("anchors/intermediates", "auth-ca.pem", sample.authentication_ca),
            ("anchors/jpki", "auth-root.pem", jsample.auth_root),
        ];
        TestCas { hpki, jpki, anchors }
    })
}

/// A card as the agent would present it: its authentication key file and the chain it sends.
struct Card {
    key: PathBuf,
    chain: Vec<PathBuf>,
}

impl Portal {
    fn new(b: Backend, revocation: &str, crl_urls: Option<Vec<String>>) -> Self {
        let h = Hcpki::new(b);
        let crls = CrlServer::start();
        let TestCas { hpki, jpki, anchors } = test_cas();
        for (dir, name, der) in anchors {
            std::fs::create_dir_all(h.dir().join(dir)).unwrap();
            write_pem(&h.dir().join(dir).join(name), "CERTIFICATE", der);
        }
        crls.put("/hpki/auth.crl", hpki.authentication_crl(&[], CrlValidity::fresh(24)).unwrap());
        crls.put("/hpki/arl.crl", hpki.root_arl(&[], CrlValidity::fresh(24)).unwrap());
        crls.put("/jpki/auth.crl", jpki.auth_crl(&[], CrlValidity::fresh(24)).unwrap());
        let urls = crl_urls
            .unwrap_or_else(|| vec![crls.url("/hpki/auth.crl"), crls.url("/hpki/arl.crl"), crls.url("/jpki/auth.crl")]);
        let config = format!(
            "version = 1\ndatabase_url = \"sqlite:hcpki.db\"\n\n[login]\norigin = \"{ORIGIN}\"\n\
             hpki_anchors = [\"anchors/hpki\"]\njpki_anchors = [\"anchors/jpki\"]\n\
             intermediates = [\"anchors/intermediates\"]\ncrl_urls = {urls:?}\nrevocation = \"{revocation}\"\n"
        );
        std::fs::write(h.dir().join("hcpki.toml"), config).unwrap();
        Self { h, crls, hpki, jpki }
    }

    /// Writes an HPKI card's authentication key and chain (card certificate, authentication CA) to files.
    fn hpki_card(&self, name: &str, credentials: &HpkiCredentials) -> Card {
        let key = self.h.path(&format!("{name}.key"));
        write_pem(&key, "PRIVATE KEY", credentials.authentication.key.pkcs8_der());
        Card {
            key,
            chain: vec![
                self.der_file(&format!("{name}.der"), &credentials.authentication.cert),
                self.der_file(&format!("{name}-ca.der"), &credentials.authentication_ca),
            ],
        }
    }

    fn der_file(&self, name: &str, der: &[u8]) -> PathBuf {
        let path = self.h.path(name);
        std::fs::write(&path, der).unwrap();
        path
    }

    /// `hcpki login challenge` (at `at`, if given): the challenge string.
    fn challenge(&self, at: Option<i64>) -> String {
        let mut args = vec!["login", "challenge", "--binding", BINDING];
        let at = at.map(|t| t.to_string());
        if let Some(t) = &at {
            args.extend(["--at", t]);
        }
        let out: serde_json::Value = serde_json::from_str(&self.h.ok(&args)).unwrap();
        out["challenge"].as_str().unwrap().to_owned()
    }

    /// The card signs the login message for `origin` and `challenge` (see [`card_signs`]).
    fn sign(&self, key: &Path, origin: &str, challenge: &str) -> (PathBuf, PathBuf) {
        card_signs(&self.h, key, origin, challenge)
    }

    /// `hcpki login verify` with extra arguments.
    fn verify(&self, challenge: &str, signature: &Path, chain: &[PathBuf], extra: &[&str]) -> Output {
        // `--challenge=` form: base64url may start with '-', which would read as an option.
        let challenge = format!("--challenge={challenge}");
        let mut args = vec!["login", "verify", &challenge, "--signature", signature.to_str().unwrap()];
        for c in chain {
            args.extend(["--chain", c.to_str().unwrap()]);
        }
        if !extra.contains(&"--binding") {
            args.extend(["--binding", BINDING]);
        }
        args.extend(extra);
        self.h.run(&args)
    }

    /// A whole login of `card` now: challenge, signature, verify.
    fn login(&self, card: &Card) -> Output {
        let challenge = self.challenge(None);
        let (_, signature) = self.sign(&card.key, ORIGIN, &challenge);
        self.verify(&challenge, &signature, &card.chain, &[])
    }

    /// The `login.card` audit entries as (outcome, reason code or "").
    fn audited(&self) -> Vec<(String, String)> {
        self.audit_entries()
            .into_iter()
            .map(|(outcome, detail)| (outcome, detail["reason"].as_str().unwrap_or_default().to_owned()))
            .collect()
    }

    /// The `login.card` audit entries as (outcome, detail).
    fn audit_entries(&self) -> Vec<(String, serde_json::Value)> {
        self.h
            .audit_entries()
            .into_iter()
            .filter(|e| e["action"] == "login.card")
            .map(|mut e| (e["outcome"].as_str().unwrap().to_owned(), e["detail"].take()))
            .collect()
    }

    /// The `crl_urls` setting of the HPKI CRLs this test serves (for a portal of [`card_login_over_http`]).
    fn crl_urls(&self) -> String {
        format!("crl_urls = {:?}\n", [self.crls.url("/hpki/auth.crl"), self.crls.url("/hpki/arl.crl")])
    }

    /// Appends `lines` to the `[login]` table (the last one of the file).
    fn add_login_settings(&self, lines: &str) {
        let path = self.h.dir().join("hcpki.toml");
        let config = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{config}{lines}\n")).unwrap();
    }
}

fn hpki_card_with_role_logs_in_as_its_role(b: Backend) {
    let p = Portal::new(b, "fail-closed", None);
    let credentials = p.hpki.issue(&HpkiSubject::default()).unwrap();
    let card = p.hpki_card("doctor", &credentials);
    let challenge = p.challenge(None);
    let (message, signature) = p.sign(&card.key, ORIGIN, &challenge);
    let out = p.verify(&challenge, &signature, &card.chain, &[]);
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "hpki");
    assert_eq!(v["hc_role"]["code"], "medical-doctor");
    assert_eq!(v["hc_role"]["label_ja"], "医師");
    assert_eq!(v["name"], "試験\u{3000}太郎", "the kanji name from the SAN directoryName");
    // Bound to the trust anchor (issue #24, item 10): hpki:<anchor id>:<issuer O>:<registration number>.
    let person = v["person_key"].as_str().unwrap();
    assert!(person.starts_with("hpki:") && person.ends_with(":HCPKI TEST:Test000001"), "{person}");
    assert_eq!(v["legacy_person_key"], "hpki:HCPKI TEST:Test000001");
    assert_eq!(v["revocation"]["status"], "good");
    assert_eq!(p.audited(), [("ok".to_owned(), String::new())]);
    p.h.ok(&["audit", "verify"]);

    // A real peer agrees: OpenSSL verifies the same signature over the same message with the card's key, and
    // the same chain with the same CRLs.
    openssl_verifies(&p.h, &credentials.authentication.cert, "-sha256", &signature, &message);
    let crls = [
        ("auth.crl", p.hpki.authentication_crl(&[], CrlValidity::fresh(24)).unwrap()),
        ("arl.crl", p.hpki.root_arl(&[], CrlValidity::fresh(24)).unwrap()),
    ];
    let verdict = openssl_crl_check(&p, &credentials, &crls);
    assert!(verdict.status.success(), "{}", describe(&verdict));
}

/// An HPKI card whose keys are ECDSA P-384 (D177), under a P-384 hierarchy trusted beside the RSA one: the card
/// signs SHA-384 (`openssl dgst -sha384 -sign`, as the agent has such a card sign), the portal checks the chain and
/// both CRLs of that hierarchy and reads the role; OpenSSL agrees. The same key over SHA-256 is refused (the
/// algorithm follows from the certificate, never from the signature), and so is the card once its CRL lists it.
fn an_ec_hpki_card_logs_in_with_sha384_and_its_crl_checked(b: Backend) {
    let ec = HpkiTestCas::new_for(hcpki_vcard::key::CardAlgorithm::P384).unwrap();
    let p = Portal::new(b, "fail-closed", None);
    let credentials = ec.issue(&HpkiSubject::default()).unwrap();
    write_pem(&p.h.dir().join("anchors/hpki/root-p384.pem"), "CERTIFICATE", &credentials.root);
    write_pem(&p.h.dir().join("anchors/intermediates/auth-ca-p384.pem"), "CERTIFICATE", &credentials.authentication_ca);
    p.crls.put("/hpki-p384/auth.crl", ec.authentication_crl(&[], CrlValidity::fresh(24)).unwrap());
    p.crls.put("/hpki-p384/arl.crl", ec.root_arl(&[], CrlValidity::fresh(24)).unwrap());
    let path = p.h.dir().join("hcpki.toml");
    let urls = [
        p.crls.url("/hpki/auth.crl"),
        p.crls.url("/hpki/arl.crl"),
        p.crls.url("/jpki/auth.crl"),
        p.crls.url("/hpki-p384/auth.crl"),
        p.crls.url("/hpki-p384/arl.crl"),
    ];
    let config = std::fs::read_to_string(&path).unwrap();
    let config =
        config.lines().map(|l| if l.starts_with("crl_urls") { format!("crl_urls = {urls:?}") } else { l.to_owned() });
    std::fs::write(&path, config.collect::<Vec<_>>().join("\n") + "\n").unwrap();

    let card = p.hpki_card("ec-doctor", &credentials);
    let challenge = p.challenge(None);
    let (message, signature) = card_signs_with(&p.h, &card.key, ORIGIN, &challenge, "-sha384");
    let out = p.verify(&challenge, &signature, &card.chain, &[]);
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["kind"].as_str(), v["hc_role"]["code"].as_str()), (Some("hpki"), Some("medical-doctor")), "{v}");
    assert_eq!(v["revocation"]["status"], "good");
    openssl_verifies(&p.h, &credentials.authentication.cert, "-sha384", &signature, &message);

    // The same key over SHA-256: a signature a P-384 card never makes, refused.
    let challenge = p.challenge(None);
    let (_, sha256) = card_signs_with(&p.h, &card.key, ORIGIN, &challenge, "-sha256");
    assert_refused(&p.verify(&challenge, &sha256, &card.chain, &[]), "bad_signature");

    // Revoked by its CA: the cached CRL of the P-384 hierarchy is the one consulted.
    let serial = x509_cert::Certificate::from_der(&credentials.authentication.cert)
        .unwrap()
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .to_vec();
    let revoked = [Revoked {
        serial,
        at: time::OffsetDateTime::now_utc() - time::Duration::minutes(5),
        reason: Some(x509_cert::ext::pkix::CrlReason::KeyCompromise),
    }];
    p.crls.put("/hpki-p384/auth.crl", ec.authentication_crl(&revoked, CrlValidity::fresh(24)).unwrap());
    let challenge = p.challenge(None);
    let (_, signature) = card_signs_with(&p.h, &card.key, ORIGIN, &challenge, "-sha384");
    assert_refused(&p.verify(&challenge, &signature, &card.chain, &[]), "card_revoked");
    p.h.ok(&["audit", "verify"]);
}

fn hpki_cards_without_or_with_unknown_role_have_none(b: Backend) {
    let p = Portal::new(b, "fail-closed", None);
    let staff = p.hpki.issue(&HpkiSubject { role: None, ..HpkiSubject::default() }).unwrap();
    let out = p.login(&p.hpki_card("staff", &staff));
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["kind"].as_str(), v["hc_role"].is_null()), (Some("hpki"), true), "{v}");
    assert!(v["unrecognised_role"].is_null());

    // "Nurse" is hcpki's label, not a confirmed certificate string: no guessed role, the text kept for audit.
    let nurse = p.hpki.issue(&HpkiSubject { role: Some("Nurse".into()), ..HpkiSubject::default() }).unwrap();
    let out = p.login(&p.hpki_card("nurse", &nurse));
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["hc_role"].is_null(), "{v}");
    assert_eq!(v["unrecognised_role"], "Nurse");
}

/// `[login] hc_role_texts` maps a further certificate text (here "Dentist", not built in) exactly; the audit
/// entry tells a configured mapping from a built-in one, and an unmapped text's entry says what to add. A bad
/// entry stops the command with a message naming it.
fn configured_role_texts_map_and_are_audited_as_configured(b: Backend) {
    let p = Portal::new(b, "fail-closed", None);
    p.add_login_settings(r#"hc_role_texts = { "Dentist" = "dentist" }"#);
    let card = |name: &str, role: &str| {
        let credentials = p.hpki.issue(&HpkiSubject { role: Some(role.into()), ..HpkiSubject::default() }).unwrap();
        p.hpki_card(name, &credentials)
    };
    let login = |name: &str, role: &str| {
        let out = p.login(&card(name, role));
        assert!(out.status.success(), "{}", describe(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };

    let dentist = login("dentist", "Dentist");
    assert_eq!((&dentist["hc_role"]["code"], &dentist["hc_role"]["label_ja"]), (&"dentist".into(), &"歯科医師".into()));
    assert_eq!(dentist["hc_role_source"], "configured", "{dentist}");
    let doctor = login("doctor", "Medical Doctor");
    assert_eq!((&doctor["hc_role"]["code"], &doctor["hc_role_source"]), (&"medical-doctor".into(), &"built-in".into()));
    let near = login("near", "dentist");
    assert!(near["hc_role"].is_null() && near["unrecognised_role"] == "dentist", "exact match only: {near}");

    let entries = p.audit_entries();
    let detail = |i: usize| &entries[i].1;
    assert_eq!(entries.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>(), ["ok", "ok", "ok"]);
    assert_eq!((&detail(0)["hc_role"], &detail(0)["hc_role_source"]), (&"dentist".into(), &"configured".into()));
    assert_eq!((&detail(1)["hc_role"], &detail(1)["hc_role_source"]), (&"medical-doctor".into(), &"built-in".into()));
    assert!(detail(2)["hc_role"].is_null() && detail(2)["hc_role_source"].is_null());
    assert_eq!(detail(2)["unrecognised_role"], "dentist");
    let hint = detail(2)["unrecognised_role_hint"].as_str().unwrap();
    assert!(hint.contains(r#"add "dentist" = "<role code>" to [login] hc_role_texts"#), "{hint}");
    p.h.ok(&["audit", "verify"]);

    // Refused at start-up, naming the entry: a conflict with a built-in text, an unknown role code.
    for (entry, says) in [
        (r#""Medical Doctor" = "dentist""#, "conflicts with the built-in confirmed mapping"),
        (r#""Nurse" = "nurses""#, r#"unknown role code "nurses""#),
    ] {
        let p = Portal::new(b, "fail-closed", None);
        p.add_login_settings(&format!("hc_role_texts = {{ {entry} }}"));
        let out = p.h.run(&["login", "challenge", "--binding", BINDING]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says) && stderr.contains("[login] hc_role_texts"), "{stderr}");
    }
}

/// Through the portal over HTTPS: a card whose hcRole text is mapped only by `[login] hc_role_texts` logs in,
/// its session reaches the EMR (which needs some hcRole) and the ID token carries `hc_role` dentist; the audit
/// entry says `configured`.
fn configured_role_text_reaches_the_id_token(b: Backend) {
    use crate::oidc;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let hpki = &test_cas().hpki;
    let credentials = hpki.issue(&HpkiSubject { role: Some("Dentist".into()), ..HpkiSubject::default() }).unwrap();
    let (p, pc) = portal_card_session(b, &credentials, "hc_role_texts = { \"Dentist\" = \"dentist\" }\n");
    let home = pc.get("/");
    assert!(home.status == 200 && home.body.contains("data-service=\"emr\""), "{home:?}");

    let verifier = "v".repeat(64);
    let uri = "http://127.0.0.1:9/emr";
    let r = pc.get(&format!(
        "/authorize?response_type=code&client_id=emr&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256&nonce=n1",
        oidc::enc(uri),
        oidc::challenge(&verifier)
    ));
    let code = oidc::param(&r.location, "code").unwrap_or_else(|| panic!("no code: {r:?}"));
    let rp = oidc::Rp::load(&p);
    let t = p.token(
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", uri), ("code_verifier", &verifier)],
        &rp.assertion_as(&p, "emr", 60, None),
    );
    let id_token = t["id_token"].as_str().unwrap_or_else(|| panic!("{t}"));
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(id_token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!((&claims["hc_role"]["code"], &claims["hc_role"]["label_en"]), (&"dentist".into(), &"Dentist".into()));

    let details = p.h.db().strings("SELECT detail FROM audit_log WHERE action = 'login.card' AND outcome = 'ok'");
    let detail: serde_json::Value = serde_json::from_str(&details[0]).unwrap();
    assert_eq!((&detail["hc_role"], &detail["hc_role_source"]), (&"dentist".into(), &"configured".into()), "{detail}");
}

/// An HPKI card without hcRole (administrative staff) logs in through the portal (by design: identity is
/// proven) and sees the services that need no qualification, not the EMR; asking for the EMR anyway is refused
/// with `access_denied` and audited as a denied `oidc.authorize` of the card holder, with the policy's reason.
fn card_without_role_logs_in_and_is_refused_qualified_services_audited(b: Backend) {
    use crate::oidc;
    let hpki = &test_cas().hpki;
    let credentials = hpki.issue(&HpkiSubject { role: None, ..HpkiSubject::default() }).unwrap();
    let (p, pc) = portal_card_session(b, &credentials, "");
    let home = pc.get("/");
    assert!(home.status == 200 && home.body.contains("data-service=\"wiki\""), "{home:?}");
    assert!(!home.body.contains("data-service=\"emr\""), "no hcRole, no EMR on the home page: {home:?}");
    let r = pc.get(&format!(
        "/authorize?response_type=code&client_id=emr&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        oidc::enc("http://127.0.0.1:9/emr"),
        oidc::challenge(&"v".repeat(64))
    ));
    let back = oidc::refused_back(&r);
    assert_eq!(oidc::param(&back, "error").as_deref(), Some("access_denied"), "{r:?}");
    let said = oidc::param(&back, "error_description").unwrap();
    assert!(said.contains("hcRole"), "{said}");

    let entries = p.h.audit_entries();
    let login = entries.iter().find(|e| e["action"] == "login.card").unwrap();
    assert!(login["outcome"] == "ok" && login["detail"]["hc_role"].is_null(), "{login}");
    let denied = entries.iter().find(|e| e["action"] == "oidc.authorize" && e["outcome"] == "denied").unwrap();
    assert_eq!(denied["actor"], format!("portal:{}", login["target"].as_str().unwrap()), "the card holder: {denied}");
    assert_eq!((&denied["target"], &denied["detail"]["service"]), (&"emr".into(), &"emr".into()), "{denied}");
    let decision = denied["detail"]["decision"].as_str().unwrap();
    assert!(decision.starts_with("denied: ") && decision.contains("hcRole"), "{decision}");
    p.h.ok(&["audit", "verify"]);
}

/// A portal over HTTPS whose `[login]` trusts the HPKI CAs of `credentials` (fail-open: no CRL is served here),
/// with `login_extra` more `[login]` settings, and a browser on a clinic's facility PC that has logged in with
/// that card. No card agent: the card's answer is made here with OpenSSL, as in the CLI tests. The portal and
/// the browser.
pub(crate) fn portal_card_session(
    b: Backend,
    credentials: &HpkiCredentials,
    login_extra: &str,
) -> (crate::oidc::Portal, crate::oidc::Portal) {
    let (p, pc, r) = card_login_over_http(b, credentials, credentials, login_extra);
    assert!(r.status == 200 || r.status == 303, "{r:?}");
    (p, pc)
}

/// [`portal_card_session`]'s portal (trusting the CAs of `trusted`; fail-open unless `login_extra` names CRLs)
/// and the login of `card` posted as the login page's form posts it: the portal, the browser, the answer.
fn card_login_over_http(
    b: Backend,
    trusted: &HpkiCredentials,
    card: &HpkiCredentials,
    login_extra: &str,
) -> (crate::oidc::Portal, crate::oidc::Portal, crate::oidc::Reply) {
    use crate::oidc;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    let extra = format!(
        "card_agent = \"http://127.0.0.1:9\"\n[login]\nhpki_anchors = [\"hpki-root.der\"]\n\
         intermediates = [\"hpki-auth-ca.der\", \"hpki-sign-ca.der\"]\nrevocation = \"fail-open\"\n{login_extra}"
    );
    let p = oidc::Portal::start_with(b, &extra, |h| {
        std::fs::write(h.dir().join("hpki-root.der"), &trusted.root).unwrap();
        std::fs::write(h.dir().join("hpki-auth-ca.der"), &trusted.authentication_ca).unwrap();
        // The signature CA too, as D79 asks of a portal whose physicians sign: its CRL can then be cached.
        std::fs::write(h.dir().join("hpki-sign-ca.der"), &trusted.signature_ca).unwrap();
    });
    let (_, cert, key) = oidc::issue_pc(&p.h, "Clinic of the card holder");
    let pc = p.with_client_cert(cert, key);

    // What the page script and the agent would do: a challenge for this browser, signed with the card's key.
    let csrf = crate::portal_card::field(&pc.get("/login").body, "csrf");
    let challenge = crate::portal_card::card_challenge(&pc, &csrf);
    let key = p.h.path("card.key");
    write_pem(&key, "PRIVATE KEY", card.authentication.key.pkcs8_der());
    let (_, signature) = card_signs(&p.h, &key, &p.issuer, &challenge);
    let done = serde_json::json!({ "result": {
        "signature": STANDARD.encode(std::fs::read(&signature).unwrap()),
        "chain": [STANDARD.encode(&card.authentication.cert), STANDARD.encode(&card.authentication_ca)],
        "card_id": "the-card",
    }});
    let r = crate::portal_card::post_login(&pc, &csrf, &challenge, &done);
    (p, pc, r)
}

/// The portal's answer to a refused card login: the login page again (401) with the box of problem `code`
/// (`role="alert"`), its heading `heading` and its text containing `says` (Japanese, the page's first language).
fn assert_problem_page(r: &crate::oidc::Reply, code: &str, heading: &str, says: &str) {
    assert_eq!(r.status, 401, "{r:?}");
    let start = r.body.find(&format!("data-problem=\"{code}\"")).unwrap_or_else(|| panic!("no {code} box: {r:?}"));
    let opening = r.body[..start].rfind("<section").unwrap();
    let section = &r.body[opening..start + r.body[start..].find("</section>").unwrap()];
    assert!(section.contains("role=\"alert\""), "{section}");
    assert!(section.contains(&format!("<h2 id=\"problem-{code}\">{heading}</h2>")), "{section}");
    assert!(section.contains(says), "{code} does not say {says:?}: {section}");
    assert_eq!(r.body.matches("data-problem=").count(), 1, "one problem box: {r:?}");
}

fn jpki_card_gives_identity_only(b: Backend) {
    let p = Portal::new(b, "fail-closed", None);
    let credentials = p.jpki.issue(&JpkiSubject::default()).unwrap();
    let key = p.h.path("jpki.key");
    write_pem(&key, "PRIVATE KEY", credentials.auth.key.pkcs8_der());
    let card = Card { key, chain: vec![p.der_file("jpki.der", &credentials.auth.cert)] };
    let out = p.login(&card);
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "jpki");
    assert_eq!(v["credential"], "Jpki");
    assert!(v["hc_role"].is_null());
    let key = v["person_key"].as_str().unwrap();
    // jpki:<anchor id>:<hash> (issue #24, item 10).
    assert!(key.starts_with("jpki:") && key.len() == 5 + 32 + 1 + 64, "a hash, no certificate data: {key}");
    // The JPKI signing certificate (nonRepudiation, the four items) is not a login certificate.
    let sign_key = p.h.path("jpki-sign.key");
    write_pem(&sign_key, "PRIVATE KEY", credentials.sign.key.pkcs8_der());
    let sign_root = p.der_file("jpki-sign.der", &credentials.sign.cert);
    let out = p.login(&Card { key: sign_key, chain: vec![sign_root] });
    assert_refused(&out, "untrusted_chain");
}

fn forged_or_misdirected_signatures_are_refused(b: Backend) {
    let p = Portal::new(b, "fail-closed", None);
    let credentials = p.hpki.issue(&HpkiSubject::default()).unwrap();
    let card = p.hpki_card("doctor", &credentials);
    // Another key (the card's signature key) signing, with the authentication certificate's chain.
    let other = p.h.path("other.key");
    write_pem(&other, "PRIVATE KEY", credentials.signature.key.pkcs8_der());
    let challenge = p.challenge(None);
    let (_, signature) = p.sign(&other, ORIGIN, &challenge);
    assert_refused(&p.verify(&challenge, &signature, &card.chain, &[]), "bad_signature");
    // The right key, but a page of another site had the agent sign for its origin.
    let challenge = p.challenge(None);
    let (_, signature) = p.sign(&card.key, "https://evil.test", &challenge);
    assert_refused(&p.verify(&challenge, &signature, &card.chain, &[]), "bad_signature");
    // A flipped bit.
    let challenge = p.challenge(None);
    let (_, signature) = p.sign(&card.key, ORIGIN, &challenge);
    let mut bytes = std::fs::read(&signature).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&signature, bytes).unwrap();
    assert_refused(&p.verify(&challenge, &signature, &card.chain, &[]), "bad_signature");
    let reasons: Vec<_> = p.audited().into_iter().map(|(o, r)| format!("{o} {r}")).collect();
    assert_eq!(reasons, ["denied bad_signature"; 3]);
}

fn challenges_are_single_use_session_and_origin_bound_and_expire(b: Backend) {
    let p = Portal::new(b, "fail-closed", None);
    let card = p.hpki_card("doctor", &p.hpki.issue(&HpkiSubject::default()).unwrap());
    // Replay: the same post twice.
    let challenge = p.challenge(None);
    let (_, signature) = p.sign(&card.key, ORIGIN, &challenge);
    let first = p.verify(&challenge, &signature, &card.chain, &[]);
    assert!(first.status.success(), "{}", describe(&first));
    assert_refused(&p.verify(&challenge, &signature, &card.chain, &[]), "challenge_unknown");
    // Never issued.
    assert_refused(&p.verify(&"A".repeat(43), &signature, &card.chain, &[]), "challenge_unknown");
    // Expired: issued at T, presented at T + 181 s (the default lifetime is 120 s; the deadline is stored a
    // minute later, the clock leeway between replicas, D41 addendum).
    let t = 1_900_000_000;
    let challenge = p.challenge(Some(t));
    let (_, signature) = p.sign(&card.key, ORIGIN, &challenge);
    let late = (t + 181).to_string();
    assert_refused(&p.verify(&challenge, &signature, &card.chain, &["--at", &late]), "challenge_expired");
    // Presented at another origin than issued for.
    let challenge = p.challenge(None);
    let (_, signature) = p.sign(&card.key, "https://other.test", &challenge);
    let out = p.verify(&challenge, &signature, &card.chain, &["--origin", "https://other.test"]);
    assert_refused(&out, "wrong_origin");
    // Posted from another browser session.
    let challenge = p.challenge(None);
    let (_, signature) = p.sign(&card.key, ORIGIN, &challenge);
    assert_refused(&p.verify(&challenge, &signature, &card.chain, &["--binding", "someone-else"]), "challenge_binding");
    // ... and gone afterwards: the right session cannot use it either.
    assert_refused(&p.verify(&challenge, &signature, &card.chain, &[]), "challenge_unknown");

    // Each refusal is a `login.card` denied entry with its reason; the wrong origin's names the origin.
    let reasons: Vec<_> = p.audited().into_iter().map(|(o, r)| format!("{o} {r}")).collect();
    assert_eq!(
        reasons,
        [
            "ok ",
            "denied challenge_unknown",
            "denied challenge_unknown",
            "denied challenge_expired",
            "denied wrong_origin",
            "denied challenge_binding",
            "denied challenge_unknown"
        ]
    );
    let wrong_origin = p.audit_entries().into_iter().find(|(_, d)| d["reason"] == "wrong_origin").unwrap().1;
    assert_eq!(wrong_origin["origin"], "https://other.test", "{wrong_origin}");
    p.h.ok(&["audit", "verify"]);
}

fn untrusted_expired_and_signature_certificates_are_refused(b: Backend) {
    let p = Portal::new(b, "fail-closed", None);
    // A chain of another (well-formed) HPKI PKI the portal was not configured with.
    let stranger = crate::test_pki::stranger();
    let out = p.login(&p.hpki_card("stranger", stranger));
    let text = assert_refused(&out, "untrusted_chain");
    assert!(text.contains("trusted card issuer"), "{text}");
    // Even with its own root posted along.
    let mut card = p.hpki_card("stranger2", stranger);
    card.chain.push(p.der_file("stranger-root.der", &stranger.root));
    assert_refused(&p.login(&card), "untrusted_chain");

    // Expired: the card's notAfter has passed at the (given) time of the login.
    let credentials = p.hpki.issue(&HpkiSubject::default()).unwrap();
    let card = p.hpki_card("doctor", &credentials);
    let not_after = x509_cert::Certificate::from_der(&credentials.authentication.cert)
        .unwrap()
        .tbs_certificate()
        .validity()
        .not_after
        .to_unix_duration()
        .as_secs() as i64;
    let at = not_after + 60;
    let challenge = p.challenge(Some(at));
    let (_, signature) = p.sign(&card.key, ORIGIN, &challenge);
    let text = assert_refused(
        &p.verify(&challenge, &signature, &card.chain, &["--at", &(at + 1).to_string()]),
        "card_expired",
    );
    assert!(text.contains("renew the card"), "{text}");
    // The portal's login page says the same to the person: the card's certificate expired, renew it.
    let expired = p.hpki.issue_expired(&HpkiSubject::default()).unwrap();
    let (_, _, r) = card_login_over_http(b, &credentials, &expired, "");
    assert_problem_page(&r, "card_expired", "カードの証明書の有効期限が切れています", "カードを更新してください");

    // The card's signature certificate (keyUsage nonRepudiation) is not a login certificate.
    let key = p.h.path("signature.key");
    write_pem(&key, "PRIVATE KEY", credentials.signature.key.pkcs8_der());
    let sign_ca = p.der_file("sign-ca.der", &credentials.signature_ca);
    let out = p.login(&Card { key, chain: vec![p.der_file("signature.der", &credentials.signature.cert), sign_ca] });
    let text = assert_refused(&out, "not_auth_certificate");
    assert!(text.contains("nonRepudiation"), "{text}");

    // Each refusal is a `login.card` denied entry with its reason code and the message the person saw.
    let entries = p.audit_entries();
    let reasons: Vec<_> = entries.iter().map(|(o, d)| format!("{o} {}", d["reason"].as_str().unwrap())).collect();
    assert_eq!(
        reasons,
        ["denied untrusted_chain", "denied untrusted_chain", "denied card_expired", "denied not_auth_certificate"]
    );
    let message = |i: usize| entries[i].1["message"].as_str().unwrap().to_owned();
    assert!(message(0).contains("trusted card issuer") && message(2).contains("renew the card"), "{entries:?}");
    p.h.ok(&["audit", "verify"]);
}

fn revoked_card_is_refused_from_the_cached_crl(b: Backend) {
    let p = Portal::new(b, "fail-closed", None);
    let credentials = p.hpki.issue(&HpkiSubject::default()).unwrap();
    let kept = p.hpki.issue(&HpkiSubject { registration_id: "Test000002".into(), ..HpkiSubject::default() }).unwrap();
    let serial = x509_cert::Certificate::from_der(&credentials.authentication.cert)
        .unwrap()
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .to_vec();
    let revoked = [Revoked {
        serial: serial.clone(),
        at: time::OffsetDateTime::now_utc() - time::Duration::minutes(5),
        reason: Some(x509_cert::ext::pkix::CrlReason::KeyCompromise),
    }];
    let crl = p.hpki.authentication_crl(&revoked, CrlValidity::fresh(24)).unwrap();
    p.crls.put("/hpki/auth.crl", crl.clone());
    let text = assert_refused(&p.login(&p.hpki_card("revoked", &credentials)), "card_revoked");
    assert!(text.contains("keyCompromise") && text.contains(&hex::encode(&serial)), "{text}");
    // The portal, prefetching the same CRL, says it on its login page: the card is revoked, ask its issuer.
    let (_, _, r) = card_login_over_http(b, &credentials, &credentials, &p.crl_urls());
    assert_problem_page(&r, "card_revoked", "カードの証明書は失効しています", "HPKI 認証局) に、施設の管理者を通じて");
    let ok = p.login(&p.hpki_card("kept", &kept));
    assert!(ok.status.success(), "another card of the same CA is fine\n{}", describe(&ok));
    let entries = p.audit_entries();
    let reasons: Vec<_> = entries.iter().map(|(o, d)| format!("{o} {}", d["reason"].as_str().unwrap_or(""))).collect();
    assert_eq!(reasons, ["denied card_revoked", "ok "]);
    let message = entries[0].1["message"].as_str().unwrap();
    assert!(message.contains("keyCompromise") && message.contains(&hex::encode(&serial)), "{message}");
    p.h.ok(&["audit", "verify"]);

    // OpenSSL reaches the same verdicts with the same chain and CRLs.
    let crls = [("auth.crl", crl), ("arl.crl", p.hpki.root_arl(&[], CrlValidity::fresh(24)).unwrap())];
    let verdict = openssl_crl_check(&p, &credentials, &crls);
    assert!(!verdict.status.success() && describe(&verdict).contains("certificate revoked"), "{}", describe(&verdict));
    assert!(openssl_crl_check(&p, &kept, &crls).status.success());

    // The CLI shows the cached CRLs.
    let listed = p.h.ok(&["login", "crls"]);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(listed.contains("\"entries\":1"), "{listed}");
}

/// The HPKI root's ARL lists the authentication CA (cACompromise): every card that CA issued is refused as
/// `issuer_revoked`, naming the CA, though the card's own CRL is clean; OpenSSL refuses the same chain with
/// the same CRLs. The refusal is audited.
fn cards_of_a_revoked_hpki_ca_are_refused(b: Backend) {
    let p = Portal::new(b, "fail-closed", None);
    let credentials = p.hpki.issue(&HpkiSubject::default()).unwrap();
    let ca = x509_cert::Certificate::from_der(&credentials.authentication_ca).unwrap();
    let serial = ca.tbs_certificate().serial_number().as_bytes().to_vec();
    let revoked = [Revoked {
        serial: serial.clone(),
        at: time::OffsetDateTime::now_utc() - time::Duration::minutes(5),
        reason: Some(x509_cert::ext::pkix::CrlReason::CaCompromise),
    }];
    let arl = p.hpki.root_arl(&revoked, CrlValidity::fresh(24)).unwrap();
    p.crls.put("/hpki/arl.crl", arl.clone());
    let text = assert_refused(&p.login(&p.hpki_card("doctor", &credentials)), "issuer_revoked");
    assert!(text.contains("cACompromise") && text.contains(&hex::encode(&serial)), "{text}");
    assert!(text.contains(&ca.tbs_certificate().subject().to_string()), "the CA is named: {text}");
    // The login page says the card is revoked (the person cannot tell the card from its CA): ask the issuer.
    let (_, _, r) = card_login_over_http(b, &credentials, &credentials, &p.crl_urls());
    assert_problem_page(&r, "card_revoked", "カードの証明書は失効しています", "HPKI 認証局) に、施設の管理者を通じて");
    assert_eq!(p.audited(), [("denied".to_owned(), "issuer_revoked".to_owned())]);

    let crls = [("auth.crl", p.hpki.authentication_crl(&[], CrlValidity::fresh(24)).unwrap()), ("arl.crl", arl)];
    let verdict = openssl_crl_check(&p, &credentials, &crls);
    assert!(!verdict.status.success() && describe(&verdict).contains("certificate revoked"), "{}", describe(&verdict));
    p.h.ok(&["audit", "verify"]);
}

fn missing_crl_fails_closed_or_open_as_configured(b: Backend) {
    // A port nothing listens on: every fetch fails.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let urls = vec![format!("http://127.0.0.1:{dead}/hpki/auth.crl"), format!("http://127.0.0.1:{dead}/hpki/arl.crl")];
    let closed = Portal::new(b, "fail-closed", Some(urls.clone()));
    let card = closed.hpki_card("doctor", &closed.hpki.issue(&HpkiSubject::default()).unwrap());
    let text = assert_refused(&closed.login(&card), "revocation_unknown");
    assert!(text.contains("no CRL of") && text.contains("try again later"), "{text}");
    assert_eq!(closed.audited(), [("denied".to_owned(), "revocation_unknown".to_owned())], "fail-closed is audited");

    let open = Portal::new(b, "fail-open", Some(urls));
    let card = open.hpki_card("doctor", &open.hpki.issue(&HpkiSubject::default()).unwrap());
    let out = open.login(&card);
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["revocation"]["status"], "unknown", "{v}");
    let detail = open.h.db().strings("SELECT detail FROM audit_log WHERE action = 'login.card'");
    assert!(detail[0].contains("\"status\":\"unknown\""), "the audit entry marks it: {detail:?}");

    // A stale CRL (nextUpdate passed at login time) is as good as none.
    let p = Portal::new(b, "fail-closed", None);
    let card = p.hpki_card("doctor", &p.hpki.issue(&HpkiSubject::default()).unwrap());
    let at = hcpki_pkix::time::now_unix() + 2 * 86_400;
    let challenge = p.challenge(Some(at));
    let (_, signature) = p.sign(&card.key, ORIGIN, &challenge);
    let text = assert_refused(
        &p.verify(&challenge, &signature, &card.chain, &["--at", &at.to_string()]),
        "revocation_unknown",
    );
    assert!(text.contains("stale"), "{text}");
    let entries = p.audit_entries();
    assert_eq!(
        (entries.len(), entries[0].0.as_str(), &entries[0].1["reason"]),
        (1, "denied", &"revocation_unknown".into())
    );
    assert!(entries[0].1["message"].as_str().unwrap().contains("stale"), "{entries:?}");
}

fn malformed_posts_are_refused(b: Backend) {
    let p = Portal::new(b, "fail-closed", None);
    let card = p.hpki_card("doctor", &p.hpki.issue(&HpkiSubject::default()).unwrap());
    let challenge = p.challenge(None);
    let (_, signature) = p.sign(&card.key, ORIGIN, &challenge);
    let garbage = p.der_file("garbage.der", b"\x30\x82\x01\x00not a certificate");
    assert_refused(&p.verify(&challenge, &signature, std::slice::from_ref(&garbage), &[]), "malformed");
    // A truncated certificate.
    let whole = std::fs::read(&card.chain[0]).unwrap();
    let truncated = p.der_file("truncated.der", &whole[..whole.len() / 2]);
    let challenge = p.challenge(None);
    let (_, signature) = p.sign(&card.key, ORIGIN, &challenge);
    assert_refused(&p.verify(&challenge, &signature, &[truncated], &[]), "malformed");
    // An empty signature.
    let challenge = p.challenge(None);
    let empty = p.der_file("empty.sig", b"");
    assert_refused(&p.verify(&challenge, &empty, &card.chain, &[]), "malformed");
    let reasons: Vec<_> = p.audited().into_iter().map(|(_, r)| r).collect();
    assert_eq!(reasons, ["malformed"; 3]);
    p.h.ok(&["audit", "verify"]);
}

// ---- helpers ----

/// The refusal's stderr, after checking exit status and reason code.
/// The card signs the login message for `origin` and `challenge` (OpenSSL with the card's key `key`, as the agent
/// has the card sign): the message and signature files in `h`'s directory.
fn card_signs(h: &Hcpki, key: &Path, origin: &str, challenge: &str) -> (PathBuf, PathBuf) {
    card_signs_with(h, key, origin, challenge, "-sha256")
}

/// [`card_signs`] with the digest `openssl dgst` is given (`-sha384` for a P-384 card: a DER ECDSA-Sig-Value).
fn card_signs_with(h: &Hcpki, key: &Path, origin: &str, challenge: &str, digest: &str) -> (PathBuf, PathBuf) {
    let message = h.path("message.bin");
    std::fs::write(&message, login_message(origin, challenge)).unwrap();
    let signature = h.path("signature.bin");
    openssl(&[
        "dgst",
        digest,
        "-sign",
        key.to_str().unwrap(),
        "-out",
        signature.to_str().unwrap(),
        message.to_str().unwrap(),
    ]);
    (message, signature)
}

fn assert_refused(out: &Output, code: &str) -> String {
    let text = describe(out);
    assert!(!out.status.success(), "expected a refusal ({code})\n{text}");
    assert!(text.contains(&format!("refused ({code})")), "expected reason {code}\n{text}");
    text
}

/// `hcpki_agent_protocol::login_message`, rebuilt here from the documented layout (docs/card-agent.md) so
/// that the test does not share the code it checks: context, 0, origin, 0, challenge bytes.
fn login_message(origin: &str, challenge: &str) -> Vec<u8> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(challenge).unwrap();
    [b"hcpki card login v1\0".as_slice(), origin.as_bytes(), b"\0", &bytes].concat()
}

/// `openssl verify -crl_check_all` of the card's authentication certificate under the HPKI root, with the
/// authentication CA as untrusted intermediate and the given CRLs.
fn openssl_crl_check(p: &Portal, credentials: &HpkiCredentials, crls: &[(&str, Vec<u8>)]) -> Output {
    let root = p.h.path("ossl-root.pem");
    write_pem(&root, "CERTIFICATE", &credentials.root);
    let ca = p.h.path("ossl-ca.pem");
    write_pem(&ca, "CERTIFICATE", &credentials.authentication_ca);
    let leaf = p.h.path("ossl-leaf.pem");
    write_pem(&leaf, "CERTIFICATE", &credentials.authentication.cert);
    let mut cmd = Command::new("openssl");
    cmd.args(["verify", "-crl_check_all", "-CAfile"]).arg(&root).arg("-untrusted").arg(&ca);
    for (name, der) in crls {
        let path = p.h.path(&format!("ossl-{name}.pem"));
        write_pem(&path, "X509 CRL", der);
        cmd.arg("-CRLfile").arg(path);
    }
    cmd.arg(&leaf).output().unwrap()
}

/// `openssl dgst DIGEST -verify` of `signature` over `message` with the key of `certificate` (DER) says
/// "Verified OK".
fn openssl_verifies(h: &Hcpki, certificate: &[u8], digest: &str, signature: &Path, message: &Path) {
    let cert = h.path("verified-card.pem");
    write_pem(&cert, "CERTIFICATE", certificate);
    let public = h.path("verified-card.pub");
    openssl(&["x509", "-in", cert.to_str().unwrap(), "-pubkey", "-noout", "-out", public.to_str().unwrap()]);
    let checked = Command::new("openssl")
        .args(["dgst", digest, "-verify", public.to_str().unwrap(), "-signature"])
        .arg(signature)
        .arg(message)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&checked.stdout).contains("Verified OK"), "{}", describe(&checked));
}

/// Runs `openssl ARGS`, which must succeed.
pub(crate) fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(out.status.success(), "openssl {}\n{}", args.join(" "), describe(&out));
}

fn write_pem(path: &Path, label: &str, der: &[u8]) {
    let pem = x509_cert::der::pem::encode_string(label, x509_cert::der::pem::LineEnding::LF, der).unwrap();
    std::fs::write(path, pem).unwrap();
}
