//! The prescription CSV reader (`hcpki_docsig::signature::xades::Prescription::read`, D108): the CSV a physician
//! signs reaches it from a prescribing system, a service's signing request or the card agent's API, and a signed
//! e-prescription's content from an upload.
//!
//! It must never panic. What it accepts is read one way by every reader: the text holds no control character but
//! its line ends (a leading BOM and a final MS-DOS EOF aside), splitting it at LF or at CR and LF alike (and at CR
//! for a CRLF file) gives exactly the records read, reading it again gives the same prescription, and every drug is shown with its name and its
//! 力価フラグ.
#![no_main]

use hcpki_docsig::signature::xades::Prescription;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(read) = Prescription::read(data) else { return };
    let text = std::str::from_utf8(data).expect("accepted, so UTF-8");
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = body.strip_suffix('\u{1a}').unwrap_or(body);
    assert!(!body.chars().any(|c| c.is_control() && c != '\r' && c != '\n'), "a control character accepted");
    let mut splits = vec![&['\n'][..], &['\r', '\n']];
    if read.line_ending == Some(hcpki_docsig::signature::xades::prescription::LineEnding::CrLf) {
        splits.push(&['\r']);
    }
    for split in splits {
        let records = body.split(split).map(|s| s.trim_matches(['\r', '\n'])).filter(|s| !s.is_empty()).count();
        assert_eq!(records, read.records, "split at {split:?}, the text has other records than were read");
    }
    assert_eq!(Prescription::read(data).as_ref(), Ok(&read));
    let shown = read.shown();
    for drug in read.rps.iter().flat_map(|rp| &rp.drugs) {
        assert!(!drug.name.is_empty());
        assert!(
            shown.iter().any(|l| l.ja.contains(drug.name.as_str()) && l.ja.contains("力価フラグ")),
            "{} shown without its potency flag",
            drug.name
        );
    }
});
