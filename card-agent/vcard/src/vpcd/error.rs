//! Why a virtual card could not be inserted into a vpcd reader.

use std::path::PathBuf;

/// Why a card could not be inserted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VpcdError {
    /// The network namespace could not be entered: it does not exist (start it with
    /// `scripts/pcsc-stack start`) or this process is not root (setns needs CAP_SYS_ADMIN).
    #[error(
        "cannot enter network namespace {path}: {reason}; is the PC/SC stack up (scripts/pcsc-stack start) and are you root?"
    )]
    Netns {
        /// The namespace file.
        path: PathBuf,
        /// The OS error.
        reason: String,
    },
    /// The host name does not resolve; use an address such as 127.0.0.1.
    #[error("cannot resolve {target}: {error}")]
    Resolve {
        /// The target, in words.
        target: String,
        /// The resolver's error.
        error: std::io::Error,
    },
    /// Nothing accepted the connection: pcscd (with vsmartcard-vpcd) is not running there, or the
    /// port is not a vpcd reader's. Start it with `scripts/pcsc-stack start`.
    #[error(
        "{target} is unreachable after {attempts} attempt(s): {error}; is pcscd with vsmartcard-vpcd running (scripts/pcsc-stack start)?"
    )]
    Unreachable {
        /// The target, in words.
        target: String,
        /// Attempts made.
        attempts: u32,
        /// The last connection error.
        error: std::io::Error,
    },
    /// The serving thread could not be started or died; retry, or look at the log.
    #[error("card thread: {0}")]
    Thread(String),
}
