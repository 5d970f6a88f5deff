//! A `.p7s` read as CMS lets it travel: BER, one SignerInfo, its signed attributes in DER
//! ([`hcpki_pkix::asn1::signed_data`] says why only those). `openssl cms -sign -stream` writes indefinite lengths and
//! carries the document inside (attached); hcpki writes DER and detached, and reads both.
//!
//! Changes (a time stamp, validation data) are made on the octets of the parts, never on a re-encoding: every
//! part a signature or an earlier archive time stamp covers stays as it arrived.

use super::error::CadesError;
use cms::signed_data::{SignedData, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc3161::ID_AA_TIME_STAMP_TOKEN;
use const_oid::db::rfc5911::ID_DATA;
use der::Any;
use der::asn1::OctetString;
use hcpki_pkix::asn1::signed_data::{ReceivedSignedData, SignedDataParts};
use x509_cert::Certificate;

/// A CAdES signature, decoded: one signer over id-data, the document beside it (detached) or inside it
/// (attached).
#[derive(Clone, Debug)]
pub struct CadesSignature {
    signed: ReceivedSignedData,
    encoding: Vec<u8>,
}

impl CadesSignature {
    /// What errors call it.
    const WHAT: &'static str = "signature";

    /// Decode a `.p7s`: BER (the signed attributes DER), a SignedData over id-data with exactly one signer that
    /// carries signed attributes. Anything else is a [`CadesError`] naming the problem.
    pub fn from_ber(bytes: &[u8]) -> Result<Self, CadesError> {
        let signed = ReceivedSignedData::read(bytes, Self::WHAT)?;
        let e = &signed.data().encap_content_info;
        if e.econtent_type != ID_DATA {
            return Err(CadesError::ContentType {
                what: "eContentType",
                found: e.econtent_type.to_string(),
                expected: ID_DATA.to_string(),
            });
        }
        let signature = Self { signed, encoding: bytes.to_vec() };
        signature.carried_document()?;
        Ok(signature)
    }

    /// The `.p7s` as it was read.
    pub fn encoding(&self) -> &[u8] {
        &self.encoding
    }

    /// The signed attributes' octets as the signature covers them (their DER, SET OF tag).
    pub fn signed_attributes_octets(&self) -> Vec<u8> {
        self.signed.signed_attributes_der()
    }

    /// The `.p7s` written out again from the octets of its parts, as a change would write it (every part as it
    /// is, each SET OF in DER order, every enclosing length definite).
    pub fn written_again(&self) -> Vec<u8> {
        self.signed.parts().encode()
    }

    /// The SignedData, without its revocation data and its SignerInfo (`crls` is `None`, `signerInfos` empty; see
    /// [`CadesSignature::revocation`] and [`CadesSignature::signer_info`]).
    pub fn signed_data(&self) -> &SignedData {
        self.signed.data()
    }

    /// The SignedData as read, with the octets of its parts.
    pub(super) fn received(&self) -> &ReceivedSignedData {
        &self.signed
    }

    /// The RevocationInfoChoice elements of `crls` (CRLs, and OCSP responses as `other`).
    pub fn revocation(&self) -> &[Any] {
        self.signed.revocation()
    }

    /// The certificates carried.
    pub fn certificates(&self) -> Vec<Certificate> {
        self.signed.certificates()
    }

    /// The one SignerInfo.
    pub fn signer_info(&self) -> &SignerInfo {
        self.signed.signer_info()
    }

    /// The signature value: what a signature time stamp is over (ETSI EN 319 122-1 §5.3).
    pub fn signature_value(&self) -> &[u8] {
        self.signer_info().signature.as_bytes()
    }

    /// The document the signature carries inside (an attached signature: `openssl cms -sign -nodetach`, or
    /// `-stream`), `None` when it is detached.
    pub fn carried_document(&self) -> Result<Option<Vec<u8>>, CadesError> {
        let Some(content) = &self.signed_data().encap_content_info.econtent else { return Ok(None) };
        let octets: OctetString = content.decode_as().map_err(CadesError::undecodable("eContent"))?;
        Ok(Some(octets.as_bytes().to_vec()))
    }

    /// The `data` given with the signature, checked against what the signature carries: an attached
    /// signature's document must be the one given (no other document can be judged against it).
    pub(super) fn require_document(&self, data: &[u8]) -> Result<(), CadesError> {
        match self.carried_document()? {
            Some(carried) if carried != data => Err(CadesError::CarriedDocumentDiffers),
            _ => Ok(()),
        }
    }

    /// Each signature time-stamp token (unsigned attribute id-aa-signatureTimeStampToken), as it is in the file,
    /// in order.
    pub fn signature_time_stamps(&self) -> Vec<Vec<u8>> {
        self.unsigned_values(ID_AA_TIME_STAMP_TOKEN)
    }

    /// Every value of the unsigned attribute `oid`, as it is in the file, in order.
    pub(super) fn unsigned_values(&self, oid: ObjectIdentifier) -> Vec<Vec<u8>> {
        self.signed.parts().signer.unsigned_values(oid).into_iter().map(<[u8]>::to_vec).collect()
    }

    /// The `.p7s` with `edit` made to its parts, read back (so that what is returned is a signature this reader
    /// takes).
    pub(super) fn edited(&self, edit: impl FnOnce(&mut SignedDataParts)) -> Result<Vec<u8>, CadesError> {
        let mut parts = self.signed.parts().clone();
        edit(&mut parts);
        let encoding = parts.encode();
        Self::from_ber(&encoding)?;
        Ok(encoding)
    }

    /// The same signature with `token` (a TimeStampToken as received; not checked here) added to its signature
    /// time stamps.
    pub(super) fn with_signature_time_stamp(&self, token: &[u8]) -> Result<Vec<u8>, CadesError> {
        self.edited(|parts| parts.signer.add_unsigned_value(ID_AA_TIME_STAMP_TOKEN, token.to_vec()))
    }
}
