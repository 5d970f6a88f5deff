//! Making a B-B signature around an external signer: [`prepare`] the signed attributes, let the card sign their
//! DER, [`assemble`] the `.p7s`.

use super::attributes::signed_attributes;
use super::error::CadesError;
use super::signer::{SignerChain, digest_algorithm, require_non_repudiation, signature_algorithm};
use crate::timestamp::HashAlgorithm;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo};
use const_oid::db::rfc5911::{ID_DATA, ID_SIGNED_DATA};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode};
use hcpki_pkix::keys::verify::verify_signature;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attributes;

/// What the signer must sign: the DER of the signed attributes (a SET OF, tag 0x31, as RFC 5652 §5.4 says the
/// signature covers), with what [`assemble`] needs to wrap the signature. Not `Clone`: one preparation, one
/// signature.
#[derive(Debug)]
pub struct ToBeSigned {
    attributes: Attributes,
    der: Vec<u8>,
    chain: Vec<Certificate>,
    signature_algorithm: AlgorithmIdentifierOwned,
    /// The digestAlgorithm: the hash of messageDigest and of the signature (SHA-384 for a P-384 signer, D153).
    digest_algorithm: HashAlgorithm,
}

impl ToBeSigned {
    /// The exact bytes the signer signs (hashing them with SHA-256 as its signature algorithm says).
    pub fn bytes(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of [`ToBeSigned::bytes`]: what a card that signs a DigestInfo (PKCS#1 v1.5 over a given hash)
    /// is handed.
    pub fn sha256(&self) -> Vec<u8> {
        HashAlgorithm::Sha256.digest(&self.der)
    }

    /// The signature algorithm the signature value must be made with (from the signer certificate's key).
    pub fn signature_algorithm(&self) -> &AlgorithmIdentifierOwned {
        &self.signature_algorithm
    }
}

/// Prepare a CAdES B-B signature over a document whose SHA-256 is `document_sha256`, by the certificate first in
/// `signer_chain` (DER; its CAs follow, and go into the signature too), claiming `signing_time` (Unix seconds,
/// from the caller's clock: a claim, which only a time stamp proves).
///
/// Refuses a signer certificate without keyUsage nonRepudiation ([`CadesError::NotForSignatures`]): an
/// authentication certificate never signs a document.
///
/// A signer whose key hashes with SHA-384 (ECDSA P-384) needs the document itself: [`prepare_document`].
pub fn prepare(
    document_sha256: &[u8; 32],
    signer_chain: &[&[u8]],
    signing_time: i64,
) -> Result<ToBeSigned, CadesError> {
    let chain = SignerChain::from_der(signer_chain)?;
    require_non_repudiation(&chain.signer)?;
    prepare_for(document_sha256, chain, signing_time)
}

/// [`prepare`] over the document itself, hashed with the signer's hash (SHA-384 for a P-384 key, D153; SHA-256
/// otherwise): what the card agent uses, which holds the document.
pub fn prepare_document(document: &[u8], signer_chain: &[&[u8]], signing_time: i64) -> Result<ToBeSigned, CadesError> {
    let chain = SignerChain::from_der(signer_chain)?;
    require_non_repudiation(&chain.signer)?;
    let digest = digest_algorithm(&chain.signer);
    prepare_attributes(&digest.digest(document), digest, chain, Some(signing_time))
}

/// [`prepare_document`] without the signingTime attribute, for formats whose baseline forbids it in the CMS (PAdES:
/// the time is the PDF signature dictionary's /M, ETSI EN 319 142-1 §5.3), over the bytes the signature `covered`
/// (hashed with the signer's hash). The same nonRepudiation check.
pub fn prepare_without_signing_time(covered: &[u8], signer_chain: &[&[u8]]) -> Result<ToBeSigned, CadesError> {
    let chain = SignerChain::from_der(signer_chain)?;
    require_non_repudiation(&chain.signer)?;
    let digest = digest_algorithm(&chain.signer);
    prepare_attributes(&digest.digest(covered), digest, chain, None)
}

/// [`prepare`] without the keyUsage check: for tests that need what a careless signer would have made.
pub(super) fn prepare_for(
    document_sha256: &[u8; 32],
    chain: SignerChain,
    signing_time: i64,
) -> Result<ToBeSigned, CadesError> {
    let digest = digest_algorithm(&chain.signer);
    if digest != HashAlgorithm::Sha256 {
        return Err(CadesError::UnsupportedKey(format!(
            "{} (its signatures hash with {}, so the document's SHA-256 alone cannot be signed: hand the document \
             itself)",
            chain.signer.tbs_certificate().subject(),
            digest.name()
        )));
    }
    prepare_attributes(document_sha256, digest, chain, Some(signing_time))
}

fn prepare_attributes(
    document_digest: &[u8],
    digest_algorithm: HashAlgorithm,
    chain: SignerChain,
    signing_time: Option<i64>,
) -> Result<ToBeSigned, CadesError> {
    let signature_algorithm = signature_algorithm(&chain.signer)?;
    let attributes = signed_attributes(document_digest, &chain.signer, signing_time)?;
    let der = attributes.to_der().map_err(CadesError::encoding("signed attributes"))?;
    Ok(ToBeSigned { attributes, der, chain: chain.all, signature_algorithm, digest_algorithm })
}

/// The detached `.p7s` (DER ContentInfo) of `tbs` signed with `signature` (the value as X.509 carries it: the
/// PKCS#1 v1.5 block for RSA, a DER `ECDSA-Sig-Value` for ECDSA). The signature is verified first with the signer
/// certificate's key, so a card that signed other bytes (or with another key) is caught here, not by the reader.
pub fn assemble(tbs: ToBeSigned, signature: &[u8]) -> Result<Vec<u8>, CadesError> {
    let signer = tbs.chain.first().ok_or_else(|| CadesError::Chain("no certificate".into()))?;
    let spki = signer.tbs_certificate().subject_public_key_info();
    verify_signature(spki, &tbs.signature_algorithm, &tbs.der, signature)
        .map_err(|_| CadesError::BadSignature("signature"))?;
    let build = || -> der::Result<SignedData> {
        let tbs_cert = signer.tbs_certificate();
        let info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs_cert.issuer().clone(),
                serial_number: tbs_cert.serial_number().clone(),
            }),
            digest_alg: tbs.digest_algorithm.identifier(),
            signed_attrs: Some(tbs.attributes.clone()),
            signature_algorithm: tbs.signature_algorithm.clone(),
            signature: OctetString::new(signature)?,
            unsigned_attrs: None,
        };
        let mut digests = SetOfVec::new();
        digests.insert(tbs.digest_algorithm.identifier())?;
        Ok(SignedData {
            // RFC 5652 §5.1: 1 with id-data content, version-1 SignerInfos and only X.509 certificates.
            version: CmsVersion::V1,
            digest_algorithms: digests,
            encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
            certificates: Some(CertificateSet::try_from(
                tbs.chain.iter().cloned().map(CertificateChoices::Certificate).collect::<Vec<_>>(),
            )?),
            crls: None,
            signer_infos: vec![info].try_into()?,
        })
    };
    let der = || -> der::Result<Vec<u8>> {
        let signed = build()?;
        ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed)? }.to_der()
    };
    der().map_err(CadesError::encoding("SignedData"))
}
