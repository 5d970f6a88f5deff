//! The HPKI card in both layouts: the JMA card's command sequence (reference §2.2) and the JAHIS
//! 24-002 Annex A.3 example, with extended APDUs and with command chaining.

use super::*;
use crate::card::{Emulated, VirtualCard};
use crate::key::emsa_pkcs1_v15;
use crate::test_support::{
    case3, hpki_card, hpki_identity, hpki_identity_for, only, send, send_hex, sha256_digest_info, sw, verifies,
};

const SIG_PIN: &str = "sig-PIN-1";
const AUTH_PIN: &str = "auth-PIN-2";

fn select_ap(card: &mut VirtualCard, aid: &[u8]) -> u16 {
    send(card, &case3([0x00, 0xA4, 0x04, 0x0C], aid)).1
}

fn select_ef(card: &mut VirtualCard, fid: u16) -> u16 {
    send(card, &case3([0x00, 0xA4, 0x02, 0x0C], &fid.to_be_bytes())).1
}

/// VERIFY with the layout's P2 (`88` JMA, `96` JAHIS).
fn verify(card: &mut VirtualCard, layout: &HpkiLayout, pin: &str) -> u16 {
    send(card, &case3([0x00, 0x20, 0x00, layout.verify_p2], pin.as_bytes())).1
}

/// MSE SET DST naming the AP's key with the layout's tag.
fn mse(card: &mut VirtualCard, layout: &HpkiLayout) -> u16 {
    let [hi, lo] = layout.key_fid.to_be_bytes();
    send(card, &[0x00, 0x22, 0x41, 0xB6, 0x04, layout.key_ref_tag, 0x02, hi, lo]).1
}

/// `00 2A 9E 9A 00 LL LL <block> 00 00`.
fn pso_extended(card: &mut VirtualCard, block: &[u8]) -> (Vec<u8>, u16) {
    let mut apdu = vec![0x00, 0x2A, 0x9E, 0x9A, 0x00];
    apdu.extend(u16::try_from(block.len()).unwrap().to_be_bytes());
    apdu.extend_from_slice(block);
    apdu.extend([0x00, 0x00]);
    send(card, &apdu)
}

/// The same block in short APDUs: `10 2A 9E 9A Lc part` … `00 2A 9E 9A Lc last 00`.
fn pso_chained(card: &mut VirtualCard, block: &[u8], part: usize) -> (Vec<u8>, u16) {
    let parts: Vec<&[u8]> = block.chunks(part).collect();
    let (last, first) = parts.split_last().unwrap();
    for p in first {
        let (data, sw) = send(card, &case3([0x10, 0x2A, 0x9E, 0x9A], p));
        assert_eq!((data.len(), sw), (0, 0x9000), "chained part");
    }
    send(card, &[case3([0x00, 0x2A, 0x9E, 0x9A], last).as_slice(), &[0x00]].concat())
}

fn padded(msg: &[u8]) -> Vec<u8> {
    emsa_pkcs1_v15(&sha256_digest_info(msg), 256).unwrap()
}

fn tries(card: &VirtualCard, ap: HpkiAp) -> Option<u8> {
    match card.emulated() {
        Emulated::Hpki(c) => c.tries_left(ap),
        Emulated::Jpki(_) => unreachable!(),
    }
}

/// The certificate as the JMA tool reads it: select by FID, 4-byte header, then the body.
fn read_cert_by_fid(card: &mut VirtualCard, fid: u16) -> Vec<u8> {
    assert_eq!(select_ef(card, fid), 0x9000);
    let (head, sw) = send_hex(card, "00B0000004");
    assert_eq!(sw, 0x9000);
    let total = usize::from(u16::from_be_bytes([head[2], head[3]])) + 4;
    let mut out = Vec::new();
    while out.len() < total {
        let [p1, p2] = u16::try_from(out.len()).unwrap().to_be_bytes();
        let (chunk, sw) = send(card, &[0x00, 0xB0, p1, p2, 0x00]);
        assert_eq!(sw, 0x9000);
        out.extend(chunk);
    }
    out
}

#[test]
fn jma_card_sequence_signs_in_both_aps() {
    let id = hpki_identity();
    let layout = HpkiLayout::JMA;
    let mut card = hpki_card(layout);
    assert_eq!(card.atr(), HPKI_ATR);
    for (aid, pin, cert) in [
        (layout.signature_aid, SIG_PIN, &id.credentials.signature.cert),
        (layout.authentication_aid, AUTH_PIN, &id.credentials.authentication.cert),
    ] {
        assert_eq!(select_ap(&mut card, aid), 0x9000);
        assert_eq!(&read_cert_by_fid(&mut card, 0x0016), cert, "certificate without a PIN");
        // The published sequence: select PIN EF and key EF, MSE with tag 84, VERIFY P2 88, PSO.
        assert_eq!(select_ef(&mut card, 0x0002), 0x9000);
        assert_eq!(select_ef(&mut card, 0x000C), 0x9000);
        assert_eq!(sw_of(&mut card, "002241B6048402000C"), 0x9000);
        assert_eq!(verify(&mut card, &layout, pin), 0x9000);
        let msg = b"hpki jma";
        let (sig, sw) = pso_extended(&mut card, &padded(msg));
        assert_eq!(sw, 0x9000);
        assert_eq!(sig.len(), 256);
        assert!(verifies(cert, msg, &sig));
    }
    assert_eq!(card.stats().signatures, 2);
}

#[test]
fn jahis_example_sequence_with_partial_select_sfi_reads_and_chaining() {
    let id = hpki_identity();
    let layout = HpkiLayout::JAHIS_EXAMPLE;
    let mut card = hpki_card(layout);

    // Partial DF name, first occurrence, FCI asked: 6F { 84 full AID }.
    let (fci, sw) = send_hex(&mut card, "00A4040005E828BD080F00");
    assert_eq!(sw, 0x9000);
    assert_eq!(only(&only(&fci, &[0x6F]), &[0x84]), layout.signature_aid);
    // Certificate by SFI 18 with extended Le 0000: all of it at once.
    let (cert, sw) = send_hex(&mut card, "00B09800000000");
    assert_eq!((cert.as_slice(), sw), (id.credentials.signature.cert.as_slice(), 0x9000));
    assert_eq!(sw_of(&mut card, "0020009600"), 0x6700, "a VERIFY with Le is malformed");
    assert_eq!(sw_of(&mut card, "00200096"), 0x63CF, "15 tries: the nibble's maximum");
    assert_eq!(verify(&mut card, &layout, SIG_PIN), 0x9000);
    assert_eq!(sw_of(&mut card, "002241B604810200 17".replace(' ', "").as_str()), 0x9000);
    let msg = b"hpki jahis chained";
    let (sig, sw) = pso_chained(&mut card, &padded(msg), 100);
    assert_eq!(sw, 0x9000);
    assert!(verifies(&id.credentials.signature.cert, msg, &sig));

    // Next occurrence of the same partial name: the authentication AP, then nothing.
    let (fci, sw) = send_hex(&mut card, "00A4040205E828BD080F00");
    assert_eq!(sw, 0x9000);
    assert_eq!(only(&only(&fci, &[0x6F]), &[0x84]), layout.authentication_aid);
    assert_eq!(sw_of(&mut card, "00A4040205E828BD080F00"), 0x6A82);

    let (cert, sw) = send_hex(&mut card, "00B09800000000");
    assert_eq!((cert.as_slice(), sw), (id.credentials.authentication.cert.as_slice(), 0x9000));
    // The FCP of the certificate EF names its size.
    let (fcp, sw) = send_hex(&mut card, "00A4020002001800");
    assert_eq!(sw, 0x9000);
    let size = id.credentials.authentication.cert.len();
    assert!(fcp.windows(4).any(|w| w == [0x80, 0x02, (size >> 8) as u8, size as u8]));
    // MSE before VERIFY works as well; extended PSO.
    assert_eq!(mse(&mut card, &layout), 0x9000);
    assert_eq!(verify(&mut card, &layout, AUTH_PIN), 0x9000);
    let (sig, sw) = pso_extended(&mut card, &padded(msg));
    assert_eq!(sw, 0x9000);
    assert!(verifies(&id.credentials.authentication.cert, msg, &sig));
}

fn sw_of(card: &mut VirtualCard, hex: &str) -> u16 {
    sw(card, hex)
}

#[test]
fn layouts_do_not_accept_each_others_references() {
    let mut jma = hpki_card(HpkiLayout::JMA);
    assert_eq!(select_ap(&mut jma, HpkiLayout::JMA.signature_aid), 0x9000);
    // The JAHIS tag 81 and key FID 0017 are not the JMA card's.
    assert_eq!(sw_of(&mut jma, "002241B604810200 0C".replace(' ', "").as_str()), 0x6A80);
    assert_eq!(sw_of(&mut jma, "002241B6048402 0017".replace(' ', "").as_str()), 0x6A88);
    assert_eq!(send(&mut jma, &case3([0x00, 0x20, 0x00, 0x96], SIG_PIN.as_bytes())).1, 0x6A88);
    // No SFIs on this card.
    assert_eq!(sw_of(&mut jma, "00B0980000"), 0x6A82);

    let mut jahis = hpki_card(HpkiLayout::JAHIS_EXAMPLE);
    assert_eq!(select_ap(&mut jahis, HpkiLayout::JAHIS_EXAMPLE.signature_aid), 0x9000);
    assert_eq!(sw_of(&mut jahis, "002241B604840200 17".replace(' ', "").as_str()), 0x6A80);
    assert_eq!(send(&mut jahis, &case3([0x00, 0x20, 0x00, 0x88], SIG_PIN.as_bytes())).1, 0x6A88);
    // But VERIFY P2 80 on the PIN EF made current is the same on both.
    assert_eq!(select_ef(&mut jahis, 0x0016), 0x9000);
    assert_eq!(send(&mut jahis, &case3([0x00, 0x20, 0x00, 0x80], SIG_PIN.as_bytes())).1, 0x9000);
}

#[test]
fn unpadded_or_wrong_sized_blocks_are_refused() {
    for layout in [HpkiLayout::JMA, HpkiLayout::JAHIS_EXAMPLE] {
        let mut card = hpki_card(layout);
        assert_eq!(select_ap(&mut card, layout.authentication_aid), 0x9000);
        assert_eq!(mse(&mut card, &layout), 0x9000);
        assert_eq!(verify(&mut card, &layout, AUTH_PIN), 0x9000);
        // A bare DigestInfo (what a JPKI card takes) is not a 256-byte block.
        assert_eq!(pso_extended(&mut card, &sha256_digest_info(b"m")).1, 0x6700);
        // 256 bytes that are not EMSA-PKCS1-v1_5: refused, not signed.
        assert_eq!(pso_extended(&mut card, &[0x5A; 256]).1, 0x6A80);
        let mut type2 = padded(b"m");
        type2[1] = 0x02;
        assert_eq!(pso_extended(&mut card, &type2).1, 0x6A80);
        assert_eq!(pso_chained(&mut card, &[0x00; 256], 128).1, 0x6A80);
        // Le shorter than the signature.
        let mut apdu = vec![0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x01, 0x00];
        apdu.extend(padded(b"m"));
        apdu.extend([0x00, 0x80]);
        assert_eq!(send(&mut card, &apdu).1, 0x6700);
        // Other PSO operations (P1P2 80 86: decipher) do not exist.
        let mut decipher = vec![0x00, 0x2A, 0x80, 0x86, 0x00, 0x01, 0x00];
        decipher.extend(padded(b"m"));
        decipher.extend([0x00, 0x00]);
        assert_eq!(send(&mut card, &decipher).1, 0x6A86);
        assert_eq!(card.stats().signatures, 0, "{}", layout.name);
        // The right block still works afterwards.
        assert_eq!(pso_extended(&mut card, &padded(b"m")).1, 0x9000);
    }
}

#[test]
fn chaining_rules() {
    let layout = HpkiLayout::JMA;
    let mut card = hpki_card(layout);
    assert_eq!(select_ap(&mut card, layout.authentication_aid), 0x9000);
    assert_eq!(mse(&mut card, &layout), 0x9000);
    assert_eq!(verify(&mut card, &layout, AUTH_PIN), 0x9000);
    let block = padded(b"chain");
    // Only PSO may be chained.
    assert_eq!(sw_of(&mut card, "10A4040C05E828BD080F"), 0x6884);
    // A chain must end with the same header.
    assert_eq!(send(&mut card, &case3([0x10, 0x2A, 0x9E, 0x9A], &block[..128])).1, 0x9000);
    assert_eq!(sw_of(&mut card, "002241B6048402000C"), 0x6883);
    // The broken chain is gone: a fresh one works, in many small parts.
    let (sig, sw) = pso_chained(&mut card, &block, 37);
    assert_eq!(sw, 0x9000);
    assert!(verifies(&hpki_identity().credentials.authentication.cert, b"chain", &sig));
    // A chain longer than any block is cut off.
    for _ in 0..4 {
        assert_eq!(send(&mut card, &case3([0x10, 0x2A, 0x9E, 0x9A], &[0xFF; 255])).1, 0x9000);
    }
    assert_eq!(send(&mut card, &case3([0x10, 0x2A, 0x9E, 0x9A], &[0xFF; 255])).1, 0x6700);
    // A reset drops a pending chain.
    assert_eq!(send(&mut card, &case3([0x10, 0x2A, 0x9E, 0x9A], &block[..128])).1, 0x9000);
    card.reset();
    assert_eq!(select_ap(&mut card, layout.authentication_aid), 0x9000);
    assert_eq!(sw_of(&mut card, "002241B6048402000C"), 0x9000);
}

#[test]
fn signature_ap_asks_for_the_pin_for_every_signature() {
    let id = hpki_identity();
    let layout = HpkiLayout::JMA;
    let mut card = hpki_card(layout);
    assert_eq!(select_ap(&mut card, layout.signature_aid), 0x9000);
    assert_eq!(mse(&mut card, &layout), 0x9000);
    assert_eq!(pso_extended(&mut card, &padded(b"1")).1, 0x6982, "no PIN yet");
    assert_eq!(verify(&mut card, &layout, SIG_PIN), 0x9000);
    assert_eq!(pso_extended(&mut card, &padded(b"1")).1, 0x9000);
    assert_eq!(pso_extended(&mut card, &padded(b"2")).1, 0x6982, "the PIN was used up");
    assert_eq!(verify(&mut card, &layout, SIG_PIN), 0x9000);
    let (sig, sw) = pso_chained(&mut card, &padded(b"2"), 128);
    assert_eq!(sw, 0x9000);
    assert!(verifies(&id.credentials.signature.cert, b"2", &sig));

    // The authentication AP keeps it for the session.
    assert_eq!(select_ap(&mut card, layout.authentication_aid), 0x9000);
    assert_eq!(mse(&mut card, &layout), 0x9000);
    assert_eq!(verify(&mut card, &layout, AUTH_PIN), 0x9000);
    for msg in [b"a", b"b", b"c"] {
        let (sig, sw) = pso_extended(&mut card, &padded(msg));
        assert_eq!(sw, 0x9000);
        assert!(verifies(&id.credentials.authentication.cert, msg, &sig));
    }
}

#[test]
fn pso_needs_mse_in_the_current_ap() {
    let layout = HpkiLayout::JMA;
    let mut card = hpki_card(layout);
    assert_eq!(select_ap(&mut card, layout.authentication_aid), 0x9000);
    assert_eq!(verify(&mut card, &layout, AUTH_PIN), 0x9000);
    assert_eq!(pso_extended(&mut card, &padded(b"m")).1, 0x6985, "no MSE");
    assert_eq!(mse(&mut card, &layout), 0x9000);
    // Re-selecting ends the security environment and the verification.
    assert_eq!(select_ap(&mut card, layout.authentication_aid), 0x9000);
    assert_eq!(pso_extended(&mut card, &padded(b"m")).1, 0x6985);
    assert_eq!(mse(&mut card, &layout), 0x9000);
    assert_eq!(pso_extended(&mut card, &padded(b"m")).1, 0x6982);
    // MSE for other templates or with a malformed key reference.
    assert_eq!(sw_of(&mut card, "002241B8048402000C"), 0x6A86);
    assert_eq!(sw_of(&mut card, "002241B603840200"), 0x6A80);
    // Before any AP is selected there is nothing to verify.
    card.reset();
    assert_eq!(verify(&mut card, &layout, AUTH_PIN), 0x6A88);
}

#[test]
fn pins_count_down_per_ap_and_block_at_zero() {
    let layout = HpkiLayout::JAHIS_EXAMPLE;
    let mut card = hpki_card(layout);
    assert_eq!(select_ap(&mut card, layout.signature_aid), 0x9000);
    // The other AP's PIN is just a wrong PIN here.
    assert_eq!(verify(&mut card, &layout, AUTH_PIN), 0x63CE);
    assert_eq!(tries(&card, HpkiAp::Signature), Some(14));
    assert_eq!(tries(&card, HpkiAp::Authentication), Some(15));
    assert_eq!(verify(&mut card, &layout, SIG_PIN), 0x9000);
    assert_eq!(tries(&card, HpkiAp::Signature), Some(15));
    for left in (0..15u16).rev() {
        assert_eq!(verify(&mut card, &layout, "nope"), 0x63C0 | left);
    }
    assert_eq!(verify(&mut card, &layout, SIG_PIN), 0x6983);
    assert_eq!(sw_of(&mut card, "00200096"), 0x6983);
    assert_eq!(tries(&card, HpkiAp::Signature), Some(0));
    // Blocked for good: across a reset, and the other AP is unaffected.
    card.reset();
    assert_eq!(select_ap(&mut card, layout.signature_aid), 0x9000);
    assert_eq!(verify(&mut card, &layout, SIG_PIN), 0x6983);
    assert_eq!(select_ap(&mut card, layout.authentication_aid), 0x9000);
    assert_eq!(sw_of(&mut card, "00200096"), 0x63CF);
    assert_eq!(verify(&mut card, &layout, AUTH_PIN), 0x9000);
    // Too short for the policy (4–16): refused without spending a try.
    assert_eq!(verify(&mut card, &layout, "abc"), 0x6700);
    assert_eq!(tries(&card, HpkiAp::Authentication), Some(15));
}

#[test]
fn a_card_with_one_ap() {
    let id = hpki_identity();
    let layout = HpkiLayout::JMA;
    let mut card = VirtualCard::hpki(HpkiCard::new(HpkiContents {
        layout,
        signature: None,
        authentication: Some(HpkiApContents {
            cert: id.credentials.authentication.cert.clone(),
            key: id.credentials.authentication.key.clone(),
            pin: AUTH_PIN.to_owned(),
        }),
    }));
    assert_eq!(tries(&card, HpkiAp::Signature), None);
    assert_eq!(tries(&card, HpkiAp::Authentication), Some(15));
    // The signature AID is a prefix-sharing sibling that is not there.
    assert_eq!(select_ap(&mut card, layout.signature_aid), 0x6A82);
    assert_eq!(select_ap(&mut card, layout.authentication_aid), 0x9000);
    assert_eq!(verify(&mut card, &layout, "wrong"), 0x63CE);
    assert_eq!(tries(&card, HpkiAp::Authentication), Some(14));
}

#[test]
fn a_p384_card_signs_the_bare_sha384_and_refuses_a_padded_block() {
    use aws_lc_rs::signature::{ECDSA_P384_SHA384_FIXED, UnparsedPublicKey};
    use der::Decode as _;
    let id = hpki_identity_for(crate::key::CardAlgorithm::P384);
    let layout = HpkiLayout::JMA;
    let mut card = crate::identity::Identity::Hpki(id.clone()).card();
    let cert = &id.credentials.authentication.cert;
    let spki = x509_cert::Certificate::from_der(cert).unwrap().tbs_certificate().subject_public_key_info().clone();
    assert_eq!(select_ap(&mut card, layout.authentication_aid), 0x9000);
    assert_eq!(select_ef(&mut card, 0x0002), 0x9000);
    assert_eq!(select_ef(&mut card, 0x000C), 0x9000);
    assert_eq!(mse(&mut card, &layout), 0x9000);
    assert_eq!(verify(&mut card, &layout, AUTH_PIN), 0x9000);
    let msg = b"hpki p-384";
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, msg);
    let (sig, sw) = pso_extended(&mut card, hash.as_ref());
    assert_eq!((sig.len(), sw), (96, 0x9000), "r and s");
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, spki.subject_public_key.raw_bytes()).verify(msg, &sig).unwrap();
    // A host that padded as for RSA, or hashed with SHA-256, is refused, not signed for.
    assert_eq!(pso_extended(&mut card, &[0x5A; 256]).1, 0x6700);
    assert_eq!(pso_extended(&mut card, &hash.as_ref()[..32]).1, 0x6700);
    assert_eq!(card.stats().signatures, 1);
}
