//! The contract between the card side of the agent (broker, drivers) and its front ends (CLI, local HTTP
//! API). Front ends see cards, certificates and signatures; never keys, never PIN bytes after entry.

use std::fmt;
use zeroize::Zeroizing;

/// Which kind of card answers in a reader, decided by probing application AIDs (not the ATR).
pub use hcpki_agent_protocol::CardKind;

/// Which key of a card: the login (authentication) key or the legal signature key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    /// JPKI 利用者証明用 / HPKI authentication AP: what a login uses.
    Auth,
    /// JPKI 署名用 / HPKI signature AP.
    Sign,
}

/// A PIN as typed by the user, wiped from memory when dropped. Not `Debug`-printable.
pub struct Pin(pub Zeroizing<String>);

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(***)")
    }
}

/// One reader and what is in it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReaderInfo {
    pub name: String,
    /// None: no card, or a card that is neither HPKI nor JPKI.
    pub card: Option<CardInfo>,
    /// True when a card is present but no known application answered.
    pub unknown_card: bool,
}

/// A recognised card: its kind, a stable identity for caching, and its public certificates.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CardInfo {
    pub kind: CardKind,
    /// Stable per card: hex SHA-256 of the authentication certificate (cache key; no personal data).
    pub card_id: String,
    /// Certificates readable without a PIN, per key role (DER), end entity first then CA certificates.
    pub certificates: Vec<CardCertificate>,
}

/// A certificate chain of one key of a card.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CardCertificate {
    pub role: KeyRole,
    /// DER, end entity first, then the CA certificates the card holds.
    #[serde(serialize_with = "ser_b64_vec")]
    pub chain: Vec<Vec<u8>>,
}

/// A login: the agent hashes `message` (SHA-256), wraps it in a DigestInfo and has the card's
/// **authentication** key sign it (RSA PKCS#1 v1.5). The portal's challenge is the message. There is no key
/// role to choose: a login never reaches the signature key (documents go through [`DocumentSignRequest`]).
#[derive(Debug)]
pub struct SignRequest {
    /// Reader to use; None: the only card of `kind` present (error if several).
    pub reader: Option<String>,
    pub kind: CardKind,
    pub message: Vec<u8>,
    /// Confirmed by the user that the last remaining PIN try may be spent.
    pub allow_last_try: bool,
}

/// A document signature with the card's **signature** key (HPKI 署名用, JPKI 署名用), the only key it reaches.
/// What the card signs is derived by the agent itself from the document it showed (`crate::document`), never
/// taken from the caller.
#[derive(Debug)]
pub struct DocumentSignRequest {
    /// Reader to use; None: the only card of `kind` present (error if several).
    pub reader: Option<String>,
    pub kind: CardKind,
    /// Confirmed by the user that the last remaining PIN try may be spent.
    pub allow_last_try: bool,
}

/// Called with the signature key's chain (end entity first) once the card is open and the PIN verified, it
/// returns the bytes the card signs (hashed with SHA-256 by the broker). For a My Number card the chain is only
/// readable after the signing password, hence a callback rather than bytes made in advance.
pub type DeriveToBeSigned<'a> = dyn FnMut(&[Vec<u8>]) -> Result<Vec<u8>, AgentError> + 'a;

/// The login message and its context live in `hcpki-agent-protocol`, shared with the server that
/// rebuilds the message to verify the signature.
pub use hcpki_agent_protocol::{LOGIN_CONTEXT, login_message};

/// A signature and the chain of the key that made it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Signed {
    pub reader: String,
    pub kind: CardKind,
    pub card_id: String,
    /// The signature over the message as X.509 carries it, with the algorithm the certificate's key names (D153):
    /// sha256WithRSAEncryption, or ECDSA P-384 / SHA-384 as a DER `ECDSA-Sig-Value`.
    #[serde(serialize_with = "ser_b64")]
    pub signature: Vec<u8>,
    #[serde(serialize_with = "ser_b64_vec")]
    pub chain: Vec<Vec<u8>>,
    /// APDUs this operation exchanged (benchmark and diagnostics).
    pub apdus: u32,
    /// Microseconds spent waiting for the reader and card (PC/SC round trips, the card's RSA); the
    /// rest of an operation's time is the agent's own.
    pub card_micros: u64,
    /// For a My Number card's document signature: its user-authentication certificate (DER), read in the same
    /// card transaction as the signature. Reported inside [`SignedFile`] (`result.document`), not here.
    #[serde(skip)]
    pub authentication_certificate: Option<Vec<u8>>,
    /// For a document signature: the signed file (`crate::document`). None for a login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<SignedFile>,
    /// For a batch (`POST /v1/documents/batch`): each document's signed file, in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<SignedFile>,
}

/// A signed document as the API returns it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SignedFile {
    /// `cades`.
    pub format: &'static str,
    /// `B-B` or `B-T`.
    pub level: &'static str,
    /// The signed file (for CAdES the detached `.p7s`, DER), base64.
    #[serde(serialize_with = "ser_b64")]
    pub content: Vec<u8>,
    /// genTime of the signature time stamp (B-T), Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_stamped_at: Option<i64>,
    /// A My Number card (`kind: jpki`): its 利用者証明用 (user-authentication) certificate, DER in base64, read
    /// from the card that signed in the same card transaction, so the portal can link it to the signer (issue
    /// #28). Absent for HPKI cards.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_b64_opt")]
    pub authentication_certificate: Option<Vec<u8>>,
    /// How this signature was authorised: the PIN typed for it, a signing session's n-th of N, or one of a batch
    /// (D163). For the relying service's record and audit.
    pub signing: crate::signing_session::SignatureMode,
}

/// Something happened in a reader. Front ends forward these (e.g. the portal ends the session on removal).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CardEvent {
    Inserted { reader: String, kind: Option<CardKind>, card_id: Option<String> },
    Removed { reader: String, card_id: Option<String> },
    ReaderAdded { reader: String },
    ReaderRemoved { reader: String },
}

/// What a PIN prompt tells the user before they type: which card and key, whose card, and how many tries
/// are left (so the prompt can warn before the last one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinQuestion {
    pub kind: CardKind,
    pub role: KeyRole,
    pub tries_left: Option<u8>,
    /// The card holder's name from the card's certificate, where it carries one (HPKI: yes; the My Number
    /// card's authentication certificate: no, by design of JPKI).
    pub holder: Option<String>,
    /// The PIN is typed on the reader's own PIN pad, not on the agent's page ([`crate::pin_pad`]): the page says
    /// so and asks for nothing.
    pub on_pad: bool,
    /// The card's id (SHA-256 of its identity certificate): a signing session gives its PIN to its own card only.
    pub card_id: Option<String>,
}

impl PinQuestion {
    /// A question with no holder name (the terminal prompts, tests).
    pub fn new(kind: CardKind, role: KeyRole, tries_left: Option<u8>) -> Self {
        PinQuestion { kind, role, tries_left, holder: None, on_pad: false, card_id: None }
    }
}

/// How a PIN pad entry is announced: the language of the reader's prompt and how long it waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PadPrompt {
    pub lang: hcpki_html::Lang,
    pub timeout_secs: u8,
}

/// Asks the user for a PIN. The CLI prompts on the terminal; `serve` uses the agent's own loopback page.
pub trait PinPrompt: Send + Sync {
    fn ask(&self, question: &PinQuestion) -> Result<Pin, AgentError>;

    /// The PIN is about to be typed on the reader's PIN pad (`question.on_pad`): tell the person (the page says
    /// where to type), without waiting for an answer. Cancelled operations end here.
    fn on_pad(&self, _question: &PinQuestion) -> Result<PadPrompt, AgentError> {
        Ok(PadPrompt { lang: hcpki_html::Lang::Ja, timeout_secs: 60 })
    }

    /// The PIN pad entry ended (typed, timed out or cancelled): the operation runs on.
    fn pad_done(&self) {}

    /// A signing session's signature (D163): show what is signed and wait for the person's own confirmation (a
    /// click on the agent's page), no PIN. Prompts that cannot show a confirmation refuse (cancelled).
    fn confirm(&self, _question: &PinQuestion) -> Result<(), AgentError> {
        Err(AgentError::Cancelled)
    }
}

/// The card side as front ends use it. Implemented by the broker; blocking calls (PC/SC is blocking) —
/// async front ends call them through `tokio::task::spawn_blocking`.
pub trait CardService: Send + Sync {
    fn readers(&self) -> Result<Vec<ReaderInfo>, AgentError>;
    /// A login signature with the authentication key.
    fn sign(&self, request: &SignRequest, pin: &dyn PinPrompt) -> Result<Signed, AgentError>;
    /// A document signature with the signature key over what `derive` makes of its chain. The default refuses:
    /// a service without cards (tests, fuzzing) signs no document.
    fn sign_document(
        &self,
        request: &DocumentSignRequest,
        _pin: &dyn PinPrompt,
        _derive: &mut DeriveToBeSigned<'_>,
    ) -> Result<Signed, AgentError> {
        Err(AgentError::NoCard(request.kind))
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<CardEvent>;
}

/// Errors front ends can show the user; each says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The PC's smart card service cannot be used: not running (Windows stops it when the last reader is unplugged,
    /// and the agent carries on when it is back), or failing. The message names the platform's service and what to do.
    #[error("{0}")]
    NoService(String),
    #[error("no {0:?} card is inserted: insert the card and try again")]
    NoCard(CardKind),
    /// Cards of the kind asked for are in several readers and the request named none: the agent will not guess
    /// whose card signs. Leave only the card to use (or name its reader).
    #[error("a {kind} card is in each of the readers {}: remove all but the card to use (or name its reader)", .readers.join(", "))]
    SeveralCards { kind: CardKind, readers: Vec<String> },
    /// No card of the kind asked for, but another card is in `reader`: `found` is its kind, None for a card the
    /// agent does not know. Swap the cards.
    #[error(
        "the card in reader {reader:?} is {}, not a {wanted} card: insert the {wanted} card and try again",
        .found.map_or_else(|| "a card the agent does not know".to_owned(), |k| format!("a {k} card"))
    )]
    WrongCard { wanted: CardKind, found: Option<CardKind>, reader: String },
    #[error("no reader named {0:?}")]
    NoSuchReader(String),
    #[error("wrong PIN: {tries_left} tries left")]
    WrongPin { tries_left: u8 },
    #[error("only one PIN try is left: confirm explicitly to use it, or unblock the card at its issuer")]
    LastTryNotConfirmed,
    #[error("the PIN is blocked: the card's issuer must unblock it")]
    PinBlocked,
    /// The PIN does not have the card's format; no try was spent.
    #[error("{0}")]
    BadPinFormat(String),
    #[error("this card has no {0:?} key: use the other key role or another card")]
    NoKey(KeyRole),
    #[error("PIN entry was cancelled")]
    Cancelled,
    /// `pin_pad = "require"` in agent.toml and the reader holding the card has no PIN pad.
    #[error(
        "the reader {0:?} has no PIN pad, and this agent takes PINs on a PIN pad only (pin_pad = \"require\" in \
         agent.toml): put the card in the reader with the PIN pad"
    )]
    NoPinPad(String),
    /// Nobody typed the PIN within the agent's `pin_timeout_secs`; no try was spent.
    #[error("no PIN was typed within {0} seconds (no PIN try was spent): start again")]
    PinTimedOut(u64),
    #[error("the card was removed during the operation: insert it and try again")]
    CardRemoved,
    #[error("the card answered unexpectedly: {0}")]
    Card(String),
    /// The card could not be reached for a reason that is not the card's answer: another program holds or keeps
    /// resetting it, or it does not respond; the message says which and what to do.
    #[error("{0}")]
    CardUnreachable(String),
    /// The document cannot be signed as given (format, size, content); nothing was signed.
    #[error("{0}")]
    Document(String),
    /// A time stamp was asked for and no configured TSA gave one; nothing was written.
    #[error("{0}")]
    NoTimeStamp(String),
    /// A signing session cannot give this signature (D163); the reason says what to do.
    #[error("{0}")]
    Session(crate::signing_session::Refusal),
    #[error("{0}")]
    Other(String),
}

fn ser_b64<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    use base64::Engine as _;
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn ser_b64_opt<S: serde::Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match bytes {
        Some(b) => ser_b64(b, s),
        None => s.serialize_none(),
    }
}

fn ser_b64_vec<S: serde::Serializer>(items: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    use base64::Engine as _;
    use serde::ser::SerializeSeq as _;
    let mut seq = s.serialize_seq(Some(items.len()))?;
    for item in items {
        seq.serialize_element(&base64::engine::general_purpose::STANDARD.encode(item))?;
    }
    seq.end()
}
