//! Checking a `.p7s` against its document: the start of the verifier (issue #27 item 5).
//!
//! What is checked: the structure (BER with DER signed attributes, one signer; an attached signature's document
//! must be the one given), the signature over the signed attributes with the
//! signer certificate's key, messageDigest against the document, signingCertificateV2 naming the signer
//! certificate, keyUsage nonRepudiation, and for B-T each signature time stamp: its messageImprint over the
//! signature value, the TSA's signature, signingCertificateV2 and extendedKeyUsage timeStamping. Not yet: the
//! chains to configured trust anchors, revocation, validity at the time stamp's time (the full EN 319 102-1
//! judgement); so a [`Verified`] is "intact and well-formed at this level", not yet PASSED.

use super::attributes::signing_time;
use super::error::CadesError;
use super::parsed::CadesSignature;
use super::signer::require_non_repudiation;
use super::signer_info::verify_signer_info;
use super::time_stamp::{TimeStampSeen, check_time_stamp};
use crate::signature::validation::Level;
use const_oid::db::rfc5911::ID_SIGNING_TIME;
use x509_cert::Certificate;

/// What a signature that checked says.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The highest level reached.
    pub level: Level,
    /// The signer's certificate.
    pub signer: Certificate,
    /// The signingTime claimed (not proven: see `time_stamps`).
    pub signing_time: i64,
    /// The signature time stamps, in order (empty at B-B).
    pub time_stamps: Vec<TimeStampSeen>,
}

/// Check the `.p7s` `p7s` over the detached document `data`.
pub fn verify(p7s: &[u8], data: &[u8]) -> Result<Verified, CadesError> {
    let checked = verify_detached(p7s, data)?;
    let signing_time =
        checked.signing_time.ok_or_else(|| CadesError::Attribute { name: "signingTime", problem: "missing".into() })?;
    Ok(Verified { level: checked.level, signer: checked.signer, signing_time, time_stamps: checked.time_stamps })
}

/// What [`verify_detached`] found: [`Verified`] with the signingTime optional (PAdES forbids it) and the
/// certificates the CMS carries.
#[derive(Clone, Debug)]
pub(crate) struct Checked {
    pub(crate) level: Level,
    pub(crate) signer: Certificate,
    pub(crate) signing_time: Option<i64>,
    pub(crate) time_stamps: Vec<TimeStampSeen>,
    pub(crate) certificates: Vec<Certificate>,
}

/// The checks of [`verify`], for every CMS-based format: the signingTime attribute is read when present.
pub(crate) fn verify_detached(p7s: &[u8], data: &[u8]) -> Result<Checked, CadesError> {
    let signature = CadesSignature::from_ber(p7s)?;
    signature.require_document(data)?;
    let info = signature.signer_info();
    let signer = verify_signer_info(signature.received(), data)?;
    require_non_repudiation(&signer)?;
    let attributes = info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| CadesError::Attribute { name: "signedAttrs", problem: "missing".into() })?;
    let signing_time = match attributes.iter().any(|a| a.oid == ID_SIGNING_TIME) {
        true => Some(signing_time(attributes)?),
        false => None,
    };
    let time_stamps = signature
        .signature_time_stamps()
        .iter()
        .map(|token| check_time_stamp(token, signature.signature_value()))
        .collect::<Result<Vec<_>, _>>()?;
    let level = if time_stamps.is_empty() { Level::BaselineB } else { Level::BaselineT };
    Ok(Checked { level, signer, signing_time, time_stamps, certificates: signature.certificates() })
}
