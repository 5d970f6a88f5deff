//! Unit tests of the consent document: round trips, layout, limits, first-revision rule and malformed input.
//! Poppler, qpdf and pyHanko read the rendered files in `tests/integration/consent_document.rs`.

use super::layout::{self, FOOT, LABEL, TEXT, TITLE};
use super::*;
use crate::signature::pades;

/// 2026-11-26 23:30:00 UTC.
const CREATED_AT: i64 = 1_795_735_800;

pub(crate) fn sample() -> Statement {
    Statement {
        kind: Kind::Consent,
        title: "診療情報の共有に関する同意書".into(),
        items: vec![
            Item {
                label: "目的".into(), text: "当院の診療記録を、あなたの受診歴と結び付けるため。".into()
            },
            Item {
                label: "共有先".into(), text: "東京中央病院（医療機関コード 1312345678）\n聖路加クリニック".into()
            },
            Item {
                label: "撤回の方法".into(),
                text: "いつでも受付で撤回できます。撤回しても診療に不利益はありません。".into(),
            },
        ],
        reference: "consent-0b9e3f4c-1d2a-4e5f-8a6b-7c8d9e0f1a2b".into(),
    }
}

fn long_statement(items: usize, chars: usize) -> Statement {
    let text: String = "あいうえおかきくけこ".chars().cycle().take(chars).collect();
    Statement {
        items: (0..items).map(|i| Item { label: format!("項目 {}", i + 1), text: text.clone() }).collect(),
        ..sample()
    }
}

#[test]
fn renders_and_reads_back() {
    let statement = sample();
    let pdf = render(&statement, CREATED_AT).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.7\n"));
    assert!(pdf.ends_with(b"%%EOF\n"));
    assert_eq!(read(&pdf).unwrap(), Some(statement));
    let summary = pades::summary(&pdf).unwrap();
    assert_eq!(summary.title.as_deref(), Some("診療情報の共有に関する同意書"));
    assert_eq!(summary.pages, 1);
}

#[test]
fn every_kind_round_trips() {
    for kind in [Kind::Consent, Kind::Withdrawal, Kind::Attestation] {
        let statement = Statement { kind, ..sample() };
        assert_eq!(read(&render(&statement, CREATED_AT).unwrap()).unwrap(), Some(statement));
    }
}

#[test]
fn same_input_same_bytes_and_the_id_follows_the_content() {
    let one = render(&sample(), CREATED_AT).unwrap();
    assert_eq!(one, render(&sample(), CREATED_AT).unwrap());
    let later = render(&sample(), CREATED_AT + 1).unwrap();
    assert_ne!(one, later);
    let id = |pdf: &[u8]| {
        let document = pades::pdf::Document::parse(pdf).unwrap();
        document.trailer().get("ID").cloned().unwrap()
    };
    assert_ne!(id(&one), id(&later));
}

#[test]
fn the_embedded_json_is_the_statement_with_a_version() {
    let pdf = render(&sample(), CREATED_AT).unwrap();
    let json = embedded_json(&pdf);
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(value["version"], 1);
    assert_eq!(value["kind"], "consent");
    assert_eq!(value["title"], "診療情報の共有に関する同意書");
    assert_eq!(value["items"][1]["label"], "共有先");
    assert_eq!(value["reference"], sample().reference);
}

#[test]
fn a_percent_sign_is_escaped_so_the_only_eof_marker_is_the_last() {
    let statement =
        Statement { items: vec![Item { label: "100%".into(), text: "startxref\n0\n%%EOF 50%".into() }], ..sample() };
    let pdf = render(&statement, CREATED_AT).unwrap();
    assert_eq!(pdf.windows(5).filter(|w| w == b"%%EOF").count(), 1);
    assert_eq!(pdf.windows(2).filter(|w| w == b"%%").count(), 1);
    assert_eq!(read(&pdf).unwrap(), Some(statement));
}

#[test]
fn the_page_text_is_the_statement_in_utf16() {
    let pdf = render(&sample(), CREATED_AT).unwrap();
    let document = pades::pdf::Document::parse(&pdf).unwrap();
    let page = document.pages().unwrap()[0];
    let contents = document.dictionary(page).unwrap().get("Contents").and_then(|c| c.as_reference()).unwrap();
    let text = String::from_utf8(document.stream_data(contents).unwrap()).unwrap();
    let shown =
        |s: &str| text.contains(&hex::encode_upper(s.encode_utf16().flat_map(u16::to_be_bytes).collect::<Vec<_>>()));
    assert!(shown("診療情報の共有に関する同意書"));
    assert!(shown("目的"));
    assert!(shown("聖路加クリニック"));
    assert!(shown(&sample().reference));
    assert!(shown("1 / 1"));
    // Titles and labels are set bold (fill and stroke), texts not.
    assert!(text.contains("/F1 20 Tf") && text.contains("2 Tr") && text.contains("0 Tr"));
}

#[test]
fn long_text_wraps_by_measured_width() {
    // 40 full-width characters fit the 481.9 pt line at 12 pt; the indented text line holds 39.
    let line = layout::wrap(&"あ".repeat(100), TEXT.size, 48_190);
    assert_eq!(line.iter().map(|l| l.chars().count()).collect::<Vec<_>>(), vec![40, 40, 20]);
    // ASCII is half width: 80 to a line, broken at spaces.
    let words = layout::wrap(&"abcd ".repeat(30), TEXT.size, 48_190);
    assert!(words.iter().all(|l| layout::width(l, TEXT.size) <= 48_190 && !l.starts_with(' ') && !l.ends_with(' ')));
    assert_eq!(words.len(), 2);
    // A word longer than a line is cut.
    let id = layout::wrap(&"x".repeat(200), TEXT.size, 48_190);
    assert_eq!(id.iter().map(String::len).collect::<Vec<_>>(), vec![80, 80, 40]);
    // Line breaks are kept, an empty line too.
    assert_eq!(layout::wrap("一\n\n二", TEXT.size, 48_190), vec!["一", "", "二"]);
}

#[test]
fn punctuation_does_not_start_a_line_and_brackets_do_not_end_one() {
    let text = format!("{}。次", "あ".repeat(40));
    let lines = layout::wrap(&text, TEXT.size, 48_190);
    assert_eq!(lines, vec![format!("{}。", "あ".repeat(40)), "次".to_owned()]);
    let text = format!("{}「か」", "あ".repeat(39));
    let lines = layout::wrap(&text, TEXT.size, 48_190);
    assert_eq!(lines, vec!["あ".repeat(39), "「か」".to_owned()]);
}

#[test]
fn text_goes_on_as_many_pages_as_it_needs_and_stays_inside_them() {
    let statement = long_statement(6, 2_000);
    let pages = layout::lay_out(&statement, MAX_PAGES).unwrap();
    assert!(pages.len() > 2, "{} pages", pages.len());
    for (n, page) in pages.iter().enumerate() {
        for line in page {
            assert!(line.x >= 0 && line.x + layout::width(&line.text, line.style.size) <= layout::PAGE_WIDTH);
            assert!(line.y > 0 && line.y < layout::PAGE_HEIGHT);
        }
        let foot: Vec<_> = page.iter().filter(|l| l.style == FOOT).map(|l| l.text.as_str()).collect();
        assert_eq!(foot, vec![statement.reference.clone(), format!("{} / {}", n + 1, pages.len())]);
        // Lines go down the page without overlapping.
        let body: Vec<_> = page.iter().filter(|l| l.style != FOOT).collect();
        assert!(body.windows(2).all(|w| w[1].y < w[0].y));
        // A label is never the last line of a page.
        assert_ne!(body.last().map(|l| l.style), Some(LABEL));
    }
    assert_eq!(pages[0][0].style, TITLE);
    let pdf = render(&statement, CREATED_AT).unwrap();
    assert_eq!(pades::summary(&pdf).unwrap().pages, pages.len());
    assert_eq!(read(&pdf).unwrap(), Some(statement));
}

#[test]
fn limits_are_refused_with_what_to_do() {
    let refused = |statement: Statement| render(&statement, CREATED_AT).unwrap_err();
    assert!(matches!(refused(Statement { title: " ".into(), ..sample() }), DocumentError::EmptyTitle));
    assert!(matches!(refused(Statement { items: vec![], ..sample() }), DocumentError::NoItems));
    assert!(matches!(refused(long_statement(41, 1)), DocumentError::TooManyItems { count: 41, limit: 40 }));
    let e = refused(long_statement(1, 4_001));
    assert!(matches!(e, DocumentError::TooLong { chars: 4_001, limit: 4_000, .. }), "{e}");
    assert!(e.to_string().contains("text of item 1") && e.to_string().contains("4000"), "{e}");
    let e = refused(long_statement(40, 4_000));
    assert!(matches!(e, DocumentError::TooManyPages { limit: 20, .. }), "{e}");
    assert!(e.to_string().contains("shorten"), "{e}");
    let mut tab = sample();
    tab.items[0].text = "a\tb".into();
    let e = refused(tab);
    assert!(matches!(e, DocumentError::ControlCharacter { code: 9, position: 2, .. }), "{e}");
    let mut newline_in_label = sample();
    newline_in_label.items[2].label = "撤回\nの方法".into();
    assert!(matches!(refused(newline_in_label), DocumentError::ControlCharacter { code: 10, .. }));
    let mut empty = sample();
    empty.items[1].text = String::new();
    assert!(refused(empty).to_string().contains("text of item 2"));
    for reference in ["", "has space", "日本語", &"x".repeat(65)] {
        let e = refused(Statement { reference: reference.into(), ..sample() });
        assert!(matches!(e, DocumentError::BadReference { .. }), "{reference:?}: {e}");
    }
    assert!(matches!(render(&sample(), -1), Err(DocumentError::CreatedAt { seconds: -1 })));
    assert!(matches!(render(&sample(), i64::MAX), Err(DocumentError::CreatedAt { .. })));
    // At the limits, it renders.
    let most = Statement { title: "題".repeat(MAX_TITLE_CHARS), ..long_statement(MAX_ITEMS, 100) };
    assert!(render(&most, CREATED_AT).is_ok());
}

#[test]
fn the_statement_reads_from_every_pades_level_hcpki_signs() {
    let pdf = render(&sample(), CREATED_AT).unwrap();
    for signed in pades::tests::signing::all_levels(&pdf) {
        assert!(signed.starts_with(&pdf));
        assert!(pades::verify(&signed).is_ok());
        assert_eq!(read(&signed).unwrap(), Some(sample()));
    }
}

#[test]
fn a_pdf_without_a_statement_reads_as_none() {
    let plain = pades::tests::sample::classic("referral", 2);
    assert_eq!(read(&plain).unwrap(), None);
    let streams = pades::tests::sample::with_xref_stream("referral", 1);
    assert_eq!(read(&streams).unwrap(), None);
}

#[test]
fn malformed_input_is_refused_without_panicking() {
    let pdf = render(&sample(), CREATED_AT).unwrap();
    assert!(matches!(read(b"not a pdf"), Err(DocumentError::Pdf(_))));
    assert!(matches!(read(b""), Err(DocumentError::Pdf(_))));
    // Every truncation, and a byte flipped at every 7th offset, ends as Ok or an error: never a panic, and never
    // another statement than the one rendered.
    for cut in (0..pdf.len()).step_by(13) {
        if let Ok(Some(s)) = read(&pdf[..cut]) {
            assert_eq!(s, sample());
        }
    }
    for at in (0..pdf.len()).step_by(7) {
        let mut bad = pdf.clone();
        bad[at] ^= 0x55;
        if let Ok(Some(s)) = read(&bad) {
            assert_eq!(s, sample(), "flipping byte {at}");
        }
    }
}

#[test]
fn a_page_text_that_differs_from_the_statement_is_refused() {
    let pdf = render(&sample(), CREATED_AT).unwrap();
    // Same length, other glyph: 目的 → 目標 in the page's content stream only.
    let shown = hex::encode_upper("目的".encode_utf16().flat_map(u16::to_be_bytes).collect::<Vec<_>>());
    let other = hex::encode_upper("目標".encode_utf16().flat_map(u16::to_be_bytes).collect::<Vec<_>>());
    let text = String::from_utf8_lossy(&pdf).into_owned();
    assert!(text.contains(&shown));
    let changed = replace_bytes(&pdf, shown.as_bytes(), other.as_bytes());
    let e = read(&changed).unwrap_err();
    assert!(matches!(e, DocumentError::BadStatement { .. }), "{e}");
    assert!(e.to_string().contains("render"), "{e}");
}

#[test]
fn an_embedded_statement_that_breaks_the_rules_is_refused() {
    let pdf = render(&sample(), CREATED_AT).unwrap();
    let cases: [(&[u8], &[u8]); 3] = [
        (b"\"version\":1", b"\"version\":2"),
        (b"\"kind\":\"consent\"", b"\"kind\":\"consenT\""),
        (b"{\"version\"", b"[\"version\""),
    ];
    for (from, to) in cases {
        let changed = replace_bytes(&pdf, from, to);
        let e = read(&changed).unwrap_err();
        assert!(matches!(e, DocumentError::BadStatement { .. }), "{e}");
    }
}

#[test]
fn an_appended_revision_that_swaps_the_statement_is_refused() {
    let pdf = render(&sample(), CREATED_AT).unwrap();
    let other = Statement { title: "別の同意書".into(), ..sample() };
    let json = render::statement_json(&other).unwrap();
    // Redefine the embedded file stream (object 8) in an incremental update.
    let swapped = append_revision(&pdf, &[(8, stream_body("/Type /EmbeddedFile", &json))], None);
    assert_eq!(pades::pdf::Document::parse(&swapped).unwrap().sections().len(), 2);
    let e = read(&swapped).unwrap_err();
    assert!(matches!(e, DocumentError::ChangedAfterFirstRevision { revision: 2, .. }), "{e}");
    // Or point the catalog's /Names and /AF at a new file specification (objects 20, 21).
    let catalog = "<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(hcpki-consent.json) 20 0 R] >> >> /AF [20 0 R] >>";
    let spec = "<< /Type /Filespec /F (hcpki-consent.json) /AFRelationship /Source /EF << /F 21 0 R >> >>";
    let swapped = append_revision(
        &pdf,
        &[(1, catalog.as_bytes().to_vec()), (20, spec.as_bytes().to_vec()), (21, stream_body("", &json))],
        None,
    );
    let e = read(&swapped).unwrap_err();
    assert!(matches!(e, DocumentError::ChangedAfterFirstRevision { .. }), "{e}");
    assert!(e.to_string().contains("catalog"), "{e}");
    // A revision that changes nothing of the first (a new unrelated object) keeps the statement readable.
    let harmless = append_revision(&pdf, &[(20, b"<< /Unrelated true >>".to_vec())], None);
    assert_eq!(read(&harmless).unwrap(), Some(sample()));
}

#[test]
fn a_signers_metadata_changes_are_tolerated_and_nothing_more() {
    let pdf = render(&sample(), CREATED_AT).unwrap();
    let catalog = |extra: &str| {
        let name = hex::encode_upper(EMBEDDED_FILE_NAME);
        format!(
            "<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [<{name}> 7 0 R] >> >> /AF [7 0 R] \
             /Lang <6A612D4A50> /ViewerPreferences << /DisplayDocTitle true >> {extra} >>"
        )
        .into_bytes()
    };
    // As pyHanko's signing revision does: /Producer rewritten, XMP metadata, extensions and version added.
    let metadata = catalog("/Metadata 20 0 R /Version /2.0 /Extensions << /ESIC << /BaseVersion /1.7 >> >>");
    let tolerated = append_revision(
        &pdf,
        &[
            (1, metadata),
            (9, b"<< /Producer (someone else) >>".to_vec()),
            (20, stream_body("/Type /Metadata /Subtype /XML", b"<x/>")),
        ],
        None,
    );
    assert_eq!(read(&tolerated).unwrap(), Some(sample()));
    // An action run on opening is not metadata.
    let action = catalog("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>");
    let e = read(&append_revision(&pdf, &[(1, action)], None)).unwrap_err();
    assert!(matches!(e, DocumentError::ChangedAfterFirstRevision { .. }), "{e}");
    // Nor is a font or a page's content.
    let e = read(&append_revision(&pdf, &[(4, b"<< /Type /Font >>".to_vec())], None)).unwrap_err();
    assert!(e.to_string().contains("changes object 4 0 R"), "{e}");
    let e = read(&append_revision(&pdf, &[(11, stream_body("", b"BT ET"))], None)).unwrap_err();
    assert!(e.to_string().contains("changes object 11 0 R"), "{e}");
}

#[test]
fn a_statement_added_by_a_later_revision_is_refused() {
    let plain = pades::tests::sample::classic("referral", 1);
    let json = render::statement_json(&sample()).unwrap();
    let document = pades::pdf::Document::parse(&plain).unwrap();
    let root = document.root_id();
    let mut catalog = document.catalog().unwrap();
    let names: pades::pdf::Dictionary = [(
        "EmbeddedFiles",
        pades::pdf::Object::Dictionary(
            [(
                "Names",
                pades::pdf::Object::Array(vec![
                    pades::pdf::Object::String(b"hcpki-consent.json".to_vec()),
                    pades::pdf::Object::Reference(pades::pdf::ObjectId::new(20, 0)),
                ]),
            )]
            .into_iter()
            .collect(),
        ),
    )]
    .into_iter()
    .collect();
    catalog.set("Names", pades::pdf::Object::Dictionary(names));
    let mut body = Vec::new();
    catalog.write(&mut body);
    let spec = b"<< /Type /Filespec /F (hcpki-consent.json) /EF << /F 21 0 R >> >>".to_vec();
    let added = append_revision(&plain, &[(root.number, body), (20, spec), (21, stream_body("", &json))], None);
    let e = read(&added).unwrap_err();
    assert!(matches!(e, DocumentError::ChangedAfterFirstRevision { .. }), "{e}");
}

#[test]
fn two_statements_are_refused() {
    let pdf = render(&sample(), CREATED_AT).unwrap();
    let name = hex::encode_upper(EMBEDDED_FILE_NAME);
    let single = format!("/Names [<{name}> 7 0 R]");
    let double = format!("/Names [<{name}> 7 0 R <{name}> 7 0 R]");
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains(&single), "the catalog's name tree is written as expected");
    // Rewritten as an incremental update of the catalog (object 1): refused as a catalog change, and the
    // first revision alone never names two.
    let catalog = format!("<< /Type /Catalog /Pages 2 0 R {double} >>");
    let e = read(&append_revision(&pdf, &[(1, catalog.into_bytes())], None)).unwrap_err();
    assert!(matches!(e, DocumentError::ChangedAfterFirstRevision { .. } | DocumentError::BadStatement { .. }), "{e}");
}

// ---- helpers ----

/// The decoded embedded file of a rendered PDF.
fn embedded_json(pdf: &[u8]) -> Vec<u8> {
    let document = pades::pdf::Document::parse(pdf).unwrap();
    document.stream_data(pades::pdf::ObjectId::new(8, 0)).unwrap()
}

fn stream_body(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\nendstream");
    body
}

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = haystack.windows(from.len()).position(|w| w == from).expect("the bytes to replace");
    let mut out = haystack[..at].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&haystack[at + from.len()..]);
    out
}

/// `pdf` with an incremental update writing `objects` (number, body), a classic table and a trailer whose /Prev
/// is the previous `startxref` (and /Root `root`, default the old one).
fn append_revision(pdf: &[u8], objects: &[(u32, Vec<u8>)], root: Option<u32>) -> Vec<u8> {
    let document = pades::pdf::Document::parse(pdf).unwrap();
    let size = objects.iter().map(|(n, _)| n + 1).max().unwrap().max(document.next_object_number());
    let root = root.unwrap_or(document.root_id().number);
    let info =
        document.trailer().get("Info").and_then(|i| i.as_reference()).map_or(String::new(), |i| format!("/Info {i} "));
    let mut out = pdf.to_vec();
    let mut offsets = Vec::new();
    for (number, body) in objects {
        offsets.push((*number, out.len()));
        out.extend_from_slice(format!("{number} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n");
    for (number, offset) in offsets {
        out.extend_from_slice(format!("{number} 1\n{offset:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {size} /Root {root} 0 R {info}/Prev {} >>\nstartxref\n{xref}\n%%EOF\n",
            document.startxref()
        )
        .as_bytes(),
    );
    out
}
