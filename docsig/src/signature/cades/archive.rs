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
//!     encapContentInfo.eContentType ‖ SHA-256(the document) ‖
//!     version ‖ sid ‖ digestAlgorithm ‖ [0] signedAttrs ‖ signatureAlgorithm ‖ signature ‖ DER(ATSHashIndexV3)
//! ```
//!
//! Every field and every indexed element is hashed as it is in the file, tag and length included (§5.5.3: "in
//! their binary encoded form without any modification"): a `.p7s` written in BER is archived in its BER, and
//! renewing it keeps those octets, so an earlier archive time stamp still covers them.
//!
//! hcpki writes and reads SHA-256 only (hashIndAlgorithm left at its default); an index naming another
//! algorithm makes the archive time stamp count for nothing, with a note (decision D74).

use super::error::CadesError;
use super::parsed::CadesSignature;
use super::time_stamp::Token;
use crate::timestamp::HashAlgorithm;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Encode, Sequence};

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
    let signature = CadesSignature::from_ber(cms)?;
    signature.require_document(data)?;
    digest(&signature, data, &index_of(&signature))
}

/// The `.p7s` `cms` (over `data`) with `token` added as an archive-time-stamp-v3, its ats-hash-index-v3 written
/// into the token's unsigned attributes. Refused with [`CadesError::TimeStampImprint`] unless the token is over
/// [`archive_time_stamp_digest`] of this very signature (nothing may change in between), and like the verifier
/// would refuse it when it is not a token a signature may carry.
pub fn with_archive_time_stamp(cms: &[u8], data: &[u8], token: &[u8]) -> Result<Vec<u8>, CadesError> {
    let signature = CadesSignature::from_ber(cms)?;
    signature.require_document(data)?;
    let index = index_of(&signature);
    let read = Token::read(token)?;
    read.require_imprint_is(&digest(&signature, data, &index)?)?;
    read.verify()?;
    let index = index.to_der().map_err(CadesError::encoding("ats-hash-index-v3"))?;
    let mut stamped = read.received().signed_data().parts().clone();
    stamped.signer.push_unsigned_attribute(ID_AA_ATS_HASH_INDEX_V3, index);
    let stamped = stamped.encode();
    signature.edited(|parts| parts.signer.push_unsigned_attribute(ID_AA_ETS_ARCHIVE_TIMESTAMP_V3, stamped))
}

/// Each archive-time-stamp-v3 token of `signature`, as it is in the file, in order.
pub(super) fn archive_time_stamps(signature: &CadesSignature) -> Vec<Vec<u8>> {
    signature.unsigned_values(ID_AA_ETS_ARCHIVE_TIMESTAMP_V3)
}

/// Check the archive time stamp `token` of `signature` over `data`: its index names only what the signature still
/// carries, and its imprint is over the signature with that index. The token itself (the TSA's signature) is
/// checked by the caller.
pub(super) fn check_archive(signature: &CadesSignature, data: &[u8], token: &Token) -> Result<(), String> {
    let stored = token
        .received()
        .signed_data()
        .signer_info()
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter())
        .find(|a| a.oid == ID_AA_ATS_HASH_INDEX_V3)
        .and_then(|a| a.values.iter().next())
        .ok_or("it has no ats-hash-index-v3 (an older archive time stamp form hcpki does not read)")?;
    let index: AtsHashIndexV3 =
        stored.decode_as().map_err(|e| format!("its ats-hash-index-v3 is not the SHA-256 form hcpki reads ({e})"))?;
    let now = index_of(signature);
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

/// The index of what `signature` carries now: the hash of each element as it is in the file (ETSI EN 319 122-1
/// §5.5.2 names the elements; a BER element is hashed in its BER, as §5.5.3 takes every field "without any
/// modification").
fn index_of(signature: &CadesSignature) -> AtsHashIndexV3 {
    let hash = |octets: &[u8]| OctetString::new(HashAlgorithm::Sha256.digest(octets));
    let parts = signature.received().parts();
    let hashes = |elements: &[Vec<u8>]| elements.iter().filter_map(|e| hash(e).ok()).collect();
    let unsigned_attr_values_hash_index = parts
        .signer
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.values.iter().filter_map(|v| hash(&[a.attr_type.as_slice(), v].concat()).ok()))
        .collect();
    AtsHashIndexV3 {
        certificates_hash_index: hashes(&parts.certificates),
        crls_hash_index: hashes(&parts.crls),
        unsigned_attr_values_hash_index,
    }
}

/// The archive-time-stamp-v3 imprint of `signature` over `data` with `index` (ETSI EN 319 122-1 §5.5.3): the
/// fields "in their binary encoded form without any modification and including the tag, length and value
/// octets", i.e. as they are in the file.
fn digest(signature: &CadesSignature, data: &[u8], index: &AtsHashIndexV3) -> Result<[u8; 32], CadesError> {
    let parts = signature.received().parts();
    let signer = &parts.signer;
    let index = index.to_der().map_err(CadesError::encoding("ats-hash-index-v3"))?;
    let input = [
        parts.econtent_type.as_slice(),
        &HashAlgorithm::Sha256.digest(data),
        &signer.version,
        &signer.sid,
        &signer.digest_algorithm,
        &signer.signed_attrs,
        &signer.signature_algorithm,
        &signer.signature,
        &index,
    ]
    .concat();
    HashAlgorithm::Sha256
        .digest(&input)
        .try_into()
        .map_err(|_| CadesError::Algorithm("SHA-256 gave a digest that is not 32 octets".into()))
}
