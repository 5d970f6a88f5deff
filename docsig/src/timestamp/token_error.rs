//! Why a time-stamp token cannot be read, or is not one to accept on its own terms ([`super::ReceivedToken`]).

use hcpki_pkix::asn1::signed_data::CmsError;

/// Why a token cannot be read or is not acceptable on its own terms. Each message completes "the time-stamp
/// token …"-style sentences of its callers and says what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a BER ContentInfo holding a SignedData with one signer and DER signed attributes.
    #[error(transparent)]
    Cms(#[from] CmsError),
    /// The SignedData encapsulates something else than a TSTInfo.
    #[error("its eContentType is {0}, not id-ct-TSTInfo")]
    NotTstInfo(String),
    /// The SignedData encapsulates nothing.
    #[error("it encapsulates no TSTInfo")]
    NoTstInfo,
    /// The TSTInfo does not decode.
    #[error("its TSTInfo does not decode ({0})")]
    TstInfo(String),
    /// A TSTInfo version RFC 3161 does not define.
    #[error("its TSTInfo version is {0} (RFC 3161 knows 1)")]
    Version(u8),
    /// A critical TSTInfo extension nobody here understands.
    #[error("it has a critical TSTInfo extension {0} hcpki does not know")]
    CriticalExtension(String),
    /// The certificate the SignerInfo names is not in the token.
    #[error("it does not carry the TSA certificate its SignerInfo names")]
    NoCertificate,
    /// The signed attributes or the signature are wrong.
    #[error("its signature does not check out: {0}")]
    BadSignature(String),
    /// The ESS signingCertificate(V2) attribute is missing or names another certificate.
    #[error("its ESS signing-certificate binding is wrong: {0}")]
    Binding(String),
    /// The signer certificate is no TSA's.
    #[error("it is signed with {0}, which has no extendedKeyUsage timeStamping (RFC 3161 §2.3): not a TSA")]
    NotTsa(String),
}
