//! The verifier's entry for XAdES e-prescriptions: the format's own checks ([`super::check`]) as
//! [`SignatureEvidence`] → [`validation::validate`], which gives the PASSED / INDETERMINATE / FAILED verdict.
//!
//! What differs from [`super::verify`]: a signer certificate without nonRepudiation is not an error here but the
//! verifier's FAILED/CHAIN_CONSTRAINTS_FAILURE, and a broken time stamp is no proof of time (a note) rather than
//! a refusal. XAdES e-prescriptions carry no validation data (the national format is B-T): the signer's
//! revocation is fetched, so they reach B-T at most.

use super::check::intact;
use super::error::XadesError;
use crate::signature::cades::{CadesError, time_stamp_over};
use crate::signature::validation::{
    self, Failure, FetchRequest, Report, SignatureEvidence, SigningTrust, SubIndication, TimeStampEvidence,
};

/// Judge the signed e-prescription `xml` against `trust` at `now` (Unix seconds), asking `fetch` for the
/// signer's revocation data. Never an error: what cannot be read is FAILED/FORMAT_FAILURE with the reason.
pub fn validate(
    xml: &[u8],
    trust: &SigningTrust,
    now: i64,
    fetch: &dyn Fn(&FetchRequest<'_>) -> Result<Vec<u8>, String>,
) -> Report {
    validation::validate(&evidence(xml), trust, now, fetch)
}

/// What the e-prescription says and how its own checks went.
pub fn evidence(xml: &[u8]) -> SignatureEvidence {
    let intact = match intact(xml) {
        Ok(intact) => intact,
        Err(e) => return SignatureEvidence::broken(failure(e)),
    };
    let signature_time_stamps = intact
        .time_stamps
        .iter()
        .map(|token| match token {
            Ok(der) => time_stamp_over(der, &intact.signature_value),
            Err(e) => TimeStampEvidence::Broken(e.to_string()),
        })
        .collect();
    SignatureEvidence {
        signer: Some(intact.signer),
        certificates: intact.chain,
        signature_time_stamps,
        ..SignatureEvidence::new()
    }
}

/// The sub-indication of a format error (EN 319 102-1 §5.1.3): a reference digest that differs is the signed
/// data changed; a signature value that does not verify, SignedInfo changed; a swapped certificate, no signing
/// certificate; every other refusal (shape, algorithms, wrapping) is not a well-formed e-prescription signature.
fn failure(error: XadesError) -> Failure {
    let sub = match &error {
        XadesError::DigestMismatch(_) => SubIndication::HashFailure,
        XadesError::BadSignature => SubIndication::SigCryptoFailure,
        XadesError::SigningCertificateMismatch | XadesError::Signer(CadesError::SignerCertificateMissing(_)) => {
            SubIndication::NoSigningCertificateFound
        }
        _ => SubIndication::FormatFailure,
    };
    Failure::new(sub, error.to_string())
}
