//! ISO/IEC 7816-4 command APDUs (C-APDU) and status words, parsed totally: every byte string is
//! either a [`Command`] or a [`StatusWord`] to send back, never a panic.
//!
//! ```text
//! case 1   CLA INS P1 P2
//! case 2S  CLA INS P1 P2 Le                          Le = 00 means 256
//! case 3S  CLA INS P1 P2 Lc(1..FF) data
//! case 4S  CLA INS P1 P2 Lc(1..FF) data Le
//! case 2E  CLA INS P1 P2 00 Le(2)                    Le = 0000 means 65536
//! case 3E  CLA INS P1 P2 00 Lc(2, not 0000) data
//! case 4E  CLA INS P1 P2 00 Lc(2) data Le(2)
//! ```

use std::fmt;

/// A parsed C-APDU borrowing its data field from the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command<'a> {
    /// Class byte as sent (chaining bit, proprietary class, channel bits and all).
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data field (`Lc` bytes; empty for cases 1 and 2).
    pub data: &'a [u8],
    /// Expected response length `Ne` (cases 2 and 4), with `00`/`0000` already mapped to 256/65536.
    pub le: Option<usize>,
    /// Whether Lc/Le used the extended (three/two byte) form.
    pub extended: bool,
}

impl<'a> Command<'a> {
    /// Parses one C-APDU. Fails with `6700` (wrong length) when the length fields do not match the
    /// byte count, which is what a card does with a truncated or padded APDU.
    pub fn parse(apdu: &'a [u8]) -> Result<Self, StatusWord> {
        let (&[cla, ins, p1, p2], body) = split_header(apdu).ok_or(StatusWord::WRONG_LENGTH)?;
        let mut cmd = Command { cla, ins, p1, p2, data: &[], le: None, extended: false };
        match body {
            [] => Ok(cmd),
            [le] => {
                cmd.le = Some(short_ne(*le));
                Ok(cmd)
            }
            [0, rest @ ..] if rest.len() >= 2 => {
                cmd.extended = true;
                parse_extended_body(cmd, rest)
            }
            [0, ..] => Err(StatusWord::WRONG_LENGTH),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                let data = rest.get(..lc).ok_or(StatusWord::WRONG_LENGTH)?;
                cmd.data = data;
                match rest.get(lc..) {
                    Some([]) => Ok(cmd),
                    Some([le]) => {
                        cmd.le = Some(short_ne(*le));
                        Ok(cmd)
                    }
                    _ => Err(StatusWord::WRONG_LENGTH),
                }
            }
        }
    }

    /// Whether bit 5 of CLA (command chaining, ISO 7816-4 §5.4.1) is set: more commands follow.
    pub fn chained(&self) -> bool {
        self.cla & 0x10 != 0
    }

    /// Whether the class is an interindustry one (`0x0X`/`0x1X`, first interindustry coding).
    pub fn interindustry(&self) -> bool {
        self.cla & 0xE0 == 0
    }

    /// The logical channel number encoded in an interindustry CLA.
    pub fn channel(&self) -> u8 {
        self.cla & 0x03
    }

    /// Whether an interindustry CLA asks for secure messaging.
    pub fn secure_messaging(&self) -> bool {
        self.cla & 0x0C != 0
    }
}

/// The header and the rest, or `None` for fewer than four bytes.
fn split_header(apdu: &[u8]) -> Option<(&[u8; 4], &[u8])> {
    let (head, body) = apdu.split_first_chunk::<4>()?;
    Some((head, body))
}

/// Case 2E/3E/4E after the leading `00`.
fn parse_extended_body<'a>(mut cmd: Command<'a>, rest: &'a [u8]) -> Result<Command<'a>, StatusWord> {
    let (&[hi, lo], after) = rest.split_first_chunk::<2>().ok_or(StatusWord::WRONG_LENGTH)?;
    let n = usize::from(u16::from_be_bytes([hi, lo]));
    if after.is_empty() {
        // Case 2E: the two bytes are Le.
        cmd.le = Some(if n == 0 { 65_536 } else { n });
        return Ok(cmd);
    }
    if n == 0 {
        // Lc = 0000 is not a valid extended Lc, and extra bytes after an Le are not allowed either.
        return Err(StatusWord::WRONG_LENGTH);
    }
    cmd.data = after.get(..n).ok_or(StatusWord::WRONG_LENGTH)?;
    match after.get(n..) {
        Some([]) => Ok(cmd),
        Some([le_hi, le_lo]) => {
            let le = usize::from(u16::from_be_bytes([*le_hi, *le_lo]));
            cmd.le = Some(if le == 0 { 65_536 } else { le });
            Ok(cmd)
        }
        _ => Err(StatusWord::WRONG_LENGTH),
    }
}

fn short_ne(le: u8) -> usize {
    if le == 0 { 256 } else { usize::from(le) }
}

/// A status word `SW1 SW2` (ISO 7816-4 §5.6).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    /// `9000`: normal processing.
    pub const OK: Self = Self(0x9000);
    /// `6282`: end of file reached before reading Ne bytes (the data returned is shorter).
    pub const END_OF_FILE: Self = Self(0x6282);
    /// `6700`: wrong length (Lc/Le inconsistent with the command or the byte count).
    pub const WRONG_LENGTH: Self = Self(0x6700);
    /// `6881`: logical channel not supported.
    pub const CHANNEL_NOT_SUPPORTED: Self = Self(0x6881);
    /// `6882`: secure messaging not supported.
    pub const SM_NOT_SUPPORTED: Self = Self(0x6882);
    /// `6883`: last command of the chain expected.
    pub const LAST_COMMAND_EXPECTED: Self = Self(0x6883);
    /// `6884`: command chaining not supported (for this instruction).
    pub const CHAINING_NOT_SUPPORTED: Self = Self(0x6884);
    /// `6981`: command incompatible with file structure (e.g. READ BINARY on a PIN or key EF).
    pub const INCOMPATIBLE_FILE: Self = Self(0x6981);
    /// `6982`: security status not satisfied (PIN not verified).
    pub const SECURITY_NOT_SATISFIED: Self = Self(0x6982);
    /// `6983`: authentication method blocked (no PIN tries left).
    pub const BLOCKED: Self = Self(0x6983);
    /// `6985`: conditions of use not satisfied (e.g. PSO without a key set by MSE).
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    /// `6986`: command not allowed (no current EF of the right kind).
    pub const NOT_ALLOWED: Self = Self(0x6986);
    /// `6A80`: incorrect parameters in the data field.
    pub const WRONG_DATA: Self = Self(0x6A80);
    /// `6A81`: function not supported.
    pub const FUNCTION_NOT_SUPPORTED: Self = Self(0x6A81);
    /// `6A82`: file or application not found.
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    /// `6A86`: incorrect P1-P2.
    pub const WRONG_P1P2: Self = Self(0x6A86);
    /// `6A88`: referenced data (PIN or key reference) not found.
    pub const REFERENCE_NOT_FOUND: Self = Self(0x6A88);
    /// `6B00`: wrong parameters P1-P2 (offset outside the EF).
    pub const OFFSET_OUTSIDE: Self = Self(0x6B00);
    /// `6D00`: instruction not supported.
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    /// `6E00`: class not supported.
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);
    /// `6F00`: no precise diagnosis (internal error of the card, e.g. it is powered off).
    pub const NO_DIAGNOSIS: Self = Self(0x6F00);

    /// `63Cx`: verification failed or queried, `x` tries left (capped at 15, the nibble's range).
    pub fn tries_left(tries: u8) -> Self {
        Self(0x63C0 | u16::from(tries.min(0x0F)))
    }

    /// The two bytes as sent on the wire.
    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }

    /// Whether this is `9000`.
    pub fn is_ok(self) -> bool {
        self == Self::OK
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SW {:04X}", self.0)
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

/// An R-APDU under construction: response data, then a status word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Response data field.
    pub data: Vec<u8>,
    /// Trailer.
    pub sw: StatusWord,
}

impl Response {
    /// Data with `9000`.
    pub fn ok(data: Vec<u8>) -> Self {
        Self { data, sw: StatusWord::OK }
    }

    /// No data, only a status word.
    pub fn status(sw: StatusWord) -> Self {
        Self { data: Vec::new(), sw }
    }

    /// `data ‖ SW1 SW2`, as sent to the reader.
    pub fn into_bytes(self) -> Vec<u8> {
        let mut out = self.data;
        out.extend_from_slice(&self.sw.to_bytes());
        out
    }
}

impl From<StatusWord> for Response {
    fn from(sw: StatusWord) -> Self {
        Self::status(sw)
    }
}

/// Splits an R-APDU into data and status word; `None` when it has fewer than two bytes.
pub fn split_response(rapdu: &[u8]) -> Option<(&[u8], StatusWord)> {
    let (data, sw) = rapdu.split_last_chunk::<2>()?;
    Some((data, StatusWord(u16::from_be_bytes(*sw))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_1() {
        let c = Command::parse(&[0x00, 0x20, 0x00, 0x80]).unwrap();
        assert_eq!((c.cla, c.ins, c.p1, c.p2), (0x00, 0x20, 0x00, 0x80));
        assert!(c.data.is_empty());
        assert_eq!(c.le, None);
    }

    #[test]
    fn case_2_short_le_zero_is_256() {
        let c = Command::parse(&[0x00, 0xB0, 0x01, 0x00, 0x00]).unwrap();
        assert_eq!(c.le, Some(256));
        let c = Command::parse(&[0x00, 0xB0, 0x00, 0x00, 0x04]).unwrap();
        assert_eq!(c.le, Some(4));
        assert!(!c.extended);
    }

    #[test]
    fn case_3_and_4_short() {
        let c = Command::parse(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]).unwrap();
        assert_eq!(c.data, &[0x00, 0x0A]);
        assert_eq!(c.le, None);
        let c = Command::parse(&[0x80, 0x2A, 0x00, 0x80, 0x02, 0xAA, 0xBB, 0x00]).unwrap();
        assert_eq!(c.data, &[0xAA, 0xBB]);
        assert_eq!(c.le, Some(256));
    }

    #[test]
    fn extended_cases() {
        let c = Command::parse(&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00]).unwrap();
        assert_eq!(c.le, Some(65_536));
        assert!(c.extended);
        let mut apdu = vec![0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x01, 0x00];
        apdu.extend(std::iter::repeat_n(0x5A, 256));
        let c3 = Command::parse(&apdu).unwrap();
        assert_eq!(c3.data.len(), 256);
        assert_eq!(c3.le, None);
        apdu.extend([0x00, 0x00]);
        let c4 = Command::parse(&apdu).unwrap();
        assert_eq!(c4.data.len(), 256);
        assert_eq!(c4.le, Some(65_536));
    }

    #[test]
    fn malformed_lengths_are_6700() {
        let bad: &[&[u8]] = &[
            &[],
            &[0x00],
            &[0x00, 0xA4, 0x04],
            &[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00],             // Lc 2, one byte
            &[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A, 1, 2], // two bytes too many
            &[0x00, 0xB0, 0x00, 0x00, 0x00, 0x01],             // 00 then one byte
            &[0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x00, 0x00, 0x01], // extended Lc 0000 with data
            &[0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x00, 0x03, 1, 2], // extended Lc 3, two bytes
            &[0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x00, 0x01, 1, 0], // extended Le needs two bytes
        ];
        for apdu in bad {
            assert_eq!(Command::parse(apdu), Err(StatusWord::WRONG_LENGTH), "{apdu:02X?}");
        }
    }

    #[test]
    fn class_bits() {
        let c = Command::parse(&[0x10, 0x2A, 0x9E, 0x9A, 0x01, 0x00]).unwrap();
        assert!(c.chained() && c.interindustry() && !c.secure_messaging());
        let c = Command::parse(&[0x0C, 0xA4, 0x04, 0x0C]).unwrap();
        assert!(c.secure_messaging());
        let c = Command::parse(&[0x01, 0xA4, 0x04, 0x0C]).unwrap();
        assert_eq!(c.channel(), 1);
        let c = Command::parse(&[0x80, 0x2A, 0x00, 0x80]).unwrap();
        assert!(!c.interindustry());
    }

    #[test]
    fn response_bytes_and_split() {
        let r = Response::ok(vec![1, 2]).into_bytes();
        assert_eq!(r, vec![1, 2, 0x90, 0x00]);
        let (data, sw) = split_response(&r).unwrap();
        assert_eq!(data, &[1, 2]);
        assert!(sw.is_ok());
        assert_eq!(StatusWord::tries_left(3).to_bytes(), [0x63, 0xC3]);
        assert_eq!(StatusWord::tries_left(200).to_bytes(), [0x63, 0xCF]);
        assert!(split_response(&[0x90]).is_none());
    }
}
