//! Test fixtures shared by the unit tests: virtual cards in in-process readers, a fixed PIN prompt,
//! signature verification.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use hcpki_vcard::card::VirtualCard;
use hcpki_vcard::hpki::HpkiLayout;
use hcpki_vcard::identity::{HpkiPins, Identity, IdentityRequest, JpkiPins};
use zeroize::Zeroizing;

use crate::readers::{ReaderBackend, ReaderWatcher};
use crate::service::{AgentError, CardKind, Pin, PinPrompt, PinQuestion, SignRequest, login_message};
use crate::transport::func::{FnCard, PadKeys};
use crate::transport::{Connection, TransportError};

pub fn jpki_identity(n: usize) -> &'static Identity {
    static IDS: OnceLock<Vec<Identity>> = OnceLock::new();
    let ids = IDS.get_or_init(|| {
        (0..2)
            .map(|_| {
                Identity::generate(&IdentityRequest::Jpki {
                    subject: Default::default(),
                    pins: JpkiPins::default(),
                    algorithm: Default::default(),
                })
                .unwrap()
            })
            .collect()
    });
    &ids[n]
}

/// A My Number card of the next generation: ECDSA P-384 keys and roots, today's file layout (D153).
pub fn jpki_p384_identity() -> &'static Identity {
    static ID: OnceLock<Identity> = OnceLock::new();
    ID.get_or_init(|| {
        Identity::generate(&IdentityRequest::Jpki {
            subject: Default::default(),
            pins: JpkiPins::default(),
            algorithm: hcpki_vcard::key::CardAlgorithm::P384,
        })
        .unwrap()
    })
}

pub fn hpki_identity() -> &'static Identity {
    static ID: OnceLock<Identity> = OnceLock::new();
    ID.get_or_init(|| hpki_identity_for(hcpki_vcard::key::CardAlgorithm::Rsa2048))
}

/// An HPKI card (JMA layout) whose keys are ECDSA P-384 (D177).
pub fn hpki_p384_identity() -> &'static Identity {
    static ID: OnceLock<Identity> = OnceLock::new();
    ID.get_or_init(|| hpki_identity_for(hcpki_vcard::key::CardAlgorithm::P384))
}

fn hpki_identity_for(algorithm: hcpki_vcard::key::CardAlgorithm) -> Identity {
    Identity::generate(&IdentityRequest::Hpki {
        subject: Default::default(),
        layout: HpkiLayout::JMA,
        pins: HpkiPins::default(),
        algorithm,
    })
    .unwrap()
}

/// A reader's generation (bumped on every insertion and removal) and its card.
type ReaderSlot = (u64, Option<Arc<Mutex<VirtualCard>>>);

/// Readers whose cards are shared `VirtualCard`s. Removing a card bumps the reader's generation, so
/// connections made before answer "removed", as PC/SC handles do.
#[derive(Default, Clone)]
pub struct MemReaders {
    inner: Arc<Mutex<HashMap<String, ReaderSlot>>>,
    order: Arc<Mutex<Vec<String>>>,
    /// What other programs do to each reader's card before the agent's next calls (`interfere`).
    others: Arc<Mutex<HashMap<String, VecDeque<TransportError>>>>,
    /// Readers with an emulated PIN pad, and what the person does on it (`with_pin_pad`).
    pads: Arc<Mutex<HashMap<String, PadKeys>>>,
}

impl MemReaders {
    pub fn with_readers(names: &[&str]) -> Self {
        let r = MemReaders::default();
        for n in names {
            r.inner.lock().unwrap().insert((*n).to_owned(), (0, None));
            r.order.lock().unwrap().push((*n).to_owned());
        }
        r
    }

    pub fn insert(&self, reader: &str, card: VirtualCard) -> Arc<Mutex<VirtualCard>> {
        let card = Arc::new(Mutex::new(card));
        let mut inner = self.inner.lock().unwrap();
        let slot = inner.get_mut(reader).unwrap();
        slot.0 += 1;
        slot.1 = Some(Arc::clone(&card));
        card
    }

    /// Another program on `reader`'s card, as Windows' components and vendor middleware do to a card just inserted
    /// (issue #44): each fault answers one of the agent's next calls, in order — `Sharing` its next connection or
    /// APDU (the card held exclusively), `Reset` its next APDU (and the card really is reset: what was selected and
    /// verified is gone).
    pub fn interfere(&self, reader: &str, faults: &[TransportError]) {
        self.others.lock().unwrap().entry(reader.to_owned()).or_default().extend(faults.iter().cloned());
    }

    /// Makes `reader` a PIN-pad reader ([`FnCard`]'s emulation) where the person does `keys` at the next VERIFY.
    pub fn with_pin_pad(&self, reader: &str, keys: PadKeys) {
        self.pads.lock().unwrap().insert(reader.to_owned(), keys);
    }

    pub fn remove(&self, reader: &str) {
        let mut inner = self.inner.lock().unwrap();
        let slot = inner.get_mut(reader).unwrap();
        slot.0 += 1;
        slot.1 = None;
    }
}

impl ReaderBackend for MemReaders {
    fn readers(&self) -> Result<Vec<String>, TransportError> {
        Ok(self.order.lock().unwrap().clone())
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn Connection>, TransportError> {
        let inner = self.inner.lock().unwrap();
        let (generation, card) = inner.get(reader).ok_or_else(|| TransportError::UnknownReader(reader.into()))?;
        let card = card.clone().ok_or(TransportError::NoCard)?;
        {
            let mut others = self.others.lock().unwrap();
            let pending = others.entry(reader.to_owned()).or_default();
            if pending.front() == Some(&TransportError::Sharing) {
                pending.pop_front();
                return Err(TransportError::Sharing);
            }
        }
        let atr = card.lock().unwrap().atr().to_vec();
        let pad = self.pads.lock().unwrap().get(reader).cloned();
        let (generation, readers, name, others) =
            (*generation, self.inner.clone(), reader.to_owned(), self.others.clone());
        Ok(Box::new(
            FnCard::fallible(atr, move |capdu| {
                let current = readers.lock().unwrap().get(&name).map(|(g, _)| *g);
                if current != Some(generation) {
                    return Err(TransportError::Removed);
                }
                if let Some(fault) = others.lock().unwrap().get_mut(&name).and_then(VecDeque::pop_front) {
                    if fault == TransportError::Reset {
                        card.lock().unwrap().reset();
                    }
                    return Err(fault);
                }
                Ok(card.lock().unwrap().process(capdu))
            })
            .with_pad(pad),
        ))
    }

    fn watcher(&self) -> Result<Box<dyn ReaderWatcher>, TransportError> {
        Err(TransportError::NoService("no watcher in these tests".into()))
    }
}

/// Answers with a fixed PIN and records what it was told.
pub struct FixedPin {
    pub pin: &'static str,
    pub asked: Mutex<Vec<Option<u8>>>,
    pub on_ask: Option<Box<dyn Fn() + Send + Sync>>,
}

impl FixedPin {
    pub fn new(pin: &'static str) -> Self {
        FixedPin { pin, asked: Mutex::new(Vec::new()), on_ask: None }
    }
}

impl PinPrompt for FixedPin {
    fn ask(&self, question: &PinQuestion) -> Result<Pin, AgentError> {
        self.asked.lock().unwrap().push(question.tries_left);
        if let Some(hook) = &self.on_ask {
            hook();
        }
        Ok(Pin(Zeroizing::new(self.pin.to_owned())))
    }
}

pub fn request(kind: CardKind) -> SignRequest {
    SignRequest {
        reader: None,
        kind,
        message: login_message("https://portal.example", b"challenge-0123456789"),
        allow_last_try: false,
    }
}

/// Verifies the card's signature over `message` with the end-entity certificate's key, as the portal does:
/// sha256WithRSAEncryption, or ECDSA P-384 / SHA-384 as DER (D153).
pub fn verify(chain: &[Vec<u8>], message: &[u8], signature: &[u8]) {
    use der::Decode as _;
    let cert = x509_cert::Certificate::from_der(&chain[0]).unwrap();
    let spki = cert.tbs_certificate().subject_public_key_info();
    hcpki_pkix::card_signature::verify(spki, message, signature)
        .expect("the card's signature verifies with its certificate");
}
