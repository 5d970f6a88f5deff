//! The consent document (issue #28, D89) read by peers nobody here wrote: poppler's `pdfinfo` (a valid PDF 1.7, A4,
//! the page count and the Japanese title), `pdftotext` (the Japanese text of every page comes out, through the
//! non-embedded Adobe-Japan1 font: poppler needs poppler-data's CMaps for it), `pdffonts` (the font is not
//! embedded), `pdfdetach` (the one embedded file is the statement as JSON) and `qpdf --check` (structure and
//! cross-reference table); then pyHanko signs the rendered PDF with a key and certificate made here and validates
//! it, and `hcpki_docsig::consent_document::read` still gives the statement from the signed file — while a revision
//! pyHanko's writer appends to rewrite the page is refused. No database, no server: it runs once.

use crate::fixtures::run_ok;
use crate::harness::describe;
use hcpki_docsig::consent_document::{self, DocumentError, Item, Kind, Statement};
use std::path::Path;
use std::process::Command;

/// 2026-11-26 23:30:00 UTC.
const CREATED_AT: i64 = 1_795_735_800;

fn statement() -> Statement {
    let item = |label: &str, text: &str| Item { label: label.into(), text: text.into() };
    Statement {
        kind: Kind::Consent,
        title: "他の医療機関への診療情報の提供に関する同意書".into(),
        items: vec![
            item("提供の目的", "紹介先での継続した診療のため、検査結果と処方の記録を提供します。"),
            item("提供先", "さくら内科クリニック（医療機関コード 1398765432）"),
            item("提供する情報", "血液検査の結果（2026年1月以降）\n処方の記録（Rp. 1〜3）"),
            item("同意の撤回", "撤回はいつでも受付でできます。撤回の前に提供した情報は戻りません。"),
        ],
        reference: "consent-7f3c2a10-5e4b-4d6a-9b8c-1a2b3c4d5e6f".into(),
    }
}

/// A statement long enough for several pages; each item's text ends with a marker line to find on its page.
fn long_statement() -> Statement {
    let paragraph: String = "診療情報は、患者さんの同意に基づいて共有されます。".repeat(60);
    Statement {
        kind: Kind::Withdrawal,
        title: "同意の撤回書".into(),
        items: (1..=4).map(|i| Item { label: format!("項目{i}"), text: format!("{paragraph}\n終わり{i}") }).collect(),
        reference: "withdrawal-42".into(),
    }
}

#[test]
fn poppler_and_qpdf_read_the_consent_document_and_pyhanko_signs_it() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    let file = at("consent.pdf");
    let pdf = consent_document::render(&statement(), CREATED_AT).unwrap();
    std::fs::write(&file, &pdf).unwrap();

    let info = run_ok(Command::new("pdfinfo").arg(&file));
    let info = String::from_utf8_lossy(&info.stdout);
    for expected in [
        "Title:           他の医療機関への診療情報の提供に関する同意書",
        "Pages:           1",
        "PDF version:     1.7",
        "(A4)",
    ] {
        assert!(info.contains(expected), "pdfinfo: no {expected:?} in\n{info}");
    }

    let text = pdftotext(&file, None);
    for expected in [
        "他の医療機関への診療情報の提供に関する同意書",
        "提供の目的",
        "紹介先での継続した診療のため、検査結果と処方の記録を提供します。",
        "さくら内科クリニック（医療機関コード 1398765432）",
        "血液検査の結果（2026年1月以降）",
        "処方の記録（Rp. 1〜3）",
        "撤回の前に提供した情報は戻りません。",
        "consent-7f3c2a10-5e4b-4d6a-9b8c-1a2b3c4d5e6f",
        "1 / 1",
    ] {
        assert!(text.contains(expected), "pdftotext: no {expected:?} in\n{text}");
    }

    let fonts = run_ok(Command::new("pdffonts").arg(&file));
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    let row = fonts.lines().find(|l| l.starts_with("HeiseiKakuGo-W5")).unwrap_or_else(|| panic!("pdffonts:\n{fonts}"));
    let columns: Vec<&str> = row.split_whitespace().collect();
    // name, type (3 words), encoding, embedded, subset, ToUnicode.
    assert_eq!(
        columns.get(1..8),
        Some(&["CID", "Type", "0", "UniJIS-UTF16-H", "no", "no", "yes"][..]),
        "pdffonts: {row}"
    );

    let list = run_ok(Command::new("pdfdetach").arg("-list").arg(&file));
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("1 embedded files") && list.contains("1: hcpki-consent.json"), "pdfdetach:\n{list}");
    let saved = at("saved.json");
    run_ok(Command::new("pdfdetach").args(["-save", "1", "-o"]).arg(&saved).arg(&file));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    let mut expected = serde_json::to_value(statement()).unwrap();
    expected["version"] = 1.into();
    assert_eq!(json, expected);

    qpdf_check(&file);

    // Several pages: pdfinfo counts them, each page's text comes out, the last holds the last item's end.
    let long = at("long.pdf");
    std::fs::write(&long, consent_document::render(&long_statement(), CREATED_AT).unwrap()).unwrap();
    let info = run_ok(Command::new("pdfinfo").arg(&long));
    let pages: usize = String::from_utf8_lossy(&info.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    assert!(pages >= 3, "{pages} pages");
    let last = pdftotext(&long, Some(pages));
    assert!(last.contains("終わり4") && last.contains(&format!("{pages} / {pages}")), "last page:\n{last}");
    // The pages' text without their feet, joined: every sentence whole, however the pages broke it.
    let all: String = (1..=pages)
        .flat_map(|page| {
            // pdftotext ends each page with a form feed.
            let text = pdftotext(&long, Some(page)).replace('\u{c}', "");
            let foot = [long_statement().reference, format!("{page} / {pages}")];
            text.lines().filter(|l| !foot.iter().any(|f| f == l.trim())).map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(all.matches("診療情報は、患者さんの同意に基づいて共有されます。").count(), 4 * 60, "{all}");
    qpdf_check(&long);

    // pyHanko signs it (PAdES, a key and self-signed certificate made here) and validates its own signature; the
    // statement still reads from the signed file.
    let (key, cert) = (at("patient.key"), at("patient.pem"));
    run_ok(
        Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
            .args(["-subj", "/CN=TEST consent signer", "-addext", "keyUsage=critical,digitalSignature,nonRepudiation"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    let signed = at("consent-signed.pdf");
    run_ok(
        Command::new(crate::oidc::tools().join("bin/pyhanko"))
            .args(["sign", "addsig", "--field", "Signature1", "--use-pades", "pemder", "--no-pass"])
            .arg("--key")
            .arg(&key)
            .arg("--cert")
            .arg(&cert)
            .arg(&file)
            .arg(&signed),
    );
    let out = Command::new(crate::oidc::tools().join("bin/pyhanko"))
        .args(["sign", "validate", "--no-revocation-check", "--trust"])
        .arg(&cert)
        .arg(&signed)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("INTACT:TRUSTED"), "pyHanko\n{}", describe(&out));
    let signed_bytes = std::fs::read(&signed).unwrap();
    assert!(signed_bytes.starts_with(&pdf) && signed_bytes.len() > pdf.len(), "pyHanko appended a revision");
    assert_eq!(consent_document::read(&signed_bytes).unwrap(), Some(statement()));
    assert!(pdftotext(&signed, None).contains("他の医療機関への診療情報の提供に関する同意書"));

    // A revision pyHanko's writer appends after signing, rewriting the page: what is shown would no longer be
    // what the statement says.
    let forged = at("consent-forged.pdf");
    crate::pades::peer(&["forge-revision", path(&signed), path(&forged)]);
    let e = consent_document::read(&std::fs::read(&forged).unwrap()).unwrap_err();
    assert!(matches!(e, DocumentError::ChangedAfterFirstRevision { .. }), "{e}");

    // A PDF pyHanko wrote, with no statement: none.
    let plain = at("plain.pdf");
    crate::pades::peer(&["make-pdf", path(&plain), "--title", "診療情報提供書"]);
    assert_eq!(consent_document::read(&std::fs::read(&plain).unwrap()).unwrap(), None);
}

/// `pdftotext` of one page (or all), UTF-8. Poppler maps the non-embedded CID font only with poppler-data's
/// UniJIS-UTF16-H CMap: without it the page text is lost, and so this test says.
fn pdftotext(file: &Path, page: Option<usize>) -> String {
    let mut command = Command::new("pdftotext");
    command.args(["-enc", "UTF-8"]);
    if let Some(page) = page {
        command.args(["-f", &page.to_string(), "-l", &page.to_string()]);
    }
    let out = run_ok(command.arg(file).arg("-"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("CMap"),
        "pdftotext cannot map the Japanese font: install poppler-data (scripts/deps)\n{}",
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `qpdf --check`: exit 0 and no warnings.
fn qpdf_check(file: &Path) {
    let out = run_ok(Command::new("qpdf").arg("--check").arg(file));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("No syntax or stream encoding errors found"), "qpdf\n{}", describe(&out));
    assert!(out.stderr.is_empty(), "qpdf warned\n{}", describe(&out));
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}
