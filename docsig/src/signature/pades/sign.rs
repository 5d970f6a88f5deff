//! B-B and B-T: a signature field appended by an incremental update, a CAdES detached CMS over its /ByteRange
//! (signed attributes contentType, messageDigest, signingCertificateV2 and no signingTime, as PAdES baseline
//! requires: ETSI EN 319 142-1 §5.3), then optionally a signature time stamp inside that CMS.

use super::PadesError;
use super::field::{Placeholder, add_signature_field, embed};
use super::located::{Kind, signatures};
use super::pdf::{Dictionary, Document, Object};
use crate::signature::cades::{self, ToBeSigned};
use spki::AlgorithmIdentifierOwned;

/// Bytes reserved for the signature's CMS: the certificates, the signature value and a signature time stamp
/// with its TSA chain fit several times over (validation data goes into the DSS, not here).
pub const SIGNATURE_ROOM: usize = 32 * 1024;

/// A PDF ready for the card: the file with an empty signature, and the signed attributes over its /ByteRange.
/// Not `Clone`: one preparation, one signature.
#[derive(Debug)]
pub struct Prepared {
    placeholder: Placeholder,
    tbs: ToBeSigned,
    document_sha256: [u8; 32],
}

impl Prepared {
    /// The exact bytes the card signs: the DER of the signed attributes.
    pub fn to_be_signed(&self) -> &[u8] {
        self.tbs.bytes()
    }

    /// SHA-256 of [`Prepared::to_be_signed`], for a card that signs a given hash.
    pub fn sha256(&self) -> Vec<u8> {
        self.tbs.sha256()
    }

    /// The signature algorithm the value must be made with.
    pub fn signature_algorithm(&self) -> &AlgorithmIdentifierOwned {
        self.tbs.signature_algorithm()
    }

    /// SHA-256 of the bytes the signature covers (the messageDigest the card agent recomputes before signing).
    pub fn covered_sha256(&self) -> [u8; 32] {
        self.document_sha256
    }

    /// The PDF with the empty signature (what [`Prepared::covered_sha256`] is over, less /Contents).
    pub fn pdf(&self) -> &[u8] {
        &self.placeholder.bytes
    }
}

/// Prepare a PAdES signature of `pdf` by the certificate first in `signer_chain` (DER, its CAs after it), at
/// `signing_time` (Unix seconds: the claimed time, written as /M; only a time stamp proves it).
///
/// Refuses a signer certificate without keyUsage nonRepudiation, and any PDF the reader refuses (too large,
/// encrypted, malformed).
pub fn prepare(pdf: &[u8], signer_chain: &[&[u8]], signing_time: i64) -> Result<Prepared, PadesError> {
    let document = Document::parse(pdf)?;
    let entries = Dictionary::from_iter([
        ("Type", Object::name("Sig")),
        ("Filter", Object::name("Adobe.PPKLite")),
        ("SubFilter", Object::name("ETSI.CAdES.detached")),
        ("M", Object::String(pdf_date(signing_time).into_bytes())),
    ]);
    let placeholder = add_signature_field(&document, entries, SIGNATURE_ROOM)?;
    let covered = placeholder.covered();
    let document_sha256 = super::sha256(&covered);
    // The CMS's own digest is the signer's hash (SHA-384 for a P-384 My Number card, D153).
    let tbs = cades::prepare_without_signing_time(&covered, signer_chain)?;
    Ok(Prepared { placeholder, tbs, document_sha256 })
}

/// The signed PDF (B-B): the CMS made of `prepared` and `signature` (as X.509 carries it), checked against the
/// signer certificate's key first, written into /Contents.
pub fn assemble(prepared: Prepared, signature: &[u8]) -> Result<Vec<u8>, PadesError> {
    let cms = cades::assemble(prepared.tbs, signature)?;
    prepared.placeholder.fill(&cms)
}

/// SHA-256 of the newest signature's value: the messageImprint to ask a TSA for (B-T).
pub fn signature_time_stamp_digest(pdf: &[u8]) -> Result<[u8; 32], PadesError> {
    let (cms, _) = newest_signature(pdf)?;
    Ok(cades::signature_time_stamp_digest(&cms)?)
}

/// `pdf` with the time-stamp token `token_der` added to its newest signature (B-T). The signature must be the
/// file's last revision (before validation data is added), since its /Contents is rewritten in place; its
/// /ByteRange does not cover /Contents, so the signature stays intact.
pub fn with_signature_time_stamp(pdf: &[u8], token_der: &[u8]) -> Result<Vec<u8>, PadesError> {
    let (cms, contents) = newest_signature(pdf)?;
    let stamped = cades::with_signature_time_stamp(&cms, token_der)?;
    let mut out = pdf.to_vec();
    embed(&mut out, &contents, &stamped)?;
    Ok(out)
}

/// The CMS and /Contents place of the signature that ends the file.
fn newest_signature(pdf: &[u8]) -> Result<(Vec<u8>, std::ops::Range<usize>), PadesError> {
    let document = Document::parse(pdf)?;
    let newest = signatures(&document)?
        .into_iter()
        .rfind(|s| s.kind == Kind::Signature)
        .ok_or(PadesError::NoSignature("signature"))?;
    if newest.end != pdf.len() {
        return Err(PadesError::ByteRange {
            field: newest.field,
            problem: "it is not the last revision: add its time stamp before validation data or other signatures"
                .into(),
        });
    }
    Ok((newest.cms, newest.contents))
}

/// A PDF date (§7.9.4) in UTC: `D:YYYYMMDDHHmmSSZ`.
fn pdf_date(unix: i64) -> String {
    let text = hcpki_pkix::time::rfc3339(unix);
    let digits: String = text.chars().filter(char::is_ascii_digit).take(14).collect();
    format!("D:{digits}Z")
}
