//! The card agent's local HTTP API (`hcpki_agent::api::router`), as a browser's page reaches it on 127.0.0.1:
//! the `Host` guard (DNS rebinding), the `Origin` allow-list and CORS preflights, the routes and their path,
//! query and JSON body extraction (`POST /v1/sign`'s challenge in base64url, kind, role; `POST /v1/presence`'s
//! token and card id; `GET /v1/sign/{id}`'s `wait` and `seen`), the PIN page's form, and the body limit. The
//! card side is a stand-in `CardService` with no reader and no card, so signing fails at once; what is fuzzed
//! is what the agent does with the request before any card is touched.
//!
//! The input is one request as text: `METHOD PATH` on the first line, then `name: value` header lines, an empty
//! line, and the body (HTTP/1.1's shape, LF or CRLF). A request the `http` crate refuses to build is skipped.
//! `/v1/events` (an endless event stream) answers, but its body is not read. `seeds/make-request-seeds` writes
//! the seeds.
//!
//! Must hold: no panic and no 5xx (but `/v1/presence`'s 503: this agent reports no presence); a `Host` other
//! than the listener's is refused with 421 before anything else; otherwise every answer carries
//! `Cache-Control: no-store` and `nosniff`; a request to a `/v1/` route without an allowed `Origin` is refused
//! with 403 (or 405 where the route has no such method); `Access-Control-Allow-Origin`, when sent, is the allowed origin the
//! request named; an accepted signing request (202) had a challenge of 16 to 1024 bytes; error answers are
//! JSON with an error code.
#![no_main]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hcpki_agent::api::{AppState, router};
use hcpki_agent::config::AgentConfig;
use hcpki_agent::service::{AgentError, CardEvent, CardService, PinPrompt, ReaderInfo, SignRequest, Signed};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt as _;

const LISTEN: &str = "127.0.0.1:7717";
const PORTAL: &str = "https://portal.example.jp";

/// No readers, no cards: every signature fails at once, and no event ever comes.
struct NoCards(tokio::sync::broadcast::Sender<CardEvent>);

impl CardService for NoCards {
    fn readers(&self) -> Result<Vec<ReaderInfo>, AgentError> {
        Ok(Vec::new())
    }

    fn sign(&self, request: &SignRequest, _: &dyn PinPrompt) -> Result<Signed, AgentError> {
        Err(AgentError::NoCard(request.kind))
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<CardEvent> {
        self.0.subscribe()
    }
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    config: AgentConfig,
    service: Arc<dyn CardService>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut config = AgentConfig {
            listen: LISTEN.parse().expect("an address"),
            allowed_origins: vec![PORTAL.into()],
            ..AgentConfig::default()
        };
        config.validate().expect("a valid agent configuration");
        Fixture {
            runtime: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime"),
            config,
            service: Arc::new(NoCards(tokio::sync::broadcast::channel(4).0)),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((request, body)) = request(data) else { return };
    let f = fixture();
    let host = request.headers().get(header::HOST).map(|h| h.as_bytes().to_ascii_lowercase());
    let origin = request.headers().get(header::ORIGIN).map(|o| o.as_bytes().to_ascii_lowercase());
    let (path, method) = (request.uri().path().to_owned(), request.method().clone());
    let challenge = challenge_len(body);
    // A fresh agent per request: operations from earlier inputs must not make this one busy.
    let app = router(AppState::new(Arc::clone(&f.service), &f.config, f.config.listen, None));
    let response = f.runtime.block_on(app.oneshot(request)).expect("the router is infallible");
    let status = response.status();
    // 503 is the one server-side answer expected: presence reporting is off in this agent (no portal CA).
    let presence_off = path == "/v1/presence" && status == StatusCode::SERVICE_UNAVAILABLE;
    assert!(!status.is_server_error() || presence_off, "{method} {path}: {status}");
    let own = ["127.0.0.1:7717", "localhost:7717", "[::1]:7717"];
    if !host.as_ref().is_some_and(|h| own.iter().any(|o| o.as_bytes() == h.as_slice())) {
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{method} {path} to host {host:?}");
        return;
    }
    let headers = response.headers();
    assert_eq!(headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()), Some(&b"no-store"[..]));
    assert_eq!(headers.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
    let allowed = origin.as_deref() == Some(PORTAL.as_bytes());
    if is_v1_route(&path) && !allowed {
        // 405: the method has no handler on this route, so nothing ran (whether the guard answers first or not).
        let refused = status == StatusCode::FORBIDDEN || status == StatusCode::METHOD_NOT_ALLOWED;
        assert!(refused, "{method} {path} from {origin:?}: {status}");
    }
    if let Some(acao) = headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        assert!(allowed && acao.as_bytes() == PORTAL.as_bytes(), "CORS allowed {acao:?} for {origin:?}");
    }
    if status == StatusCode::ACCEPTED && path == "/v1/sign" {
        let len = challenge.expect("a signing request accepted without a readable challenge");
        assert!((16..=1024).contains(&len), "a challenge of {len} bytes accepted");
    }
    let json = headers.get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    // HEAD answers carry the headers of the GET answer and no body.
    let has_body = method != axum::http::Method::HEAD;
    if status.is_client_error()
        && status != StatusCode::NOT_FOUND
        && status != StatusCode::METHOD_NOT_ALLOWED
        && json
        && has_body
    {
        let body = f.runtime.block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).expect("a JSON body");
        let value: serde_json::Value = serde_json::from_slice(&body).expect("error answers are JSON");
        assert!(value["error"]["code"].is_string(), "an error answer without a code: {value}");
    }
});

/// The request the input describes, if it is one the `http` crate builds.
fn request(data: &[u8]) -> Option<(Request<Body>, &[u8])> {
    let split = data.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let split = split.or_else(|| data.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4)));
    let (head, body) = match split {
        Some((i, n)) => (&data[..i], &data[i + n..]),
        None => (data, &[][..]),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let (method, path) = lines.next()?.split_once(' ')?;
    let mut builder = Request::builder().method(method).uri(path);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(name.trim(), value.trim());
    }
    Some((builder.body(Body::from(body.to_vec())).ok()?, body))
}

/// Whether `path` is one of the `/v1/` routes (an unknown path is the router's plain 404, which no guard needs).
fn is_v1_route(path: &str) -> bool {
    matches!(path, "/v1/cards" | "/v1/sign" | "/v1/events" | "/v1/presence")
        || path.strip_prefix("/v1/sign/").is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// The decoded length of the `challenge` in a JSON body, read as the agent reads it (base64url, padding optional).
fn challenge_len(body: &[u8]) -> Option<usize> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let challenge = value.get("challenge")?.as_str()?;
    URL_SAFE_NO_PAD.decode(challenge.trim_end_matches('=')).ok().map(|c| c.len())
}
