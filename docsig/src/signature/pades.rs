//! PAdES signatures for PDF referral letters and consent forms (ETSI EN 319 142-1 baseline B-B, B-T, B-LT and
//! B-LTA; decision D78), with no HTTP and no private key.
//!
//! Every change is an **incremental update**: the original bytes stay as they were, and a revision is appended
//! (ISO 32000-1 §7.5.6). A signature is a CAdES detached CMS (made by [`crate::signature::cades`]) over the
//! /ByteRange of its revision, that is the whole file but its own /Contents.
//!
//! ```text
//! original bytes                         untouched
//! revision 2: signature field            /Sig /ETSI.CAdES.detached /M /ByteRange [0 a b c] /Contents <CMS>
//!             (+ signature time stamp inside the CMS: B-T)
//! revision 3: /DSS /Certs /CRLs /OCSPs   B-LT (add_validation_data)
//! revision 4: document time stamp        /DocTimeStamp /ETSI.RFC3161: B-LTA (prepare/assemble_document_time_stamp)
//! revision 5…: DSS + document time stamp renewal (renew)
//! ```
//!
//! Producing: [`prepare`] → the card signs [`Prepared::to_be_signed`] → [`assemble`] (B-B);
//! [`signature_time_stamp_digest`] → a TSA → [`with_signature_time_stamp`] (B-T); [`add_validation_data`]
//! (B-LT); [`prepare_document_time_stamp`] → a TSA → [`assemble_document_time_stamp`] (B-LTA); [`renew`].
//! Checking: [`verify`]. [`summary`] tells what a person is shown before signing (title, pages, SHA-256), from
//! [`pdf`], the careful reader (decision D77).

pub(crate) mod diff;
mod doc_time_stamp;
mod dss;
mod error;
mod evidence;
mod field;
mod history;
mod located;
pub mod pdf;
mod sign;
mod tail;
mod update;
mod verify;

pub use diff::Change;
pub use doc_time_stamp::{
    PreparedTimeStamp, TIME_STAMP_ROOM, assemble_document_time_stamp, prepare_document_time_stamp, renew,
};
pub use dss::{ValidationData, add_validation_data};
pub use error::PadesError;
pub use evidence::{FieldEvidence, Validated, evidence, validate};
pub use history::{History, Revision, history};
pub use located::Kind;
pub use pdf::MAX_PDF_SIZE;
pub use sign::{Prepared, SIGNATURE_ROOM, assemble, prepare, signature_time_stamp_digest, with_signature_time_stamp};
pub use tail::Tail;
pub use verify::{DocumentTimeStampSeen, Level, SignatureSeen, Verified, verify};

/// What the card agent shows before a PDF is signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The title (Info /Title, else XMP dc:title), when the document has one.
    pub title: Option<String>,
    /// Number of pages.
    pub pages: usize,
    /// SHA-256 of the whole file.
    pub sha256: [u8; 32],
    /// Size in bytes.
    pub size: usize,
}

/// Read `pdf` and say what it is: refused when over [`MAX_PDF_SIZE`], encrypted, malformed, or going on after
/// its last revision with bytes no revision accounts for (what is shown would depend on the reader).
pub fn summary(pdf: &[u8]) -> Result<Summary, PadesError> {
    let document = pdf::Document::parse(pdf)?;
    if let Some(refusal) = Tail::of(&document).and_then(Tail::refusal) {
        return Err(refusal);
    }
    let pages = document.pages()?.len();
    let title = pdf::title(&document)?;
    let sha256 = sha256(pdf);
    Ok(Summary { title, pages, sha256, size: pdf.len() })
}

/// SHA-256 of `data`.
fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}

#[cfg(test)]
pub(crate) mod tests;
