//! B-T: a TSA's RFC 3161 token over the signature value, in the unsigned attribute
//! id-aa-signatureTimeStampToken (1.2.840.113549.1.9.16.2.14; RFC 3161 Appendix A, ETSI EN 319 122-1 §5.3).

use super::error::CadesError;
use super::parsed::CadesSignature;
use crate::timestamp::{HashAlgorithm, ReceivedToken, TstInfo};
use x509_cert::Certificate;

/// A signature time stamp that checked.
#[derive(Clone, Debug)]
pub struct TimeStampSeen {
    /// genTime, Unix seconds.
    pub time: i64,
    /// The TSA's certificate.
    pub tsa: Certificate,
}

/// SHA-256 of the signature value of the `.p7s` `cms`: the messageImprint to ask a TSA for (B-T).
pub fn signature_time_stamp_digest(cms: &[u8]) -> Result<[u8; 32], CadesError> {
    let signature = CadesSignature::from_ber(cms)?;
    let digest = HashAlgorithm::Sha256.digest(signature.signature_value());
    digest.try_into().map_err(|_| CadesError::Algorithm("SHA-256 gave a digest that is not 32 octets".into()))
}

/// The `.p7s` `cms` with the time-stamp token `token` (the token's ContentInfo as a `TimeStampResp` carried it)
/// added as its signature time stamp, as it is. Refused with [`CadesError::TimeStampImprint`] when the token is
/// not over this signature's value, and like the verifier would refuse it when it is not a token a signature may
/// carry.
pub fn with_signature_time_stamp(cms: &[u8], token: &[u8]) -> Result<Vec<u8>, CadesError> {
    let signature = CadesSignature::from_ber(cms)?;
    check_time_stamp(token, signature.signature_value())?;
    signature.with_signature_time_stamp(token)
}

/// One time-stamp token over `covered` (a signature value for CAdES; the bytes a PDF document time stamp covers
/// for PAdES; for XAdES, the canonical ds:SignatureValue): its imprint, then what [`ReceivedToken::verify`]
/// accepts.
pub(crate) fn check_time_stamp(token: &[u8], covered: &[u8]) -> Result<TimeStampSeen, CadesError> {
    let wrap = |e: CadesError| match e {
        e @ CadesError::TimeStampImprint => e,
        other => CadesError::TimeStamp(Box::new(other)),
    };
    let token = Token::read(token).map_err(wrap)?;
    token.require_imprint_of(covered)?;
    let tsa = token.verify().map_err(wrap)?;
    Ok(TimeStampSeen { time: token.tst_info().gen_time.unix(), tsa })
}

/// A time-stamp token inside a signature, read by the one reader of tokens ([`ReceivedToken`]), with the checks
/// of what it covers.
#[derive(Debug)]
pub(super) struct Token(ReceivedToken);

impl Token {
    /// Read a token as it is in the signature.
    pub(super) fn read(bytes: &[u8]) -> Result<Self, CadesError> {
        Ok(Self(ReceivedToken::read(bytes)?))
    }

    /// What it says.
    pub(super) fn tst_info(&self) -> &TstInfo {
        self.0.tst_info()
    }

    /// The token as read.
    pub(super) fn received(&self) -> &ReceivedToken {
        &self.0
    }

    /// Refuse the token unless its messageImprint is the digest of `covered` (with the token's own hash
    /// algorithm, SHA-2 only).
    pub(super) fn require_imprint_of(&self, covered: &[u8]) -> Result<(), CadesError> {
        let imprint = &self.tst_info().message_imprint;
        let hash = HashAlgorithm::of(&imprint.hash_algorithm)
            .map_err(|refusal| CadesError::Algorithm(format!("the time-stamp token: {refusal}")))?;
        if imprint.hashed_message.as_bytes() != hash.digest(covered) {
            return Err(CadesError::TimeStampImprint);
        }
        Ok(())
    }

    /// Refuse the token unless its messageImprint is the SHA-256 `digest`.
    pub(super) fn require_imprint_is(&self, digest: &[u8; 32]) -> Result<(), CadesError> {
        let imprint = &self.tst_info().message_imprint;
        let sha256 = HashAlgorithm::of(&imprint.hash_algorithm).is_ok_and(|h| h == HashAlgorithm::Sha256);
        if !sha256 || imprint.hashed_message.as_bytes() != digest.as_slice() {
            return Err(CadesError::TimeStampImprint);
        }
        Ok(())
    }

    /// The certificates the token carries.
    pub(super) fn certificates(&self) -> Vec<Certificate> {
        self.0.certificates()
    }

    /// The TSA's signature over the TSTInfo and that its signer is a TSA ([`ReceivedToken::verify`]); the TSA
    /// certificate.
    pub(super) fn verify(&self) -> Result<Certificate, CadesError> {
        Ok(self.0.verify()?)
    }
}
