//! What a consent document says ([`Statement`]), its limits and why one is refused ([`DocumentError`]).

use crate::signature::pades::PadesError;

/// What the patient (or the physician) signs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The patient consents (同意書).
    Consent,
    /// The patient withdraws a consent (撤回書).
    Withdrawal,
    /// The physician attests the patient's consent, for a card that cannot sign (the weaker evidence).
    Attestation,
}

/// One labelled part of the statement: a purpose, a scope, a recipient, how to withdraw…
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Item {
    /// The label, one line (e.g. 目的).
    pub label: String,
    /// The text; line breaks (`\n`) start a new line.
    pub text: String,
}

/// The statement a consent document shows and carries.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Statement {
    /// Consent, withdrawal or attestation.
    pub kind: Kind,
    /// The title, one line, printed large (e.g. 診療情報の共有に関する同意書).
    pub title: String,
    /// The items, in order.
    pub items: Vec<Item>,
    /// The consent's id: printed small at the foot of every page and kept in the document information.
    pub reference: String,
}

/// The name of the embedded file holding the statement.
pub const EMBEDDED_FILE_NAME: &str = "hcpki-consent.json";

/// The version of the embedded statement's JSON.
pub const STATEMENT_VERSION: u32 = 1;

/// Longest title, in characters (it is printed at 20 pt: a few lines at most).
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 200;
/// Longest text of one item, in characters.
pub const MAX_ITEM_CHARS: usize = 4_000;
/// Most items.
pub const MAX_ITEMS: usize = 40;
/// Longest reference, in characters (printable ASCII: it is an id, printed small on one line).
pub const MAX_REFERENCE_CHARS: usize = 64;
/// Most pages a statement may take.
pub const MAX_PAGES: usize = 20;

/// Why a consent document cannot be made or read. Each message says what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The title is empty or blank.
    #[error("the consent document has no title: give the template a title (e.g. 同意書)")]
    EmptyTitle,
    /// The statement has no items.
    #[error("the consent document has no items: give the template at least one item (e.g. the purpose)")]
    NoItems,
    /// More items than [`MAX_ITEMS`].
    #[error("the consent document has {count} items, over the limit of {limit}: merge or remove items")]
    TooManyItems {
        /// Items given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An item's label or text is empty or blank, or the reference is.
    #[error("the {part} is empty: fill it in (or remove the item)")]
    Empty {
        /// Which part (e.g. "label of item 3").
        part: String,
    },
    /// The reference is not 1 to [`MAX_REFERENCE_CHARS`] printable ASCII characters.
    #[error(
        "the reference {reference:?} is not 1 to 64 printable ASCII characters without spaces: pass the consent's id"
    )]
    BadReference {
        /// The reference given (its first 80 characters).
        reference: String,
    },
    /// A part is longer than its limit.
    #[error("the {part} is {chars} characters long, over the limit of {limit}: shorten it")]
    TooLong {
        /// Which part.
        part: String,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        limit: usize,
    },
    /// A part holds a control character (only an item's text may hold line breaks).
    #[error(
        "the {part} holds the control character U+{code:04X} at character {position}: remove it (only an item's text may hold line breaks, and only as LF: convert CRLF from a form to LF)"
    )]
    ControlCharacter {
        /// Which part.
        part: String,
        /// The character's code point.
        code: u32,
        /// Its position (1 = the first character).
        position: usize,
    },
    /// The statement needs more pages than [`MAX_PAGES`].
    #[error("the consent document needs {pages} pages, over the limit of {limit}: shorten the texts")]
    TooManyPages {
        /// Pages the text needs.
        pages: usize,
        /// The limit.
        limit: usize,
    },
    /// The creation time is not a date a PDF can carry (years 1970 to 9999).
    #[error("the creation time {seconds} (Unix seconds) is outside 1970–9999: pass the current time")]
    CreatedAt {
        /// The time given.
        seconds: i64,
    },
    /// The bytes are not a PDF hcpki can read (size, syntax, encryption).
    #[error("{0}")]
    Pdf(#[from] PadesError),
    /// The file's first revision (up to the first `%%EOF`) cannot be read on its own.
    #[error(
        "the PDF's first revision cannot be read on its own ({problem}): the statement cannot be told apart from later changes; render the document again"
    )]
    FirstRevision {
        /// What went wrong.
        problem: String,
    },
    /// A revision after the first changes the first revision beyond what signing adds.
    #[error(
        "revision {revision} of the PDF {change}: what the first revision states may not be what is shown; render the document again and sign that"
    )]
    ChangedAfterFirstRevision {
        /// The revision that changed it (1 = the first).
        revision: usize,
        /// What it changed.
        change: String,
    },
    /// The embedded statement is missing parts, of another version, or breaks the limits above.
    #[error("the PDF's embedded statement ({EMBEDDED_FILE_NAME}) is not valid: {problem}; render the document again")]
    BadStatement {
        /// What is wrong.
        problem: String,
    },
}

/// Check `statement` against the limits: what [`render`] makes and [`read`] accepts is the same set.
pub(super) fn validate(statement: &Statement) -> Result<(), DocumentError> {
    one_line("title", &statement.title, MAX_TITLE_CHARS).map_err(|e| match e {
        DocumentError::Empty { .. } => DocumentError::EmptyTitle,
        other => other,
    })?;
    let reference = &statement.reference;
    if reference.is_empty() || reference.len() > MAX_REFERENCE_CHARS || !reference.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(DocumentError::BadReference { reference: reference.chars().take(80).collect() });
    }
    if statement.items.is_empty() {
        return Err(DocumentError::NoItems);
    }
    if statement.items.len() > MAX_ITEMS {
        return Err(DocumentError::TooManyItems { count: statement.items.len(), limit: MAX_ITEMS });
    }
    for (i, item) in statement.items.iter().enumerate() {
        let n = i + 1;
        one_line(&format!("label of item {n}"), &item.label, MAX_LABEL_CHARS)?;
        let part = format!("text of item {n}");
        not_blank(&part, &item.text)?;
        no_controls(&part, &item.text, true)?;
        within(&part, &item.text, MAX_ITEM_CHARS)?;
    }
    Ok(())
}

fn one_line(part: &str, text: &str, limit: usize) -> Result<(), DocumentError> {
    not_blank(part, text)?;
    no_controls(part, text, false)?;
    within(part, text, limit)
}

fn not_blank(part: &str, text: &str) -> Result<(), DocumentError> {
    if text.trim().is_empty() {
        return Err(DocumentError::Empty { part: part.to_owned() });
    }
    Ok(())
}

fn within(part: &str, text: &str, limit: usize) -> Result<(), DocumentError> {
    let chars = text.chars().count();
    if chars > limit {
        return Err(DocumentError::TooLong { part: part.to_owned(), chars, limit });
    }
    Ok(())
}

fn no_controls(part: &str, text: &str, newline_allowed: bool) -> Result<(), DocumentError> {
    let found = text.chars().enumerate().find(|&(_, c)| c.is_control() && !(newline_allowed && c == '\n'));
    match found {
        Some((at, c)) => {
            Err(DocumentError::ControlCharacter { part: part.to_owned(), code: u32::from(c), position: at + 1 })
        }
        None => Ok(()),
    }
}
