//! Stream management and poll delivery for one receiver (SSF 1.0 §8.1; RFC 8936), HTTP-free: the server's
//! `/ssf/...` adapter authenticates the client (a client-credentials token of scope `ssf`), reads the body and
//! the query, calls these, and writes the [`Answer`] or the [`ManagementError`] back. A client sees and
//! changes its own stream only: another client's stream id is answered as one that does not exist.

use super::emit;
use super::event::{STREAM_UPDATED, VERIFICATION};
use super::stream::{Status, StreamConfig, StreamError};
use crate::oidc::{Provider, random_token};
use hcpki_ca::store::{Actor, SsfStreamRecord};
use serde_json::{Map, Value, json};

/// How many SETs one poll answer holds at most.
const MAX_POLL: i64 = 100;
/// How many jtis one poll may acknowledge.
const MAX_ACKS: usize = 1000;

/// One receiver's view of the transmitter: the provider and the calling client.
#[derive(Debug)]
pub struct Receiver<'a> {
    /// The provider.
    pub provider: &'a Provider,
    /// The calling client (the token's).
    pub client_id: &'a str,
}

/// A successful answer: the HTTP status and the JSON body, if any.
#[derive(Debug, PartialEq)]
pub struct Answer {
    /// 200, 201 or 204.
    pub status: u16,
    /// The body (none with 204).
    pub body: Option<Value>,
}

/// Why a management or poll request was refused; each says what the receiver should do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagementError {
    /// The request is malformed: the message says what to change (400).
    #[error("{0}")]
    Invalid(String),
    /// The client has no stream of that id: create one first, or use the id the transmitter gave (404).
    #[error("no stream {0} for this receiver: create one with POST /ssf/stream, or read yours with GET")]
    NotFound(String),
    /// The client has a stream already: update it, or delete it first (409).
    #[error("this receiver has a stream already ({0}): update it with PATCH or PUT, or DELETE it first")]
    Exists(String),
    /// The store failed: retry later (500).
    #[error("the store failed ({0}); retry later")]
    Store(String),
}

impl ManagementError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::NotFound(_) => 404,
            Self::Exists(_) => 409,
            Self::Store(_) => 500,
        }
    }

    /// The error body (RFC 6749 §5.2 style, as SSF 1.0 §8.1.1 leaves it open; RFC 8936 §2.4.4 for polls).
    pub fn body(&self) -> Value {
        let error = match self {
            Self::Invalid(_) => "invalid_request",
            Self::NotFound(_) => "not_found",
            Self::Exists(_) => "conflict",
            Self::Store(_) => "server_error",
        };
        json!({ "error": error, "error_description": self.to_string() })
    }
}

impl From<StreamError> for ManagementError {
    fn from(e: StreamError) -> Self {
        Self::Invalid(e.0)
    }
}

fn store(e: hcpki_ca::store::StoreError) -> ManagementError {
    ManagementError::Store(e.to_string())
}

impl Receiver<'_> {
    /// `POST /ssf/stream`: create the client's stream (one per client).
    pub async fn create(&self, body: &[u8]) -> Result<Answer, ManagementError> {
        let config = StreamConfig::parse_new(body)?;
        if let Some(existing) = self.stream().await? {
            return Err(ManagementError::Exists(existing.stream_id));
        }
        let now = self.provider.clock.now_unix();
        let stream_id = random_token(16).map_err(|e| ManagementError::Store(e.description))?;
        let record = SsfStreamRecord {
            stream_id,
            client_id: self.client_id.to_owned(),
            config: String::new(),
            status: Status::Enabled.as_str().to_owned(),
            status_reason: None,
            created_at: now,
            updated_at: now,
        };
        let record = self.keep(record, &config, "create").await?;
        Ok(Answer { status: 201, body: Some(self.view(&record, &config)) })
    }

    /// `GET /ssf/stream[?stream_id=…]`: the stream, or (without an id) the list of the client's streams.
    pub async fn read(&self, stream_id: Option<&str>) -> Result<Answer, ManagementError> {
        let found = self.stream().await?;
        let body = match stream_id {
            Some(id) => {
                let record = found.filter(|s| s.stream_id == id).ok_or_else(|| ManagementError::NotFound(id.into()))?;
                self.view(&record, &config_of(&record)?)
            }
            None => {
                let views: Result<Vec<Value>, ManagementError> =
                    found.iter().map(|r| Ok(self.view(r, &config_of(r)?))).collect();
                Value::Array(views?)
            }
        };
        Ok(Answer { status: 200, body: Some(body) })
    }

    /// `PATCH /ssf/stream` (`replace` false: the members sent change) or `PUT /ssf/stream` (`replace` true: the
    /// configuration is the body's); the body names the stream.
    pub async fn update(&self, body: &[u8], replace: bool) -> Result<Answer, ManagementError> {
        let record = self.named(body).await?;
        let config = if replace { StreamConfig::parse_new(body)? } else { config_of(&record)?.parse_update(body)? };
        let record = self.keep(record, &config, if replace { "replace" } else { "update" }).await?;
        Ok(Answer { status: 200, body: Some(self.view(&record, &config)) })
    }

    /// `DELETE /ssf/stream?stream_id=…`: the stream and every SET waiting in it.
    pub async fn delete(&self, stream_id: &str) -> Result<Answer, ManagementError> {
        let record = self.owned(stream_id).await?;
        let (actor, at) = (self.actor(), self.provider.clock.now());
        if !self.provider.store.ssf_stream_delete(&record.stream_id, &actor, at).await.map_err(store)? {
            return Err(ManagementError::NotFound(stream_id.into()));
        }
        Ok(Answer { status: 204, body: None })
    }

    /// `GET /ssf/status?stream_id=…` (SSF 1.0 §8.1.2.1).
    pub async fn status(&self, stream_id: &str) -> Result<Answer, ManagementError> {
        let record = self.owned(stream_id).await?;
        Ok(Answer { status: 200, body: Some(status_view(&record)) })
    }

    /// `POST /ssf/status` (SSF 1.0 §8.1.2.2): set the status, queue `stream-updated` to the receiver.
    pub async fn set_status(&self, body: &[u8]) -> Result<Answer, ManagementError> {
        let request = object(body)?;
        let mut record = self.named(body).await?;
        let status = match request.get("status").and_then(Value::as_str) {
            Some(s) => Status::parse(s)?,
            None => return Err(ManagementError::Invalid("status is missing: enabled, paused or disabled".into())),
        };
        let reason = match request.get("reason") {
            None | Some(Value::Null) => None,
            Some(Value::String(r)) if r.len() <= 512 => Some(r.clone()),
            Some(_) => return Err(ManagementError::Invalid("reason must be a string of at most 512 bytes".into())),
        };
        let config = config_of(&record)?;
        record.status = status.as_str().to_owned();
        record.status_reason = reason;
        let record = self.keep(record, &config, "status").await?;
        let mut members = json!({ "status": record.status });
        if let (Some(r), Some(map)) = (&record.status_reason, members.as_object_mut()) {
            map.insert("reason".into(), json!(r));
        }
        emit::stream_event(self.provider, &record, STREAM_UPDATED, members).await;
        Ok(Answer { status: 200, body: Some(status_view(&record)) })
    }

    /// `POST /ssf/verify` (SSF 1.0 §8.1.4.2): queue a verification event carrying the receiver's `state`.
    pub async fn verify(&self, body: &[u8]) -> Result<Answer, ManagementError> {
        let request = object(body)?;
        let record = self.named(body).await?;
        let members = match request.get("state") {
            None | Some(Value::Null) => json!({}),
            Some(Value::String(s)) if s.len() <= 512 => json!({ "state": s }),
            Some(_) => return Err(ManagementError::Invalid("state must be a string of at most 512 bytes".into())),
        };
        if emit::stream_event(self.provider, &record, VERIFICATION, members).await.is_none() {
            return Err(ManagementError::Invalid(format!(
                "stream {} is {}: enable it (POST /ssf/status) before asking for a verification event",
                record.stream_id, record.status
            )));
        }
        Ok(Answer { status: 204, body: None })
    }

    /// `POST /ssf/poll/{stream_id}` (RFC 8936 §2.4): acknowledge `ack`, log `setErrs`, answer the SETs waiting.
    pub async fn poll(&self, stream_id: &str, body: &[u8]) -> Result<Answer, ManagementError> {
        let record = self.owned(stream_id).await?;
        if config_of(&record)?.delivery.is_push() {
            return Err(ManagementError::Invalid(format!(
                "stream {stream_id} is pushed to its endpoint, not polled: change its delivery to urn:ietf:rfc:8936"
            )));
        }
        let request = if body.iter().all(u8::is_ascii_whitespace) { Map::new() } else { object(body)? };
        let max = match request.get("maxEvents") {
            None => MAX_POLL,
            Some(v) => v
                .as_i64()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ManagementError::Invalid("maxEvents must be a non-negative integer".into()))?,
        }
        .min(MAX_POLL);
        let ack = jtis(request.get("ack"))?;
        if let Some(Value::Object(errors)) = request.get("setErrs") {
            for (jti, e) in errors.iter().take(MAX_ACKS) {
                tracing::warn!(stream = stream_id, jti, error = %e, "SSF: a receiver refused a SET");
            }
        }
        let (sets, more) = self.provider.store.ssf_poll(stream_id, &ack, max).await.map_err(store)?;
        let sets: Map<String, Value> = sets.into_iter().map(|s| (s.jti, Value::String(s.set_jwt))).collect();
        Ok(Answer { status: 200, body: Some(json!({ "sets": sets, "moreAvailable": more })) })
    }

    async fn stream(&self) -> Result<Option<SsfStreamRecord>, ManagementError> {
        self.provider.store.ssf_stream_of(self.client_id).await.map_err(store)
    }

    /// The client's stream `stream_id`.
    async fn owned(&self, stream_id: &str) -> Result<SsfStreamRecord, ManagementError> {
        self.stream()
            .await?
            .filter(|s| s.stream_id == stream_id)
            .ok_or_else(|| ManagementError::NotFound(stream_id.into()))
    }

    /// The client's stream the body's `stream_id` names.
    async fn named(&self, body: &[u8]) -> Result<SsfStreamRecord, ManagementError> {
        match object(body)?.get("stream_id").and_then(Value::as_str) {
            Some(id) => self.owned(id).await,
            None => Err(ManagementError::Invalid("stream_id is missing: name the stream (GET /ssf/stream)".into())),
        }
    }

    /// Store `record` with `config`, audited `ssf.stream.put` (what changed: `how`).
    async fn keep(
        &self,
        mut record: SsfStreamRecord,
        config: &StreamConfig,
        how: &str,
    ) -> Result<SsfStreamRecord, ManagementError> {
        record.config = serde_json::to_string(config).map_err(|e| ManagementError::Store(e.to_string()))?;
        record.updated_at = self.provider.clock.now_unix();
        let detail = json!({
            "change": how,
            "stream_id": record.stream_id,
            "status": record.status,
            "delivery": if config.delivery.is_push() { super::stream::PUSH } else { super::stream::POLL },
            "events_delivered": config.events_delivered(),
        });
        let (actor, at) = (self.actor(), self.provider.clock.now());
        self.provider.store.ssf_stream_put(&record, detail, &actor, at).await.map_err(store)?;
        Ok(record)
    }

    fn view(&self, record: &SsfStreamRecord, config: &StreamConfig) -> Value {
        config.view(&self.provider.issuer, &record.stream_id, self.client_id)
    }

    fn actor(&self) -> Actor {
        Actor(format!("ssf:{}", self.client_id))
    }
}

fn config_of(record: &SsfStreamRecord) -> Result<StreamConfig, ManagementError> {
    serde_json::from_str(&record.config)
        .map_err(|e| ManagementError::Store(format!("stream {} does not read: {e}", record.stream_id)))
}

fn status_view(record: &SsfStreamRecord) -> Value {
    let mut view = json!({ "stream_id": record.stream_id, "status": record.status });
    if let (Some(r), Some(map)) = (&record.status_reason, view.as_object_mut()) {
        map.insert("reason".into(), json!(r));
    }
    view
}

fn object(body: &[u8]) -> Result<Map<String, Value>, ManagementError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ManagementError::Invalid("the body must be a JSON object".into())),
    }
}

/// The `ack` list of a poll.
fn jtis(value: Option<&Value>) -> Result<Vec<String>, ManagementError> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let bad = || ManagementError::Invalid(format!("ack must be an array of at most {MAX_ACKS} jti strings"));
    let items = value.as_array().filter(|a| a.len() <= MAX_ACKS).ok_or_else(bad)?;
    items.iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(bad)).collect()
}
