//! `hcpki-vcard`: one virtual HPKI or JPKI card in a vpcd reader of pcscd, until SIGINT/SIGTERM.
//!
//! ```text
//! scripts/pcsc-stack start
//! hcpki-vcard --kind jpki --netns hcpki-pcsc --identity /tmp/card1      # reader "Virtual PCD 00 00"
//! pkcs15-tool --list-certificates
//! ```
#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use hcpki_vcard::hpki::HpkiLayout;
use hcpki_vcard::identity::{HpkiPins, Identity, IdentityRequest, JpkiPins, Origin, check_hpki_pins, check_jpki_pins};
use hcpki_vcard::key::CardAlgorithm;
use hcpki_vcard::testpki::{HpkiSubject, JpkiSubject};
use hcpki_vcard::vpcd::{DEFAULT_PORT, VpcdCard, VpcdTarget};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A virtual HPKI or JPKI card for pcscd's vsmartcard-vpcd reader. Test cards only: every
/// certificate chains to a TEST root made here, and the PINs are printed.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Which card to emulate.
    #[arg(long, value_enum)]
    kind: Kind,
    /// vpcd's port: 35963 is reader "Virtual PCD 00 00", 35964 "… 00 01".
    #[arg(long, default_value_t = DEFAULT_PORT)]
    vpcd_port: u16,
    /// vpcd's host, as seen from inside --netns.
    #[arg(long, default_value = "127.0.0.1")]
    vpcd_host: String,
    /// Network namespace pcscd runs in (a name under /run/netns, or a path); needs root.
    #[arg(long)]
    netns: Option<String>,
    /// Login PIN: the JPKI user-authentication PIN (4 digits) or the HPKI authentication-AP PIN
    /// (4–16 printable ASCII). Overrides a stored identity's PIN for this run without saving it.
    #[arg(long)]
    pin: Option<String>,
    /// Identity directory: loaded when it holds one, else generated there. Without it, a fresh
    /// identity in a temporary directory that goes away at exit.
    #[arg(long)]
    identity: Option<PathBuf>,
    /// HPKI file layout (HPKI only).
    #[arg(long, value_enum)]
    layout: Option<Layout>,
    /// Key algorithm of a new identity: `rsa2048` (today's cards) or `p384` (ECDSA P-384 / SHA-384 in today's file
    /// layout: the next My Number card generation, D153, and an EC HPKI card, D177). A loaded identity keeps the
    /// keys it has.
    #[arg(long, value_enum)]
    algorithm: Option<Algorithm>,
    /// hcRole free text of a new HPKI identity (HPKI only), e.g. "Pharmacist".
    #[arg(long)]
    role: Option<String>,
    /// Appends every APDU and power event to this file, as `> C-APDU` / `< R-APDU` lines.
    #[arg(long)]
    transcript: Option<PathBuf>,
    /// Connection attempts to vpcd before giving up.
    #[arg(long, default_value_t = 10)]
    connect_attempts: u32,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Kind {
    Jpki,
    Hpki,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Algorithm {
    /// RSA-2048, PKCS#1 v1.5 / SHA-256 (today's My Number card).
    Rsa2048,
    /// ECDSA P-384 / SHA-384 (the next generation, in today's file layout).
    P384,
}

impl Algorithm {
    fn card_algorithm(self) -> CardAlgorithm {
        match self {
            Algorithm::Rsa2048 => CardAlgorithm::Rsa2048,
            Algorithm::P384 => CardAlgorithm::P384,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Layout {
    /// Japan Medical Association card (FIDs 0002/000C/0016, VERIFY P2 88, MSE tag 84).
    Jma,
    /// JAHIS 24-002 example (SFIs 16/17/18, VERIFY P2 96, MSE tag 81).
    Jahis,
}

impl Layout {
    fn layout(self) -> HpkiLayout {
        match self {
            Layout::Jma => HpkiLayout::JMA,
            Layout::Jahis => HpkiLayout::JAHIS_EXAMPLE,
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}`: the whole cause chain on one line, without anyhow's backtrace.
            eprintln!("hcpki-vcard: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let request = request(&args)?;

    // Keeps a temporary identity alive while the card is served.
    let (dir, _temp) = match &args.identity {
        Some(dir) => (dir.clone(), None),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("hcpki-vcard-")
                .tempdir()
                .context("cannot create a temporary identity directory; pass --identity DIR")?;
            (temp.path().to_owned(), Some(temp))
        }
    };
    let (mut identity, origin) = Identity::load_or_generate(&dir, &request)?;
    apply_overrides(&args, &mut identity, &dir)?;

    let mut target =
        VpcdTarget::new(args.vpcd_host.clone(), args.vpcd_port).with_connect_attempts(args.connect_attempts);
    if let Some(ns) = &args.netns {
        target = if ns.contains('/') { target.in_netns(ns) } else { target.in_named_netns(ns) };
    }
    print_banner(&identity, origin, &dir, &target, args.identity.is_none());

    let mut vcard = VpcdCard::new(identity.card());
    if args.transcript.is_some() {
        vcard.card().set_recording(true);
    }
    let signals = StopSignals::install()?;
    vcard.insert(target)?;
    println!("serving; stop with Ctrl-C");
    let _ = std::io::stdout().flush();

    let flusher = args.transcript.as_deref().map(|path| TranscriptFlusher::start(path, vcard.shared())).transpose()?;
    signals.wait();
    vcard.remove();
    if let Some(flusher) = flusher {
        flusher.stop()?;
    }
    Ok(())
}

/// SIGINT and SIGTERM, installed before the card goes in so that a stop in between is not lost.
struct StopSignals {
    #[cfg(unix)]
    signals: signal_hook::iterator::Signals,
}

impl StopSignals {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            let signals =
                signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).context("cannot install signal handlers")?;
            Ok(StopSignals { signals })
        }
        #[cfg(not(unix))]
        bail!("hcpki-vcard plugs cards into vpcd beside pcscd, on Linux: run it there")
    }

    /// Blocks until one arrives.
    fn wait(self) {
        #[cfg(unix)]
        {
            let mut signals = self.signals;
            if let Some(signal) = signals.forever().next() {
                tracing::info!("signal {signal}: removing the card");
            }
        }
    }
}

/// What to generate when the directory holds no identity, from the flags.
fn request(args: &Args) -> anyhow::Result<IdentityRequest> {
    match args.kind {
        Kind::Jpki => {
            if args.layout.is_some() || args.role.is_some() {
                bail!("--layout and --role describe HPKI cards; drop them or use --kind hpki");
            }
            let algorithm = args.algorithm.unwrap_or(Algorithm::Rsa2048).card_algorithm();
            let mut pins = JpkiPins::default();
            if let Some(pin) = &args.pin {
                pins.auth.clone_from(pin);
            }
            check_jpki_pins(&pins)?;
            Ok(IdentityRequest::Jpki { subject: JpkiSubject::default(), pins, algorithm })
        }
        Kind::Hpki => {
            let algorithm = args.algorithm.unwrap_or(Algorithm::Rsa2048).card_algorithm();
            let layout = args.layout.unwrap_or(Layout::Jma).layout();
            let mut pins = HpkiPins::default();
            if let Some(pin) = &args.pin {
                pins.authentication.clone_from(pin);
            }
            check_hpki_pins(&pins, &layout)?;
            let mut subject = HpkiSubject::default();
            if let Some(role) = &args.role {
                subject.role = Some(role.clone());
            }
            Ok(IdentityRequest::Hpki { subject, layout, pins, algorithm })
        }
    }
}

/// Applies --pin and --layout to a loaded identity (they are not in its certificates); --role is,
/// so a different one is an error.
fn apply_overrides(args: &Args, identity: &mut Identity, dir: &Path) -> anyhow::Result<()> {
    match identity {
        Identity::Jpki(id) => {
            if let Some(pin) = &args.pin {
                id.pins.auth.clone_from(pin);
            }
            check_jpki_pins(&id.pins)?;
            same_algorithm(args, id.credentials.auth.key.algorithm(), dir)?;
        }
        Identity::Hpki(id) => {
            if let Some(pin) = &args.pin {
                id.pins.authentication.clone_from(pin);
            }
            if let Some(layout) = args.layout {
                id.layout = layout.layout();
            }
            check_hpki_pins(&id.pins, &id.layout)?;
            same_algorithm(args, id.credentials.authentication.key.algorithm(), dir)?;
            if let Some(role) = &args.role
                && id.subject.role.as_ref() != Some(role)
            {
                bail!(
                    "{} holds certificates with hcRole {:?}, not {role:?}; drop --role or use another --identity directory",
                    dir.display(),
                    id.subject.role
                );
            }
        }
    }
    Ok(())
}

/// The keys are in the directory: an --algorithm they are not is a mistake, not an override.
fn same_algorithm(args: &Args, held: CardAlgorithm, dir: &Path) -> anyhow::Result<()> {
    if let Some(wanted) = args.algorithm.map(Algorithm::card_algorithm)
        && wanted != held
    {
        bail!(
            "{} holds a {} card, not {}; drop --algorithm or use another --identity directory",
            dir.display(),
            held.as_str(),
            wanted.as_str()
        );
    }
    Ok(())
}

fn print_banner(identity: &Identity, origin: Origin, dir: &Path, target: &VpcdTarget, temporary: bool) {
    let kind = identity.kind();
    println!("hcpki-vcard: TEST {} card", kind.to_string().to_uppercase());
    match identity {
        Identity::Jpki(id) => {
            let a = &id.subject.attributes;
            println!("  certificate CN     {}", id.subject.opaque_id);
            println!("  name               {}", a.name);
            println!("  address            {}", a.address);
            println!("  birth date         {}", a.birth_date);
            println!("  sex                {}", a.sex);
            println!("  auth PIN           {}", id.pins.auth);
            println!("  signing password   {}", id.pins.sign);
            println!("  text-AP PIN        {}", id.pins.text);
        }
        Identity::Hpki(id) => {
            let s = &id.subject;
            println!("  layout             {}", id.layout.name);
            println!("  name               {} ({})", s.name_romaji, s.name_kanji);
            println!("  organization       {} ({})", s.organization_romaji, s.organization_kanji);
            println!("  registration id    {}", s.registration_id);
            println!("  hcRole             {}", s.role.as_deref().unwrap_or("(none)"));
            println!("  signature PIN      {}", id.pins.signature);
            println!("  authentication PIN {}", id.pins.authentication);
        }
    }
    println!("  certificates (SHA-256):");
    for (name, der) in identity.certificates() {
        println!("    {name:<18} {}", fingerprint(der));
    }
    let origin = match origin {
        Origin::Loaded => "loaded",
        Origin::Generated if temporary => "generated, deleted at exit",
        Origin::Generated => "generated",
    };
    println!("  identity           {} ({origin})", dir.display());
    let cas: Vec<String> = identity
        .certificates()
        .iter()
        .filter(|(name, _)| name.ends_with("-ca"))
        .map(|(name, _)| dir.join(format!("{name}.pem")).display().to_string())
        .collect();
    println!("  CA certificates    {}", cas.join(" "));
    println!("  reader             {target}");
    let _ = std::io::stdout().flush();
}

fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// Drains the card's transcript into a file a few times a second, so that it is there while the
/// card still runs (and after a crash).
struct TranscriptFlusher {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

/// How often the transcript file catches up with the card.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

impl TranscriptFlusher {
    fn start(path: &Path, card: Arc<Mutex<hcpki_vcard::card::VirtualCard>>) -> anyhow::Result<Self> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the transcript file {}", path.display()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_seen = Arc::clone(&stop);
        let path = path.to_owned();
        let thread = std::thread::spawn(move || -> anyhow::Result<()> {
            loop {
                let last = stop_seen.load(Ordering::SeqCst);
                let entries = card.lock().unwrap_or_else(PoisonError::into_inner).take_transcript();
                for entry in entries {
                    writeln!(file, "{entry}").with_context(|| format!("writing {}", path.display()))?;
                }
                file.flush().with_context(|| format!("writing {}", path.display()))?;
                if last {
                    return Ok(());
                }
                std::thread::sleep(FLUSH_EVERY);
            }
        });
        Ok(Self { stop, thread })
    }

    /// Writes what is left and closes the file.
    fn stop(self) -> anyhow::Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.join() {
            Ok(result) => result,
            Err(_) => bail!("the transcript writer crashed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_check() {
        let args =
            Args::try_parse_from(["hcpki-vcard", "--kind", "hpki", "--layout", "jahis", "--pin", "abcd"]).unwrap();
        let IdentityRequest::Hpki { layout, pins, .. } = request(&args).unwrap() else { panic!("hpki") };
        assert_eq!(layout, HpkiLayout::JAHIS_EXAMPLE);
        assert_eq!(pins.authentication, "abcd");
        let bad = Args::try_parse_from(["hcpki-vcard", "--kind", "jpki", "--pin", "12345"]).unwrap();
        assert!(request(&bad).unwrap_err().to_string().contains("4 digits"));
        let mixed = Args::try_parse_from(["hcpki-vcard", "--kind", "jpki", "--role", "Pharmacist"]).unwrap();
        assert!(request(&mixed).is_err());
        assert!(Args::try_parse_from(["hcpki-vcard", "--kind", "piv"]).is_err());
        assert_eq!(fingerprint(b"").len(), 95);
    }
}
