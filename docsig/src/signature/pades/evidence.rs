//! The verifier's entry for PAdES: every signature of a PDF as [`SignatureEvidence`] for
//! [`validation::validate`]. A signature's evidence is its CMS checked over its /ByteRange (the CAdES code), the
//! revisions after it checked to add only what PAdES allows, the document security store's certificates, CRLs
//! and OCSP responses (B-LT), and as archive time stamps the document time stamps after it over a DSS that holds
//! its signer (B-LTA). What [`super::verify`] refuses outright becomes a verdict here: a file that cannot be read
//! is FORMAT_FAILURE, a revision that changes the signed content HASH_FAILURE.

use super::PadesError;
use super::diff::check_later_revisions;
use super::dss::{self, ValidationData};
use super::history::{self, History};
use super::located::{Kind, Located, signatures};
use super::pdf::Document;
use super::tail::Tail;
use super::verify::revision;
use crate::signature::cades::{self, time_stamp_over};
use crate::signature::validation::{
    self, Failure, FetchRequest, Indication, Report, SignatureEvidence, SigningTrust, SubIndication, TimeStampEvidence,
};
use der::{Decode, Encode};
use x509_cert::Certificate;

/// One signature's evidence, or the whole file's failure.
#[derive(Clone, Debug)]
pub struct FieldEvidence {
    /// The signature field's name; `None` when the file as a whole could not be read.
    pub field: Option<String>,
    /// What the signature says and how its own checks went.
    pub evidence: SignatureEvidence,
}

/// A PDF judged: one report per signature, and the file's revisions.
#[derive(Clone, Debug)]
pub struct Validated {
    /// One report per signature, oldest first, each with its field's name (`None` with the one
    /// FAILED/FORMAT_FAILURE report of a file that cannot be read).
    pub signatures: Vec<(Option<String>, Report)>,
    /// The revisions and what each after the first signed one changed (`None` for a file that cannot be read).
    pub history: Option<History>,
}

/// Judge every signature of `pdf` (document time stamps are judged as part of the signatures they cover)
/// against `trust` at `now`, asking `fetch` for revocation data the PDF does not embed. Bytes after the last
/// revision that no revision accounts for keep every signature from passing: INDETERMINATE/SIG_CONSTRAINTS_FAILURE
/// (the signed revisions are intact; the file given is not all theirs; decision D113).
pub fn validate(
    pdf: &[u8],
    trust: &SigningTrust,
    now: i64,
    fetch: &dyn Fn(&FetchRequest<'_>) -> Result<Vec<u8>, String>,
) -> Validated {
    let (evidence, history) = match read(pdf) {
        Ok((document, located, final_data)) => {
            let evidence = signatures_evidence((pdf, &document), &located, &final_data);
            (evidence, history::of(&document, &located).ok())
        }
        Err(e) => (vec![FieldEvidence { field: None, evidence: SignatureEvidence::broken(failure(e)) }], None),
    };
    let unaccounted = history.as_ref().and_then(|h| h.after_last_revision).and_then(Tail::refusal);
    let signatures = evidence
        .into_iter()
        .map(|one| {
            let mut report = validation::validate(&one.evidence, trust, now, fetch);
            if let Some(refusal) = &unaccounted {
                constrain(&mut report, refusal);
            }
            (one.field, report)
        })
        .collect();
    Validated { signatures, history }
}

/// The evidence of every signature of `pdf`, oldest first (never empty).
pub fn evidence(pdf: &[u8]) -> Vec<FieldEvidence> {
    match read(pdf) {
        Ok((document, located, final_data)) => signatures_evidence((pdf, &document), &located, &final_data),
        Err(e) => vec![FieldEvidence { field: None, evidence: SignatureEvidence::broken(failure(e)) }],
    }
}

fn signatures_evidence(
    (pdf, document): (&[u8], &Document<'_>),
    located: &[Located],
    final_data: &ValidationData,
) -> Vec<FieldEvidence> {
    located
        .iter()
        .filter(|one| one.kind == Kind::Signature)
        .map(|one| FieldEvidence {
            field: Some(one.field.clone()),
            evidence: signature_evidence((pdf, document), one, located, final_data),
        })
        .collect()
}

/// A file that goes on beyond every revision is not all its signatures': no signature in it passes, and the
/// reason replaces any other INDETERMINATE one (trying later or finding a chain would not make the file signed);
/// a FAILED signature stays FAILED, with the reason as a note.
fn constrain(report: &mut Report, refusal: &PadesError) {
    match report.indication {
        Indication::Failed => report.notes.push(refusal.to_string()),
        Indication::Indeterminate => {
            report.notes.push(format!("also: {}", report.detail));
            report.sub_indication = Some(SubIndication::SigConstraintsFailure);
            report.detail = refusal.to_string();
        }
        Indication::Passed => {
            report.indication = Indication::Indeterminate;
            report.sub_indication = Some(SubIndication::SigConstraintsFailure);
            report.detail = format!("the signature is intact, but {refusal}");
        }
    }
}

/// The document, its signatures and time stamps, and the validation data of its last revision's DSS.
fn read(pdf: &[u8]) -> Result<(Document<'_>, Vec<Located>, ValidationData), PadesError> {
    let document = Document::parse(pdf)?;
    let located = signatures(&document)?;
    if !located.iter().any(|s| s.kind == Kind::Signature) {
        return Err(PadesError::NoSignature("signature"));
    }
    let data = dss::read(&document)?;
    Ok((document, located, data))
}

fn signature_evidence(
    (pdf, document): (&[u8], &Document<'_>),
    one: &Located,
    located: &[Located],
    final_data: &ValidationData,
) -> SignatureEvidence {
    if let Err(e) = own_revision((pdf, document), one) {
        return SignatureEvidence::broken(failure(e));
    }
    let mut evidence = cades::evidence(&one.cms, &one.covered(pdf));
    if evidence.integrity.is_err() {
        return evidence;
    }
    evidence.certificates.extend(final_data.certificates.iter().filter_map(|der| Certificate::from_der(der).ok()));
    evidence.crls.extend(final_data.crls.iter().cloned());
    evidence.ocsp_responses.extend(final_data.ocsps.iter().cloned());
    if let Some(signer) = evidence.signer.as_ref().and_then(|c| c.to_der().ok()) {
        evidence.archive_time_stamps = located
            .iter()
            .filter(|stamp| stamp.kind == Kind::DocumentTimeStamp && stamp.end > one.end)
            .filter_map(|stamp| archive_time_stamp(pdf, stamp, &signer))
            .collect();
    }
    evidence
}

/// The signature's sub-filter, and the revisions after its own: only validation data, document time stamps and
/// invisible signature fields.
fn own_revision((pdf, document): (&[u8], &Document<'_>), one: &Located) -> Result<(), PadesError> {
    let sub_filter = one.dict.name("SubFilter").unwrap_or_default();
    if sub_filter != b"ETSI.CAdES.detached" {
        return Err(PadesError::UnsupportedSubFilter {
            field: one.field.clone(),
            sub_filter: String::from_utf8_lossy(sub_filter).into_owned(),
        });
    }
    if one.end != pdf.len() {
        check_later_revisions(&revision(pdf, one)?, document, &one.field)?;
    }
    Ok(())
}

/// A document time stamp after the signature whose revision's DSS holds the signer certificate: the archive time
/// stamp of B-LTA (one over a revision without that DSS proves less and is not counted).
fn archive_time_stamp(pdf: &[u8], stamp: &Located, signer: &[u8]) -> Option<TimeStampEvidence> {
    if stamp.dict.name("SubFilter").unwrap_or_default() != b"ETSI.RFC3161" {
        return Some(TimeStampEvidence::Broken(format!("the document time stamp {} is not ETSI.RFC3161", stamp.field)));
    }
    let covered = Document::parse(pdf.get(..stamp.end).unwrap_or_default()).ok()?;
    if !dss::read(&covered).ok()?.certificates.iter().any(|c| c == signer) {
        return None;
    }
    Some(time_stamp_over(&stamp.cms, &stamp.covered(pdf)))
}

/// A change after signing is the signed content no longer being what is shown (HASH_FAILURE); every other
/// refusal of the file is FORMAT_FAILURE.
fn failure(error: PadesError) -> Failure {
    let sub = match &error {
        PadesError::ModifiedAfterSigning { .. } => SubIndication::HashFailure,
        _ => SubIndication::FormatFailure,
    };
    Failure::new(sub, error.to_string())
}
