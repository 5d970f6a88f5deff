//! The time-stamp token: a CMS SignedData whose content is the DER `TSTInfo` (RFC 3161 §2.4.2, RFC 5652 §5).
//!
//! ```text
//! ContentInfo { id-signedData, SignedData {
//!     version 3, digestAlgorithms { <digest> },
//!     encapContentInfo { id-ct-TSTInfo, [0] OCTET STRING <TSTInfo DER> },
//!     certificates [0] { <TSA certificate> }   -- only when the request set certReq
//!     signerInfos { SignerInfo { version 1, sid issuerAndSerialNumber, digestAlgorithm <digest>,
//!         signedAttrs { contentType id-ct-TSTInfo, signingTime, messageDigest, signingCertificateV2 },
//!         signatureAlgorithm <the key's>, signature } } } }
//! ```

use super::ess::SigningCertificateV2;
use super::imprint::HashAlgorithm;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc3161::ID_CT_TST_INFO;
use const_oid::db::rfc5911::{
    ID_AA_SIGNING_CERTIFICATE_V_2, ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, ID_SIGNING_TIME,
};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::time::Time;

use hcpki_pkix::keys::{KeyAlgorithm, KeyError, KeySource};

/// What signs tokens: the TSA certificate and its key, with the parts of the token that never change. Public for
/// the CA's tests of the client, which forge tokens to break one check each (`ca/src/tsa_client_tests.rs`).
#[derive(Debug)]
pub struct TokenSigner {
    certificate: Certificate,
    key: std::sync::Arc<dyn KeySource>,
    /// The digest the key's signature algorithm uses (SHA-384 for P-384, else SHA-256).
    digest: HashAlgorithm,
    signing_certificate: Any,
}

impl TokenSigner {
    /// The signer of `certificate` (its DER `der`, which the ESS binding hashes) with `key`.
    pub fn new(certificate: Certificate, der: &[u8], key: std::sync::Arc<dyn KeySource>) -> der::Result<Self> {
        let digest = match key.algorithm() {
            KeyAlgorithm::P384 => HashAlgorithm::Sha384,
            _ => HashAlgorithm::Sha256,
        };
        let signing_certificate = Any::encode_from(&SigningCertificateV2::of(&certificate, der)?)?;
        Ok(Self { certificate, key, digest, signing_certificate })
    }

    pub(super) fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The token over `tst_info` (DER), signed at `signing_time`.
    pub fn sign(&self, tst_info: &[u8], signing_time: Time, with_certificate: bool) -> Result<ContentInfo, KeyError> {
        let attrs = SetOfVec::try_from(vec![
            attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_CT_TST_INFO)?)?,
            attribute(ID_SIGNING_TIME, Any::encode_from(&signing_time)?)?,
            attribute(ID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(self.digest.digest(tst_info))?)?)?,
            attribute(ID_AA_SIGNING_CERTIFICATE_V_2, self.signing_certificate.clone())?,
        ])?;
        let signature = self.key.sign(&attrs.to_der()?)?;
        let tbs = self.certificate.tbs_certificate();
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
            digest_alg: self.digest.identifier(),
            signed_attrs: Some(attrs),
            signature_algorithm: self.key.signature_algorithm(),
            signature: OctetString::new(signature)?,
            unsigned_attrs: None,
        };
        let mut digests = SetOfVec::new();
        digests.insert(self.digest.identifier())?;
        let certificates = with_certificate
            .then(|| CertificateSet::try_from(vec![CertificateChoices::Certificate(self.certificate.clone())]))
            .transpose()?;
        let signed = SignedData {
            // RFC 5652 §5.1: 3 when the content is not id-data.
            version: CmsVersion::V3,
            digest_algorithms: digests,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_CT_TST_INFO,
                econtent: Some(Any::encode_from(&OctetString::new(tst_info)?)?),
            },
            certificates,
            crls: None,
            signer_infos: SignerInfos::try_from(vec![signer_info])?,
        };
        Ok(ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed)? })
    }
}

/// A CMS attribute with the one value `value`.
pub(crate) fn attribute(oid: ObjectIdentifier, value: Any) -> der::Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute { oid, values })
}
