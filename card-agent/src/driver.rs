//! Card drivers: one [`CardDriver`] per card layout, listed once in [`registry::DRIVERS`]. Detection and
//! everything that depends on the kind of card (PIN rules, labels, which operations exist) go through
//! the trait, so a new card type is one driver file and one registry row (docs/architecture.md, "Card
//! agent").
//!
//! Which driver applies is decided by probing application AIDs (SELECT), never by the ATR: ATRs of the
//! same card family change between card generations (OpenSC issue #3021).
//!
//! Every operation takes a [`Session`], i.e. runs inside one PC/SC transaction the caller opened. Each
//! sequence starts with the application SELECT, because another program may have selected something
//! else between transactions and security status is per application.

pub mod attributes;
pub mod error;
mod files;
pub mod holder;
pub mod hpki;
pub mod jpki;
mod pin;
pub mod registry;

use std::fmt;

use hcpki_html::Lang;
use zeroize::Zeroizing;

use crate::service::{CardCertificate, CardKind, KeyRole, Pin};
use crate::transport::Session;

pub use attributes::{BasicAttributes, TextPin};
pub use error::{DriverError, PinFormatError};
pub use pin::{PadEntry, PinSource, PinStatus};

/// Hex SHA-256 of the identity certificate: the card identity used as cache key (no personal data in it), the
/// one the portal derives from a verified login too (shared, so the two never drift).
pub use hcpki_agent_protocol::card_id;

/// What both card families sign: shared with the virtual cards' test signer.
pub use hcpki_agent_protocol::sha256_digest_info;

/// What a card is handed to sign, typed by its key's algorithm (D153, D177).
pub use hcpki_agent_protocol::CardInput;

/// Given the signature key's chain, what the card signs ([`CardDriver::sign_derived`]).
pub type DeriveCardInput<'a> = dyn FnMut(&[Vec<u8>]) -> Result<CardInput, DriverError> + 'a;

/// A recognised card's driver, as the broker keeps it: drivers are statics listed in the registry.
pub type Driver = &'static dyn CardDriver;

/// What one card layout is and how to talk to it. Implemented by `jpki::Jpki` and by each HPKI issuer's
/// `hpki::Issuer`; the broker, the API, the PIN prompts and the CLI know cards only through it.
pub trait CardDriver: Send + Sync + fmt::Debug {
    /// The kind of card served (several drivers may serve one kind: one per HPKI issuer's layout).
    fn kind(&self) -> CardKind;

    /// Short name, unique among the drivers of the registry: logs, and telling cached cards apart.
    fn name(&self) -> &'static str;

    /// What the user is told of this kind of card: its name and what each PIN is for.
    fn labels(&self) -> &'static CardLabels;

    /// The kind as the command line shows it (`HPKI`, `JPKI`).
    fn display_name(&self) -> &'static str {
        self.labels().display_name
    }

    /// The card holder's name as the PIN page shows it, from the certificates already read (no APDU); None
    /// when they name no one (the My Number card's authentication certificate: by design of JPKI).
    fn holder_name(&self, _certificates: &[CardCertificate]) -> Option<String> {
        None
    }

    /// What the user is told a PIN of `role` is for, on the terminal and on the agent's PIN page.
    fn pin_labels(&self, role: KeyRole) -> PinLabels {
        match role {
            KeyRole::Auth => self.labels().auth_pin,
            KeyRole::Sign => self.labels().sign_pin,
        }
    }

    /// Whether the card in the session is one this driver serves, by SELECTing its applications (and,
    /// where AIDs are shared between layouts, looking for a file where this layout keeps it). A foreign
    /// card's error statuses answer false, never an error.
    fn recognise(&self, s: &mut Session<'_>) -> Result<bool, DriverError>;

    /// Where the identity certificate may be, as (application AID, certificate EF), in the order
    /// [`identity_certificate`](Self::identity_certificate) prefers them.
    fn identity_files(&self) -> Vec<(&'static [u8], [u8; 2])>;

    /// The certificate whose hash is the card's identity: the authentication end-entity certificate, or
    /// for a card without an authentication key, the signature one.
    fn identity_certificate<'c>(&self, certs: &'c [CardCertificate]) -> Option<&'c [u8]> {
        let ee = |role| certs.iter().find(|c| c.role == role).and_then(|c| c.chain.first());
        ee(KeyRole::Auth).or_else(|| ee(KeyRole::Sign)).map(Vec::as_slice)
    }

    /// Cheaply checks that the card is the one whose identity certificate is `identity_cert`: selects the
    /// certificate EF where this driver keeps it and compares the certificate's last bytes (the issuer's
    /// signature, unique per certificate). Three APDUs instead of the ~8 a full read takes.
    fn confirm_identity(&self, s: &mut Session<'_>, identity_cert: &[u8]) -> Result<bool, DriverError> {
        files::ends_with_tail_of(s, &self.identity_files(), identity_cert)
    }

    /// Every certificate chain readable without a PIN.
    fn read_certificates(&self, s: &mut Session<'_>) -> Result<Vec<CardCertificate>, DriverError>;

    /// The PIN's retry counter for `role`, without spending a try.
    fn pin_status(&self, s: &mut Session<'_>, role: KeyRole) -> Result<PinStatus, DriverError>;

    /// The PIN bytes to send, or why the card would refuse them (checked before any try is spent).
    fn check_pin(&self, role: KeyRole, pin: &Pin) -> Result<Zeroizing<Vec<u8>>, PinFormatError>;

    /// Verifies the PIN and signs `input` (a DER DigestInfo for an RSA key, a bare SHA-384 for a P-384 key) with
    /// the `role` key, in this transaction. With `want_chain`, a key whose chain needs the PIN to read returns it
    /// in [`SignOutput::chain`].
    fn sign(
        &self,
        s: &mut Session<'_>,
        role: KeyRole,
        pin: &PinSource<'_>,
        input: &CardInput,
        want_chain: bool,
    ) -> Result<SignOutput, DriverError>;

    /// Verifies the **signature** key's PIN and signs what `derive` makes of that key's chain, in this
    /// transaction (document signatures: what is signed names the signer certificate). `known` is the chain as
    /// read without a PIN; a card whose signature chain needs the PIN (JPKI) reads it after VERIFY instead, and
    /// returns it in [`SignOutput::chain`]. There is no role parameter: this never reaches the authentication key.
    /// A card whose user-authentication certificate identifies its holder at later logins (JPKI) also reads that
    /// certificate in the same transaction ([`SignOutput::authentication_certificate`]).
    fn sign_derived(
        &self,
        s: &mut Session<'_>,
        pin: &PinSource<'_>,
        known: Option<&[Vec<u8>]>,
        derive: &mut DeriveCardInput<'_>,
    ) -> Result<SignOutput, DriverError> {
        let chain = known.ok_or(DriverError::NoKey(KeyRole::Sign))?;
        let input = derive(chain)?;
        self.sign(s, KeyRole::Sign, pin, &input, false)
    }

    /// Whether the card holds the holder's basic four items ([`read_basic_attributes`](Self::read_basic_attributes)).
    fn has_basic_attributes(&self) -> bool {
        false
    }

    /// The retry counter of the PIN guarding the basic four items, spending no try.
    fn text_pin_status(&self, _s: &mut Session<'_>) -> Result<PinStatus, DriverError> {
        Err(DriverError::Unsupported(NO_BASIC_ATTRIBUTES))
    }

    /// The basic four items, after their PIN (spends a try if it is wrong).
    fn read_basic_attributes(&self, _s: &mut Session<'_>, _pin: &TextPin) -> Result<BasicAttributes, DriverError> {
        Err(DriverError::Unsupported(NO_BASIC_ATTRIBUTES))
    }
}

/// Two drivers are the same when they serve the same kind under the same name (the registry keeps names
/// unique), whatever their addresses.
impl PartialEq for dyn CardDriver {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind() && self.name() == other.name()
    }
}

impl Eq for dyn CardDriver {}

/// What the user is told of a kind of card, one table per driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardLabels {
    /// The kind as the command line shows it (`HPKI`, `JPKI`).
    pub display_name: &'static str,
    /// The kind in words, as the PIN page names the card (`HPKI カード`, `マイナンバーカード`).
    pub name: Words,
    /// Whom to turn to when the PIN is blocked, as the PIN page says it.
    pub unblock: Words,
    /// The authentication key's PIN.
    pub auth_pin: PinLabels,
    /// The signature key's PIN.
    pub sign_pin: PinLabels,
}

/// What the user is told a PIN is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinLabels {
    /// The terminal prompt's first line (English).
    pub terminal: &'static str,
    /// The agent's PIN page: the field's label.
    pub page: Words,
    /// The characters the PIN is made of: the page's `pattern` and numeric keyboard, and its check before a
    /// PIN is handed to the card.
    pub charset: PinCharset,
    /// The shortest PIN the card takes (the field's `minlength`).
    pub min_len: u8,
    /// The longest PIN the card takes (the field's `maxlength`).
    pub max_len: u8,
}

/// What a PIN may be made of, as the page says and checks it (the driver's `check_pin` remains the rule the
/// card is held to; this is what lets the page refuse a mistyped PIN and ask again, spending nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinCharset {
    /// 0–9 (the My Number card's 4-digit PINs): a numeric keyboard.
    Digits,
    /// A–Z, a–z, 0–9 (the My Number card's signing password; lower case is upper-cased for the card).
    LettersDigits,
    /// Printable ASCII (HPKI PINs).
    PrintableAscii,
}

impl PinLabels {
    /// The field's HTML `pattern` (the whole value must match).
    pub fn pattern(&self) -> String {
        let class = match self.charset {
            PinCharset::Digits => "[0-9]",
            PinCharset::LettersDigits => "[A-Za-z0-9]",
            PinCharset::PrintableAscii => "[ -~]",
        };
        format!("{class}{{{},{}}}", self.min_len, self.max_len)
    }

    /// Whether `pin` has this PIN's format (length and characters).
    pub fn admits(&self, pin: &str) -> bool {
        let allowed = |b: &u8| match self.charset {
            PinCharset::Digits => b.is_ascii_digit(),
            PinCharset::LettersDigits => b.is_ascii_alphanumeric(),
            PinCharset::PrintableAscii => (0x20..=0x7E).contains(b),
        };
        (usize::from(self.min_len)..=usize::from(self.max_len)).contains(&pin.len()) && pin.bytes().all(|b| allowed(&b))
    }
}

/// A text the user reads, in both languages of the agent's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub ja: &'static str,
    pub en: &'static str,
}

impl Words {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Ja => self.ja,
            Lang::En => self.en,
        }
    }
}

/// What a signing operation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOutput {
    pub signature: Vec<u8>,
    /// The chain of the signing key when it was requested and is only readable after the PIN
    /// (JPKI 署名用 certificate); None otherwise.
    pub chain: Option<Vec<Vec<u8>>>,
    /// A My Number card's 利用者証明用 (user-authentication) certificate, DER, read in the same transaction as a
    /// document signature ([`CardDriver::sign_derived`]): it ties the signing certificate to the certificate a
    /// later login with the 4-digit PIN presents (issue #28). None for logins and for HPKI cards.
    pub authentication_certificate: Option<Vec<u8>>,
}

/// Why a card without the basic four items refuses to read them.
const NO_BASIC_ATTRIBUTES: &str = "the basic four items are only on a My Number card";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_id_is_hex_sha256() {
        assert_eq!(card_id(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
