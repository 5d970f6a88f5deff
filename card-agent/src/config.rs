//! `agent.toml`: where the local API listens, which portal origins may use it, and how PINs are entered.
//!
//! Where it comes from (issue #44): `--config FILE` (or `HCPKI_AGENT_CONFIG`) alone when given; otherwise the
//! machine's file (`%ProgramData%\hcpki-agent\agent.toml`, which the MSI installs; `/etc/hcpki-agent/agent.toml`) with
//! this user's file (`%APPDATA%\hcpki-agent\agent.toml`; `~/.config/hcpki-agent/agent.toml`) over it, top-level key by
//! key; otherwise the defaults. Every file says `version = 1`; a file that cannot be read is named with the line.
//!
//! ```toml
//! version = 1
//! listen = "127.0.0.1:7717"                              # loopback only
//! allowed_origins = ["https://portal.hcpki.example"]     # the portals whose pages may call the API
//! pin_entry = "web"                                      # "web" (the agent's own page) or "terminal"
//! pin_timeout_secs = 120
//! pin_pad = "off"                                        # "prefer" / "require": the reader's PIN pad (pin_pad.rs)
//! operation_ttl_secs = 300
//! portal_ca_file = "/etc/hcpki-agent/portal-ca.pem"       # card presence reports to the portal (D26)
//!
//! [signing_session]                                     # one signature PIN, then confirmed signatures (D163)
//! max_signatures = 250                                   # 0 turns sessions off
//! max_hours = 18
//!
//! [[signing.tsa]]                                        # B-T document signatures (D71), tried in order
//! url = "http://tsa.example.jp/rfc3161"
//! roots = ["tsa-root.pem"]                               # relative to this file's directory
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::platform::Platform;

/// How the agent asks for a PIN when the local API starts a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PinEntry {
    /// The agent's own loopback page (`/pin/{id}`), which the portal opens in a window of its own.
    Web,
    /// The terminal the agent runs in.
    Terminal,
}

/// The agent's configuration.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Format version; only 1 exists.
    pub version: u32,
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default = "default_pin_entry")]
    pub pin_entry: PinEntry,
    #[serde(default = "default_pin_timeout")]
    pub pin_timeout_secs: u64,
    #[serde(default = "default_ttl")]
    pub operation_ttl_secs: u64,
    /// PEM CA certificate(s) of the portal's TLS server certificate: with it, the agent reports card presence
    /// to the portals whose pages register a session (D26), trusting these CAs only; without it, it refuses
    /// registrations. A relative path is relative to the directory of the file that names it.
    #[serde(default)]
    pub portal_ca_file: Option<PathBuf>,
    /// Whether the API answers only programs of the agent's own user (Windows: its session), `peer::PeerCheck`.
    #[serde(default)]
    pub peer_check: PeerCheckMode,
    /// `[[signing.tsa]]`: the TSAs a B-T document signature asks, in order (D70, D71).
    #[serde(default)]
    pub signing: crate::document::time_stamps::SigningConfig,
    /// The PC/SC readers the agent owns, by exact name as `hcpki-agent readers` lists them; empty (the
    /// default): every reader. Others are left to their programs and not shown to pages.
    #[serde(default)]
    pub readers: Vec<String>,
    /// Whether a reader's PIN pad takes the PIN (`off`, the default; `prefer`; `require`): issue #45 item 7.
    #[serde(default)]
    pub pin_pad: crate::pin_pad::PadUse,
    /// `[signing_session]`: how many document signatures one signature-PIN entry allows, within how many hours
    /// (defaults 250 and 18; 0 turns sessions off; at most 250 and 24): issue #48 item 3, D163.
    #[serde(default)]
    pub signing_session: crate::signing_session::Limits,
    /// The directory `[signing]`'s relative paths are read from: that of the file it came from.
    #[serde(skip)]
    pub signing_dir: PathBuf,
}

/// `peer_check`: who may connect to the API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PeerCheckMode {
    /// Only programs of the agent's own user (on Windows: of its own session). The default.
    #[default]
    SameUser,
    /// Any program on this PC, as before issue #44: for a test harness whose browser the platform cannot trace
    /// (peer.rs).
    Off,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            version: 1,
            listen: default_listen(),
            allowed_origins: Vec::new(),
            pin_entry: default_pin_entry(),
            pin_timeout_secs: default_pin_timeout(),
            operation_ttl_secs: default_ttl(),
            portal_ca_file: None,
            peer_check: PeerCheckMode::default(),
            signing: Default::default(),
            readers: Vec::new(),
            pin_pad: crate::pin_pad::PadUse::default(),
            signing_session: crate::signing_session::Limits::default(),
            signing_dir: PathBuf::from("."),
        }
    }
}

/// Why the configuration cannot be used; each says what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// The file is not a valid agent.toml: the line and what is wrong with it.
    #[error("{path}{}: {message}: correct that line (docs/card-agent.md, \"Configuration\")", .line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Parse { path: String, line: Option<usize>, message: String },
    #[error("{path}: version {found} is not supported: set version = 1")]
    Version { path: String, found: u32 },
    #[error("listen address {0} is not a loopback address: the agent serves this machine only (use 127.0.0.1:PORT)")]
    NotLoopback(SocketAddr),
    #[error(
        "allowed origin {0:?} is not an origin: write scheme://host[:port] without a path, https (http only for localhost)"
    )]
    BadOrigin(String),
    #[error("no allowed origin: add the portal's origin to allowed_origins (or --allow-origin)")]
    NoOrigin,
    #[error("{0} must be between 1 and 3600 seconds")]
    BadTimeout(&'static str),
    /// `[signing_session]` above the ceiling (250 signatures, 24 hours).
    #[error(
        "[signing_session] allows at most 250 signatures and 24 hours (0 turns sessions off): lower max_signatures or \
         max_hours"
    )]
    SessionAboveCeiling,
}

impl AgentConfig {
    /// Reads and checks one file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_layered(&[path.to_path_buf()])
    }

    /// Reads `files` (each checked alone, so an error names its file and line), later ones overriding earlier ones
    /// top-level key by key. Relative paths are resolved against the directory of the file that names them.
    pub fn load_layered(files: &[PathBuf]) -> Result<Self, ConfigError> {
        let mut merged = toml::Table::new();
        let mut signing_dir = PathBuf::from(".");
        // `[signing_session]` only ever lowers: the facility's machine file sets the ceiling a user's file cannot raise.
        let mut session = crate::signing_session::Limits::default();
        for path in files {
            let shown = path.display().to_string();
            let text =
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
            let parse_error = |e: toml::de::Error| ConfigError::Parse {
                path: shown.clone(),
                line: e.span().map(|span| line_of(&text, span.start)),
                message: e.message().trim().to_owned(),
            };
            // Alone first: its own errors with their lines; then its keys over the earlier files'.
            let alone: AgentConfig = toml::from_str(&text).map_err(parse_error)?;
            if alone.version != 1 {
                return Err(ConfigError::Version { path: shown, found: alone.version });
            }
            session = session.lowered_by(alone.signing_session);
            let mut table: toml::Table = toml::from_str(&text).map_err(parse_error)?;
            let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            if let Some(toml::Value::String(ca)) = table.get_mut("portal_ca_file") {
                *ca = dir.join(&*ca).display().to_string();
            }
            if table.contains_key("signing") {
                signing_dir = dir;
            }
            merged.extend(table);
        }
        let mut config = match files {
            [] => AgentConfig::default(),
            _ => toml::Value::Table(merged).try_into::<AgentConfig>().map_err(|e| ConfigError::Parse {
                path: files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" + "),
                line: None,
                message: e.message().trim().to_owned(),
            })?,
        };
        config.signing_dir = signing_dir;
        config.signing_session = session;
        Ok(config)
    }

    /// The files `serve` reads when no `--config` is given: the machine's, then this user's, those that exist.
    pub fn default_files(platform: Platform, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
        [platform.machine_config(env), platform.user_config(env)]
            .into_iter()
            .flatten()
            .filter(|p| p.is_file())
            .collect()
    }

    /// Checks what `serve` needs: loopback address, well-formed origins (normalised to lower case),
    /// sane timeouts.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        if !self.listen.ip().is_loopback() {
            return Err(ConfigError::NotLoopback(self.listen));
        }
        if self.allowed_origins.is_empty() {
            return Err(ConfigError::NoOrigin);
        }
        self.allowed_origins =
            self.allowed_origins.iter().map(|o| normalise_origin(o)).collect::<Result<Vec<_>, _>>()?;
        for (name, v) in [("pin_timeout_secs", self.pin_timeout_secs), ("operation_ttl_secs", self.operation_ttl_secs)]
        {
            if !(1..=3600).contains(&v) {
                return Err(ConfigError::BadTimeout(name));
            }
        }
        if !self.signing_session.within_ceiling() {
            return Err(ConfigError::SessionAboveCeiling);
        }
        Ok(())
    }

    pub fn pin_timeout(&self) -> Duration {
        Duration::from_secs(self.pin_timeout_secs)
    }

    pub fn operation_ttl(&self) -> Duration {
        Duration::from_secs(self.operation_ttl_secs)
    }
}

/// `scheme://host[:port]`, lower-cased, as browsers send it in `Origin`. https only, except for
/// loopback hosts used in development and tests.
pub fn normalise_origin(origin: &str) -> Result<String, ConfigError> {
    let bad = || ConfigError::BadOrigin(origin.to_owned());
    let lower = origin.trim().to_ascii_lowercase();
    let (scheme, rest) = lower.split_once("://").ok_or_else(bad)?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(bad());
    }
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map(|(h, _)| h).ok_or_else(bad)?,
        None => rest.rsplit_once(':').map_or(rest, |(h, port)| if port.parse::<u16>().is_ok() { h } else { "" }),
    };
    if host.is_empty() {
        return Err(bad());
    }
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
    match scheme {
        "https" => Ok(lower),
        "http" if loopback => Ok(lower),
        _ => Err(bad()),
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |before| before.matches('\n').count() + 1)
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7717))
}

fn default_pin_entry() -> PinEntry {
    PinEntry::Web
}

fn default_pin_timeout() -> u64 {
    120
}

fn default_ttl() -> u64 {
    300
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(normalise_origin("https://Portal.Example").unwrap(), "https://portal.example");
        assert_eq!(normalise_origin("https://portal.example:8443").unwrap(), "https://portal.example:8443");
        assert_eq!(normalise_origin("http://127.0.0.1:8443").unwrap(), "http://127.0.0.1:8443");
        assert_eq!(normalise_origin("http://[::1]:80").unwrap(), "http://[::1]:80");
        for bad in
            ["http://portal.example", "https://portal.example/", "portal.example", "https://", "ftp://x", "https://a@b"]
        {
            assert!(normalise_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_non_loopback_and_unknown_fields() {
        let mut c = AgentConfig { allowed_origins: vec!["https://p.example".into()], ..AgentConfig::default() };
        c.validate().unwrap();
        c.listen = "0.0.0.0:7717".parse().unwrap();
        assert!(matches!(c.validate(), Err(ConfigError::NotLoopback(_))));
        assert!(toml::from_str::<AgentConfig>("version = 1\nlisten_addr = \"x\"").is_err());
        let mut empty = AgentConfig::default();
        assert!(matches!(empty.validate(), Err(ConfigError::NoOrigin)));
    }

    /// A corrupt file is named with its line (issue #44): what an administrator needs to fix a file deployed to many
    /// PCs.
    #[test]
    fn errors_name_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agent.toml");
        for (text, line, what) in [
            ("version = 1\nallowed_origins = [\"https://p.example\"]\nlisten_addr = \"x\"\n", 3, "unknown field"),
            ("version = 1\n\npin_entry = \"telepathy\"\n", 3, "unknown variant"),
            ("version = 1\npin_pad = \"yes\"\n", 2, "unknown variant"),
            ("version = 1\nallowed_origins = [\"https://p.example\"\n", 2, ""),
            ("version = 1\npin_timeout_secs = \"ten\"\n", 2, "invalid type"),
        ] {
            std::fs::write(&file, text).unwrap();
            let said = AgentConfig::load(&file).unwrap_err().to_string();
            assert!(said.starts_with(&format!("{}, line {line}: ", file.display())), "{said}");
            assert!(said.contains(what), "{said}");
        }
        std::fs::write(&file, "version = 2\n").unwrap();
        assert!(matches!(AgentConfig::load(&file), Err(ConfigError::Version { found: 2, .. })));
    }

    /// The user's file overrides the machine's key by key; relative paths are the naming file's.
    #[test]
    fn the_users_file_overrides_the_machines_key_by_key() {
        let (machine, user) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let m = machine.path().join("agent.toml");
        let u = user.path().join("agent.toml");
        std::fs::write(
            &m,
            "version = 1\nallowed_origins = [\"https://portal.example\"]\nportal_ca_file = \"portal-ca.pem\"\n\
             pin_timeout_secs = 60\n[signing]\nca_certificates = [\"ca.pem\"]\n\
             [signing_session]\nmax_signatures = 50\n",
        )
        .unwrap();
        std::fs::write(
            &u,
            "version = 1\npin_entry = \"terminal\"\npin_timeout_secs = 90\npin_pad = \"require\"\n\
             [signing_session]\nmax_signatures = 250\nmax_hours = 8\n",
        )
        .unwrap();
        let c = AgentConfig::load_layered(&[m.clone(), u]).unwrap();
        assert_eq!(c.pin_pad, crate::pin_pad::PadUse::Require);
        assert_eq!(c.allowed_origins, ["https://portal.example"]);
        assert_eq!((c.pin_entry, c.pin_timeout_secs), (PinEntry::Terminal, 90));
        assert_eq!(c.portal_ca_file, Some(machine.path().join("portal-ca.pem")));
        assert_eq!(c.signing_dir, machine.path());
        assert_eq!(c.peer_check, PeerCheckMode::SameUser);
        // A signing session's limits only ever go down: the user's file lowers the hours, not raises the count.
        let session = crate::signing_session::Limits { max_signatures: 50, max_hours: 8 };
        assert_eq!(c.signing_session, session);
        // No file: the defaults.
        assert_eq!(AgentConfig::load_layered(&[]).unwrap().pin_timeout_secs, 120);
        assert_eq!(AgentConfig::load_layered(&[]).unwrap().pin_pad, crate::pin_pad::PadUse::Off);
    }
}
