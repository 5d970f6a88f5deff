//! Why a CAdES signature cannot be made or does not verify.

use crate::timestamp::TokenError;
use hcpki_pkix::asn1::signed_data::CmsError;

/// Why a CAdES signature cannot be made, time-stamped or checked. Each message says what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CadesError {
    /// The bytes are not an encoding of the expected type: garbage, truncated, trailing bytes, or another
    /// structure.
    #[error(
        "the {what} does not decode ({detail}): give the whole file as it was written (a .p7s is binary BER or DER, \
         or PEM)"
    )]
    Undecodable {
        /// What was being read (`signature`, `time-stamp token`, …).
        what: &'static str,
        /// The decoder's words.
        detail: String,
    },
    /// The ContentInfo holds something else than a SignedData.
    #[error("the {what} is a CMS {content_type}, not a SignedData: give a CAdES signature (.p7s)")]
    NotSignedData {
        /// What was being read.
        what: &'static str,
        /// The content type found.
        content_type: String,
    },
    /// Not exactly one SignerInfo.
    #[error("the {what} has {count} signers; hcpki handles exactly one per file: sign each signature separately")]
    SignerCount {
        /// What was being read.
        what: &'static str,
        /// How many SignerInfos there are.
        count: usize,
    },
    /// The signed attributes are not in their DER encoding, which is what the signature is computed over (RFC
    /// 5652 §5.4): they were re-ordered or re-encoded after signing, so the signature is not over what is shown.
    #[error(
        "the {what}'s signed attributes are not in their DER encoding (RFC 5652 §5.4: the signature is computed \
         over exactly that): they were re-ordered or re-encoded after signing; get the file as its signer wrote it"
    )]
    SignedAttributesNotDer {
        /// What was being read.
        what: &'static str,
    },
    /// A content type differs from the one required (id-data for documents, id-ct-TSTInfo for time stamps).
    #[error("the {what} content type is {found}, expected {expected}")]
    ContentType {
        /// Which content type (eContentType or the contentType attribute).
        what: &'static str,
        /// What was found.
        found: String,
        /// What is required.
        expected: String,
    },
    /// A signed attribute the format requires is missing, repeated or undecodable.
    #[error("the signed attribute {name} is {problem}: the signature is not a CAdES baseline signature")]
    Attribute {
        /// The attribute's name.
        name: &'static str,
        /// `missing`, `repeated`, `not decodable (…)`.
        problem: String,
    },
    /// A digest or signature algorithm hcpki does not accept.
    #[error("{0}")]
    Algorithm(String),
    /// The signer's key is neither RSA nor ECDSA P-256.
    #[error("the signer's key ({0}) is not supported: CAdES signatures here use RSA or ECDSA P-256 keys")]
    UnsupportedKey(String),
    /// No certificate was given to `prepare`, or a certificate does not decode.
    #[error("the signer chain is empty or not DER X.509 ({0}): pass the signer certificate first, then its CAs")]
    Chain(String),
    /// The SignedData does not carry the certificate its SignerInfo names.
    #[error("the {0} does not carry its signer's certificate: sign again including the signer certificate")]
    SignerCertificateMissing(&'static str),
    /// The signer certificate has no keyUsage nonRepudiation (contentCommitment): an authentication
    /// certificate, which must never sign documents.
    #[error(
        "the signer certificate ({subject}) is not a signature certificate (keyUsage has no nonRepudiation): \
         documents are signed with the HPKI card's signature (署名用) key, never its authentication key"
    )]
    NotForSignatures {
        /// The certificate's subject.
        subject: String,
    },
    /// The signature value does not verify with the signer certificate's key over the signed attributes: they
    /// were changed after signing, or another key signed.
    #[error(
        "the {0} signature does not verify with the signer certificate's key: the signed attributes were changed or another key signed"
    )]
    BadSignature(&'static str),
    /// messageDigest is not the digest of the data given: the document was changed after signing, or it is
    /// not the file this signature is for.
    #[error(
        "the document does not match the signature (messageDigest differs): it was changed after signing, or \
         this signature is for another file"
    )]
    ContentMismatch,
    /// The signature carries its document (attached) and the document given is another.
    #[error(
        "this signature carries the document it signs, and the document given is another: give the signature alone, \
         or the document it carries"
    )]
    CarriedDocumentDiffers,
    /// signingCertificateV2 (or, with SHA-1, signingCertificate) is missing or names another certificate than the
    /// one the signature verifies with.
    #[error(
        "the {0}'s signing-certificate attribute is missing or does not name the certificate that signed it: a \
         certificate was swapped, or the signer does not bind its certificate as ESS (RFC 5035) requires"
    )]
    SigningCertificateMismatch(&'static str),
    /// The time-stamp token's messageImprint is not the digest of this signature's value.
    #[error(
        "the time-stamp token is not over this signature (its messageImprint differs from the digest of the \
         signature value): ask the TSA again with signature_time_stamp_digest of this signature"
    )]
    TimeStampImprint,
    /// The time-stamp token does not verify or its signer is not a TSA.
    #[error("the signature time stamp does not verify: {0}")]
    TimeStamp(Box<CadesError>),
    /// The time-stamp token is not one a signature may carry (what [`crate::timestamp::ReceivedToken`] refuses).
    #[error("the time-stamp token is not acceptable: {0}; use a token from a granted TimeStampResp of a TSA")]
    Token(TokenError),
    /// Encoding a structure failed (cannot happen with the sizes involved; reported rather than hidden).
    #[error("could not encode the {what}: {detail}")]
    Encoding {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's words.
        detail: String,
    },
}

impl CadesError {
    /// A decoding failure of `what`.
    pub(super) fn undecodable(what: &'static str) -> impl FnOnce(der::Error) -> Self {
        move |e| Self::Undecodable { what, detail: e.to_string() }
    }

    /// An encoding failure of `what`.
    pub(super) fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> Self {
        move |e| Self::Encoding { what, detail: e.to_string() }
    }
}

impl From<CmsError> for CadesError {
    fn from(error: CmsError) -> Self {
        match error {
            CmsError::Ber { what, source } => Self::Undecodable { what, detail: source.to_string() },
            CmsError::Structure { what, detail } => Self::Undecodable { what, detail },
            CmsError::NotSignedData { what, content_type } => Self::NotSignedData { what, content_type },
            CmsError::SignerCount { what, count } => Self::SignerCount { what, count },
            CmsError::NoSignedAttributes { .. } => Self::Attribute { name: "signedAttrs", problem: "missing".into() },
            CmsError::SignedAttributesNotDer { what } => Self::SignedAttributesNotDer { what },
            // A reason the reader learns later (the enum is non-exhaustive): the signature does not decode.
            other => Self::Undecodable { what: "signature", detail: other.to_string() },
        }
    }
}

impl From<TokenError> for CadesError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Cms(cms) => cms.into(),
            other => Self::Token(other),
        }
    }
}
