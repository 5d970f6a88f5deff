//! `hcpki-agent bench`: login latency through the real API, PC/SC and the card, or (`--documents`) the same for
//! document signatures with the card's signature key (`POST /v1/documents`, a CAdES B-B of a 4 KiB document).
//!
//! The agent's own router listens on an ephemeral loopback port over the real PC/SC backend; a plain
//! HTTP/1.1 client drives `POST /v1/sign` + `GET /v1/sign/{id}` as a portal page would. The PIN comes
//! from a preset prompt, so no typing time is measured. Each login's time is split into time at the
//! card (PC/SC round trips, reader, the card's RSA) and the agent's own time (HTTP, JSON, broker,
//! drivers). The first login is cold (the card is probed and its certificates read); the rest are warm.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::api;
use crate::broker::Broker;
use crate::config::{AgentConfig, PinEntry};
use crate::readers::ReaderBackend;
use crate::service::{AgentError, CardKind, Pin, PinPrompt, PinQuestion};

const ORIGIN: &str = "https://portal.bench.example";

/// One measured login.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Sample {
    pub total: Duration,
    pub card: Duration,
    pub apdus: u32,
}

impl Sample {
    pub fn agent(&self) -> Duration {
        self.total.saturating_sub(self.card)
    }
}

/// What each measured operation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// A login: the authentication key signs the portal's challenge (`POST /v1/sign`).
    Login,
    /// A document signature: the signature key signs the signed attributes of a CAdES B-B the agent builds over
    /// a 4 KiB document (`POST /v1/documents`).
    Document,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Login => "login",
            Operation::Document => "document signature",
        }
    }
}

/// The document each `Operation::Document` signs: 4 KiB of text, a referral letter's size.
const DOCUMENT_BYTES: usize = 4096;

/// The report `bench` prints.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub kind: CardKind,
    pub operation: Operation,
    pub cold: Sample,
    pub warm: Vec<Sample>,
}

/// Answers every PIN request at once with the same PIN.
struct PresetPin(zeroize::Zeroizing<String>);

impl PinPrompt for PresetPin {
    fn ask(&self, _: &PinQuestion) -> Result<Pin, AgentError> {
        Ok(Pin(self.0.clone()))
    }
}

/// Runs one cold and `warm` warm operations (logins or document signatures) with the card of `kind`.
pub fn run(
    backend: impl ReaderBackend,
    kind: CardKind,
    reader: Option<String>,
    pin: zeroize::Zeroizing<String>,
    warm: usize,
    operation: Operation,
) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let broker = Arc::new(Broker::new(backend));
    let mut config = AgentConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        allowed_origins: vec![ORIGIN.into()],
        pin_entry: PinEntry::Terminal,
        ..AgentConfig::default()
    };
    config.validate()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(config.listen))?;
    let addr = listener.local_addr()?;
    let prompt: Arc<dyn PinPrompt> = Arc::new(PresetPin(pin));
    let state =
        api::AppState::new(Arc::clone(&broker) as Arc<dyn crate::service::CardService>, &config, addr, Some(prompt));
    runtime.spawn(async move { axum::serve(listener, api::router(state)).await });

    let mut login = |i: usize| -> anyhow::Result<Sample> {
        let before = broker.totals();
        let started = Instant::now();
        let (path, body) = match operation {
            Operation::Login => {
                let challenge =
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("bench-challenge-{i:08}"));
                ("/v1/sign", serde_json::json!({ "challenge": challenge, "kind": kind, "reader": reader }))
            }
            Operation::Document => {
                let mut text = format!("bench document {i:08}\n");
                text.extend(std::iter::repeat_n('x', DOCUMENT_BYTES.saturating_sub(text.len())));
                let content = base64::engine::general_purpose::STANDARD.encode(text);
                let body = serde_json::json!({ "format": "cades", "title": "bench", "content": content,
                    "kind": kind, "reader": reader, "level": "b-b" });
                ("/v1/documents", body)
            }
        };
        let (status, reply) = http(addr, "POST", path, Some(&body.to_string()))?;
        anyhow::ensure!(status == 202, "POST {path} answered {status}: {reply}");
        let id = reply.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let mut seen = String::from("running");
        loop {
            let (_, state) = http(addr, "GET", &format!("/v1/sign/{id}?wait=30&seen={seen}"), None)?;
            match state.get("status").and_then(|v| v.as_str()) {
                Some("done") => break,
                Some("failed") => {
                    anyhow::bail!("{} {i} failed: {}", operation.name(), state.get("error").unwrap_or_default())
                }
                Some(other) => seen = other.to_owned(),
                None => anyhow::bail!("{} {i}: no status in {state}", operation.name()),
            }
        }
        let total = started.elapsed();
        let after = broker.totals();
        Ok(Sample {
            total,
            card: after.in_card.saturating_sub(before.in_card),
            apdus: after.apdus.saturating_sub(before.apdus),
        })
    };
    let cold = login(0)?;
    let warm = (1..=warm).map(&mut login).collect::<anyhow::Result<Vec<_>>>()?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(Report { kind, operation, cold, warm })
}

impl Report {
    /// Human-readable lines, milliseconds with 0.01 ms resolution.
    pub fn render(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut out = format!(
            "{:?} cold {} (probe + certificates + PIN status + sign): {:.2} ms total, {:.2} ms at the card, {:.2} ms agent, {} APDUs\n",
            self.kind,
            self.operation.name(),
            ms(self.cold.total),
            ms(self.cold.card),
            ms(self.cold.agent()),
            self.cold.apdus
        );
        if self.warm.is_empty() {
            return out;
        }
        let pick = |f: &dyn Fn(&Sample) -> Duration, q: f64| -> f64 {
            let mut v: Vec<f64> = self.warm.iter().map(|s| ms(f(s))).collect();
            v.sort_by(f64::total_cmp);
            let at = ((v.len() as f64 - 1.0) * q).round() as usize;
            v.get(at).copied().unwrap_or_default()
        };
        let total = |s: &Sample| s.total;
        let card = |s: &Sample| s.card;
        let agent = |s: &Sample| s.agent();
        let apdus: Vec<u32> = self.warm.iter().map(|s| s.apdus).collect();
        let mean_total = self.warm.iter().map(|s| ms(s.total)).sum::<f64>() / self.warm.len() as f64;
        out.push_str(&format!(
            "{:?} warm {} x{}: total p50 {:.2} ms, p95 {:.2} ms | at the card p50 {:.2} ms | agent p50 {:.2} ms, p95 {:.2} ms | APDUs {}..{} | {:.1}/s\n",
            self.kind,
            self.operation.name(),
            self.warm.len(),
            pick(&total, 0.5),
            pick(&total, 0.95),
            pick(&card, 0.5),
            pick(&agent, 0.5),
            pick(&agent, 0.95),
            apdus.iter().min().copied().unwrap_or_default(),
            apdus.iter().max().copied().unwrap_or_default(),
            1000.0 / mean_total,
        ));
        out
    }
}

/// A one-request HTTP/1.1 exchange (`Connection: close`), as the portal page's fetch would make it.
fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> anyhow::Result<(u16, serde_json::Value)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: {ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, payload) = text.split_once("\r\n\r\n").ok_or_else(|| anyhow::anyhow!("malformed HTTP response"))?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = serde_json::from_str(payload).unwrap_or(serde_json::Value::Null);
    Ok((status, json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{MemReaders, jpki_identity};

    #[test]
    fn measures_cold_and_warm_logins() {
        let readers = MemReaders::with_readers(&["R0"]);
        readers.insert("R0", jpki_identity(0).card());
        let pin = zeroize::Zeroizing::new("1234".into());
        let report = run(readers, CardKind::Jpki, None, pin, 3, Operation::Login).unwrap();
        assert_eq!(report.warm.len(), 3);
        // The cold login reads certificates; warm ones only check the PIN counter and sign.
        assert!(report.cold.apdus > report.warm[0].apdus, "{report:?}");
        assert!(report.warm.iter().all(|s| s.apdus <= 8 && s.card <= s.total));
        assert!(report.render().contains("warm login x3"));
    }

    /// Document signatures with the HPKI card's signature key: every one verifies the signature PIN and signs
    /// once, at the card as the logins do; the report says what it measured.
    #[test]
    fn measures_document_signatures() {
        let readers = MemReaders::with_readers(&["R0"]);
        readers.insert("R0", crate::testkit::hpki_identity().card());
        let pin = zeroize::Zeroizing::new("hpki1234".into());
        let report = run(readers, CardKind::Hpki, None, pin, 2, Operation::Document).unwrap();
        assert_eq!((report.operation, report.warm.len()), (Operation::Document, 2));
        assert!(report.warm.iter().all(|s| s.apdus > 0 && s.card <= s.total), "{report:?}");
        assert!(report.render().contains("warm document signature x2"), "{}", report.render());
    }
}
