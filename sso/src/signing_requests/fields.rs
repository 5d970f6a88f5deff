//! What a service's signing request says, parsed once at the edge: format, level, title and document.

use super::{MAX_DOCUMENT_BYTES, MAX_TITLE_CHARS};
use crate::oidc::{ErrorStatus, OAuthError};
use base64::Engine as _;
use hcpki_docsig::signature::{pades, xades};
use std::collections::HashMap;

// The one format and level (D121): what the card agent makes and the verifier reports, named the same here.
pub use hcpki_model::signature::{Format, Level};

/// Parse the API's format name.
fn format(name: &str) -> Result<Format, OAuthError> {
    name.parse().map_err(|_| {
        OAuthError::new(
            "unsupported_format",
            format!(
                "unknown format {:?}: send format=cades (a detached .p7s of any file), xades-eprescription (the \
                 prescription CSV) or pades (a PDF)",
                shorten(name)
            ),
        )
    })
}

/// Parse the API's level name, for `format`: e-prescriptions at B-T at most (the national service's
/// e-prescription is B-T; the XAdES core makes no validation data), the others at every level.
fn level(name: &str, format: Format) -> Result<Level, OAuthError> {
    let level: Level = name.parse().map_err(|_| {
        OAuthError::new("unsupported_level", format!("unknown level {:?}: send b-b, b-t, b-lt or b-lta", shorten(name)))
    })?;
    if format == Format::XadesEprescription && level > Level::BaselineT {
        return Err(OAuthError::new(
            "unsupported_level",
            format!(
                "level {} is not made for e-prescriptions (format=xades-eprescription): the national \
                 e-prescription service takes B-T, so send level=b-t",
                level.as_str()
            ),
        ));
    }
    Ok(level)
}

/// A service's request, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRequest {
    /// The format.
    pub format: Format,
    /// The level.
    pub level: Level,
    /// What the physician recognises the document by (shown on the page as the service's words).
    pub title: String,
    /// The document.
    pub document: Vec<u8>,
}

impl NewRequest {
    /// Read `format`, `level`, `title` and `document` (standard base64) from a request's fields.
    pub fn parse(fields: &HashMap<String, String>) -> Result<Self, OAuthError> {
        let field = |name: &'static str| {
            fields
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")))
        };
        let format = format(field("format")?)?;
        let level = level(field("level")?, format)?;
        let title = field("title")?.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
            return Err(OAuthError::invalid_request(format!(
                "title must be 1 to {MAX_TITLE_CHARS} characters on one line, without control characters"
            )));
        }
        let encoded = field("document")?;
        // Checked before decoding: a body this large is refused without holding its decoded copy.
        if encoded.len() / 4 * 3 > MAX_DOCUMENT_BYTES + 2 {
            return Err(too_large());
        }
        let document = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| OAuthError::invalid_request("document is not base64 (standard alphabet, padded)"))?;
        if document.len() > MAX_DOCUMENT_BYTES {
            return Err(too_large());
        }
        if document.is_empty() {
            return Err(OAuthError::invalid_request("document is empty"));
        }
        // Refused now, not after the physician opened the page: the card agent would refuse it there.
        check_document(format, &document).map_err(OAuthError::invalid_request)?;
        Ok(Self { format, level, title: title.to_owned(), document })
    }
}

/// Whether `document` is one `format` signs: a prescription CSV for XAdES (read strictly, as the card agent will
/// read it before the PIN: `xades::Prescription::read`), a readable
/// unencrypted PDF for PAdES; any file for CAdES.
fn check_document(format: Format, document: &[u8]) -> Result<(), String> {
    match format {
        Format::Cades => Ok(()),
        Format::XadesEprescription => xades::Prescription::read(document).map(|_| ()).map_err(|e| {
            format!("document is not an e-prescription CSV hcpki can sign (format=xades-eprescription): {e}")
        }),
        Format::Pades => pades::summary(document)
            .map(|_| ())
            .map_err(|e| format!("document is not a PDF that can be signed (format=pades): {e}")),
    }
}

/// 413: the document is over [`MAX_DOCUMENT_BYTES`].
pub(super) fn too_large() -> OAuthError {
    OAuthError {
        status: ErrorStatus::PayloadTooLarge,
        error: "too_large",
        description: format!(
            "the document is over {} MiB: send a smaller file (the limit of signing requests)",
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        ),
    }
}

/// At most 40 characters of what a request sent, for an error that quotes it.
fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}
