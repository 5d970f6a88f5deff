//! What systemd gives a service and expects back (D136): the `sd_notify` datagrams (readiness, status, the
//! watchdog's keep-alive, reloading) and the credentials of `LoadCredential=`.
//!
//! The notify protocol is one `KEY=VALUE\n…` datagram to the unix socket named by `$NOTIFY_SOCKET` (a path,
//! or `@name` for the abstract namespace); written here in a few lines rather than through a crate. Outside
//! systemd (no `$NOTIFY_SOCKET`) every call is a no-op, so `hcpki serve` runs the same by hand and in tests.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The environment variable systemd points at the service's credentials (`LoadCredential=`).
pub const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// Where `hcpki serve` tells the service manager how it is doing.
#[derive(Debug)]
pub struct Notifier {
    socket: Option<(UnixDatagram, std::os::unix::net::SocketAddr)>,
    watchdog: Option<Duration>,
}

/// A state change told to the service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The listeners are bound and the store is open: requests are answered.
    Ready,
    /// The configuration is being read again after `SIGHUP` (followed by [`State::Ready`]).
    Reloading,
    /// Shutting down after `SIGTERM`/`SIGINT`: in-flight requests finish first.
    Stopping,
}

impl Notifier {
    /// The notifier `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and `$WATCHDOG_PID` describe (read once, at start; the
    /// process's environment is systemd's only channel for them).
    pub fn from_env() -> std::io::Result<Self> {
        let socket = std::env::var_os("NOTIFY_SOCKET");
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        Self::new(socket.as_deref().map(Path::new), usec.as_deref(), pid.as_deref(), std::process::id())
    }

    /// The notifier for `socket` (a path or `@abstract`), with the watchdog when `watchdog_usec` is set and
    /// `watchdog_pid`, when set, is this process (`self_pid`): a watchdog meant for another process is not ours.
    pub fn new(
        socket: Option<&Path>,
        watchdog_usec: Option<&str>,
        watchdog_pid: Option<&str>,
        self_pid: u32,
    ) -> std::io::Result<Self> {
        let socket = match socket {
            Some(path) => Some((UnixDatagram::unbound()?, address(path)?)),
            None => None,
        };
        let ours = watchdog_pid.is_none_or(|p| p.trim().parse::<u32>().is_ok_and(|p| p == self_pid));
        let watchdog = watchdog_usec
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|u| *u > 0 && ours)
            .map(Duration::from_micros);
        Ok(Self { socket, watchdog })
    }

    /// Tell the manager `state`, with a human-readable `status` line (`systemctl status` shows it).
    pub fn state(&self, state: State, status: &str) {
        let head = match state {
            State::Ready => "READY=1",
            State::Reloading => "RELOADING=1",
            State::Stopping => "STOPPING=1",
        };
        self.send(&format!("{head}\nSTATUS={}\n", status.replace('\n', " ")));
    }

    /// How often the watchdog must hear from us: half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3) advises;
    /// none when the unit has no `WatchdogSec=`.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|w| w / 2)
    }

    /// One keep-alive.
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1\n");
    }

    fn send(&self, message: &str) {
        if let Some((socket, to)) = &self.socket
            && let Err(e) = socket.send_to_addr(message.as_bytes(), to)
        {
            // Never fatal: a manager that went away cannot be told anything, and the service itself still works.
            tracing::warn!(error = %e, "cannot notify the service manager ($NOTIFY_SOCKET)");
        }
    }
}

/// `$NOTIFY_SOCKET`'s address: `@name` is in the abstract namespace, anything else a path.
fn address(path: &Path) -> std::io::Result<std::os::unix::net::SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    match path.as_os_str().as_bytes().split_first() {
        Some((b'@', name)) => std::os::unix::net::SocketAddr::from_abstract_name(name),
        _ => std::os::unix::net::SocketAddr::from_pathname(path),
    }
}

/// A credential named in `hcpki.toml` is missing: what `LoadCredential=` should have provided.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// Not started by systemd with credentials (no `$CREDENTIALS_DIRECTORY`).
    #[error(
        "the credential {name:?} is missing: $CREDENTIALS_DIRECTORY is not set. Start hcpki through its unit \
         (LoadCredential={name}:/etc/hcpki/credentials/{name}), or by hand with `systemd-run --pipe --wait \
         -p User=hcpki -p LoadCredential={name}:/etc/hcpki/credentials/{name} hcpki …`"
    )]
    NoDirectory {
        /// The credential's name.
        name: String,
    },
    /// `$CREDENTIALS_DIRECTORY` has no file of that name.
    #[error(
        "the credential {name:?} is missing from $CREDENTIALS_DIRECTORY ({}): add LoadCredential={name}:<file> to \
         the unit (the package's hcpki.service loads it from /etc/hcpki/credentials/{name})",
        dir.display()
    )]
    NotLoaded {
        /// The credential's name.
        name: String,
        /// `$CREDENTIALS_DIRECTORY`.
        dir: PathBuf,
    },
    /// A name that could leave the directory.
    #[error("{name:?} is not a credential name: use letters, digits, '-', '_' and '.'")]
    BadName {
        /// The name as written.
        name: String,
    },
}

/// The file of credential `name` in `directory` (`$CREDENTIALS_DIRECTORY`), which must exist.
pub fn credential(directory: Option<&Path>, name: &str) -> Result<PathBuf, CredentialError> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !plain {
        return Err(CredentialError::BadName { name: name.to_owned() });
    }
    let dir = directory.ok_or_else(|| CredentialError::NoDirectory { name: name.to_owned() })?;
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(CredentialError::NotLoaded { name: name.to_owned(), dir: dir.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// READY, RELOADING, STOPPING with their status and the watchdog's keep-alive arrive as systemd reads them;
    /// a watchdog is ours only without `WATCHDOG_PID` or with our pid.
    #[test]
    fn datagrams_reach_the_socket_and_the_watchdog_is_half_the_period() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::new(Some(&path), Some("20000000"), None, 7).unwrap();
        assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(10)));
        n.state(State::Ready, "serving\non two lines");
        n.watchdog();
        n.state(State::Reloading, "reloading");
        n.state(State::Stopping, "bye");
        let mut buf = [0u8; 256];
        let mut got = Vec::new();
        for _ in 0..4 {
            let len = listener.recv(&mut buf).unwrap();
            got.push(String::from_utf8(buf[..len].to_vec()).unwrap());
        }
        assert_eq!(
            got,
            [
                "READY=1\nSTATUS=serving on two lines\n",
                "WATCHDOG=1\n",
                "RELOADING=1\nSTATUS=reloading\n",
                "STOPPING=1\nSTATUS=bye\n"
            ]
        );
        assert_eq!(Notifier::new(Some(&path), Some("20000000"), Some("8"), 7).unwrap().watchdog_interval(), None);
        assert!(Notifier::new(Some(&path), Some("20000000"), Some("7"), 7).unwrap().watchdog_interval().is_some());
        let off = Notifier::new(None, None, None, 7).unwrap();
        assert!(off.socket.is_none() && off.watchdog_interval().is_none());
        off.state(State::Ready, "nobody listens");
    }

    /// `@name` is an abstract socket, as systemd sets it for some services.
    #[test]
    fn an_abstract_socket_is_reached() {
        let name = format!("hcpki-notify-test-{}", std::process::id());
        let addr = address(Path::new(&format!("@{name}"))).unwrap();
        let listener = UnixDatagram::bind_addr(&addr).unwrap();
        Notifier::new(Some(Path::new(&format!("@{name}"))), None, None, 1).unwrap().state(State::Ready, "x");
        let mut buf = [0u8; 64];
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=x\n");
    }

    /// A credential is found by name; without the directory, without the file, or with a name that leaves the
    /// directory, the error names it and says what to add.
    #[test]
    fn credentials_are_found_or_named_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key-passphrase"), "secret").unwrap();
        assert_eq!(credential(Some(dir.path()), "key-passphrase").unwrap(), dir.path().join("key-passphrase"));
        let none = credential(None, "key-passphrase").unwrap_err().to_string();
        assert!(none.contains("\"key-passphrase\"") && none.contains("LoadCredential=key-passphrase:"), "{none}");
        let absent = credential(Some(dir.path()), "pin").unwrap_err().to_string();
        assert!(absent.contains("\"pin\"") && absent.contains("LoadCredential=pin:"), "{absent}");
        for bad in ["", "..", "../etc/shadow", "a/b"] {
            assert!(matches!(credential(Some(dir.path()), bad), Err(CredentialError::BadName { .. })), "{bad}");
        }
    }
}
