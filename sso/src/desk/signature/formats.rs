//! Each format's part of completing a request: the card's B-B signature checked against the request's own
//! document by that format's core, and the signature time stamp, the validation data (B-LT) and the archive
//! time stamp (B-LTA) added the format's way. The rest of
//! [`super`] (the TSA list, the CRL cache) and of the desks (the signer bound to a person, the audit) is the same
//! for all.

use super::validation_data::Gathered;
use der::{Decode as _, Encode as _};
use hcpki_docsig::signature::cades::{self, CadesSignature, Level};
use hcpki_docsig::signature::{pades, xades};
use hcpki_model::signature::Format;
use x509_cert::Certificate;

/// A card's B-B signature over the request's document: the signer certificate (DER) first, then the other
/// certificates the signature carries (its CAs).
#[derive(Debug)]
pub(crate) struct Checked {
    pub chain: Vec<Vec<u8>>,
}

const ALREADY_STAMPED: &str =
    "it carries a time stamp already: post the card's B-B signature, hcpki adds the time stamp";

/// Check `signed` (what the card agent returned) as a B-B signature of `document` in `format`: intact, over
/// exactly that document (CAdES: its messageDigest; XAdES: the CSV it carries; PAdES: the original PDF is its
/// first revision, one signature after it), by a certificate with nonRepudiation.
pub(crate) fn check_b_b(format: Format, signed: &[u8], document: &[u8]) -> Result<Checked, String> {
    let (level, signer, carried) = match format {
        Format::Cades => {
            let verified = cades::verify(signed, document).map_err(|e| e.to_string())?;
            let carried = CadesSignature::from_ber(signed).map_err(|e| e.to_string())?.certificates();
            (verified.level, verified.signer, carried)
        }
        Format::XadesEprescription => {
            let verified = xades::verify(signed).map_err(|e| e.to_string())?;
            if verified.prescription != document {
                return Err("it carries another prescription than the one requested".into());
            }
            (verified.level, verified.signer, verified.chain)
        }
        Format::Pades => {
            if !signed.starts_with(document) {
                return Err("it is not the requested PDF with a signature appended (the original bytes differ)".into());
            }
            let verified = pades::verify(signed).map_err(|e| e.to_string())?;
            let level = verified.level();
            let [one] = <[pades::SignatureSeen; 1]>::try_from(verified.signatures)
                .map_err(|all| format!("it holds {} signatures; the requested PDF gets exactly one", all.len()))?;
            (level, one.signer, one.certificates)
        }
    };
    if level != Level::BaselineB {
        return Err(ALREADY_STAMPED.into());
    }
    let signer = signer.to_der().map_err(|e| e.to_string())?;
    let mut chain = vec![signer.clone()];
    for cert in carried {
        let der = cert.to_der().map_err(|e| e.to_string())?;
        if der != signer && Certificate::from_der(&der).is_ok() {
            chain.push(der);
        }
    }
    Ok(Checked { chain })
}

/// The SHA-256 a TSA stamps for `signed`'s signature time stamp.
pub(super) fn time_stamp_digest(format: Format, signed: &[u8]) -> Result<[u8; 32], String> {
    match format {
        Format::Cades => cades::signature_time_stamp_digest(signed).map_err(|e| e.to_string()),
        Format::XadesEprescription => xades::signature_time_stamp_digest(signed).map_err(|e| e.to_string()),
        Format::Pades => pades::signature_time_stamp_digest(signed).map_err(|e| e.to_string()),
    }
}

/// `signed` with the signature time stamp `token` added (B-T).
pub(super) fn with_time_stamp(format: Format, signed: &[u8], token: &[u8]) -> Result<Vec<u8>, String> {
    match format {
        Format::Cades => cades::with_signature_time_stamp(signed, token).map_err(|e| e.to_string()),
        Format::XadesEprescription => xades::with_signature_time_stamp(signed, token).map_err(|e| e.to_string()),
        Format::Pades => pades::with_signature_time_stamp(signed, token).map_err(|e| e.to_string()),
    }
}

/// `signed` (B-T) with `data` embedded (B-LT): CAdES in SignedData.certificates and crls (D74), PAdES in the
/// document security store (/DSS, a new revision). E-prescriptions are refused at creation above B-T.
pub(super) fn with_validation_data(format: Format, signed: &[u8], data: &Gathered) -> Result<Vec<u8>, String> {
    match format {
        Format::Cades => {
            cades::with_validation_data(signed, &data.certificates, &data.crls, &[]).map_err(|e| e.to_string())
        }
        Format::Pades => {
            let dss = pades::ValidationData {
                certificates: data.certificates.clone(),
                crls: data.crls.clone(),
                ocsps: Vec::new(),
            };
            pades::add_validation_data(signed, &dss).map_err(|e| e.to_string())
        }
        Format::XadesEprescription => Err(NO_XADES_LT.into()),
    }
}

const NO_XADES_LT: &str = "hcpki makes e-prescriptions at B-B and B-T only";

/// B-LTA's time stamp over a B-LT signature, prepared: ask a TSA for a token over [`Archive::digest`], then
/// [`Archive::finish`]. Not `Clone`: one preparation, one token.
#[derive(Debug)]
pub(super) enum Archive {
    /// CAdES: an archive-time-stamp-v3 over the signature, everything it carries and the document (D74).
    Cades([u8; 32]),
    /// PAdES: a document time stamp over the whole file in a new revision (D78).
    Pades(pades::PreparedTimeStamp),
}

impl Archive {
    /// Prepare the archive time stamp of `signed` (B-LT) over `document`.
    pub(super) fn prepare(format: Format, signed: &[u8], document: &[u8]) -> Result<Self, String> {
        match format {
            Format::Cades => {
                cades::archive_time_stamp_digest(signed, document).map(Self::Cades).map_err(|e| e.to_string())
            }
            Format::Pades => pades::prepare_document_time_stamp(signed).map(Self::Pades).map_err(|e| e.to_string()),
            Format::XadesEprescription => Err(NO_XADES_LT.into()),
        }
    }

    /// The SHA-256 the TSA stamps.
    pub(super) fn digest(&self) -> [u8; 32] {
        match self {
            Self::Cades(digest) => *digest,
            Self::Pades(prepared) => prepared.digest(),
        }
    }

    /// `signed` (over `document`) with the archive time stamp `token` (B-LTA); the core checks the token is
    /// over this very digest.
    pub(super) fn finish(self, signed: &[u8], document: &[u8], token: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Self::Cades(_) => cades::with_archive_time_stamp(signed, document, token).map_err(|e| e.to_string()),
            Self::Pades(prepared) => pades::assemble_document_time_stamp(prepared, token).map_err(|e| e.to_string()),
        }
    }
}
