//! Document signatures over virtual cards in in-process readers: the signature key signs what the agent derived
//! from the document it showed, and only that key; a login never reaches it; what is refused signs nothing.

use std::sync::Mutex;

use hcpki_docsig::signature::cades;
use zeroize::Zeroizing;

use super::*;
use crate::broker::Broker;
use crate::service::{KeyRole, Pin, PinQuestion};
use crate::testkit::{MemReaders, hpki_identity, jpki_identity, jpki_p384_identity, request, verify};

const FHIR: &[u8] = b"{\"resourceType\":\"Bundle\",\"type\":\"document\",\"title\":\"\xe8\xa8\xba\xe7\x99\x82\xe6\x83\x85\xe5\xa0\xb1\"}\n";

/// Answers `pin` and records which key each question was for.
struct Recording {
    pin: &'static str,
    roles: Mutex<Vec<KeyRole>>,
}

impl Recording {
    fn new(pin: &'static str) -> Self {
        Recording { pin, roles: Mutex::new(Vec::new()) }
    }
}

impl PinPrompt for Recording {
    fn ask(&self, q: &PinQuestion) -> Result<Pin, AgentError> {
        self.roles.lock().unwrap().push(q.role);
        Ok(Pin(Zeroizing::new(self.pin.to_owned())))
    }
}

fn certificate(identity: &hcpki_vcard::identity::Identity, name: &str) -> Vec<u8> {
    identity.certificates().into_iter().find(|(n, _)| *n == name).unwrap().1.to_vec()
}

fn hpki_broker() -> Broker {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", hpki_identity().card());
    Broker::new(readers)
}

fn card(kind: CardKind) -> DocumentSignRequest {
    DocumentSignRequest { reader: None, kind, allow_last_try: false }
}

/// The document path reaches the signature key only and the login path the authentication key only: each
/// signature verifies with its own certificate, each PIN question names its key, and the .p7s names the
/// signature certificate (nonRepudiation) as its signer.
#[test]
fn a_document_is_signed_by_the_signature_key_and_a_login_by_the_authentication_key() {
    let broker = hpki_broker();
    let doc = Document::new(Format::Cades, "診療情報提供書", Some("dir/letter.json"), FHIR.to_vec()).unwrap();
    let prompt = Recording::new("hpki1234");
    let signed = sign(&broker, &doc, &card(CardKind::Hpki), &prompt, 1_790_000_000, &[]).unwrap();
    let signature_cert = certificate(hpki_identity(), "signature");
    assert_eq!(signed.signed.chain.first(), Some(&signature_cert));
    let checked = cades::verify(&signed.output, FHIR).unwrap();
    assert_eq!(der::Encode::to_der(&checked.signer).unwrap(), signature_cert);
    assert_eq!(checked.level, cades::Level::BaselineB);
    assert!(cades::verify(&signed.output, b"another document").is_err());

    let login = request(CardKind::Hpki);
    let logged_in = broker.sign(&login, &prompt).unwrap();
    let auth_cert = certificate(hpki_identity(), "authentication");
    assert_eq!(logged_in.chain.first(), Some(&auth_cert));
    verify(&logged_in.chain, &login.message, &logged_in.signature);
    assert_eq!(*prompt.roles.lock().unwrap(), vec![KeyRole::Sign, KeyRole::Auth]);
}

/// A My Number card signs a consent with its signing key: the certificate, readable only after the signing
/// password, is read in the same transaction and named in the signature.
#[test]
fn a_my_number_card_signs_a_consent_with_its_signing_key() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers);
    let doc = Document::new(Format::Cades, "同意書", None, b"I agree.\n".to_vec()).unwrap();
    let prompt = Recording::new("sign1234");
    let signed = sign(&broker, &doc, &card(CardKind::Jpki), &prompt, 1_790_000_000, &[]).unwrap();
    let checked = cades::verify(&signed.output, b"I agree.\n").unwrap();
    assert_eq!(der::Encode::to_der(&checked.signer).unwrap(), certificate(jpki_identity(0), "sign"));
    assert_eq!(*prompt.roles.lock().unwrap(), vec![KeyRole::Sign]);
    // The user-authentication certificate, read from the same card in the same transaction, travels with the
    // signed file (result.document.authentication_certificate); an HPKI card's signature carries none.
    let file = signed.into_signed(Format::Cades).document.unwrap();
    assert_eq!(file.authentication_certificate, Some(certificate(jpki_identity(0), "auth")));
    let json = serde_json::to_value(&file).unwrap();
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, certificate(jpki_identity(0), "auth"));
    assert_eq!(json["authentication_certificate"], b64);
    let doc = Document::new(Format::Cades, "letter", None, b"x".to_vec()).unwrap();
    let hpki = sign(&hpki_broker(), &doc, &card(CardKind::Hpki), &Recording::new("hpki1234"), 0, &[]).unwrap();
    let file = hpki.into_signed(Format::Cades).document.unwrap();
    assert_eq!(file.authentication_certificate, None);
    assert!(serde_json::to_value(&file).unwrap().get("authentication_certificate").is_none());
}

/// The next My Number card (D153): its P-384 signing key signs a consent PDF (PAdES) and a `.p7s` through the agent
/// — SHA-384 handed to the card, its r ‖ s converted once to DER, the CMS hashing with SHA-384 — and each verifies.
#[test]
fn a_p384_my_number_card_signs_a_consent_pdf_and_a_p7s() {
    use hcpki_docsig::consent_document::{Item, Kind};
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_p384_identity().card());
    let broker = Broker::new(readers);
    let statement = Statement {
        kind: Kind::Consent,
        title: "診療情報の共有に関する同意書".into(),
        items: vec![Item { label: "目的".into(), text: "他の医療機関との診療情報の共有".into() }],
        reference: "consent-p384".into(),
    };
    let pdf = hcpki_docsig::consent_document::render(&statement, 1_790_000_000).unwrap();
    let doc = Document::new(Format::Pades, "同意書", Some("consent.pdf"), pdf).unwrap();
    let signed = sign(&broker, &doc, &card(CardKind::Jpki), &Recording::new("sign1234"), 1_790_000_000, &[]).unwrap();
    let report = hcpki_docsig::signature::pades::verify(&signed.output).unwrap();
    assert_eq!(report.signatures.len(), 1);
    let sha384 = hex::encode_upper(b"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x02");
    let text = String::from_utf8_lossy(&signed.output).to_ascii_uppercase();
    assert!(text.contains(&sha384), "the CMS digest is SHA-384");
    let doc = Document::new(Format::Cades, "同意書", None, b"I agree.\n".to_vec()).unwrap();
    let p7s = sign(&broker, &doc, &card(CardKind::Jpki), &Recording::new("sign1234"), 1_790_000_000, &[]).unwrap();
    let checked = cades::verify(&p7s.output, b"I agree.\n").unwrap();
    assert_eq!(der::Encode::to_der(&checked.signer).unwrap(), certificate(jpki_p384_identity(), "sign"));
}

/// A wrong signature PIN counts down and signs nothing; the derived bytes are never made.
#[test]
fn a_wrong_signature_pin_counts_down_and_signs_nothing() {
    let broker = hpki_broker();
    let doc = Document::new(Format::Cades, "letter", None, b"x".to_vec()).unwrap();
    let err = sign(&broker, &doc, &card(CardKind::Hpki), &Recording::new("wrong-pin"), 0, &[]).unwrap_err();
    assert!(matches!(err, AgentError::WrongPin { tries_left: 14 }), "{err:?}");
    // The authentication PIN's counter is untouched: the login path is another key.
    assert_eq!(
        broker.pin_status(None, CardKind::Hpki, KeyRole::Auth).unwrap(),
        crate::driver::PinStatus::TriesLeft(15)
    );
    sign(&broker, &doc, &card(CardKind::Hpki), &Recording::new("hpki1234"), 0, &[]).unwrap();
}

#[test]
fn documents_over_the_limit_empty_or_badly_titled_are_refused() {
    let over = Document::new(Format::Cades, "t", None, vec![0; MAX_DOCUMENT_BYTES + 1]).unwrap_err();
    assert!(over.to_string().contains("at most 10485760 bytes (10 MiB)"), "{over}");
    assert!(Document::new(Format::Cades, "t", None, vec![0; MAX_DOCUMENT_BYTES]).is_ok());
    assert!(Document::new(Format::Cades, "t", None, Vec::new()).unwrap_err().to_string().contains("empty"));
    for title in ["", "  ", "a\u{7}b", &"長".repeat(MAX_TITLE_CHARS + 1)] {
        assert!(Document::new(Format::Cades, title, None, b"x".to_vec()).is_err(), "{title:?}");
    }
}

/// What the page shows is the agent's reading of the bytes: the SHA-256 in full, the size, the kind of content
/// (from the bytes, not the name), the file name without its directories.
#[test]
fn the_page_is_shown_the_agents_own_reading_of_the_document() {
    let doc = Document::new(Format::Cades, " 診療情報提供書 ", Some("C:\\docs\\letter.txt"), FHIR.to_vec()).unwrap();
    let shown = doc.shown(Level::BaselineT);
    assert_eq!(shown.title, "診療情報提供書");
    assert_eq!(shown.file_name.as_deref(), Some("letter.txt"));
    assert_eq!(shown.size, FHIR.len());
    assert_eq!(shown.sha256.to_vec(), <sha2::Sha256 as sha2::Digest>::digest(FHIR).to_vec());
    assert_eq!(shown.sha256_grouped().replace(' ', ""), hex::encode(shown.sha256));
    let content: Vec<&str> = shown.summary.iter().map(|l| l.value_en.as_str()).collect();
    assert!(content.contains(&"a FHIR resource (Bundle)"), "{content:?}");
    let pdf = Document::new(Format::Cades, "p", None, b"%PDF-1.7\n\xff\xfe".to_vec()).unwrap().shown(Level::BaselineB);
    assert!(pdf.summary.iter().any(|l| l.value_en == "a PDF document"), "{:?}", pdf.summary);
    let signer = signer::SignerShown::from_certificates(&[crate::service::CardCertificate {
        role: KeyRole::Sign,
        chain: vec![certificate(hpki_identity(), "signature")],
    }]);
    assert_eq!(signer.name.as_deref(), Some("試験\u{3000}太郎"));
    assert_eq!(signer.hc_role.as_deref(), Some("Medical Doctor"));
    let text = shown.terminal_text(CardKind::Hpki, &signer);
    assert!(text.contains(&hex::encode(shown.sha256)) && text.contains("hcRole Medical Doctor"), "{text}");
}

/// An e-prescription is shown as `Prescription::read` reads it, each drug with its 力価フラグ; a CSV that reads two
/// ways (here a lone CR hiding a second drug) is refused when it is taken, before any card work, in Japanese and
/// English with its line.
#[test]
fn an_e_prescription_is_shown_whole_or_refused_before_any_card_work() {
    let csv = "JAHIS10\n1,,1234567,13,試験医院\n5,,,医師 太郎\n11,,処方 花子,\n12,2\n13,19800101\n22,06012345\n\
               23,,１２３４,1,\n51,20261126\n101,1,1,,7\n111,1,1,,1日3回毎食後,3\n\
               201,1,1,1,1,,アモキシシリン細粒,750,2,ｍｇ\n";
    let doc = Document::new(Format::XadesEprescription, "処方箋", Some("rx.csv"), csv.as_bytes().to_vec()).unwrap();
    let shown = doc.shown(Level::BaselineB);
    let ja: Vec<&str> = shown.summary.iter().map(|l| l.value_ja.as_str()).collect();
    assert!(ja.contains(&"Rp1-1 アモキシシリン細粒 750ｍｇ（力価フラグ 2: 力価単位）　コードなし"), "{ja:?}");
    assert!(shown.summary.iter().any(|l| l.label.en == "Drug" && l.value_en.contains("active ingredient")));
    let hidden = csv.replace("ｍｇ\n", "ｍｇ\r201,1,2,1,1,,オキシコドン錠,20,1,錠\n");
    let err = Document::new(Format::XadesEprescription, "処方箋", None, hidden.into_bytes()).unwrap_err();
    let said = err.to_string();
    assert!(matches!(err, AgentError::Document(_)), "{err:?}");
    for want in ["12 行目", "LF が続かない CR", "line 12", "a CR is not followed by LF", "nothing was signed"] {
        assert!(said.contains(want), "{want:?} not in {said}");
    }
}

/// The card holds its end-entity certificate only: the configured CA certificates that issued it follow it in
/// the signature (the signature CA, not the authentication CA, not the self-signed root).
#[test]
fn the_signature_carries_the_configured_ca_that_issued_the_signer() {
    let id = hpki_identity();
    let (ee, sig_ca) = (certificate(id, "signature"), certificate(id, "signature-ca"));
    let issuers = [certificate(id, "authentication-ca"), certificate(id, "root-ca"), sig_ca.clone()];
    assert_eq!(issuers::complete(std::slice::from_ref(&ee), &issuers), vec![ee.clone(), sig_ca.clone()]);
    assert_eq!(issuers::complete(&[ee.clone(), sig_ca.clone()], &issuers), vec![ee.clone(), sig_ca.clone()]);
    assert_eq!(issuers::complete(std::slice::from_ref(&ee), &[]), vec![ee]);
    let broker = hpki_broker();
    let doc = Document::new(Format::Cades, "letter", None, b"x".to_vec()).unwrap();
    let signed = sign(&broker, &doc, &card(CardKind::Hpki), &Recording::new("hpki1234"), 0, &issuers).unwrap();
    let p7s = cades::CadesSignature::from_ber(&signed.output).unwrap();
    assert_eq!(p7s.signed_data().certificates.as_ref().map(|c| c.0.len()), Some(2));
}

/// The individual number (個人番号) is never read (issue #28): across a login with the authentication key, a
/// consent signed with the signing key, the basic four items and every PIN counter, the only files the agent
/// selects in the 券面事項入力補助 AP are its PIN (EF 0011) and the basic four items (EF 0002) — never the number
/// (EF 0001) — and the only commands it sends there are SELECT, VERIFY and READ BINARY.
#[test]
fn the_individual_number_is_never_selected() {
    use hcpki_vcard::card::TranscriptEntry;
    const TEXT_AP: &[u8] = &[0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
    let readers = MemReaders::with_readers(&["R0"]);
    let inserted = readers.insert("R0", jpki_identity(0).card());
    inserted.lock().unwrap().set_recording(true);
    let broker = Broker::new(readers);

    let login = request(CardKind::Jpki);
    let answer = broker.sign(&login, &Recording::new("1234")).unwrap();
    verify(&answer.chain, &login.message, &answer.signature);
    let doc = Document::new(Format::Cades, "同意書", None, b"I agree.\n".to_vec()).unwrap();
    let consent = sign(&broker, &doc, &card(CardKind::Jpki), &Recording::new("sign1234"), 1_790_000_000, &[]).unwrap();
    // The consent's signature read the user-authentication certificate in its own transaction (EF 000A, JPKI AP).
    assert_eq!(consent.signed.authentication_certificate, Some(certificate(jpki_identity(0), "auth")));
    let text_pin = |_: Option<u8>| Ok(Pin(Zeroizing::new("1234".to_owned())));
    broker.basic_attributes(None, false, &text_pin).unwrap();
    for role in [KeyRole::Auth, KeyRole::Sign] {
        broker.pin_status(None, CardKind::Jpki, role).unwrap();
    }

    let transcript = inserted.lock().unwrap().take_transcript();
    let commands: Vec<Vec<u8>> = transcript
        .into_iter()
        .filter_map(|entry| match entry {
            TranscriptEntry::Apdu { command, .. } => Some(command),
            _ => None,
        })
        .collect();
    let mut in_text_ap = false;
    let mut text_files = Vec::new();
    for command in &commands {
        let (Some(&ins), Some(&p1)) = (command.get(1), command.get(2)) else { continue };
        let data = command.get(5..5 + usize::from(*command.get(4).unwrap_or(&0))).unwrap_or_default();
        if ins == 0xA4 && p1 == 0x04 {
            in_text_ap = data == TEXT_AP;
        } else if in_text_ap {
            assert!(matches!(ins, 0xA4 | 0x20 | 0xB0), "command {} in the text AP", hex::encode_upper(command));
            if ins == 0xA4 {
                text_files.push(hex::encode_upper(data));
            }
        }
    }
    assert!(commands.len() > 20, "the transcript recorded the session: {}", commands.len());
    assert!(text_files.contains(&"0002".to_owned()), "the basic four items were read: {text_files:?}");
    assert!(text_files.iter().all(|f| f == "0011" || f == "0002"), "files selected in the text AP: {text_files:?}");
    // The signing transaction read the signing certificate, its CA and the user-authentication certificate, then
    // selected the signing key: nothing else (and it never left the JPKI AP, above).
    let select_sign_pin = hex::decode("00A4020C02001B").unwrap();
    let verified = commands
        .windows(2)
        .position(|w| w[0] == select_sign_pin && w[1][1] == 0x20 && w[1].len() > 5)
        .expect("the signing password was verified");
    let signing: Vec<String> = commands[verified + 2..]
        .iter()
        .take_while(|c| !(c[1] == 0xA4 && c[2] == 0x04))
        .filter(|c| c[1] == 0xA4 && c[2] == 0x02)
        .map(|c| hex::encode_upper(&c[5..7]))
        .collect();
    assert_eq!(signing, ["0001", "0002", "000A", "001A"], "files selected after the signing password");
}
