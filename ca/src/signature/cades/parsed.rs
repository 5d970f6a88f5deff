//! A `.p7s` (or a time-stamp token) read strictly: a DER ContentInfo holding a SignedData with one SignerInfo.

use super::error::CadesError;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerInfo, SignerInfos};
use const_oid::db::rfc3161::ID_AA_TIME_STAMP_TOKEN;
use const_oid::db::rfc5911::{ID_DATA, ID_SIGNED_DATA};
use der::{Any, Decode, Encode};
use x509_cert::attr::Attribute;

/// A CAdES detached signature, decoded: one signer, no content inside.
#[derive(Clone, Debug)]
pub struct CadesSignature {
    signed_data: SignedData,
}

impl CadesSignature {
    /// Decode a `.p7s`: DER only, a SignedData over id-data without eContent (detached), exactly one signer with
    /// signed attributes. Anything else is a [`CadesError`] naming the problem.
    pub fn from_der(der: &[u8]) -> Result<Self, CadesError> {
        const WHAT: &str = "signature";
        let signed_data = signed_data(der, WHAT)?;
        let e = &signed_data.encap_content_info;
        if e.econtent_type != ID_DATA {
            return Err(CadesError::ContentType {
                what: "eContentType",
                found: e.econtent_type.to_string(),
                expected: ID_DATA.to_string(),
            });
        }
        if e.econtent.is_some() {
            return Err(CadesError::Content(
                "the signature carries the document inside (attached): give a detached .p7s and the document beside it",
            ));
        }
        Ok(Self { signed_data })
    }

    /// The DER of the whole `.p7s`.
    pub fn to_der(&self) -> Result<Vec<u8>, CadesError> {
        content_info_der(&self.signed_data)
    }

    /// The SignedData.
    pub fn signed_data(&self) -> &SignedData {
        &self.signed_data
    }

    /// The one SignerInfo (checked at decoding).
    pub fn signer_info(&self) -> Result<&SignerInfo, CadesError> {
        only_signer(&self.signed_data, "signature")
    }

    /// The signature value: what a signature time stamp is over (ETSI EN 319 122-1 §5.3).
    pub fn signature_value(&self) -> Result<&[u8], CadesError> {
        Ok(self.signer_info()?.signature.as_bytes())
    }

    /// The DER of each signature time-stamp token (unsigned attribute id-aa-signatureTimeStampToken), in order.
    pub fn signature_time_stamps(&self) -> Result<Vec<Vec<u8>>, CadesError> {
        let Some(unsigned) = &self.signer_info()?.unsigned_attrs else { return Ok(Vec::new()) };
        unsigned
            .iter()
            .filter(|a| a.oid == ID_AA_TIME_STAMP_TOKEN)
            .flat_map(|a| a.values.iter())
            .map(|v| v.to_der().map_err(CadesError::encoding("time-stamp token")))
            .collect()
    }

    /// The same signature with `token` (a ContentInfo, not checked here) added to its signature time stamps.
    pub(super) fn add_signature_time_stamp(&mut self, token: Any) -> Result<(), CadesError> {
        let mut info = self.signer_info()?.clone();
        let mut attributes: Vec<Attribute> = info.unsigned_attrs.iter().flat_map(|a| a.iter().cloned()).collect();
        let build = || -> der::Result<SignerInfos> {
            match attributes.iter_mut().find(|a| a.oid == ID_AA_TIME_STAMP_TOKEN) {
                Some(existing) => existing.values.insert(token)?,
                None => attributes.push(crate::timestamp::attribute(ID_AA_TIME_STAMP_TOKEN, token)?),
            }
            info.unsigned_attrs = Some(attributes.try_into()?);
            vec![info].try_into()
        };
        self.signed_data.signer_infos = build().map_err(CadesError::encoding("unsigned attributes"))?;
        Ok(())
    }
}

/// Decode the SignedData in the ContentInfo `der` (called `what` in errors), strictly: DER that re-encodes to the
/// same bytes (the decoder sorts a SET OF given out of order, which would change the signed attributes' bytes and
/// so the signed message), with exactly one SignerInfo carrying signed attributes.
pub(super) fn signed_data(der: &[u8], what: &'static str) -> Result<SignedData, CadesError> {
    let info = ContentInfo::from_der(der).map_err(CadesError::not_der(what))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(CadesError::NotSignedData { what, content_type: info.content_type.to_string() });
    }
    let inner = info.content.to_der().map_err(CadesError::encoding(what))?;
    let signed = SignedData::from_der(&inner).map_err(CadesError::not_der(what))?;
    if content_info_der(&signed)? != der {
        return Err(CadesError::NotDer { what, detail: "a SET OF is out of DER order".into() });
    }
    let info = only_signer(&signed, what)?;
    if info.signed_attrs.as_ref().is_none_or(|a| a.is_empty()) {
        return Err(CadesError::Attribute { name: "signedAttrs", problem: "missing".into() });
    }
    Ok(signed)
}

/// The one SignerInfo of `signed`.
pub(super) fn only_signer<'a>(signed: &'a SignedData, what: &'static str) -> Result<&'a SignerInfo, CadesError> {
    match signed.signer_infos.0.as_slice() {
        [one] => Ok(one),
        more => Err(CadesError::SignerCount { what, count: more.len() }),
    }
}

/// `ContentInfo { id-signedData, signed }` in DER.
pub(super) fn content_info_der(signed: &SignedData) -> Result<Vec<u8>, CadesError> {
    let content = Any::encode_from(signed).map_err(CadesError::encoding("SignedData"))?;
    ContentInfo { content_type: ID_SIGNED_DATA, content }.to_der().map_err(CadesError::encoding("ContentInfo"))
}
