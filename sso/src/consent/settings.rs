//! The consent settings, `[consent]` in the configuration file: the signing deadline, how long records are kept
//! (D88) and the services' templates.

use super::ConsentError;
use super::template::{ConsentEvidence, Template};

/// Deadline, retention and templates. Days are whole days of 86 400 seconds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// How long a patient-presence proof (受診確認トークン, D148) holds after the card was read (minutes, 1–60;
    /// default 5): long enough to open the record during the visit, short so a copied proof is soon worthless.
    pub presence_minutes: i64,
    /// What each service's consent says, per purpose (`[[consent.templates]]`): a service can ask only for a
    /// consent the operator configured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<Template>,
}

impl Default for ConsentSettings {
    fn default() -> Self {
        Self {
            deadline_secs: 600,
            unsigned_keep_days: 30,
            ended_keep_days: 5 * 365 + 1,
            presence_minutes: 5,
            templates: Vec::new(),
        }
    }
}

/// The OIDC core's registration refuses a consent template to a public client through this.
impl crate::oidc::registration::ConsentClients for ConsentSettings {
    fn asks_consents(&self, id: &str) -> bool {
        self.templates.iter().any(|t| t.client == id)
    }
}

impl ConsentSettings {
    /// Whether nothing differs from the defaults (the configuration file leaves the table out).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The checks made when the configuration is loaded: the deadline's range, each template, one template per
    /// service and purpose.
    pub fn check(&self) -> Result<(), ConsentError> {
        self.deadline()?;
        if !crate::presence::MINUTES.contains(&self.presence_minutes) {
            return Err(ConsentError::PresenceMinutes(self.presence_minutes));
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.templates {
            t.check()?;
            if !seen.insert((t.client.as_str(), t.purpose.as_str())) {
                return Err(ConsentError::Template {
                    client: t.client.clone(),
                    purpose: t.purpose.clone(),
                    why: "configured twice: keep one".into(),
                });
            }
        }
        Ok(())
    }

    /// The template of `client` for `purpose`.
    pub fn template(&self, client: &str, purpose: &str) -> Result<&Template, ConsentError> {
        self.templates
            .iter()
            .find(|t| t.client == client && t.purpose == purpose)
            .ok_or_else(|| ConsentError::NoTemplate { client: client.to_owned(), purpose: purpose.to_owned() })
    }

    /// What the template of `client` for `purpose` asks of the patient; a signature when it is gone (the
    /// stronger evidence, so a template removed since the request asks for no less).
    pub fn evidence(&self, client: &str, purpose: &str) -> ConsentEvidence {
        self.template(client, purpose).map(|t| t.evidence).unwrap_or_default()
    }

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
