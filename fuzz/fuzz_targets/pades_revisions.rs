//! The revisions after a signature (`hcpki_docsig::signature::pades`: `verify`'s check of what later revisions may
//! change, `validate`'s report of every revision and of the bytes after the last one; D112, D113). Random bytes
//! appended to a signed PDF almost never make a revision a reader accepts, so the input *describes* one and the
//! target writes it with a correct cross-reference section after a fixed signed file (`pades_signature`'s seed
//! `hcpki-b-t.pdf`: a pyHanko-made letter signed by hcpki at B-T; objects 1 catalog, 2 page tree, 3 and 5
//! contents, 4 and 6 pages, 7 document information, 8 signature value, 9 its field, 10 the form).
//!
//! Input: parts separated by a line `%%`. A part `N G` + newline + body writes object N generation G with that
//! body; a part `trailer` + newline + entries adds them to the revision's trailer (/Root, /Prev and /Size are the
//! target's unless overridden); a part `tail` + newline + bytes appends those bytes after the revision's `%%EOF`.
//! Seeds (`seeds/pades_revisions/`) are written by hand, one change each.
//!
//! Must hold: no panic; `verify` and the report agree on the appended revision: `verify` accepts the file exactly
//! when `history` compared that revision and refused nothing in it and nothing unaccounted follows, and then the
//! changes it names are those `verify` found for the signature. (The CMS is checked only in files the revision
//! check accepts: the base's signature is intact, so those pass.)
#![no_main]

use hcpki_docsig::signature::pades::{self, Tail};
use libfuzzer_sys::fuzz_target;

const BASE: &[u8] = include_bytes!("../seeds/pades_signature/hcpki-b-t.pdf");

fuzz_target!(|data: &[u8]| {
    let pdf = revision(data);
    let verified = pades::verify(&pdf);
    let Ok(history) = pades::history(&pdf) else {
        assert!(verified.is_err(), "verify read a file whose history cannot be read");
        return;
    };
    let Some(last) = history.revisions.last().filter(|r| r.end > BASE.len()) else { return };
    let unaccounted = matches!(history.after_last_revision, Some(Tail::Unaccounted { .. }));
    let accepted = last.compared && last.refused.is_none() && !unaccounted;
    match verified {
        Ok(verified) => {
            assert!(accepted, "verify accepted what the history refuses: {history:?}");
            let first = verified.signatures.first().expect("the base's signature");
            assert_eq!(last.changes.as_deref(), Some(first.later_changes.as_slice()), "{history:?}");
        }
        Err(pades::PadesError::ModifiedAfterSigning { change, .. }) => {
            assert!(!accepted || history.revisions.len() > 3, "verify refused ({change}) what the history accepts");
        }
        Err(_) => {}
    }
});

/// The base file with the revision `data` describes.
fn revision(data: &[u8]) -> Vec<u8> {
    let mut out = BASE.to_vec();
    let mut objects: Vec<(u32, u16, usize)> = Vec::new();
    let mut trailer = Vec::new();
    let mut tail: &[u8] = &[];
    for part in split(data, b"\n%%\n") {
        let (head, body) = match part.iter().position(|&b| b == b'\n') {
            Some(at) => (&part[..at], &part[at + 1..]),
            None => (part, &[][..]),
        };
        match head {
            b"trailer" => trailer = body.to_vec(),
            b"tail" => tail = body,
            _ => {
                let text = String::from_utf8_lossy(head);
                let mut numbers = text.split_ascii_whitespace().map(str::parse::<u32>);
                let (Some(Ok(number)), Some(Ok(generation))) = (numbers.next(), numbers.next()) else { continue };
                let Ok(generation) = u16::try_from(generation) else { continue };
                objects.push((number, generation, out.len()));
                out.extend_from_slice(format!("{number} {generation} obj\n").as_bytes());
                out.extend_from_slice(body);
                out.extend_from_slice(b"\nendobj\n");
            }
        }
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n");
    for (number, generation, offset) in &objects {
        out.extend_from_slice(format!("{number} 1\n{offset:010} {generation:05} n\r\n").as_bytes());
    }
    let size = objects.iter().map(|(n, ..)| n.saturating_add(1)).max().unwrap_or(0).max(11);
    out.extend_from_slice(format!("trailer\n<< /Size {size} /Root 1 0 R /Info 7 0 R /Prev 67285 ").as_bytes());
    out.extend_from_slice(&trailer);
    out.extend_from_slice(format!(" >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    out.extend_from_slice(tail);
    out
}

fn split<'a>(data: &'a [u8], separator: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.windows(separator.len()).position(|w| w == separator) {
            Some(at) => {
                rest = Some(&current[at + separator.len()..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}
