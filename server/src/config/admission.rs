//! `[admission]`: the bounds of the admission gate in front of the expensive work of `hcpki serve` (issue #46
//! item 4, D138; docs/operator-guide.md "Overload"). Every key is optional: the defaults follow the cores.
//!
//! ```toml
//! [admission]
//! # running = 16          # expensive requests at once, all kinds together (default: 8 per CPU core)
//! # waiting = 8           # requests waiting for a slot, per kind of work (default: 4 per core; 0: no line)
//! # max_wait_ms = 5000    # the longest a request waits for a slot before its 503
//! # request_deadline_secs = 20   # an admitted request still running then is abandoned with 503
//! # enabled = true        # false: no gate at all (only for measuring without it)
//! ```

use anyhow::{Result, bail};

/// `[admission]`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdmissionConfig {
    /// Expensive requests running at once (logins, enrollments, signatures together); default 8 per core.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<u32>,
    /// Requests waiting for a slot, per kind of work; default 4 per core.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<u32>,
    /// The longest a request waits for a slot before it is refused (ms, 1 to 60,000).
    pub max_wait_ms: u32,
    /// How long an admitted request may run (s, 1 to 600) before it is abandoned with 503 and `Retry-After`
    /// (D142): a database or signing device that stopped answering costs the client this, not TCP's minutes.
    pub request_deadline_secs: u32,
    /// Whether the gate is in force (off only to measure the server without it).
    pub enabled: bool,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        Self { running: None, waiting: None, max_wait_ms: 5_000, request_deadline_secs: 20, enabled: true }
    }
}

impl AdmissionConfig {
    /// Whether every key is at its default (the section is then not written).
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// What is wrong with the values, said with the key to change.
    pub fn check(&self) -> Result<()> {
        if self.running == Some(0) {
            bail!("running = 0 would refuse every login and enrollment: set at least 1, or leave it out (8 per core)");
        }
        if !(1..=60_000).contains(&self.max_wait_ms) {
            bail!("max_wait_ms must be 1 to 60000 (it is {})", self.max_wait_ms);
        }
        if !(1..=600).contains(&self.request_deadline_secs) {
            bail!(
                "request_deadline_secs must be 1 to 600 (it is {}); 20 suits logins and enrollments",
                self.request_deadline_secs
            );
        }
        Ok(())
    }
}
