//! `hcpki-agent`: the one local program that owns the PC/SC readers and serves both HPKI and JPKI
//! cards, from the command line or through its loopback API (`serve`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::{Parser, Subcommand};

use hcpki_agent::api;
use hcpki_agent::broker::Broker;
use hcpki_agent::config::{AgentConfig, PeerCheckMode, PinEntry, normalise_origin};
use hcpki_agent::document::time_stamps::TimeStamps;
use hcpki_agent::document::{AGENT_LEVELS, Format, Level};
use hcpki_agent::driver::{PinStatus, registry};
use hcpki_agent::instance::InstanceLock;
use hcpki_agent::lifecycle::Lifecycle;
use hcpki_agent::pin_entry::{StdinPrompt, TerminalPrompt, read_pin, text_pin_prompt};
use hcpki_agent::platform::{self, Platform};
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
        #[arg(long, default_value = "b-b", requires = "format", value_parser = agent_level())]
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
    /// Says whether the reader holding the card has a PIN pad the patient can type on (PC/SC secure PIN entry,
    /// `FEATURE_VERIFY_PIN_DIRECT`): exit 0 if it has, 1 with what to do if not.
    PinPad {
        #[arg(long, value_enum)]
        card: CardKind,
        #[arg(long)]
        reader: Option<String>,
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
    /// Serves the loopback API for the portal's pages. One per user: a second is refused. Stops on Ctrl-C,
    /// SIGTERM, and on Windows also when its console closes and at logoff or shutdown. Without --config it reads the
    /// machine's agent.toml (Windows: %ProgramData%\hcpki-agent; Linux: /etc/hcpki-agent) with the user's over it
    /// (Windows: %APPDATA%\hcpki-agent; Linux: ~/.config/hcpki-agent).
    Serve {
        /// agent.toml (see docs/card-agent.md); alone, instead of the machine's and the user's.
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
        /// Overrides `peer_check`: `same-user` (the default: only this user's programs, on Windows this session's)
        /// or `off`.
        #[arg(long, value_enum)]
        peer_check: Option<PeerCheckMode>,
        /// Started at logon without a terminal (Windows: by hcpki-agent-logon): logs go to agent.log in the user's
        /// state directory (Windows: %LOCALAPPDATA%\hcpki-agent), and PINs are typed into the agent's page only.
        #[arg(long)]
        background: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let background = matches!(cli.command, Command::Serve { background: true, .. });
    let log_file = match background.then(open_log_file).transpose() {
        Ok(file) => file,
        Err(e) => {
            eprintln!("hcpki-agent: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("HCPKI_LOG").unwrap_or_else(|_| "hcpki_agent=info,warn".into());
    match log_file {
        Some(file) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init(),
        None => tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init(),
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // In the background nobody reads stderr: the log has it.
            tracing::error!("{e:#}");
            eprintln!("hcpki-agent: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The log of an agent started at logon: `agent.log` in the user's state directory, appended to; the previous one is
/// kept as `agent.log.1` once it passes [`LOG_ROTATE_BYTES`].
fn open_log_file() -> anyhow::Result<std::fs::File> {
    const LOG_ROTATE_BYTES: u64 = 8 * 1024 * 1024;
    let dir = Platform::CURRENT
        .state_dir(&platform::process_env)
        .context("no directory for the agent's log: set LOCALAPPDATA (Windows), HOME, or HCPKI_AGENT_STATE_DIR")?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
    let path = dir.join("agent.log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        std::fs::rename(&path, dir.join("agent.log.1")).with_context(|| format!("cannot rotate {}", path.display()))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot write the agent's log {}", path.display()))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Readers => {
            let broker = Broker::new(PcscBackend::new());
            let readers = broker.readers()?;
            if readers.is_empty() {
                println!("no reader: connect a card reader (is {} running?)", Platform::CURRENT.pcsc_service());
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
        Command::PinPad { card, reader } => {
            let broker = Broker::new(PcscBackend::new());
            if broker.has_pin_pad(reader.as_deref(), card)? {
                println!("this reader has a PIN pad (PC/SC secure PIN entry, FEATURE_VERIFY_PIN_DIRECT)");
                return Ok(());
            }
            bail!(
                "this reader has no PIN pad (its driver offers no FEATURE_VERIFY_PIN_DIRECT): the PIN would be typed on \
                 this PC's keyboard. For a patient-facing PIN pad, connect a reader with a PIN pad (a CCID class \
                 reader with secure PIN entry) and check it again with this command."
            );
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
        Command::Serve { config, listen, allow_origin, pin_entry, portal_ca_file, peer_check, background } => {
            let mut cfg = match config {
                Some(path) => AgentConfig::load(&path)?,
                None => {
                    AgentConfig::load_layered(&AgentConfig::default_files(Platform::CURRENT, &platform::process_env))?
                }
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
            if let Some(p) = peer_check {
                cfg.peer_check = p;
            }
            if background && cfg.pin_entry == PinEntry::Terminal {
                bail!(
                    "pin_entry = \"terminal\" needs a terminal, and an agent started at logon has none: use the \
                     agent's page (pin_entry = \"web\")"
                );
            }
            cfg.validate()?;
            serve(cfg)
        }
    }
}

fn serve(cfg: AgentConfig) -> anyhow::Result<()> {
    // Read before anything listens: a wrong file is a start-up error, not a silent lack of presence reports.
    let portal_client = cfg.portal_ca_file.as_deref().map(PortalClient::from_ca_file).transpose()?;
    let endpoints = cfg.signing.endpoints(&cfg.signing_dir)?;
    let time_stamps = if endpoints.is_empty() { None } else { Some(TimeStamps::new(endpoints)?) };
    let ca_certificates = cfg.signing.ca_certificates(&cfg.signing_dir)?;
    // One serving agent per user: a second one would fight the first over the readers.
    let state_dir = Platform::CURRENT
        .state_dir(&platform::process_env)
        .context("no directory for the agent's state: set LOCALAPPDATA (Windows), HOME, or HCPKI_AGENT_STATE_DIR")?;
    let _instance = InstanceLock::acquire(&state_dir, &format!("listening on {}", cfg.listen))?;
    let lifecycle = Arc::new(Lifecycle::default());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let served = runtime.block_on(serve_until_stopped(cfg, portal_client, time_stamps, ca_certificates, &lifecycle));
    // The runtime's threads (presence reports, blocking card work) end here, before the session may end.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    lifecycle.finished();
    served
}

async fn serve_until_stopped(
    cfg: AgentConfig,
    portal_client: Option<PortalClient>,
    time_stamps: Option<TimeStamps>,
    ca_certificates: Vec<Vec<u8>>,
    lifecycle: &Arc<Lifecycle>,
) -> anyhow::Result<()> {
    {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.listen))?;
        let addr = listener.local_addr()?;
        let broker = Arc::new(
            if cfg.readers.is_empty() {
                Broker::new(PcscBackend::new())
            } else {
                Broker::new(OnlyReaders::new(PcscBackend::new(), cfg.readers.clone()))
            }
            .with_pin_pad(cfg.pin_pad),
        );
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
        watch_session(&state, lifecycle);
        let check = match cfg.peer_check {
            PeerCheckMode::SameUser => hcpki_agent::peer::platform_check().map(Arc::from),
            PeerCheckMode::Off => {
                tracing::warn!("peer_check = \"off\": programs of every user of this PC may use this agent");
                None
            }
        };
        // The line tests and scripts wait for.
        println!("hcpki-agent listening on http://{addr} (origins: {})", cfg.allowed_origins.join(", "));
        tracing::info!(%addr, pin_entry = ?cfg.pin_entry, peer_check = ?cfg.peer_check, "serving");
        let (stopping, stop_asked) = (Arc::clone(lifecycle), Arc::new(tokio::sync::Notify::new()));
        let asked = Arc::clone(&stop_asked);
        let server = axum::serve(api::OwnPrograms::new(listener, check), api::router(state)).with_graceful_shutdown(
            async move {
                let why = stopping.stop_requested().await;
                tracing::info!("stopping: {}", why.describe());
                asked.notify_one();
            },
        );
        // Requests in flight get a moment to finish; the event streams and long polls that pages keep open would
        // otherwise hold the stop (and the end of the session) for ever.
        tokio::select! {
            served = server => served?,
            () = async {
                stop_asked.notified().await;
                tokio::time::sleep(STOP_GRACE).await;
            } => tracing::info!("connections still open after {STOP_GRACE:?}: closed"),
        }
        stop.store(true, Ordering::Relaxed);
        let _ = tokio::task::spawn_blocking(move || watcher.join()).await;
        tracing::info!("stopped");
        anyhow::Ok(())
    }
}

/// How long open connections may take to finish once the agent is asked to stop.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Windows: the session window (hcpki_agent_windows::session) stops the agent when the session ends and cancels the
/// PIN questions when the workstation is locked. Without a window (no desktop) the console's events still stop it.
#[cfg(windows)]
fn watch_session(state: &api::AppState, lifecycle: &Arc<Lifecycle>) {
    use hcpki_agent::lifecycle::{ENDING_GRACE, StopReason};
    use hcpki_agent_windows::session::{SessionEvent, watch};
    let (state, lifecycle) = (state.clone(), Arc::clone(lifecycle));
    let watching = watch(move |event| match event {
        SessionEvent::Ending { logoff } => {
            lifecycle.request_stop(if logoff { StopReason::LoggingOff } else { StopReason::ShuttingDown });
            if !lifecycle.wait_finished(ENDING_GRACE) {
                tracing::warn!("the session ends before the agent finished stopping");
            }
        }
        SessionEvent::Locked => {
            let cancelled = state.cancel_pin_questions();
            tracing::info!(cancelled, "the workstation was locked: PIN questions cancelled");
        }
        other => tracing::info!(?other, "session changed"),
    });
    match watching {
        Ok(w) => tracing::debug!(session_changes = w.session_changes, "watching the session"),
        Err(e) => {
            tracing::warn!(error = %e, "no session window: logoff and lock are not seen, the console's events are")
        }
    }
}

/// Elsewhere the session is the terminal's or the service manager's: their signals stop the agent.
#[cfg(not(windows))]
fn watch_session(_state: &api::AppState, _lifecycle: &Arc<Lifecycle>) {}

/// The PIN prompt of the command line: the terminal without echo, or one line of standard input.
fn prompt(pin_stdin: bool) -> Box<dyn PinPrompt> {
    if pin_stdin { Box::new(StdinPrompt::default()) } else { Box::new(TerminalPrompt) }
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

/// `--level`: the levels the agent makes ([`AGENT_LEVELS`]), listed in the help.
fn agent_level() -> impl clap::builder::TypedValueParser<Value = Level> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(AGENT_LEVELS.map(Level::as_str)).try_map(|name| name.parse::<Level>())
}
