//! The verifier's entry for CAdES: a `.p7s` and its document → the format's own checks as
//! [`SignatureEvidence`] → [`validation::validate`], which gives the PASSED / INDETERMINATE / FAILED verdict.

use super::archive::{archive_time_stamps, check_archive};
use super::error::CadesError;
use super::parsed::CadesSignature;
use super::signer_info::verify_signer_info;
use super::time_stamp::Token;
use super::validation_data::embedded_revocation;
use crate::signature::validation::{
    self, Failure, FetchRequest, Report, SignatureEvidence, SigningTrust, SubIndication, TimeStampEvidence,
};

/// Judge the `.p7s` `p7s` over the detached document `data` against `trust` at `now` (Unix seconds), asking
/// `fetch` for revocation data the signature does not embed. Never an error: what cannot be read is
/// FAILED/FORMAT_FAILURE with the reason.
pub fn validate(
    p7s: &[u8],
    data: &[u8],
    trust: &SigningTrust,
    now: i64,
    fetch: &dyn Fn(&FetchRequest<'_>) -> Result<Vec<u8>, String>,
) -> Report {
    validation::validate(&evidence(p7s, data), trust, now, fetch)
}

/// What the `.p7s` says and how its own checks went.
pub fn evidence(p7s: &[u8], data: &[u8]) -> SignatureEvidence {
    let format = |e: CadesError| SignatureEvidence::broken(Failure::new(SubIndication::FormatFailure, e.to_string()));
    let signature = match CadesSignature::from_ber(p7s) {
        Ok(s) => s,
        Err(e) => return format(e),
    };
    let mut evidence = SignatureEvidence::new();
    evidence.signer = signature.received().signer_certificate();
    evidence.certificates = signature.certificates();
    if let Err(e) = signature.require_document(data).and_then(|()| verify_signer_info(signature.received(), data)) {
        let sub = match e {
            CadesError::ContentMismatch | CadesError::CarriedDocumentDiffers => SubIndication::HashFailure,
            CadesError::BadSignature(_) => SubIndication::SigCryptoFailure,
            CadesError::SignerCertificateMissing(_) | CadesError::SigningCertificateMismatch(_) => {
                SubIndication::NoSigningCertificateFound
            }
            _ => SubIndication::FormatFailure,
        };
        evidence.integrity = Err(Failure::new(sub, e.to_string()));
        return evidence;
    }
    let value = signature.signature_value();
    evidence.signature_time_stamps =
        signature.signature_time_stamps().iter().map(|token| time_stamp_over(token, value)).collect();
    evidence.archive_time_stamps = archive_time_stamps(&signature)
        .iter()
        .map(|token| time_stamp(token, |t| check_archive(&signature, data, t)))
        .collect();
    (evidence.crls, evidence.ocsp_responses) = embedded_revocation(&signature);
    evidence
}

/// One time-stamp token whose imprint must be over `covered` (a signature value, a canonical SignatureValue
/// element, a PDF revision's byte ranges): the evidence XAdES and PAdES hand the verifier too.
pub(crate) fn time_stamp_over(der: &[u8], covered: &[u8]) -> TimeStampEvidence {
    time_stamp(der, |t| t.require_imprint_of(covered).map_err(|e| e.to_string()))
}

/// One token: decoded, `covers` (its imprint is over what it must be), and the TSA's signature.
fn time_stamp(der: &[u8], covers: impl FnOnce(&Token) -> Result<(), String>) -> TimeStampEvidence {
    let token = match Token::read(der) {
        Ok(t) => t,
        Err(e) => return TimeStampEvidence::Broken(e.to_string()),
    };
    if let Err(e) = covers(&token) {
        return TimeStampEvidence::Broken(e);
    }
    match token.verify() {
        Ok(tsa) => TimeStampEvidence::Intact {
            gen_time: token.tst_info().gen_time.unix(),
            tsa: Box::new(tsa),
            certificates: token.certificates(),
        },
        Err(e) => TimeStampEvidence::Broken(e.to_string()),
    }
}
