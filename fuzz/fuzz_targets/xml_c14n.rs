//! The safe XML reader and exclusive canonicalization (`hcpki_docsig::signature::xades::{xml, c14n}`): every byte
//! of an uploaded e-prescription goes through them before any signature check.
//!
//! It must never panic, and never accept a DTD. The canonical form of the root element is itself well-formed
//! XML the reader accepts, and canonicalizing it again gives the same bytes (exc-c14n is idempotent).
#![no_main]

use hcpki_docsig::signature::xades::{XmlError, c14n, xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = xml::parse_bytes(data) else { return };
    assert!(!data.windows(9).any(|w| w == b"<!DOCTYPE"), "a DTD was read");
    let canonical = c14n::exclusive(document.root_element());
    let again = match xml::parse_bytes(&canonical) {
        Ok(again) => again,
        // Escaping may grow text (`>` to `&gt;`) past the size limit; nothing else may fail.
        Err(XmlError::TooLarge { .. }) => return,
        Err(e) => panic!("the canonical form does not parse: {e}"),
    };
    assert_eq!(c14n::exclusive(again.root_element()), canonical, "exc-c14n is not idempotent");
});
