//! Document signatures with the card's **signature** key (issue #27 item 2, D71). The agent is handed the
//! document itself (its bytes, format and a title), never a digest chosen by the caller: it shows the person what
//! it is ([`Shown`]: type, title, file name, size, the SHA-256 in full and the format's readable summary), hashes
//! it itself, builds what the card signs itself (for CAdES the signed attributes, `hcpki_docsig::signature::cades::
//! prepare`, whose messageDigest is that hash), has the card's signature key sign it after the signature PIN, and
//! assembles the signed file, which `assemble` checks against the signer certificate before anything is written.
//!
//! ```text
//!  Document (bytes, format, title) ──shown()──▶ page / terminal: what is signed, by whom
//!        │ sign(service, …)
//!        ▼
//!  CardService::sign_document ── PIN ── chain of the signature key ──▶ Format::prepare (agent-made bytes)
//!        ◀── signature value ── card (署名用 key only)
//!  Prepared::finish (assemble, verified) ──▶ .p7s (B-B) ──[B-T]── time_stamps::TimeStamps ──▶ .p7s (B-T)
//! ```
//!
//! A format is one [`Format`] variant with one arm in each of its matches (summary, prepare, time stamp):
//! CAdES (`cades.rs`), XAdES for e-prescriptions (`xades.rs`) and PAdES for PDF (`pades.rs`), each over its
//! `hcpki_docsig::signature` core.

mod cades;
mod format;
pub mod issuers;
mod pades;
pub mod signer;
mod summary;
pub mod time_stamps;
mod xades;

use std::fmt::Write as _;

use sha2::{Digest as _, Sha256};

use crate::service::{AgentError, CardKind, CardService, DocumentSignRequest, PinPrompt, Signed, SignedFile};
pub use format::{AGENT_LEVELS, DocumentFormat, Format, Level};
/// A consent statement (同意書, 撤回書, a physician's attestation) as `hcpki_docsig::consent_document` reads it from the
/// PDF the agent signs: what the patient's page shows (issue #28).
pub use hcpki_docsig::consent_document::{Item as StatementItem, Kind as StatementKind, Statement};
pub use summary::SummaryLine;

/// The largest document the agent signs: 10 MiB. Larger ones are refused before any card work (HTTP 413).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// Longest title, in characters: a document's name, not its text.
pub const MAX_TITLE_CHARS: usize = 200;

/// A document to sign, as the agent was handed it.
#[derive(Clone)]
pub struct Document {
    format: Format,
    title: String,
    file_name: Option<String>,
    bytes: Vec<u8>,
    /// The format's summary, read once when the document was taken (a PDF or a CSV is parsed once, not per view).
    summary: Vec<SummaryLine>,
    /// The consent statement the document carries (a PDF made by `consent_document::render`), read from the bytes
    /// signed.
    statement: Option<Statement>,
}

impl std::fmt::Debug for Document {
    // Never the contents (they may be a patient's record): the format and size only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("format", &self.format)
            .field("size", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// What the person is shown before the PIN: everything here is the agent's own reading of the bytes it signs,
/// except the title and file name, which the page marks as the requester's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    pub format: Format,
    pub level: Level,
    pub title: String,
    pub file_name: Option<String>,
    pub size: usize,
    pub sha256: [u8; 32],
    /// The format's readable summary of the content.
    pub summary: Vec<SummaryLine>,
    /// The consent statement read from the bytes signed: the page shows it to the patient in large, plain words
    /// (its own layout) instead of the document's technical facts.
    pub statement: Option<Statement>,
}

impl Shown {
    /// The SHA-256 in hex, in groups of eight so a person can compare it with another display.
    pub fn sha256_grouped(&self) -> String {
        let hex = hex::encode(self.sha256);
        let mut out = String::with_capacity(hex.len() + 8);
        for (i, c) in hex.chars().enumerate() {
            if i > 0 && i % 8 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }

    /// What the terminal prints before asking for the signature PIN (`hcpki-agent sign`).
    pub fn terminal_text(&self, kind: CardKind, signer: &signer::SignerShown) -> String {
        let mut t = String::new();
        let _ =
            writeln!(t, "Signing a document with the {} signature key:", crate::driver::registry::display_name(kind));
        let _ = writeln!(t, "  title:      {}", self.title);
        if let Some(name) = &self.file_name {
            let _ = writeln!(t, "  file:       {name}");
        }
        let _ = writeln!(t, "  size:       {} bytes", self.size);
        let _ = writeln!(t, "  SHA-256:    {}", hex::encode(self.sha256));
        let _ = writeln!(t, "  format:     {} ({})", self.format.label().en, self.level.name());
        for line in &self.summary {
            let _ = writeln!(t, "  {:<11} {}", format!("{}:", line.label.en), line.value_en);
        }
        if let Some(statement) = &self.statement {
            let _ = writeln!(t, "  statement:  {}", statement.title);
            for item in &statement.items {
                let _ = writeln!(t, "    {}: {}", item.label, item.text.replace('\n', "\n      "));
            }
            let _ = writeln!(t, "  reference:  {}", statement.reference);
        }
        match (&signer.name, &signer.hc_role) {
            (Some(name), Some(role)) => {
                let _ = writeln!(t, "  signer:     {name} (hcRole {role})");
            }
            (Some(name), None) => {
                let _ = writeln!(t, "  signer:     {name}");
            }
            _ => {
                let _ = writeln!(t, "  signer:     the holder named in the card's signature certificate");
            }
        }
        t
    }
}

/// The document signed: the signed file (`.p7s` for CAdES) and the card's answer.
#[derive(Debug)]
pub struct SignedDocument {
    pub output: Vec<u8>,
    pub signed: Signed,
    pub level: Level,
    /// genTime of the signature time stamp (B-T), Unix seconds.
    pub time_stamped_at: Option<i64>,
}

impl SignedDocument {
    /// The card's answer with the signed file, as the API reports it.
    pub fn into_signed(self, format: Format) -> Signed {
        let mut signed = self.signed;
        let file = SignedFile {
            format: format.as_str(),
            level: self.level.name(),
            content: self.output,
            time_stamped_at: self.time_stamped_at,
            authentication_certificate: signed.authentication_certificate.take(),
            signing: crate::signing_session::SignatureMode::Single,
        };
        Signed { document: Some(file), ..signed }
    }
}

impl Document {
    /// A document as handed over, refused when it is empty, over [`MAX_DOCUMENT_BYTES`], or its title is empty,
    /// too long or holds control characters. The file name keeps only its last path component.
    pub fn new(format: Format, title: &str, file_name: Option<&str>, bytes: Vec<u8>) -> Result<Self, AgentError> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(too_large(bytes.len()));
        }
        if bytes.is_empty() {
            return Err(AgentError::Document("the document is empty: give the file to sign".into()));
        }
        let title = title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
            return Err(AgentError::Document(format!(
                "the title must be 1 to {MAX_TITLE_CHARS} characters without control characters: name the document \
                 as the person signing it will recognise it"
            )));
        }
        let file_name = file_name
            .and_then(|n| n.rsplit(['/', '\\']).next())
            .map(|n| n.chars().filter(|c| !c.is_control()).take(MAX_TITLE_CHARS).collect::<String>())
            .filter(|n| !n.is_empty());
        let summary = format::summary(format, &bytes)?;
        let statement = format::statement(format, &bytes)?;
        Ok(Document { format, title: title.to_owned(), file_name, bytes, summary, statement })
    }

    /// The consent statement the document carries, if any.
    pub fn statement(&self) -> Option<&Statement> {
        self.statement.as_ref()
    }

    /// Whether a card of `kind` may sign this document: a statement names its signer — a consent or its withdrawal
    /// the patient, with the My Number card; an attestation the physician, with the HPKI card. Refused before any
    /// card work otherwise (the wrong person's card would sign what the page shows as someone else's words).
    pub fn check_signer(&self, kind: CardKind) -> Result<(), AgentError> {
        let Some(statement) = &self.statement else { return Ok(()) };
        let (needed, who) = match statement.kind {
            StatementKind::Consent | StatementKind::Withdrawal => (CardKind::Jpki, "the patient's My Number card"),
            StatementKind::Attestation => (CardKind::Hpki, "the physician's HPKI card"),
        };
        if kind == needed {
            return Ok(());
        }
        Err(AgentError::Document(format!(
            "this PDF is a {} signed with {who} (kind {needed}), not with a {kind} card: nothing was signed; ask for \
             the signature with kind {needed}",
            statement_kind_name(&statement.kind)
        )))
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// What the person is shown, read by the agent from the bytes it will sign.
    pub fn shown(&self, level: Level) -> Shown {
        Shown {
            format: self.format,
            level,
            title: self.title.clone(),
            file_name: self.file_name.clone(),
            size: self.bytes.len(),
            sha256: Sha256::digest(&self.bytes).into(),
            summary: self.summary.clone(),
            statement: self.statement.clone(),
        }
    }
}

/// A statement's kind in English (logs, errors).
pub fn statement_kind_name(kind: &StatementKind) -> &'static str {
    match kind {
        StatementKind::Consent => "consent",
        StatementKind::Withdrawal => "withdrawal of a consent",
        StatementKind::Attestation => "physician's attestation of a consent",
    }
}

/// Why a document over the limit is refused (the API answers 413).
pub fn too_large(size: usize) -> AgentError {
    AgentError::Document(format!(
        "the document is {size} bytes; the card agent signs documents of at most {MAX_DOCUMENT_BYTES} bytes (10 MiB): \
         sign a smaller file"
    ))
}

/// Has the card's signature key sign `document` at level B-B, claiming `signing_time` (Unix seconds; a claim, not
/// a time stamp): the agent hashes the document, the format builds what the card signs from that hash and the
/// signature certificate, the card signs after its signature PIN, and the result is assembled and checked.
/// Logs the format, the document's and the signer certificate's SHA-256 — never the PIN or the content.
///
/// `ca_certificates` (DER) are the CA certificates the signature may carry beside the card's own ([`issuers`]).
pub fn sign(
    service: &dyn CardService,
    document: &Document,
    card: &DocumentSignRequest,
    prompt: &dyn PinPrompt,
    signing_time: i64,
    ca_certificates: &[Vec<u8>],
) -> Result<SignedDocument, AgentError> {
    document.check_signer(card.kind)?;
    let sha256: [u8; 32] = Sha256::digest(&document.bytes).into();
    let mut prepared = None;
    let mut derive = |chain: &[Vec<u8>]| {
        let chain = issuers::complete(chain, ca_certificates);
        let p = format::prepare(document.format, &document.bytes, &chain, signing_time)?;
        let bytes = p.to_be_signed().to_vec();
        prepared = Some(p);
        Ok(bytes)
    };
    let signed = service.sign_document(card, prompt, &mut derive)?;
    let prepared = prepared.ok_or_else(|| AgentError::Other("the card signed without the agent's bytes".into()))?;
    let output = prepared.finish(&signed.signature)?;
    let signer = signed.chain.first().map(|c| hex::encode(Sha256::digest(c))).unwrap_or_default();
    tracing::info!(
        format = document.format.as_str(),
        document_sha256 = %hex::encode(sha256),
        signer_certificate_sha256 = %signer,
        size = document.bytes.len(),
        card_id = %signed.card_id,
        "document signed with the card's signature key"
    );
    Ok(SignedDocument { output, signed, level: Level::BaselineB, time_stamped_at: None })
}

#[cfg(test)]
mod tests;
