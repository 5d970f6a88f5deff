//! Broker behaviour over in-process readers holding virtual cards (`hcpki-vcard`). The same scenarios
//! run through the real pcscd in the integration tests; these pin down the broker's own logic.

use std::sync::Arc;

use super::*;
use crate::service::KeyRole;
use crate::testkit::{
    FixedPin, MemReaders, hpki_identity, hpki_p384_identity, jpki_identity, jpki_p384_identity, request, verify,
};

#[test]
fn lists_both_kinds_with_their_certificates() {
    let readers = MemReaders::with_readers(&["R0", "R1", "R2"]);
    readers.insert("R0", jpki_identity(0).card());
    readers.insert("R1", hpki_identity().card());
    let broker = Broker::new(readers);
    let list = broker.readers().unwrap();
    assert_eq!(list.len(), 3);
    let jpki = list[0].card.as_ref().unwrap();
    assert_eq!(jpki.kind, CardKind::Jpki);
    let auth = jpki.certificates.iter().find(|c| c.role == KeyRole::Auth).unwrap();
    assert_eq!(auth.chain[0], jpki_identity(0).certificates()[0].1);
    assert_eq!(jpki.card_id, driver::card_id(&auth.chain[0]));
    assert_eq!(list[1].card.as_ref().unwrap().kind, CardKind::Hpki);
    assert!(list[2].card.is_none() && !list[2].unknown_card);
}

#[test]
fn signs_and_a_warm_login_needs_at_most_eight_apdus() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers);
    let req = request(CardKind::Jpki);
    let cold = broker.sign(&req, &FixedPin::new("1234")).unwrap();
    verify(&cold.chain, &req.message, &cold.signature);
    let warm = broker.sign(&req, &FixedPin::new("1234")).unwrap();
    verify(&warm.chain, &req.message, &warm.signature);
    assert!(warm.apdus <= 8, "warm JPKI login took {} APDUs", warm.apdus);
    assert_eq!(cold.card_id, warm.card_id);
}

#[test]
fn a_p384_my_number_card_signs_a_login_in_todays_layout() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_p384_identity().card());
    let broker = Broker::new(readers);
    let req = request(CardKind::Jpki);
    let signed = broker.sign(&req, &FixedPin::new("1234")).unwrap();
    // The card answered r ‖ s; the agent hands out the DER ECDSA-Sig-Value the portal verifies.
    assert_eq!(signed.signature.first(), Some(&0x30));
    assert!(signed.signature.len() <= 104, "{}", signed.signature.len());
    verify(&signed.chain, &req.message, &signed.signature);
    let warm = broker.sign(&req, &FixedPin::new("1234")).unwrap();
    verify(&warm.chain, &req.message, &warm.signature);
    assert!(warm.apdus <= 8, "warm P-384 JPKI login took {} APDUs", warm.apdus);
}

#[test]
fn an_ec_hpki_card_signs_a_login_and_a_document_with_the_bare_hash() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", hpki_p384_identity().card());
    let broker = Broker::new(readers);
    let req = request(CardKind::Hpki);
    let signed = broker.sign(&req, &FixedPin::new("hpki1234")).unwrap();
    // r ‖ s from the card, the DER ECDSA-Sig-Value out of the agent, verified as the portal does.
    assert_eq!(signed.signature.first(), Some(&0x30));
    verify(&signed.chain, &req.message, &signed.signature);
    let warm = broker.sign(&req, &FixedPin::new("hpki1234")).unwrap();
    verify(&warm.chain, &req.message, &warm.signature);
    assert!(warm.apdus <= 8, "warm P-384 HPKI login took {} APDUs", warm.apdus);
}

#[test]
fn hpki_warm_login_needs_at_most_eight_apdus() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", hpki_identity().card());
    let broker = Broker::new(readers);
    let req = request(CardKind::Hpki);
    broker.sign(&req, &FixedPin::new("hpki1234")).unwrap();
    let warm = broker.sign(&req, &FixedPin::new("hpki1234")).unwrap();
    verify(&warm.chain, &req.message, &warm.signature);
    assert!(warm.apdus <= 8, "warm HPKI login took {} APDUs", warm.apdus);
}

#[test]
fn wrong_pins_count_down_and_the_last_try_needs_confirmation() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers);
    let req = request(CardKind::Jpki);
    let wrong = FixedPin::new("9999");
    assert!(matches!(broker.sign(&req, &wrong), Err(AgentError::WrongPin { tries_left: 2 })));
    assert!(matches!(broker.sign(&req, &wrong), Err(AgentError::WrongPin { tries_left: 1 })));
    // One try left: refused before any PIN is asked for, unless confirmed.
    let untouched = FixedPin::new("1234");
    assert!(matches!(broker.sign(&req, &untouched), Err(AgentError::LastTryNotConfirmed)));
    assert!(untouched.asked.lock().unwrap().is_empty());
    // The prompt is told it is the last try; the right PIN resets the counter.
    let confirmed = SignRequest { allow_last_try: true, ..request(CardKind::Jpki) };
    let right = FixedPin::new("1234");
    broker.sign(&confirmed, &right).unwrap();
    assert_eq!(*right.asked.lock().unwrap(), vec![Some(1)]);
    let again = FixedPin::new("1234");
    broker.sign(&req, &again).unwrap();
    assert_eq!(*again.asked.lock().unwrap(), vec![Some(3)]);
}

#[test]
fn a_blocked_pin_is_reported_without_asking() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers);
    let last = SignRequest { allow_last_try: true, ..request(CardKind::Jpki) };
    for _ in 0..3 {
        let _ = broker.sign(&last, &FixedPin::new("0000"));
    }
    let p = FixedPin::new("1234");
    assert!(matches!(broker.sign(&last, &p), Err(AgentError::PinBlocked)));
    assert!(p.asked.lock().unwrap().is_empty());
}

#[test]
fn a_badly_formed_pin_spends_no_try() {
    let readers = MemReaders::with_readers(&["R0"]);
    let card = readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers);
    assert!(matches!(broker.sign(&request(CardKind::Jpki), &FixedPin::new("12a")), Err(AgentError::BadPinFormat(_))));
    let p = FixedPin::new("1234");
    broker.sign(&request(CardKind::Jpki), &p).unwrap();
    assert_eq!(*p.asked.lock().unwrap(), vec![Some(3)]);
    assert_eq!(card.lock().unwrap().stats().signatures, 1);
}

#[test]
fn both_kinds_sign_at_the_same_time_in_two_readers() {
    let readers = MemReaders::with_readers(&["R0", "R1"]);
    readers.insert("R0", jpki_identity(0).card());
    readers.insert("R1", hpki_identity().card());
    let broker = Arc::new(Broker::new(readers));
    let threads: Vec<_> = [(CardKind::Jpki, "1234"), (CardKind::Hpki, "hpki1234")]
        .into_iter()
        .map(|(kind, pin)| {
            let broker = Arc::clone(&broker);
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let req = request(kind);
                    let s = broker.sign(&req, &FixedPin::new(pin)).unwrap();
                    verify(&s.chain, &req.message, &s.signature);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn one_reader_serves_both_kinds_one_after_another() {
    let readers = MemReaders::with_readers(&["R0"]);
    let broker = Broker::new(readers.clone());
    readers.insert("R0", jpki_identity(0).card());
    broker.sign(&request(CardKind::Jpki), &FixedPin::new("1234")).unwrap();
    readers.remove("R0");
    readers.insert("R0", hpki_identity().card());
    // No watcher told the broker of the swap: it finds the HPKI card by checking the reader again.
    let s = broker.sign(&request(CardKind::Hpki), &FixedPin::new("hpki1234")).unwrap();
    assert_eq!(s.kind, CardKind::Hpki);
    readers.remove("R0");
    readers.insert("R0", jpki_identity(0).card());
    assert_eq!(broker.sign(&request(CardKind::Jpki), &FixedPin::new("1234")).unwrap().kind, CardKind::Jpki);
}

#[test]
fn removal_during_pin_entry_fails_cleanly_and_the_card_works_again() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers.clone());
    let mut events = broker.subscribe();
    broker.readers().unwrap();
    let pulled = readers.clone();
    let prompt = FixedPin { on_ask: Some(Box::new(move || pulled.remove("R0"))), ..FixedPin::new("1234") };
    assert!(matches!(broker.sign(&request(CardKind::Jpki), &prompt), Err(AgentError::CardRemoved)));
    match events.try_recv() {
        Ok(CardEvent::Removed { reader, card_id }) => {
            assert_eq!(reader, "R0");
            assert!(card_id.is_some());
        }
        other => panic!("expected a removal event, got {other:?}"),
    }
    let card = readers.insert("R0", jpki_identity(0).card());
    broker.sign(&request(CardKind::Jpki), &FixedPin::new("1234")).unwrap();
    // No PIN try was spent by the interrupted attempt on the re-inserted card.
    assert_eq!(card.lock().unwrap().stats().signatures, 1);
}

#[test]
fn a_reinserted_card_is_recognised_without_reading_its_certificates() {
    let readers = MemReaders::with_readers(&["R0"]);
    let first = readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers.clone());
    broker.readers().unwrap();
    let cold_apdus = first.lock().unwrap().stats().apdus;
    readers.remove("R0");
    broker.readers().unwrap_or_default();
    let again = readers.insert("R0", jpki_identity(0).card());
    // Forget the stale connection as the watcher would on removal.
    if let Some(slot) = broker.find_slot("R0") {
        broker.forget_card(&slot);
    }
    let list = broker.readers().unwrap();
    let recognise_apdus = again.lock().unwrap().stats().apdus;
    assert_eq!(list[0].card.as_ref().unwrap().card_id, driver::card_id(jpki_identity(0).certificates()[0].1));
    assert!(recognise_apdus <= 4 && recognise_apdus < cold_apdus, "cold {cold_apdus}, recognised {recognise_apdus}");
    // Another card of the same kind is read in full, not mistaken for the cached one.
    readers.remove("R0");
    if let Some(slot) = broker.find_slot("R0") {
        broker.forget_card(&slot);
    }
    readers.insert("R0", jpki_identity(1).card());
    let list = broker.readers().unwrap();
    assert_eq!(list[0].card.as_ref().unwrap().card_id, driver::card_id(jpki_identity(1).certificates()[0].1));
}

#[test]
fn several_cards_of_a_kind_need_a_reader_name() {
    let readers = MemReaders::with_readers(&["R0", "R1"]);
    readers.insert("R0", jpki_identity(0).card());
    readers.insert("R1", jpki_identity(1).card());
    let broker = Broker::new(readers);
    let several = broker.sign(&request(CardKind::Jpki), &FixedPin::new("1234")).unwrap_err();
    let AgentError::SeveralCards { kind: CardKind::Jpki, readers } = &several else { panic!("{several:?}") };
    assert_eq!(readers, &["R0", "R1"]);
    assert!(several.to_string().contains("R0, R1") && several.to_string().contains("remove all but"), "{several}");
    let named = SignRequest { reader: Some("R1".into()), ..request(CardKind::Jpki) };
    let s = broker.sign(&named, &FixedPin::new("1234")).unwrap();
    assert_eq!(s.reader, "R1");
    assert!(matches!(
        broker.sign(&SignRequest { reader: Some("R9".into()), ..request(CardKind::Jpki) }, &FixedPin::new("1234")),
        Err(AgentError::NoSuchReader(_))
    ));
    let wrong = broker.sign(&request(CardKind::Hpki), &FixedPin::new("hpki1234")).unwrap_err();
    assert!(
        matches!(&wrong, AgentError::WrongCard { wanted: CardKind::Hpki, found: Some(CardKind::Jpki), reader } if reader == "R0"),
        "{wrong:?}"
    );
}

/// The card of the other kind in the reader (a physician's HPKI card when the patient's My Number card is asked
/// for, and the reverse): refused before any PIN, naming the reader and the card found; an empty reader is "no
/// card"; with both kinds in two readers each request finds its own.
#[test]
fn the_wrong_kind_of_card_is_named_and_nothing_is_asked() {
    let readers = MemReaders::with_readers(&["R0", "R1"]);
    let broker = Broker::new(readers.clone());
    let pin = FixedPin::new("1234");
    assert!(matches!(broker.sign(&request(CardKind::Jpki), &pin), Err(AgentError::NoCard(CardKind::Jpki))));
    readers.insert("R1", hpki_identity().card());
    let wrong = broker.sign(&request(CardKind::Jpki), &pin).unwrap_err();
    assert!(
        matches!(&wrong, AgentError::WrongCard { wanted: CardKind::Jpki, found: Some(CardKind::Hpki), reader } if reader == "R1"),
        "{wrong:?}"
    );
    assert!(wrong.to_string().contains("\"R1\" is a hpki card, not a jpki card"), "{wrong}");
    let named = SignRequest { reader: Some("R1".into()), ..request(CardKind::Jpki) };
    assert!(matches!(broker.sign(&named, &pin), Err(AgentError::WrongCard { .. })));
    readers.remove("R1");
    // What the watcher does on the removal (these readers have none).
    broker.forget_card(&broker.find_slot("R1").unwrap());
    readers.insert("R1", jpki_identity(0).card());
    let wrong = broker.sign(&request(CardKind::Hpki), &FixedPin::new("hpki1234")).unwrap_err();
    assert!(matches!(&wrong, AgentError::WrongCard { wanted: CardKind::Hpki, found: Some(CardKind::Jpki), .. }));
    assert!(pin.asked.lock().unwrap().is_empty(), "a PIN was asked for the wrong card");
    readers.insert("R0", hpki_identity().card());
    broker.sign(&request(CardKind::Jpki), &pin).unwrap();
    broker.sign(&request(CardKind::Hpki), &FixedPin::new("hpki1234")).unwrap();
}

#[test]
fn watcher_events_follow_insertion_and_removal() {
    let readers = MemReaders::with_readers(&["R0"]);
    let broker = Broker::new(readers.clone());
    let mut events = broker.subscribe();
    readers.insert("R0", jpki_identity(0).card());
    broker.apply(ReaderChange::CardInserted { reader: "R0".into(), atr: vec![] });
    readers.remove("R0");
    broker.apply(ReaderChange::CardRemoved("R0".into()));
    broker.apply(ReaderChange::ReaderRemoved("R0".into()));
    let got: Vec<CardEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    let id = driver::card_id(jpki_identity(0).certificates()[0].1);
    assert_eq!(
        got,
        vec![
            CardEvent::Inserted { reader: "R0".into(), kind: Some(CardKind::Jpki), card_id: Some(id.clone()) },
            CardEvent::Removed { reader: "R0".into(), card_id: Some(id) },
            CardEvent::ReaderRemoved { reader: "R0".into() },
        ]
    );
}

#[test]
fn looking_for_a_missing_card_emits_no_spurious_events() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers);
    broker.readers().unwrap();
    let mut events = broker.subscribe();
    assert!(matches!(
        broker.sign(&request(CardKind::Hpki), &FixedPin::new("hpki1234")),
        Err(AgentError::WrongCard { .. })
    ));
    // The JPKI card was read again to be sure, but it is the same card: nobody is told it left.
    assert!(events.try_recv().is_err());
    broker.sign(&request(CardKind::Jpki), &FixedPin::new("1234")).unwrap();
}

#[test]
fn pin_status_spends_no_try() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers);
    for _ in 0..3 {
        assert_eq!(broker.pin_status(None, CardKind::Jpki, KeyRole::Auth).unwrap(), PinStatus::TriesLeft(3));
    }
    assert_eq!(broker.pin_status(None, CardKind::Jpki, KeyRole::Sign).unwrap(), PinStatus::TriesLeft(5));
    let _ = broker.sign(&request(CardKind::Jpki), &FixedPin::new("0000"));
    assert_eq!(broker.pin_status(None, CardKind::Jpki, KeyRole::Auth).unwrap(), PinStatus::TriesLeft(2));
}

#[test]
fn basic_four_items_after_the_text_pin() {
    let readers = MemReaders::with_readers(&["R0", "R1"]);
    readers.insert("R0", jpki_identity(0).card());
    readers.insert("R1", hpki_identity().card());
    let broker = Broker::new(readers);
    let hcpki_vcard::identity::Identity::Jpki(id) = jpki_identity(0) else { unreachable!() };
    let asked = std::sync::Mutex::new(Vec::new());
    let ask = |tries: Option<u8>| {
        asked.lock().unwrap().push(tries);
        Ok(Pin(zeroize::Zeroizing::new("1234".to_owned())))
    };
    let a = broker.basic_attributes(None, false, &ask).unwrap();
    assert_eq!(a.name, id.subject.attributes.name);
    assert_eq!(a.address, id.subject.attributes.address);
    assert_eq!(a.birth_date, id.subject.attributes.birth_date);
    assert_eq!(a.sex, id.subject.attributes.sex);
    assert_eq!(*asked.lock().unwrap(), vec![Some(3)]);
    let wrong = |_: Option<u8>| Ok(Pin(zeroize::Zeroizing::new("9999".to_owned())));
    assert!(matches!(broker.basic_attributes(None, false, &wrong), Err(AgentError::WrongPin { tries_left: 2 })));
    assert!(matches!(broker.basic_attributes(None, false, &wrong), Err(AgentError::WrongPin { tries_left: 1 })));
    assert!(matches!(broker.basic_attributes(None, false, &ask), Err(AgentError::LastTryNotConfirmed)));
    let bad_format = |_: Option<u8>| Ok(Pin(zeroize::Zeroizing::new("12".to_owned())));
    assert!(matches!(broker.basic_attributes(None, true, &bad_format), Err(AgentError::BadPinFormat(_))));
    broker.basic_attributes(None, true, &ask).unwrap();
}

/// Windows' own components and vendor middleware reset a card just inserted, several times (issue #44): the agent
/// reconnects and starts the step again from its SELECT, the login goes through, and the card signed once.
#[test]
fn another_programs_resets_are_answered_by_reconnecting() {
    let readers = MemReaders::with_readers(&["R0"]);
    let card = readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers.clone());
    broker.readers().unwrap();
    let resets_before = card.lock().unwrap().stats().resets;
    readers.interfere("R0", &[TransportError::Reset, TransportError::Reset, TransportError::Reset]);
    let signed = broker.sign(&request(CardKind::Jpki), &FixedPin::new("1234")).unwrap();
    verify(&signed.chain, &request(CardKind::Jpki).message, &signed.signature);
    assert_eq!(card.lock().unwrap().stats().resets, resets_before + 3);
    assert_eq!(card.lock().unwrap().stats().signatures, 1);
}

/// A program that keeps resetting the card is named as the cause; the agent does not loop, and no PIN try is spent.
#[test]
fn a_card_reset_again_and_again_is_reported() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_identity(0).card());
    let broker = Broker::new(readers.clone());
    broker.readers().unwrap();
    readers.interfere("R0", &[const { TransportError::Reset }; 4]);
    let pin = FixedPin::new("1234");
    let err = broker.sign(&request(CardKind::Jpki), &pin).unwrap_err();
    assert!(err.to_string().contains("reset the card 4 times"), "{err}");
    assert!(pin.asked.lock().unwrap().is_empty(), "asked for a PIN although the card could not be read");
    assert_eq!(broker.pin_status(None, CardKind::Jpki, KeyRole::Auth).unwrap(), PinStatus::TriesLeft(3));
}

/// A card held exclusively by another program for a moment (its middleware reading a card just inserted) is waited
/// for, at connection and inside an operation.
#[test]
fn an_exclusive_hold_by_another_program_is_waited_out() {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", hpki_identity().card());
    readers.interfere("R0", &[TransportError::Sharing, TransportError::Sharing]);
    let broker = Broker::new(readers.clone());
    let listed = broker.readers().unwrap();
    assert_eq!(listed[0].card.as_ref().map(|c| c.kind), Some(CardKind::Hpki), "{listed:?}");
    readers.interfere("R0", &[TransportError::Sharing]);
    broker.sign(&request(CardKind::Hpki), &FixedPin::new("hpki1234")).unwrap();
}

/// Windows stops its Smart Card service when the last reader is unplugged (issue #44): the watcher waits for the
/// service through the backend (Windows: its started event) rather than polling, and carries on without a restart
/// when it is back: the card in the reader plugged in again is announced.
#[test]
fn the_watcher_waits_for_the_service_and_carries_on_when_it_is_back() {
    use std::sync::atomic::AtomicUsize;

    struct ServiceStopped {
        inner: MemReaders,
        down_for: AtomicUsize,
        waits: Arc<AtomicUsize>,
    }
    struct Plugged(bool);
    impl ReaderWatcher for Plugged {
        fn wait(&mut self, timeout: Duration) -> Result<Vec<ReaderChange>, TransportError> {
            if std::mem::replace(&mut self.0, false) {
                return Ok(vec![
                    ReaderChange::ReaderAdded("R0".into()),
                    ReaderChange::CardInserted { reader: "R0".into(), atr: vec![] },
                ]);
            }
            std::thread::sleep(timeout);
            Ok(Vec::new())
        }
    }
    impl ReaderBackend for ServiceStopped {
        fn readers(&self) -> Result<Vec<String>, TransportError> {
            self.inner.readers()
        }
        fn connect(&self, reader: &str) -> Result<Box<dyn Connection>, TransportError> {
            self.inner.connect(reader)
        }
        fn watcher(&self) -> Result<Box<dyn ReaderWatcher>, TransportError> {
            let left = self.down_for.load(Ordering::SeqCst);
            if left > 0 {
                self.down_for.store(left - 1, Ordering::SeqCst);
                return Err(TransportError::NoService("SCARD_E_NO_SERVICE".into()));
            }
            Ok(Box::new(Plugged(true)))
        }
        fn wait_for_service(&self, _timeout: Duration) {
            self.waits.fetch_add(1, Ordering::SeqCst);
        }
    }

    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", hpki_identity().card());
    let waits = Arc::new(AtomicUsize::new(0));
    let broker = Arc::new(Broker::new(ServiceStopped {
        inner: readers,
        down_for: AtomicUsize::new(3),
        waits: Arc::clone(&waits),
    }));
    let mut events = broker.subscribe();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = broker.spawn_watcher(Arc::clone(&stop)).unwrap();
    let inserted = loop {
        match events.blocking_recv().unwrap() {
            CardEvent::Inserted { kind, .. } => break kind,
            _ => continue,
        }
    };
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    assert_eq!(inserted, Some(CardKind::Hpki));
    assert_eq!(waits.load(Ordering::SeqCst), 3, "one wait for the service per failed attempt, no busy polling");
}
