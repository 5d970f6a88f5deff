//! Crash and hold points for the crash tests (D38 addendum): a named point in the middle of a write kills the
//! process there when, and only when, `HCPKI_FAULT` names it; a hold point stalls it there while a test's file
//! says so (`HCPKI_FAULT_HOLD`).
//!
//! `HCPKI_FAULT=NAME:N` aborts the process the N-th time it passes point NAME (`NAME` alone: the first time).
//! An abort, not a panic or an error: nothing unwinds, no destructor commits or rolls back anything, exactly
//! as when the machine loses power or the process is killed, which is what the tests must survive. Unset (every
//! real deployment), a point costs one read of an already parsed setting.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// In a facility-import job with approval: a facility registered (and audited) inside the batch's transaction,
/// not yet approved.
pub const IMPORT_REGISTERED: &str = "import.registered";

/// The variable naming the point.
pub const VARIABLE: &str = "HCPKI_FAULT";

/// Abort the process here if `HCPKI_FAULT` names `name` and this is the pass it counts to.
pub fn point(name: &str) {
    static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static PASSES: AtomicU64 = AtomicU64::new(0);
    let Some((armed, at)) = ARMED.get_or_init(|| std::env::var(VARIABLE).ok().as_deref().map(parse)) else {
        return;
    };
    if armed == name && PASSES.fetch_add(1, Ordering::SeqCst) + 1 == *at {
        eprintln!("{VARIABLE}: aborting at {name} (pass {at})");
        std::process::abort();
    }
}

/// A job's worker between reading a batch of pending items and working them, outside any transaction.
pub const JOB_BATCH: &str = "job.batch";

/// The variable naming the directory of hold files.
pub const HOLD_VARIABLE: &str = "HCPKI_FAULT_HOLD";

/// With `HCPKI_FAULT_HOLD=DIR`: while the file `DIR/PID` (this process's ID) exists, wait here, with
/// `DIR/PID.held` written so the test knows this process got here. A stall as long as the test wants, the way a
/// frozen VM or a stopped process stalls, but only where no transaction is open (a real stall inside one would
/// hold the database's locks, which is the database's business, not the job's). Unset, it returns at once.
pub async fn hold(name: &str) {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    let Some(dir) = DIR.get_or_init(|| std::env::var_os(HOLD_VARIABLE).map(PathBuf::from)) else {
        return;
    };
    let gate = dir.join(std::process::id().to_string());
    if !gate.exists() {
        return;
    }
    let held = dir.join(format!("{}.held", std::process::id()));
    // A test that cannot see the marker times out and says so; nothing here to report to.
    let _ = std::fs::write(&held, name);
    while gate.exists() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let _ = std::fs::remove_file(&held);
}

/// `NAME:N` or `NAME` (N = 1).
fn parse(setting: &str) -> (String, u64) {
    match setting.rsplit_once(':') {
        Some((name, n)) => (name.to_owned(), n.parse().unwrap_or(1)),
        None => (setting.to_owned(), 1),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_setting_names_the_point_and_the_pass() {
        assert_eq!(parse("import.registered:1500"), ("import.registered".into(), 1500));
        assert_eq!(parse("import.registered"), ("import.registered".into(), 1));
    }
}
