//! The card's file system (applications holding EFs) and the per-session state the commands change:
//! current application, current EF, verified PINs, the key set by MSE, a pending command chain.
//!
//! Both emulated cards share this model; what differs (how VERIFY names a PIN, how signing works) is
//! in `jpki` and `hpki`. SELECT and READ BINARY are interindustry and live here.

use crate::apdu::{Command, Response, StatusWord};
use crate::key::CardKey;
use crate::pin::{Pin, VerifyOutcome};

/// Index of a PIN in [`FileSystem::pins`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PinRef(pub usize);

/// Index of a key in [`FileSystem::keys`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyRef(pub usize);

/// What an EF holds.
#[derive(Clone, Debug)]
pub(crate) enum EfBody {
    /// A transparent EF; READ BINARY needs `read_pin` verified first when set.
    Binary { data: Vec<u8>, read_pin: Option<PinRef> },
    /// A PIN object: selectable (VERIFY P2=80 uses it), not readable.
    Pin(PinRef),
    /// A private key: selectable (signing uses it), not readable; usable after `pin`.
    Key { key: KeyRef, pin: PinRef },
}

/// An elementary file.
#[derive(Clone, Debug)]
pub(crate) struct Ef {
    pub fid: u16,
    /// Short EF identifier for READ BINARY with P1 bit 8 set (JAHIS layout), if the EF has one.
    pub sfi: Option<u8>,
    pub body: EfBody,
}

/// A DF selected by name (AID).
#[derive(Clone, Debug)]
pub(crate) struct Application {
    pub aid: Vec<u8>,
    pub files: Vec<Ef>,
}

/// Everything persistent on the card: it survives resets (PIN counters included).
#[derive(Clone, Debug)]
pub(crate) struct FileSystem {
    pub apps: Vec<Application>,
    pub pins: Vec<Pin>,
    pub keys: Vec<CardKey>,
}

/// Command chaining in progress (ISO 7816-4 §5.4.1): the header that must repeat and the data so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Chain {
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
}

/// Volatile state, lost on reset and power-off.
#[derive(Clone, Debug, Default)]
pub(crate) struct Session {
    pub app: Option<usize>,
    pub ef: Option<usize>,
    /// PINs verified since the current application was selected.
    pub verified: Vec<PinRef>,
    /// Key chosen by MSE SET (HPKI).
    pub se_key: Option<KeyRef>,
    pub chain: Option<Chain>,
}

impl Session {
    /// Whether `pin` is verified in the current application.
    pub fn is_verified(&self, pin: PinRef) -> bool {
        self.verified.contains(&pin)
    }

    /// Selecting an application (again, too) ends the previous security context.
    fn enter_app(&mut self, app: usize) {
        *self = Session { app: Some(app), ..Session::default() };
    }
}

/// Longest DF name ISO 7816-4 allows.
const MAX_AID_LEN: usize = 16;

impl FileSystem {
    /// The current application, if one is selected.
    pub fn app<'a>(&'a self, session: &Session) -> Option<&'a Application> {
        self.apps.get(session.app?)
    }

    /// The current EF, if one is selected.
    pub fn current_ef<'a>(&'a self, session: &Session) -> Option<&'a Ef> {
        self.app(session)?.files.get(session.ef?)
    }

    /// SELECT (`INS A4`): P1=04 by DF name (exact, or partial with first/next occurrence), P1=02 an
    /// EF of the current application by FID. Other P1 values (MF, path, parent) are not supported by
    /// the cards modelled (the JPKI card accepts only P1=02 for EFs): `6A86`.
    pub fn select(&self, session: &mut Session, cmd: &Command<'_>) -> Response {
        match cmd.p1 {
            0x04 => self.select_df_name(session, cmd),
            0x02 => self.select_ef(session, cmd),
            _ => StatusWord::WRONG_P1P2.into(),
        }
    }

    fn select_df_name(&self, session: &mut Session, cmd: &Command<'_>) -> Response {
        let Some(answer) = FileAnswer::from_p2(cmd.p2) else {
            return StatusWord::WRONG_P1P2.into();
        };
        let name = cmd.data;
        if name.is_empty() || name.len() > MAX_AID_LEN {
            return StatusWord::WRONG_LENGTH.into();
        }
        let found = match cmd.p2 & 0x03 {
            // First or only occurrence: an exact match wins, else the first partial match.
            0x00 => self
                .apps
                .iter()
                .position(|a| a.aid == name)
                .or_else(|| self.apps.iter().position(|a| a.aid.starts_with(name))),
            // Next occurrence: the first partial match after the current application.
            0x02 => {
                let after = session.app.map_or(0, |i| i + 1);
                self.apps.iter().enumerate().skip(after).find(|(_, a)| a.aid.starts_with(name)).map(|(i, _)| i)
            }
            _ => return StatusWord::WRONG_P1P2.into(),
        };
        let Some((index, app)) = found.and_then(|i| Some((i, self.apps.get(i)?))) else {
            return StatusWord::FILE_NOT_FOUND.into();
        };
        session.enter_app(index);
        match (answer, cmd.le) {
            (FileAnswer::Control, Some(_)) => Response::ok(tlv(0x6F, &tlv(0x84, &app.aid))),
            _ => Response::status(StatusWord::OK),
        }
    }

    fn select_ef(&self, session: &mut Session, cmd: &Command<'_>) -> Response {
        let Some(answer) = FileAnswer::from_p2(cmd.p2) else {
            return StatusWord::WRONG_P1P2.into();
        };
        let &[hi, lo] = cmd.data else {
            return StatusWord::WRONG_LENGTH.into();
        };
        let fid = u16::from_be_bytes([hi, lo]);
        let Some(app) = self.app(session) else {
            return StatusWord::FILE_NOT_FOUND.into();
        };
        let Some((index, ef)) = app.files.iter().enumerate().find(|(_, f)| f.fid == fid) else {
            return StatusWord::FILE_NOT_FOUND.into();
        };
        session.ef = Some(index);
        match (answer, cmd.le) {
            (FileAnswer::Control, Some(_)) => Response::ok(fcp(ef)),
            _ => Response::status(StatusWord::OK),
        }
    }

    /// READ BINARY (`INS B0`): offset in P1-P2 (15 bits), or SFI in P1 (bit 8 set) with the offset
    /// in P2, which also makes that EF current.
    ///
    /// Le = 256 (short `00`) or 65536 (extended `0000`) means "as much as there is" and ends `9000`;
    /// any other Le beyond the end of the file returns what there is with `6282`.
    pub fn read_binary(&self, session: &mut Session, cmd: &Command<'_>) -> Response {
        if !cmd.data.is_empty() {
            return StatusWord::WRONG_LENGTH.into();
        }
        let Some(le) = cmd.le else {
            return StatusWord::WRONG_LENGTH.into();
        };
        let offset = if cmd.p1 & 0x80 != 0 {
            if cmd.p1 & 0x60 != 0 {
                return StatusWord::WRONG_P1P2.into();
            }
            let sfi = cmd.p1 & 0x1F;
            let Some(app) = self.app(session) else {
                return StatusWord::FILE_NOT_FOUND.into();
            };
            let Some(index) = app.files.iter().position(|f| f.sfi == Some(sfi)) else {
                return StatusWord::FILE_NOT_FOUND.into();
            };
            session.ef = Some(index);
            usize::from(cmd.p2)
        } else {
            usize::from(u16::from_be_bytes([cmd.p1, cmd.p2]))
        };
        let Some(ef) = self.current_ef(session) else {
            return StatusWord::NOT_ALLOWED.into();
        };
        let EfBody::Binary { data, read_pin } = &ef.body else {
            return StatusWord::INCOMPATIBLE_FILE.into();
        };
        if read_pin.is_some_and(|pin| !session.is_verified(pin)) {
            return StatusWord::SECURITY_NOT_SATISFIED.into();
        }
        let Some(rest) = data.get(offset..) else {
            return StatusWord::OFFSET_OUTSIDE.into();
        };
        let chunk = rest.get(..le).unwrap_or(rest).to_vec();
        let as_much_as_there_is = (le == 256 && !cmd.extended) || le == 65_536;
        if chunk.len() < le && !as_much_as_there_is {
            Response { data: chunk, sw: StatusWord::END_OF_FILE }
        } else {
            Response::ok(chunk)
        }
    }

    /// VERIFY against `pin`: checks, counts, and on success marks it verified in the session.
    pub fn verify(&mut self, session: &mut Session, pin: PinRef, candidate: &[u8]) -> Response {
        let already = session.is_verified(pin);
        let Some(stored) = self.pins.get_mut(pin.0) else {
            return StatusWord::REFERENCE_NOT_FOUND.into();
        };
        match stored.verify(candidate, already) {
            VerifyOutcome::Verified => {
                if !already {
                    session.verified.push(pin);
                }
                Response::status(StatusWord::OK)
            }
            VerifyOutcome::Rejected(sw) => {
                // A failed comparison also drops an earlier success (ISO 7816-4 §11.5.6).
                if sw != StatusWord::OK && !candidate.is_empty() {
                    session.verified.retain(|p| *p != pin);
                }
                Response::status(sw)
            }
        }
    }

    /// The key EF that is current and the PIN guarding it.
    pub fn current_key(&self, session: &Session) -> Option<(KeyRef, PinRef)> {
        match self.current_ef(session)?.body {
            EfBody::Key { key, pin } => Some((key, pin)),
            _ => None,
        }
    }

    /// The key EF with this FID in the current application, and its PIN.
    pub fn key_by_fid(&self, session: &Session, fid: u16) -> Option<(KeyRef, PinRef)> {
        self.app(session)?.files.iter().find_map(|f| match f.body {
            EfBody::Key { key, pin } if f.fid == fid => Some((key, pin)),
            _ => None,
        })
    }

    /// The PIN EF with this FID in the current application.
    pub fn pin_by_fid(&self, session: &Session, fid: u16) -> Option<PinRef> {
        self.app(session)?.files.iter().find_map(|f| match f.body {
            EfBody::Pin(pin) if f.fid == fid => Some(pin),
            _ => None,
        })
    }

    /// The PIN guarding a key.
    pub fn key_pin(&self, session: &Session, key: KeyRef) -> Option<PinRef> {
        self.app(session)?.files.iter().find_map(|f| match f.body {
            EfBody::Key { key: k, pin } if k == key => Some(pin),
            _ => None,
        })
    }
}

/// What SELECT returns, from P2 bits 4–3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileAnswer {
    /// FCI/FCP template (P2 = 00 or 04).
    Control,
    /// Nothing (P2 = 0C).
    Nothing,
}

impl FileAnswer {
    fn from_p2(p2: u8) -> Option<Self> {
        if p2 & 0xF0 != 0 {
            return None;
        }
        match p2 & 0x0C {
            0x00 | 0x04 => Some(Self::Control),
            0x0C => Some(Self::Nothing),
            _ => None,
        }
    }
}

/// FCP of an EF: `62 { 80 size, 82 descriptor, 83 FID }`.
fn fcp(ef: &Ef) -> Vec<u8> {
    let (size, descriptor) = match &ef.body {
        EfBody::Binary { data, .. } => (data.len(), 0x01),
        // Internal EFs (PIN, key): "working EF" bit clear, structure unspecified.
        EfBody::Pin(_) | EfBody::Key { .. } => (0, 0x08),
    };
    let size = u16::try_from(size).unwrap_or(u16::MAX).to_be_bytes();
    let mut body = tlv(0x80, &size);
    body.extend(tlv(0x82, &[descriptor]));
    body.extend(tlv(0x83, &ef.fid.to_be_bytes()));
    tlv(0x62, &body)
}

/// A BER TLV with a one-byte tag (lengths up to 65535, which is all a card file needs).
pub(crate) fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(ber_length(value.len()));
    out.extend_from_slice(value);
    out
}

/// BER/DER definite length octets.
pub(crate) fn ber_length(len: usize) -> Vec<u8> {
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => vec![short],
        Ok(byte) => vec![0x81, byte],
        Err(_) => match u16::try_from(len) {
            Ok(two) => {
                let [hi, lo] = two.to_be_bytes();
                vec![0x82, hi, lo]
            }
            Err(_) => {
                let bytes = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
                let mut out = vec![0x84];
                out.extend_from_slice(&bytes);
                out
            }
        },
    }
}
