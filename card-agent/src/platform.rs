//! What differs between the operating systems the agent runs on, in what it tells people and where it keeps its
//! files (issue #44). The words are plain data chosen by [`Platform`], so that both platforms' words are checked by
//! the unit tests on either; only [`Platform::CURRENT`] is decided at compile time.
//!
//! On Windows the PC/SC service is Microsoft's Smart Card service (SCardSvr), which Windows 8 and later start when a
//! reader is plugged in and stop when the last one is unplugged (then every call answers `SCARD_E_NO_SERVICE` until
//! a reader is back: `readers::PcscBackend` waits on `SCardAccessStartedEvent` and carries on). On Linux it is pcscd.

use std::path::PathBuf;

/// An operating system family, as far as the agent's words and paths go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Windows,
    Unix,
}

impl Platform {
    /// The platform this agent was built for.
    pub const CURRENT: Platform = if cfg!(windows) { Platform::Windows } else { Platform::Unix };

    /// The PC/SC service, named as an administrator finds it.
    pub fn pcsc_service(self) -> &'static str {
        match self {
            Platform::Windows => "the Windows Smart Card service (SCardSvr)",
            Platform::Unix => "pcscd (the PC/SC daemon)",
        }
    }

    /// What to do when the PC/SC service is not there.
    pub fn when_no_service(self) -> &'static str {
        match self {
            Platform::Windows => {
                "Windows runs it only while a card reader is plugged in: plug the reader in (the agent carries on by \
                 itself once the service is back); if a reader is plugged in, restart the PC or ask the administrator"
            }
            Platform::Unix => "start pcscd (systemctl start pcscd.socket) and try again",
        }
    }

    /// What to do when the PC/SC service answers with a failure of its own.
    pub fn when_service_fails(self) -> &'static str {
        match self {
            Platform::Windows => {
                "unplug the card reader and plug it in again; if it happens again, restart the PC or ask the \
                 administrator (the System event log has the Smart Card service's messages)"
            }
            Platform::Unix => "restart pcscd (systemctl restart pcscd) and try again; its log says more",
        }
    }

    /// The directory of this user's agent state (its single-instance lock; on Windows also its log): `%LOCALAPPDATA%\
    /// hcpki-agent` on Windows, `$XDG_STATE_HOME/hcpki-agent` (`~/.local/state/hcpki-agent`) elsewhere. None when the
    /// environment names no home. `HCPKI_AGENT_STATE_DIR` overrides both (tests, several agents of one user).
    pub fn state_dir(self, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        if let Some(dir) = env("HCPKI_AGENT_STATE_DIR").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir));
        }
        let base = match self {
            Platform::Windows => PathBuf::from(env("LOCALAPPDATA").filter(|d| !d.is_empty())?),
            Platform::Unix => match env("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
                Some(dir) => PathBuf::from(dir),
                None => PathBuf::from(env("HOME").filter(|d| !d.is_empty())?).join(".local").join("state"),
            },
        };
        Some(base.join("hcpki-agent"))
    }

    /// The machine's configuration file, which IT installs (the MSI on Windows): `%ProgramData%\hcpki-agent\
    /// agent.toml`, `/etc/hcpki-agent/agent.toml`.
    pub fn machine_config(self, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        match self {
            Platform::Windows => Some(
                PathBuf::from(env("ProgramData").filter(|d| !d.is_empty())?).join("hcpki-agent").join("agent.toml"),
            ),
            Platform::Unix => Some(PathBuf::from("/etc/hcpki-agent/agent.toml")),
        }
    }

    /// This user's configuration file, whose keys override the machine's: `%APPDATA%\hcpki-agent\agent.toml`,
    /// `$XDG_CONFIG_HOME/hcpki-agent/agent.toml` (`~/.config/hcpki-agent/agent.toml`).
    pub fn user_config(self, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let base = match self {
            Platform::Windows => PathBuf::from(env("APPDATA").filter(|d| !d.is_empty())?),
            Platform::Unix => match env("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
                Some(dir) => PathBuf::from(dir),
                None => PathBuf::from(env("HOME").filter(|d| !d.is_empty())?).join(".config"),
            },
        };
        Some(base.join("hcpki-agent").join("agent.toml"))
    }
}

/// The process's environment, for the path functions above.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn each_platform_names_its_own_service() {
        assert!(Platform::Windows.pcsc_service().contains("Smart Card service"));
        assert!(Platform::Windows.when_no_service().contains("plug the reader in"));
        assert!(!Platform::Windows.when_no_service().contains("pcscd"));
        assert!(Platform::Unix.pcsc_service().contains("pcscd"));
        assert!(Platform::Unix.when_no_service().contains("start pcscd"));
        // The build's own platform is the one its messages speak of.
        assert_eq!(Platform::CURRENT == Platform::Windows, cfg!(windows));
    }

    #[test]
    fn paths_follow_each_platform_and_the_override() {
        let windows = env_of(&[
            ("LOCALAPPDATA", r"C:\Users\a\AppData\Local"),
            ("APPDATA", r"C:\Users\a\AppData\Roaming"),
            ("ProgramData", r"C:\ProgramData"),
        ]);
        let w = Platform::Windows;
        assert_eq!(w.state_dir(&windows), Some(PathBuf::from(r"C:\Users\a\AppData\Local").join("hcpki-agent")));
        assert_eq!(
            w.machine_config(&windows),
            Some(PathBuf::from(r"C:\ProgramData").join("hcpki-agent").join("agent.toml"))
        );
        assert_eq!(
            w.user_config(&windows),
            Some(PathBuf::from(r"C:\Users\a\AppData\Roaming").join("hcpki-agent").join("agent.toml"))
        );
        let unix = env_of(&[("HOME", "/home/a")]);
        let u = Platform::Unix;
        assert_eq!(u.state_dir(&unix), Some(PathBuf::from("/home/a/.local/state/hcpki-agent")));
        assert_eq!(u.user_config(&unix), Some(PathBuf::from("/home/a/.config/hcpki-agent/agent.toml")));
        assert_eq!(u.machine_config(&unix), Some(PathBuf::from("/etc/hcpki-agent/agent.toml")));
        let xdg = env_of(&[("HOME", "/home/a"), ("XDG_STATE_HOME", "/s"), ("XDG_CONFIG_HOME", "/c")]);
        assert_eq!(u.state_dir(&xdg), Some(PathBuf::from("/s/hcpki-agent")));
        assert_eq!(u.user_config(&xdg), Some(PathBuf::from("/c/hcpki-agent/agent.toml")));
        let overridden = env_of(&[("HOME", "/home/a"), ("HCPKI_AGENT_STATE_DIR", "/tmp/one-agent")]);
        assert_eq!(u.state_dir(&overridden), Some(PathBuf::from("/tmp/one-agent")));
        assert_eq!(w.state_dir(&overridden), Some(PathBuf::from("/tmp/one-agent")));
        // No home at all: no path, never the current directory.
        assert_eq!(u.state_dir(&env_of(&[])), None);
        assert_eq!(w.machine_config(&env_of(&[])), None);
    }
}
