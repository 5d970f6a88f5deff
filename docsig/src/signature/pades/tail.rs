//! What follows a PDF's last revision (issue #42 item 4, decision D113): bytes after the `%%EOF` that ends it
//! which no cross-reference section accounts for. Blanks and NULs are a transfer's padding; anything else belongs
//! to no revision: no signature covers it, and only a reader repairing the file would show it.

use super::PadesError;
use super::pdf::Document;

/// Bytes after the last revision's `%%EOF` that belong to no revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Tail {
    /// Only blanks and NUL bytes (a transfer's padding): nothing a reader could take for content.
    Padding {
        /// Where they start.
        offset: usize,
        /// How many.
        length: usize,
    },
    /// Anything else (an object appended without a cross-reference section, garbage): no signature covers it,
    /// a conforming reader ignores it, a reader that repairs damaged files may show it.
    Unaccounted {
        /// Where they start.
        offset: usize,
        /// How many.
        length: usize,
    },
}

impl Tail {
    /// What follows `document`'s last revision, if anything.
    pub(super) fn of(document: &Document<'_>) -> Option<Self> {
        let offset = document.revision_end();
        let rest = document.bytes().get(offset..).filter(|r| !r.is_empty())?;
        let length = rest.len();
        Some(if rest.iter().all(|b| b" \t\r\n\x0c\0".contains(b)) {
            Self::Padding { offset, length }
        } else {
            Self::Unaccounted { offset, length }
        })
    }

    /// The refusal an unaccounted tail is, for the strict check ([`super::verify`]).
    pub(super) fn refusal(self) -> Option<PadesError> {
        match self {
            Self::Padding { .. } => None,
            Self::Unaccounted { offset, length } => Some(PadesError::BytesAfterLastRevision { offset, length }),
        }
    }
}

impl std::fmt::Display for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Padding { offset, length } => {
                write!(f, "{length} bytes of blanks after the last revision (from byte {offset}): ignored")
            }
            Self::Unaccounted { offset, length } => write!(
                f,
                "{length} bytes after the last revision (from byte {offset}) belong to no revision: no signature \
                 covers them"
            ),
        }
    }
}
