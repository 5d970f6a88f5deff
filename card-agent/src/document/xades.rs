//! The XAdES arm: an e-prescription (the JAHIS CSV the prescriber's system wrote) in the national EP.xsd envelope
//! through `hcpki_docsig::signature::xades` (D75): `prepare` builds the SignedInfo from the CSV the agent shows (its
//! three References: the Base64 CSV, SignedProperties, KeyInfo), the card signs it, `assemble` checks the
//! signature and writes the XML; for B-T the time stamp over the canonical SignatureValue.

use hcpki_docsig::signature::xades::{self, Prepared, Prescription, XadesError};

use super::summary::SummaryLine;
use crate::driver::Words;
use crate::service::AgentError;

pub(super) fn prepare(csv: &[u8], chain: &[Vec<u8>], signing_time: i64) -> Result<Prepared, AgentError> {
    let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    xades::prepare(csv, &chain, signing_time).map_err(refused)
}

pub(super) fn finish(prepared: Prepared, signature: &[u8]) -> Result<Vec<u8>, AgentError> {
    xades::assemble(prepared, signature).map_err(refused)
}

pub(super) fn time_stamp_digest(xml: &[u8]) -> Result<[u8; 32], AgentError> {
    xades::signature_time_stamp_digest(xml).map_err(refused)
}

pub(super) fn with_time_stamp(xml: &[u8], token: &[u8]) -> Result<Vec<u8>, AgentError> {
    xades::with_signature_time_stamp(xml, token).map_err(refused)
}

fn refused(e: XadesError) -> AgentError {
    AgentError::Document(format!("the e-prescription signature cannot be made, so nothing was signed: {e}"))
}

/// What a prescriber checks before signing: the prescription as `Prescription::read` reads it, every record and
/// field a pharmacist acts on (each drug's 力価フラグ among them), read by the reader the signature is checked
/// with. A CSV it cannot read unambiguously is refused before anything is shown or any PIN asked, with the line,
/// the record and the rule in Japanese and English (the portal's page shows the agent's message as it is).
pub(super) fn summary(csv: &[u8]) -> Result<Vec<SummaryLine>, AgentError> {
    let prescription =
        Prescription::read(csv).map_err(|e| AgentError::Document(format!("{} (nothing was signed)", e.bilingual())))?;
    Ok(prescription
        .shown()
        .into_iter()
        .map(|line| SummaryLine::new(Words { ja: line.label.ja, en: line.label.en }, line.ja, line.en))
        .collect())
}
