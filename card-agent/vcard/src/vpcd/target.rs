//! Which vpcd reader a card connects to, and from which network namespace.

use std::fmt;
use std::path::PathBuf;

/// vpcd's port for reader 0 ("Virtual PCD 00 00"); reader 1 is the next port.
pub const DEFAULT_PORT: u16 = 35963;

/// Where the stock `ip netns` tool keeps named network namespaces.
pub const NETNS_DIR: &str = "/run/netns";

/// Which vpcd reader to connect to, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcdTarget {
    /// Host name or address of vpcd (as seen from inside [`netns`](Self::netns), if set).
    pub host: String,
    /// vpcd's port for the reader.
    pub port: u16,
    /// A network namespace file (e.g. `/run/netns/hcpki-pcsc`) to connect from.
    pub netns: Option<PathBuf>,
    /// Connection attempts before [`VpcdCard::insert`](super::VpcdCard::insert) gives up (at least one).
    pub connect_attempts: u32,
    /// Re-arm TCP_QUICKACK before every read. Leave it on: vpcd 0.8 writes the length and the
    /// payload in two `send()`s, and with delayed ACKs against Nagle every APDU then costs ~40 ms.
    /// Off only to measure exactly that.
    pub quickack: bool,
}

impl VpcdTarget {
    /// Reader `index` of a vpcd on 127.0.0.1 (port 35963 + `index`), in this network namespace.
    pub fn reader(index: u16) -> Self {
        Self::new("127.0.0.1", DEFAULT_PORT.saturating_add(index))
    }

    /// vpcd at `host:port`, in this network namespace.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self { host: host.into(), port, netns: None, connect_attempts: 10, quickack: true }
    }

    /// Connect from inside the network namespace at `path`.
    pub fn in_netns(mut self, path: impl Into<PathBuf>) -> Self {
        self.netns = Some(path.into());
        self
    }

    /// Connect from inside the named namespace `ip netns` made (`/run/netns/NAME`).
    pub fn in_named_netns(self, name: &str) -> Self {
        self.in_netns(PathBuf::from(NETNS_DIR).join(name))
    }

    /// Gives up after `attempts` failed connections (0 counts as 1).
    pub fn with_connect_attempts(mut self, attempts: u32) -> Self {
        self.connect_attempts = attempts.max(1);
        self
    }

    /// Turns the TCP_QUICKACK re-arming on or off (see [`quickack`](Self::quickack)).
    pub fn with_quickack(mut self, on: bool) -> Self {
        self.quickack = on;
        self
    }
}

impl fmt::Display for VpcdTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vpcd at {}:{}", self.host, self.port)?;
        match &self.netns {
            Some(ns) => write!(f, " in network namespace {}", ns.display()),
            None => Ok(()),
        }
    }
}
