//! The operator console's form reading, `app::csrf::read_form`: every console POST body
//! (`application/x-www-form-urlencoded`, percent-encoding and `+`, repeated names) is decoded, its `csrf`
//! field checked (base64url of an expiry and an HMAC over the page's binding and that expiry), and the other
//! fields re-encoded and read as the handler's type; and `CsrfKey::verify` on the token alone.
//!
//! The key, binding and clock are fixed (`SECRET`, `BINDING`, `NOW`, which `seeds/make-request-seeds` shares to
//! make valid tokens). The first input byte says what the rest is. Even: a body as posted. Odd: a body to which
//! the target appends a token it has just made (`&csrf=…`), so the fields after a good token are fuzzed too.
//! Each body is read as a list of pairs and as `Facility`, a stand-in with the console's field types.
//!
//! Must hold: no panic; a token is accepted only if it is exactly what the key makes for the binding and its
//! expiry, which is still ahead; an expired token is refused as expired only if the key made it; an accepted
//! form's fields are the body's pairs in order, without `csrf`; the typed read succeeds only where the pair
//! list does.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hcpki::fuzzing::{CSRF_LIFETIME, CsrfError, CsrfKey, FormError, read_form};
use hcpki_model::UnixTime;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const SECRET: &[u8] = b"hcpki fuzz console csrf key";
/// A client certificate's SHA-256 fingerprint, as the console binds its forms.
const BINDING: &str = "5d41402abc4b2a76b9719d911017c592a4b5b1e3f0b1c2d3e4f5a6b7c8d9e0f1";
const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

/// A form with the field types console handlers read (text, number, flag, optional).
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)] // read only to see that it decodes
struct Facility {
    name: String,
    kind: String,
    beds: Option<u32>,
    #[serde(default)]
    confirm: bool,
}

fn key() -> &'static CsrfKey {
    static KEY: OnceLock<CsrfKey> = OnceLock::new();
    KEY.get_or_init(|| CsrfKey::from_secret(SECRET))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let key = key();
    let mut body = rest.to_vec();
    if mode % 2 == 1 {
        body.extend_from_slice(format!("&csrf={}", key.token(BINDING, NOW)).as_bytes());
    }
    let pairs: Result<Vec<(String, String)>, _> = serde_urlencoded::from_bytes(&body);
    let token = pairs.as_ref().ok().and_then(|p| p.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.clone()));
    check_token(key, token.as_deref().unwrap_or(""));

    let read: Result<Vec<(String, String)>, FormError> = read_form(key, &body, BINDING, NOW);
    match &read {
        Ok(fields) => {
            let pairs = pairs.as_ref().expect("a form read from a body that is not one");
            let expected: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "csrf").cloned().collect();
            assert_eq!(fields, &expected, "the fields are not the body's");
        }
        Err(FormError::Token(_)) => assert!(pairs.is_ok(), "a token refused in a body that is not a form"),
        Err(_) => {}
    }
    if read_form::<Facility>(key, &body, BINDING, NOW).is_ok() {
        assert!(read.is_ok(), "a typed form read where the pairs were refused: {read:?}");
    }
});

/// `verify` accepts exactly the key's own tokens for the binding, and calls only those expired.
fn check_token(key: &CsrfKey, token: &str) {
    let result = key.verify(token, BINDING, NOW);
    let decoded = URL_SAFE_NO_PAD.decode(token.trim()).ok().filter(|b| b.len() >= 8);
    let Some(bytes) = decoded else {
        assert_eq!(result, Err(CsrfError::Invalid), "a token that does not decode: {token:?}");
        return;
    };
    let mut expiry = [0; 8];
    expiry.copy_from_slice(&bytes[..8]);
    let expiry = i64::from_be_bytes(expiry);
    let lifetime = i64::try_from(CSRF_LIFETIME.as_secs()).unwrap_or(i64::MAX);
    // The key's token for this expiry, made at the moment it would have been made (`now` is seconds on the wire).
    let genuine = key.token(BINDING, UnixTime::from_secs(expiry.wrapping_sub(lifetime))) == token.trim();
    let now = NOW.as_secs();
    match result {
        Ok(()) => assert!(genuine && expiry > now, "accepted {token:?} (expiry {expiry})"),
        Err(CsrfError::Expired) => assert!(genuine && expiry <= now, "expired {token:?} (expiry {expiry})"),
        Err(_) => assert!(!genuine || expiry.checked_sub(lifetime).is_none(), "refused {token:?}"),
    }
}
