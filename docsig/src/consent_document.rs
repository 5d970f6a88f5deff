//! The consent document (同意書), its withdrawal (撤回書) and the physician's attestation as a PDF, and the
//! statement read back from it (issue #28, decision D89). No HTTP, no clock: the creation time is passed in.
//!
//! The portal fills a [`Statement`] from a service's template; [`render`] makes the PDF the patient signs with the
//! My Number card (PAdES, `signature::pades`). The statement is in the PDF twice, inside the same signed bytes:
//!
//! ```text
//! page text       the title, each item's label and text, the reference at the foot (Japanese, non-embedded
//!                 CID font of Adobe-Japan1: viewers substitute a Japanese font)
//! embedded file   hcpki-consent.json = {"version":1, "kind":…, "title":…, "items":[…], "reference":…}
//!                 (catalog /Names /EmbeddedFiles, and the catalog's /AF with /AFRelationship /Source)
//! ```
//!
//! The card agent shows the patient the statement [`read`] finds in the bytes it is about to sign. `read` answers
//! from the **first revision** only (the bytes up to the first `%%EOF`) and refuses a file whose later revisions
//! change anything of it beyond what signing adds, so what the agent shows is what the signature covers.

mod layout;
mod read;
mod render;
mod statement;

pub use read::read;
pub use render::render;
pub use statement::{
    DocumentError, EMBEDDED_FILE_NAME, Item, Kind, MAX_ITEM_CHARS, MAX_ITEMS, MAX_LABEL_CHARS, MAX_PAGES,
    MAX_REFERENCE_CHARS, MAX_TITLE_CHARS, STATEMENT_VERSION, Statement,
};

#[cfg(test)]
mod tests;
