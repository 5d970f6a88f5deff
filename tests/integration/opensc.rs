//! OpenSC's `jpki` driver, an implementation of the JPKI card protocol that owes nothing to ours,
//! against the JPKI emulator in reader 0 of the real pcscd (scripts/pcsc-stack; its network namespace
//! comes from `HCPKI_TEST_PCSC_NETNS`). The card is served from this process (hcpki_vcard's
//! `VpcdCard`), so the tests can read its PIN counters and count its APDUs. OpenSC runs through
//! tests/peers/opensc-jpki.sh, the same script a person runs by hand.
//!
//! Issue #28's independent peer: OpenSC reads the 署名用 certificate only after the signing password, and
//! `hcpki_pkix::jpki` reads the basic four items from what OpenSC returned.

use crate::harness::{describe, repo_root};
use crate::pcsc_lock::{PcscGuard, pcsc_lock, pcsc_netns, wait_reader_empty};
use der::Decode;
use hcpki_pkix::jpki::{BasicFour, Sex};
use hcpki_vcard::card::{Emulated, TranscriptEntry};
use hcpki_vcard::identity::{Identity, IdentityRequest, JpkiIdentity, JpkiPins};
use hcpki_vcard::jpki::JpkiPin;
use hcpki_vcard::vpcd::{VpcdCard, VpcdTarget};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use tempfile::TempDir;

/// A fresh JPKI card in reader 0, seen by pcscd. Fields drop in order: the card leaves the reader
/// before the PC/SC lock is released.
struct JpkiInReader0 {
    card: VpcdCard,
    identity: JpkiIdentity,
    dir: TempDir,
    _pcsc: PcscGuard,
}

impl JpkiInReader0 {
    fn insert(quickack: bool) -> Self {
        let pcsc = pcsc_lock();
        let netns = pcsc_netns().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::Builder::new().prefix("hcpki-opensc-").tempdir().unwrap();
        let request = IdentityRequest::Jpki {
            subject: Default::default(),
            pins: JpkiPins::default(),
            algorithm: Default::default(),
        };
        let (identity, _) = Identity::load_or_generate(dir.path(), &request).unwrap();
        let mut card = VpcdCard::new(identity.card());
        wait_reader_empty(0);
        card.insert(VpcdTarget::reader(0).in_named_netns(&netns).with_quickack(quickack))
            .unwrap_or_else(|e| panic!("{e}"));
        // pcscd powers a card when it notices it (its poll runs every ~400 ms): from then on PC/SC
        // clients see this card, not a predecessor.
        assert!(
            card.wait_powered(Duration::from_secs(10)),
            "pcscd did not power the card in reader 0 within 10 s; `scripts/pcsc-stack status`, and its log"
        );
        let Identity::Jpki(identity) = identity else { unreachable!("asked for a JPKI identity") };
        Self { card, identity, dir, _pcsc: pcsc }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn auth_tries(&self) -> u8 {
        self.tries(JpkiPin::Auth)
    }

    fn tries(&self, pin: JpkiPin) -> u8 {
        match self.card.card().emulated() {
            Emulated::Jpki(c) => c.tries_left(pin),
            Emulated::Hpki(_) => unreachable!("a JPKI card"),
        }
    }

    /// Runs `run` with the card recording, and gives the status words the card answered to READ BINARY
    /// while the signing certificate's EF (0001 in the JPKI AP) was selected.
    fn signing_certificate_reads<T>(&self, run: impl FnOnce() -> T) -> (T, Vec<[u8; 2]>) {
        self.card.card().set_recording(true);
        let result = run();
        let transcript = {
            let mut card = self.card.card();
            let t = card.take_transcript();
            card.set_recording(false);
            t
        };
        (result, signing_certificate_reads(&transcript))
    }
}

/// The status words of READ BINARY commands sent while EF 0001 was the current file. SELECT by FID
/// (`00 A4 02 0C 02 <FID>`) changes the current EF; SELECT by DF name, a reset or power cycle clears it.
fn signing_certificate_reads(transcript: &[TranscriptEntry]) -> Vec<[u8; 2]> {
    let mut current: Option<[u8; 2]> = None;
    let mut words = Vec::new();
    for entry in transcript {
        let TranscriptEntry::Apdu { command, response } = entry else {
            current = None;
            continue;
        };
        let [.., sw1, sw2] = response.as_slice() else { continue };
        let sw = [*sw1, *sw2];
        match command.as_slice() {
            [0x00, 0xA4, 0x02, _, 0x02, hi, lo, ..] if sw == [0x90, 0x00] => current = Some([*hi, *lo]),
            [0x00, 0xA4, 0x04, ..] => current = None,
            [0x00, 0xB0, ..] if current == Some([0x00, 0x01]) => words.push(sw),
            _ => {}
        }
    }
    words
}

fn opensc(args: &[&str]) -> Output {
    let script = repo_root().join("tests/peers/opensc-jpki.sh");
    Command::new("bash")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()))
}

fn opensc_ok(args: &[&str]) -> String {
    let out = opensc(args);
    assert!(out.status.success(), "opensc-jpki.sh {args:?} failed ({})\n{}", out.status, describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn lists_reads_and_signs_with_opensc() {
    let jpki = JpkiInReader0::insert(true);

    let listing = opensc_ok(&["list"]);
    for (label, path) in [
        ("User Authentication Certificate]", "000a"),
        ("Digital Signature Certificate]", "0001"),
        ("User Authentication Certificate CA]", "000b"),
        ("Digital Signature Certificate CA]", "0002"),
    ] {
        assert!(
            listing.lines().any(|l| l.ends_with(label)) && listing.contains(&format!("Path           : {path}")),
            "{label} at {path} missing from\n{listing}"
        );
    }

    // Read through the whole stack: pcscd, vpcd, OpenSC's 4-byte header read and 256-byte chunks.
    let cert = jpki.path("read-01.der");
    opensc_ok(&["read-cert", "01", arg(&cert)]);
    assert_eq!(std::fs::read(&cert).unwrap(), jpki.identity.credentials.auth.cert);
    let ca = jpki.path("read-03.der");
    opensc_ok(&["read-cert", "03", arg(&ca)]);
    assert_eq!(std::fs::read(&ca).unwrap(), jpki.identity.credentials.auth_root);

    let message = jpki.path("message");
    std::fs::write(&message, b"challenge from the hcpki portal").unwrap();
    let signature = jpki.path("signature");
    let signatures_before = jpki.card.card().stats().signatures;
    opensc_ok(&["sign", "1234", arg(&message), arg(&signature)]);
    assert_eq!(std::fs::read(&signature).unwrap().len(), 256);
    assert_eq!(jpki.card.card().stats().signatures, signatures_before + 1);
    assert_eq!(jpki.auth_tries(), 3, "a right PIN leaves the counter full");
    let verified = opensc_ok(&["verify", arg(&cert), arg(&message), arg(&signature)]);
    assert!(verified.contains("Verified OK"), "{verified}");
    // And openssl is not just saying yes: another message fails.
    std::fs::write(&message, b"another message").unwrap();
    assert!(!opensc(&["verify", arg(&cert), arg(&message), arg(&signature)]).status.success());
}

#[test]
fn wrong_pin_is_ckr_pin_incorrect_and_costs_one_try() {
    let jpki = JpkiInReader0::insert(true);
    let message = jpki.path("message");
    std::fs::write(&message, b"m").unwrap();
    assert_eq!(jpki.auth_tries(), 3);

    let out = opensc(&["sign", "9999", arg(&message), arg(&jpki.path("signature"))]);
    assert!(!out.status.success(), "signing with a wrong PIN succeeded\n{}", describe(&out));
    assert!(describe(&out).contains("CKR_PIN_INCORRECT"), "{}", describe(&out));
    assert_eq!(jpki.auth_tries(), 2, "OpenSC's bind-time VERIFY queries must not spend tries");
    assert_eq!(jpki.card.card().stats().signatures, 0);

    // The right PIN still works and resets the counter.
    opensc_ok(&["sign", "1234", arg(&message), arg(&jpki.path("signature"))]);
    assert_eq!(jpki.auth_tries(), 3);
}

/// Not a benchmark with a threshold (tests never assert on time): it reports what one APDU costs
/// through pcscd and vpcd, with TCP_QUICKACK re-armed as the card does it, and without.
#[test]
fn reports_per_apdu_latency_through_pcscd() {
    for (quickack, n) in [(true, 200), (false, 20)] {
        let jpki = JpkiInReader0::insert(quickack);
        let run = |count: u32| {
            let before = jpki.card.card().stats().apdus;
            let out = opensc_ok(&["apdus", &count.to_string()]);
            let field = |key: &str| {
                out.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_else(|| panic!("no {key} in\n{out}")).to_owned()
            };
            assert_eq!(field("answered="), count.to_string(), "{out}");
            assert!(jpki.card.card().stats().apdus - before >= u64::from(count));
            field("seconds=").parse::<f64>().unwrap()
        };
        let one = run(1);
        let many = run(n + 1);
        let per_apdu_ms = (many - one) / f64::from(n) * 1000.0;
        eprintln!("opensc-tool → pcscd → vpcd → card, quickack {quickack}: {per_apdu_ms:.2} ms per APDU ({n} APDUs)");
        assert!(per_apdu_ms.is_finite());
    }
}

/// Issue #28, "Done when": OpenSC's `jpki` driver reads the signing certificate (ID 02, EF 0001) only after the
/// signing password; a wrong password costs one of its 5 tries and reads nothing; what it reads is the card's
/// signing certificate, and hcpki's parser finds the test subject's four items in it.
#[test]
fn reads_the_signing_certificate_only_after_the_password() {
    let jpki = JpkiInReader0::insert(true);
    let password = jpki.identity.pins.sign.clone();
    assert_eq!(jpki.tries(JpkiPin::Sign), 5);

    // Without the password: the card refuses the read (security status not satisfied), OpenSC writes nothing.
    let refused = jpki.path("no-password.der");
    let (out, reads) = jpki.signing_certificate_reads(|| opensc(&["read-cert", "02", arg(&refused)]));
    assert!(!out.status.success(), "the signing certificate was read without the password\n{}", describe(&out));
    assert!(!refused.exists());
    assert!(!reads.is_empty() && reads.iter().all(|sw| *sw == [0x69, 0x82]), "reads of EF 0001 answered {reads:02X?}");
    assert_eq!(jpki.tries(JpkiPin::Sign), 5, "a read without the password spends no try");

    // A wrong password: one try spent, nothing read.
    let wrong = jpki.path("wrong-password.der");
    let (out, reads) = jpki.signing_certificate_reads(|| opensc(&["read-cert-pin", "02", "02", "WRONG0", arg(&wrong)]));
    assert!(!out.status.success(), "a wrong password read the signing certificate\n{}", describe(&out));
    assert!(describe(&out).contains("PIN code or key incorrect"), "{}", describe(&out));
    assert!(!wrong.exists());
    assert!(reads.iter().all(|sw| *sw != [0x90, 0x00]), "EF 0001 answered a read: {reads:02X?}");
    assert_eq!(jpki.tries(JpkiPin::Sign), 4, "a wrong password costs exactly one try");
    assert_eq!(jpki.auth_tries(), 3, "the authentication PIN is not touched");

    // The right password: exactly the card's signing certificate, read through the whole stack; the counter
    // is full again.
    let read = jpki.path("sign.der");
    let (_, reads) =
        jpki.signing_certificate_reads(|| opensc_ok(&["read-cert-pin", "02", "02", &password, arg(&read)]));
    let der = std::fs::read(&read).unwrap();
    assert_eq!(der, jpki.identity.credentials.sign.cert);
    assert!(reads.len() >= 2 && reads.iter().all(|sw| *sw == [0x90, 0x00]), "{reads:02X?}");
    assert_eq!(jpki.tries(JpkiPin::Sign), 5);

    // hcpki's parser on what OpenSC returned: the test subject's four items.
    let cert = x509_cert::Certificate::from_der(&der).unwrap();
    let four = BasicFour::from_certificate(&cert).unwrap();
    let a = &jpki.identity.subject.attributes;
    assert_eq!((four.name(), four.address()), (a.name.as_str(), a.address.as_str()));
    assert_eq!(four.birth_date().code(), a.birth_date);
    assert_eq!(four.sex().code(), a.sex);
    assert_eq!(four.sex(), Sex::Female);
    assert_eq!(four.birth_date().to_japanese(), "平成2年1月1日");
}
