//! The reader: both cross-reference forms, titles, and hostile input ending in errors that name the problem.

use super::sample;
use crate::signature::pades::pdf::{Document, Object, text_string};
use crate::signature::pades::{MAX_PDF_SIZE, PadesError, summary};

#[test]
fn classic_and_stream_files_give_the_same_summary() {
    for pdf in [sample::classic("診療情報提供書", 3), sample::with_xref_stream("診療情報提供書", 3)] {
        let s = summary(&pdf).unwrap();
        assert_eq!(s.pages, 3);
        assert_eq!(s.title.as_deref(), Some("診療情報提供書"));
        assert_eq!(s.size, pdf.len());
        assert_eq!(hex::encode(s.sha256), hex::encode(crate::timestamp::HashAlgorithm::Sha256.digest(&pdf)));
    }
    let s = summary(&sample::classic("Referral letter", 2)).unwrap();
    assert_eq!((s.title.as_deref(), s.pages), (Some("Referral letter"), 2));
    assert_eq!(summary(&sample::classic("", 1)).unwrap().title, None);
}

#[test]
fn text_strings_decode_utf16_utf8_and_pdfdoc() {
    let utf16: Vec<u8> = [0xFE, 0xFF].into_iter().chain("紹介状".encode_utf16().flat_map(u16::to_be_bytes)).collect();
    assert_eq!(text_string(&utf16), "紹介状");
    assert_eq!(text_string(&[0xEF, 0xBB, 0xBF, 0xE5, 0x90, 0x8C]), "同");
    assert_eq!(text_string(b"Caf\xE9 \x80 \xA0"), "Café • €");
}

/// `bytes` with the first `from` replaced by `to`.
fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let at = bytes.windows(from.len()).position(|w| w == from.as_bytes()).unwrap();
    [&bytes[..at], to.as_bytes(), &bytes[at + from.len()..]].concat()
}

/// The `startxref` offset of `pdf`.
fn startxref(pdf: &[u8]) -> usize {
    Document::parse(pdf).unwrap().startxref()
}

#[test]
fn xmp_title_is_read_when_there_is_no_info_title() {
    let xmp = "<x:xmpmeta><rdf:RDF><rdf:Description><dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">同意書 &amp; \
               説明</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta>";
    let mut bytes = sample::classic("", 1);
    let prev = startxref(&bytes);
    // An incremental update made by hand: the catalog again with /Metadata, and the XMP stream.
    let catalog = bytes.len();
    bytes.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 3 0 R /Metadata 6 0 R >>\nendobj\n");
    let metadata = bytes.len();
    bytes.extend_from_slice(
        format!(
            "6 0 obj\n<< /Type /Metadata /Subtype /XML /Length {} >>\nstream\n{xmp}\nendstream\nendobj\n",
            xmp.len()
        )
        .as_bytes(),
    );
    let xref = bytes.len();
    bytes.extend_from_slice(
        format!(
            "xref\n1 1\n{catalog:010} 00000 n\r\n6 1\n{metadata:010} 00000 n\r\ntrailer\n<< /Size 7 /Root 1 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    assert_eq!(summary(&bytes).unwrap().title.as_deref(), Some("同意書 & 説明"));
    let document = Document::parse(&bytes).unwrap();
    assert_eq!(document.sections().len(), 2);
}

#[test]
fn hostile_input_is_refused_with_the_problem_named() {
    let pdf = sample::classic("Letter", 1);
    let expect = |bytes: &[u8], needle: &str| {
        let err = summary(bytes).unwrap_err();
        assert!(err.to_string().contains(needle), "{needle:?} not in {err}");
    };
    expect(b"", "not a PDF");
    expect(b"hello world", "not a PDF");
    expect(&pdf[..pdf.len() / 2], "startxref");
    expect(&pdf[..pdf.len() - 8], "%%EOF");
    let mut big = pdf.clone();
    big.resize(MAX_PDF_SIZE + 1, b' ');
    assert!(matches!(summary(&big), Err(PadesError::TooLarge { .. })));
    let encrypted = replace(&pdf, "/Root 1 0 R", "/Root 1 0 R /Encrypt 9 0 R");
    assert!(matches!(summary(&encrypted), Err(PadesError::Encrypted)));
    let looping = replace(&pdf, "/Root 1 0 R", &format!("/Root 1 0 R /Prev {}", startxref(&pdf)));
    expect(&looping, "loops");
    let missing_root = replace(&pdf, "/Root 1 0 R", "/Root 9 0 R");
    expect(&missing_root, "object 9 0 R");
    let deep = format!("%PDF-1.7\n1 0 obj\n{}\nendobj\n", "[".repeat(5000));
    let mut deep = deep.into_bytes();
    let xref = deep.len();
    deep.extend_from_slice(format!("xref\n0 2\n0000000000 65535 f\r\n0000000009 00000 n\r\ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    expect(&deep, "nested deeper");
    // Two bytes more before every object: each offset now points into the line before it.
    let shifted = [&pdf[..9], b"xx", &pdf[9..]].concat();
    expect(&shifted, "malformed");
}

#[test]
fn every_truncation_and_byte_flip_ends_in_an_error_or_a_summary() {
    for pdf in [sample::classic("T", 2), sample::with_xref_stream("T", 2)] {
        for end in 0..pdf.len() {
            let _ = summary(&pdf[..end]);
        }
        for at in 0..pdf.len() {
            let mut flipped = pdf.clone();
            flipped[at] ^= 0x55;
            let _ = summary(&flipped);
        }
    }
}

#[test]
fn objects_are_found_through_both_tables() {
    let pdf = sample::with_xref_stream("X", 2);
    let document = Document::parse(&pdf).unwrap();
    assert!(document.uses_xref_stream());
    let catalog = document.catalog().unwrap();
    assert!(catalog.has_type("Catalog"));
    assert_eq!(document.pages().unwrap().len(), 2);
    let pages = document.resolve(catalog.get("Pages").unwrap()).unwrap();
    assert_eq!(pages.as_dictionary().unwrap().get("Count"), Some(&Object::Integer(2)));
}
