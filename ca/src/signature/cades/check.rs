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
use const_oid::db::rfc5911::ID_DATA;
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
    let signature = CadesSignature::from_der(p7s)?;
    let info = signature.signer_info()?;
    let expected = Expected { what: "signature", content_type: ID_DATA };
    let signer = verify_signer_info(signature.signed_data(), info, data, &expected)?;
    require_non_repudiation(&signer)?;
    let attributes = info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| CadesError::Attribute { name: "signedAttrs", problem: "missing".into() })?;
    let signing_time = signing_time(attributes)?;
    let time_stamps = signature
        .signature_time_stamps()?
        .iter()
        .map(|der| check_time_stamp(der, info.signature.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let level = if time_stamps.is_empty() { Level::BaselineB } else { Level::BaselineT };
    Ok(Verified { level, signer, signing_time, time_stamps })
}

/// One signature time stamp over `signature_value`.
fn check_time_stamp(der: &[u8], signature_value: &[u8]) -> Result<TimeStampSeen, CadesError> {
    let wrap = |e: CadesError| match e {
        e @ CadesError::TimeStampImprint => e,
        other => CadesError::TimeStamp(Box::new(other)),
    };
    let token = Token::from_der(der).map_err(wrap)?;
    token.require_imprint_of(signature_value)?;
    let tsa = token.verify().map_err(wrap)?;
    Ok(TimeStampSeen { time: token.tst_info.gen_time.unix(), tsa })
}
