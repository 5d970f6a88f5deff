//! The revisions of a signed PDF, as the verifier reports them (issue #42 item 4): where each ends, which
//! signatures and document time stamps it holds, and what each revision after the first signed one changed —
//! the harmless kinds of [`Change`], or the change that is not one of them; and what follows the last revision
//! ([`Tail`], decision D113).

use super::PadesError;
use super::diff::{Change, check_later_revisions};
use super::located::{Kind, Located, signatures};
use super::pdf::Document;
use super::tail::Tail;

/// A PDF's revisions and what follows the last one.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct History {
    /// The revisions, oldest first.
    pub revisions: Vec<Revision>,
    /// The bytes after the last revision, when there are any.
    pub after_last_revision: Option<Tail>,
}

/// One revision.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Revision {
    /// 1 for the original document.
    pub revision: usize,
    /// The offset after its `%%EOF`.
    pub end: usize,
    /// The signatures whose /ByteRange ends here: the revision each signed.
    pub signatures: Vec<String>,
    /// The document time stamps whose /ByteRange ends here.
    pub document_time_stamps: Vec<String>,
    /// What it changed in the revision before, for revisions after the first signed one (none before: nothing
    /// was signed yet).
    pub changes: Option<Vec<Change>>,
    /// The first change that is not of an allowed kind, when it made one (the signatures before it fail).
    pub refused: Option<String>,
    /// Whether it was compared with the revision before (those after the first signed one are, up to a limit).
    pub compared: bool,
}

impl std::fmt::Display for Revision {
    /// `revision 3 (to byte 71070): adds or changes validation data (DSS)`: what it holds or changed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "revision {} (to byte {}): ", self.revision, self.end)?;
        let mut said: Vec<String> = Vec::new();
        match (&self.changes, &self.refused) {
            (_, Some(refused)) => said.push(format!("NOT ALLOWED after a signature: {refused}")),
            (Some(changes), None) => said.extend(changes.iter().map(Change::to_string)),
            (None, None) => {
                said.extend(self.signatures.iter().map(|s| format!("the signature {s}")));
                said.extend(self.document_time_stamps.iter().map(|s| format!("the document time stamp {s}")));
            }
        }
        if said.is_empty() {
            said.push(
                match (self.revision, self.compared) {
                    (1, _) => "the document as first written",
                    (_, true) => "nothing that shows",
                    (_, false) => "not compared with the revision before",
                }
                .into(),
            );
        }
        f.write_str(&said.join("; "))
    }
}

/// The revisions of `pdf` and what follows the last one: what the verifier reports (`validate`), without judging
/// a signature.
pub fn history(pdf: &[u8]) -> Result<History, PadesError> {
    let document = Document::parse(pdf)?;
    of(&document, &signatures(&document)?)
}

/// Most revisions after the first signed one compared with the one before: each comparison reads a revision
/// whole, and 64 signatures with a validation-data revision and a time stamp each stay below. The revisions
/// after these are listed without their changes; the verdicts, which compare each signed revision with the whole
/// file, do not depend on it.
const MAX_COMPARED: usize = 192;

/// The history of `document` (the whole file), whose signatures and document time stamps are `located`.
pub(super) fn of(document: &Document<'_>, located: &[Located]) -> Result<History, PadesError> {
    let bytes = document.bytes();
    let ends = document.revision_ends();
    let first_signed = located.iter().map(|l| l.end).min();
    let mut revisions: Vec<Revision> = Vec::with_capacity(ends.len());
    let mut previous: Option<Document<'_>> = None;
    let mut compared = 0usize;
    for (index, &end) in ends.iter().enumerate() {
        let named = |kind: Kind| -> Vec<String> {
            located.iter().filter(|l| l.kind == kind && l.end == end).map(|l| l.field.clone()).collect()
        };
        let after_signature = first_signed.is_some_and(|first| first < end);
        let (mut changes, mut refused) = (None, None);
        if after_signature && compared < MAX_COMPARED {
            compared += 1;
            let current = Document::parse(bytes.get(..end).unwrap_or_default())?;
            if let Some(before) = &previous {
                match check_later_revisions(before, &current, &format!("revision {index}")) {
                    Ok(found) => changes = Some(found),
                    Err(PadesError::ModifiedAfterSigning { change, .. }) => refused = Some(change),
                    Err(other) => return Err(other),
                }
            }
            previous = Some(current);
        } else if first_signed == Some(end) {
            // The first signed revision: what the next one is compared with.
            previous = Some(Document::parse(bytes.get(..end).unwrap_or_default())?);
        }
        revisions.push(Revision {
            revision: index + 1,
            end,
            signatures: named(Kind::Signature),
            document_time_stamps: named(Kind::DocumentTimeStamp),
            compared: changes.is_some() || refused.is_some(),
            changes,
            refused,
        });
    }
    Ok(History { revisions, after_last_revision: Tail::of(document) })
}
