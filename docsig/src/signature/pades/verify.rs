//! Checking a signed PDF (issue #27 item 5, the format's part): every signature's /ByteRange covers its whole
//! revision but /Contents, revisions after it add only what PAdES allows, the CMS checks with the CAdES code,
//! and document time stamps check as RFC 3161 tokens over their revisions. The output parallels
//! [`crate::signature::cades::Verified`] (signer chain, time-stamp times, embedded validation data, level), so
//! the format-independent verifier can judge chains and revocation at those times.

use super::PadesError;
use super::diff::{Change, check_later_revisions};
use super::dss::{self, ValidationData};
use super::located::{Kind, Located, signatures};
use super::pdf::{Document, Object, text_string};
use super::tail::Tail;
use crate::signature::cades::{self, CadesError, TimeStampSeen};
use x509_cert::Certificate;

/// The PAdES baseline level a signature reached (ETSI EN 319 142-1 §6): the verifier's, shared by every format.
/// B-LT is validation data in the DSS after the signature, B-LTA a document time stamp over it.
pub use crate::signature::validation::Level;

/// One signature that checked.
#[derive(Clone, Debug)]
pub struct SignatureSeen {
    /// The field's name.
    pub field: String,
    /// The level reached.
    pub level: Level,
    /// The signer's certificate.
    pub signer: Certificate,
    /// The certificates the CMS carries (the signer's chain).
    pub certificates: Vec<Certificate>,
    /// /M, the claimed signing time as written (a PDF date), when present.
    pub claimed_time: Option<String>,
    /// The signature time stamps (genTime and TSA), in order.
    pub time_stamps: Vec<TimeStampSeen>,
    /// Whether its revision is the whole file (no later revision).
    pub covers_whole_file: bool,
    /// What the revisions after its own changed (all of the allowed kinds: anything else fails the check).
    pub later_changes: Vec<Change>,
}

/// One document time stamp that checked.
#[derive(Clone, Debug)]
pub struct DocumentTimeStampSeen {
    /// The field's name.
    pub field: String,
    /// genTime and the TSA's certificate.
    pub time_stamp: TimeStampSeen,
    /// Whether its revision is the whole file.
    pub covers_whole_file: bool,
}

/// What a PDF's signatures say.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The signatures, oldest first.
    pub signatures: Vec<SignatureSeen>,
    /// The document time stamps, oldest first.
    pub document_time_stamps: Vec<DocumentTimeStampSeen>,
    /// The DSS's validation data, as embedded (DER each).
    pub validation_data: ValidationData,
}

impl Verified {
    /// The lowest level of the signatures (the level of the document's one signature, usually).
    pub fn level(&self) -> Level {
        self.signatures.iter().map(|s| s.level).min().unwrap_or(Level::BaselineB)
    }
}

/// Check every signature and document time stamp of `pdf`. The first failure is the error; a PDF without any
/// signature is [`PadesError::NoSignature`], one that goes on after its last revision with anything but blanks
/// [`PadesError::BytesAfterLastRevision`].
pub fn verify(pdf: &[u8]) -> Result<Verified, PadesError> {
    let document = Document::parse(pdf)?;
    if let Some(refusal) = Tail::of(&document).and_then(Tail::refusal) {
        return Err(refusal);
    }
    let located = signatures(&document)?;
    if !located.iter().any(|s| s.kind == Kind::Signature) {
        return Err(PadesError::NoSignature("signature"));
    }
    let mut signatures = Vec::new();
    let mut document_time_stamps = Vec::new();
    for one in &located {
        let covers_whole_file = one.end == pdf.len();
        let later_changes = if covers_whole_file {
            Vec::new()
        } else {
            check_later_revisions(&revision(pdf, one)?, &document, &one.field)?
        };
        match one.kind {
            Kind::Signature => {
                signatures.push(SignatureSeen { later_changes, ..signature(pdf, one, covers_whole_file)? })
            }
            Kind::DocumentTimeStamp => document_time_stamps.push(DocumentTimeStampSeen {
                field: one.field.clone(),
                time_stamp: document_time_stamp(pdf, one)?,
                covers_whole_file,
            }),
        }
    }
    let validation_data = dss::read(&document)?;
    for seen in &mut signatures {
        seen.level = level(seen, &located, pdf, &validation_data)?;
    }
    Ok(Verified { signatures, document_time_stamps, validation_data })
}

/// The revision `one` signed, as its own document: the file must end there with `%%EOF`.
pub(super) fn revision<'a>(pdf: &'a [u8], one: &Located) -> Result<Document<'a>, PadesError> {
    let bytes = pdf.get(..one.end).unwrap_or_default();
    let trimmed =
        bytes.strip_suffix(b"\r\n").or_else(|| bytes.strip_suffix(b"\n")).or_else(|| bytes.strip_suffix(b"\r"));
    if !trimmed.unwrap_or(bytes).ends_with(b"%%EOF") {
        return Err(PadesError::ByteRange {
            field: one.field.clone(),
            problem: "its /ByteRange does not end at the end of a revision (%%EOF)".into(),
        });
    }
    Document::parse(bytes)
}

fn signature(pdf: &[u8], one: &Located, covers_whole_file: bool) -> Result<SignatureSeen, PadesError> {
    let sub_filter = one.dict.name("SubFilter").unwrap_or_default();
    if sub_filter != b"ETSI.CAdES.detached" {
        return Err(PadesError::UnsupportedSubFilter {
            field: one.field.clone(),
            sub_filter: String::from_utf8_lossy(sub_filter).into_owned(),
        });
    }
    let checked = cades::verify_detached(&one.cms, &one.covered(pdf))?;
    Ok(SignatureSeen {
        field: one.field.clone(),
        level: if checked.time_stamps.is_empty() { Level::BaselineB } else { Level::BaselineT },
        signer: checked.signer,
        certificates: checked.certificates,
        claimed_time: one.dict.get("M").and_then(Object::as_string).map(text_string),
        time_stamps: checked.time_stamps,
        covers_whole_file,
        later_changes: Vec::new(),
    })
}

fn document_time_stamp(pdf: &[u8], one: &Located) -> Result<TimeStampSeen, PadesError> {
    let sub_filter = one.dict.name("SubFilter").unwrap_or_default();
    if sub_filter != b"ETSI.RFC3161" {
        return Err(PadesError::UnsupportedSubFilter {
            field: one.field.clone(),
            sub_filter: String::from_utf8_lossy(sub_filter).into_owned(),
        });
    }
    cades::check_time_stamp(&one.cms, &one.covered(pdf)).map_err(|e| match e {
        CadesError::TimeStampImprint => PadesError::ByteRange {
            field: one.field.clone(),
            problem: "the document time stamp is not over its /ByteRange (the file changed after it)".into(),
        },
        other => PadesError::Cms(other),
    })
}

/// B-T with a signature time stamp; B-LT when a later revision's DSS holds the signer's certificate; B-LTA when
/// a document time stamp after that covers a DSS.
fn level(
    seen: &SignatureSeen,
    located: &[Located],
    pdf: &[u8],
    final_data: &ValidationData,
) -> Result<Level, PadesError> {
    if seen.level < Level::BaselineT {
        return Ok(seen.level);
    }
    let Some(own) = located.iter().find(|l| l.field == seen.field) else { return Ok(seen.level) };
    let signer = der::Encode::to_der(&seen.signer)
        .map_err(|e| CadesError::Encoding { what: "certificate", detail: e.to_string() })?;
    if !final_data.certificates.contains(&signer) {
        return Ok(Level::BaselineT);
    }
    for stamp in located.iter().filter(|l| l.kind == Kind::DocumentTimeStamp && l.end > own.end) {
        let covered = Document::parse(pdf.get(..stamp.end).unwrap_or_default())?;
        if dss::read(&covered)?.certificates.contains(&signer) {
            return Ok(Level::BaselineLta);
        }
    }
    Ok(Level::BaselineLt)
}
