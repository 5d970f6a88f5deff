//! The formats the agent signs in, one enum arm each: what the page says the format is, the readable summary it
//! reads from the bytes, and how it builds what the card signs and wraps the card's signature: CAdES (any file),
//! XAdES (e-prescriptions) and PAdES (PDF).

use crate::driver::Words;
use crate::service::AgentError;

use super::summary::SummaryLine;
use super::{cades, pades, xades};

/// A signature format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Format {
    /// CAdES detached (`.p7s`) over any file: ETSI EN 319 122-1 baseline, `hcpki_docsig::signature::cades`.
    Cades,
    /// An e-prescription: the JAHIS CSV in the national EP.xsd envelope, XAdES (`hcpki_docsig::signature::xades`).
    XadesEprescription,
    /// A PDF signed inside itself: PAdES (`hcpki_docsig::signature::pades`).
    Pades,
}

/// A baseline level the agent makes: B-B, or B-T with a time stamp from the configured TSAs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
pub enum Level {
    #[default]
    #[serde(rename = "b-b")]
    #[value(name = "b-b")]
    BB,
    #[serde(rename = "b-t")]
    #[value(name = "b-t")]
    BT,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
        }
    }
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

impl Format {
    /// The format's name in logs and the API (`cades`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Cades => "cades",
            Format::XadesEprescription => "xades-eprescription",
            Format::Pades => "pades",
        }
    }

    /// What the page calls the document type.
    pub fn label(self) -> Words {
        match self {
            Format::Cades => Words { ja: "CAdES 分離署名（.p7s）", en: "CAdES detached signature (.p7s)" },
            Format::XadesEprescription => {
                Words { ja: "電子処方箋（XAdES 署名）", en: "e-prescription (XAdES signature)" }
            }
            Format::Pades => Words { ja: "PDF 文書（PAdES 署名）", en: "PDF document (PAdES signature)" },
        }
    }

    /// The file name of the signed output beside `input`.
    pub fn output_name(self, input: &str) -> String {
        match self {
            Format::Cades => format!("{input}.p7s"),
            // The prescription CSV becomes the signed XML the national service takes.
            Format::XadesEprescription => format!("{}.xml", input.strip_suffix(".csv").unwrap_or(input)),
            Format::Pades => format!("{}.signed.pdf", input.strip_suffix(".pdf").unwrap_or(input)),
        }
    }

    /// The format's readable summary of `bytes`, read by the agent itself; an error when `bytes` are not a
    /// document of this format at all (refused before anything is shown or asked).
    pub(super) fn summary(self, bytes: &[u8]) -> Result<Vec<SummaryLine>, AgentError> {
        match self {
            Format::Cades => Ok(cades::summary(bytes)),
            Format::XadesEprescription => xades::summary(bytes),
            Format::Pades => pades::summary(bytes),
        }
    }

    /// The consent statement `bytes` carry (issue #28): only a PDF made by `consent_document::render` carries one;
    /// a PDF whose statement cannot be read is refused (the page would show what is not signed).
    pub(super) fn statement(self, bytes: &[u8]) -> Result<Option<super::Statement>, AgentError> {
        match self {
            Format::Cades | Format::XadesEprescription => Ok(None),
            Format::Pades => pades::statement(bytes),
        }
    }

    /// What the card signs over the document whose SHA-256 is `sha256`, for the signer certificate first in
    /// `chain`.
    pub(super) fn prepare(
        self,
        sha256: &[u8; 32],
        bytes: &[u8],
        chain: &[Vec<u8>],
        signing_time: i64,
    ) -> Result<Prepared, AgentError> {
        match self {
            Format::Cades => cades::prepare(sha256, chain, signing_time).map(Prepared::Cades),
            Format::XadesEprescription => {
                xades::prepare(bytes, chain, signing_time).map(|p| Prepared::Xades(Box::new(p)))
            }
            Format::Pades => pades::prepare(bytes, chain, signing_time).map(Prepared::Pades),
        }
    }

    /// The signed file with a signature time stamp added: the SHA-256 the TSA stamps, then the file with the
    /// token.
    pub(super) fn time_stamp_digest(self, signed: &[u8]) -> Result<[u8; 32], AgentError> {
        match self {
            Format::Cades => cades::time_stamp_digest(signed),
            Format::XadesEprescription => xades::time_stamp_digest(signed),
            Format::Pades => pades::time_stamp_digest(signed),
        }
    }

    pub(super) fn with_time_stamp(self, signed: &[u8], token: &[u8]) -> Result<Vec<u8>, AgentError> {
        match self {
            Format::Cades => cades::with_time_stamp(signed, token),
            Format::XadesEprescription => xades::with_time_stamp(signed, token),
            Format::Pades => pades::with_time_stamp(signed, token),
        }
    }
}
