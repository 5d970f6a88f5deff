//! Why an e-prescription XAdES signature cannot be made or does not verify.

use super::super::cades::CadesError;
use super::prescription::PrescriptionError;

/// Why an XML document cannot be read safely: each message names the problem and what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum XmlError {
    /// The document declares a DTD or an entity: hcpki never reads DTDs nor expands entities (XXE, billion laughs).
    #[error(
        "the XML has a document type declaration or an entity (<!DOCTYPE or <!ENTITY): hcpki never reads DTDs \
         nor expands entities; send the document without them"
    )]
    Doctype,
    /// Over the size limit.
    #[error(
        "the XML is {size} bytes, over the limit of {limit} bytes: an e-prescription is far smaller; check the file"
    )]
    TooLarge {
        /// The document's size.
        size: usize,
        /// [`super::xml::MAX_BYTES`].
        limit: usize,
    },
    /// Too many nodes.
    #[error("the XML has more than {limit} nodes: an e-prescription is far smaller; check the file")]
    TooManyNodes {
        /// [`super::xml::MAX_NODES`].
        limit: u32,
    },
    /// Elements nested too deep.
    #[error("the XML nests elements deeper than {limit} levels: an e-prescription is far flatter; check the file")]
    TooDeep {
        /// [`super::xml::MAX_DEPTH`].
        limit: usize,
    },
    /// Not UTF-8.
    #[error("the XML is not UTF-8 ({0}): e-prescription XML is written in UTF-8; convert it")]
    NotUtf8(String),
    /// Not well-formed XML (or an entity other than the five predefined ones).
    #[error("the XML is not well-formed: {0}; give the whole document as it was written")]
    Malformed(String),
}

/// Why an e-prescription signature cannot be made, time-stamped or checked. Each message says what was wrong
/// and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum XadesError {
    /// The document cannot be read safely.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// The prescription CSV cannot be read unambiguously (the line, the record and the rule).
    #[error(transparent)]
    Prescription(#[from] PrescriptionError),
    /// The document is not shaped as EP.xsd and the e-prescription signature require.
    #[error("the e-prescription XML is not as EP.xsd and its signature require: {0}")]
    Structure(String),
    /// An algorithm other than the ones this format uses.
    #[error("{what} {found} is not accepted: e-prescription signatures use {expected}")]
    Algorithm {
        /// Which algorithm (CanonicalizationMethod, Transform, …).
        what: &'static str,
        /// The URI found.
        found: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// An `Id` value names more than one element: a signature wrapping attempt or a broken writer.
    #[error(
        "the Id {0:?} names more than one element: a reference must resolve to exactly one (XML signature wrapping refused)"
    )]
    DuplicateId(String),
    /// A reference resolves to no element, or to another element than the one the format signs.
    #[error("the reference {uri:?} {problem} (XML signature wrapping refused)")]
    Reference {
        /// The reference's URI.
        uri: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A reference's digest is not the digest of what it points to.
    #[error("the {0} was changed after signing (its reference digest differs)")]
    DigestMismatch(&'static str),
    /// Base64 text that does not decode.
    #[error("the {0} is not Base64: give the document as it was written")]
    Base64(&'static str),
    /// The signer's key is not RSA.
    #[error(
        "the signer's key ({0}) is not RSA: e-prescription signatures are RSA-SHA256, made with the HPKI card's signature key"
    )]
    UnsupportedKey(String),
    /// The signature value does not verify.
    #[error(
        "the signature does not verify with the signer certificate's key: SignedInfo was changed after signing or \
         another key signed"
    )]
    BadSignature,
    /// SigningCertificateV2 does not name the certificate in KeyInfo.
    #[error(
        "SigningCertificateV2 does not name the signer certificate (digest, issuer or serial differ): a certificate was swapped"
    )]
    SigningCertificateMismatch,
    /// The time-stamp token is not over this signature's canonical SignatureValue.
    #[error(
        "the time-stamp token is not over this signature (its messageImprint differs from the digest of the \
         canonical SignatureValue): ask the TSA again with signature_time_stamp_digest of this document"
    )]
    TimeStampImprint,
    /// A certificate, key or time-stamp problem shared with CAdES (nonRepudiation, key type, TSA checks).
    #[error(transparent)]
    Signer(#[from] CadesError),
}

impl XadesError {
    /// A structural problem described by `text`.
    pub(super) fn structure(text: impl Into<String>) -> Self {
        Self::Structure(text.into())
    }
}
