//! The JPKI card as OpenSC's `jpki` driver and the myna tools talk to it (reference §1.2–§1.4).

use super::*;
use crate::card::VirtualCard;
use crate::test_support::{case3, jpki_card, jpki_identity, send, send_hex, sha256_digest_info, sw, tlvs, verifies};

const SELECT_JPKI: &str = "00A4040C0AD392F000260100000001";
const SELECT_TEXT: &str = "00A4040C0AD3921000310001010408";

fn select_ef(card: &mut VirtualCard, fid: u16) -> u16 {
    let [hi, lo] = fid.to_be_bytes();
    send(card, &[0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo]).1
}

fn verify(card: &mut VirtualCard, pin_fid: u16, pin: &str) -> u16 {
    assert_eq!(select_ef(card, pin_fid), 0x9000);
    send(card, &case3([0x00, 0x20, 0x00, 0x80], pin.as_bytes())).1
}

/// `00 20 00 80` without data on the PIN EF that is current.
fn query(card: &mut VirtualCard) -> u16 {
    sw(card, "00200080")
}

/// What OpenSC does: 4 bytes for the DER header, then 256-byte chunks at increasing offsets, the last
/// one with the exact remaining length.
fn read_certificate_like_opensc(card: &mut VirtualCard, fid: u16) -> Result<Vec<u8>, u16> {
    assert_eq!(select_ef(card, fid), 0x9000);
    let (head, sw) = send_hex(card, "00B0000004");
    if sw != 0x9000 {
        return Err(sw);
    }
    assert_eq!(head[..2], [0x30, 0x82], "a certificate starts 30 82");
    let total = usize::from(u16::from_be_bytes([head[2], head[3]])) + 4;
    let mut out = Vec::new();
    while out.len() < total {
        let [p1, p2] = u16::try_from(out.len()).unwrap().to_be_bytes();
        let le = (total - out.len()).min(256);
        let (chunk, sw) = send(card, &[0x00, 0xB0, p1, p2, le as u8]);
        assert_eq!(sw, 0x9000, "read at {}", out.len());
        assert_eq!(chunk.len(), le);
        out.extend(chunk);
    }
    Ok(out)
}

#[test]
fn answers_with_the_atr_opensc_matches() {
    let card = jpki_card();
    assert_eq!(card.atr(), hex::decode("3BE000FF8131FE4514").unwrap());
}

#[test]
fn reads_every_free_certificate_in_256_byte_chunks() {
    let id = jpki_identity();
    let mut card = jpki_card();
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    for (fid, expected) in [
        (fid::AUTH_CERT, &id.credentials.auth.cert),
        (fid::AUTH_CA, &id.credentials.auth_root),
        (fid::SIGN_CA, &id.credentials.sign_root),
    ] {
        assert!(expected.len() > 512, "the test wants several chunks");
        assert_eq!(read_certificate_like_opensc(&mut card, fid).as_ref(), Ok(expected), "EF {fid:04X}");
    }
    // Le 00 means "up to 256": the last chunk is short and still 9000 (myna reads this way).
    let cert = &id.credentials.auth.cert;
    assert_eq!(select_ef(&mut card, fid::AUTH_CERT), 0x9000);
    let last = cert.len() / 256 * 256;
    let [p1, p2] = u16::try_from(last).unwrap().to_be_bytes();
    let (chunk, sw) = send(&mut card, &[0x00, 0xB0, p1, p2, 0x00]);
    assert_eq!((chunk.as_slice(), sw), (&cert[last..], 0x9000));
    // An explicit Le past the end: what there is, with 6282.
    let (chunk, sw) = send(&mut card, &[0x00, 0xB0, p1, p2, 0xFF]);
    assert_eq!((chunk.as_slice(), sw), (&cert[last..], 0x6282));
    // An offset beyond the file.
    assert_eq!(sw_of(&mut card, &[0x00, 0xB0, 0x7F, 0x00, 0x00]), 0x6B00);
}

fn sw_of(card: &mut VirtualCard, capdu: &[u8]) -> u16 {
    send(card, capdu).1
}

#[test]
fn token_ef_is_the_physical_card_token() {
    let mut card = jpki_card();
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    assert_eq!(select_ef(&mut card, fid::TOKEN), 0x9000);
    let (data, sw) = send_hex(&mut card, "00B0000020");
    assert_eq!(sw, 0x9000);
    assert_eq!(&data[..14], b"JPKIAPICCTOKEN");
    assert!(data[14..].iter().all(|b| *b == 0));
}

#[test]
fn signing_certificate_needs_the_signing_password() {
    let id = jpki_identity();
    let mut card = jpki_card();
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    assert_eq!(read_certificate_like_opensc(&mut card, fid::SIGN_CERT), Err(0x6982));
    // The auth PIN does not open it.
    assert_eq!(verify(&mut card, fid::AUTH_PIN, "1234"), 0x9000);
    assert_eq!(read_certificate_like_opensc(&mut card, fid::SIGN_CERT), Err(0x6982));
    assert_eq!(verify(&mut card, fid::SIGN_PIN, "SIGN1234"), 0x9000);
    assert_eq!(read_certificate_like_opensc(&mut card, fid::SIGN_CERT).as_ref(), Ok(&id.credentials.sign.cert));
}

#[test]
fn retry_counter_query_does_not_spend_a_try() {
    let mut card = jpki_card();
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    assert_eq!(select_ef(&mut card, fid::AUTH_PIN), 0x9000);
    for _ in 0..5 {
        assert_eq!(query(&mut card), 0x63C3);
    }
    assert_eq!(select_ef(&mut card, fid::SIGN_PIN), 0x9000);
    assert_eq!(query(&mut card), 0x63C5);
    assert_eq!(tries(&card, JpkiPin::Auth), 3);
    assert_eq!(tries(&card, JpkiPin::Sign), 5);
    // VERIFY needs a PIN EF current; on a certificate EF there is nothing to verify.
    assert_eq!(select_ef(&mut card, fid::AUTH_CERT), 0x9000);
    assert_eq!(query(&mut card), 0x6986);
    // Only P1P2 = 0080 exists.
    assert_eq!(select_ef(&mut card, fid::AUTH_PIN), 0x9000);
    assert_eq!(sw(&mut card, "00200081"), 0x6A86);
}

fn tries(card: &VirtualCard, pin: JpkiPin) -> u8 {
    match card.emulated() {
        crate::card::Emulated::Jpki(c) => c.tries_left(pin),
        crate::card::Emulated::Hpki(_) => unreachable!(),
    }
}

#[test]
fn wrong_pins_count_down_then_block() {
    let mut card = jpki_card();
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    assert_eq!(verify(&mut card, fid::AUTH_PIN, "0000"), 0x63C2);
    assert_eq!(tries(&card, JpkiPin::Auth), 2);
    // A right PIN resets the counter.
    assert_eq!(verify(&mut card, fid::AUTH_PIN, "1234"), 0x9000);
    assert_eq!(tries(&card, JpkiPin::Auth), 3);
    // Once verified, the query says so.
    assert_eq!(query(&mut card), 0x9000);
    for expected in [0x63C2, 0x63C1, 0x63C0] {
        assert_eq!(verify(&mut card, fid::AUTH_PIN, "9999"), expected);
    }
    // A failure also dropped the earlier success.
    assert_eq!(select_ef(&mut card, fid::AUTH_KEY), 0x9000);
    let sign = case3([0x80, 0x2A, 0x00, 0x80], &sha256_digest_info(b"m"));
    assert_eq!(sw_of(&mut card, &[sign.as_slice(), &[0x00]].concat()), 0x6982);
    // Blocked: even the right PIN is refused, and the query says blocked.
    assert_eq!(verify(&mut card, fid::AUTH_PIN, "1234"), 0x6983);
    assert_eq!(query(&mut card), 0x6983);
    assert_eq!(tries(&card, JpkiPin::Auth), 0);
    // The other PINs are untouched.
    assert_eq!(tries(&card, JpkiPin::Sign), 5);
    // Blocking survives a reset (the counter is persistent).
    card.reset();
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    assert_eq!(select_ef(&mut card, fid::AUTH_PIN), 0x9000);
    assert_eq!(query(&mut card), 0x6983);
}

#[test]
fn signing_password_blocks_after_five() {
    let mut card = jpki_card();
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    for expected in [0x63C4, 0x63C3, 0x63C2, 0x63C1, 0x63C0] {
        assert_eq!(verify(&mut card, fid::SIGN_PIN, "WRONG1"), expected);
    }
    assert_eq!(verify(&mut card, fid::SIGN_PIN, "SIGN1234"), 0x6983);
    // A PIN of impossible length is refused before comparing: no try spent on the auth PIN.
    assert_eq!(verify(&mut card, fid::AUTH_PIN, "12345"), 0x6700);
    assert_eq!(tries(&card, JpkiPin::Auth), 3);
}

#[test]
fn signs_a_digest_info_that_verifies_with_the_certificate() {
    let id = jpki_identity();
    let mut card = jpki_card();
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    let msg = b"portal challenge 1";
    let command = |di: &[u8]| [case3([0x80, 0x2A, 0x00, 0x80], di).as_slice(), &[0x00]].concat();

    // No PIN yet.
    assert_eq!(select_ef(&mut card, fid::AUTH_KEY), 0x9000);
    assert_eq!(sw_of(&mut card, &command(&sha256_digest_info(msg))), 0x6982);

    assert_eq!(verify(&mut card, fid::AUTH_PIN, "1234"), 0x9000);
    assert_eq!(select_ef(&mut card, fid::AUTH_KEY), 0x9000);
    let (sig, sw) = send(&mut card, &command(&sha256_digest_info(msg)));
    assert_eq!(sw, 0x9000);
    assert_eq!(sig.len(), 256);
    assert!(verifies(&id.credentials.auth.cert, msg, &sig));
    assert!(!verifies(&id.credentials.sign.cert, msg, &sig));
    // The auth PIN stays verified for further signatures in the session.
    let (sig2, sw) = send(&mut card, &command(&sha256_digest_info(b"second")));
    assert_eq!(sw, 0x9000);
    assert!(verifies(&id.credentials.auth.cert, b"second", &sig2));

    // The signing key wants the signing password, not the auth PIN.
    assert_eq!(select_ef(&mut card, fid::SIGN_KEY), 0x9000);
    assert_eq!(sw_of(&mut card, &command(&sha256_digest_info(msg))), 0x6982);
    assert_eq!(verify(&mut card, fid::SIGN_PIN, "SIGN1234"), 0x9000);
    assert_eq!(select_ef(&mut card, fid::SIGN_KEY), 0x9000);
    let (sig, sw) = send(&mut card, &command(&sha256_digest_info(msg)));
    assert_eq!(sw, 0x9000);
    assert!(verifies(&id.credentials.sign.cert, msg, &sig));
    assert_eq!(card.stats().signatures, 3);
}

#[test]
fn signing_refuses_malformed_commands() {
    let mut card = jpki_card();
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    assert_eq!(verify(&mut card, fid::AUTH_PIN, "1234"), 0x9000);
    // Without a key EF current.
    assert_eq!(select_ef(&mut card, fid::AUTH_CERT), 0x9000);
    let di = sha256_digest_info(b"m");
    let good = [case3([0x80, 0x2A, 0x00, 0x80], &di).as_slice(), &[0x00]].concat();
    assert_eq!(sw_of(&mut card, &good), 0x6986);
    assert_eq!(select_ef(&mut card, fid::AUTH_KEY), 0x9000);
    // No Le.
    assert_eq!(sw_of(&mut card, &case3([0x80, 0x2A, 0x00, 0x80], &di)), 0x6700);
    // Other P1P2.
    assert_eq!(sw_of(&mut card, &[&good[..3], &[0x81], &good[4..]].concat()), 0x6A86);
    // A DigestInfo too long for the modulus (k − 11 = 245 bytes at most).
    let long = [case3([0x80, 0x2A, 0x00, 0x80], &[0x30; 246]).as_slice(), &[0x00]].concat();
    assert_eq!(sw_of(&mut card, &long), 0x6700);
    // The ISO class is not this card's signing command.
    assert_eq!(sw_of(&mut card, &[&[0x00], &good[1..]].concat()), 0x6D00);
    assert_eq!(card.stats().signatures, 0);
}

#[test]
fn text_ap_gives_the_basic_four_items_after_its_pin() {
    let id = jpki_identity();
    let mut card = jpki_card();
    assert_eq!(sw(&mut card, SELECT_TEXT), 0x9000);
    assert_eq!(select_ef(&mut card, fid::TEXT_ATTRIBUTES), 0x9000);
    assert_eq!(sw(&mut card, "00B0000000"), 0x6982);
    assert_eq!(select_ef(&mut card, fid::TEXT_PIN), 0x9000);
    assert_eq!(query(&mut card), 0x63C3);
    assert_eq!(verify(&mut card, fid::TEXT_PIN, "1234"), 0x9000);
    assert_eq!(select_ef(&mut card, fid::TEXT_ATTRIBUTES), 0x9000);
    let (data, sw) = send_hex(&mut card, "00B0000000");
    assert_eq!(sw, 0x9000);

    let outer = tlvs(&data);
    assert_eq!(outer.len(), 1);
    assert_eq!(outer[0].0, [0xFF, 0x20]);
    let items: Vec<_> = tlvs(outer[0].1);
    let tags: Vec<_> = items.iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(tags, [[0xDF, 0x21], [0xDF, 0x22], [0xDF, 0x23], [0xDF, 0x24], [0xDF, 0x25]]);
    let text = |i: usize| std::str::from_utf8(items[i].1).unwrap();
    let a = &id.subject.attributes;
    assert_eq!(text(1), a.name);
    assert_eq!(text(2), a.address);
    assert_eq!(text(3), a.birth_date);
    assert_eq!(text(4), a.sex);
    assert!(a.name.contains('\u{3000}'), "kanji name with an ideographic space");

    // The text AP has no JPKI files, and the JPKI AP none of the text AP's PIN.
    assert_eq!(select_ef(&mut card, fid::AUTH_CERT), 0x6A82);
}

#[test]
fn security_status_is_lost_on_reset_and_on_reselect() {
    let mut card = jpki_card();
    let di = sha256_digest_info(b"m");
    let sign = [case3([0x80, 0x2A, 0x00, 0x80], &di).as_slice(), &[0x00]].concat();
    let login = |card: &mut VirtualCard| {
        assert_eq!(sw(card, SELECT_JPKI), 0x9000);
        assert_eq!(verify(card, fid::AUTH_PIN, "1234"), 0x9000);
        assert_eq!(select_ef(card, fid::AUTH_KEY), 0x9000);
        assert_eq!(send(card, &sign).1, 0x9000);
    };

    login(&mut card);
    card.reset();
    // After a reset nothing is selected at all.
    assert_eq!(select_ef(&mut card, fid::AUTH_KEY), 0x6A82);
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    assert_eq!(select_ef(&mut card, fid::AUTH_KEY), 0x9000);
    assert_eq!(send(&mut card, &sign).1, 0x6982);

    login(&mut card);
    // Selecting the same AP again starts a new security context.
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    assert_eq!(select_ef(&mut card, fid::AUTH_KEY), 0x9000);
    assert_eq!(send(&mut card, &sign).1, 0x6982);

    login(&mut card);
    // So does a visit to the text AP.
    assert_eq!(sw(&mut card, SELECT_TEXT), 0x9000);
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    assert_eq!(select_ef(&mut card, fid::AUTH_KEY), 0x9000);
    assert_eq!(send(&mut card, &sign).1, 0x6982);

    login(&mut card);
    // And a power cycle; while off the card answers nothing useful.
    card.power_off();
    assert_eq!(send(&mut card, &sign).1, 0x6F00);
    card.power_on();
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    assert_eq!(select_ef(&mut card, fid::AUTH_KEY), 0x9000);
    assert_eq!(send(&mut card, &sign).1, 0x6982);
}

#[test]
fn other_drivers_probes_get_not_found_or_not_supported() {
    let mut card = jpki_card();
    // PIV, OpenPGP, an EstEID-style AID: not this card.
    for select in ["00A4040009A00000030800001000", "00A4040006D27600012401", "00A4040C0FD23300000045737445494420763335"]
    {
        assert_eq!(sw(&mut card, select), 0x6A82, "{select}");
    }
    // GET DATA, GET CHALLENGE: not implemented.
    assert_eq!(sw(&mut card, "00CADF3000"), 0x6D00);
    assert_eq!(sw(&mut card, "0084000008"), 0x6D00);
    // PC/SC pseudo-APDUs, logical channels, secure messaging, chaining.
    assert_eq!(sw(&mut card, "FFCA000000"), 0x6E00);
    assert_eq!(sw(&mut card, "01A4040C0AD392F000260100000001"), 0x6881);
    assert_eq!(sw(&mut card, "0CA4040C0AD392F000260100000001"), 0x6882);
    assert_eq!(sw(&mut card, "10B0000000"), 0x6884);
    // Malformed lengths.
    assert_eq!(sw(&mut card, "00A4040C0AD392"), 0x6700);
    // After all that, the JPKI AP is still there.
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    // Only P1 = 02 selects an EF (the real card refuses 09, path).
    assert_eq!(sw(&mut card, "00A4090C02000A"), 0x6A86);
    // A key or PIN EF is not readable.
    assert_eq!(select_ef(&mut card, fid::AUTH_KEY), 0x9000);
    assert_eq!(sw(&mut card, "00B0000000"), 0x6981);
}

#[test]
fn transcript_and_stats_record_what_happened() {
    let mut card = jpki_card();
    card.set_recording(true);
    assert_eq!(sw(&mut card, SELECT_JPKI), 0x9000);
    card.reset();
    let transcript = card.take_transcript();
    assert_eq!(transcript.len(), 2);
    assert_eq!(transcript[0].to_string(), format!("> {SELECT_JPKI}\n< 9000"));
    assert_eq!(transcript[1].to_string(), "# reset");
    assert!(card.take_transcript().is_empty());
    let stats = card.stats();
    assert_eq!(stats.apdus, 1);
    assert_eq!(stats.bytes_out, 2);
    assert_eq!(stats.resets, 1);
}
