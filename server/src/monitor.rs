//! The expiry webhook (issue #8): every `[monitor] check_every_secs`, the facility certificates expiring
//! within `expiry_days` that have no successor — the ones a person must look at, since a device that renews
//! itself has a newer certificate by then — are claimed in the database (each once, whichever replica
//! claims it) and POSTed as one JSON document to `expiry_webhook`. A delivery that fails after its retries
//! gives the claims back for the next round. Each delivery is audited (`monitor.expiry_webhook`).
//!
//! ```json
//! {"event": "hcpki.certificates.expiring", "within_days": 30, "sent_at": "2026-11-24T01:00:00Z",
//!  "certificates": [{"serial": "…", "profile": "pc", "facility_id": "…", "subject": "CN=…",
//!                    "not_after": "2026-12-01T00:00:00Z", "days_left": 6}]}
//! ```

use crate::config::MonitorConfig;
use crate::outbound::post;
use anyhow::{Context, Result, bail};
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::profile::CertProfile;
use hcpki_ca::serial::SerialHex;
use hcpki_ca::store::{AuditLog, ExpiringCertificate, Issuance};
use hcpki_pkix::time::UnixTime;
use hcpki_pkix::time::{Clock, rfc3339};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Certificates per POST at most; more wait for the next round (a flood of expiries is one alert, not one
/// giant document).
const BATCH: i64 = 1000;
/// Claims are kept this long after the certificate expired (then forgotten).
const KEEP_AFTER_EXPIRY: i64 = 30 * 86_400;

/// A checked `[monitor]` with its TLS client, when the webhook is on.
#[derive(Debug)]
pub struct ExpiryWebhook {
    url: String,
    days: u32,
    profiles: Vec<CertProfile>,
    every: Duration,
    tls: Arc<rustls::ClientConfig>,
}

impl ExpiryWebhook {
    /// The webhook of `cfg` (paths relative to `dir`); `None` when no URL is set.
    pub fn from_config(cfg: &MonitorConfig, dir: &Path) -> Result<Option<Self>> {
        let Some(url) = cfg.expiry_webhook.clone() else { return Ok(None) };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!("[monitor] expiry_webhook {url:?}: use an https:// (or facility-network http://) URL");
        }
        if !(1..=365).contains(&cfg.expiry_days) {
            bail!("[monitor] expiry_days = {}: use 1 to 365", cfg.expiry_days);
        }
        if cfg.profiles.is_empty() {
            bail!("[monitor] profiles is empty: list the profiles to report, e.g. [\"router\", \"pc\"]");
        }
        let ca_file = cfg.ca_file.as_ref().map(|p| dir.join(p));
        let tls = post::tls_client(ca_file.as_deref(), "[monitor] ca_file").context("the expiry webhook")?;
        Ok(Some(Self {
            url,
            days: cfg.expiry_days,
            // Each name parsed once, here. A name that is no stored profile form matched no certificate when the
            // store compared text, and reports nothing now either: it is left out.
            profiles: cfg.profiles.iter().filter_map(|p| CertProfile::from_stored(p)).collect(),
            every: Duration::from_secs(cfg.check_every_secs.max(10).into()),
            tls,
        }))
    }

    /// Check now and then every `check_every_secs`, in the background, at the time `clock` gives.
    pub fn spawn<S: Issuance + AuditLog + ?Sized + 'static>(self, store: Arc<S>, clock: Arc<dyn Clock>) {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match self.round(store.as_ref(), clock.as_ref()).await {
                    Ok(0) => tracing::info!("expiry check: nothing new to report"),
                    Ok(n) => tracing::info!(certificates = n, "expiry check: reported"),
                    Err(e) => tracing::warn!(error = %e, "expiry check failed; retrying next round"),
                }
            }
        });
    }

    /// One round at `clock`'s now: claim, POST, audit (when the delivery ended); give the claims back if the
    /// POST failed. How many were reported.
    pub async fn round<S: Issuance + AuditLog + ?Sized>(&self, store: &S, clock: &dyn Clock) -> Result<usize> {
        let now = clock.now_unix();
        let until = now + i64::from(self.days) * 86_400;
        let mut claimed: Vec<ExpiringCertificate> = Vec::new();
        for profile in &self.profiles {
            let room = BATCH - i64::try_from(claimed.len()).unwrap_or(BATCH);
            if room > 0 {
                claimed.extend(
                    store
                        .expiry_claim(
                            *profile,
                            UnixTime::from_secs(now),
                            UnixTime::from_secs(until),
                            room,
                            UnixTime::from_secs(now),
                        )
                        .await?,
                );
            }
        }
        let serials: Vec<SerialHex> = claimed.iter().map(|c| c.serial.clone()).collect();
        if claimed.is_empty() {
            store.expiry_release(&[], UnixTime::from_secs(now - KEEP_AFTER_EXPIRY)).await?;
            return Ok(0);
        }
        let body = json!({
            "event": "hcpki.certificates.expiring",
            "within_days": self.days,
            "sent_at": rfc3339(now),
            "certificates": claimed.iter().map(|c| json!({
                "serial": c.serial,
                "profile": c.profile,
                "facility_id": c.facility_id,
                "subject": c.subject,
                "not_after": rfc3339(c.not_after),
                "days_left": (c.not_after - now) / 86_400,
            })).collect::<Vec<_>>(),
        });
        let (outcome, result) = post::deliver(
            &self.url,
            "application/json",
            "hcpki-expiry-webhook",
            body.to_string().into_bytes(),
            &self.tls,
        )
        .await;
        let event = AuditEvent {
            actor: "system".into(),
            action: "monitor.expiry_webhook".into(),
            target: self.url.clone(),
            outcome,
            detail: json!({ "certificates": serials.len(), "serials": serials, "result": result }),
        };
        store.append_audit(&event, clock.now()).await?;
        if outcome == Outcome::Ok {
            store.expiry_release(&[], UnixTime::from_secs(now - KEEP_AFTER_EXPIRY)).await?;
            Ok(serials.len())
        } else {
            store.expiry_release(&serials, UnixTime::from_secs(now - KEEP_AFTER_EXPIRY)).await?;
            bail!("the expiry webhook {} did not take the report: {result}", self.url)
        }
    }
}
