//! The break-glass webhook (`[monitor] break_glass_webhook`, D94): every break-glass use is POSTed as one JSON
//! document, so a facility's reviewers hear of it at once rather than at the next look at the console. The
//! delivery runs beside the authorization (the person is not kept waiting for it), is retried as the expiry
//! webhook's is (the server's [`HttpPost`]), and audited `monitor.break_glass_webhook` with its outcome.
//!
//! ```json
//! {"event": "hcpki.break_glass", "sent_at": "2026-11-27T03:00:00Z", "client": "emr", "service": "emr",
//!  "facility": "HF00000017K", "name": "山田 太郎", "hc_role": "medical-doctor", "purpose_of_use": "EMER",
//!  "reason": "…", "actor": "portal:hpki:…"}
//! ```

use crate::outbound::HttpPost;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::AuditLog;
use hcpki_pkix::time::{Clock, rfc3339};
use serde_json::{Value, json};
use std::sync::Arc;

/// The audit action of a delivery.
pub const AUDIT_ACTION: &str = "monitor.break_glass_webhook";

/// A checked `[monitor] break_glass_webhook` with its TLS client.
#[derive(Debug)]
pub struct BreakGlassWebhook {
    url: String,
    post: Arc<dyn HttpPost>,
}

impl BreakGlassWebhook {
    /// The webhook of `[monitor] break_glass_webhook` (`url`), POSTed to by the client `post` makes (trusting
    /// `[monitor] ca_file` besides the public roots), made once the URL is checked; `None` when no URL is set. The
    /// caller reads the settings: the OIDC core takes values, not the configuration (issue #43).
    pub fn new<E: std::fmt::Display>(
        url: Option<String>,
        post: impl FnOnce() -> Result<Arc<dyn HttpPost>, E>,
    ) -> Result<Option<Self>, WebhookError> {
        let Some(url) = url else { return Ok(None) };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(WebhookError::Scheme(url));
        }
        let post = post().map_err(|e| WebhookError::Client(format!("{e:#}")))?;
        Ok(Some(Self { url, post }))
    }

    /// POST the break-glass use `detail` (its audit entry's detail) by `actor`, in the background; the delivery
    /// is audited when it ends.
    /// The delivery's audit entry goes to `store`, stamped by `clock`.
    pub fn notify(&self, store: Arc<dyn AuditLog>, clock: Arc<dyn Clock>, actor: &str, detail: Value) {
        let (url, post) = (self.url.clone(), self.post.clone());
        let mut body = json!({ "event": "hcpki.break_glass", "sent_at": rfc3339(clock.now_unix()), "actor": actor });
        if let (Some(map), Some(more)) = (body.as_object_mut(), detail.as_object()) {
            for (k, v) in more.iter().filter(|(k, _)| k.as_str() != "review") {
                map.insert(k.clone(), v.clone());
            }
        }
        let client = detail.get("client").and_then(Value::as_str).unwrap_or_default().to_owned();
        tokio::spawn(async move {
            let bytes = body.to_string().into_bytes();
            let (outcome, result) = post.deliver(&url, "application/json", "hcpki-break-glass-webhook", bytes).await;
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

/// Why `[monitor] break_glass_webhook` is refused at start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The URL is neither `https://` nor `http://`.
    #[error("[monitor] break_glass_webhook {0:?}: use an https:// (or facility-network http://) URL")]
    Scheme(String),
    /// Its HTTP client could not be made (`[monitor] ca_file` unreadable, say): the cause says what to fix.
    #[error("{0}")]
    Client(String),
}
