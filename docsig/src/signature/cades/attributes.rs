//! The signed attributes of a CAdES baseline signature (ETSI EN 319 122-1 §5.2), written and read.
//!
//! ```text
//! SignedAttributes ::= SET SIZE (1..MAX) OF Attribute          -- RFC 5652 §5.3
//!   contentType            id-data                            -- RFC 5652 §11.1
//!   messageDigest          OCTET STRING (SHA-256 of the file)  -- RFC 5652 §11.2
//!   signingTime            Time                               -- RFC 5652 §11.3 (claimed, not proven)
//!   signingCertificateV2   SigningCertificateV2                -- RFC 5035 §3, ETSI EN 319 122-1 §5.2.2.3
//! ```

use super::error::CadesError;
use crate::timestamp::signature::decode_single;
use crate::timestamp::{SigningCertificateV2, attribute};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{
    ID_AA_SIGNING_CERTIFICATE_V_2, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNING_TIME,
};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, DecodeOwned, Encode};
use x509_cert::Certificate;
use x509_cert::attr::Attributes;
use x509_cert::time::Time;

/// The signed attributes over a document whose digest (SHA-256, or SHA-384 for a P-384 signer) is `digest`, signed
/// by `signer`: the four above with
/// `signing_time` (Unix seconds; UTCTime before 2050 as RFC 5652 §11.3 requires), or the three others without
/// it (PAdES baseline forbids signingTime in the CMS: the time goes into the PDF's /M, ETSI EN 319 142-1 §5.3).
pub(super) fn signed_attributes(
    digest: &[u8],
    signer: &Certificate,
    signing_time: Option<i64>,
) -> Result<Attributes, CadesError> {
    let build = || -> der::Result<Attributes> {
        let ess = SigningCertificateV2::of(signer, &signer.to_der()?)?;
        let mut attributes = vec![
            attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
            attribute(ID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(digest)?)?)?,
            attribute(ID_AA_SIGNING_CERTIFICATE_V_2, Any::encode_from(&ess)?)?,
        ];
        if let Some(signing_time) = signing_time {
            let time = Time::try_from(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(signing_time).unwrap_or_default()),
            )?;
            attributes.push(attribute(ID_SIGNING_TIME, Any::encode_from(&time)?)?);
        }
        SetOfVec::try_from(attributes)
    };
    build().map_err(CadesError::encoding("signed attributes"))
}

/// The one value of the attribute `oid` (called `name` in errors), decoded as `T`: CAdES allows each signed
/// attribute once, with one value.
pub(super) fn single<T: DecodeOwned<Error = der::Error>>(
    attributes: &Attributes,
    oid: ObjectIdentifier,
    name: &'static str,
) -> Result<T, CadesError> {
    decode_single(attributes, oid).map_err(|problem| CadesError::Attribute { name, problem: problem.to_string() })
}

/// The signingTime attribute, in Unix seconds, when present (B-B requires it; the caller decides).
pub(super) fn signing_time(attributes: &Attributes) -> Result<i64, CadesError> {
    single::<Time>(attributes, ID_SIGNING_TIME, "signingTime").map(|t| hcpki_pkix::time::unix(&t))
}
