//! CAdES signatures (`.p7s`, ETSI EN 319 122-1) at levels B-B to B-LTA: a CMS SignedData (RFC 5652) over a file
//! that travels beside it (hcpki writes these) or inside it (attached, as `openssl cms -sign -stream` writes;
//! read and renewed, D109). Read as BER with the signed attributes in DER (D114, [`hcpki_pkix::asn1::signed_data`]).
//!
//! ```text
//! ContentInfo { id-signedData, SignedData {
//!     version 1, digestAlgorithms { sha256 },
//!     encapContentInfo { id-data }                       -- detached: no eContent
//!     certificates [0] { signer, intermediates }
//!     signerInfos { SignerInfo { version 1, sid issuerAndSerialNumber, digestAlgorithm sha256,
//!         signedAttrs { contentType id-data, messageDigest, signingTime, signingCertificateV2 },
//!         signatureAlgorithm sha256WithRSAEncryption | ecdsa-with-SHA256, signature,
//!         unsignedAttrs { signatureTimeStampToken }  -- B-T only
//!     } } } }
//! ```
//!
//! Producing is three calls around an external signer: [`prepare`] gives the DER of the signed attributes (what
//! the card signs), [`assemble`] wraps the signature value into the `.p7s` (B-B), and
//! [`with_signature_time_stamp`] adds a TSA's token over [`signature_time_stamp_digest`] (B-T),
//! [`with_validation_data`] embeds the certificates, CRLs and OCSP responses gathered at signing (B-LT), and
//! [`with_archive_time_stamp`] adds an archive-time-stamp-v3 over [`archive_time_stamp_digest`] (B-LTA; again
//! for each renewal). [`validate`] is the verifier: the format's checks fed to the format-independent
//! [`crate::signature::validation`] core, which gives PASSED / INDETERMINATE / FAILED. [`verify`] is the
//! structural check alone (intact and well formed at B-B or B-T).

mod archive;
mod attributes;
mod check;
mod error;
mod judge;
mod parsed;
mod produce;
mod signer;
mod signer_info;
mod time_stamp;
mod validation_data;

/// The baseline levels: the verifier's, shared by every format.
pub use crate::signature::validation::Level;
pub use archive::{
    ID_AA_ATS_HASH_INDEX_V3, ID_AA_ETS_ARCHIVE_TIMESTAMP_V3, archive_time_stamp_digest, with_archive_time_stamp,
};
pub(crate) use check::verify_detached;
pub use check::{Verified, verify};
pub use error::CadesError;
pub(crate) use judge::time_stamp_over;
pub use judge::{evidence, validate};
pub use parsed::CadesSignature;
pub use produce::{ToBeSigned, assemble, prepare, prepare_document, prepare_without_signing_time};
pub(crate) use time_stamp::check_time_stamp;
pub use time_stamp::{TimeStampSeen, signature_time_stamp_digest, with_signature_time_stamp};
// Shared with XAdES (`super::xades`): the signer certificate's checks (and `check_time_stamp` above).
pub(super) use signer::{SignerChain, require_non_repudiation, signature_algorithm};
pub use validation_data::{ID_RI_OCSP_RESPONSE, with_validation_data};

#[cfg(test)]
pub(crate) mod tests;
