//! Secure PIN entry on a reader's own PIN pad (PC/SC Part 10, "IFDs with Secure PIN Entry Capabilities", v2.02):
//! the patient types the PIN on the reader, never on the staff PC's keyboard, and the PIN never reaches the host.
//!
//! Two exchanges, both `SCardControl`:
//!
//! ```text
//! CM_IOCTL_GET_FEATURE_REQUEST = SCARD_CTL_CODE(3400), no input
//!   → a list of TLVs:  tag (1 byte, the feature)  length (1 byte, 4)  value (4 bytes, big-endian control code)
//! FEATURE_VERIFY_PIN_DIRECT (tag 0x06): the control code from the list, input PIN_VERIFY_STRUCTURE
//!   → the card's SW1 SW2 to the VERIFY the reader completed, or the reader's own 64 00 (timed out),
//!     64 01 (cancelled on the pad), 64 03 (too short or too long), 6B 80 (a field of the structure refused)
//! ```
//!
//! `PIN_VERIFY_STRUCTURE` (Part 10 §2.5.2; CCID §6.1.11.4), packed, multi-byte fields little-endian:
//!
//! ```text
//! off size field
//!  0   1   bTimerOut                 seconds for the first key (0: the reader's default)
//!  1   1   bTimerOut2                seconds after the first key (0: the reader's default)
//!  2   1   bmFormatString            b7 units (1 = bytes), b6..3 PIN position in the APDU data, b2 justification
//!                                    (0 left), b1..0 format (00 binary, 01 BCD, 10 ASCII)
//!  3   1   bmPINBlockString          b7..4 bits of an inserted PIN length, b3..0 PIN block size in bytes
//!  4   1   bmPINLengthFormat         b4 units, b3..0 position of the PIN length
//!  5   2   wPINMaxExtraDigit         0xXXYY: XX the shortest PIN, YY the longest (digits)
//!  7   1   bEntryValidationCondition 0x02: the OK key
//!  8   1   bNumberMessage            0x01: one message on the display
//!  9   2   wLangId                   0x0411 Japanese, 0x0409 English
//! 11   1   bMsgIndex                 0x00: "enter the PIN"
//! 12   3   bTeoPrologue              zeros (T=1 prologue, filled by the reader)
//! 15   4   ulDataLength              length of the APDU that follows
//! 19   n   abData                    the VERIFY APDU, its data left to the reader
//! ```
//!
//! Both card families take the PIN as ASCII characters of variable length (JPKI: 4 digits, or 6–16 letters and
//! digits; HPKI: 4–16), so the structure asks the reader for ASCII at the start of the data with no block and no
//! inserted length: the reader sends the digits typed and sets Lc (the layout OpenSC's `reader-pcsc.c` sends for
//! an ASCII PIN without padding). Pure: the agent's PC/SC transport sends the bytes built here.
//!
//! **Not tested against a real PIN-pad reader**: the virtual readers here (vsmartcard's vpcd in pcscd) have no
//! PIN pad and answer the feature request with no feature, which the PC/SC tests check; the byte layouts are
//! unit-tested against the specification's tables above, and the whole VERIFY through a pad (the broker, the
//! drivers, the agent's page) against an emulated reader that does what a CCID reader's firmware does with the
//! structure (`transport::func`, a test double standing in for hardware). `pin_pad` in agent.toml ([`PadUse`])
//! is off by default for that reason.

use hcpki_html::Lang;

/// Whether the agent uses a reader's PIN pad (`pin_pad` in agent.toml).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PadUse {
    /// Always the agent's page. The default while the pad path has met no real PIN-pad reader (only the emulated
    /// one of the tests): a facility with one turns it on.
    #[default]
    Off,
    /// A reader with a PIN pad takes the PIN on its pad; other readers on the agent's page.
    Prefer,
    /// The pad only: a reader without one is refused (`no_pin_pad`), so nobody types a PIN on the PC's keyboard.
    Require,
}

/// `CM_IOCTL_GET_FEATURE_REQUEST`: the function number given to `SCARD_CTL_CODE` (`pcsc::ctl_code`).
pub const GET_FEATURE_REQUEST: u32 = 3400;

/// The feature tag of direct PIN verification.
pub const FEATURE_VERIFY_PIN_DIRECT: u8 = 0x06;

/// A reader's control codes, from its answer to the feature request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// (tag, control code), in the reader's order.
    codes: Vec<(u8, u32)>,
}

/// Why a reader's answer to the feature request cannot be read: a faulty driver. The reader is then treated as
/// one without a PIN pad; say which driver it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureError {
    /// A TLV is cut short.
    #[error("the reader's feature list is cut short at byte {at}: its driver answered {len} bytes")]
    Truncated { at: usize, len: usize },
    /// A feature's value is not a 4-byte control code.
    #[error("the reader's feature 0x{tag:02X} has a value of {len} bytes, not a 4-byte control code")]
    BadLength { tag: u8, len: usize },
}

impl Features {
    /// Reads the TLV list of a `CM_IOCTL_GET_FEATURE_REQUEST` answer. An empty answer is a reader without features.
    pub fn parse(answer: &[u8]) -> Result<Self, FeatureError> {
        let mut codes = Vec::new();
        let mut at = 0;
        while at < answer.len() {
            let (Some(&tag), Some(&len)) = (answer.get(at), answer.get(at + 1)) else {
                return Err(FeatureError::Truncated { at, len: answer.len() });
            };
            let len = usize::from(len);
            let value = answer.get(at + 2..at + 2 + len).ok_or(FeatureError::Truncated { at, len: answer.len() })?;
            let code: [u8; 4] = value.try_into().map_err(|_| FeatureError::BadLength { tag, len })?;
            codes.push((tag, u32::from_be_bytes(code)));
            at += 2 + len;
        }
        Ok(Features { codes })
    }

    /// The control code of `feature`, if the reader has it.
    pub fn code(&self, feature: u8) -> Option<u32> {
        self.codes.iter().find(|(tag, _)| *tag == feature).map(|(_, code)| *code)
    }

    /// The control code for a VERIFY on the reader's PIN pad, if it has one.
    pub fn verify_pin_direct(&self) -> Option<u32> {
        self.code(FEATURE_VERIFY_PIN_DIRECT)
    }
}

/// What the card takes as its PIN, for the reader's checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinLength {
    pub min: u8,
    pub max: u8,
}

/// The `PIN_VERIFY_STRUCTURE` for `VERIFY` (`00 20 00 p2`) of an ASCII PIN of `length`, waiting `timeout_secs`
/// (at most 255; 0 is the reader's default) for the person, the reader's prompt in `lang`.
pub fn verify_structure(p2: u8, length: PinLength, timeout_secs: u8, lang: Lang) -> Vec<u8> {
    // VERIFY's header and an Lc of 0: the reader puts the typed digits after it and sets Lc.
    let apdu = [0x00, 0x20, 0x00, p2, 0x00];
    let lang_id: u16 = match lang {
        Lang::Ja => 0x0411,
        Lang::En => 0x0409,
    };
    let mut s = Vec::with_capacity(19 + apdu.len());
    s.push(timeout_secs); // bTimerOut
    s.push(timeout_secs); // bTimerOut2
    s.push(0x82); // bmFormatString: byte units, position 0, left justified, ASCII
    s.push(0x00); // bmPINBlockString: no inserted length, no fixed block
    s.push(0x00); // bmPINLengthFormat: no length in the APDU
    s.extend_from_slice(&u16::from_be_bytes([length.min, length.max]).to_le_bytes()); // wPINMaxExtraDigit
    s.push(0x02); // bEntryValidationCondition: the OK key
    s.push(0x01); // bNumberMessage
    s.extend_from_slice(&lang_id.to_le_bytes()); // wLangId
    s.push(0x00); // bMsgIndex
    s.extend_from_slice(&[0, 0, 0]); // bTeoPrologue
    s.extend_from_slice(&u32::try_from(apdu.len()).unwrap_or_default().to_le_bytes()); // ulDataLength
    s.extend_from_slice(&apdu);
    s
}

/// What a VERIFY on the PIN pad came to, from the two bytes the reader returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadOutcome {
    /// The card's own status word to the VERIFY the reader completed (9000, 63Cx, 6983, …).
    Card(u16),
    /// 64 00: nobody typed in time.
    TimedOut,
    /// 64 01: cancelled with the pad's cancel key.
    Cancelled,
    /// 64 03: the PIN typed was shorter or longer than the card takes; nothing was sent to the card.
    WrongLength,
    /// 6B 80: the reader refused a field of the structure (a reader this layout does not suit).
    Refused,
}

impl PadOutcome {
    /// The outcome of the reader's answer, or None for an answer that is not two bytes.
    pub fn of(answer: &[u8]) -> Option<Self> {
        let &[sw1, sw2] = answer else { return None };
        Some(match [sw1, sw2] {
            [0x64, 0x00] => PadOutcome::TimedOut,
            [0x64, 0x01] => PadOutcome::Cancelled,
            [0x64, 0x03] => PadOutcome::WrongLength,
            [0x6B, 0x80] => PadOutcome::Refused,
            _ => PadOutcome::Card(u16::from_be_bytes([sw1, sw2])),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader's answer as Part 10 §2.2 shows it: FEATURE_VERIFY_PIN_DIRECT (06) and FEATURE_MODIFY_PIN_DIRECT (07)
    /// with the control codes libccid gives them (SCARD_CTL_CODE(0x330000 + feature) on pcsc-lite: 0x42330006, 0x42330007).
    #[test]
    fn the_feature_list_is_read_as_tag_length_big_endian_code() {
        let answer = [0x06, 0x04, 0x42, 0x33, 0x00, 0x06, 0x07, 0x04, 0x42, 0x33, 0x00, 0x07];
        let features = Features::parse(&answer).unwrap();
        assert_eq!(features.verify_pin_direct(), Some(0x4233_0006));
        assert_eq!(features.code(0x07), Some(0x4233_0007));
        assert_eq!(features.code(0x0A), None);
        // No answer (vpcd, and every reader without secure PIN entry): no PIN pad.
        assert_eq!(Features::parse(&[]).unwrap().verify_pin_direct(), None);
        // Only other features: no PIN pad either.
        let no_pad = Features::parse(&[0x12, 0x04, 0x42, 0x00, 0x0D, 0xBA]).unwrap();
        assert_eq!(no_pad.verify_pin_direct(), None);
    }

    #[test]
    fn a_broken_feature_list_is_an_error_not_a_guess() {
        assert_eq!(Features::parse(&[0x06]), Err(FeatureError::Truncated { at: 0, len: 1 }));
        assert_eq!(Features::parse(&[0x06, 0x04, 0x42, 0x00]), Err(FeatureError::Truncated { at: 0, len: 4 }));
        assert_eq!(Features::parse(&[0x06, 0x02, 0x42, 0x00]), Err(FeatureError::BadLength { tag: 6, len: 2 }));
        let second_cut = [0x06, 0x04, 0x42, 0x00, 0x0D, 0xAE, 0x07, 0x04, 0x42];
        assert_eq!(Features::parse(&second_cut), Err(FeatureError::Truncated { at: 6, len: 9 }));
    }

    /// The JPKI user-authentication PIN (4 digits, VERIFY P2 80), 30 seconds, Japanese, byte for byte against the
    /// table in the module's documentation.
    #[test]
    fn the_verify_structure_has_the_specifications_layout() {
        let s = verify_structure(0x80, PinLength { min: 4, max: 4 }, 30, Lang::Ja);
        #[rustfmt::skip]
        let expected = [
            30, 30,                 // bTimerOut, bTimerOut2
            0x82, 0x00, 0x00,       // ASCII at the start of the data; no block, no length field
            0x04, 0x04,             // wPINMaxExtraDigit 0x0404, little-endian
            0x02, 0x01,             // the OK key; one message
            0x11, 0x04, 0x00,       // wLangId 0x0411 (Japanese), little-endian; message 0
            0x00, 0x00, 0x00,       // bTeoPrologue
            0x05, 0x00, 0x00, 0x00, // ulDataLength 5, little-endian
            0x00, 0x20, 0x00, 0x80, 0x00, // VERIFY, Lc set by the reader
        ];
        assert_eq!(s, expected);
        // The signing password: 6–16 characters, min in the high byte; English prompt.
        let s = verify_structure(0x80, PinLength { min: 6, max: 16 }, 0, Lang::En);
        assert_eq!(&s[5..7], &[16, 6], "wPINMaxExtraDigit 0x0610 little-endian");
        assert_eq!(&s[9..11], &[0x09, 0x04], "wLangId 0x0409");
        assert_eq!(s.len(), 19 + 5);
    }

    #[test]
    fn the_readers_own_status_words_are_told_from_the_cards() {
        assert_eq!(PadOutcome::of(&[0x90, 0x00]), Some(PadOutcome::Card(0x9000)));
        assert_eq!(PadOutcome::of(&[0x63, 0xC2]), Some(PadOutcome::Card(0x63C2)));
        assert_eq!(PadOutcome::of(&[0x64, 0x00]), Some(PadOutcome::TimedOut));
        assert_eq!(PadOutcome::of(&[0x64, 0x01]), Some(PadOutcome::Cancelled));
        assert_eq!(PadOutcome::of(&[0x64, 0x03]), Some(PadOutcome::WrongLength));
        assert_eq!(PadOutcome::of(&[0x6B, 0x80]), Some(PadOutcome::Refused));
        assert_eq!(PadOutcome::of(&[0x90]), None);
        assert_eq!(PadOutcome::of(&[]), None);
    }
}
