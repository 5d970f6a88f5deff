//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a session ends, its grants are
//! revoked and every client with a registered `backchannel_logout_uri` gets a logout token, POSTed with
//! retries in the background; each delivery is audited.

use super::client;
use super::{GrantData, Provider, random_token};
use hcpki_ca::audit::{AuditEvent, Outcome};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// Attempts per client, with a doubling pause from [`FIRST_PAUSE`].
const ATTEMPTS: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// Per attempt.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Revoke the session's grants and notify their clients (in the background).
pub async fn session_ended(provider: &Provider, session_hash: &str) {
    let grants = match provider.store.oidc_revoke_session_grants(session_hash).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "cannot revoke the ended session's grants");
            return;
        }
    };
    notify(provider, grants).await;
}

/// Send a logout token to every client with a registered `backchannel_logout_uri` among `grants`' clients
/// (grants of one ended session, already revoked).
pub async fn notify(provider: &Provider, grants: Vec<hcpki_ca::store::GrantRecord>) {
    // One logout token per client: (client, sub, sid) are the same for all its grants in this session.
    let mut per_client = BTreeMap::new();
    for g in grants {
        per_client.entry(g.client_id.clone()).or_insert(g);
    }
    for (client_id, grant) in per_client {
        let Ok(Some(c)) = client::load(provider.store.as_ref(), &client_id).await else { continue };
        let Some(uri) = c.config.backchannel_logout_uri.clone() else { continue };
        let Ok(data) = GrantData::of(&grant) else { continue };
        let now = hcpki_ca::time::now_unix();
        let claims = json!({
            "iss": provider.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + 120,
            "jti": random_token(16).unwrap_or_default(),
            "sub": data.sub,
            "sid": data.sid,
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        });
        let token = match provider.signer.sign("logout+jwt", &claims) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "cannot sign a logout token");
                continue;
            }
        };
        let store = provider.store.clone();
        tokio::spawn(async move {
            let (outcome, detail) = deliver(&uri, &token).await;
            let event = AuditEvent {
                actor: "system".into(),
                action: "oidc.backchannel_logout".into(),
                target: client_id,
                outcome,
                detail: json!({ "uri": uri, "result": detail }),
            };
            if let Err(e) = store.append_audit(&event).await {
                tracing::error!(error = %e, "cannot audit a back-channel logout");
            }
        });
    }
}

/// POST `logout_token=…` until a 2xx answer or the attempts run out.
async fn deliver(uri: &str, token: &str) -> (Outcome, String) {
    let mut pause = FIRST_PAUSE;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match tokio::time::timeout(TIMEOUT, post_form(uri, &format!("logout_token={token}"))).await {
            Ok(Ok(status)) if (200..300).contains(&status) => return (Outcome::Ok, format!("HTTP {status}")),
            Ok(Ok(status)) => last = format!("HTTP {status}"),
            Ok(Err(e)) => last = e,
            Err(_) => last = "timed out".into(),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    (Outcome::Failed, last)
}

/// A minimal HTTP/1.1 POST over plain TCP: clients' logout endpoints on the facility network. HTTPS logout
/// endpoints are not supported yet (recorded in docs/portal.md).
async fn post_form(uri: &str, body: &str) -> Result<u16, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = uri.strip_prefix("http://").ok_or("only http:// back-channel logout URIs are supported")?;
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let addr = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
    let mut stream = tokio::net::TcpStream::connect(&addr).await.map_err(|e| e.to_string())?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut head = vec![0u8; 64];
    let n = stream.read(&mut head).await.map_err(|e| e.to_string())?;
    let line = String::from_utf8_lossy(head.get(..n).unwrap_or_default()).to_string();
    line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("not HTTP: {line:?}"))
}
