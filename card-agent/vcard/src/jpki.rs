//! A My Number card: the 公的個人認証 (JPKI) AP and the 券面事項入力補助 (text input assist) AP.
//!
//! JPKI AP (`D392F000260100000001`), EFs selected with `00 A4 02 0C 02 <FID>`:
//!
//! | FID  | content                                   | access                          |
//! |------|-------------------------------------------|---------------------------------|
//! | 0006 | token `JPKIAPICCTOKEN`, NUL-padded to 0x20 | free                            |
//! | 000A | user-authentication certificate           | free                            |
//! | 000B | its CA certificate                        | free                            |
//! | 0001 | signing certificate (holds the 4 items)   | signing password (else `6982`)  |
//! | 0002 | its CA certificate                        | free                            |
//! | 0017 | auth key: `80 2A 00 80 Lc DigestInfo 00`  | auth PIN                        |
//! | 0018 | auth PIN: 4 digits, 3 tries               | VERIFY `00 20 00 80`            |
//! | 001A | signing key                               | signing password                |
//! | 001B | signing password: 6–16 A–Z0–9, 5 tries    | VERIFY `00 20 00 80`            |
//!
//! Text AP (`D3921000310001010408`): PIN EF 0011 (4 digits, 3 tries), EF 0002 the basic four items
//! as BER `FF20 { DF21 header, DF22 name, DF23 address, DF24 birth date, DF25 sex }` (UTF-8),
//! readable after that PIN.
//!
//! The card pads: signing takes the DER DigestInfo and applies EMSA-PKCS1-v1_5 + RSA-2048 itself.

use crate::apdu::{Command, Response, StatusWord};
use crate::applet::Applet;
use crate::fs::{Application, Ef, EfBody, FileSystem, KeyRef, PinRef, Session, ber_length};
use crate::key::{CardKey, KeyError};
use crate::pin::{Pin, PinPolicy};
use hcpki_agent_protocol::CardKind;

/// DF name of the JPKI AP.
pub const JPKI_AID: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
/// DF name of the 券面事項入力補助 AP.
pub const TEXT_AID: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
/// The ATR OpenSC's `jpki` driver matches (older physical cards).
pub const JPKI_ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];
/// Content of EF 0006 on a physical card (the smartphone form says `JPKIAPGPSETOKEN`).
pub const TOKEN: &[u8] = b"JPKIAPICCTOKEN";

/// File IDs, named.
pub mod fid {
    /// Signing certificate.
    pub const SIGN_CERT: u16 = 0x0001;
    /// CA certificate of the signing certificate.
    pub const SIGN_CA: u16 = 0x0002;
    /// Token EF.
    pub const TOKEN: u16 = 0x0006;
    /// User-authentication certificate.
    pub const AUTH_CERT: u16 = 0x000A;
    /// CA certificate of the authentication certificate.
    pub const AUTH_CA: u16 = 0x000B;
    /// Authentication private key.
    pub const AUTH_KEY: u16 = 0x0017;
    /// Authentication PIN.
    pub const AUTH_PIN: u16 = 0x0018;
    /// Signing private key.
    pub const SIGN_KEY: u16 = 0x001A;
    /// Signing password.
    pub const SIGN_PIN: u16 = 0x001B;
    /// Text AP: basic four items.
    pub const TEXT_ATTRIBUTES: u16 = 0x0002;
    /// Text AP: its PIN.
    pub const TEXT_PIN: u16 = 0x0011;
}

/// The basic four items (基本4情報) as the text AP and the signing certificate carry them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BasicAttributes {
    /// 氏名, family and given name separated by U+3000.
    pub name: String,
    /// 住所.
    pub address: String,
    /// 生年月日 as in the signing certificate: era digit + YYYYMMDD (e.g. `419900101`).
    pub birth_date: String,
    /// 性別 code (`1` male, `2` female, `3` other/unknown).
    pub sex: String,
}

/// Everything a JPKI card holds.
#[derive(Clone, Debug)]
pub struct JpkiContents {
    /// DER of the user-authentication certificate (EF 000A).
    pub auth_cert: Vec<u8>,
    /// DER of its CA (EF 000B).
    pub auth_ca: Vec<u8>,
    /// DER of the signing certificate (EF 0001).
    pub sign_cert: Vec<u8>,
    /// DER of its CA (EF 0002).
    pub sign_ca: Vec<u8>,
    /// Key of the authentication certificate (EF 0017).
    pub auth_key: CardKey,
    /// Key of the signing certificate (EF 001A).
    pub sign_key: CardKey,
    /// 利用者証明用 PIN.
    pub auth_pin: String,
    /// 署名用 password.
    pub sign_password: String,
    /// 券面事項入力補助 PIN.
    pub text_pin: String,
    /// The basic four items in the text AP.
    pub attributes: BasicAttributes,
}

/// PIN slots on the card, in [`FileSystem::pins`] order.
const AUTH_PIN: PinRef = PinRef(0);
const SIGN_PIN: PinRef = PinRef(1);
const TEXT_PIN: PinRef = PinRef(2);
const AUTH_KEY: KeyRef = KeyRef(0);
const SIGN_KEY: KeyRef = KeyRef(1);

/// Which PIN of a JPKI card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JpkiPin {
    /// 利用者証明用 PIN (EF 0018).
    Auth,
    /// 署名用 password (EF 001B).
    Sign,
    /// 券面事項入力補助 PIN (EF 0011).
    Text,
}

/// An emulated JPKI card.
#[derive(Clone, Debug)]
pub struct JpkiCard {
    fs: FileSystem,
    session: Session,
    signatures: u64,
}

impl JpkiCard {
    /// A card holding `contents`, with full PIN counters.
    pub fn new(contents: JpkiContents) -> Self {
        let binary = |fid, data: Vec<u8>, read_pin| Ef { fid, sfi: None, body: EfBody::Binary { data, read_pin } };
        let mut token = TOKEN.to_vec();
        token.resize(0x20, 0x00);
        let jpki = Application {
            aid: JPKI_AID.to_vec(),
            files: vec![
                binary(fid::TOKEN, token, None),
                binary(fid::AUTH_CERT, contents.auth_cert, None),
                binary(fid::AUTH_CA, contents.auth_ca, None),
                binary(fid::SIGN_CERT, contents.sign_cert, Some(SIGN_PIN)),
                binary(fid::SIGN_CA, contents.sign_ca, None),
                Ef { fid: fid::AUTH_KEY, sfi: None, body: EfBody::Key { key: AUTH_KEY, pin: AUTH_PIN } },
                Ef { fid: fid::AUTH_PIN, sfi: None, body: EfBody::Pin(AUTH_PIN) },
                Ef { fid: fid::SIGN_KEY, sfi: None, body: EfBody::Key { key: SIGN_KEY, pin: SIGN_PIN } },
                Ef { fid: fid::SIGN_PIN, sfi: None, body: EfBody::Pin(SIGN_PIN) },
            ],
        };
        let text = Application {
            aid: TEXT_AID.to_vec(),
            files: vec![
                Ef { fid: fid::TEXT_PIN, sfi: None, body: EfBody::Pin(TEXT_PIN) },
                binary(fid::TEXT_ATTRIBUTES, encode_attributes(&contents.attributes), Some(TEXT_PIN)),
            ],
        };
        Self {
            fs: FileSystem {
                apps: vec![jpki, text],
                pins: vec![
                    Pin::new(contents.auth_pin.as_bytes(), PinPolicy::JPKI_AUTH),
                    Pin::new(contents.sign_password.as_bytes(), PinPolicy::JPKI_SIGN),
                    Pin::new(contents.text_pin.as_bytes(), PinPolicy::JPKI_TEXT),
                ],
                keys: vec![contents.auth_key, contents.sign_key],
            },
            session: Session::default(),
            signatures: 0,
        }
    }

    /// Tries left on one PIN (for tests and the banner; a host would ask with VERIFY and no data).
    pub fn tries_left(&self, pin: JpkiPin) -> u8 {
        let slot = match pin {
            JpkiPin::Auth => AUTH_PIN,
            JpkiPin::Sign => SIGN_PIN,
            JpkiPin::Text => TEXT_PIN,
        };
        self.fs.pins.get(slot.0).map_or(0, Pin::tries_left)
    }

    /// `00 20 00 80 [Lc PIN]`: P2=80 means "the PIN in the current EF".
    fn verify(&mut self, cmd: &Command<'_>) -> Response {
        if cmd.p1 != 0x00 || cmd.p2 != 0x80 {
            return StatusWord::WRONG_P1P2.into();
        }
        if cmd.le.is_some() {
            return StatusWord::WRONG_LENGTH.into();
        }
        let pin = match self.fs.current_ef(&self.session).map(|ef| &ef.body) {
            Some(EfBody::Pin(pin)) => *pin,
            _ => return StatusWord::NOT_ALLOWED.into(),
        };
        self.fs.verify(&mut self.session, pin, cmd.data)
    }

    /// `80 2A 00 80 Lc DigestInfo 00` with a key EF current.
    fn sign(&mut self, cmd: &Command<'_>) -> Response {
        if cmd.p1 != 0x00 || cmd.p2 != 0x80 {
            return StatusWord::WRONG_P1P2.into();
        }
        if cmd.data.is_empty() || cmd.le.is_none() {
            return StatusWord::WRONG_LENGTH.into();
        }
        let Some((key, pin)) = self.fs.current_key(&self.session) else {
            return StatusWord::NOT_ALLOWED.into();
        };
        if !self.session.is_verified(pin) {
            return StatusWord::SECURITY_NOT_SATISFIED.into();
        }
        let Some(key) = self.fs.keys.get(key.0) else {
            return StatusWord::NO_DIAGNOSIS.into();
        };
        match key.sign_card_input(cmd.data) {
            Ok(signature) => {
                self.signatures += 1;
                Response::ok(signature)
            }
            Err(KeyError::Size { .. }) => StatusWord::WRONG_LENGTH.into(),
            Err(_) => StatusWord::NO_DIAGNOSIS.into(),
        }
    }
}

impl Applet for JpkiCard {
    fn kind(&self) -> CardKind {
        CardKind::Jpki
    }

    fn atr(&self) -> &[u8] {
        &JPKI_ATR
    }

    fn reset(&mut self) {
        self.session = Session::default();
    }

    fn signatures(&self) -> u64 {
        self.signatures
    }

    fn process(&mut self, cmd: &Command<'_>) -> Response {
        match (cmd.cla, cmd.ins) {
            (0x00, 0xA4) => self.fs.select(&mut self.session, cmd),
            (0x00, 0xB0) => self.fs.read_binary(&mut self.session, cmd),
            (0x00, 0x20) => self.verify(cmd),
            (0x80, 0x2A) => self.sign(cmd),
            (0x00 | 0x80, _) => StatusWord::INS_NOT_SUPPORTED.into(),
            (0x10, _) => StatusWord::CHAINING_NOT_SUPPORTED.into(),
            _ => StatusWord::CLA_NOT_SUPPORTED.into(),
        }
    }
}

/// EF 0002 of the text AP. The tag numbers (0x21–0x25, private class, inside `FF20`) are what the
/// published readers parse; the header's content is not documented, so it carries a fixed marker.
fn encode_attributes(a: &BasicAttributes) -> Vec<u8> {
    let mut body = Vec::new();
    for (tag, value) in [
        (0x21, b"\x00\x01\x00".as_slice()),
        (0x22, a.name.as_bytes()),
        (0x23, a.address.as_bytes()),
        (0x24, a.birth_date.as_bytes()),
        (0x25, a.sex.as_bytes()),
    ] {
        body.extend_from_slice(&[0xDF, tag]);
        body.extend(ber_length(value.len()));
        body.extend_from_slice(value);
    }
    let mut out = vec![0xFF, 0x20];
    out.extend(ber_length(body.len()));
    out.extend(body);
    out
}

#[cfg(test)]
mod tests;
