//! The break-glass webhook (`[monitor] break_glass_webhook`, D94): every break-glass use is POSTed as one JSON
//! document, so a facility's reviewers hear of it at once rather than at the next look at the console. The
//! delivery runs beside the authorization (the person is not kept waiting for it), is retried as the expiry
//! webhook's is (`outbound::post`), and audited `monitor.break_glass_webhook` with its outcome.
//!
//! ```json
//! {"event": "hcpki.break_glass", "sent_at": "2026-11-27T03:00:00Z", "client": "emr", "service": "emr",
//!  "facility": "HF00000017K", "name": "山田 太郎", "hc_role": "medical-doctor", "purpose_of_use": "EMER",
//!  "reason": "…", "actor": "portal:hpki:…"}
//! ```

use crate::outbound::post;
use anyhow::{Context, Result, bail};
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::Store;
use hcpki_pkix::time::{Clock, rfc3339};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

/// The audit action of a delivery.
pub const AUDIT_ACTION: &str = "monitor.break_glass_webhook";

/// A checked `[monitor] break_glass_webhook` with its TLS client.
#[derive(Debug)]
pub struct BreakGlassWebhook {
    url: String,
    tls: Arc<rustls::ClientConfig>,
}

impl BreakGlassWebhook {
    /// The webhook of `[monitor] break_glass_webhook` (`url`), trusting `[monitor] ca_file` (`ca_file`, already
    /// resolved against the configuration's directory) besides the public roots; `None` when no URL is set. The
    /// caller reads the settings: the OIDC core takes values, not the configuration (issue #43).
    pub fn new(url: Option<String>, ca_file: Option<&Path>) -> Result<Option<Self>> {
        let Some(url) = url else { return Ok(None) };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!("[monitor] break_glass_webhook {url:?}: use an https:// (or facility-network http://) URL");
        }
        let tls = post::tls_client(ca_file, "[monitor] ca_file").context("the break-glass webhook")?;
        Ok(Some(Self { url, tls }))
    }

    /// POST the break-glass use `detail` (its audit entry's detail) by `actor`, in the background; the delivery
    /// is audited when it ends.
    /// The delivery's audit entry goes to `store`, stamped by `clock`.
    pub fn notify(&self, store: Arc<dyn Store>, clock: Arc<dyn Clock>, actor: &str, detail: Value) {
        let (url, tls) = (self.url.clone(), self.tls.clone());
        let mut body = json!({ "event": "hcpki.break_glass", "sent_at": rfc3339(clock.now_unix()), "actor": actor });
        if let (Some(map), Some(more)) = (body.as_object_mut(), detail.as_object()) {
            for (k, v) in more.iter().filter(|(k, _)| k.as_str() != "review") {
                map.insert(k.clone(), v.clone());
            }
        }
        let client = detail.get("client").and_then(Value::as_str).unwrap_or_default().to_owned();
        tokio::spawn(async move {
            let bytes = body.to_string().into_bytes();
            let (outcome, result) =
                post::deliver(&url, "application/json", "hcpki-break-glass-webhook", bytes, &tls).await;
            let event = AuditEvent {
                actor: "system".into(),
                action: AUDIT_ACTION.into(),
                target: url.clone(),
                outcome,
                detail: json!({ "client": client, "result": result }),
            };
            if let Err(e) = store.append_audit(&event, clock.now()).await {
                tracing::error!(error = %e, "the break-glass webhook's delivery could not be audited");
            }
            if outcome != Outcome::Ok {
                tracing::warn!(url, result, "the break-glass webhook did not take the report");
            }
        });
    }
}
