//! A `.p7s` (or a time-stamp token) read strictly: a DER ContentInfo holding a SignedData with one SignerInfo.
//!
//! The `crls` field (RevocationInfoChoices) is kept as raw elements: the `cms` crate models
//! `OtherRevocationInfoFormat`'s first field as an AlgorithmIdentifier where RFC 5652 §10.2.1 has a bare OBJECT
//! IDENTIFIER, so it could neither read nor write the OCSP responses B-LT embeds there (id-ri-ocsp-response,
//! RFC 5940 §4.1). [`SignedDataWire`] is the SignedData with that one field left as DER elements.

use super::error::CadesError;
use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignedData, SignerInfo, SignerInfos,
};
use const_oid::db::rfc3161::ID_AA_TIME_STAMP_TOKEN;
use const_oid::db::rfc5911::{ID_DATA, ID_SIGNED_DATA};
use der::asn1::SetOfVec;
use der::{Any, Decode, Encode, Sequence};
use x509_cert::attr::Attribute;

/// RFC 5652 §5.1 SignedData with `crls` as raw RevocationInfoChoice elements (see the module documentation).
///
/// ```text
/// SignedData ::= SEQUENCE {
///   version CMSVersion, digestAlgorithms DigestAlgorithmIdentifiers,
///   encapContentInfo EncapsulatedContentInfo,
///   certificates [0] IMPLICIT CertificateSet OPTIONAL,
///   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
///   signerInfos SignerInfos }
/// RevocationInfoChoice ::= CHOICE { crl CertificateList, other [1] IMPLICIT OtherRevocationInfoFormat }
/// OtherRevocationInfoFormat ::= SEQUENCE { otherRevInfoFormat OBJECT IDENTIFIER, otherRevInfo ANY }
/// ```
#[derive(Clone, Debug, Sequence)]
struct SignedDataWire {
    version: CmsVersion,
    digest_algorithms: DigestAlgorithmIdentifiers,
    encap_content_info: EncapsulatedContentInfo,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    certificates: Option<CertificateSet>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    crls: Option<SetOfVec<Any>>,
    signer_infos: SignerInfos,
}

/// A SignedData as decoded: the `cms` crate's structure without `crls`, and the raw RevocationInfoChoices.
#[derive(Clone, Debug)]
pub(super) struct Signed {
    /// Everything but the revocation data (`crls` is always `None` here).
    pub(super) data: SignedData,
    /// The RevocationInfoChoice elements, DER, in the order of the SET.
    pub(super) revocation: Vec<Any>,
}

/// A CAdES detached signature, decoded: one signer, no content inside.
#[derive(Clone, Debug)]
pub struct CadesSignature {
    signed_data: SignedData,
    revocation: Vec<Any>,
}

impl CadesSignature {
    /// Decode a `.p7s`: DER only, a SignedData over id-data without eContent (detached), exactly one signer with
    /// signed attributes. Anything else is a [`CadesError`] naming the problem.
    pub fn from_der(der: &[u8]) -> Result<Self, CadesError> {
        const WHAT: &str = "signature";
        let Signed { data: signed_data, revocation } = signed_data(der, WHAT)?;
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
        Ok(Self { signed_data, revocation })
    }

    /// The DER of the whole `.p7s`.
    pub fn to_der(&self) -> Result<Vec<u8>, CadesError> {
        content_info_der_with(&self.signed_data, &self.revocation)
    }

    /// The SignedData, without its revocation data (`crls` is `None`; see [`CadesSignature::revocation`]).
    pub fn signed_data(&self) -> &SignedData {
        &self.signed_data
    }

    /// The RevocationInfoChoice elements of `crls` (CRLs, and OCSP responses as `other`), DER.
    pub fn revocation(&self) -> &[Any] {
        &self.revocation
    }

    /// The certificates carried.
    pub fn certificates(&self) -> Vec<x509_cert::Certificate> {
        self.signed_data
            .certificates
            .iter()
            .flat_map(|set| set.0.iter())
            .filter_map(|choice| match choice {
                CertificateChoices::Certificate(c) => Some(c.clone()),
                CertificateChoices::Other(_) => None,
            })
            .collect()
    }

    /// Replace the carried certificates and the revocation data (B-LT), keeping everything signed as it was.
    pub(super) fn set_validation_data(
        &mut self,
        certificates: CertificateSet,
        revocation: Vec<Any>,
        version: CmsVersion,
    ) {
        self.signed_data.certificates = Some(certificates);
        self.signed_data.version = version;
        self.revocation = revocation;
    }

    /// The one SignerInfo, mutable (unsigned attributes only are ever changed).
    pub(super) fn replace_signer_info(&mut self, info: SignerInfo) -> Result<(), CadesError> {
        self.signed_data.signer_infos = vec![info].try_into().map_err(CadesError::encoding("unsigned attributes"))?;
        Ok(())
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
        self.unsigned_values(ID_AA_TIME_STAMP_TOKEN)
    }

    /// The DER of every value of the unsigned attribute `oid`, in order.
    pub(super) fn unsigned_values(&self, oid: const_oid::ObjectIdentifier) -> Result<Vec<Vec<u8>>, CadesError> {
        let Some(unsigned) = &self.signer_info()?.unsigned_attrs else { return Ok(Vec::new()) };
        unsigned
            .iter()
            .filter(|a| a.oid == oid)
            .flat_map(|a| a.values.iter())
            .map(|v| v.to_der().map_err(CadesError::encoding("unsigned attribute")))
            .collect()
    }

    /// The same signature with `token` (a ContentInfo, not checked here) added to its signature time stamps.
    pub(super) fn add_signature_time_stamp(&mut self, token: Any) -> Result<(), CadesError> {
        let mut info = self.signer_info()?.clone();
        let mut attributes: Vec<Attribute> = info.unsigned_attrs.iter().flat_map(|a| a.iter().cloned()).collect();
        let build = || -> der::Result<SignerInfo> {
            match attributes.iter_mut().find(|a| a.oid == ID_AA_TIME_STAMP_TOKEN) {
                Some(existing) => existing.values.insert(token)?,
                None => attributes.push(crate::timestamp::attribute(ID_AA_TIME_STAMP_TOKEN, token)?),
            }
            info.unsigned_attrs = Some(attributes.try_into()?);
            Ok(info)
        };
        let info = build().map_err(CadesError::encoding("unsigned attributes"))?;
        self.replace_signer_info(info)
    }
}

/// Decode the SignedData in the ContentInfo `der` (called `what` in errors), strictly: DER that re-encodes to the
/// same bytes (the decoder sorts a SET OF given out of order, which would change the signed attributes' bytes and
/// so the signed message), with exactly one SignerInfo carrying signed attributes.
pub(super) fn signed_data(der: &[u8], what: &'static str) -> Result<Signed, CadesError> {
    let info = ContentInfo::from_der(der).map_err(CadesError::not_der(what))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(CadesError::NotSignedData { what, content_type: info.content_type.to_string() });
    }
    let inner = info.content.to_der().map_err(CadesError::encoding(what))?;
    let wire = SignedDataWire::from_der(&inner).map_err(CadesError::not_der(what))?;
    let revocation: Vec<Any> = wire.crls.map(|set| set.into_vec()).unwrap_or_default();
    let data = SignedData {
        version: wire.version,
        digest_algorithms: wire.digest_algorithms,
        encap_content_info: wire.encap_content_info,
        certificates: wire.certificates,
        crls: None,
        signer_infos: wire.signer_infos,
    };
    if content_info_der_with(&data, &revocation)? != der {
        return Err(CadesError::NotDer { what, detail: "a SET OF is out of DER order".into() });
    }
    let info = only_signer(&data, what)?;
    if info.signed_attrs.as_ref().is_none_or(|a| a.is_empty()) {
        return Err(CadesError::Attribute { name: "signedAttrs", problem: "missing".into() });
    }
    Ok(Signed { data, revocation })
}

/// The one SignerInfo of `signed`.
pub(super) fn only_signer<'a>(signed: &'a SignedData, what: &'static str) -> Result<&'a SignerInfo, CadesError> {
    match signed.signer_infos.0.as_slice() {
        [one] => Ok(one),
        more => Err(CadesError::SignerCount { what, count: more.len() }),
    }
}

/// `ContentInfo { id-signedData, signed }` in DER (`signed` without revocation data).
pub(super) fn content_info_der(signed: &SignedData) -> Result<Vec<u8>, CadesError> {
    content_info_der_with(signed, &[])
}

/// `ContentInfo { id-signedData, signed with crls = revocation }` in DER (`signed.crls` is ignored).
pub(super) fn content_info_der_with(signed: &SignedData, revocation: &[Any]) -> Result<Vec<u8>, CadesError> {
    let build = || -> der::Result<Vec<u8>> {
        let wire = SignedDataWire {
            version: signed.version,
            digest_algorithms: signed.digest_algorithms.clone(),
            encap_content_info: signed.encap_content_info.clone(),
            certificates: signed.certificates.clone(),
            crls: if revocation.is_empty() { None } else { Some(SetOfVec::try_from(revocation.to_vec())?) },
            signer_infos: signed.signer_infos.clone(),
        };
        let content = Any::encode_from(&wire)?;
        ContentInfo { content_type: ID_SIGNED_DATA, content }.to_der()
    };
    build().map_err(CadesError::encoding("SignedData"))
}
