//! My Number cards: the 公的個人認証 (JPKI) AP and the 券面事項入力補助 (text input assist) AP
//! (reference §1). All commands are short APDUs; the card pads the DigestInfo itself.
//!
//! ```text
//! SELECT AP        00 A4 04 0C 0A D392F000260100000001
//! SELECT EF        00 A4 02 0C 02 <FID>              (P1 = 02 only)
//! READ BINARY      00 B0 <offset> <Le>
//! VERIFY           00 20 00 80 Lc <PIN>              (P2 80: the PIN EF just selected)
//! retry counter    00 20 00 80                       → 63Cx, no try spent
//! SIGN             80 2A 00 80 Lc <DigestInfo> 00    → 256 bytes (RSA-2048)
//!                  80 2A 00 80 30 <SHA-384> 00       → r ‖ s, 96 bytes (ECDSA P-384, D153)
//! ```
//!
//! The next card generation's ECDSA P-384 keys are assumed in today's layout (theirs is not published): the
//! driver hands the card what the broker made for the key's algorithm (`hcpki_agent_protocol::card_input`) and
//! checks only that the answer is one of the two lengths; the broker reads it for that algorithm.

use zeroize::Zeroizing;

use super::files::{read_certificate_ef, read_der_ef, select, try_select};
use super::pin::{PinSource, digits, query_pin, verify};
use super::{
    BasicAttributes, CardDriver, CardInput, CardLabels, DeriveCardInput, DriverError, PinCharset, PinFormatError,
    PinLabels, PinStatus, SignOutput, TextPin, Words,
};
use crate::apdu::{self, CardError, Command};
use crate::service::{CardCertificate, CardKind, KeyRole, Pin};
use crate::tlv;
use crate::transport::Session;

/// The My Number card driver (one layout: the card is issued by one body, J-LIS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jpki;

/// The driver as the registry lists it.
pub static JPKI: Jpki = Jpki;

impl CardDriver for Jpki {
    fn kind(&self) -> CardKind {
        CardKind::Jpki
    }

    fn name(&self) -> &'static str {
        "jpki"
    }

    fn labels(&self) -> &'static CardLabels {
        &LABELS
    }

    /// One APDU on a My Number card: SELECT of the JPKI AP.
    fn recognise(&self, s: &mut Session<'_>) -> Result<bool, DriverError> {
        try_select(s, &apdu::select_aid(AID_JPKI_AP))
    }

    fn identity_files(&self) -> Vec<(&'static [u8], [u8; 2])> {
        vec![(AID_JPKI_AP, EF_AUTH_CERT)]
    }

    /// The authentication chain, end entity first. The signing certificate is not in the list: it needs
    /// the signing password, and a chain without its end entity would break "end entity first". It comes
    /// back from [`sign`](Self::sign) with `want_chain` instead.
    fn read_certificates(&self, s: &mut Session<'_>) -> Result<Vec<CardCertificate>, DriverError> {
        select(s, &apdu::select_aid(AID_JPKI_AP), "SELECT JPKI AP")?;
        let chain = vec![read_certificate_ef(s, EF_AUTH_CERT)?, read_certificate_ef(s, EF_AUTH_CA)?];
        Ok(vec![CardCertificate { role: KeyRole::Auth, chain }])
    }

    /// The retry counter of the role's PIN, without spending a try.
    fn pin_status(&self, s: &mut Session<'_>, role: KeyRole) -> Result<PinStatus, DriverError> {
        select(s, &apdu::select_aid(AID_JPKI_AP), "SELECT JPKI AP")?;
        select(s, &apdu::select_ef(pin_ef(role)), "SELECT PIN EF")?;
        query_pin(s, VERIFY_CURRENT_EF)
    }

    /// Auth PIN: exactly 4 digits. Signing password: 6–16 of A–Z and 0–9, upper-cased first as myna does
    /// (the card compares upper case; users type lower case).
    fn check_pin(&self, role: KeyRole, pin: &Pin) -> Result<Zeroizing<Vec<u8>>, PinFormatError> {
        match role {
            KeyRole::Auth => digits(&pin.0, 4),
            KeyRole::Sign => {
                let upper = Zeroizing::new(pin.0.as_bytes().to_ascii_uppercase());
                let allowed = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
                if (6..=16).contains(&upper.len()) && upper.iter().all(allowed) {
                    Ok(upper)
                } else {
                    Err(PinFormatError::JpkiSignPassword)
                }
            }
        }
    }

    /// Verifies the PIN and has the card sign `input` (it pads a DigestInfo; a P-384 key takes the hash as is). For the signing key with
    /// `want_chain`, the signing certificate and its CA are read after the password and before signing,
    /// in the same security context.
    fn sign(
        &self,
        s: &mut Session<'_>,
        role: KeyRole,
        pin: &PinSource<'_>,
        input: &CardInput,
        want_chain: bool,
    ) -> Result<SignOutput, DriverError> {
        check_digest_info(input.bytes())?;
        select(s, &apdu::select_aid(AID_JPKI_AP), "SELECT JPKI AP")?;
        select(s, &apdu::select_ef(pin_ef(role)), "SELECT PIN EF")?;
        verify(s, VERIFY_CURRENT_EF, pin)?;
        let chain = match role {
            KeyRole::Sign if want_chain => {
                Some(vec![read_certificate_ef(s, EF_SIGN_CERT)?, read_certificate_ef(s, EF_SIGN_CA)?])
            }
            _ => None,
        };
        let key = match role {
            KeyRole::Auth => EF_AUTH_KEY,
            KeyRole::Sign => EF_SIGN_KEY,
        };
        Ok(SignOutput { signature: sign_with_key(s, key, input.bytes())?, chain, authentication_certificate: None })
    }

    /// The signing password, then the signature certificate and its CA (readable only now) and the
    /// user-authentication certificate (EF 000A, readable without a PIN), then the signature over what `derive`
    /// makes of them: one transaction, one security context, so both certificates come from the card that signs.
    /// The authentication certificate is read before the signature: a card pulled during that read has signed
    /// nothing. Only the JPKI AP is selected here; never the 券面事項入力補助 AP (the individual number).
    fn sign_derived(
        &self,
        s: &mut Session<'_>,
        pin: &PinSource<'_>,
        _known: Option<&[Vec<u8>]>,
        derive: &mut DeriveCardInput<'_>,
    ) -> Result<SignOutput, DriverError> {
        select(s, &apdu::select_aid(AID_JPKI_AP), "SELECT JPKI AP")?;
        select(s, &apdu::select_ef(pin_ef(KeyRole::Sign)), "SELECT PIN EF")?;
        verify(s, VERIFY_CURRENT_EF, pin)?;
        let chain = vec![read_certificate_ef(s, EF_SIGN_CERT)?, read_certificate_ef(s, EF_SIGN_CA)?];
        let authentication_certificate = read_certificate_ef(s, EF_AUTH_CERT)?;
        let input = derive(&chain)?;
        Ok(SignOutput {
            signature: sign_with_key(s, EF_SIGN_KEY, input.bytes())?,
            chain: Some(chain),
            authentication_certificate: Some(authentication_certificate),
        })
    }

    fn has_basic_attributes(&self) -> bool {
        true
    }

    /// The 券面事項入力補助 PIN's retry counter, spending no try.
    fn text_pin_status(&self, s: &mut Session<'_>) -> Result<PinStatus, DriverError> {
        select(s, &apdu::select_aid(AID_TEXT_AP), "SELECT text AP")?;
        select(s, &apdu::select_ef(EF_TEXT_PIN), "SELECT text PIN EF")?;
        query_pin(s, VERIFY_CURRENT_EF)
    }

    /// Reads the basic four items from the text AP after its PIN: EF 0002 is BER
    /// `FF20 { DF21 header, DF22 name, DF23 address, DF24 birth date, DF25 sex }`, UTF-8.
    fn read_basic_attributes(&self, s: &mut Session<'_>, pin: &TextPin) -> Result<BasicAttributes, DriverError> {
        const STEP: &str = "read basic four items";
        select(s, &apdu::select_aid(AID_TEXT_AP), "SELECT text AP")?;
        select(s, &apdu::select_ef(EF_TEXT_PIN), "SELECT text PIN EF")?;
        verify(s, VERIFY_CURRENT_EF, &PinSource::Typed(pin.bytes()))?;
        select(s, &apdu::select_ef(EF_TEXT_ATTRIBUTES), "SELECT basic four items EF")?;
        let data = Zeroizing::new(read_der_ef(s, &apdu::read_binary(0, 4), STEP)?);
        let item = |number: u32, what: &str| -> Result<String, DriverError> {
            let value = tlv::find_primitive(&data, number)
                .map_err(|e| DriverError::Malformed { step: STEP, reason: e.to_string() })?
                .ok_or_else(|| DriverError::Malformed {
                    step: STEP,
                    reason: format!("no {what} (tag {number:02X})"),
                })?;
            String::from_utf8(value.to_vec())
                .map_err(|_| DriverError::Malformed { step: STEP, reason: format!("the {what} is not UTF-8") })
        };
        Ok(BasicAttributes {
            name: item(0x22, "name")?,
            address: item(0x23, "address")?,
            birth_date: item(0x24, "birth date")?,
            sex: item(0x25, "sex")?,
        })
    }
}

/// What the user is told of a My Number card: its PINs are a 4-digit PIN and a signing password.
static LABELS: CardLabels = CardLabels {
    display_name: "JPKI",
    name: Words { ja: "マイナンバーカード", en: "My Number card" },
    unblock: Words {
        ja: "暗証番号の初期化（再設定）は、お住まいの市区町村の窓口でできます。カードと本人確認書類をお持ちください。",
        en: "Your city or ward office can reset the PIN: take the card and proof of identity there.",
    },
    auth_pin: PinLabels {
        terminal: "My Number card: user-authentication PIN (4 digits)",
        page: Words {
            ja: "マイナンバーカードの利用者証明用暗証番号（数字 4 桁）",
            en: "My Number card authentication PIN (4 digits)",
        },
        charset: PinCharset::Digits,
        min_len: 4,
        max_len: 4,
    },
    sign_pin: PinLabels {
        terminal: "My Number card: signing password (6-16 letters/digits)",
        page: Words {
            ja: "マイナンバーカードの署名用パスワード（英数字 6〜16 文字）",
            en: "My Number card signing password (6 to 16 letters and digits)",
        },
        charset: PinCharset::LettersDigits,
        min_len: 6,
        max_len: 16,
    },
};

/// DF name of the JPKI AP.
pub const AID_JPKI_AP: &[u8] = &[0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
/// DF name of the 券面事項入力補助 (text input assist) AP.
pub const AID_TEXT_AP: &[u8] = &[0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];

/// 利用者証明用 (user-authentication) certificate; readable without a PIN.
pub const EF_AUTH_CERT: [u8; 2] = [0x00, 0x0A];
/// CA certificate of the authentication certificate.
pub const EF_AUTH_CA: [u8; 2] = [0x00, 0x0B];
/// 署名用 (signing) certificate; readable only after the signing password.
pub const EF_SIGN_CERT: [u8; 2] = [0x00, 0x01];
/// CA certificate of the signing certificate.
pub const EF_SIGN_CA: [u8; 2] = [0x00, 0x02];
/// Authentication private key.
pub const EF_AUTH_KEY: [u8; 2] = [0x00, 0x17];
/// Authentication PIN (4 digits, 3 tries).
pub const EF_AUTH_PIN: [u8; 2] = [0x00, 0x18];
/// Signing private key.
pub const EF_SIGN_KEY: [u8; 2] = [0x00, 0x1A];
/// Signing password (6–16 of A–Z0–9, 5 tries).
pub const EF_SIGN_PIN: [u8; 2] = [0x00, 0x1B];
/// Text AP: its PIN (4 digits).
pub const EF_TEXT_PIN: [u8; 2] = [0x00, 0x11];
/// Text AP: the basic four items.
pub const EF_TEXT_ATTRIBUTES: [u8; 2] = [0x00, 0x02];

/// VERIFY P2: the PIN EF that is current.
const VERIFY_CURRENT_EF: u8 = 0x80;
/// What a card's SIGN answers: an RSA-2048 signature, or an ECDSA P-384 `r ‖ s` (D153).
const SIGNATURE_LENS: [usize; 2] = [256, 96];

fn pin_ef(role: KeyRole) -> [u8; 2] {
    match role {
        KeyRole::Auth => EF_AUTH_PIN,
        KeyRole::Sign => EF_SIGN_PIN,
    }
}

/// A DigestInfo the card's SIGN takes in one short APDU.
fn check_digest_info(digest_info: &[u8]) -> Result<(), DriverError> {
    if digest_info.is_empty() || digest_info.len() > apdu::SHORT_MAX_LC {
        return Err(DriverError::DigestInfo { len: digest_info.len(), max: apdu::SHORT_MAX_LC });
    }
    Ok(())
}

/// SELECT the key EF and SIGN `digest_info` (the card pads), PIN already verified in this transaction.
fn sign_with_key(s: &mut Session<'_>, key: [u8; 2], digest_info: &[u8]) -> Result<Vec<u8>, DriverError> {
    check_digest_info(digest_info)?;
    select(s, &apdu::select_ef(key), "SELECT key EF")?;
    let cmd = Command::new(0x80, 0x2A, 0x00, 0x80).with_data(digest_info).with_le(apdu::SHORT_MAX_NE);
    let resp = s.send(&cmd)?;
    if !resp.sw.is_ok() {
        return Err(DriverError::Status { step: "SIGN", error: CardError::from(resp.sw) });
    }
    if !SIGNATURE_LENS.contains(&resp.data.len()) {
        return Err(DriverError::Malformed {
            step: "SIGN",
            reason: format!(
                "{} bytes, neither the 256-byte RSA-2048 signature nor the 96-byte ECDSA P-384 r ‖ s",
                resp.data.len()
            ),
        });
    }
    Ok(resp.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(s: &str) -> Pin {
        Pin(Zeroizing::new(s.to_owned()))
    }

    #[test]
    fn pin_rules() {
        assert_eq!(&*JPKI.check_pin(KeyRole::Auth, &pin("0420")).unwrap(), b"0420");
        for bad in ["042", "04201", "04a0", "０４２０", ""] {
            assert_eq!(JPKI.check_pin(KeyRole::Auth, &pin(bad)), Err(PinFormatError::Digits(4)), "{bad}");
        }
        assert_eq!(&*JPKI.check_pin(KeyRole::Sign, &pin("abc123")).unwrap(), b"ABC123");
        assert_eq!(&*JPKI.check_pin(KeyRole::Sign, &pin("A".repeat(16).as_str())).unwrap(), "A".repeat(16).as_bytes());
        for bad in ["abc12", "A".repeat(17).as_str(), "abc-123", "ÄBC123", "abc 123"] {
            assert_eq!(JPKI.check_pin(KeyRole::Sign, &pin(bad)), Err(PinFormatError::JpkiSignPassword), "{bad}");
        }
        assert!(TextPin::new(&pin("1234")).is_ok());
        assert_eq!(TextPin::new(&pin("12345")).map(|_| ()), Err(PinFormatError::Digits(4)));
        assert_eq!(format!("{:?}", TextPin::new(&pin("1234")).unwrap()), "TextPin(***)");
    }
}
