//! The consent settings: the signing deadline and how long records are kept (D88). A `[consent]` table in the
//! configuration file when the journey wires it; the defaults below until then.

use super::ConsentError;

/// Deadline and retention. Days are whole days of 86 400 seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsentSettings {
    /// How long a patient has to sign a request (seconds, 60–3600; default 600): short, because the patient
    /// signs at the physician's PC, there and then.
    pub deadline_secs: i64,
    /// How long a request that was never signed is kept after its deadline (default 30 days): long enough to
    /// answer "what happened to my request", short because it holds no consent.
    pub unsigned_keep_days: i64,
    /// How long a refused or withdrawn consent is kept after it ended (default 5 years, as medical records
    /// under 医師法 article 24). A live consent is kept as long as it is live.
    pub ended_keep_days: i64,
}

impl Default for ConsentSettings {
    fn default() -> Self {
        Self { deadline_secs: 600, unsigned_keep_days: 30, ended_keep_days: 5 * 365 + 1 }
    }
}

impl ConsentSettings {
    /// The checked deadline in seconds.
    pub fn deadline(&self) -> Result<i64, ConsentError> {
        if (60..=3600).contains(&self.deadline_secs) {
            Ok(self.deadline_secs)
        } else {
            Err(ConsentError::Deadline(self.deadline_secs))
        }
    }

    /// The sweep's two limits at `now` (Unix seconds): unsigned requests whose deadline passed before the
    /// first, ended consents that ended before the second, may go.
    pub fn sweep_limits(&self, now: i64) -> (i64, i64) {
        let days = |d: i64| d.max(0).saturating_mul(86_400);
        (now.saturating_sub(days(self.unsigned_keep_days)), now.saturating_sub(days(self.ended_keep_days)))
    }
}
