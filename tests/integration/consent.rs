//! Patient identity and consent with the My Number card at the physician's PC (issue #28), end to end through
//! real parts: the physician signed in with the virtual HPKI card through the real card agent and pcscd; the
//! EMR (an OIDC client) asks for a consent with the physician's access token; the portal renders the PDF from the
//! EMR's template; the consent page in headless Chromium hands it to the agent, whose own window shows the patient
//! the consent and takes the JPKI signature password; the virtual My Number card's signing key signs; the portal
//! checks the signature against the JPKI anchor, time-stamps it with the reference TSA and embeds the signing
//! CA's CRL (B-LT); staff confirm the four items against the patient ID; the EMR reads the live consent and
//! pyHanko, OpenSSL and `hcpki signature verify` accept the signed PDF; the patient withdraws, signed the same
//! way, and the EMR learns of it from the withdrawal feed. Attacks and refusals before and after (another
//! facility's PC, a wrong patient ID, a request for a purpose without a template, a second consent while one is
//! live); the audit never holds the four items.

use crate::agent;
use crate::browser::{AutoSelect, Chromium, chromium_at_pc};
use crate::harness::{Backend, describe};
use crate::oidc::{self, Portal, Rp};
use crate::presence_proof;
use crate::signing_requests::{access_token, pem, wait_text_in_popup};
use crate::tsa::ReferenceTsa;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hcpki_vcard::hpki::HpkiLayout;
use hcpki_vcard::identity::{HpkiIdentity, HpkiPins, Identity, JpkiIdentity, JpkiPins};
use hcpki_vcard::testpki::{CrlValidity, HpkiSubject, HpkiTestCas, JpkiSubject, JpkiTestCas};
use serde_json::{Value, json};
use std::process::Command;

on_both_backends!(a_patient_is_identified_at_reception_and_consents_at_a_two_reader_then_a_one_reader_pc);

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The virtual My Number card's signature password (JpkiPins::default).
const SIGN_PASSWORD: &str = "SIGN1234";
/// Its user-authentication PIN (JpkiPins::default).
const AUTH_PIN: &str = "1234";
/// The facility's own patient ID of the test patient.
const PATIENT_ID: &str = "P-000123";

/// The EMR's consent template for `record-link`.
const TEMPLATES: &str = r#"
[consent]
deadline_secs = 600
presence_minutes = 1

[[consent.templates]]
client = "emr"
purpose = "record-link"
title = "診療情報の共有に関する同意書"
purpose_text = "地域の医療機関で、あなたの診療情報を共有し、安全で適切な医療を受けていただくため。"
scope = "受診歴、検査結果、処方、アレルギー"
recipients = "地域医療連携ネットワークに参加する医療機関"
withdrawal = "いつでも撤回できます。受付または担当医師に申し出て、マイナンバーカードで撤回書に署名してください。"
network = "ajisai-net"

[[consent.templates]]
client = "emr"
purpose = "disclosure.hospital-b"
title = "紹介先病院への診療情報提供に関する同意書"
purpose_text = "紹介先の病院で、これまでの経過を踏まえた診療を受けていただくため。"
scope = "紹介状、検査結果、画像"
recipients = "B 病院"
period = "紹介先での診療が終わるまで"
withdrawal = "受付または担当医師に申し出てください。"

[[consent.templates]]
client = "emr"
purpose = "visit-summary"
title = "受診内容の要約の共有に関する同意書"
purpose_text = "かかりつけの医療機関に、今回の受診内容の要約を伝えるため。"
scope = "今回の受診の要約"
recipients = "かかりつけの医療機関"
withdrawal = "受付に申し出て、マイナンバーカードの暗証番号(数字 4 桁)で撤回できます。"
evidence = "authentication"

[[consent.templates]]
client = "hcpki:portal"
purpose = "visit-history"
title = "受診歴の照会に関する同意書"
purpose_text = "当院で、あなたの過去の受診歴と処方を確認し、安全に診療するため。"
scope = "受診歴、処方"
recipients = "当院"
withdrawal = "受付に申し出てください。"
"#;

/// A physician's HPKI card under `cas` (whose CRLs the test signs).
fn physician_card(cas: &HpkiTestCas) -> Identity {
    let subject = HpkiSubject::default();
    let credentials = cas.issue(&subject).unwrap();
    Identity::Hpki(HpkiIdentity { subject, layout: HpkiLayout::JMA, pins: HpkiPins::default(), credentials })
}

/// A patient's My Number card under `cas`.
fn patient_card(cas: &JpkiTestCas) -> Identity {
    let subject = JpkiSubject::default();
    let credentials = cas.issue(&subject).unwrap();
    Identity::Jpki(JpkiIdentity { subject, pins: JpkiPins::default(), credentials })
}

/// The facility PC of the journeys: the portal (card login trusting the physician's HPKI root and both JPKI
/// roots — the login's authentication root and the patient's signing root —, the CRLs of the patient's signing
/// root and of the physician's signature CA cached from files: the JPKI revocation source and the attestation's
/// B-LT, the reference TSA, the EMR's templates), the real card agent (owning only reader 0 on a one-reader PC),
/// the physician signed in with the HPKI card in reader 0, the EMR's access token.
struct Clinic {
    p: Portal,
    pc: Portal,
    rp: Rp,
    token: String,
    agent: agent::Served,
    agent_origin: String,
    facility: String,
    physician: Identity,
    physician_card: hcpki_vcard::vpcd::VpcdCard,
    patient: Identity,
    /// The same patient's card from before an address change: its signing certificate is revoked.
    moved: Identity,
    /// Another person's My Number card.
    stranger: Identity,
    /// A My Number card of the next generation: ECDSA P-384 / SHA-384 in today's layout (D153).
    p384: Identity,
    sign_root: Vec<u8>,
    tsa: ReferenceTsa,
    _files: tempfile::TempDir,
    /// Last, so it is released after the cards above are out of the readers.
    _pcsc: crate::pcsc_lock::PcscGuard,
}

fn serial(der: &[u8]) -> Vec<u8> {
    use x509_cert::der::Decode as _;
    x509_cert::Certificate::from_der(der).unwrap().tbs_certificate().serial_number().as_bytes().to_vec()
}

fn named(id: &Identity, name: &str) -> Vec<u8> {
    id.certificates().into_iter().find(|(n, _)| *n == name).unwrap().1.to_vec()
}

impl Clinic {
    fn open(b: Backend, one_reader: bool) -> Self {
        let files = tempfile::tempdir().unwrap();
        let tsa = ReferenceTsa::start(files.path());
        let cas = crate::test_pki::jpki();
        let patient = patient_card(cas);
        let moved = patient_card(cas);
        let stranger = patient_card(cas);
        let p384_cas = JpkiTestCas::new_for(hcpki_vcard::key::CardAlgorithm::P384).expect("the P-384 JPKI test roots");
        let p384 = patient_card(&p384_cas);
        let revoked = hcpki_vcard::testpki::Revoked {
            serial: serial(&named(&moved, "sign")),
            at: time::OffsetDateTime::now_utc() - time::Duration::hours(2),
            reason: Some(x509_cert::ext::pkix::CrlReason::Superseded),
        };
        let hpki_cas = crate::test_pki::hpki();
        let physician = physician_card(hpki_cas);
        let agent_port = crate::harness::free_port();
        let agent_origin = format!("http://127.0.0.1:{agent_port}");
        let crl_file = files.path().join("jpki-sign.crl");
        std::fs::write(&crl_file, cas.sign_crl(&[revoked], CrlValidity::fresh(24)).unwrap()).unwrap();
        let p384_crl_file = files.path().join("jpki-p384-sign.crl");
        std::fs::write(&p384_crl_file, p384_cas.sign_crl(&[], CrlValidity::fresh(24)).unwrap()).unwrap();
        let hpki_crl_file = files.path().join("hpki-signature-ca.crl");
        std::fs::write(&hpki_crl_file, hpki_cas.signature_crl(&[], CrlValidity::fresh(24)).unwrap()).unwrap();
        let extra = format!(
            "card_agent = \"{agent_origin}\"\ncard_presence_secs = 600\n[login]\nhpki_anchors = [\"hpki-root.der\"]\n\
             jpki_anchors = [\"jpki-root.der\", \"jpki-sign-root.der\", \"jpki-patient-auth-root.der\", \
             \"jpki-p384-auth-root.der\", \"jpki-p384-sign-root.der\"]\n\
             intermediates = [\"hpki-auth-ca.der\", \"hpki-sig-ca.der\"]\nrevocation = \"fail-open\"\n\
             crl_urls = [\"file:{}\", \"file:{}\", \"file:{}\"]\n\n[signing]\nanchors = [\"jpki-sign-root.der\", \
             \"jpki-p384-sign-root.der\"]\n\n\
             [[signing.tsa]]\nurl = \"{}\"\nroots = [\"{}\"]\npolicy = \"{}\"\n{TEMPLATES}",
            crl_file.display(),
            hpki_crl_file.display(),
            p384_crl_file.display(),
            tsa.url,
            tsa.root().display(),
            ReferenceTsa::POLICY
        );
        let (hpki_root, hpki_auth) = (named(&physician, "root-ca"), named(&physician, "authentication-ca"));
        let hpki_sig = named(&physician, "signature-ca");
        let login_jpki_root = named(agent::jpki(), "auth-ca");
        let sign_root = named(&patient, "sign-ca");
        let patient_auth_root = named(&patient, "auth-ca");
        let p384_auth_root = named(&p384, "auth-ca");
        let p384_sign_root = named(&p384, "sign-ca");
        let p = Portal::start_in(crate::harness::Hcpki::initialized(b), &extra, |h| {
            std::fs::write(h.dir().join("hpki-root.der"), &hpki_root).unwrap();
            std::fs::write(h.dir().join("hpki-auth-ca.der"), &hpki_auth).unwrap();
            std::fs::write(h.dir().join("hpki-sig-ca.der"), &hpki_sig).unwrap();
            std::fs::write(h.dir().join("jpki-root.der"), &login_jpki_root).unwrap();
            std::fs::write(h.dir().join("jpki-sign-root.der"), &sign_root).unwrap();
            std::fs::write(h.dir().join("jpki-patient-auth-root.der"), &patient_auth_root).unwrap();
            std::fs::write(h.dir().join("jpki-p384-auth-root.der"), &p384_auth_root).unwrap();
            std::fs::write(h.dir().join("jpki-p384-sign-root.der"), &p384_sign_root).unwrap();
            // The service whose policy requires a patient-presence proof (issue #49, D148), and its client.
            std::fs::write(h.path("records.toml"), presence_proof::SERVICES).unwrap();
            h.ok(&["service", "add", h.path("records.toml").to_str().unwrap()]);
            let client = oidc::service_client(h, presence_proof::CLIENT, presence_proof::SERVICE, &[]);
            h.ok(&client.iter().map(String::as_str).collect::<Vec<_>>());
        });

        std::fs::write(p.h.path("hpki-signature-ca.pem"), pem(&hpki_sig)).unwrap();
        // The PC's certificate and the relying party need no reader: made before the lock, which the tests holding
        // it take one at a time (tests/integration/pcsc_lock.rs).
        let (facility, cert, key) = oidc::issue_pc(&p.h, "Consent clinic");
        // The regional network the EMR's record-link consent is shared in (issue #49 item 2, D169).
        crate::regional_network::declared(&p, &facility);
        let pc = p.with_client_cert(cert, key);
        let rp = Rp::load(&p);
        // The readers' lock only now, with the portal up: the agent and the cards are what need it.
        let pcsc = crate::pcsc_lock::pcsc_lock();
        let agent = start_agent(&p, agent_port, one_reader);
        let physician_card = agent::insert(&physician, 0);
        agent.wait_card(0, "hpki");
        crate::portal_card::card_session(&pc, &agent);
        let token = access_token(&p, &pc, &rp);
        Self {
            p,
            pc,
            rp,
            token,
            agent,
            agent_origin,
            facility,
            physician,
            physician_card,
            patient,
            moved,
            stranger,
            p384,
            sign_root,
            tsa,
            _files: files,
            _pcsc: pcsc,
        }
    }

    /// The same PC with one reader: the agent restarted (same address) owning reader 0 only, which holds the
    /// physician's card.
    fn own_one_reader(&mut self) {
        let port = self.agent_origin.rsplit(':').next().unwrap().parse().unwrap();
        self.agent.stop();
        self.agent = start_agent(&self.p, port, true);
        self.agent.wait_card(0, "hpki");
    }

    /// Headless Chromium at the physician's PC with their session (D161: the session lives only there), and the
    /// policy guard that selects the PC's certificate while it runs.
    fn browser(&self, name: &str) -> (Chromium, Option<AutoSelect>) {
        let (mut browser, policy) = chromium_at_pc(&self.pc, name);
        browser.cmd(json!({"cmd": "viewport", "width": 1280, "height": 1000}));
        (browser, policy)
    }
}

/// The card agent on `port`, with the HPKI signature CA for the physician's attestation (the card holds its
/// end-entity certificates only, D71); on a one-reader PC owning reader 0 only (agent.toml `readers`).
fn start_agent(p: &Portal, port: u16, one_reader: bool) -> agent::Served {
    let ca = p.h.chain_file("server");
    let config = p.h.path("agent.toml");
    let readers = if one_reader { "readers = [\"Virtual PCD 00 00\"]\n" } else { "" };
    std::fs::write(
        &config,
        format!("version = 1\n{readers}[signing]\nca_certificates = [\"hpki-signature-ca.pem\"]\n"),
    )
    .unwrap();
    agent::Served::start_with(
        &p.issuer,
        &format!("127.0.0.1:{port}"),
        &["--portal-ca-file", ca.to_str().unwrap(), "--config", config.to_str().unwrap()],
    )
}

/// The consent journeys of one clinic, one portal and one hold of the PC/SC lock (they were two tests, each
/// starting its own portal and waiting for the other's lock): first at a PC with two readers (the patient's
/// first visit: consent, identity confirmed, withdrawal, the physician's attestation), then the same PC with one
/// reader, where the patient is back at reception (issue #45's persona): identified with the 4-digit PIN, then
/// consents again with the reader lent. axe-core on every page the patient and staff see, ja and en.
fn a_patient_is_identified_at_reception_and_consents_at_a_two_reader_then_a_one_reader_pc(b: Backend) {
    let started = std::time::Instant::now();
    let mut clinic = Clinic::open(b, false);
    let (mut browser, _policy) = clinic.browser("consent-chromium");
    let (id, proof) = at_a_two_reader_pc(&clinic, &mut browser, b);
    clinic.own_one_reader();
    at_reception_with_one_reader(&mut clinic, &mut browser, b);
    // Staff list the patient's consents at their facility (issue #49 item 4), the withdrawn one among them.
    presence_proof::consents_listed(&mut browser, &clinic.p, PATIENT_ID, &[&id], |br, name| {
        shot(br, &clinic.p, b, name)
    });
    drop(browser);
    presence_proof::expired(&clinic.p, &proof);
    // Last, as it signs the physician's card in at another PC (another session in the test's cookie jar).
    another_facility_and_the_audit(&clinic, &id);
    // The audit of the whole day: the patient only as the pseudonymous key, never the four items nor the ID.
    let text = serde_json::to_string(&clinic.p.h.audit_entries()).unwrap();
    for secret in ["花子", "千代田", "霞が関", "419900101", PATIENT_ID] {
        assert!(!text.contains(secret), "the audit log holds {secret:?}");
    }
    clinic.p.h.ok(&["audit", "verify"]);
    eprintln!("consent journeys ({b:?}): {:.1} s", started.elapsed().as_secs_f64());
}

/// The next My Number card (D153: ECDSA P-384 / SHA-384 keys in today's layout) through the real agent and pcscd,
/// for another patient: its signature answers the identification (the card is not linked yet, so the page says
/// so — past the signature check, which a refused card never reaches); a malformed ECDSA value (r = 0) posted by
/// hand with its certificate is refused with the card page's words and audited with the reason; then the patient
/// signs a consent with the card's P-384 signing key (PAdES, SHA-384, B-LT), staff link the card, the 4-digit PIN
/// identifies them and issues a presence proof (D148); pyHanko accepts the signed consent.
fn p384_card(clinic: &Clinic, browser: &mut Chromium) {
    const P384_PATIENT: &str = "P-000384";
    let started = std::time::Instant::now();
    let Clinic { p, pc, rp, token, agent, p384, tsa, .. } = clinic;
    let mut card = agent::insert(p384, 1);
    agent.wait_card(1, "jpki");
    identify(browser, p, P384_PATIENT);
    type_pin(browser, AUTH_PIN);
    let unknown = wait_main_text(browser, "このカードはまだ本人確認されていません");
    assert!(!unknown.contains("カードの確認ができませんでした"), "the P-384 signature verified: {unknown}");

    let r = pc.get("/patients/identify?lang=ja");
    let csrf = crate::portal_card::field(&r.body, "csrf");
    let issued = pc.submit("/patients/identify/challenge", &[("csrf", csrf.as_str())], None);
    let issued: Value = serde_json::from_str(&issued.body).unwrap_or_else(|_| panic!("{issued:?}"));
    let chain = STANDARD.encode(named(p384, "auth"));
    let zero_r = STANDARD.encode([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01]);
    let malformed = [
        ("csrf", csrf.as_str()),
        ("patient_id", P384_PATIENT),
        ("challenge", issued["challenge"].as_str().unwrap()),
        ("signature", zero_r.as_str()),
        ("chain", chain.as_str()),
    ];
    let r = pc.submit("/patients/identify", &malformed, None);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.contains("カードの確認ができませんでした"), "{r:?}");
    let audited =
        p.h.audit_entries().into_iter().any(|e| {
            e["action"] == "identity.checked" && e["outcome"] == "denied" && e.to_string().contains("r is zero")
        });
    assert!(audited, "the malformed ECDSA value is audited with its reason");

    // The consent, signed with the P-384 signing key through the agent's page.
    let (status, created) = create(p, rp, token, "record-link", P384_PATIENT);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    browser.goto(&format!("{}/consent/{id}?lang=ja", p.issuer));
    browser.cmd(json!({"cmd": "forget_popups"}));
    browser.cmd(json!({"cmd": "click", "selector": "#consent-sign .flow-button"}));
    browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    wait_text_in_popup(browser, "診療情報の共有に関する同意書");
    browser.cmd(json!({"cmd": "keys", "tab": "popup", "text": SIGN_PASSWORD}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));
    let signed_page = wait_main_text(browser, "一致を確認して記録する");
    assert!(signed_page.contains("試験\u{3000}花子"), "{signed_page}");
    browser.eval(&format!("document.getElementById('patient-id').value = '{P384_PATIENT}'"));
    browser.eval("document.getElementById('patient-id').form.submit()");
    wait_main_text(browser, "本人確認済みです");
    let check = format!("/api/v1/consents?facility={}&patient={P384_PATIENT}&purpose=record-link", clinic.facility);
    let (status, live) = service_get(p, rp, &check);
    assert_eq!(status, 200, "{live}");
    assert_eq!(live["evidence"]["signature_level"], "b-lt", "{live}");
    let sign_cert_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(named(p384, "sign")));
    assert_eq!(live["evidence"]["signer_certificate_sha256"], json!(sign_cert_sha), "the P-384 key signed");
    let dir = p.h.path("consent-p384");
    std::fs::create_dir_all(&dir).unwrap();
    let pdf = dir.join("consent.signed.pdf");
    std::fs::write(&pdf, STANDARD.decode(live["signed_document"].as_str().unwrap()).unwrap()).unwrap();
    let root = dir.join("jpki-p384-sign-root.pem");
    std::fs::write(&root, pem(&named(p384, "sign-ca"))).unwrap();
    let out = crate::pades::pyhanko_validate(&pdf, &root, &tsa.root());
    assert!(out.status.success(), "pyHanko refused the P-384 consent\n{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("INTACT:TRUSTED"), "{}", describe(&out));

    // Linked now: the 4-digit PIN identifies the patient and a presence proof is issued from it.
    let proof = presence_proof::identify_for_records(browser, p, P384_PATIENT, |b| type_pin(b, AUTH_PIN));
    assert!(!proof.is_empty());
    card.remove();
    eprintln!("P-384 card (identification, consent, presence proof): {:.1} s", started.elapsed().as_secs_f64());
}

/// Another facility's PC cannot open the consent; the audit holds every step and every refusal.
fn another_facility_and_the_audit(clinic: &Clinic, id: &str) {
    let Clinic { p, agent, .. } = clinic;

    // Another facility's PC, the same physician: the consent is not theirs to open.
    let (_, other_cert, other_key) = oidc::issue_pc(&p.h, "Other clinic");
    let other = p.with_client_cert(other_cert, other_key);
    crate::portal_card::card_session(&other, agent);
    let r = other.get(&format!("/consent/{id}"));
    assert_eq!(r.status, 403, "{r:?}");
    // A consent shared in the regional network is not asked for at a facility outside it (D169).
    let other_token = access_token(p, &other, &clinic.rp);
    let (status, outside) = create(p, &clinic.rp, &other_token, "record-link", PATIENT_ID);
    assert_eq!(status, 403, "{outside}");
    assert!(outside["error_description"].as_str().unwrap().contains("not a member of the regional network"));
    // Nor can its staff list the patient's consents: the same patient ID there is another patient.
    presence_proof::not_at_another_facility(&other, PATIENT_ID);

    // The audit: every step, the patient only as the pseudonymous key, never the four items.
    let log = p.h.audit_entries();
    let actions: Vec<&str> = log.iter().filter_map(|e| e["action"].as_str()).collect();
    for want in [
        "consent.requested",
        "consent.shown",
        "consent.signed",
        "identity.linked",
        "consent.read",
        "consent.withdrawal_prepared",
        "consent.withdrawn",
        "consent.events",
    ] {
        assert!(actions.contains(&want), "{want} audited: {actions:?}");
    }
    let denied: Vec<&Value> = log.iter().filter(|e| e["outcome"] == "denied").collect();
    for want in ["consent.request", "identity.confirm", "consent.open", "identity.checked"] {
        assert!(denied.iter().any(|e| e["action"] == want), "{want} denied audited: {denied:?}");
    }
}

/// Two readers: the physician's HPKI card in reader 0, the patient's My Number card in reader 1.
fn at_a_two_reader_pc(clinic: &Clinic, browser: &mut Chromium, b: Backend) -> (String, String) {
    let Clinic { p, pc, rp, token, agent, agent_origin, facility, physician, patient, sign_root, tsa, .. } = clinic;
    let (p, pc, rp, token, agent) = (p, pc, rp, token.as_str(), agent);

    // Refusals of the API: a purpose without a template; a patient ID that is not half-width.
    let r = create(p, rp, token, "disclosure.other", PATIENT_ID);
    assert_eq!(r.0, 400, "{:?}", r.1);
    assert!(r.1["error_description"].as_str().unwrap().contains("[[consent.templates]]"), "{}", r.1);
    let r = create(p, rp, token, "record-link", "P－０００１２３");
    assert_eq!(r.0, 400, "{:?}", r.1);

    // The EMR asks for the consent; the portal renders the PDF from the template.
    let (status, created) = create(p, rp, token, "record-link", PATIENT_ID);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["consent_url"], json!(format!("{}/consent/{id}", p.issuer)));
    let (status, pending) = service_get(p, rp, &format!("/api/v1/consents/{id}"));
    assert_eq!((status, pending["state"].as_str()), (200, Some("requested")), "{pending}");
    // No live consent yet: the EMR must not rely on one.
    let check = format!("/api/v1/consents?facility={facility}&patient={PATIENT_ID}&purpose=record-link");
    let (status, none) = service_get(p, rp, &check);
    assert_eq!((status, none["error"].as_str()), (404, Some("no_consent")), "{none}");

    // The physician's browser: the consent page through Chromium, the patient's card in the second reader.
    browser.goto(&format!("{}/consent/{id}?lang=ja", p.issuer));
    let page = main_text(browser);
    let responsible = crate::regional_network::RESPONSIBLE;
    for want in ["診療情報の共有に関する同意書", "地域医療連携ネットワーク", "署名待ちです", "管理責任者", responsible]
    {
        assert!(page.contains(want), "{want}: {page}");
    }
    assert_eq!(browser.eval("document.querySelector('#consent-sign .flow-button').hidden"), false, "the script ran");
    crate::accessibility::assert_wcag21_aa(browser, "main", "the consent page (ja)");
    shot(browser, p, b, "consent-page-ja.png");
    browser.goto(&format!("{}/consent/{id}?lang=en", p.issuer));
    crate::accessibility::assert_wcag21_aa(browser, "main", "the consent page (en)");
    shot(browser, p, b, "consent-page-en.png");
    browser.goto(&format!("{}/consent/{id}?lang=ja", p.issuer));
    // First the card from before the patient's address change: its signing certificate is revoked. The page
    // says so and what to do; nothing is recorded.
    let mut old_card = agent::insert(&clinic.moved, 1);
    agent.wait_card(1, "jpki");
    browser.cmd(json!({"cmd": "forget_popups"}));
    browser.cmd(json!({"cmd": "click", "selector": "#consent-sign .flow-button"}));
    browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    wait_text_in_popup(browser, "診療情報の共有に関する同意書");
    browser.cmd(json!({"cmd": "keys", "tab": "popup", "text": SIGN_PASSWORD}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));
    let refused = wait_main_text(browser, "失効しています");
    assert!(refused.contains("市区町村の窓口") && refused.contains("同意は記録されていません"), "{refused}");
    let (_, still) = service_get(p, rp, &format!("/api/v1/consents/{id}"));
    assert_eq!(still["state"], "shown", "nothing recorded: {still}");
    old_card.remove();
    browser.goto(&format!("{}/consent/{id}?lang=ja", p.issuer));

    let mut patient_in_reader = agent::insert(patient, 1);
    agent.wait_card(1, "jpki");
    browser.cmd(json!({"cmd": "forget_popups"}));
    browser.cmd(json!({"cmd": "click", "selector": "#consent-sign .flow-button"}));
    let window = browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    assert!(window["url"].as_str().unwrap().starts_with(&format!("{agent_origin}/pin/")), "{window}");
    // The agent's own page shows the patient what the PDF says (read from the bytes it signs).
    let shown = wait_text_in_popup(browser, "診療情報の共有に関する同意書");
    assert!(shown.contains("地域医療連携ネットワーク"), "{shown}");
    browser.cmd(json!({"cmd": "keys", "tab": "popup", "text": SIGN_PASSWORD}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));

    // Signed: staff see the four items of the signing certificate and confirm them against the patient ID.
    let signed_page = wait_main_text(browser, "一致を確認して記録する");
    for want in ["試験\u{3000}花子", "平成2年1月1日", "女", "東京都千代田区霞が関"] {
        assert!(signed_page.contains(want), "{want}: {signed_page}");
    }
    assert!(signed_page.contains("患者さん本人の電子署名"), "{signed_page}");
    crate::accessibility::assert_wcag21_aa(browser, "main", "the consent page after signing (ja)");
    shot(browser, p, b, "consent-identity-ja.png");
    browser.goto(&format!("{}/consent/{id}?lang=en", p.issuer));
    crate::accessibility::assert_wcag21_aa(browser, "main", "the consent page after signing (en)");
    shot(browser, p, b, "consent-identity-en.png");
    browser.goto(&format!("{}/consent/{id}?lang=ja", p.issuer));
    // A wrong patient ID links nothing.
    browser.eval("document.getElementById('patient-id').value = 'P-999999'");
    browser.cmd(json!({"cmd": "click", "selector": "form button[type=submit]:not(.danger)"}));
    let wrong = wait_main_text(browser, "患者 ID は、この同意の患者さんのものではありません");
    assert!(wrong.contains("何も記録していません"), "{wrong}");
    browser.goto(&format!("{}/consent/{id}?lang=ja", p.issuer));
    browser.eval(&format!("document.getElementById('patient-id').value = '{PATIENT_ID}'"));
    browser.eval("document.getElementById('patient-id').form.submit()");
    wait_main_text(browser, "本人確認済みです");

    // A later visit: the card's 4-digit PIN alone identifies the patient; a mistyped patient ID is told apart
    // (audited denied), and nothing is linked.
    identify(browser, p, "P-999999");
    type_pin(browser, AUTH_PIN);
    let other = wait_main_text(browser, "一致しません");
    assert!(other.contains("別の患者 ID"), "{other}");

    // The attack (issue #45 item 7, D130): a page of the portal's origin has the agent make a *login* signature
    // (its window then says ポータルへのログイン) over an identification challenge, to pass it off as the patient's
    // identification. The card signs the login's message; the portal checks the identification's and refuses it.
    let r = pc.get("/patients/identify?lang=ja");
    let csrf = crate::portal_card::field(&r.body, "csrf");
    let issued = pc.submit("/patients/identify/challenge", &[("csrf", csrf.as_str())], None);
    let issued: Value = serde_json::from_str(&issued.body).unwrap_or_else(|_| panic!("{issued:?}"));
    let challenge = issued["challenge"].as_str().unwrap().to_owned();
    let done = agent.sign_with("jpki", &challenge, AUTH_PIN, || {});
    assert_eq!(done["status"], "done", "{done}");
    let chain: Vec<&str> = done["result"]["chain"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let passed_off = [
        ("csrf", csrf.as_str()),
        ("patient_id", PATIENT_ID),
        ("challenge", challenge.as_str()),
        ("signature", done["result"]["signature"].as_str().unwrap()),
        ("chain", &chain.join(",")),
    ];
    let r = pc.submit("/patients/identify", &passed_off, None);
    assert_eq!(r.status, 400, "a login's signature identifies nobody: {r:?}");
    assert!(r.body.contains("カードの確認ができませんでした") && !r.body.contains("確認できました。"), "{r:?}");

    // The EMR reads the live consent: the patient's signature, B-LT, the signed PDF.
    let (status, live) = service_get(p, rp, &check);
    assert_eq!(status, 200, "{live}");
    assert_eq!(live["id"], json!(id));
    assert_eq!(live["state"], "signed");
    assert_eq!(live["evidence"]["evidence_level"], "patient_signature", "{live}");
    assert_eq!(live["evidence"]["signature_level"], "b-lt");
    let sign_cert_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(named(patient, "sign")));
    assert_eq!(live["evidence"]["signer_certificate_sha256"], json!(sign_cert_sha), "the JPKI signing key signed");
    let signed = STANDARD.decode(live["signed_document"].as_str().unwrap()).unwrap();
    let dir = p.h.path("consent-signed");
    std::fs::create_dir_all(&dir).unwrap();
    let pdf = dir.join("consent.signed.pdf");
    std::fs::write(&pdf, &signed).unwrap();
    let root = dir.join("jpki-sign-root.pem");
    std::fs::write(&root, pem(sign_root)).unwrap();
    let out = crate::pades::pyhanko_validate(&pdf, &root, &tsa.root());
    assert!(out.status.success(), "pyHanko refused the signed consent\n{}", describe(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("INTACT:TRUSTED"), "{said}");
    let out = p.h.run(&["signature", "verify", pdf.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "hcpki signature verify\n{}", describe(&out));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["format"], "pades", "{verdict}");
    // OpenSSL agrees the signing certificate chains to the JPKI signing root.
    let leaf = dir.join("sign.pem");
    std::fs::write(&leaf, pem(&named(patient, "sign"))).unwrap();
    let out = Command::new("openssl").args(["verify", "-CAfile"]).arg(&root).arg(&leaf).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));

    // The EMR's access token for this patient carries the consent (IHE IUA's BPPC extension and hcpki's claim).
    let claims = token_claims(p, pc, rp, Some(&id)).unwrap_or_else(|e| panic!("{e}"));
    let bppc = &claims["extensions"]["ihe_bppc"];
    assert_eq!(bppc["doc_id"], json!(format!("{}/api/v1/consents/{id}", p.issuer)), "{claims}");
    assert_eq!(bppc["patient_id"], live["patient"]);
    assert_eq!(bppc["acp"], "urn:hcpki:consent:emr:record-link");
    assert_eq!(claims["consent"]["evidence"]["evidence_level"], "patient_signature");

    // A second consent for the same purpose while one is live: refused, nothing stored.
    let (status, again) = create(p, rp, token, "record-link", PATIENT_ID);
    assert_eq!((status, again["error"].as_str()), (409, Some("already_consented")), "{again}");

    // A withdrawal signed with another person's My Number card: refused, nothing recorded.
    patient_in_reader.remove();
    let mut stranger = agent::insert(&clinic.stranger, 1);
    agent.wait_card(1, "jpki");
    withdraw_on_page(browser, p, &id, SIGN_PASSWORD);
    let other = wait_main_text(browser, "同意したときと別のカード");
    assert!(other.contains("撤回は記録していません"), "{other}");
    let (_, still) = service_get(p, rp, &check);
    assert_eq!(still["state"], "signed", "the consent is still live: {still}");
    // Nor does the stranger's card identify the patient: it was never linked here.
    identify(browser, p, PATIENT_ID);
    type_pin(browser, AUTH_PIN);
    let unknown = wait_main_text(browser, "このカードはまだ本人確認されていません");
    assert!(!unknown.contains("確認できました"), "{unknown}");
    crate::accessibility::assert_wcag21_aa(browser, "main", "a card not yet confirmed here (ja)");
    shot(browser, p, b, "identify-not-linked-ja.png");
    stranger.remove();
    p384_card(clinic, browser);
    agent::insert_into(&mut patient_in_reader, 1);
    agent.wait_card(1, "jpki");

    // 受診確認 (issue #49, D148): the patient's card identifies them for the records service, whose policy requires
    // a fresh presence proof; the proof is checked by an independent verifier and the attacks refused.
    let proof = presence_proof::identify_for_records(browser, p, PATIENT_ID, |b| type_pin(b, AUTH_PIN));
    crate::accessibility::assert_wcag21_aa(browser, "main", "a presence proof issued (ja)");
    shot(browser, p, b, "identify-presence-ja.png");
    let records_ref = presence_proof::checked(p, pc, rp, &proof, PATIENT_ID)["sub"].as_str().unwrap().to_owned();
    // The consent names the regional network: its member service (records) checks it by that reference.
    crate::regional_network::live_for_members(p, rp, &records_ref, facility);

    // Withdrawal: signed with the same card, at once; the EMR learns of it from the feed.
    withdraw_on_page(browser, p, &id, SIGN_PASSWORD);
    wait_main_text(browser, "この同意は撤回されました");
    let (status, gone) = service_get(p, rp, &check);
    assert_eq!((status, gone["error"].as_str()), (404, Some("no_consent")), "{gone}");
    let (status, feed) = service_get(p, rp, "/api/v1/consent-events?since=0");
    assert_eq!(status, 200, "{feed}");
    let events = feed["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{feed}");
    assert_eq!((events[0]["id"].as_str(), events[0]["type"].as_str()), (Some(id.as_str()), Some("withdrawn")));
    assert_eq!(events[0]["withdrawal"]["evidence_level"], "patient_signature");
    // No token carries a withdrawn consent.
    let refused = token_claims(p, pc, rp, Some(&id)).unwrap_err();
    assert!(refused.contains("not live"), "{refused}");
    // And every member of the network, at once.
    crate::regional_network::withdrawn_for_members(p, rp, &records_ref);

    // A patient who cannot sign (the password forgotten): the physician attests with the HPKI card, and every
    // answer marks it as the weaker evidence.
    let (status, created) = create(p, rp, token, "disclosure.hospital-b", PATIENT_ID);
    assert_eq!(status, 201, "{created}");
    let attested = created["id"].as_str().unwrap().to_owned();
    browser.goto(&format!("{}/consent/{attested}?lang=ja", p.issuer));
    browser.eval("document.querySelector('#consent-attest').closest('details').open = true");
    browser.cmd(json!({"cmd": "click", "selector": "#reason-password_forgotten"}));
    browser.cmd(json!({"cmd": "forget_popups"}));
    browser.cmd(json!({"cmd": "click", "selector": "#consent-attest .flow-button"}));
    browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    let shown = wait_text_in_popup(browser, "署名用パスワードを忘れた");
    assert!(shown.contains("B 病院"), "{shown}");
    browser.cmd(json!({"cmd": "keys", "tab": "popup", "text": crate::portal_card::PIN}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));
    let page = wait_main_text(browser, "医師による確認(患者さん本人の署名より弱い証拠)");
    assert!(!page.contains("一致を確認して記録する"), "an attestation links no card: {page}");
    let (status, weak) = service_get(p, rp, &format!("/api/v1/consents/{attested}"));
    assert_eq!((status, weak["state"].as_str()), (200, Some("signed")), "{weak}");
    assert_eq!(weak["evidence"]["evidence_level"], "physician_attestation", "{weak}");
    let signature_cert_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(named(physician, "signature")));
    assert_eq!(weak["evidence"]["signer_certificate_sha256"], json!(signature_cert_sha));
    let claims = token_claims(p, pc, rp, Some(&attested)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claims["consent"]["evidence"]["evidence_level"], "physician_attestation", "{claims}");
    agreed_with_the_pin(clinic, browser, b);
    patient_in_reader.remove();
    (id, proof)
}

/// D130 item 3: a template that asks for no signature (`evidence = "authentication"`). The patient reads the same
/// PDF on the agent's page and types the 4-digit user PIN; the record says `patient_authentication`, and its proof
/// (the card's answer over the challenge and the PDF's SHA-256, time-stamped) checks out with OpenSSL alone. The
/// attacks first: the PIN refused for a template that asks for a signature, and a card answer over the bare
/// challenge (what any login page can obtain) refused as an agreement. The withdrawal goes the same way.
fn agreed_with_the_pin(clinic: &Clinic, browser: &mut Chromium, b: Backend) {
    let Clinic { p, pc, rp, token, agent, facility, patient, tsa, .. } = clinic;
    let (status, created) = create(p, rp, token, "visit-summary", PATIENT_ID);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let page = pc.get(&format!("/consent/{id}?lang=ja"));
    let csrf = crate::portal_card::field(&page.body, "csrf");
    // A template asking for a signature refuses the PIN (the record-link consent of the same patient: its
    // withdrawal is prepared, but no challenge is given for it).
    let (_, signature_asked) = create(p, rp, token, "record-link", PATIENT_ID);
    let signature_asked = signature_asked["id"].as_str().unwrap().to_owned();
    let fields = [("csrf", csrf.as_str()), ("step", "show"), ("role", "auth")];
    let r = pc.submit(&format!("/consent/{signature_asked}/prepare"), &fields, None);
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body.contains("署名(署名用パスワード)で記録するよう設定"), "{r:?}");
    // The attack: the agent's login signature over the agreement's challenge (no document shown) is refused.
    let r = pc.submit(&format!("/consent/{id}/prepare"), &fields, None);
    let prepared: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}"));
    let challenge = prepared["challenge"].as_str().unwrap_or_else(|| panic!("{prepared}")).to_owned();
    let done = agent.sign_with("jpki", &challenge, AUTH_PIN, || {});
    let chain: Vec<&str> = done["result"]["chain"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let chain = chain.join(",");
    let passed_off = [
        ("csrf", csrf.as_str()),
        ("action", "agree"),
        ("challenge", challenge.as_str()),
        ("signature", done["result"]["signature"].as_str().unwrap()),
        ("chain", chain.as_str()),
    ];
    let r = pc.submit(&format!("/consent/{id}"), &passed_off, None);
    assert_eq!(r.status, 400, "a login's signature agrees to nothing: {r:?}");
    let r = pc.submit(&format!("/consent/{id}"), &passed_off, None);
    assert_eq!(r.status, 400, "the challenge was used: {r:?}");
    let (_, still) = service_get(p, rp, &format!("/api/v1/consents/{id}"));
    assert_eq!(still["state"], "shown", "nothing recorded: {still}");

    // The patient agrees on the agent's page with the 4-digit PIN.
    browser.goto(&format!("{}/consent/{id}?lang=ja", p.issuer));
    let text = main_text(browser);
    assert!(text.contains("患者さんの同意待ちです") && text.contains("暗証番号(数字 4 桁)"), "{text}");
    assert_eq!(browser.eval("document.querySelector('#consent-sign') === null"), true, "no signature asked: {text}");
    crate::accessibility::assert_wcag21_aa(browser, "main", "the consent page asking for the PIN (ja)");
    shot(browser, p, b, "consent-pin-page-ja.png");
    browser.cmd(json!({"cmd": "forget_popups"}));
    browser.cmd(json!({"cmd": "click", "selector": "#consent-agree .flow-button"}));
    browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    let shown = wait_text_in_popup(browser, "受診内容の要約の共有に関する同意書");
    assert!(shown.contains("利用者証明用暗証番号（数字4桁）"), "{shown}");
    assert!(!shown.contains("署名用パスワード"), "{shown}");
    crate::accessibility::assert_wcag21_aa(browser, "popup", "the agent's PIN consent page (ja)");
    shot_of(browser, p, b, "popup", "consent-pin-agent-ja.png");
    browser.cmd(json!({"cmd": "keys", "tab": "popup", "text": AUTH_PIN}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));
    let agreed = wait_main_text(browser, "患者さん本人の暗証番号による同意");
    assert!(agreed.contains("同意が記録されています") && !agreed.contains("一致を確認して記録する"), "{agreed}");
    crate::accessibility::assert_wcag21_aa(browser, "main", "a consent agreed with the PIN (ja)");
    shot(browser, p, b, "consent-pin-agreed-ja.png");

    // The EMR reads it: the level, no signed PDF but the PDF agreed to and the proof.
    let check = format!("/api/v1/consents?facility={facility}&patient={PATIENT_ID}&purpose=visit-summary");
    let (status, live) = service_get(p, rp, &check);
    assert_eq!(status, 200, "{live}");
    assert_eq!(live["evidence"]["evidence_level"], "patient_authentication", "{live}");
    assert_eq!(live["evidence"]["format"], "card_authentication", "{live}");
    assert!(live.get("signed_document").is_none(), "{live}");
    let auth_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(named(patient, "auth")));
    assert_eq!(live["evidence"]["signer_certificate_sha256"], json!(auth_sha), "the user-authentication key agreed");
    let claims = token_claims(p, pc, rp, Some(&id)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claims["consent"]["evidence"]["evidence_level"], "patient_authentication", "{claims}");
    check_proof_with_openssl(p, tsa, &live);

    // The withdrawal with the same card and PIN.
    withdraw_on_page(browser, p, &id, AUTH_PIN);
    wait_main_text(browser, "この同意は撤回されました");
    let (status, gone) = service_get(p, rp, &check);
    assert_eq!((status, gone["error"].as_str()), (404, Some("no_consent")), "{gone}");
}

/// The agreement's proof checked without hcpki: the message rebuilt from its fields, the card's signature over it
/// verified by OpenSSL with the user-authentication certificate's key, the PDF's SHA-256 the one agreed to, and
/// the RFC 3161 token over SHA-256(signature) verified by `openssl ts` against the TSA's root.
fn check_proof_with_openssl(p: &Portal, tsa: &ReferenceTsa, live: &Value) {
    let proof = &live["agreement_proof"];
    assert_eq!(proof["type"], "hcpki consent agreement v1", "{live}");
    let pdf = STANDARD.decode(live["document"].as_str().unwrap()).unwrap();
    let pdf_sha = <sha2::Sha256 as sha2::Digest>::digest(&pdf);
    assert_eq!(proof["document_sha256"], json!(hex::encode(pdf_sha)), "{proof}");
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut message = proof["context"].as_str().unwrap().as_bytes().to_vec();
    message.push(0);
    message.extend_from_slice(proof["origin"].as_str().unwrap().as_bytes());
    message.push(0);
    message.extend_from_slice(&url.decode(proof["challenge"].as_str().unwrap()).unwrap());
    message.extend_from_slice(&pdf_sha);
    let dir = p.h.path("consent-agreement");
    std::fs::create_dir_all(&dir).unwrap();
    let signature = STANDARD.decode(proof["signature"].as_str().unwrap()).unwrap();
    let leaf = STANDARD.decode(proof["chain"][0].as_str().unwrap()).unwrap();
    std::fs::write(dir.join("message.bin"), &message).unwrap();
    std::fs::write(dir.join("signature.bin"), &signature).unwrap();
    std::fs::write(dir.join("leaf.pem"), pem(&leaf)).unwrap();
    let key =
        Command::new("openssl").args(["x509", "-pubkey", "-noout", "-in"]).arg(dir.join("leaf.pem")).output().unwrap();
    assert!(key.status.success(), "{}", describe(&key));
    std::fs::write(dir.join("key.pem"), &key.stdout).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(dir.join("key.pem"))
        .arg("-signature")
        .arg(dir.join("signature.bin"))
        .arg(dir.join("message.bin"))
        .output()
        .unwrap();
    assert!(out.status.success(), "OpenSSL refused the card's answer\n{}", describe(&out));
    std::fs::write(dir.join("token.der"), STANDARD.decode(proof["time_stamp"].as_str().unwrap()).unwrap()).unwrap();
    let imprint = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&signature));
    let out = Command::new("openssl")
        .args(["ts", "-verify", "-digest", &imprint, "-sha256", "-token_in", "-in"])
        .arg(dir.join("token.der"))
        .arg("-CAfile")
        .arg(tsa.root())
        .arg("-untrusted")
        .arg(tsa.dir().join("tsa.pem"))
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl ts refused the proof's time stamp\n{}", describe(&out));
}

/// One reader (the agent owns reader 0 only), another day: the patient is back at reception. Staff identify them
/// with the card's 4-digit PIN — the page in English this time, so the agent's window is too (the portal's
/// language travels with the request), and it says 受付での本人確認, not a login —; then a new consent: the page
/// lends the reader (D91) — the session is kept while the physician's card is out and paused for everything else,
/// the patient's card signs in the same reader, and the physician's own card back resumes the session before the
/// signature is posted; staff confirm the identity and the EMR reads the live consent. Screenshots of each step,
/// the agent's window included, in both languages.
fn at_reception_with_one_reader(clinic: &mut Clinic, browser: &mut Chromium, b: Backend) {
    let mut patient_card = hcpki_vcard::vpcd::VpcdCard::new(clinic.patient.card());
    for lang in ["en", "ja"] {
        browser.goto(&format!("{}/patients/identify?lang={lang}", clinic.p.issuer));
        crate::accessibility::assert_wcag21_aa(browser, "main", &format!("the identification page ({lang})"));
        shot(browser, &clinic.p, b, &format!("identify-page-{lang}.png"));
    }
    identify_in(browser, &clinic.p, PATIENT_ID, "en");
    wait_status(browser, "Take your own card out of the reader");
    clinic.physician_card.remove();
    agent::insert_into(&mut patient_card, 0);
    browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    let asked = wait_text_in_popup(browser, "Confirming who you are at reception");
    assert!(asked.contains("Type your My Number card's PIN (4 digits)") && !asked.contains("Logging in"), "{asked}");
    crate::accessibility::assert_wcag21_aa(browser, "popup", "the agent's identification page (en)");
    shot_of(browser, &clinic.p, b, "popup", "reception-agent-identify-en.png");
    browser.try_cmd(&json!({"cmd": "eval", "tab": "popup", "expr": "location.search = '?lang=ja'"}));
    let asked = wait_text_in_popup(browser, "受付での本人確認（ログインではありません）");
    assert!(asked.contains("数字 4 桁") && !asked.contains("ポータルへのログイン"), "{asked}");
    crate::accessibility::assert_wcag21_aa(browser, "popup", "the agent's identification page (ja)");
    shot_of(browser, &clinic.p, b, "popup", "reception-agent-identify-ja.png");
    browser.cmd(json!({"cmd": "type", "tab": "popup", "selector": "#pin", "text": AUTH_PIN}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));
    card_back(browser, clinic, &mut patient_card, "put your own card back into the reader");
    let identified = wait_main_text(browser, "Identified.");
    assert!(identified.contains(PATIENT_ID), "{identified}");
    crate::accessibility::assert_wcag21_aa(browser, "main", "the identification's answer (en)");
    shot(browser, &clinic.p, b, "identify-en.png");

    // The consent, the reader lent.
    let (status, created) = create(&clinic.p, &clinic.rp, &clinic.token, "record-link", PATIENT_ID);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    browser.goto(&format!("{}/consent/{id}?lang=ja", clinic.p.issuer));
    browser.cmd(json!({"cmd": "forget_popups"}));
    browser.cmd(json!({"cmd": "click", "selector": "#consent-sign .flow-button"}));

    // The page sees one reader holding the physician's card: it lends it and says what to do.
    wait_status(browser, "ご自身のカードをカードリーダーから抜き");
    let paused = clinic.pc.get("/");
    assert_eq!(paused.status, 423, "nobody can use the lent session meanwhile: {paused:?}");
    // The physician's card out (the agent reports it: the session is kept), the patient's in the same reader.
    clinic.physician_card.remove();
    agent::insert_into(&mut patient_card, 0);
    browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    wait_text_in_popup(browser, "診療情報の共有に関する同意書");
    let asked = wait_text_in_popup(browser, "署名用パスワード（英数字6〜16文字）");
    assert!(asked.contains("同意書への署名"), "{asked}");
    crate::accessibility::assert_wcag21_aa(browser, "popup", "the agent's consent page (ja)");
    shot_of(browser, &clinic.p, b, "popup", "reception-agent-consent-ja.png");
    browser.try_cmd(&json!({"cmd": "eval", "tab": "popup", "expr": "location.search = '?lang=en'"}));
    wait_text_in_popup(browser, "Signing a consent form");
    crate::accessibility::assert_wcag21_aa(browser, "popup", "the agent's consent page (en)");
    shot_of(browser, &clinic.p, b, "popup", "reception-agent-consent-en.png");
    browser.cmd(json!({"cmd": "type", "tab": "popup", "selector": "#pin", "text": SIGN_PASSWORD}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));

    // Signed; the page waits for the physician's own card before it posts.
    wait_status(browser, "ご自身のカードをカードリーダーに戻してください");
    assert_eq!(clinic.pc.get("/").status, 423, "still paused until the physician's card is back");
    patient_card.remove();
    agent::insert_into(&mut clinic.physician_card, 0);
    // The card was linked at the first visit: the signed consent shows the identity confirmed, no staff step.
    let signed = wait_main_text(browser, "本人確認済みです");
    assert!(signed.contains("患者さん本人の電子署名") && !signed.contains("一致を確認して記録する"), "{signed}");
    crate::accessibility::assert_wcag21_aa(browser, "main", "a consent signed by a returning patient (ja)");
    shot(browser, &clinic.p, b, "consent-signed-returning-ja.png");
    let home = clinic.pc.get("/");
    assert_eq!(home.status, 200, "the session goes on: {home:?}");

    // Identified again at the same one-reader PC, in Japanese: the patient's card and its 4-digit PIN alone; the
    // reader is lent again for it.
    identify(browser, &clinic.p, PATIENT_ID);
    wait_status(browser, "ご自身のカードをカードリーダーから抜き");
    clinic.physician_card.remove();
    agent::insert_into(&mut patient_card, 0);
    type_pin(browser, AUTH_PIN);
    card_back(browser, clinic, &mut patient_card, "ご自身のカードをカードリーダーに戻してください");
    let identified = wait_main_text(browser, "確認できました");
    assert!(identified.contains(PATIENT_ID), "{identified}");
    crate::accessibility::assert_wcag21_aa(browser, "main", "the identification's answer (ja)");
    shot(browser, &clinic.p, b, "identify-ja.png");
    // Attacks on the identification: a made-up challenge with the patient's real certificate and any signature,
    // and a challenge answered by no card at all: refused with the page's words, audited, nothing identified.
    let r = clinic.pc.get("/patients/identify?lang=ja");
    let csrf = crate::portal_card::field(&r.body, "csrf");
    let chain = STANDARD.encode(named(&clinic.patient, "auth"));
    let forged = [
        ("csrf", csrf.as_str()),
        ("patient_id", PATIENT_ID),
        ("challenge", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ("signature", "AAAA"),
        ("chain", chain.as_str()),
    ];
    let r = clinic.pc.submit("/patients/identify", &forged, None);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.contains("カードの確認ができませんでした") && !r.body.contains("確認できました。"), "{r:?}");
    let denied = clinic
        .p
        .h
        .audit_entries()
        .into_iter()
        .filter(|e| e["action"] == "identity.checked" && e["outcome"] == "denied")
        .count();
    assert!(denied >= 1, "the forged answer is audited");

    // A consent asked for from the portal's own page (the portal's template), which the patient declines: the
    // page records the refusal with a fixed reason.
    let r = clinic.pc.get("/consents/new?lang=ja");
    assert!(r.body.contains("受診歴の照会に関する同意書") && !r.body.contains("record-link"), "{r:?}");
    let csrf = crate::portal_card::field(&r.body, "csrf");
    let fields = [("csrf", csrf.as_str()), ("purpose", "visit-history"), ("patient_id", PATIENT_ID)];
    let r = clinic.pc.submit("/consents/new", &fields, None);
    assert_eq!(r.status, 303, "{r:?}");
    let declined = r.location.rsplit('/').next().unwrap().to_owned();
    let r = clinic.pc.get(&format!("/consent/{declined}?lang=ja"));
    assert!(r.body.contains("保健医療情報ネットワーク ポータル") && r.body.contains("受診歴、処方"), "{r:?}");
    // A purpose the portal has no template for: refused, audited.
    let wrong = [("csrf", csrf.as_str()), ("purpose", "record-link"), ("patient_id", PATIENT_ID)];
    let r = clinic.pc.submit("/consents/new", &wrong, None);
    assert_eq!(r.status, 503, "{r:?}");
    let r = clinic.pc.submit(
        &format!("/consent/{declined}"),
        &[("csrf", &csrf), ("action", "refuse"), ("reason", "declined")],
        None,
    );
    assert!(r.body.contains("同意は得られませんでした"), "{r:?}");
    // The EMR cannot see the portal's consents.
    let (status, _) = service_get(&clinic.p, &clinic.rp, &format!("/api/v1/consents/{declined}"));
    assert_eq!(status, 404);

    // Reception staff start a consent too (D169): a password + TOTP account signed in at the same facility PC,
    // through the same page and form; the document names them as who asked (受付担当者), not as the physician, and
    // the request is audited as theirs.
    let secret = clinic.p.totp_user("reception", "受付 次郎");
    let desk = clinic.pc.other_browser("reception");
    assert_eq!(desk.login("reception", oidc::PASSWORD, &oidc::totp(&secret, 0), None).status, 303);
    let r = desk.get("/consents/new?lang=ja");
    assert_eq!(r.status, 200, "{r:?}");
    let desk_csrf = crate::portal_card::field(&r.body, "csrf");
    let fields = [("csrf", desk_csrf.as_str()), ("purpose", "visit-history"), ("patient_id", PATIENT_ID)];
    let r = desk.submit("/consents/new", &fields, None);
    assert_eq!(r.status, 303, "{r:?}");
    let asked = r.location.rsplit('/').next().unwrap().to_owned();
    let r = desk.get(&format!("/consent/{asked}?lang=ja"));
    assert!(r.body.contains("受付担当者") && r.body.contains("受付 次郎"), "{r:?}");
    assert!(!r.body.contains("担当医師"), "{r:?}");
    let requested = clinic
        .p
        .h
        .audit_entries()
        .into_iter()
        .find(|e| e["action"] == "consent.requested" && e["target"] == asked.as_str())
        .unwrap_or_else(|| panic!("the reception's request is audited"));
    assert!(requested["actor"].as_str().unwrap().contains("reception"), "{requested}");
    let r = desk.submit(
        &format!("/consent/{asked}"),
        &[("csrf", &desk_csrf), ("action", "refuse"), ("reason", "declined")],
        None,
    );
    assert!(r.body.contains("同意は得られませんでした"), "{r:?}");

    let check = format!("/api/v1/consents?facility={}&patient={PATIENT_ID}&purpose=record-link", clinic.facility);
    let (status, live) = service_get(&clinic.p, &clinic.rp, &check);
    assert_eq!((status, live["evidence"]["evidence_level"].as_str()), (200, Some("patient_signature")), "{live}");
    let actions: Vec<String> =
        clinic.p.h.audit_entries().iter().filter_map(|e| e["action"].as_str().map(str::to_owned)).collect();
    for want in [
        "session.lend",
        "session.lend.use",
        "session.lend.return",
        "consent.signed",
        "identity.linked",
        "identity.checked",
        "consent.requested",
        "consent.refused",
    ] {
        assert!(actions.iter().any(|a| a == want), "{want} audited: {actions:?}");
    }
    assert!(!actions.iter().any(|a| a == "session.lend.expired"), "the session was not ended");
}

/// The lend's end: once the page says `status` (the card is done), the patient's card out of reader 0 and the
/// physician's back in.
fn card_back(
    browser: &mut Chromium,
    clinic: &mut Clinic,
    patient_card: &mut hcpki_vcard::vpcd::VpcdCard,
    status: &str,
) {
    wait_status(browser, status);
    patient_card.remove();
    agent::insert_into(&mut clinic.physician_card, 0);
}

/// On the identification page: type `patient_id` and press the button (the card PIN follows in the agent's
/// window, or, on a one-reader PC, the lend first).
fn identify(browser: &mut Chromium, p: &Portal, patient_id: &str) {
    identify_in(browser, p, patient_id, "ja");
}

/// [`identify`] on the page in `lang`.
fn identify_in(browser: &mut Chromium, p: &Portal, patient_id: &str, lang: &str) {
    browser.goto(&format!("{}/patients/identify?lang={lang}", p.issuer));
    browser.eval(&format!("document.getElementById('patient-id').value = '{patient_id}'"));
    browser.cmd(json!({"cmd": "forget_popups"}));
    browser.cmd(json!({"cmd": "click", "selector": "#identify .flow-button"}));
}

/// The card agent's window asks for the PIN: type `pin`.
fn type_pin(browser: &mut Chromium, pin: &str) {
    let window = browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    assert!(window["url"].as_str().unwrap().contains("/pin/"), "{window}");
    browser.cmd(json!({"cmd": "keys", "tab": "popup", "text": pin}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));
}

/// A screenshot of the main tab into the test's directory, and into docs/screenshots with
/// `HCPKI_UPDATE_SCREENSHOTS=1` (SQLite run only).
fn shot(browser: &mut Chromium, p: &Portal, b: Backend, name: &str) {
    shot_of(browser, p, b, "main", name);
}

/// [`shot`] of `tab` (`popup`: the card agent's window).
fn shot_of(browser: &mut Chromium, p: &Portal, b: Backend, tab: &str, name: &str) {
    let dir = p.h.path("consent-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    browser.screenshot_of(tab, &dir.join(name));
    if b == Backend::Sqlite && std::env::var_os("HCPKI_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        std::fs::copy(dir.join(name), crate::harness::repo_root().join("docs/screenshots").join(name)).unwrap();
    }
}

/// On consent `id`'s page: open the withdrawal, press its button, and once the agent's window shows the
/// withdrawal (同意撤回書), type `secret` (the signing password or the 4-digit PIN, as the template asks).
fn withdraw_on_page(browser: &mut Chromium, p: &Portal, id: &str, secret: &str) {
    browser.goto(&format!("{}/consent/{id}?lang=ja", p.issuer));
    browser.eval("document.querySelector('#consent-withdraw').closest('details').open = true");
    browser.cmd(json!({"cmd": "forget_popups"}));
    browser.cmd(json!({"cmd": "click", "selector": "#consent-withdraw .flow-button"}));
    browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    let shown = wait_text_in_popup(browser, "同意撤回書");
    assert!(shown.contains("撤回"), "{shown}");
    browser.cmd(json!({"cmd": "keys", "tab": "popup", "text": secret}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));
}

/// The consent page's status line (its script reports each step there) once it says `want`.
fn wait_status(browser: &mut Chromium, want: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let expr = "[...document.querySelectorAll('.flow-status')].map(e => e.innerText).join(' | ')";
    loop {
        let reply = browser.try_cmd(&json!({"cmd": "eval", "expr": expr}));
        let text = reply["value"].as_str().unwrap_or_default().to_owned();
        if text.contains(want) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the page never said {want:?}: {text}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The claims of an access token the EMR gets for the physician signed in at `pc` (authorization code with
/// PKCE), for `consent` when given; the token endpoint's refusal otherwise.
fn token_claims(p: &Portal, pc: &Portal, rp: &Rp, consent: Option<&str>) -> Result<Value, String> {
    let more: Vec<(&str, &str)> = consent.map(|id| ("consent", id)).into_iter().collect();
    let tokens = presence_proof::tokens(p, pc, rp, "emr", "http://127.0.0.1:9/emr", &more);
    let Some(token) = tokens["access_token"].as_str() else { return Err(tokens.to_string()) };
    let payload = token.split('.').nth(1).unwrap();
    Ok(serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap())
}

/// `POST /api/v1/consents` by the EMR with the physician's `token`: the status and the JSON answer.
fn create(p: &Portal, rp: &Rp, token: &str, purpose: &str, patient: &str) -> (u16, Value) {
    let assertion = rp.assertion_as(p, "emr", 60, None);
    let r = p.curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        "--data-urlencode",
        &format!("client_assertion_type={JWT_BEARER}"),
        "--data-urlencode",
        &format!("client_assertion={assertion}"),
        "--data-urlencode",
        &format!("purpose={purpose}"),
        "--data-urlencode",
        &format!("patient={patient}"),
        &format!("{}/api/v1/consents", p.issuer),
    ]);
    (r.status, serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}")))
}

/// A GET of the EMR at `path` (its query, if any, extended with the client assertion).
fn service_get(p: &Portal, rp: &Rp, path: &str) -> (u16, Value) {
    let assertion = rp.assertion_as(p, "emr", 60, None);
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = p.get(&format!("{path}{sep}client_assertion_type={}&client_assertion={assertion}", oidc::enc(JWT_BEARER)));
    (r.status, serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}")))
}

fn main_text(browser: &mut Chromium) -> String {
    browser.eval("document.querySelector('main')?.innerText ?? ''").as_str().unwrap_or_default().to_owned()
}

/// The main tab's text once it shows `want` (the page posts and the server answers after the card signed).
pub(crate) fn wait_main_text(browser: &mut Chromium, want: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let reply = browser.try_cmd(&json!({"cmd": "eval", "expr": "document.querySelector('main')?.innerText ?? ''"}));
        let text = reply["value"].as_str().unwrap_or_default().to_owned();
        if text.contains(want) {
            return text;
        }
        if std::time::Instant::now() > deadline {
            let status = browser.try_cmd(&json!({"cmd": "eval", "expr": "[...document.querySelectorAll('.flow-status')].map(e => e.innerText).join(' | ')"}));
            panic!("the page never showed {want:?}: {text}\nstatus: {}", status["value"]);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
