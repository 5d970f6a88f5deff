//! [`VirtualCard`]: one emulated card as a reader sees it — ATR, power, reset, C-APDU → R-APDU —
//! with an optional transcript and counters.

use crate::apdu::{Command, Response, StatusWord};
use crate::applet::Applet;
use crate::hpki::HpkiCard;
use crate::jpki::JpkiCard;

/// Which card is emulated.
pub use hcpki_agent_protocol::CardKind;

/// The emulated card inside a [`VirtualCard`]: the table of card types, one [`Applet`] each, mirroring the
/// agent's driver registry. A new card type is a variant here and its applet file.
#[derive(Clone, Debug)]
pub enum Emulated {
    /// A JPKI card.
    Jpki(JpkiCard),
    /// An HPKI card.
    Hpki(HpkiCard),
}

impl Emulated {
    /// The card's applet: what [`VirtualCard`] talks to.
    pub fn applet(&self) -> &dyn Applet {
        match self {
            Emulated::Jpki(c) => c,
            Emulated::Hpki(c) => c,
        }
    }

    fn applet_mut(&mut self) -> &mut dyn Applet {
        match self {
            Emulated::Jpki(c) => c,
            Emulated::Hpki(c) => c,
        }
    }
}

/// One line of a transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TranscriptEntry {
    /// The reader powered the card on.
    PowerOn,
    /// The reader powered the card off.
    PowerOff,
    /// The reader reset the card (warm reset).
    Reset,
    /// A command and the card's answer.
    Apdu {
        /// C-APDU as received.
        command: Vec<u8>,
        /// R-APDU as sent (data ‖ SW1 SW2).
        response: Vec<u8>,
    },
}

impl std::fmt::Display for TranscriptEntry {
    /// `> 00A4…` / `< …9000` lines, hex upper case; power events as `# …` comments.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TranscriptEntry::PowerOn => f.write_str("# power on"),
            TranscriptEntry::PowerOff => f.write_str("# power off"),
            TranscriptEntry::Reset => f.write_str("# reset"),
            TranscriptEntry::Apdu { command, response } => {
                write!(f, "> {}\n< {}", hex::encode_upper(command), hex::encode_upper(response))
            }
        }
    }
}

/// Counters for benchmarks and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CardStats {
    /// C-APDUs processed (well-formed or not).
    pub apdus: u64,
    /// Bytes received in C-APDUs.
    pub bytes_in: u64,
    /// Bytes sent in R-APDUs.
    pub bytes_out: u64,
    /// Power-ons and resets.
    pub resets: u64,
    /// Successful RSA signatures.
    pub signatures: u64,
}

/// An emulated smart card.
///
/// A new card is inserted and powered. Commands sent while it is powered off get `6F00`, which a
/// real reader would never deliver; it makes a host bug visible instead of hiding it.
#[derive(Clone, Debug)]
pub struct VirtualCard {
    card: Emulated,
    powered: bool,
    transcript: Option<Vec<TranscriptEntry>>,
    stats: CardStats,
}

impl VirtualCard {
    /// Wraps an emulated card, powered on, without a transcript.
    pub fn new(card: Emulated) -> Self {
        Self { card, powered: true, transcript: None, stats: CardStats::default() }
    }

    /// A JPKI card.
    pub fn jpki(card: JpkiCard) -> Self {
        Self::new(Emulated::Jpki(card))
    }

    /// An HPKI card.
    pub fn hpki(card: HpkiCard) -> Self {
        Self::new(Emulated::Hpki(card))
    }

    /// Which card this is.
    pub fn kind(&self) -> CardKind {
        self.card.applet().kind()
    }

    /// The emulated card, for inspecting PIN counters.
    pub fn emulated(&self) -> &Emulated {
        &self.card
    }

    /// Answer to reset.
    pub fn atr(&self) -> &[u8] {
        self.card.applet().atr()
    }

    /// Cold reset: powers the card (again); volatile state is lost.
    pub fn power_on(&mut self) {
        self.record(TranscriptEntry::PowerOn);
        self.powered = true;
        self.stats.resets += 1;
        self.clear_session();
    }

    /// Removes power; volatile state is lost and commands get `6F00` until [`power_on`](Self::power_on).
    pub fn power_off(&mut self) {
        self.record(TranscriptEntry::PowerOff);
        self.powered = false;
        self.clear_session();
    }

    /// Warm reset: the card stays powered (or is powered), volatile state is lost.
    pub fn reset(&mut self) {
        self.record(TranscriptEntry::Reset);
        self.powered = true;
        self.stats.resets += 1;
        self.clear_session();
    }

    /// Whether the card is powered.
    pub fn is_powered(&self) -> bool {
        self.powered
    }

    /// Processes one C-APDU and returns the R-APDU (`data ‖ SW1 SW2`). Never panics, whatever the
    /// bytes.
    pub fn process(&mut self, capdu: &[u8]) -> Vec<u8> {
        let response =
            if self.powered { self.dispatch(capdu) } else { Response::status(StatusWord::NO_DIAGNOSIS) }.into_bytes();
        self.stats.apdus += 1;
        self.stats.bytes_in += capdu.len() as u64;
        self.stats.bytes_out += response.len() as u64;
        self.stats.signatures = self.card.applet().signatures();
        if self.transcript.is_some() {
            self.record(TranscriptEntry::Apdu { command: capdu.to_vec(), response: response.clone() });
        }
        response
    }

    /// Starts (or stops, discarding it) recording C/R-APDU pairs and power events.
    pub fn set_recording(&mut self, on: bool) {
        self.transcript = on.then(Vec::new);
    }

    /// Takes what was recorded since the last call (empty when not recording).
    pub fn take_transcript(&mut self) -> Vec<TranscriptEntry> {
        self.transcript.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Counters since the card was made.
    pub fn stats(&self) -> CardStats {
        self.stats
    }

    fn dispatch(&mut self, capdu: &[u8]) -> Response {
        let cmd = match Command::parse(capdu) {
            Ok(cmd) => cmd,
            Err(sw) => return sw.into(),
        };
        match cmd.cla {
            // PC/SC reserves FF for reader pseudo-APDUs; a card does not know it.
            0xFF => return StatusWord::CLA_NOT_SUPPORTED.into(),
            // Further interindustry classes: logical channels 4–19.
            0x40..=0x7F => return StatusWord::CHANNEL_NOT_SUPPORTED.into(),
            _ if cmd.interindustry() && cmd.channel() != 0 => {
                return StatusWord::CHANNEL_NOT_SUPPORTED.into();
            }
            _ if cmd.interindustry() && cmd.secure_messaging() => {
                return StatusWord::SM_NOT_SUPPORTED.into();
            }
            _ => {}
        }
        self.card.applet_mut().process(&cmd)
    }

    fn clear_session(&mut self) {
        self.card.applet_mut().reset()
    }

    fn record(&mut self, entry: TranscriptEntry) {
        if let Some(t) = &mut self.transcript {
            t.push(entry);
        }
    }
}
