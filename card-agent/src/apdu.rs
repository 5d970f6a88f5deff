//! ISO/IEC 7816-4 APDUs as the agent sends and receives them: command encoding (short or extended, chosen
//! automatically), command chaining, a total response parser and status words as typed errors.
//!
//! ```text
//! case 1   CLA INS P1 P2
//! case 2S  CLA INS P1 P2 Le                      Le 00 = 256
//! case 3S  CLA INS P1 P2 Lc data                 Lc 01..FF
//! case 4S  CLA INS P1 P2 Lc data Le
//! case 2E  CLA INS P1 P2 00 Le(2)                Le 0000 = 65536
//! case 3E  CLA INS P1 P2 00 Lc(2) data
//! case 4E  CLA INS P1 P2 00 Lc(2) data Le(2)
//! ```

use std::fmt;
use zeroize::Zeroizing;

/// Largest data field a short APDU carries.
pub const SHORT_MAX_LC: usize = 255;
/// Largest response a short APDU asks for (Le = 00).
pub const SHORT_MAX_NE: usize = 256;
/// Largest data field an extended APDU carries.
pub const EXTENDED_MAX_LC: usize = 65_535;
/// Largest response an extended APDU asks for (Le = 0000).
pub const EXTENDED_MAX_NE: usize = 65_536;

/// Instruction bytes whose data field is a PIN: their data never appears in `Debug` output.
const PIN_CARRYING_INS: [u8; 3] = [0x20, 0x24, 0x2C];

/// One command APDU. The data field is wiped when dropped because VERIFY carries the PIN in it.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Zeroizing<Vec<u8>>,
    /// Expected response length Ne (1..=65536); None: no response data expected (cases 1 and 3).
    pub le: Option<usize>,
}

/// Why a command cannot be encoded. A programming or table error, never the card's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApduError {
    /// The data field is longer than even an extended APDU allows; split the operation.
    #[error("command data of {0} bytes exceeds the 65535-byte extended APDU limit")]
    DataTooLong(usize),
    /// Le is 0 or above 65536; ask for a length between 1 and 65536.
    #[error("expected response length {0} is outside 1..=65536")]
    BadLe(usize),
    /// A chained command needs a chunk size between 1 and 255.
    #[error("command chaining chunk size {0} is outside 1..=255")]
    BadChunk(usize),
}

impl Command {
    /// A command without data and without expected response data (case 1).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Command { cla, ins, p1, p2, data: Zeroizing::new(Vec::new()), le: None }
    }

    /// Sets the data field (cases 3 and 4).
    pub fn with_data(mut self, data: &[u8]) -> Self {
        self.data = Zeroizing::new(data.to_vec());
        self
    }

    /// Sets the expected response length Ne (cases 2 and 4); 256 is short `00`, 65536 extended `0000`.
    pub fn with_le(mut self, ne: usize) -> Self {
        self.le = Some(ne);
        self
    }

    /// Whether this command needs the extended length form (ISO 7816-4 §5.1): Lc > 255 or Ne > 256.
    pub fn is_extended(&self) -> bool {
        self.data.len() > SHORT_MAX_LC || self.le.is_some_and(|ne| ne > SHORT_MAX_NE)
    }

    /// Encodes the command, short when it fits, else extended (both Lc and Le then use the long form).
    pub fn encode(&self) -> Result<Zeroizing<Vec<u8>>, ApduError> {
        let lc = self.data.len();
        if lc > EXTENDED_MAX_LC {
            return Err(ApduError::DataTooLong(lc));
        }
        if let Some(ne) = self.le
            && !(1..=EXTENDED_MAX_NE).contains(&ne)
        {
            return Err(ApduError::BadLe(ne));
        }
        let mut out = Zeroizing::new(Vec::with_capacity(lc + 9));
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        let extended = self.is_extended();
        if lc > 0 {
            if extended {
                out.push(0x00);
                out.extend_from_slice(&length_bytes(lc));
            } else {
                out.push(low_byte(lc));
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(ne) = self.le {
            match (extended, lc > 0) {
                // Le = 00 / 0000 stands for the maximum (256 / 65536).
                (false, _) => out.push(low_byte(ne)),
                (true, true) => out.extend_from_slice(&length_bytes(ne)),
                (true, false) => {
                    out.push(0x00);
                    out.extend_from_slice(&length_bytes(ne));
                }
            }
        }
        Ok(out)
    }

    /// Splits the data into short commands of at most `chunk` bytes linked by command chaining (CLA bit
    /// 0x10 on every command but the last, ISO 7816-4 §5.3.3). Le goes on the last command only. For
    /// readers or cards without extended length support.
    pub fn chain(&self, chunk: usize) -> Result<Vec<Command>, ApduError> {
        if !(1..=SHORT_MAX_LC).contains(&chunk) {
            return Err(ApduError::BadChunk(chunk));
        }
        if self.le.is_some_and(|ne| ne > SHORT_MAX_NE) {
            // Chaining keeps every command short; ask for 256 and let 61xx/GET RESPONSE fetch the rest.
            return Err(ApduError::BadLe(self.le.unwrap_or_default()));
        }
        let pieces: Vec<&[u8]> = if self.data.is_empty() { vec![&[][..]] } else { self.data.chunks(chunk).collect() };
        let last = pieces.len().saturating_sub(1);
        Ok(pieces
            .into_iter()
            .enumerate()
            .map(|(i, piece)| Command {
                cla: if i < last { self.cla | 0x10 } else { self.cla },
                ins: self.ins,
                p1: self.p1,
                p2: self.p2,
                data: Zeroizing::new(piece.to_vec()),
                le: if i < last { None } else { self.le },
            })
            .collect())
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Command");
        d.field("cla", &format_args!("{:02X}", self.cla))
            .field("ins", &format_args!("{:02X}", self.ins))
            .field("p1", &format_args!("{:02X}", self.p1))
            .field("p2", &format_args!("{:02X}", self.p2));
        if PIN_CARRYING_INS.contains(&self.ins) && !self.data.is_empty() {
            d.field("data", &format_args!("<{} bytes redacted>", self.data.len()));
        } else {
            d.field("data", &hex::encode_upper(&*self.data));
        }
        d.field("le", &self.le).finish()
    }
}

fn length_bytes(n: usize) -> [u8; 2] {
    // 65536 wraps to 0000 on purpose: that is how extended Le encodes it.
    let n = u16::try_from(n).unwrap_or(0);
    n.to_be_bytes()
}

fn low_byte(n: usize) -> u8 {
    // 256 wraps to 00 on purpose: that is how short Le encodes it.
    n.to_le_bytes().first().copied().unwrap_or(0)
}

/// SW1 SW2.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const OK: StatusWord = StatusWord(0x9000);

    pub fn sw1(self) -> u8 {
        self.0.to_be_bytes()[0]
    }

    pub fn sw2(self) -> u8 {
        self.0.to_be_bytes()[1]
    }

    pub fn is_ok(self) -> bool {
        self == StatusWord::OK
    }

    /// 62xx/63xx other than 63Cx: the command completed with a warning (e.g. 6282 end of file reached
    /// before Le bytes); the data is still valid.
    pub fn is_warning(self) -> bool {
        matches!(self.sw1(), 0x62) || (self.sw1() == 0x63 && self.sw2() & 0xF0 != 0xC0)
    }

    /// The status as a typed error, or Ok for 9000 and warnings.
    pub fn check(self) -> Result<(), CardError> {
        if self.is_ok() || self.is_warning() { Ok(()) } else { Err(CardError::from(self)) }
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

/// A response APDU: data and status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: StatusWord,
}

impl Response {
    /// The data when the card reported success (9000 or a warning), else the status as a typed error.
    pub fn into_data(self) -> Result<Vec<u8>, CardError> {
        self.sw.check().map(|()| self.data)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Response data may hold personal data (the JPKI basic four items); show its size only.
        write!(f, "Response({} bytes, {})", self.data.len(), self.sw)
    }
}

/// A response that is not even an R-APDU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// Fewer than the two status bytes arrived: the reader or card is faulty; re-insert the card.
    #[error("the card's response has {0} bytes, fewer than the 2 status bytes: re-insert the card")]
    TooShort(usize),
}

/// Parses any byte string into data + status word. Total: never panics, whatever the input.
pub fn parse_response(bytes: &[u8]) -> Result<Response, ResponseError> {
    match bytes {
        [data @ .., sw1, sw2] => Ok(Response { data: data.to_vec(), sw: StatusWord(u16::from_be_bytes([*sw1, *sw2])) }),
        _ => Err(ResponseError::TooShort(bytes.len())),
    }
}

/// What a non-success status word means (ISO 7816-4 §5.6 and the HPKI/JPKI notes). 61xx and 6Cxx never
/// arrive here: the transport resolves them with GET RESPONSE or by re-sending with the corrected Le.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// 63Cx: verification failed; `tries_left` more attempts before the PIN blocks.
    #[error("wrong PIN: {tries_left} tries left")]
    WrongPin { tries_left: u8 },
    /// 6983 (authentication method blocked) or 6984 (reference data not usable, JAHIS C.3.4): the PIN
    /// is blocked; only the card's issuer can unblock it.
    #[error("the PIN is blocked (SW {0}): the card's issuer must unblock it")]
    Blocked(StatusWord),
    /// 6982: the operation needs a PIN verified first (in the same application, since security status is
    /// per application and lost on re-select).
    #[error("security status not satisfied (SW 6982): the PIN must be verified first")]
    SecurityStatusNotSatisfied,
    /// 6985: conditions of use not satisfied (e.g. no key selected, wrong order of commands).
    #[error("conditions of use not satisfied (SW 6985)")]
    ConditionsNotSatisfied,
    /// 6A82: the application or file does not exist on this card.
    #[error("file or application not found (SW 6A82)")]
    FileNotFound,
    /// 6A86: P1/P2 not accepted.
    #[error("incorrect parameters P1-P2 (SW 6A86)")]
    IncorrectP1P2,
    /// 6700: Lc/Le not accepted (a reader that cannot pass extended APDUs also causes this).
    #[error("wrong length (SW 6700)")]
    WrongLength,
    /// 6D00: instruction not supported.
    #[error("instruction not supported (SW 6D00)")]
    InsNotSupported,
    /// 6E00: class not supported.
    #[error("class not supported (SW 6E00)")]
    ClaNotSupported,
    /// Any other status word, kept verbatim for diagnosis.
    #[error("the card returned status {0}")]
    Other(StatusWord),
}

impl From<StatusWord> for CardError {
    fn from(sw: StatusWord) -> Self {
        match sw.0 {
            0x63C0..=0x63CF => CardError::WrongPin { tries_left: sw.sw2() & 0x0F },
            0x6983 | 0x6984 => CardError::Blocked(sw),
            0x6982 => CardError::SecurityStatusNotSatisfied,
            0x6985 => CardError::ConditionsNotSatisfied,
            0x6A82 => CardError::FileNotFound,
            0x6A86 => CardError::IncorrectP1P2,
            0x6700 => CardError::WrongLength,
            0x6D00 => CardError::InsNotSupported,
            0x6E00 => CardError::ClaNotSupported,
            _ => CardError::Other(sw),
        }
    }
}

/// SELECT by DF name (AID), no FCI returned (P2 = 0C), as both card families expect.
pub fn select_aid(aid: &[u8]) -> Command {
    Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(aid)
}

/// SELECT an EF by file identifier under the current DF (P1 = 02; JPKI accepts nothing else).
pub fn select_ef(fid: [u8; 2]) -> Command {
    Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(&fid)
}

/// READ BINARY of the current EF at `offset` (15 bits), asking for `ne` bytes.
pub fn read_binary(offset: u16, ne: usize) -> Command {
    let [p1, p2] = (offset & 0x7FFF).to_be_bytes();
    Command::new(0x00, 0xB0, p1, p2).with_le(ne)
}

/// VERIFY with the PIN (or, with empty data, the retry-counter query that spends no try).
pub fn verify(p2: u8, pin: &[u8]) -> Command {
    Command::new(0x00, 0x20, 0x00, p2).with_data(pin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(cmd: &Command) -> String {
        hex::encode_upper(&*cmd.encode().unwrap())
    }

    #[test]
    fn encodes_all_short_cases() {
        assert_eq!(hex(&Command::new(0, 0x20, 0, 0x80)), "00200080");
        assert_eq!(hex(&read_binary(0, 4)), "00B0000004");
        assert_eq!(hex(&read_binary(0x0100, 256)), "00B0010000");
        assert_eq!(hex(&select_ef([0x00, 0x0A])), "00A4020C02000A");
        assert_eq!(hex(&Command::new(0x80, 0x2A, 0, 0x80).with_data(&[1, 2, 3]).with_le(256)), "802A00800301020300");
        assert_eq!(hex(&select_aid(&[0xD3, 0x92])), "00A4040C02D392");
    }

    #[test]
    fn encodes_extended_when_needed() {
        // Case 4E: the HPKI PSO with a 256-byte block and Le 0000.
        let block = vec![0xAB; 256];
        let pso = Command::new(0, 0x2A, 0x9E, 0x9A).with_data(&block).with_le(65_536);
        assert!(pso.is_extended());
        let enc = pso.encode().unwrap();
        assert_eq!(&enc[..7], &[0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x01, 0x00]);
        assert_eq!(&enc[7..263], &block[..]);
        assert_eq!(&enc[263..], &[0x00, 0x00]);
        // Case 2E: Le > 256 alone forces extended.
        assert_eq!(hex(&read_binary(0, 1000)), "00B000000003E8");
        // Case 3E.
        let c3 = Command::new(0, 0xDA, 0, 0).with_data(&[7; 300]).encode().unwrap();
        assert_eq!(&c3[..7], &[0, 0xDA, 0, 0, 0, 0x01, 0x2C]);
        assert_eq!(c3.len(), 307);
        // Case 4E with short data but long Le: Lc also takes the long form.
        assert_eq!(
            hex(&Command::new(0, 1, 2, 3).with_data(&[9]).with_le(257)),
            "000102030000010901 01".replace(' ', "")
        );
        // Lc 255 / Le 256 still fit a short APDU.
        assert!(!Command::new(0, 0, 0, 0).with_data(&[0; 255]).with_le(256).is_extended());
    }

    #[test]
    fn rejects_unencodable() {
        assert_eq!(Command::new(0, 0, 0, 0).with_le(0).encode(), Err(ApduError::BadLe(0)));
        assert_eq!(Command::new(0, 0, 0, 0).with_le(65_537).encode(), Err(ApduError::BadLe(65_537)));
        assert_eq!(Command::new(0, 0, 0, 0).with_data(&vec![0; 65_536]).encode(), Err(ApduError::DataTooLong(65_536)));
    }

    #[test]
    fn chains_long_data() {
        let cmd = Command::new(0x00, 0x2A, 0x9E, 0x9A).with_data(&[5; 256]).with_le(256);
        let parts = cmd.chain(255).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].cla, 0x10);
        assert_eq!(parts[0].data.len(), 255);
        assert_eq!(parts[0].le, None);
        assert_eq!(parts[1].cla, 0x00);
        assert_eq!(parts[1].data.len(), 1);
        assert_eq!(parts[1].le, Some(256));
        assert_eq!(hex(&parts[1]), "002A9E9A010500");
        assert!(parts.iter().all(|p| !p.is_extended()));
        assert_eq!(cmd.chain(0), Err(ApduError::BadChunk(0)));
        assert_eq!(Command::new(0, 0, 0, 0).chain(10).unwrap().len(), 1);
    }

    #[test]
    fn debug_redacts_pin() {
        let v = verify(0x80, b"1234");
        let shown = format!("{v:?}");
        assert!(!shown.contains("31323334"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn parses_every_status_class() {
        let cases: &[(&[u8], Result<(), CardError>)] = &[
            (&[0x90, 0x00], Ok(())),
            (&[0x62, 0x82], Ok(())),
            (&[0x63, 0xC2], Err(CardError::WrongPin { tries_left: 2 })),
            (&[0x63, 0xC0], Err(CardError::WrongPin { tries_left: 0 })),
            (&[0x69, 0x83], Err(CardError::Blocked(StatusWord(0x6983)))),
            (&[0x69, 0x84], Err(CardError::Blocked(StatusWord(0x6984)))),
            (&[0x69, 0x82], Err(CardError::SecurityStatusNotSatisfied)),
            (&[0x69, 0x85], Err(CardError::ConditionsNotSatisfied)),
            (&[0x6A, 0x82], Err(CardError::FileNotFound)),
            (&[0x6A, 0x86], Err(CardError::IncorrectP1P2)),
            (&[0x67, 0x00], Err(CardError::WrongLength)),
            (&[0x6D, 0x00], Err(CardError::InsNotSupported)),
            (&[0x6E, 0x00], Err(CardError::ClaNotSupported)),
            (&[0x6F, 0x00], Err(CardError::Other(StatusWord(0x6F00)))),
        ];
        for (bytes, want) in cases {
            let r = parse_response(bytes).unwrap();
            assert!(r.data.is_empty());
            assert_eq!(r.sw.check(), *want, "{bytes:02X?}");
        }
        let r = parse_response(&[1, 2, 3, 0x90, 0x00]).unwrap();
        assert_eq!(r.into_data().unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn malformed_responses_are_errors() {
        assert_eq!(parse_response(&[]), Err(ResponseError::TooShort(0)));
        assert_eq!(parse_response(&[0x90]), Err(ResponseError::TooShort(1)));
        // Arbitrary inputs never panic.
        for len in 0..600 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
            let _ = parse_response(&bytes).map(|r| r.sw.check());
        }
    }
}
