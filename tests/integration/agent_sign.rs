//! `hcpki-agent sign --format cades|xades-eprescription|pades FILE` on the PC (issue #27 item 3): the real agent, the virtual HPKI card behind
//! the real pcscd, the signature PIN on standard input. The terminal shows what is signed and by whom before the
//! PIN; FILE.p7s is written next to FILE and OpenSSL (`cms -verify -cades`, the test HPKI root the only anchor)
//! accepts it, its signer the card's signature certificate (nonRepudiation, hcRole). An existing FILE.p7s is not
//! replaced without --force (and the card is not touched); B-T asks the TSAs of `[[signing.tsa]]` (a reference TSA
//! made of `openssl ts -reply`), and with no TSA answering nothing is written. An e-prescription CSV becomes rx.xml
//! (XAdES, checked by xmlsec1; a CSV that reads two ways refused before the PIN), a PDF letter.signed.pdf (PAdES B-T, checked by pyHanko). No database: runs once.

use hcpki_docsig::signature::cades::{self, CadesSignature, Level};
use hcpki_docsig::signature::{pades, xades};
use x509_cert::der::Encode as _;

use crate::agent::{cli, hpki, insert, text, wait_for_reader};
use crate::cades::{cms_verify, write_pem};
use crate::harness::describe;
use crate::pcsc_lock::pcsc_lock;
use crate::tsa::ReferenceTsa;

/// agent.toml's `[signing]`: the signature CA a `.p7s` carries beside the card's certificate.
const SIGNING: &str = "[signing]\nca_certificates = [\"hpki-signature-ca.pem\"]\n";

/// In `dir`: the test HPKI root (returned first, the anchor for `openssl cms -verify`), the signature CA and an
/// agent.toml whose `[signing]` names it (returned second). The card holds its end-entity certificates only: the
/// agent adds the signature CA it is configured with.
pub(crate) fn signing_files(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let identity = hpki().certificates();
    let cert = |name: &str| identity.iter().find(|(n, _)| *n == name).unwrap().1.to_vec();
    let root = dir.join("hpki-root.pem");
    write_pem(&root, "CERTIFICATE", &cert("root-ca"));
    write_pem(&dir.join("hpki-signature-ca.pem"), "CERTIFICATE", &cert("signature-ca"));
    let config = dir.join("agent.toml");
    std::fs::write(&config, format!("version = 1\n{SIGNING}")).unwrap();
    (root, config)
}

/// The virtual HPKI card's signature PIN.
const PIN: &str = "hpki1234\n";

#[test]
fn cli_signs_a_file_with_the_hpki_signature_key_at_b_b_and_b_t() {
    let _pcsc = pcsc_lock();
    let dir = tempfile::tempdir().unwrap();
    let card = insert(hpki(), 0);
    wait_for_reader(0, "HPKI card");
    let identity = hpki().certificates();
    let cert = |name: &str| identity.iter().find(|(n, _)| *n == name).unwrap().1.to_vec();
    let (root, config) = signing_files(dir.path());
    let signing = SIGNING;
    let config = config.to_str().unwrap();
    let letter = dir.path().join("referral.json");
    let data = "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"title\":\"診療情報提供書\"}\n";
    std::fs::write(&letter, data).unwrap();
    let file = letter.to_str().unwrap();

    // B-B: what is signed and by whom, then the PIN; FILE.p7s beside FILE, accepted by OpenSSL.
    let out = cli(&["sign", "--format", "cades", file, "--config", config, "--pin-stdin"], PIN);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stderr);
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data.as_bytes()));
    for want in [&sha, "試験\u{3000}太郎 (hcRole Medical Doctor)", "a FHIR resource (Bundle)", "signature PIN"] {
        assert!(shown.contains(want), "the terminal did not show {want:?}:\n{shown}");
    }
    let p7s = dir.path().join("referral.json.p7s");
    let ok = cms_verify(&p7s, &letter, &root);
    assert!(String::from_utf8_lossy(&ok.stderr).contains("Verification successful"), "{}", describe(&ok));
    let checked = cades::verify(&std::fs::read(&p7s).unwrap(), data.as_bytes()).unwrap();
    assert_eq!((checked.level, checked.signer.to_der().unwrap()), (Level::BaselineB, cert("signature")));
    assert_eq!(card.card().stats().signatures, 1);

    // Not replaced without --force, and the card is not asked.
    let before = std::fs::read(&p7s).unwrap();
    let again = cli(&["sign", "--format", "cades", file, "--config", config, "--pin-stdin"], PIN);
    assert!(!again.status.success() && text(&again).contains("use --force"), "{}", text(&again));
    assert_eq!((std::fs::read(&p7s).unwrap(), card.card().stats().signatures), (before, 1));

    // B-T with a TSA list whose first entry does not answer: the reference TSA's token is in the file.
    let tsa = ReferenceTsa::start(&dir.path().join("tsa"));
    let dead = "[[signing.tsa]]\nurl = \"http://127.0.0.1:9/tsa\"\nroots = [\"tsa/root.pem\"]\n";
    let live = format!("[[signing.tsa]]\nurl = \"{}\"\nroots = [\"{}\"]\n", tsa.url, tsa.root().display());
    std::fs::write(config, format!("version = 1\n{signing}\n{dead}\n{live}")).unwrap();
    let b_t = ["sign", "--format", "cades", file, "--level", "b-t", "--force", "--config", config, "--pin-stdin"];
    let out = cli(&b_t, PIN);
    assert!(out.status.success(), "{}", text(&out));
    // The reference TSA binds its certificate with ESS signingCertificate (SHA-1, OpenSSL's default): our check
    // reads it as the TSA client does.
    let b_t = CadesSignature::from_ber(&std::fs::read(&p7s).unwrap()).unwrap();
    assert_eq!(b_t.signature_time_stamps().len(), 1);
    let checked = cades::verify(&std::fs::read(&p7s).unwrap(), data.as_bytes()).unwrap();
    assert_eq!((checked.level, checked.time_stamps.len()), (Level::BaselineT, 1));
    let ok = cms_verify(&p7s, &letter, &root);
    assert!(String::from_utf8_lossy(&ok.stderr).contains("Verification successful"), "{}", describe(&ok));

    // No TSA answering: the card signs, nothing is written, the error says which TSA failed and why.
    let only_dead = dir.path().join("dead.toml");
    std::fs::write(&only_dead, format!("version = 1\n{signing}\n{dead}")).unwrap();
    let other = dir.path().join("consent.txt");
    std::fs::write(&other, "同意します\n").unwrap();
    let args = ["sign", "--format", "cades", other.to_str().unwrap(), "--level", "b-t", "--pin-stdin"];
    let out = cli(&[&args[..], &["--config", only_dead.to_str().unwrap()]].concat(), PIN);
    let said = text(&out);
    assert!(!out.status.success() && said.contains("nothing was written"), "{said}");
    assert!(said.contains("no configured TSA gave a valid time stamp") && said.contains("127.0.0.1:9"), "{said}");
    assert!(!dir.path().join("consent.txt.p7s").exists());

    // An e-prescription: the CSV's patient and drugs shown before the PIN, rx.xml beside rx.csv (XAdES B-B),
    // accepted by xmlsec1 under the test HPKI root alone (all three References) and by our check.
    let csv = dir.path().join("rx.csv");
    std::fs::write(&csv, crate::xades::CSV).unwrap();
    let args = ["sign", "--format", "xades-eprescription", csv.to_str().unwrap(), "--config", config, "--pin-stdin"];
    let out = cli(&args, PIN);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stderr);
    for want in [
        "処方 花子",
        "ロキソプロフェンNa錠60mg 3 錠 (potency flag 1: amount of the product as listed)",
        "【般】アモキシシリンカプセル 750 ｍｇ (potency flag 2: amount of the active ingredient)",
        "レバミピド錠100mg",
        "e-prescription (XAdES signature)",
    ] {
        assert!(shown.contains(want), "the terminal did not show {want:?}:\n{shown}");
    }
    let xml = dir.path().join("rx.xml");
    let ok = std::process::Command::new("xmlsec1")
        .args(["--verify", "--id-attr:id", "PrescriptionDocument", "--trusted-pem", root.to_str().unwrap()])
        .arg(&xml)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&ok.stderr).contains("References (ok/all): 3/3"), "{}", describe(&ok));
    let checked = xades::verify(&std::fs::read(&xml).unwrap()).unwrap();
    assert_eq!((checked.level, checked.signer.to_der().unwrap()), (Level::BaselineB, cert("signature")));
    assert_eq!(checked.prescription, crate::xades::CSV.as_bytes());
    // A CSV that reads two ways (a lone CR hiding a drug): refused before the PIN is read, the card not asked.
    let (_, hidden, [ja, en]) = crate::xades::ambiguous().swap_remove(0);
    let rx = dir.path().join("hidden.csv");
    std::fs::write(&rx, hidden).unwrap();
    let before = card.card().stats().signatures;
    let args = ["sign", "--format", "xades-eprescription", rx.to_str().unwrap(), "--config", config, "--pin-stdin"];
    let out = cli(&args, PIN);
    let said = text(&out);
    assert!(!out.status.success() && said.contains(ja) && said.contains(en), "{said}");
    assert!(!said.contains("signature PIN") && !dir.path().join("hidden.xml").exists(), "{said}");
    assert_eq!(card.card().stats().signatures, before);

    // A PDF letter: its own title and pages shown, letter.signed.pdf beside it (PAdES B-T through the reference
    // TSA), the original bytes untouched at its start; pyHanko says INTACT:TRUSTED under the test HPKI root.
    let pdf = dir.path().join("letter.pdf");
    crate::pades::peer(&["make-pdf", pdf.to_str().unwrap(), "--pages", "2", "--title", "診療情報提供書"]);
    std::fs::write(config, format!("version = 1\n{signing}\n{live}")).unwrap();
    let args =
        ["sign", "--format", "pades", pdf.to_str().unwrap(), "--level", "b-t", "--config", config, "--pin-stdin"];
    let out = cli(&args, PIN);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stderr);
    for want in ["診療情報提供書", "Pages", "PDF document (PAdES signature)"] {
        assert!(shown.contains(want), "the terminal did not show {want:?}:\n{shown}");
    }
    let signed = dir.path().join("letter.signed.pdf");
    let bytes = std::fs::read(&signed).unwrap();
    assert!(bytes.starts_with(&std::fs::read(&pdf).unwrap()), "the original PDF changed");
    assert_eq!(pades::verify(&bytes).unwrap().level(), Level::BaselineT);
    let out = crate::pades::pyhanko_validate(&signed, &root, &tsa.root());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("INTACT:TRUSTED"), "pyHanko\n{}", describe(&out));
    assert!(said.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"), "pyHanko\n{}", describe(&out));

    // Not a PDF: refused before the card is asked.
    let before = card.card().stats().signatures;
    let args = ["sign", "--format", "pades", csv.to_str().unwrap(), "--config", config, "--pin-stdin"];
    let out = cli(&args, PIN);
    assert!(!out.status.success() && text(&out).contains("nothing was signed"), "{}", text(&out));
    assert_eq!(card.card().stats().signatures, before);
}
