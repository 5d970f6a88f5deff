//! B-T: a TSA's RFC 3161 token over the signature value, in the unsigned attribute
//! id-aa-signatureTimeStampToken (1.2.840.113549.1.9.16.2.14; RFC 3161 Appendix A, ETSI EN 319 122-1 §5.3).

use super::error::CadesError;
use super::parsed::{CadesSignature, only_signer, signed_data};
use super::signer::require_time_stamping;
use super::signer_info::{Expected, verify_signer_info};
use crate::timestamp::{HashAlgorithm, TstInfo};
use cms::signed_data::SignedData;
use const_oid::db::rfc3161::ID_CT_TST_INFO;
use der::asn1::OctetString;
use der::{Any, Decode};
use x509_cert::Certificate;

/// SHA-256 of the signature value of the `.p7s` `cms`: the messageImprint to ask a TSA for (B-T).
pub fn signature_time_stamp_digest(cms: &[u8]) -> Result<[u8; 32], CadesError> {
    let signature = CadesSignature::from_der(cms)?;
    let digest = HashAlgorithm::Sha256.digest(signature.signature_value()?);
    digest.try_into().map_err(|_| CadesError::Algorithm("SHA-256 gave a digest that is not 32 octets".into()))
}

/// The `.p7s` `cms` with the time-stamp token `token_der` (the DER of the token's ContentInfo, as in a
/// `TimeStampResp`) added as its signature time stamp. Refused with [`CadesError::TimeStampImprint`] when the
/// token is not over this signature's value.
pub fn with_signature_time_stamp(cms: &[u8], token_der: &[u8]) -> Result<Vec<u8>, CadesError> {
    let mut signature = CadesSignature::from_der(cms)?;
    let token = Token::from_der(token_der)?;
    token.require_imprint_of(signature.signature_value()?)?;
    let value = Any::from_der(token_der).map_err(CadesError::not_der(Token::WHAT))?;
    signature.add_signature_time_stamp(value)?;
    signature.to_der()
}

/// A signature time-stamp token, decoded.
#[derive(Debug)]
pub(super) struct Token {
    signed: SignedData,
    tst_info_der: Vec<u8>,
    /// What it says.
    pub(super) tst_info: TstInfo,
}

impl Token {
    const WHAT: &'static str = "time-stamp token";

    /// Decode a token: a DER SignedData with one signer, over an encapsulated id-ct-TSTInfo.
    pub(super) fn from_der(der: &[u8]) -> Result<Self, CadesError> {
        let signed = signed_data(der, Self::WHAT)?.data;
        let e = &signed.encap_content_info;
        if e.econtent_type != ID_CT_TST_INFO {
            return Err(CadesError::ContentType {
                what: "time-stamp token eContentType",
                found: e.econtent_type.to_string(),
                expected: ID_CT_TST_INFO.to_string(),
            });
        }
        let content = e.econtent.as_ref().ok_or(CadesError::Content(
            "the time-stamp token carries no TSTInfo: give the token from a granted TimeStampResp",
        ))?;
        let octets: OctetString = content.decode_as().map_err(CadesError::not_der(Self::WHAT))?;
        let tst_info_der = octets.as_bytes().to_vec();
        let tst_info = TstInfo::from_der(&tst_info_der).map_err(CadesError::not_der("TSTInfo"))?;
        Ok(Self { signed, tst_info_der, tst_info })
    }

    /// Refuse the token unless its messageImprint is the digest of `signature_value` (with the token's own hash
    /// algorithm, SHA-2 only).
    pub(super) fn require_imprint_of(&self, signature_value: &[u8]) -> Result<(), CadesError> {
        let imprint = &self.tst_info.message_imprint;
        let hash = HashAlgorithm::of(&imprint.hash_algorithm)
            .map_err(|refusal| CadesError::Algorithm(format!("the time-stamp token: {refusal}")))?;
        if imprint.hashed_message.as_bytes() != hash.digest(signature_value) {
            return Err(CadesError::TimeStampImprint);
        }
        Ok(())
    }

    /// Refuse the token unless its messageImprint is the SHA-256 `digest`.
    pub(super) fn require_imprint_is(&self, digest: &[u8; 32]) -> Result<(), CadesError> {
        let imprint = &self.tst_info.message_imprint;
        let sha256 = HashAlgorithm::of(&imprint.hash_algorithm).is_ok_and(|h| h == HashAlgorithm::Sha256);
        if !sha256 || imprint.hashed_message.as_bytes() != digest.as_slice() {
            return Err(CadesError::TimeStampImprint);
        }
        Ok(())
    }

    /// The certificates the token carries.
    pub(super) fn certificates(&self) -> Vec<Certificate> {
        self.signed
            .certificates
            .iter()
            .flat_map(|set| set.0.iter())
            .filter_map(|choice| match choice {
                cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                cms::cert::CertificateChoices::Other(_) => None,
            })
            .collect()
    }

    /// Check the TSA's signature over the TSTInfo and that its signer is a TSA; the TSA certificate.
    pub(super) fn verify(&self) -> Result<Certificate, CadesError> {
        let expected = Expected { what: Self::WHAT, content_type: ID_CT_TST_INFO };
        let info = only_signer(&self.signed, Self::WHAT)?;
        let tsa = verify_signer_info(&self.signed, info, &self.tst_info_der, &expected)?;
        require_time_stamping(&tsa)?;
        Ok(tsa)
    }
}
