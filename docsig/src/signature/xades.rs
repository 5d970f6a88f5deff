//! XAdES signatures for e-prescriptions (電子処方箋), levels B-B and B-T, as the national service
//! (電子処方箋管理サービス) defines them: the prescription CSV, Base64 in `Document/Prescription/PrescriptionDocument`
//! of the EP.xsd envelope, signed by an enveloped `ds:Signature` in `PrescriptionSign` with exclusive
//! canonicalization, RSA-SHA256, three References (the prescription data, the XAdES 1.3.2 `SignedProperties`
//! with `SigningCertificateV2`, and `KeyInfo`), and for B-T a `SignatureTimeStamp` over the canonical
//! `SignatureValue`.
//!
//! The shape follows [`super::cades`]: [`prepare`] gives the canonical `SignedInfo` (what the card signs), the
//! card signs, [`assemble`] checks the value and writes the XML; [`signature_time_stamp_digest`] → a TSA →
//! [`with_signature_time_stamp`] adds B-T; [`verify`] checks a document, resistant to XML signature wrapping.
//! XML is read only through [`xml`] (no DTD, no entities, bounded) and canonicalized only by [`c14n`].

pub mod c14n;
mod check;
mod envelope;
mod error;
mod evidence;
mod ids;
mod parsed;
pub mod prescription;
mod produce;
mod time_stamp;
pub mod xml;

pub use super::cades::{Level, TimeStampSeen};
pub use check::{Verified, verify};
pub use error::{XadesError, XmlError};
pub use evidence::{evidence, validate};
pub use prescription::{MAX_CSV_BYTES, Prescription, PrescriptionError};
pub use produce::{Prepared, assemble, prepare};
pub use time_stamp::{canonical_signature_value, signature_time_stamp_digest, with_signature_time_stamp};

#[cfg(test)]
mod c14n_tests;
#[cfg(test)]
mod tests;
