//! B-LTA: a document time stamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161; ETSI EN 319 142-1 §5.4.3), an
//! RFC 3161 token over the /ByteRange of its own revision, which covers the signature and the DSS before it.
//! Renewal adds the newest validation data and another document time stamp over everything.

use super::PadesError;
use super::dss::{ValidationData, add_validation_data};
use super::field::{Placeholder, add_signature_field};
use super::pdf::{Dictionary, Document, Object};
use crate::signature::cades::{CadesError, check_time_stamp};

/// Bytes reserved for a document time-stamp token (a token with its TSA chain is a few kilobytes).
pub const TIME_STAMP_ROOM: usize = 16 * 1024;

/// A PDF with an empty document time stamp: ask a TSA for a token over [`PreparedTimeStamp::digest`]. Not
/// `Clone`: one preparation, one token.
#[derive(Debug)]
pub struct PreparedTimeStamp {
    placeholder: Placeholder,
    digest: [u8; 32],
}

impl PreparedTimeStamp {
    /// SHA-256 of the bytes the time stamp covers: the messageImprint to ask the TSA for.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }
}

/// Prepare a document time stamp over `pdf` as it is (B-LTA once `pdf` is B-LT).
pub fn prepare_document_time_stamp(pdf: &[u8]) -> Result<PreparedTimeStamp, PadesError> {
    let document = Document::parse(pdf)?;
    let entries = Dictionary::from_iter([
        ("Type", Object::name("DocTimeStamp")),
        ("Filter", Object::name("Adobe.PPKLite")),
        ("SubFilter", Object::name("ETSI.RFC3161")),
    ]);
    let placeholder = add_signature_field(&document, entries, TIME_STAMP_ROOM)?;
    let digest = super::sha256(&placeholder.covered());
    Ok(PreparedTimeStamp { placeholder, digest })
}

/// The time-stamped PDF: `token_der` (a TimeStampToken, the ContentInfo of a granted TimeStampResp) written
/// into /Contents after checking that it is over this revision and that the TSA's signature verifies.
pub fn assemble_document_time_stamp(prepared: PreparedTimeStamp, token_der: &[u8]) -> Result<Vec<u8>, PadesError> {
    check_time_stamp(token_der, &prepared.placeholder.covered()).map_err(|e| match e {
        CadesError::TimeStampImprint => PadesError::TimeStampImprint,
        other => PadesError::Cms(other),
    })?;
    prepared.placeholder.fill(token_der)
}

/// Renewal (`hcpki signature renew`): add `data` (the validation data of the newest time stamp's TSA, gathered
/// now) to the DSS, then prepare a new document time stamp over the whole file.
pub fn renew(pdf: &[u8], data: &ValidationData) -> Result<PreparedTimeStamp, PadesError> {
    if data.is_empty() {
        return prepare_document_time_stamp(pdf);
    }
    prepare_document_time_stamp(&add_validation_data(pdf, data)?)
}
