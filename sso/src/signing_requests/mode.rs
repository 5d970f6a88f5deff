//! How the card agent says a signing request's signature was authorised (issue #48 item 3, D163): the signature PIN
//! typed for it alone, the n-th signature of a signing session of N, or one document of a batch confirmed once. The
//! page relays the agent's `result.document.signing`; it is the agent's claim (the signature itself cannot show
//! it), read strictly, kept with the signed request and its audit entry, and given to the relying service.

use serde_json::{Value, json};

/// The value a signing page hands the card agent as its signing session's `binding` (D163): of the portal session
/// whose CSRF token is `csrf`, so a new sign-in (or another person's) never continues a session opened under
/// another; 43 base64url characters, as the agent expects.
pub fn session_binding(csrf: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("hcpki signing session\0{csrf}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// The most signatures a session allows (card agent's ceiling) and documents a batch lists.
const MAX_SESSION: u64 = 250;
const MAX_BATCH: u64 = 100;

/// A mode as read from the page's field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureMode {
    /// The PIN was typed for this signature.
    Single,
    /// The `n`-th of at most `of` signatures of one PIN entry.
    Session { n: u64, of: u64 },
    /// Document `item` of `items`, confirmed once; inside a session when `session` is given.
    Batch { item: u64, items: u64, session: Option<(u64, u64)> },
}

impl SignatureMode {
    /// Reads the agent's `signing` object (JSON text, at most 512 bytes). `Err` says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > 512 {
            return Err("longer than 512 bytes".into());
        }
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let count = |v: &Value, name: &str, max: u64| -> Result<u64, String> {
            match v.get(name).and_then(Value::as_u64) {
                Some(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(format!("{name} must be a number from 1 to {max}")),
            }
        };
        let pair = |v: &Value, (a, b): (&str, &str), max: u64| -> Result<(u64, u64), String> {
            let (x, y) = (count(v, a, max)?, count(v, b, max)?);
            if x > y { Err(format!("{a} is above {b}")) } else { Ok((x, y)) }
        };
        match v.get("mode").and_then(Value::as_str) {
            Some("single") => Ok(SignatureMode::Single),
            Some("session") => pair(&v, ("n", "of"), MAX_SESSION).map(|(n, of)| SignatureMode::Session { n, of }),
            Some("batch") => {
                let (item, items) = pair(&v, ("item", "items"), MAX_BATCH)?;
                let session = match v.get("session") {
                    None | Some(Value::Null) => None,
                    Some(s) => Some(pair(s, ("n", "of"), MAX_SESSION)?),
                };
                Ok(SignatureMode::Batch { item, items, session })
            }
            _ => Err("mode must be single, session or batch".into()),
        }
    }

    /// The canonical JSON kept and given to the service: `{"mode":"session","n":2,"of":250}`.
    pub fn to_json(&self) -> Value {
        match self {
            SignatureMode::Single => json!({ "mode": "single" }),
            SignatureMode::Session { n, of } => json!({ "mode": "session", "n": n, "of": of }),
            SignatureMode::Batch { item, items, session: None } => {
                json!({ "mode": "batch", "item": item, "items": items })
            }
            SignatureMode::Batch { item, items, session: Some((n, of)) } => {
                json!({ "mode": "batch", "item": item, "items": items, "session": { "n": n, "of": of } })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agents_modes_are_read_strictly_and_kept_canonical() {
        let session = r#"{"mode":"session","n":2,"of":250,"expires_at":1800000000}"#;
        assert_eq!(SignatureMode::parse(session), Ok(SignatureMode::Session { n: 2, of: 250 }));
        assert_eq!(SignatureMode::parse(session).unwrap().to_json(), json!({"mode": "session", "n": 2, "of": 250}));
        let batch = r#"{"mode":"batch","item":1,"items":3,"session":{"n":4,"of":250,"expires_at":1}}"#;
        assert_eq!(
            SignatureMode::parse(batch).unwrap().to_json(),
            json!({"mode": "batch", "item": 1, "items": 3, "session": {"n": 4, "of": 250}})
        );
        assert_eq!(SignatureMode::parse(r#"{"mode":"single"}"#), Ok(SignatureMode::Single));
        for bad in [
            "",
            "[]",
            r#"{"mode":"always"}"#,
            r#"{"mode":"session","n":3,"of":2}"#,
            r#"{"mode":"session","n":1,"of":251}"#,
            r#"{"mode":"batch","item":0,"items":2}"#,
            &format!(r#"{{"mode":"single","x":"{}"}}"#, "a".repeat(600)),
        ] {
            assert!(SignatureMode::parse(bad).is_err(), "{bad}");
        }
    }
}
