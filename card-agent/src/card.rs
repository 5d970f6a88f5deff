//! Card drivers. Which driver applies is decided by probing application AIDs (SELECT), never by the
//! ATR: ATRs of the same card family change between card generations (OpenSC issue #3021).
//!
//! Every function takes a [`Session`], i.e. runs inside one PC/SC transaction the caller opened. Each
//! sequence starts with the application SELECT, because another program may have selected something
//! else between transactions and security status is per application.

pub mod hpki;
pub mod jpki;

use zeroize::Zeroizing;

use crate::apdu::{self, ApduError, CardError, Command};
use crate::service::{CardCertificate, CardKind, KeyRole, Pin};
use crate::tlv;
use crate::transport::{ExchangeError, Session, TransportError};

/// The driver for a recognised card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Jpki,
    Hpki(&'static hpki::Issuer),
}

/// A PIN's retry counter as the card reports it without spending a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStatus {
    /// 63Cx: x tries left.
    TriesLeft(u8),
    /// The card answered 9000 (already verified in this application) or gave no counter.
    Unknown,
    /// 6983/6984 or 63C0: no try left.
    Blocked,
}

/// What a signing operation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOutput {
    pub signature: Vec<u8>,
    /// The chain of the signing key when it was requested and is only readable after the PIN
    /// (JPKI 署名用 certificate); None otherwise.
    pub chain: Option<Vec<Vec<u8>>>,
}

/// Why a driver operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The link to the card failed (removed, reset, PC/SC down); the variant says what to do.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A step got a status word it cannot continue after: the card is not in the state the driver
    /// expects (another program's doing, or a card generation the driver does not know). Re-insert it.
    #[error("{step}: {error}")]
    Status { step: &'static str, error: CardError },
    /// The card's data is not what the step expects (bad length header, short read, bad TLV): a faulty
    /// or unknown card. Re-insert it; if it persists, the card is not supported.
    #[error("{step}: malformed card data: {reason}")]
    Malformed { step: &'static str, reason: String },
    /// The PIN was wrong; `tries_left` remain.
    #[error("wrong PIN: {tries_left} tries left")]
    WrongPin { tries_left: u8 },
    /// The PIN is blocked; the issuer must unblock it.
    #[error("the PIN is blocked: the card's issuer must unblock it")]
    PinBlocked,
    /// The PIN does not have the card's format; no try was spent.
    #[error(transparent)]
    PinFormat(#[from] PinFormatError),
    /// This card has no key (application) for that role: use the other role or another card.
    #[error("this card has no {0:?} key")]
    NoKey(KeyRole),
    /// The DigestInfo to sign is empty or longer than the card takes: a caller bug (use SHA-256).
    #[error("a DigestInfo of {len} bytes cannot be signed by this card (at most {max} bytes)")]
    DigestInfo { len: usize, max: usize },
    /// The card kind does not offer this operation.
    #[error("not supported by this card: {0}")]
    Unsupported(&'static str),
    /// A command could not be encoded: a driver bug, never the card's fault.
    #[error("cannot encode a command: {0}")]
    Encode(#[from] ApduError),
}

impl From<ExchangeError> for DriverError {
    fn from(e: ExchangeError) -> Self {
        match e {
            ExchangeError::Transport(t) => DriverError::Transport(t),
            ExchangeError::Encode(a) => DriverError::Encode(a),
            ExchangeError::Malformed(m) => DriverError::Malformed { step: "response", reason: m.to_string() },
            ExchangeError::ResponseTooLong(n) => {
                DriverError::Malformed { step: "GET RESPONSE", reason: format!("more than {n} bytes") }
            }
            ExchangeError::NoProgress => DriverError::Malformed { step: "GET RESPONSE", reason: e.to_string() },
        }
    }
}

/// A PIN that would be refused by the card's format rules. Says the rule, never the PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinFormatError {
    /// A JPKI authentication or text-AP PIN: type exactly that many digits.
    #[error("the PIN must be exactly {0} digits (no PIN try was spent)")]
    Digits(usize),
    /// The JPKI signing password: 6–16 letters and digits (lower case is accepted and upper-cased).
    #[error("the signing password must be 6 to 16 letters A-Z or digits 0-9 (no PIN try was spent)")]
    JpkiSignPassword,
    /// An HPKI PIN: printable ASCII (no kana, no full-width characters) within the card's lengths.
    #[error("the PIN must be {min} to {max} printable ASCII characters (no PIN try was spent)")]
    Ascii { min: usize, max: usize },
}

/// Finds the driver by probing AIDs: the JPKI AP first (one APDU on a My Number card), then the HPKI
/// issuers' applications ([`hpki::probe`]). Ok(None): a card that is neither.
pub fn probe(s: &mut Session<'_>) -> Result<Option<Driver>, DriverError> {
    if try_select(s, &apdu::select_aid(jpki::AID_JPKI_AP))? {
        return Ok(Some(Driver::Jpki));
    }
    Ok(hpki::probe(s)?.map(Driver::Hpki))
}

impl Driver {
    pub fn kind(&self) -> CardKind {
        match self {
            Driver::Jpki => CardKind::Jpki,
            Driver::Hpki(_) => CardKind::Hpki,
        }
    }

    /// Every certificate chain readable without a PIN.
    pub fn read_certificates(&self, s: &mut Session<'_>) -> Result<Vec<CardCertificate>, DriverError> {
        match self {
            Driver::Jpki => jpki::read_certificates(s),
            Driver::Hpki(issuer) => hpki::read_certificates(s, issuer),
        }
    }

    /// The certificate whose hash is the card's identity: the authentication end-entity certificate,
    /// or for an HPKI card without an authentication AP, the signature one.
    pub fn identity_certificate<'c>(&self, certs: &'c [CardCertificate]) -> Option<&'c [u8]> {
        let ee = |role| certs.iter().find(|c| c.role == role).and_then(|c| c.chain.first());
        ee(KeyRole::Auth).or_else(|| ee(KeyRole::Sign)).map(Vec::as_slice)
    }

    /// Cheaply checks that the card is the one whose identity certificate is `identity_cert`: selects the
    /// certificate EF and compares the certificate's last bytes (the issuer's signature, unique per
    /// certificate). Three APDUs instead of the ~8 a full read takes.
    pub fn confirm_identity(&self, s: &mut Session<'_>, identity_cert: &[u8]) -> Result<bool, DriverError> {
        // The same preference as `identity_certificate`: the authentication application when the card
        // has it, else the signature one.
        let candidates: Vec<(&[u8], [u8; 2])> = match self {
            Driver::Jpki => vec![(jpki::AID_JPKI_AP, jpki::EF_AUTH_CERT)],
            Driver::Hpki(issuer) => {
                [&issuer.auth, &issuer.sign].into_iter().flatten().map(|app| (app.aid, app.cert_ef)).collect()
            }
        };
        let mut selected = None;
        for (aid, ef) in candidates {
            if try_select(s, &apdu::select_aid(aid))? {
                selected = Some(ef);
                break;
            }
        }
        let Some(ef) = selected else { return Ok(false) };
        if !try_select(s, &apdu::select_ef(ef))? {
            return Ok(false);
        }
        let tail_len = identity_cert.len().min(32);
        let offset = identity_cert.len() - tail_len;
        let Ok(offset16) = u16::try_from(offset) else { return Ok(false) };
        if offset16 > 0x7FFF || tail_len == 0 {
            return Ok(false);
        }
        let resp = s.send(&apdu::read_binary(offset16, tail_len))?;
        Ok(resp.sw.is_ok() && identity_cert.get(offset..) == Some(resp.data.as_slice()))
    }

    /// The PIN's retry counter for `role`, without spending a try.
    pub fn pin_status(&self, s: &mut Session<'_>, role: KeyRole) -> Result<PinStatus, DriverError> {
        match self {
            Driver::Jpki => jpki::pin_status(s, role),
            Driver::Hpki(issuer) => hpki::pin_status(s, issuer, role),
        }
    }

    /// The PIN bytes to send, or why the card would refuse them (checked before any try is spent).
    pub fn check_pin(&self, role: KeyRole, pin: &Pin) -> Result<Zeroizing<Vec<u8>>, PinFormatError> {
        match self {
            Driver::Jpki => jpki::check_pin(role, pin),
            Driver::Hpki(issuer) => hpki::check_pin(issuer, role, pin),
        }
    }

    /// Verifies the PIN and signs a DER DigestInfo with the `role` key, in this transaction.
    pub fn sign(
        &self,
        s: &mut Session<'_>,
        role: KeyRole,
        pin: &[u8],
        digest_info: &[u8],
        want_chain: bool,
    ) -> Result<SignOutput, DriverError> {
        match self {
            Driver::Jpki => jpki::sign(s, role, pin, digest_info, want_chain),
            Driver::Hpki(issuer) => hpki::sign(s, issuer, role, pin, digest_info),
        }
    }

    /// The basic four items from a My Number card's text AP (spends a text-AP PIN try if wrong).
    /// The retry counter of the My Number card's 券面事項入力補助 PIN, spending no try.
    pub fn text_pin_status(&self, s: &mut Session<'_>) -> Result<PinStatus, DriverError> {
        match self {
            Driver::Jpki => jpki::text_pin_status(s),
            Driver::Hpki(_) => Err(DriverError::Unsupported("the basic four items are only on a My Number card")),
        }
    }

    pub fn read_basic_attributes(
        &self,
        s: &mut Session<'_>,
        pin: &jpki::TextPin,
    ) -> Result<jpki::BasicAttributes, DriverError> {
        match self {
            Driver::Jpki => jpki::read_basic_attributes(s, pin),
            Driver::Hpki(_) => Err(DriverError::Unsupported("the basic four items are only on a My Number card")),
        }
    }
}

/// Hex SHA-256 of the identity certificate: the card identity used as cache key (no personal data in it), the
/// one the portal derives from a verified login too (shared, so the two never drift).
pub use hcpki_agent_protocol::card_id;

/// What both card families sign: shared with the virtual cards' test signer.
pub use hcpki_agent_protocol::sha256_digest_info;

/// EMSA-PKCS1-v1_5 encoding `00 01 FF…FF 00 ‖ T` to `k` bytes (RFC 8017 §9.2), for cards that leave the
/// padding to the host (HPKI, JAHIS C.6.1). None when T does not fit with the 8 bytes of FF minimum.
pub fn emsa_pkcs1_v15(digest_info: &[u8], k: usize) -> Option<Vec<u8>> {
    let ps_len = k.checked_sub(digest_info.len())?.checked_sub(3)?;
    if ps_len < 8 {
        return None;
    }
    let mut block = Vec::with_capacity(k);
    block.extend_from_slice(&[0x00, 0x01]);
    block.resize(2 + ps_len, 0xFF);
    block.push(0x00);
    block.extend_from_slice(digest_info);
    Some(block)
}

/// SELECT that tells "not there" (any error status) from a working link. Probing must not fail on a
/// foreign card's 6A82/6D00/6E00.
fn try_select(s: &mut Session<'_>, cmd: &Command) -> Result<bool, DriverError> {
    Ok(s.send(cmd)?.sw.is_ok())
}

/// SELECT that must succeed.
fn select(s: &mut Session<'_>, cmd: &Command, step: &'static str) -> Result<(), DriverError> {
    s.send(cmd)?.sw.check().map_err(|error| DriverError::Status { step, error })
}

/// Reads the whole EF holding one BER object (a certificate, the basic four items). `header` is the
/// READ BINARY of its first bytes — 4 for `30 82 LL LL`, one APDU as OpenSC does — and makes the EF
/// current; a length that takes more bytes gets them read next. The body follows in chunks of up to 256
/// bytes from where the header ended, the last one asking only for what is left.
fn read_der_ef(s: &mut Session<'_>, header: &Command, step: &'static str) -> Result<Vec<u8>, DriverError> {
    // Longest header tlv parses: a 4-byte tag and a 5-byte length.
    const MAX_HEADER: usize = 9;
    let mut out = s.send(header)?.into_data().map_err(|error| DriverError::Status { step, error })?;
    let total = loop {
        match tlv::encoded_len(&out) {
            Ok(total) => break total,
            Err(tlv::TlvError::Truncated { needed }) if out.len() < MAX_HEADER => {
                let more = read_chunk(s, out.len(), needed, None, step)?;
                out.extend_from_slice(&more);
            }
            Err(e) => return Err(DriverError::Malformed { step, reason: e.to_string() }),
        }
    };
    // The header read may have returned more than a tiny object's length.
    out.truncate(total);
    while out.len() < total {
        let want = (total - out.len()).min(apdu::SHORT_MAX_NE);
        let chunk = read_chunk(s, out.len(), want, Some(total), step)?;
        out.extend_from_slice(chunk.get(..want).unwrap_or(&chunk));
    }
    Ok(out)
}

/// READ BINARY of `want` bytes at `offset` of the current EF. A card may return fewer bytes than asked
/// (the caller continues from there), but none at all, or fewer with 6282 (end of file), means the
/// object's length header promised more than the file holds.
fn read_chunk(
    s: &mut Session<'_>,
    offset: usize,
    want: usize,
    total: Option<usize>,
    step: &'static str,
) -> Result<Vec<u8>, DriverError> {
    // READ BINARY with an offset in P1-P2 has 15 bits (bit 8 of P1 would mean an SFI).
    let offset16 = u16::try_from(offset).ok().filter(|o| *o <= 0x7FFF).ok_or_else(|| DriverError::Malformed {
        step,
        reason: "the object reaches beyond offset 32767, the most READ BINARY can address".to_owned(),
    })?;
    let resp = s.send(&apdu::read_binary(offset16, want))?;
    let end_of_file = resp.sw == apdu::StatusWord(0x6282);
    let chunk = resp.into_data().map_err(|error| DriverError::Status { step, error })?;
    if chunk.is_empty() || (end_of_file && chunk.len() < want) {
        let shown = total.map_or_else(|| "a longer header".to_owned(), |t| format!("{t} bytes"));
        return Err(DriverError::Malformed {
            step,
            reason: format!("the file ends at byte {} but its length header announces {shown}", offset + chunk.len()),
        });
    }
    Ok(chunk)
}

/// VERIFY with the PIN. Only 9000 is success: some cards answer a failed VERIFY with 6300, which the
/// generic status check would pass as a warning. 63Cx and 6983/6984 become the PIN errors the user sees.
fn verify(s: &mut Session<'_>, p2: u8, pin: &[u8]) -> Result<(), DriverError> {
    let sw = s.send(&apdu::verify(p2, pin))?.sw;
    if sw.is_ok() {
        return Ok(());
    }
    Err(match CardError::from(sw) {
        CardError::WrongPin { tries_left: 0 } | CardError::Blocked(_) => DriverError::PinBlocked,
        CardError::WrongPin { tries_left } => DriverError::WrongPin { tries_left },
        error => DriverError::Status { step: "VERIFY", error },
    })
}

/// VERIFY without data: the card reports the retry counter (63Cx) without spending a try.
fn query_pin(s: &mut Session<'_>, p2: u8) -> Result<PinStatus, DriverError> {
    let sw = s.send(&apdu::verify(p2, &[]))?.sw;
    Ok(match CardError::from(sw) {
        _ if sw.is_ok() => PinStatus::Unknown,
        CardError::WrongPin { tries_left: 0 } | CardError::Blocked(_) => PinStatus::Blocked,
        CardError::WrongPin { tries_left } => PinStatus::TriesLeft(tries_left),
        error => return Err(DriverError::Status { step: "PIN retry counter", error }),
    })
}

/// Checks "exactly n digits".
fn digits(pin: &str, n: usize) -> Result<Zeroizing<Vec<u8>>, PinFormatError> {
    if pin.len() == n && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Zeroizing::new(pin.as_bytes().to_vec()))
    } else {
        Err(PinFormatError::Digits(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_info_and_padding() {
        let di = sha256_digest_info(b"abc");
        assert_eq!(di.len(), 51);
        assert_eq!(hex::encode(&di[19..]), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let block = emsa_pkcs1_v15(&di, 256).unwrap();
        assert_eq!(block.len(), 256);
        assert_eq!(&block[..2], &[0, 1]);
        assert!(block[2..204].iter().all(|&b| b == 0xFF));
        assert_eq!(block[204], 0);
        assert_eq!(&block[205..], &di[..]);
        assert_eq!(emsa_pkcs1_v15(&di, 61), None);
        assert!(emsa_pkcs1_v15(&di, 62).is_some());
    }

    #[test]
    fn card_id_is_hex_sha256() {
        assert_eq!(card_id(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
