//! HPKI cards (医師資格証 and others; JAHIS 24-002). One code path serves every issuer: what differs
//! between cards — AIDs, file IDs, VERIFY P2, the MSE key-reference tag, whether the middleware selects
//! the PIN and key EFs first — is an [`Issuer`] value, each one a driver row of the registry, so a new
//! issuer's card is data, not code.
//!
//! Each application (authentication AP, signature AP) holds one key, one end-entity certificate and one
//! PIN (JAHIS Annex A.2.1). Certificates are readable without a PIN (§5.1.2(9)). The card does not pad:
//! the host sends the whole 256-byte EMSA-PKCS1-v1_5 block in PSO COMPUTE DIGITAL SIGNATURE (C.6.1),
//! which needs an extended-length APDU or command chaining. A card whose certificate holds an ECDSA P-384 key
//! (D177: no EC HPKI layout is published; today's layouts are assumed) is handed the bare SHA-384 in the same PSO
//! and answers `r ‖ s` — the broker says which by the [`CardInput`] it hands over, read from the certificate.
//!
//! ```text
//! SELECT AID            00 A4 04 0C 10 E828BD080F…
//! [SELECT PIN, key EF]  00 A4 02 0C 02 <FID>           (JMA middleware does this)
//! MSE SET DST           00 22 41 B6 04 <tag> 02 <key FID>
//! VERIFY                00 20 00 <P2> Lc <PIN>          (order vs MSE per issuer)
//! PSO CDS               00 2A 9E 9A 00 01 00 <block> 00 00
//!   or chained          10 2A 9E 9A FF <255 bytes>, 00 2A 9E 9A 01 <1 byte> 00
//! ```

use zeroize::Zeroizing;

use super::files::{read_certificate_ef, read_der_ef, select, try_select};
use super::pin::{PinSource, query_pin, verify};
use super::{
    CardDriver, CardInput, CardLabels, DriverError, PinCharset, PinFormatError, PinLabels, PinStatus, SignOutput, Words,
};
use crate::apdu::{self, CardError, Command, StatusWord};
use crate::service::{CardCertificate, CardKind, KeyRole, Pin};
use crate::tlv;
use crate::transport::Session;

/// One issuer's card: which applications it carries and how to talk to them.
#[derive(PartialEq, Eq)]
pub struct Issuer {
    /// Short name for logs and diagnostics.
    pub name: &'static str,
    /// The authentication AP (login), if the card has one.
    pub auth: Option<App>,
    /// The signature (non-repudiation) AP, if the card has one.
    pub sign: Option<App>,
}

/// How to address one application of an HPKI card.
#[derive(Debug, PartialEq, Eq)]
pub struct App {
    /// DF name, selected with `00 A4 04 0C`.
    pub aid: &'static [u8],
    /// FID of the PIN EF.
    pub pin_ef: [u8; 2],
    /// FID of the private-key EF; also the key reference MSE names.
    pub key_ef: [u8; 2],
    /// FID of the end-entity certificate EF.
    pub cert_ef: [u8; 2],
    /// SFI of the certificate EF. When set, the first READ BINARY names the EF by SFI (P1 = 80|SFI,
    /// JAHIS A.3), which also makes it current and saves the SELECT.
    pub cert_sfi: Option<u8>,
    /// Select the PIN EF, then the key EF, before MSE and VERIFY. The JMA card's only observed
    /// middleware does so [MIY]; whether the card needs it is unknown, so the driver keeps it.
    pub select_efs: bool,
    /// VERIFY P2 naming this AP's PIN (JMA `88`; JAHIS `96` = 80|SFI 16).
    pub verify_p2: u8,
    /// MSE P1 P2: `41 B6` = SET, digital signature template.
    pub mse_p1p2: [u8; 2],
    /// Tag of the key reference in MSE's data (`84` JMA, `81` JAHIS example).
    pub key_ref_tag: u8,
    /// Whether MSE or VERIFY comes first, as the issuer's documented sequence has it.
    pub order: SignOrder,
    /// Shortest PIN; the characters are printable ASCII (JAHIS §5.2.1, B.4.4).
    pub pin_min: usize,
    /// Longest PIN (JAHIS B.4.4: 16).
    pub pin_max: usize,
    /// The AP asks for the PIN for every signature (JAHIS §5.1.2: userConsent on the signature AP).
    /// The driver verifies in every `sign` anyway; the broker reads this to decide whether a PIN may be
    /// remembered for the session.
    pub pin_per_signature: bool,
    /// RSA modulus size in bytes: the padded block's length and the signature's.
    pub modulus_len: usize,
}

/// The order of MSE and VERIFY before PSO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOrder {
    /// MSE SET, then VERIFY (the JMA sequence in [MIY]).
    MseThenVerify,
    /// VERIFY, then MSE SET (JAHIS Annex A.3).
    VerifyThenMse,
}

/// The Japan Medical Association 医師資格証 (reference §2.2).
pub static JMA: Issuer = Issuer { name: "jma", auth: Some(JMA_AUTH), sign: Some(JMA_SIGN) };

/// The example card of JAHIS 24-002 Annex A.3 / Table B.1. Its AIDs are "specified by MHLW" and not
/// public; like the virtual card, it uses the JMA AIDs, and [`Issuer::recognise`] tells the two apart by
/// where the certificate is.
pub static JAHIS_EXAMPLE: Issuer = Issuer { name: "jahis-example", auth: Some(JAHIS_AUTH), sign: Some(JAHIS_SIGN) };

const JMA_AUTH: App = App {
    aid: &[0xE8, 0x28, 0xBD, 0x08, 0x0F, 0xA0, 0x00, 0x00, 0x03, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02],
    pin_ef: [0x00, 0x02],
    key_ef: [0x00, 0x0C],
    cert_ef: [0x00, 0x16],
    cert_sfi: None,
    select_efs: true,
    verify_p2: 0x88,
    mse_p1p2: [0x41, 0xB6],
    key_ref_tag: 0x84,
    order: SignOrder::MseThenVerify,
    pin_min: 4,
    pin_max: 16,
    pin_per_signature: false,
    modulus_len: 256,
};

const JMA_SIGN: App = App {
    aid: &[0xE8, 0x28, 0xBD, 0x08, 0x0F, 0xA0, 0x00, 0x00, 0x03, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01],
    pin_per_signature: true,
    ..JMA_AUTH
};

const JAHIS_AUTH: App = App {
    aid: JMA_AUTH.aid,
    pin_ef: [0x00, 0x16],
    key_ef: [0x00, 0x17],
    cert_ef: [0x00, 0x18],
    cert_sfi: Some(0x18),
    select_efs: false,
    verify_p2: 0x96,
    mse_p1p2: [0x41, 0xB6],
    key_ref_tag: 0x81,
    order: SignOrder::VerifyThenMse,
    pin_min: 4,
    pin_max: 16,
    pin_per_signature: false,
    modulus_len: 256,
};

const JAHIS_SIGN: App = App { aid: JMA_SIGN.aid, pin_per_signature: true, ..JAHIS_AUTH };

/// Command chaining chunk: the largest short Lc, so a 256-byte block takes two commands.
const CHAIN_CHUNK: usize = apdu::SHORT_MAX_LC;
/// An ECDSA P-384 card's answer: `r ‖ s`, 48 bytes each.
const P384_SIGNATURE_LEN: usize = 96;

impl std::fmt::Debug for Issuer {
    /// The name only: a `Driver` in a log line should not dump the whole table row.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Issuer").field(&self.name).finish()
    }
}

impl Issuer {
    /// The application for a key role.
    pub fn app(&self, role: KeyRole) -> Option<&App> {
        match role {
            KeyRole::Auth => self.auth.as_ref(),
            KeyRole::Sign => self.sign.as_ref(),
        }
    }

    /// The applications with their roles, authentication first.
    fn apps(&self) -> impl Iterator<Item = (KeyRole, &App)> {
        [(KeyRole::Auth, self.auth.as_ref()), (KeyRole::Sign, self.sign.as_ref())]
            .into_iter()
            .filter_map(|(role, app)| Some((role, app?)))
    }
}

impl CardDriver for Issuer {
    fn kind(&self) -> CardKind {
        CardKind::Hpki
    }

    fn name(&self) -> &'static str {
        self.name
    }

    fn labels(&self) -> &'static CardLabels {
        &LABELS
    }

    /// HPKI certificates name the holder (the kanji name in the subjectAltName, else the subject CN).
    fn holder_name(&self, certificates: &[CardCertificate]) -> Option<String> {
        super::holder::from_auth_certificate(certificates)
    }

    /// Whether this is this issuer's card. An AID alone is not enough (issuers may share the 7816-15 AIDs,
    /// as JMA and the JAHIS example do), so it is when the first application that selects also has a
    /// certificate (`30 …`) where this issuer keeps it. A JMA-layout probe of a JAHIS-layout card selects
    /// the PIN EF at 0016 and READ BINARY fails; the other way round, SFI 18 does not exist.
    fn recognise(&self, s: &mut Session<'_>) -> Result<bool, DriverError> {
        for (_, app) in self.apps() {
            if !try_select(s, &apdu::select_aid(app.aid))? {
                continue;
            }
            // When the AID answered but the files are not this issuer's, the next driver is tried.
            return holds_certificate(s, app);
        }
        Ok(false)
    }

    /// The authentication application when the card has it, else the signature one.
    fn identity_files(&self) -> Vec<(&'static [u8], [u8; 2])> {
        self.apps().map(|(_, app)| (app.aid, app.cert_ef)).collect()
    }

    /// Each application's end-entity certificate (the card holds no CA certificates in the layouts
    /// known). An application the card lacks (6A82 on SELECT) is skipped: a card may carry only one.
    fn read_certificates(&self, s: &mut Session<'_>) -> Result<Vec<CardCertificate>, DriverError> {
        let mut out = Vec::new();
        for (role, app) in self.apps() {
            match s.send(&apdu::select_aid(app.aid))?.sw.check() {
                Ok(()) => {}
                Err(CardError::FileNotFound) => continue,
                Err(error) => return Err(DriverError::Status { step: "SELECT application", error }),
            }
            let cert = read_certificate(s, app)?;
            out.push(CardCertificate { role, chain: vec![cert] });
        }
        Ok(out)
    }

    /// The PIN's retry counter: VERIFY without data, P2 per issuer. The P2 names the PIN by reference, so
    /// no EF is selected even where `sign` does (keeping a warm login within 8 APDUs).
    fn pin_status(&self, s: &mut Session<'_>, role: KeyRole) -> Result<PinStatus, DriverError> {
        let app = self.app(role).ok_or(DriverError::NoKey(role))?;
        select(s, &apdu::select_aid(app.aid), "SELECT application")?;
        query_pin(s, app.verify_p2)
    }

    /// Printable ASCII within the application's length bounds; HPKI PINs are case-sensitive and sent as
    /// typed.
    fn check_pin(&self, role: KeyRole, pin: &Pin) -> Result<Zeroizing<Vec<u8>>, PinFormatError> {
        // A role the card lacks gets the JAHIS bounds; `sign` then reports the missing key.
        let (min, max) = self.app(role).map_or((4, 16), |app| (app.pin_min, app.pin_max));
        let bytes = pin.0.as_bytes();
        if (min..=max).contains(&bytes.len()) && bytes.iter().all(|b| (0x20..=0x7E).contains(b)) {
            Ok(Zeroizing::new(bytes.to_vec()))
        } else {
            Err(PinFormatError::Ascii { min, max })
        }
    }

    /// Verifies the PIN and signs `input` with the role's key. An RSA key's DigestInfo is padded here (the card
    /// does not pad) and the answer must be exactly one modulus long; an ECDSA P-384 key's SHA-384 goes as is and
    /// the answer must be `r ‖ s` (D177). The certificates are readable without a PIN, so no chain is returned.
    fn sign(
        &self,
        s: &mut Session<'_>,
        role: KeyRole,
        pin: &PinSource<'_>,
        input: &CardInput,
        _want_chain: bool,
    ) -> Result<SignOutput, DriverError> {
        let app = self.app(role).ok_or(DriverError::NoKey(role))?;
        let (data, answer_len) = match input {
            CardInput::RsaDigestInfo(digest_info) => {
                let block = emsa_pkcs1_v15(digest_info, app.modulus_len).ok_or(DriverError::DigestInfo {
                    len: digest_info.len(),
                    max: app.modulus_len.saturating_sub(11),
                })?;
                (block, app.modulus_len)
            }
            CardInput::EcdsaP384Hash(hash) => (hash.clone(), P384_SIGNATURE_LEN),
        };
        select(s, &apdu::select_aid(app.aid), "SELECT application")?;
        if app.select_efs {
            select(s, &apdu::select_ef(app.pin_ef), "SELECT PIN EF")?;
            select(s, &apdu::select_ef(app.key_ef), "SELECT key EF")?;
        }
        match app.order {
            SignOrder::MseThenVerify => {
                set_key(s, app)?;
                verify(s, app.verify_p2, pin)?;
            }
            SignOrder::VerifyThenMse => {
                verify(s, app.verify_p2, pin)?;
                set_key(s, app)?;
            }
        }
        let signature = compute_signature(s, &data, answer_len)?;
        if signature.len() != answer_len {
            let expected = match input {
                CardInput::RsaDigestInfo(_) => format!("the {answer_len}-byte modulus"),
                CardInput::EcdsaP384Hash(_) => format!("the {answer_len}-byte ECDSA P-384 r ‖ s"),
            };
            return Err(DriverError::Malformed {
                step: "PSO COMPUTE DIGITAL SIGNATURE",
                reason: format!("{} bytes, not {expected}", signature.len()),
            });
        }
        Ok(SignOutput { signature, chain: None, authentication_certificate: None })
    }
}

/// What the user is told of an HPKI card, whichever issuer's layout it has.
static LABELS: CardLabels = CardLabels {
    display_name: "HPKI",
    name: Words { ja: "HPKI カード", en: "HPKI card" },
    unblock: Words {
        ja: "PIN のロック解除は、カードを発行した HPKI 認証局（日本医師会認証局など）に申請してください。\
             施設の管理者が申請方法を案内できます。",
        en: "To unblock the PIN, apply to the HPKI certification authority that issued the card (such as the \
             Japan Medical Association's); your facility's administrator can tell you how.",
    },
    auth_pin: PinLabels {
        terminal: "HPKI card: authentication PIN",
        page: Words { ja: "HPKI カードの認証用 PIN", en: "HPKI card authentication PIN" },
        charset: PinCharset::PrintableAscii,
        min_len: 4,
        max_len: 16,
    },
    sign_pin: PinLabels {
        terminal: "HPKI card: signature PIN",
        page: Words {
            ja: "HPKI カードの署名用 PIN（半角の英数字・記号 4〜16 文字）",
            en: "HPKI card signature PIN (4 to 16 ASCII letters, digits or symbols)",
        },
        charset: PinCharset::PrintableAscii,
        min_len: 4,
        max_len: 16,
    },
};

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

/// The certificate EF's first bytes look like a DER SEQUENCE. Any error status means "not here".
fn holds_certificate(s: &mut Session<'_>, app: &App) -> Result<bool, DriverError> {
    let header = match app.cert_sfi {
        Some(sfi) => s.send(&read_by_sfi(sfi, 4))?,
        None => {
            if !try_select(s, &apdu::select_ef(app.cert_ef))? {
                return Ok(false);
            }
            s.send(&apdu::read_binary(0, 4))?
        }
    };
    Ok(header.sw.is_ok() && header.data.first() == Some(&0x30) && tlv::encoded_len(&header.data).is_ok())
}

fn read_certificate(s: &mut Session<'_>, app: &App) -> Result<Vec<u8>, DriverError> {
    match app.cert_sfi {
        Some(sfi) => read_der_ef(s, &read_by_sfi(sfi, 4), "read certificate"),
        None => read_certificate_ef(s, app.cert_ef),
    }
}

/// READ BINARY naming the EF by short identifier, from offset 0; it becomes the current EF.
fn read_by_sfi(sfi: u8, ne: usize) -> Command {
    Command::new(0x00, 0xB0, 0x80 | (sfi & 0x1F), 0x00).with_le(ne)
}

/// MSE SET: the key to sign with, `<tag> 02 <key FID>`.
fn set_key(s: &mut Session<'_>, app: &App) -> Result<(), DriverError> {
    let [p1, p2] = app.mse_p1p2;
    let [hi, lo] = app.key_ef;
    let mse = Command::new(0x00, 0x22, p1, p2).with_data(&[app.key_ref_tag, 0x02, hi, lo]);
    select(s, &mse, "MANAGE SECURITY ENVIRONMENT")
}

/// PSO COMPUTE DIGITAL SIGNATURE. Extended length first, as the JMA middleware sends it; when the card
/// (or a reader in between) answers 6700 — ISO 7816-4's "wrong length", what a card without extended
/// length support says — the same block goes again with command chaining, which only needs short
/// APDUs. Any other status is the card's verdict on the signature itself and is returned as is.
fn compute_signature(s: &mut Session<'_>, data: &[u8], answer_len: usize) -> Result<Vec<u8>, DriverError> {
    const STEP: &str = "PSO COMPUTE DIGITAL SIGNATURE";
    let pso = Command::new(0x00, 0x2A, 0x9E, 0x9A).with_data(data);
    let mut resp = s.send(&pso.clone().with_le(apdu::EXTENDED_MAX_NE))?;
    if resp.sw == StatusWord(0x6700) {
        // Short Le 00 asks for up to 256 bytes; a longer signature arrives through 61xx.
        let parts = pso.with_le(answer_len.min(apdu::SHORT_MAX_NE)).chain(CHAIN_CHUNK)?;
        resp = s.send_chained(&parts)?;
    }
    if !resp.sw.is_ok() {
        return Err(DriverError::Status { step: STEP, error: CardError::from(resp.sw) });
    }
    Ok(resp.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_reference() {
        let jma_sign = JMA.sign.as_ref().unwrap();
        assert_eq!(hex::encode_upper(jma_sign.aid), "E828BD080FA000000391000000000001");
        assert_eq!(hex::encode_upper(JMA.auth.as_ref().unwrap().aid), "E828BD080FA000000391000000000002");
        assert_eq!((jma_sign.pin_ef, jma_sign.key_ef, jma_sign.cert_ef), ([0, 2], [0, 0x0C], [0, 0x16]));
        for issuer in [&JMA, &JAHIS_EXAMPLE] {
            for (_, app) in issuer.apps() {
                assert!(app.aid.starts_with(&[0xE8, 0x28, 0xBD, 0x08, 0x0F]), "{}", issuer.name);
                assert!(app.aid.len() <= 16);
            }
        }
    }

    #[test]
    fn digest_info_and_padding() {
        let di = super::super::sha256_digest_info(b"abc");
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
    fn pin_rules() {
        let pin = |s: &str| Pin(Zeroizing::new(s.to_owned()));
        assert!(JMA.check_pin(KeyRole::Sign, &pin("Pass word~")).is_ok());
        assert_eq!(JMA.check_pin(KeyRole::Auth, &pin("abc")), Err(PinFormatError::Ascii { min: 4, max: 16 }));
        assert!(JMA.check_pin(KeyRole::Auth, &pin("a".repeat(17).as_str())).is_err());
        assert!(JMA.check_pin(KeyRole::Auth, &pin("abc\u{7f}")).is_err());
        assert!(JMA.check_pin(KeyRole::Auth, &pin("パスワード")).is_err());
    }
}
