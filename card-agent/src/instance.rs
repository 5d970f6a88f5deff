//! One serving agent per user (issue #44). Two agents of one user would both own the readers the broker is meant
//! to own alone, and the second could not listen where the portal's pages look for it anyway. `serve` takes an
//! exclusive lock on `agent.lock` in the user's state directory (`platform::Platform::state_dir`) for as long as it
//! runs; the operating system releases it when the process ends, however it ends. A second `serve` of the same user
//! is refused with the first one's process id and address, read from `agent.owner` beside it (Windows does not let
//! a locked file be read by another handle).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Held by the serving agent; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// Why this agent may not serve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstanceError {
    /// Another `serve` of this user runs: use it (the portal's pages find it), or stop it first.
    #[error(
        "another hcpki-agent is already serving for this user ({holder}): use that one, or stop it before starting \
         another (lock: {})",
        path.display()
    )]
    Running { path: PathBuf, holder: String },
    /// The state directory or its lock file cannot be made: check the directory's permissions (or set
    /// HCPKI_AGENT_STATE_DIR).
    #[error("cannot use {} for the agent's lock: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl InstanceLock {
    /// Takes the lock in `dir`, recording `what` (the address it listens on) for a second agent's message.
    pub fn acquire(dir: &Path, what: &str) -> Result<Self, InstanceError> {
        let path = dir.join("agent.lock");
        let io = |source| InstanceError::Io { path: path.clone(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(dir.join("agent.owner"))
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_else(|_| "its process id is not recorded".into());
                return Err(InstanceError::Running { path, holder });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // Written after the lock is held: whoever reads it is told about the agent that holds the lock.
        let owner = dir.join("agent.owner");
        let mut record = File::create(&owner).map_err(|source| InstanceError::Io { path: owner.clone(), source })?;
        writeln!(record, "process {}, {what}", std::process::id())
            .map_err(|source| InstanceError::Io { path: owner, source })?;
        Ok(InstanceLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_agent_of_the_same_user_is_refused_until_the_first_stops() {
        let dir = tempfile::tempdir().unwrap();
        let first = InstanceLock::acquire(dir.path(), "listening on 127.0.0.1:7717").unwrap();
        let second = InstanceLock::acquire(dir.path(), "listening on 127.0.0.1:7718").unwrap_err();
        let said = second.to_string();
        assert!(said.contains("already serving for this user"), "{said}");
        assert!(said.contains(&format!("process {}, listening on 127.0.0.1:7717", std::process::id())), "{said}");
        drop(first);
        InstanceLock::acquire(dir.path(), "listening on 127.0.0.1:7718").expect("free once the first stopped");
    }

    #[test]
    fn another_users_directory_is_another_lock() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let _first = InstanceLock::acquire(a.path(), "a").unwrap();
        InstanceLock::acquire(b.path(), "b").expect("one agent per user, not per machine");
    }
}
