//! The PDF reader behind PAdES (`hcpki_docsig::signature::pades::pdf`, D77): every PDF a physician signs or a
//! service uploads for checking reaches it from outside.
//!
//! It must never panic, whatever the bytes; a file it opens has a catalog, and what `summary` says about it
//! (pages, SHA-256, size) is about these very bytes.
#![no_main]

use hcpki_docsig::signature::pades::{self, pdf::Document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = Document::parse(data) else { return };
    assert!(document.catalog().is_ok());
    let _ = document.pages();
    let _ = pades::pdf::title(&document);
    for number in document.numbers().take(256).collect::<Vec<_>>() {
        let _ = document.get(pades::pdf::ObjectId::new(number, 0));
    }
    if let Ok(summary) = pades::summary(data) {
        assert_eq!(summary.size, data.len());
    }
});
