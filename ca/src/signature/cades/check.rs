//! Checking a `.p7s` against its document: the start of the verifier (issue #27 item 5).
//!
//! What is checked: the structure (DER, one signer, detached), the signature over the signed attributes with the
//! signer certificate's key, messageDigest against the document, signingCertificateV2 naming the signer
//! certificate, keyUsage nonRepudiation, and for B-T each signature time stamp: its messageImprint over the
//! signature value, the TSA's signature, signingCertificateV2 and extendedKeyUsage timeStamping. Not yet: the
//! chains to configured trust anchors, revocation, validity at the time stamp's time (the full EN 319 102-1
//! judgement); so a [`Verified`] is "intact and well-formed at this level", not yet PASSED.

use super::attributes::signing_time;
use super::error::CadesError;
use super::parsed::CadesSignature;
use super::signer::require_non_repudiation;
use super::signer_info::{Expected, verify_signer_info};
use super::time_stamp::Token;
use crate::signature::validation::Level;
use cms::cert::CertificateChoices;
use const_oid::db::rfc5911::{ID_DATA, ID_SIGNING_TIME};
use x509_cert::Certificate;

/// A signature time stamp that checked.
#[derive(Clone, Debug)]
pub struct TimeStampSeen {
    /// genTime, Unix seconds.
    pub time: i64,
    /// The TSA's certificate.
    pub tsa: Certificate,
}

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
    let signature = CadesSignature::from_der(p7s)?;
    let info = signature.signer_info()?;
    let expected = Expected { what: "signature", content_type: ID_DATA };
    let signer = verify_signer_info(signature.signed_data(), info, data, &expected)?;
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
        .signature_time_stamps()?
        .iter()
        .map(|der| check_time_stamp(der, info.signature.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let level = if time_stamps.is_empty() { Level::BaselineB } else { Level::BaselineT };
    let certificates = signature
        .signed_data()
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    Ok(Checked { level, signer, signing_time, time_stamps, certificates })
}

/// One time-stamp token over `signature_value` (a signature value for CAdES; the bytes a PDF document time stamp
/// covers for PAdES; for XAdES, the canonical ds:SignatureValue): its imprint, the TSA's signature and binding,
/// extendedKeyUsage timeStamping.
pub(crate) fn check_time_stamp(der: &[u8], signature_value: &[u8]) -> Result<TimeStampSeen, CadesError> {
    let wrap = |e: CadesError| match e {
        e @ CadesError::TimeStampImprint => e,
        other => CadesError::TimeStamp(Box::new(other)),
    };
    let token = Token::from_der(der).map_err(wrap)?;
    token.require_imprint_of(signature_value)?;
    let tsa = token.verify().map_err(wrap)?;
    Ok(TimeStampSeen { time: token.tst_info.gen_time.unix(), tsa })
}
