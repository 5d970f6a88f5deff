//! The XAdES arm: an e-prescription (the JAHIS CSV the prescriber's system wrote) in the national EP.xsd envelope
//! through `hcpki_ca::signature::xades` (D75): `prepare` builds the SignedInfo from the CSV the agent shows (its
//! three References: the Base64 CSV, SignedProperties, KeyInfo), the card signs it, `assemble` checks the
//! signature and writes the XML; for B-T the time stamp over the canonical SignatureValue.

use hcpki_ca::signature::xades::{self, Prepared, XadesError};

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

/// What a prescriber checks before signing: the patient, the prescriber and date written in it, every drug. A CSV
/// the summary cannot read (not UTF-8, no patient) is no prescription: refused.
pub(super) fn summary(csv: &[u8]) -> Result<Vec<SummaryLine>, AgentError> {
    const PATIENT: Words = Words { ja: "患者", en: "Patient" };
    const PRESCRIBER: Words = Words { ja: "処方医", en: "Prescriber" };
    const ISSUED: Words = Words { ja: "交付年月日", en: "Issued" };
    const DRUG: Words = Words { ja: "薬剤", en: "Drug" };
    let summary = xades::summary(csv).map_err(refused)?;
    let mut lines = vec![SummaryLine::new(PATIENT, summary.patient.clone(), summary.patient)];
    if let Some(prescriber) = summary.prescriber {
        lines.push(SummaryLine::new(PRESCRIBER, prescriber.clone(), prescriber));
    }
    if let Some(issued) = summary.issued {
        lines.push(SummaryLine::new(ISSUED, issued.clone(), issued));
    }
    for drug in summary.drugs {
        let mut text = format!("Rp{} {} {}{}", drug.rp, drug.name, drug.amount, drug.unit);
        for extra in [drug.usage, drug.quantity].into_iter().flatten() {
            text.push_str(" / ");
            text.push_str(&extra);
        }
        lines.push(SummaryLine::new(DRUG, text.clone(), text));
    }
    Ok(lines)
}
