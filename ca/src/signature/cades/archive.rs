//! B-LTA: archive-time-stamp-v3 (ETSI EN 319 122-1 §5.5.3) over the signature with everything it carries, made
//! renewable: each new archive time stamp covers the previous ones through its ats-hash-index-v3.
//!
//! ```text
//! archive-time-stamp-v3  0.4.0.1733.2.4   unsigned attribute of the signer, value a TimeStampToken
//! ats-hash-index-v3      0.4.0.19122.1.5  unsigned attribute of that token's SignerInfo:
//! ATSHashIndexV3 ::= SEQUENCE {
//!     hashIndAlgorithm             AlgorithmIdentifier DEFAULT {algorithm id-sha256},
//!     certificatesHashIndex        SEQUENCE OF OCTET STRING,   -- one per CertificateChoices in certificates
//!     crlsHashIndex                SEQUENCE OF OCTET STRING,   -- one per RevocationInfoChoice in crls
//!     unsignedAttrValuesHashIndex  SEQUENCE OF OCTET STRING }  -- one per (attrType, attrValue) pair
//!
//! messageImprint = SHA-256 of the concatenation of
//!     DER(encapContentInfo.eContentType) ‖ SHA-256(the detached document) ‖
//!     DER(version) ‖ DER(sid) ‖ DER(digestAlgorithm) ‖ DER([0] signedAttrs) ‖ DER(signatureAlgorithm) ‖
//!     DER(signature) ‖ DER(ATSHashIndexV3)
//! ```
//!
//! hcpki writes and reads SHA-256 only (hashIndAlgorithm left at its default); an index naming another
//! algorithm makes the archive time stamp count for nothing, with a note (decision D74).

use super::error::CadesError;
use super::parsed::{CadesSignature, Signed, content_info_der_with, only_signer, signed_data};
use super::time_stamp::Token;
use crate::timestamp::HashAlgorithm;
use cms::signed_data::SignerInfo;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Any, Decode, Encode, Sequence};
use x509_cert::attr::Attribute;

/// id-aa-ets-archiveTimestampV3.
pub const ID_AA_ETS_ARCHIVE_TIMESTAMP_V3: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.1733.2.4");
/// id-aa-ATSHashIndex-v3.
pub const ID_AA_ATS_HASH_INDEX_V3: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.19122.1.5");

/// ATSHashIndexV3 with hashIndAlgorithm at its default (SHA-256), the only form hcpki writes and reads.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct AtsHashIndexV3 {
    certificates_hash_index: Vec<OctetString>,
    crls_hash_index: Vec<OctetString>,
    unsigned_attr_values_hash_index: Vec<OctetString>,
}

/// SHA-256 message imprint to ask a TSA for, to archive-time-stamp the `.p7s` `cms` over `data` as it is now.
pub fn archive_time_stamp_digest(cms: &[u8], data: &[u8]) -> Result<[u8; 32], CadesError> {
    let signature = CadesSignature::from_der(cms)?;
    let index = index_of(&signature)?;
    digest(&signature, data, &index)
}

/// The `.p7s` `cms` (over `data`) with `token_der` added as an archive-time-stamp-v3, its ats-hash-index-v3
/// written into the token's unsigned attributes. Refused with [`CadesError::TimeStampImprint`] unless the token
/// is over [`archive_time_stamp_digest`] of this very signature (nothing may change in between).
pub fn with_archive_time_stamp(cms: &[u8], data: &[u8], token_der: &[u8]) -> Result<Vec<u8>, CadesError> {
    let mut signature = CadesSignature::from_der(cms)?;
    let index = index_of(&signature)?;
    let token = Token::from_der(token_der)?;
    token.require_imprint_is(&digest(&signature, data, &index)?)?;
    let Signed { data: mut token_data, revocation } = signed_data(token_der, "time-stamp token")?;
    let mut token_info = only_signer(&token_data, "time-stamp token")?.clone();
    let index_any = Any::encode_from(&index).map_err(CadesError::encoding("ats-hash-index-v3"))?;
    add_unsigned(&mut token_info, ID_AA_ATS_HASH_INDEX_V3, index_any)?;
    token_data.signer_infos = vec![token_info].try_into().map_err(CadesError::encoding("time-stamp token"))?;
    let stamped = content_info_der_with(&token_data, &revocation)?;
    let mut info = signature.signer_info()?.clone();
    add_unsigned(
        &mut info,
        ID_AA_ETS_ARCHIVE_TIMESTAMP_V3,
        Any::from_der(&stamped).map_err(CadesError::not_der("time-stamp token"))?,
    )?;
    signature.replace_signer_info(info)?;
    signature.to_der()
}

/// The DER of each archive-time-stamp-v3 token of `signature`, in order.
pub(super) fn archive_time_stamps(signature: &CadesSignature) -> Result<Vec<Vec<u8>>, CadesError> {
    signature.unsigned_values(ID_AA_ETS_ARCHIVE_TIMESTAMP_V3)
}

/// Check the archive time stamp `token_der` of `signature` over `data`: its index names only what the signature
/// still carries, and its imprint is over the signature with that index. The token itself (the TSA's
/// signature) is checked by the caller.
pub(super) fn check_archive(
    signature: &CadesSignature,
    data: &[u8],
    token: &Token,
    token_der: &[u8],
) -> Result<(), String> {
    let signed = signed_data(token_der, "time-stamp token").map_err(|e| e.to_string())?;
    let info = only_signer(&signed.data, "time-stamp token").map_err(|e| e.to_string())?;
    let stored = info
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter())
        .find(|a| a.oid == ID_AA_ATS_HASH_INDEX_V3)
        .and_then(|a| a.values.iter().next())
        .ok_or("it has no ats-hash-index-v3 (an older archive time stamp form hcpki does not read)")?;
    let index: AtsHashIndexV3 =
        stored.decode_as().map_err(|e| format!("its ats-hash-index-v3 is not the SHA-256 form hcpki reads ({e})"))?;
    let now = index_of(signature).map_err(|e| e.to_string())?;
    let missing = |listed: &[OctetString], present: &[OctetString]| listed.iter().any(|h| !present.contains(h));
    if missing(&index.certificates_hash_index, &now.certificates_hash_index)
        || missing(&index.crls_hash_index, &now.crls_hash_index)
        || missing(&index.unsigned_attr_values_hash_index, &now.unsigned_attr_values_hash_index)
    {
        return Err("something it covered was removed or changed since (a certificate, CRL, OCSP response or unsigned attribute)".into());
    }
    let expected = digest(signature, data, &index).map_err(|e| e.to_string())?;
    token.require_imprint_is(&expected).map_err(|_| "its imprint is not over this signature and document".to_owned())
}

/// The index of what `signature` carries now.
fn index_of(signature: &CadesSignature) -> Result<AtsHashIndexV3, CadesError> {
    let hash = |der: Vec<u8>| OctetString::new(HashAlgorithm::Sha256.digest(&der));
    let build = || -> der::Result<AtsHashIndexV3> {
        let certificates = signature.signed_data().certificates.iter().flat_map(|set| set.0.iter());
        let certificates_hash_index = certificates.map(|c| hash(c.to_der()?)).collect::<der::Result<_>>()?;
        let crls_hash_index = signature.revocation().iter().map(|r| hash(r.to_der()?)).collect::<der::Result<_>>()?;
        let mut unsigned_attr_values_hash_index = Vec::new();
        for attribute in
            signature.signer_info().ok().and_then(|i| i.unsigned_attrs.clone()).iter().flat_map(|a| a.iter())
        {
            let kind = attribute.oid.to_der()?;
            for value in attribute.values.iter() {
                unsigned_attr_values_hash_index.push(hash([kind.clone(), value.to_der()?].concat())?);
            }
        }
        Ok(AtsHashIndexV3 { certificates_hash_index, crls_hash_index, unsigned_attr_values_hash_index })
    };
    build().map_err(CadesError::encoding("ats-hash-index-v3"))
}

/// The archive-time-stamp-v3 imprint of `signature` over `data` with `index`.
fn digest(signature: &CadesSignature, data: &[u8], index: &AtsHashIndexV3) -> Result<[u8; 32], CadesError> {
    let info = signature.signer_info()?;
    let build = || -> der::Result<Vec<u8>> {
        let mut signed_attrs = info.signed_attrs.as_ref().map(|a| a.to_der()).transpose()?.unwrap_or_default();
        // The field as it sits in SignerInfo: [0] IMPLICIT, the SET's tag replaced.
        if let Some(tag) = signed_attrs.first_mut() {
            *tag = 0xA0;
        }
        Ok([
            signature.signed_data().encap_content_info.econtent_type.to_der()?,
            HashAlgorithm::Sha256.digest(data),
            info.version.to_der()?,
            info.sid.to_der()?,
            info.digest_alg.to_der()?,
            signed_attrs,
            info.signature_algorithm.to_der()?,
            info.signature.to_der()?,
            index.to_der()?,
        ]
        .concat())
    };
    let input = build().map_err(CadesError::encoding("archive time stamp input"))?;
    HashAlgorithm::Sha256
        .digest(&input)
        .try_into()
        .map_err(|_| CadesError::Algorithm("SHA-256 gave a digest that is not 32 octets".into()))
}

/// Add `value` to the unsigned attribute `oid` of `info` (a new attribute after the others).
fn add_unsigned(info: &mut SignerInfo, oid: ObjectIdentifier, value: Any) -> Result<(), CadesError> {
    let mut attributes: Vec<Attribute> = info.unsigned_attrs.iter().flat_map(|a| a.iter().cloned()).collect();
    let build = || -> der::Result<()> {
        attributes.push(crate::timestamp::attribute(oid, value)?);
        info.unsigned_attrs = Some(attributes.try_into()?);
        Ok(())
    };
    build().map_err(CadesError::encoding("unsigned attributes"))
}
