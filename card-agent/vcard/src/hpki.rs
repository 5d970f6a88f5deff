//! An HPKI card (医師資格証 and the like): a signature AP and an authentication AP, each holding one
//! key, one end-entity certificate and one PIN (JAHIS 24-002 Annex A.2.1).
//!
//! Where the files are and how commands name them differs between cards, so it is data, an
//! [`HpkiLayout`]: [`HpkiLayout::JMA`] is the Japan Medical Association card as seen in published
//! code (reference §2.2); [`HpkiLayout::JAHIS_EXAMPLE`] the example in JAHIS 24-002 Annex B/C.
//!
//! Signing is raw RSA: the host sends the whole EMSA-PKCS1-v1_5 block (JAHIS C.6.1):
//!
//! ```text
//! 00 22 41 B6 04 84 02 00 0C                  MSE SET DST, key reference (tag per layout)
//! 00 20 00 88 Lc PIN                          VERIFY (P2 per layout)
//! 00 2A 9E 9A 00 01 00 <256-byte block> 00 00 PSO COMPUTE DIGITAL SIGNATURE, extended length
//! 10 2A 9E 9A Lc <part> … 00 2A 9E 9A Lc <last part> 00   the same with command chaining
//! ```
//!
//! A block that is not `00 01 FF{≥8} 00 T` is refused with `6A80` rather than signed, so a host
//! that forgets to pad fails loudly instead of producing a signature nobody can verify.
//!
//! A card with ECDSA P-384 keys (D177; no EC HPKI layout is published, so today's layouts are assumed) takes the
//! bare 48-byte SHA-384 in the same PSO and answers `r ‖ s` (96 bytes).

use crate::apdu::{Command, Response, StatusWord};
use crate::applet::Applet;
use crate::fs::{Application, Chain, Ef, EfBody, FileSystem, KeyRef, PinRef, Session};
use crate::key::{CardAlgorithm, CardKey, emsa_pkcs1_v15_payload};

/// SHA-384's length: what an ECDSA P-384 key is handed, and each of its answer's two halves.
const P384_HASH_LEN: usize = 48;
use crate::pin::{Pin, PinPolicy};
use hcpki_agent_protocol::CardKind;

/// Where an HPKI card keeps its files and how its commands address them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HpkiLayout {
    /// Short name for banners and transcripts.
    pub name: &'static str,
    /// DF name of the signature (non-repudiation) AP.
    pub signature_aid: &'static [u8],
    /// DF name of the authentication AP.
    pub authentication_aid: &'static [u8],
    /// FID of the PIN EF in each AP.
    pub pin_fid: u16,
    /// FID of the private-key EF in each AP.
    pub key_fid: u16,
    /// FID of the end-entity certificate EF in each AP.
    pub cert_fid: u16,
    /// Short EF identifiers (READ BINARY with P1 = 0x80|SFI) of PIN, key and certificate, if the
    /// card has them.
    pub sfis: Option<[u8; 3]>,
    /// VERIFY P2 that names the AP's PIN (besides `80`, "the PIN EF that is current").
    pub verify_p2: u8,
    /// Tag of the key reference in MSE SET's data (`84` on the JMA card, `81` in the JAHIS example).
    pub key_ref_tag: u8,
    /// PIN format and retry limit.
    pub pin_policy: PinPolicy,
    /// Whether a signature in the signature AP uses up the PIN verification (JAHIS §5.1.2: that AP
    /// asks for the PIN for every signature). The authentication AP keeps it for the session.
    pub pin_per_signature: bool,
}

/// `E8 28 BD 08 0F`: the ISO/IEC 7816-15 OID-based AID prefix every HPKI AP starts with.
pub const HPKI_AID_PREFIX: [u8; 5] = [0xE8, 0x28, 0xBD, 0x08, 0x0F];

const JMA_SIGNATURE_AID: [u8; 16] =
    [0xE8, 0x28, 0xBD, 0x08, 0x0F, 0xA0, 0x00, 0x00, 0x03, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01];
const JMA_AUTHENTICATION_AID: [u8; 16] =
    [0xE8, 0x28, 0xBD, 0x08, 0x0F, 0xA0, 0x00, 0x00, 0x03, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02];

impl HpkiLayout {
    /// The JMA 医師資格証 (reference §2.2): PIN 0002, key 000C, certificate 0016, VERIFY P2 88,
    /// MSE key reference tag 84. The retry limit is not public; 15 follows the MEDIS card.
    pub const JMA: Self = Self {
        name: "jma",
        signature_aid: &JMA_SIGNATURE_AID,
        authentication_aid: &JMA_AUTHENTICATION_AID,
        pin_fid: 0x0002,
        key_fid: 0x000C,
        cert_fid: 0x0016,
        sfis: None,
        verify_p2: 0x88,
        key_ref_tag: 0x84,
        pin_policy: PinPolicy::HPKI,
        pin_per_signature: true,
    };

    /// The example of JAHIS 24-002 (Annex B Table B.1, Annex C): PIN SFI 16, key 0017 (SFI 17),
    /// certificate SFI 18, VERIFY P2 96 (0x80|SFI), MSE tag 81. The PIX of its AIDs is "specified by
    /// MHLW" and not public, so this layout reuses the JMA AIDs.
    pub const JAHIS_EXAMPLE: Self = Self {
        name: "jahis",
        signature_aid: &JMA_SIGNATURE_AID,
        authentication_aid: &JMA_AUTHENTICATION_AID,
        pin_fid: 0x0016,
        key_fid: 0x0017,
        cert_fid: 0x0018,
        sfis: Some([0x16, 0x17, 0x18]),
        verify_p2: 0x96,
        key_ref_tag: 0x81,
        pin_policy: PinPolicy::HPKI,
        pin_per_signature: true,
    };

    /// A layout by its [`name`](Self::name).
    pub fn by_name(name: &str) -> Option<Self> {
        [Self::JMA, Self::JAHIS_EXAMPLE].into_iter().find(|l| l.name == name)
    }
}

/// An ATR with T=1 and the historical bytes published for an HPKI card (`00 4E 00 00 F7 81 D1 00`):
/// TS 3B, T0 E8 (TB1 TC1 TD1, 8 historical bytes), TB1 00, TC1 FF, TD1 81, TD2 31, TA3 FE, TB3 45,
/// historical bytes, TCK.
pub const HPKI_ATR: [u8; 17] =
    [0x3B, 0xE8, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x00, 0x4E, 0x00, 0x00, 0xF7, 0x81, 0xD1, 0x00, 0xF5];

/// One AP's content.
#[derive(Clone, Debug)]
pub struct HpkiApContents {
    /// DER of the end-entity certificate.
    pub cert: Vec<u8>,
    /// Its private key.
    pub key: CardKey,
    /// The AP's PIN.
    pub pin: String,
}

/// Everything an HPKI card holds. A card may carry one AP or both (JAHIS Annex A.2.1).
#[derive(Clone, Debug)]
pub struct HpkiContents {
    /// File layout and command details.
    pub layout: HpkiLayout,
    /// Signature (non-repudiation) AP.
    pub signature: Option<HpkiApContents>,
    /// Authentication AP.
    pub authentication: Option<HpkiApContents>,
}

/// Which AP of an HPKI card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HpkiAp {
    /// Signature AP.
    Signature,
    /// Authentication AP.
    Authentication,
}

/// Largest chained PSO input accepted: one RSA-4096 block with room to spare.
const MAX_CHAIN: usize = 1024;

/// An emulated HPKI card.
#[derive(Clone, Debug)]
pub struct HpkiCard {
    layout: HpkiLayout,
    fs: FileSystem,
    session: Session,
    /// AP index in `fs.apps` → which AP it is.
    kinds: Vec<HpkiAp>,
    signatures: u64,
}

impl HpkiCard {
    /// A card holding `contents`, with full PIN counters.
    pub fn new(contents: HpkiContents) -> Self {
        let layout = contents.layout;
        let mut fs = FileSystem { apps: Vec::new(), pins: Vec::new(), keys: Vec::new() };
        let mut kinds = Vec::new();
        for (kind, aid, ap) in [
            (HpkiAp::Signature, layout.signature_aid, contents.signature),
            (HpkiAp::Authentication, layout.authentication_aid, contents.authentication),
        ] {
            let Some(ap) = ap else { continue };
            let pin = PinRef(fs.pins.len());
            fs.pins.push(Pin::new(ap.pin.as_bytes(), layout.pin_policy));
            let key = KeyRef(fs.keys.len());
            fs.keys.push(ap.key);
            let [pin_sfi, key_sfi, cert_sfi] = layout.sfis.map_or([None; 3], |s| s.map(Some));
            fs.apps.push(Application {
                aid: aid.to_vec(),
                files: vec![
                    Ef { fid: layout.pin_fid, sfi: pin_sfi, body: EfBody::Pin(pin) },
                    Ef { fid: layout.key_fid, sfi: key_sfi, body: EfBody::Key { key, pin } },
                    Ef {
                        fid: layout.cert_fid,
                        sfi: cert_sfi,
                        // JAHIS §5.1.2(9): certificate reads need no access control.
                        body: EfBody::Binary { data: ap.cert, read_pin: None },
                    },
                ],
            });
            kinds.push(kind);
        }
        Self { layout, fs, session: Session::default(), kinds, signatures: 0 }
    }

    /// The card's layout.
    pub fn layout(&self) -> &HpkiLayout {
        &self.layout
    }

    /// Tries left on an AP's PIN (`None` when the card has no such AP).
    pub fn tries_left(&self, ap: HpkiAp) -> Option<u8> {
        let index = self.kinds.iter().position(|k| *k == ap)?;
        self.fs.pins.get(index).map(Pin::tries_left)
    }

    /// A non-final command of a chain: only PSO may be chained here.
    fn chain_part(&mut self, cmd: &Command<'_>) -> Response {
        if cmd.ins != 0x2A {
            self.session.chain = None;
            return StatusWord::CHAINING_NOT_SUPPORTED.into();
        }
        if cmd.le.is_some() {
            self.session.chain = None;
            return StatusWord::WRONG_LENGTH.into();
        }
        let chain =
            self.session.chain.get_or_insert_with(|| Chain { ins: cmd.ins, p1: cmd.p1, p2: cmd.p2, data: Vec::new() });
        if (chain.ins, chain.p1, chain.p2) != (cmd.ins, cmd.p1, cmd.p2) {
            self.session.chain = None;
            return StatusWord::LAST_COMMAND_EXPECTED.into();
        }
        if chain.data.len() + cmd.data.len() > MAX_CHAIN {
            self.session.chain = None;
            return StatusWord::WRONG_LENGTH.into();
        }
        chain.data.extend_from_slice(cmd.data);
        StatusWord::OK.into()
    }

    /// VERIFY: P2 = the layout's reference names the current AP's PIN; P2 = 80 the current PIN EF.
    fn verify(&mut self, cmd: &Command<'_>) -> Response {
        if cmd.p1 != 0x00 {
            return StatusWord::WRONG_P1P2.into();
        }
        if cmd.le.is_some() {
            return StatusWord::WRONG_LENGTH.into();
        }
        let pin = if cmd.p2 == self.layout.verify_p2 {
            self.fs.pin_by_fid(&self.session, self.layout.pin_fid)
        } else if cmd.p2 == 0x80 {
            match self.fs.current_ef(&self.session).map(|ef| &ef.body) {
                Some(EfBody::Pin(pin)) => Some(*pin),
                _ => return StatusWord::NOT_ALLOWED.into(),
            }
        } else {
            None
        };
        let Some(pin) = pin else {
            return StatusWord::REFERENCE_NOT_FOUND.into();
        };
        self.fs.verify(&mut self.session, pin, cmd.data)
    }

    /// MSE SET for digital signature: `00 22 41 B6 Lc <tag 02 FID>`.
    fn manage_security_environment(&mut self, cmd: &Command<'_>) -> Response {
        if (cmd.p1, cmd.p2) != (0x41, 0xB6) {
            return StatusWord::WRONG_P1P2.into();
        }
        if cmd.le.is_some() {
            return StatusWord::WRONG_LENGTH.into();
        }
        let &[tag, 0x02, hi, lo] = cmd.data else {
            return StatusWord::WRONG_DATA.into();
        };
        if tag != self.layout.key_ref_tag {
            return StatusWord::WRONG_DATA.into();
        }
        match self.fs.key_by_fid(&self.session, u16::from_be_bytes([hi, lo])) {
            Some((key, _)) => {
                self.session.se_key = Some(key);
                StatusWord::OK.into()
            }
            None => StatusWord::REFERENCE_NOT_FOUND.into(),
        }
    }

    /// PSO COMPUTE DIGITAL SIGNATURE over a host-padded block.
    fn pso(&mut self, cmd: &Command<'_>) -> Response {
        if (cmd.p1, cmd.p2) != (0x9E, 0x9A) {
            return StatusWord::WRONG_P1P2.into();
        }
        let Some(key_ref) = self.session.se_key else {
            return StatusWord::CONDITIONS_NOT_SATISFIED.into();
        };
        let Some(pin) = self.fs.key_pin(&self.session, key_ref) else {
            return StatusWord::CONDITIONS_NOT_SATISFIED.into();
        };
        if !self.session.is_verified(pin) {
            return StatusWord::SECURITY_NOT_SATISFIED.into();
        }
        let Some(key) = self.fs.keys.get(key_ref.0) else {
            return StatusWord::NO_DIAGNOSIS.into();
        };
        let signature = match key.algorithm() {
            CardAlgorithm::Rsa2048 => {
                let k = key.modulus_len();
                if cmd.data.len() != k || cmd.le.is_none_or(|le| le < k) {
                    return StatusWord::WRONG_LENGTH.into();
                }
                if emsa_pkcs1_v15_payload(cmd.data).is_none() {
                    return StatusWord::WRONG_DATA.into();
                }
                key.raw_private(cmd.data)
            }
            // An EC key signs the hash it is handed (no padding exists for ECDSA) and answers r ‖ s, as the
            // next My Number card does in today's layout (D153, D177): anything but 48 bytes is a host that
            // padded or hashed wrongly, refused loudly.
            CardAlgorithm::P384 => {
                if cmd.data.len() != P384_HASH_LEN || cmd.le.is_none_or(|le| le < 2 * P384_HASH_LEN) {
                    return StatusWord::WRONG_LENGTH.into();
                }
                key.sign_card_input(cmd.data)
            }
        };
        let Ok(signature) = signature else {
            return StatusWord::NO_DIAGNOSIS.into();
        };
        self.signatures += 1;
        if self.layout.pin_per_signature && self.current_ap() == Some(HpkiAp::Signature) {
            self.session.verified.retain(|p| *p != pin);
        }
        Response::ok(signature)
    }

    fn current_ap(&self) -> Option<HpkiAp> {
        self.kinds.get(self.session.app?).copied()
    }
}

impl Applet for HpkiCard {
    fn kind(&self) -> CardKind {
        CardKind::Hpki
    }

    fn atr(&self) -> &[u8] {
        &HPKI_ATR
    }

    fn reset(&mut self) {
        self.session = Session::default();
    }

    fn signatures(&self) -> u64 {
        self.signatures
    }

    fn process(&mut self, cmd: &Command<'_>) -> Response {
        if cmd.cla & 0xE0 != 0 {
            return StatusWord::CLA_NOT_SUPPORTED.into();
        }
        if cmd.chained() {
            return self.chain_part(cmd);
        }
        if let Some(chain) = self.session.chain.take() {
            if (chain.ins, chain.p1, chain.p2) != (cmd.ins, cmd.p1, cmd.p2) {
                return StatusWord::LAST_COMMAND_EXPECTED.into();
            }
            let mut data = chain.data;
            data.extend_from_slice(cmd.data);
            if data.len() > MAX_CHAIN {
                return StatusWord::WRONG_LENGTH.into();
            }
            let whole = Command { data: &data, ..*cmd };
            return self.pso(&whole);
        }
        match cmd.ins {
            0xA4 => self.fs.select(&mut self.session, cmd),
            0xB0 => self.fs.read_binary(&mut self.session, cmd),
            0x20 => self.verify(cmd),
            0x22 => self.manage_security_environment(cmd),
            0x2A => self.pso(cmd),
            _ => StatusWord::INS_NOT_SUPPORTED.into(),
        }
    }
}

#[cfg(test)]
mod tests;
