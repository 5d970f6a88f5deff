//! The vpcd framing and the card's life cycle against a local listener playing vpcd (127.0.0.1 only).

use super::*;
use crate::card::TranscriptEntry;
use crate::test_support::jpki_card;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

const SELECT_JPKI: &str = "00A4040C0AD392F000260100000001";

/// The vpcd end: accepts the card and talks to it the way vpcd 0.8 does.
struct FakeVpcd {
    listener: TcpListener,
}

impl FakeVpcd {
    fn new() -> Self {
        Self { listener: TcpListener::bind("127.0.0.1:0").unwrap() }
    }

    fn target(&self) -> VpcdTarget {
        VpcdTarget::new("127.0.0.1", self.listener.local_addr().unwrap().port()).with_connect_attempts(1)
    }

    fn accept(&self) -> TcpStream {
        let (stream, _) = self.listener.accept().unwrap();
        // A broken card must fail the test, not hang it.
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    }
}

/// Length and payload in two writes, as vpcd 0.8 sends them.
fn send(stream: &mut TcpStream, payload: &[u8]) {
    stream.write_all(&u16::try_from(payload.len()).unwrap().to_be_bytes()).unwrap();
    stream.write_all(payload).unwrap();
}

fn recv(stream: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).unwrap();
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload).unwrap();
    payload
}

fn transmit(stream: &mut TcpStream, capdu_hex: &str) -> Vec<u8> {
    send(stream, &hex::decode(capdu_hex).unwrap());
    recv(stream)
}

/// The card closed its end: the next read sees end of file (or a reset), never a frame.
fn assert_closed(stream: &mut TcpStream) {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => {}
        Ok(_) => panic!("the card sent data instead of closing"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
}

#[test]
fn answers_control_messages_and_apdus_like_a_card_in_vpcd() {
    let vpcd = FakeVpcd::new();
    let mut card = VpcdCard::new(jpki_card());
    card.card().set_recording(true);
    card.insert(vpcd.target()).unwrap();
    let mut s = vpcd.accept();
    assert!(card.is_inserted());
    assert_eq!(card.connections(), 1);

    assert_eq!(recv_after(&mut s, &[0x04]), crate::jpki::JPKI_ATR);
    assert!(!card.wait_powered(Duration::ZERO), "asking for the ATR is not powering");
    // Power on has no reply: the next frame is the answer to the next get-ATR.
    send(&mut s, &[0x01]);
    assert!(card.wait_powered(Duration::from_secs(10)));
    assert_eq!(recv_after(&mut s, &[0x04]), crate::jpki::JPKI_ATR);
    assert_eq!(transmit(&mut s, SELECT_JPKI), [0x90, 0x00]);
    // A reply longer than 255 bytes: the length's high byte matters.
    assert_eq!(transmit(&mut s, "00A4020C02000A"), [0x90, 0x00]);
    let chunk = transmit(&mut s, "00B0000000");
    assert_eq!(chunk.len(), 258);
    assert_eq!(chunk[..256], crate::test_support::jpki_identity().credentials.auth.cert[..256]);
    // Power off: commands fail until power on; reset powers too.
    send(&mut s, &[0x00]);
    assert_eq!(transmit(&mut s, SELECT_JPKI), [0x6F, 0x00]);
    send(&mut s, &[0x02]);
    assert_eq!(transmit(&mut s, SELECT_JPKI), [0x90, 0x00]);
    // An unknown control byte is ignored without a reply.
    send(&mut s, &[0x07]);
    assert_eq!(recv_after(&mut s, &[0x04]), crate::jpki::JPKI_ATR);

    let transcript = card.card().take_transcript();
    let kinds: Vec<&str> = transcript
        .iter()
        .map(|e| match e {
            TranscriptEntry::PowerOn => "on",
            TranscriptEntry::PowerOff => "off",
            TranscriptEntry::Reset => "reset",
            TranscriptEntry::Apdu { .. } => "apdu",
        })
        .collect();
    // The first "on" is the insertion itself (a reader powers what is inserted), the second vpcd's.
    assert_eq!(kinds, ["on", "on", "apdu", "apdu", "apdu", "off", "apdu", "reset", "apdu"]);
    assert_eq!(card.card().stats().apdus, 5);

    card.remove();
    assert!(!card.is_inserted());
    assert_closed(&mut s);
}

fn recv_after(stream: &mut TcpStream, message: &[u8]) -> Vec<u8> {
    send(stream, message);
    recv(stream)
}

#[test]
fn pulls_the_card_after_n_apdus() {
    let vpcd = FakeVpcd::new();
    let mut card = VpcdCard::new(jpki_card());
    card.insert(vpcd.target()).unwrap();
    let mut s = vpcd.accept();
    card.remove_after_apdus(2);
    assert_eq!(transmit(&mut s, SELECT_JPKI), [0x90, 0x00]);
    // Presence polls in between do not count.
    assert_eq!(recv_after(&mut s, &[0x04]), crate::jpki::JPKI_ATR);
    assert_eq!(transmit(&mut s, "00A4020C020018"), [0x90, 0x00]);
    assert!(card.is_inserted());
    // The third command finds the card gone: no answer, the connection closes.
    send(&mut s, &hex::decode("00200080").unwrap());
    assert_closed(&mut s);
    assert!(card.wait_removed(Duration::from_secs(10)));
    assert!(!card.is_inserted());
    assert_eq!(card.card().stats().apdus, 2);
    // Pulled for good: no reconnection.
    vpcd.listener.set_nonblocking(true).unwrap();
    assert!(vpcd.listener.accept().is_err());
}

#[test]
fn reconnects_when_vpcd_closes() {
    let vpcd = FakeVpcd::new();
    let mut card = VpcdCard::new(jpki_card());
    card.insert(vpcd.target()).unwrap();
    let s = vpcd.accept();
    drop(s);
    // vpcd (pcscd) came back: the card connects again by itself, and is powered as a new card.
    let mut s = vpcd.accept();
    send(&mut s, &[0x01]);
    assert_eq!(transmit(&mut s, SELECT_JPKI), [0x90, 0x00]);
    assert!(card.is_inserted());
    assert_eq!(card.connections(), 2);
    drop(card);
    assert_closed(&mut s);
}

#[test]
fn remove_and_insert_again() {
    let vpcd = FakeVpcd::new();
    let mut card = VpcdCard::new(jpki_card());
    card.remove();
    assert!(!card.is_inserted());
    assert!(card.wait_removed(Duration::ZERO));
    card.insert(vpcd.target()).unwrap();
    let mut s = vpcd.accept();
    assert_eq!(transmit(&mut s, SELECT_JPKI), [0x90, 0x00]);
    card.remove();
    assert_closed(&mut s);
    // Removal cut the power; inserting again powers the card with a fresh session (no application
    // selected), whether or not vpcd sends its own power-on (pcscd skips it after a card vanished
    // mid-exchange).
    card.insert(vpcd.target()).unwrap();
    let mut s = vpcd.accept();
    assert_eq!(transmit(&mut s, "00A4020C02000A"), [0x6A, 0x82]);
    send(&mut s, &[0x01]);
    assert_eq!(transmit(&mut s, "00A4020C02000A"), [0x6A, 0x82]);
    assert_eq!(card.connections(), 2);
    // PIN counters and stats are the card's own and live on across insertions.
    assert_eq!(card.card().stats().apdus, 3);
}

#[test]
fn unreachable_vpcd_is_an_error_not_a_hang() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut card = VpcdCard::new(jpki_card());
    let err = card.insert(VpcdTarget::new("127.0.0.1", port).with_connect_attempts(2)).unwrap_err();
    assert!(matches!(err, VpcdError::Unreachable { attempts: 2, .. }), "{err:?}");
    assert!(err.to_string().contains("scripts/pcsc-stack start"), "{err}");
    assert!(!card.is_inserted());
    assert_eq!(card.connections(), 0);
}

#[test]
fn a_missing_network_namespace_is_an_error() {
    let mut card = VpcdCard::new(jpki_card());
    let err = card.insert(VpcdTarget::reader(0).in_named_netns("hcpki-no-such-netns")).unwrap_err();
    assert!(matches!(&err, VpcdError::Netns { path, .. } if path.ends_with("hcpki-no-such-netns")), "{err:?}");
    assert!(!card.is_inserted());
}

#[test]
fn targets() {
    assert_eq!(VpcdTarget::reader(1).port, 35964);
    assert_eq!(VpcdTarget::reader(0).host, "127.0.0.1");
    let t = VpcdTarget::reader(0).in_named_netns("hcpki-pcsc");
    assert_eq!(t.to_string(), "vpcd at 127.0.0.1:35963 in network namespace /run/netns/hcpki-pcsc");
    assert!(t.quickack && !t.with_quickack(false).quickack);
    assert_eq!(VpcdTarget::reader(0).with_connect_attempts(0).connect_attempts, 1);
}
