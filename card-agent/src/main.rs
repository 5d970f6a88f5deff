//! `hcpki-agent`: the one local program that owns the PC/SC readers and serves both HPKI and JPKI
//! cards, from the command line or through its loopback API (`serve`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::{Parser, Subcommand};

use hcpki_agent::api;
use hcpki_agent::broker::Broker;
use hcpki_agent::config::{AgentConfig, PinEntry, normalise_origin};
use hcpki_agent::document::time_stamps::TimeStamps;
use hcpki_agent::document::{Format, Level};
use hcpki_agent::driver::{PinStatus, registry};
use hcpki_agent::pin_entry::{StdinPrompt, TerminalPrompt, read_pin, text_pin_prompt};
use hcpki_agent::presence::{self, PortalClient, Presence};
use hcpki_agent::readers::{OnlyReaders, PcscBackend};
use hcpki_agent::service::{AgentError, CardKind, CardService, KeyRole, PinPrompt, SignRequest, login_message};

mod sign_file;

#[derive(Debug, Parser)]
#[command(name = "hcpki-agent", version, about = "Local HPKI / JPKI card agent: one owner for every PC/SC reader")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Lists the readers and what is in each.
    Readers,
    /// Lists the HPKI and JPKI cards with their certificates.
    Cards {
        /// Machine-readable output (certificates as base64 DER).
        #[arg(long)]
        json: bool,
    },
    /// Signs a document with the card's signature key (`--format cades FILE`, writing FILE.p7s beside it), or
    /// a login challenge for a portal origin with its authentication key (`--challenge --origin --card`). The
    /// PIN is asked here, after what is signed has been shown.
    Sign {
        /// Document signature: the format (writes the signed file next to FILE).
        #[arg(long, value_enum, requires = "file", conflicts_with_all = ["challenge", "origin"])]
        format: Option<Format>,
        /// The document to sign (at most 10 MiB).
        #[arg(requires = "format")]
        file: Option<PathBuf>,
        /// Document signature: the baseline level; b-t asks the TSAs of [[signing.tsa]] in --config.
        #[arg(long, value_enum, default_value = "b-b", requires = "format")]
        level: Level,
        /// Document signature: the title shown before the PIN (default: the file name).
        #[arg(long, requires = "format")]
        title: Option<String>,
        /// Document signature: replace an existing signed file.
        #[arg(long, requires = "format")]
        force: bool,
        /// agent.toml, for [signing]: the TSAs (level b-t) and the CA certificates a signature carries.
        #[arg(long, env = "HCPKI_AGENT_CONFIG", requires = "format")]
        config: Option<PathBuf>,
        /// Login: the challenge, base64url.
        #[arg(long, required_unless_present = "format")]
        challenge: Option<String>,
        /// Login: the portal origin the signature is for (it is part of what the card signs).
        #[arg(long, required_unless_present = "format")]
        origin: Option<String>,
        /// The card (a login needs it; a document defaults to hpki, jpki for a consent signed with the My Number
        /// card's signing key).
        #[arg(long, value_enum)]
        card: Option<CardKind>,
        /// Reader name, when several cards of the kind are inserted.
        #[arg(long)]
        reader: Option<String>,
        /// Read the PIN as one line of standard input instead of the terminal.
        #[arg(long)]
        pin_stdin: bool,
        /// Allow spending the last PIN try.
        #[arg(long)]
        allow_last_try: bool,
    },
    /// Shows how many PIN tries are left on each PIN of a card (spends none).
    PinStatus {
        #[arg(long, value_enum)]
        card: CardKind,
        #[arg(long)]
        reader: Option<String>,
    },
    /// Reads the basic four items (name, address, birth date, sex) from a My Number card, after its
    /// 券面事項入力補助 PIN.
    Attributes {
        #[arg(long)]
        reader: Option<String>,
        #[arg(long)]
        pin_stdin: bool,
        #[arg(long)]
        allow_last_try: bool,
        #[arg(long)]
        json: bool,
    },
    /// Measures login latency and APDUs through the API, PC/SC and the card (PIN: one line of stdin).
    Bench {
        #[arg(long, value_enum)]
        card: CardKind,
        #[arg(long)]
        reader: Option<String>,
        /// Warm logins after the first (cold) one.
        #[arg(long, default_value_t = 50)]
        logins: usize,
        /// Measure document signatures with the card's signature key (a CAdES B-B of a 4 KiB document through
        /// `POST /v1/documents`; the signature PIN on standard input) instead of logins.
        #[arg(long)]
        documents: bool,
        /// Print the samples as JSON instead of the summary.
        #[arg(long)]
        json: bool,
    },
    /// Serves the loopback API for the portal's pages.
    Serve {
        /// agent.toml (see docs/card-agent.md).
        #[arg(long, env = "HCPKI_AGENT_CONFIG")]
        config: Option<PathBuf>,
        /// Overrides `listen` (loopback only).
        #[arg(long, env = "HCPKI_AGENT_LISTEN")]
        listen: Option<std::net::SocketAddr>,
        /// Adds an allowed portal origin (repeatable).
        #[arg(long = "allow-origin")]
        allow_origin: Vec<String>,
        /// Overrides `pin_entry`.
        #[arg(long, value_enum)]
        pin_entry: Option<PinEntry>,
        /// Overrides `portal_ca_file`: the portal's CA certificate (PEM), for card presence reports.
        #[arg(long, env = "HCPKI_AGENT_PORTAL_CA_FILE")]
        portal_ca_file: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HCPKI_LOG").unwrap_or_else(|_| "hcpki_agent=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hcpki-agent: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Readers => {
            let broker = Broker::new(PcscBackend::new());
            let readers = broker.readers()?;
            if readers.is_empty() {
                println!("no reader: connect a card reader (is pcscd running?)");
            }
            for r in readers {
                let what = match (&r.card, r.unknown_card) {
                    (Some(c), _) => format!("{} card {}", registry::display_name(c.kind), c.card_id),
                    (None, true) => "a card that is neither HPKI nor JPKI".into(),
                    (None, false) => "empty".into(),
                };
                println!("{}\t{what}", r.name);
            }
            Ok(())
        }
        Command::Cards { json } => {
            let broker = Broker::new(PcscBackend::new());
            let readers = broker.readers()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "readers": readers }))?);
                return Ok(());
            }
            let mut any = false;
            for r in readers {
                let Some(card) = r.card else { continue };
                any = true;
                println!("{}: {} card, id {}", r.name, registry::display_name(card.kind), card.card_id);
                for c in &card.certificates {
                    for (i, der) in c.chain.iter().enumerate() {
                        let label = if i == 0 { format!("{:?} certificate", c.role) } else { "  issuer".into() };
                        println!("  {label}: {}", describe_certificate(der));
                    }
                }
            }
            if !any {
                println!("no HPKI or JPKI card inserted");
            }
            Ok(())
        }
        Command::Sign {
            format: Some(format),
            file: Some(file),
            level,
            title,
            force,
            config,
            card,
            reader,
            pin_stdin,
            allow_last_try,
            ..
        } => {
            let options = sign_file::Options {
                format,
                level,
                title,
                force,
                config,
                kind: card.unwrap_or(CardKind::Hpki),
                reader,
                pin_stdin,
                allow_last_try,
            };
            sign_file::run(&file, options)
        }
        Command::Sign { challenge, origin, card, reader, pin_stdin, allow_last_try, .. } => {
            let (Some(challenge), Some(origin), Some(card)) = (challenge, origin, card) else {
                bail!("a login signature needs --challenge, --origin and --card; a document needs --format and FILE");
            };
            let origin = normalise_origin(&origin)?;
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(challenge.trim_end_matches('='))
                .context("--challenge is not base64url")?;
            if challenge.is_empty() {
                bail!("--challenge is empty");
            }
            let broker = Broker::new(PcscBackend::new());
            let prompt = prompt(pin_stdin);
            let request =
                SignRequest { reader, kind: card, message: login_message(&origin, &challenge), allow_last_try };
            let signed = broker.sign(&request, prompt.as_ref())?;
            println!("{}", serde_json::to_string_pretty(&signed)?);
            Ok(())
        }
        Command::PinStatus { card, reader } => {
            let broker = Broker::new(PcscBackend::new());
            for role in [KeyRole::Auth, KeyRole::Sign] {
                let shown = match broker.pin_status(reader.as_deref(), card, role) {
                    Ok(PinStatus::TriesLeft(n)) => format!("{n} tries left"),
                    Ok(PinStatus::Blocked) => "blocked".into(),
                    Ok(PinStatus::Unknown) => "not reported by the card".into(),
                    Err(AgentError::NoKey(_)) => "no such key on this card".into(),
                    Err(e) => return Err(e.into()),
                };
                println!("{role:?} PIN: {shown}");
            }
            Ok(())
        }
        Command::Attributes { reader, pin_stdin, allow_last_try, json } => {
            let broker = Broker::new(PcscBackend::new());
            let ask = |tries| read_pin(pin_stdin, &text_pin_prompt(tries));
            let a = broker.basic_attributes(reader.as_deref(), allow_last_try, &ask)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&a)?);
            } else {
                println!(
                    "氏名 name:        {}\n住所 address:     {}\n生年月日 birth:   {}\n性別 sex:         {}",
                    a.name, a.address, a.birth_date, a.sex
                );
            }
            Ok(())
        }
        Command::Bench { card, reader, logins, documents, json } => {
            let mut line = zeroize::Zeroizing::new(String::new());
            std::io::stdin().read_line(&mut line).context("reading the PIN from standard input")?;
            let pin = zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
            let operation =
                if documents { hcpki_agent::bench::Operation::Document } else { hcpki_agent::bench::Operation::Login };
            let report = hcpki_agent::bench::run(PcscBackend::new(), card, reader, pin, logins, operation)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.render());
            }
            Ok(())
        }
        Command::Serve { config, listen, allow_origin, pin_entry, portal_ca_file } => {
            let config_dir =
                config.as_deref().and_then(Path::parent).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let mut cfg = match config {
                Some(path) => AgentConfig::load(&path)?,
                None => AgentConfig::default(),
            };
            if let Some(l) = listen {
                cfg.listen = l;
            }
            cfg.allowed_origins.extend(allow_origin);
            if let Some(p) = pin_entry {
                cfg.pin_entry = p;
            }
            if let Some(f) = portal_ca_file {
                cfg.portal_ca_file = Some(f);
            }
            cfg.validate()?;
            serve(cfg, config_dir)
        }
    }
}

fn serve(cfg: AgentConfig, config_dir: PathBuf) -> anyhow::Result<()> {
    // Read before anything listens: a wrong file is a start-up error, not a silent lack of presence reports.
    let portal_client = cfg.portal_ca_file.as_deref().map(PortalClient::from_ca_file).transpose()?;
    let endpoints = cfg.signing.endpoints(&config_dir)?;
    let time_stamps = if endpoints.is_empty() { None } else { Some(TimeStamps::new(endpoints)?) };
    let ca_certificates = cfg.signing.ca_certificates(&config_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.listen))?;
        let addr = listener.local_addr()?;
        let broker = Arc::new(if cfg.readers.is_empty() {
            Broker::new(PcscBackend::new())
        } else {
            Broker::new(OnlyReaders::new(PcscBackend::new(), cfg.readers.clone()))
        });
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = broker.spawn_watcher(Arc::clone(&stop))?;
        let terminal: Option<Arc<dyn PinPrompt>> =
            (cfg.pin_entry == PinEntry::Terminal).then(|| Arc::new(TerminalPrompt) as Arc<dyn PinPrompt>);
        let mut state = api::AppState::new(broker.clone(), &cfg, addr, terminal);
        state = state.with_signing(time_stamps.map(Arc::new), ca_certificates);
        match portal_client {
            Some(client) => {
                let presence = Arc::new(Presence::default());
                presence::spawn(presence.clone(), broker, client);
                state = state.with_presence(presence);
            }
            None => tracing::warn!(
                "no portal_ca_file: card presence is not reported, so card sessions on a presence lease end \
                 after one lease (docs/card-agent.md)"
            ),
        }
        // The line tests and scripts wait for.
        println!("hcpki-agent listening on http://{addr} (origins: {})", cfg.allowed_origins.join(", "));
        tracing::info!(%addr, pin_entry = ?cfg.pin_entry, "serving");
        axum::serve(listener, api::router(state)).with_graceful_shutdown(shutdown_signal()).await?;
        stop.store(true, Ordering::Relaxed);
        let _ = tokio::task::spawn_blocking(move || watcher.join()).await;
        anyhow::Ok(())
    })
}

/// The PIN prompt of the command line: the terminal without echo, or one line of standard input.
fn prompt(pin_stdin: bool) -> Box<dyn PinPrompt> {
    if pin_stdin { Box::new(StdinPrompt::default()) } else { Box::new(TerminalPrompt) }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Subject and validity end of a certificate, or why it cannot be shown.
fn describe_certificate(der: &[u8]) -> String {
    use der::Decode as _;
    match x509_cert::Certificate::from_der(der) {
        Ok(cert) => {
            let tbs = &cert.tbs_certificate();
            format!("{} (until {})", tbs.subject(), tbs.validity().not_after)
        }
        Err(e) => format!("<not a certificate: {e}>"),
    }
}
