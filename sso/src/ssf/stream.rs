//! An event stream's configuration (SSF 1.0 §8.1.1): what the receiver asked for, read from its JSON at the
//! edge into a typed [`StreamConfig`], kept as JSON in the store, and shown back as SSF's stream configuration.

use super::event::SUPPORTED;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Push delivery (RFC 8935).
pub const PUSH: &str = "urn:ietf:rfc:8935";
/// Poll delivery (RFC 8936).
pub const POLL: &str = "urn:ietf:rfc:8936";
/// The poll endpoint's path (RFC 8936); the stream's id follows.
pub const POLL_PATH: &str = "/ssf/poll";

/// How many event types a receiver may name.
const MAX_EVENTS: usize = 32;
/// The longest event type URI, push endpoint URL, authorization header or description read.
const MAX_TEXT: usize = 2048;
/// The members a receiver may set.
const RECEIVER_MEMBERS: [&str; 3] = ["events_requested", "delivery", "description"];
/// The members the transmitter sets: a receiver may send them back (a PUT of what it read) and they are ignored.
const TRANSMITTER_MEMBERS: [&str; 7] = [
    "stream_id",
    "iss",
    "aud",
    "events_supported",
    "events_delivered",
    "min_verification_interval",
    "inactivity_timeout",
];

/// What a stream delivers, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamConfig {
    /// The event types the receiver asked for, as it sent them.
    pub events_requested: Vec<String>,
    /// How SETs reach the receiver.
    pub delivery: Delivery,
    /// The receiver's description of the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// How SETs reach the receiver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method")]
pub enum Delivery {
    /// POSTed to the receiver's endpoint (RFC 8935).
    Push {
        /// The receiver's endpoint.
        endpoint_url: String,
        /// The `Authorization` header value the receiver asked to be sent, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authorization_header: Option<String>,
    },
    /// Fetched by the receiver from the transmitter's poll endpoint (RFC 8936).
    Poll,
}

impl Delivery {
    /// Whether SETs are pushed.
    pub fn is_push(&self) -> bool {
        matches!(self, Self::Push { .. })
    }
}

/// A stream's status (SSF 1.0 §8.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Events are queued and delivered.
    Enabled,
    /// Events are queued and held until the stream is enabled again.
    Paused,
    /// No events are queued.
    Disabled,
}

impl Status {
    /// The status's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Paused => "paused",
            Self::Disabled => "disabled",
        }
    }

    /// Read a status name.
    pub fn parse(text: &str) -> Result<Self, StreamError> {
        match text {
            "enabled" => Ok(Self::Enabled),
            "paused" => Ok(Self::Paused),
            "disabled" => Ok(Self::Disabled),
            other => Err(StreamError(format!("status {other:?} is not one of enabled, paused, disabled"))),
        }
    }
}

/// A stream configuration request the transmitter cannot take; the message says what to change.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct StreamError(pub String);

impl StreamConfig {
    /// A new stream's configuration from the receiver's JSON body (`POST`, or `PUT` replacing one). Without
    /// `delivery` the stream is polled (SSF 1.0 §8.1.1.1).
    pub fn parse_new(body: &[u8]) -> Result<Self, StreamError> {
        let base = Self { events_requested: Vec::new(), delivery: Delivery::Poll, description: None };
        base.apply(&object(body)?)
    }

    /// This configuration with the members the receiver's `PATCH` body sets changed.
    pub fn parse_update(&self, body: &[u8]) -> Result<Self, StreamError> {
        self.apply(&object(body)?)
    }

    /// The event types this stream delivers: those requested that the transmitter supports.
    pub fn events_delivered(&self) -> Vec<&'static str> {
        SUPPORTED.iter().copied().filter(|s| self.events_requested.iter().any(|r| r == s)).collect()
    }

    /// Whether the stream delivers `uri`.
    pub fn delivers(&self, uri: &str) -> bool {
        self.events_requested.iter().any(|r| r == uri) && SUPPORTED.contains(&uri)
    }

    /// The stream configuration as SSF 1.0 §8.1.1 shows it to its receiver `client_id` (the push endpoint's
    /// authorization header is not shown back).
    pub fn view(&self, issuer: &str, stream_id: &str, client_id: &str) -> Value {
        let delivery = match &self.delivery {
            Delivery::Push { endpoint_url, .. } => json!({ "method": PUSH, "endpoint_url": endpoint_url }),
            Delivery::Poll => {
                json!({ "method": POLL, "endpoint_url": format!("{issuer}{}/{stream_id}", POLL_PATH) })
            }
        };
        let mut view = json!({
            "stream_id": stream_id,
            "iss": issuer,
            "aud": client_id,
            "delivery": delivery,
            "events_supported": SUPPORTED,
            "events_requested": self.events_requested,
            "events_delivered": self.events_delivered(),
        });
        if let (Some(d), Some(map)) = (&self.description, view.as_object_mut()) {
            map.insert("description".into(), json!(d));
        }
        view
    }

    fn apply(&self, body: &Map<String, Value>) -> Result<Self, StreamError> {
        if let Some(unknown) =
            body.keys().find(|k| !RECEIVER_MEMBERS.contains(&k.as_str()) && !TRANSMITTER_MEMBERS.contains(&k.as_str()))
        {
            return Err(StreamError(format!(
                "{unknown:?} is not a stream configuration member a receiver sets: send events_requested, delivery \
                 and description only"
            )));
        }
        let mut next = self.clone();
        if let Some(events) = body.get("events_requested") {
            next.events_requested = events_requested(events)?;
        }
        if let Some(delivery) = body.get("delivery") {
            next.delivery = self::delivery(delivery)?;
        }
        match body.get("description") {
            None => {}
            Some(Value::Null) => next.description = None,
            Some(Value::String(d)) => next.description = Some(bounded("description", d)?.to_owned()),
            Some(_) => return Err(StreamError("description must be a string".into())),
        }
        Ok(next)
    }
}

/// The body as a JSON object.
fn object(body: &[u8]) -> Result<Map<String, Value>, StreamError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(StreamError("the body must be a JSON object (a stream configuration)".into())),
        Err(e) => Err(StreamError(format!("the body is not JSON ({e}): send a stream configuration object"))),
    }
}

fn events_requested(value: &Value) -> Result<Vec<String>, StreamError> {
    let Value::Array(items) = value else {
        return Err(StreamError("events_requested must be an array of event type URIs".into()));
    };
    if items.len() > MAX_EVENTS {
        return Err(StreamError(format!("events_requested names more than {MAX_EVENTS} event types")));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(uri) = item else {
            return Err(StreamError("events_requested must hold event type URIs (strings)".into()));
        };
        let uri = bounded("an event type", uri)?;
        if !out.iter().any(|u| u == uri) {
            out.push(uri.to_owned());
        }
    }
    Ok(out)
}

fn delivery(value: &Value) -> Result<Delivery, StreamError> {
    let Value::Object(d) = value else {
        return Err(StreamError("delivery must be an object with a method".into()));
    };
    match d.get("method").and_then(Value::as_str) {
        Some(POLL) => Ok(Delivery::Poll),
        Some(PUSH) => {
            let Some(url) = d.get("endpoint_url").and_then(Value::as_str) else {
                return Err(StreamError(format!("push delivery ({PUSH}) needs the receiver's endpoint_url")));
            };
            let endpoint_url = push_endpoint(bounded("endpoint_url", url)?)?;
            let authorization_header = match d.get("authorization_header") {
                None | Some(Value::Null) => None,
                Some(Value::String(h)) if !h.contains(['\r', '\n']) => {
                    Some(bounded("authorization_header", h)?.to_owned())
                }
                Some(_) => return Err(StreamError("authorization_header must be one line of text".into())),
            };
            Ok(Delivery::Push { endpoint_url, authorization_header })
        }
        Some(other) => Err(StreamError(format!("delivery method {other:?} is not supported: use {PUSH} or {POLL}"))),
        None => Err(StreamError(format!("delivery needs a method: {PUSH} or {POLL}"))),
    }
}

/// A push endpoint: https, or http to this machine only (a receiver on the same host, as in tests); never a
/// URL with credentials or a fragment.
fn push_endpoint(url: &str) -> Result<String, StreamError> {
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or_default();
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(StreamError(format!("endpoint_url {url:?} must be https:// (http:// only to this machine)")));
        }
        rest
    } else {
        return Err(StreamError(format!("endpoint_url {url:?} must be an https:// URL")));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || url.contains('#') || url.contains(char::is_whitespace) {
        return Err(StreamError(format!(
            "endpoint_url {url:?} must name a host, without user information or fragment"
        )));
    }
    Ok(url.to_owned())
}

fn bounded<'a>(what: &str, text: &'a str) -> Result<&'a str, StreamError> {
    if text.is_empty() || text.len() > MAX_TEXT {
        return Err(StreamError(format!("{what} must be 1 to {MAX_TEXT} characters long")));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::super::event::{ACCOUNT_DISABLED, SESSION_REVOKED};
    use super::*;

    #[test]
    fn a_push_stream_delivers_what_it_asked_for_among_what_is_supported() {
        let body = json!({
            "events_requested": [SESSION_REVOKED, "https://example.com/unknown", SESSION_REVOKED],
            "delivery": { "method": PUSH, "endpoint_url": "https://emr.example/ssf", "authorization_header": "Bearer x" },
            "description": "EMR",
        });
        let c = StreamConfig::parse_new(body.to_string().as_bytes()).unwrap();
        assert_eq!(c.events_requested.len(), 2);
        assert_eq!(c.events_delivered(), [SESSION_REVOKED]);
        assert!(c.delivers(SESSION_REVOKED) && !c.delivers(ACCOUNT_DISABLED));
        let view = c.view("https://idp", "st1", "emr");
        assert_eq!(view["delivery"]["endpoint_url"], "https://emr.example/ssf");
        assert!(view["delivery"].get("authorization_header").is_none());
    }

    #[test]
    fn without_delivery_a_stream_is_polled_at_the_transmitter() {
        let c = StreamConfig::parse_new(b"{}").unwrap();
        assert_eq!(c.delivery, Delivery::Poll);
        assert_eq!(c.view("https://idp", "st1", "emr")["delivery"]["endpoint_url"], "https://idp/ssf/poll/st1");
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let c =
            StreamConfig::parse_new(json!({ "events_requested": [SESSION_REVOKED] }).to_string().as_bytes()).unwrap();
        let u = c.parse_update(br#"{"description":"x"}"#).unwrap();
        assert_eq!(u.events_requested, [SESSION_REVOKED]);
        assert_eq!(u.description.as_deref(), Some("x"));
    }

    #[test]
    fn bad_configurations_say_what_to_change() {
        for (body, says) in [
            ("[]", "JSON object"),
            ("{", "not JSON"),
            (r#"{"colour":1}"#, "not a stream configuration member"),
            (r#"{"events_requested":"x"}"#, "array"),
            (r#"{"delivery":{"method":"urn:x"}}"#, "not supported"),
            (r#"{"delivery":{"method":"urn:ietf:rfc:8935"}}"#, "endpoint_url"),
            (r#"{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"http://emr.example/"}}"#, "https"),
            (r#"{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://u@emr.example/"}}"#, "user"),
            (
                r#"{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://e/","authorization_header":"a\nb"}}"#,
                "one line",
            ),
        ] {
            let e = StreamConfig::parse_new(body.as_bytes()).unwrap_err();
            assert!(e.0.contains(says), "{body}: {e}");
        }
        assert!(
            StreamConfig::parse_new(r#"{"stream_id":"x","iss":"y"}"#.as_bytes()).is_ok(),
            "read-only members are ignored"
        );
    }

    #[test]
    fn a_push_endpoint_on_this_machine_may_be_plain_http() {
        let body = r#"{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"http://127.0.0.1:9/ssf"}}"#;
        assert!(StreamConfig::parse_new(body.as_bytes()).unwrap().delivery.is_push());
    }
}
