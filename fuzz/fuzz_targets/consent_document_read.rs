//! The consent document (`hcpki_docsig::consent_document`, D89): the card agent reads the statement out of the PDF it is
//! about to have the patient sign, whatever bytes it was handed; and the portal renders whatever a service's template
//! and a physician typed.
//!
//! First byte even: the rest is a PDF for `read`. It must never panic; a statement it gives renders again (it is
//! within the limits) and reads back from that rendering unchanged. Odd: the rest, as (lossy) UTF-8, is cut at
//! `|` into a title, a reference and label/text pairs, and rendered; a rendering reads back as the same statement.
#![no_main]

use hcpki_docsig::consent_document::{Item, Kind, Statement, read, render};
use libfuzzer_sys::fuzz_target;

/// 2026-11-26 23:30:00 UTC.
const CREATED_AT: i64 = 1_795_735_800;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        if let Ok(Some(statement)) = read(rest) {
            let again = render(&statement, CREATED_AT).expect("a statement read renders");
            assert_eq!(read(&again).expect("a rendering reads"), Some(statement));
        }
        return;
    }
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.split('|');
    let title = parts.next().unwrap_or_default().to_owned();
    let reference = parts.next().unwrap_or_default().to_owned();
    let fields: Vec<&str> = parts.collect();
    let items = fields
        .chunks(2)
        .map(|pair| Item { label: pair[0].to_owned(), text: pair.get(1).copied().unwrap_or_default().to_owned() })
        .collect();
    let kind = [Kind::Consent, Kind::Withdrawal, Kind::Attestation][usize::from(mode / 2 % 3)].clone();
    let statement = Statement { kind, title, items, reference };
    if let Ok(pdf) = render(&statement, CREATED_AT + i64::from(mode)) {
        assert!(pdf.starts_with(b"%PDF-1.7\n") && pdf.ends_with(b"%%EOF\n"));
        assert_eq!(read(&pdf).expect("a rendering reads"), Some(statement));
    }
});
