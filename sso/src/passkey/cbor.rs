//! The few CBOR reads WebAuthn needs, over ciborium's `Value` (RFC 8949): one item from the front of a byte
//! string with the bytes it took, and typed look-ups in a map. Nesting is limited so that hostile input cannot
//! exhaust the stack.

use super::PasskeyError;
use ciborium::value::Value;

/// Deeper than any attestation object or COSE key (three levels); far below the stack's limit.
const NESTING_LIMIT: usize = 16;

/// The first CBOR item of `bytes` and how many bytes it took (a COSE key inside authenticator data is
/// followed by extensions, so its end is only known by decoding it).
pub(super) fn item(bytes: &[u8], part: &'static str) -> Result<(Value, usize), PasskeyError> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, NESTING_LIMIT)
        .map_err(|e| PasskeyError::malformed(part, format!("CBOR: {e}")))?;
    Ok((value, bytes.len() - rest.len()))
}

/// `bytes` as exactly one CBOR item, nothing after it.
pub(super) fn whole(bytes: &[u8], part: &'static str) -> Result<Value, PasskeyError> {
    let (value, used) = item(bytes, part)?;
    if used != bytes.len() {
        return Err(PasskeyError::malformed(part, format!("{} bytes after the CBOR item", bytes.len() - used)));
    }
    Ok(value)
}

/// The entries of a CBOR map.
pub(super) fn map<'a>(value: &'a Value, part: &'static str) -> Result<&'a [(Value, Value)], PasskeyError> {
    value.as_map().map(Vec::as_slice).ok_or_else(|| PasskeyError::malformed(part, "not a CBOR map"))
}

/// The value under the text key `key`.
pub(super) fn text_key<'a>(entries: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    entries.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v)
}

/// The value under the integer key `key` (COSE labels).
pub(super) fn int_key(entries: &[(Value, Value)], key: i64) -> Option<&Value> {
    entries.iter().find(|(k, _)| int(k) == Some(key)).map(|(_, v)| v)
}

/// An integer value that fits `i64`.
pub(super) fn int(value: &Value) -> Option<i64> {
    value.as_integer().and_then(|i| i64::try_from(i).ok())
}
