//! The formats the agent signs in, one enum arm each: what the page says the format is, the readable summary it
//! reads from the bytes, and how it builds what the card signs and wraps the card's signature: CAdES (any file),
//! XAdES (e-prescriptions) and PAdES (PDF).

use crate::driver::Words;
use crate::service::AgentError;

use super::summary::SummaryLine;
use super::{cades, pades, xades};

// The one format and level (D121): the page's request, the command line and the portal name them alike.
pub use hcpki_agent_protocol::signature::{Format, Level};

/// The levels the agent makes: B-B, or B-T with a time stamp from the configured TSAs (a service extends a
/// signature to B-LT and B-LTA).
pub const AGENT_LEVELS: [Level; 2] = [Level::BaselineB, Level::BaselineT];

/// What the agent shows and writes for a format.
pub trait DocumentFormat {
    /// What the page calls the document type.
    fn label(self) -> Words;
    /// The file name of the signed output beside `input`.
    fn output_name(self, input: &str) -> String;
}

/// What the card signs for one document, and how its signature becomes the signed file.
#[derive(Debug)]
pub(super) enum Prepared {
    Cades(hcpki_docsig::signature::cades::ToBeSigned),
    // Boxed: an e-prescription's prepared envelope is far larger than the other two.
    Xades(Box<hcpki_docsig::signature::xades::Prepared>),
    Pades(hcpki_docsig::signature::pades::Prepared),
}

impl Prepared {
    /// The bytes the card signs (SHA-256, PKCS#1 v1.5): made by the agent, never the caller's.
    pub(super) fn to_be_signed(&self) -> &[u8] {
        match self {
            Prepared::Cades(tbs) => tbs.bytes(),
            Prepared::Xades(p) => p.to_be_signed(),
            Prepared::Pades(p) => p.to_be_signed(),
        }
    }

    /// The signed file, the signature checked against the signer certificate first.
    pub(super) fn finish(self, signature: &[u8]) -> Result<Vec<u8>, AgentError> {
        match self {
            Prepared::Cades(tbs) => cades::finish(tbs, signature),
            Prepared::Xades(p) => xades::finish(*p, signature),
            Prepared::Pades(p) => pades::finish(p, signature),
        }
    }
}

impl DocumentFormat for Format {
    fn label(self) -> Words {
        match self {
            Format::Cades => Words { ja: "CAdES 分離署名（.p7s）", en: "CAdES detached signature (.p7s)" },
            Format::XadesEprescription => {
                Words { ja: "電子処方箋（XAdES 署名）", en: "e-prescription (XAdES signature)" }
            }
            Format::Pades => Words { ja: "PDF 文書（PAdES 署名）", en: "PDF document (PAdES signature)" },
        }
    }

    fn output_name(self, input: &str) -> String {
        match self {
            Format::Cades => format!("{input}.p7s"),
            // The prescription CSV becomes the signed XML the national service takes.
            Format::XadesEprescription => format!("{}.xml", input.strip_suffix(".csv").unwrap_or(input)),
            Format::Pades => format!("{}.signed.pdf", input.strip_suffix(".pdf").unwrap_or(input)),
        }
    }
}

/// The format's readable summary of `bytes`, read by the agent itself; an error when `bytes` are not a
/// document of this format at all (refused before anything is shown or asked).
pub(super) fn summary(format: Format, bytes: &[u8]) -> Result<Vec<SummaryLine>, AgentError> {
    match format {
        Format::Cades => Ok(cades::summary(bytes)),
        Format::XadesEprescription => xades::summary(bytes),
        Format::Pades => pades::summary(bytes),
    }
}

/// The consent statement `bytes` carry (issue #28): only a PDF made by `consent_document::render` carries one;
/// a PDF whose statement cannot be read is refused (the page would show what is not signed).
pub(super) fn statement(format: Format, bytes: &[u8]) -> Result<Option<super::Statement>, AgentError> {
    match format {
        Format::Cades | Format::XadesEprescription => Ok(None),
        Format::Pades => pades::statement(bytes),
    }
}

/// What the card signs over the document `bytes`, for the signer certificate first in `chain` (hashed with the
/// signer's hash: SHA-384 for a P-384 key, D153).
pub(super) fn prepare(
    format: Format,
    bytes: &[u8],
    chain: &[Vec<u8>],
    signing_time: i64,
) -> Result<Prepared, AgentError> {
    match format {
        Format::Cades => cades::prepare(bytes, chain, signing_time).map(Prepared::Cades),
        Format::XadesEprescription => xades::prepare(bytes, chain, signing_time).map(|p| Prepared::Xades(Box::new(p))),
        Format::Pades => pades::prepare(bytes, chain, signing_time).map(Prepared::Pades),
    }
}

/// The signed file with a signature time stamp added: the SHA-256 the TSA stamps, then the file with the
/// token.
pub(super) fn time_stamp_digest(format: Format, signed: &[u8]) -> Result<[u8; 32], AgentError> {
    match format {
        Format::Cades => cades::time_stamp_digest(signed),
        Format::XadesEprescription => xades::time_stamp_digest(signed),
        Format::Pades => pades::time_stamp_digest(signed),
    }
}

pub(super) fn with_time_stamp(format: Format, signed: &[u8], token: &[u8]) -> Result<Vec<u8>, AgentError> {
    match format {
        Format::Cades => cades::with_time_stamp(signed, token),
        Format::XadesEprescription => xades::with_time_stamp(signed, token),
        Format::Pades => pades::with_time_stamp(signed, token),
    }
}
