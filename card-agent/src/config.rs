//! `agent.toml`: where the local API listens, which portal origins may use it, and how PINs are entered.
//!
//! ```toml
//! version = 1
//! listen = "127.0.0.1:7717"                              # loopback only
//! allowed_origins = ["https://portal.hcpki.example"]     # the portals whose pages may call the API
//! pin_entry = "web"                                      # "web" (the agent's own page) or "terminal"
//! pin_timeout_secs = 120
//! operation_ttl_secs = 300
//! portal_ca_file = "/etc/hcpki-agent/portal-ca.pem"       # card presence reports to the portal (D26)
//!
//! [[signing.tsa]]                                        # B-T document signatures (D71), tried in order
//! url = "http://tsa.example.jp/rfc3161"
//! roots = ["tsa-root.pem"]                               # relative to this file's directory
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// registrations. A relative path is relative to the working directory.
    #[serde(default)]
    pub portal_ca_file: Option<PathBuf>,
    /// `[[signing.tsa]]`: the TSAs a B-T document signature asks, in order (D70, D71).
    #[serde(default)]
    pub signing: crate::document::time_stamps::SigningConfig,
    /// The PC/SC readers the agent owns, by exact name as `hcpki-agent readers` lists them; empty (the
    /// default): every reader. Others are left to their programs and not shown to pages.
    #[serde(default)]
    pub readers: Vec<String>,
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
            signing: Default::default(),
            readers: Vec::new(),
        }
    }
}

/// Why the configuration cannot be used; each says what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Parse { path: String, source: toml::de::Error },
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
}

impl AgentConfig {
    /// Reads and validates a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
        let config: AgentConfig =
            toml::from_str(&text).map_err(|source| ConfigError::Parse { path: shown.clone(), source })?;
        if config.version != 1 {
            return Err(ConfigError::Version { path: shown, found: config.version });
        }
        Ok(config)
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
}
