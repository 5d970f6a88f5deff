//! Why a PDF cannot be read, signed, time-stamped or checked.

use super::pdf::ObjectId;
use crate::signature::cades::CadesError;

/// Why a PDF cannot be read, signed or checked. Each message says what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PadesError {
    /// The file is larger than [`super::MAX_PDF_SIZE`].
    #[error(
        "the PDF is {size} bytes, over the limit of {limit} bytes: send a smaller file (split it, or scan at a lower resolution)"
    )]
    TooLarge {
        /// The file's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The file does not start with `%PDF-`.
    #[error("the file is not a PDF (it does not start with %PDF-): give the PDF itself")]
    NotPdf,
    /// The PDF is encrypted (/Encrypt in a trailer).
    #[error("the PDF is encrypted (password-protected or with permissions): save an unencrypted copy and sign that")]
    Encrypted,
    /// The PDF's syntax or structure is broken at a byte offset.
    #[error(
        "the PDF is malformed at byte {offset}: {problem}; save it again from the program that made it (or repair it) and retry"
    )]
    Malformed {
        /// Byte offset (0 when the place is an object rather than a byte).
        offset: usize,
        /// What is wrong there.
        problem: String,
    },
    /// A reference names an object the cross-reference table does not have.
    #[error("the PDF refers to object {0}, which it does not contain: the file is damaged; save it again and retry")]
    MissingObject(ObjectId),
    /// The signature value does not fit the space reserved in /Contents.
    #[error(
        "the signature ({needed} bytes) does not fit the {room} bytes reserved in the PDF: sign again (the reservation is too small for this certificate chain and time stamp)"
    )]
    ContentsTooSmall {
        /// Bytes the CMS needs.
        needed: usize,
        /// Bytes reserved.
        room: usize,
    },
    /// The PDF holds no signature (or no document time stamp) where one was expected.
    #[error("the PDF has no {0}: sign it first")]
    NoSignature(&'static str),
    /// A signature dictionary's /ByteRange or /Contents is not what a PAdES signature needs.
    #[error("the signature {field} is broken: {problem}")]
    ByteRange {
        /// The field's name.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A signature of a filter or sub-filter hcpki does not check.
    #[error(
        "the signature {field} is a {sub_filter} signature; hcpki checks ETSI.CAdES.detached signatures and ETSI.RFC3161 document time stamps"
    )]
    UnsupportedSubFilter {
        /// The field's name.
        field: String,
        /// The /SubFilter found.
        sub_filter: String,
    },
    /// A revision after a signature changes something other than validation data, document time stamps and
    /// invisible signature fields.
    #[error(
        "the PDF was modified after the signature {field}: revision {revision} {change}; the signed content may not be what is shown now"
    )]
    ModifiedAfterSigning {
        /// The signature's field name.
        field: String,
        /// The revision (1 = the original file) that changed it.
        revision: usize,
        /// What it changed.
        change: String,
    },
    /// The file goes on after its last revision with bytes no cross-reference section accounts for (an object
    /// appended without one, garbage): no signature covers them, and a reader that repairs files may show them.
    #[error(
        "the file goes on for {length} bytes after its last revision ends (at byte {offset}), in no revision: no \
         signature covers them and a reader that repairs damaged files may show them; ask the sender for the file \
         as it was signed"
    )]
    BytesAfterLastRevision {
        /// Where they start.
        offset: usize,
        /// How many.
        length: usize,
    },
    /// The CMS inside the PDF (signature or time-stamp token) is wrong; the CAdES check says why.
    #[error("{0}")]
    Cms(#[from] CadesError),
    /// The document time-stamp token is not over this PDF's bytes.
    #[error(
        "the time-stamp token is not over this PDF revision (its messageImprint differs): ask the TSA again with the digest prepare_document_time_stamp returned"
    )]
    TimeStampImprint,
}
