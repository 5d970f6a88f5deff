//! Per-form CSRF tokens without server state: `base64url(expiry ‖ HMAC-SHA256(key, label ‖ binding ‖ expiry))`,
//! where the binding is the SHA-256 fingerprint of the client certificate the page was served to (or
//! `anonymous` for the application form). A token works only for the certificate it was made for, only until
//! its expiry, and cannot be made without the key; nothing is stored, so a token is checked by any request.
//! The key is derived from the deployment's enrollment key (D36), so every replica and every restart accepts
//! the same tokens.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hcpki_model::UnixTime;
use std::time::Duration;

/// How long a form stays usable. The token carries its expiry in whole seconds (the wire form since D36).
pub const LIFETIME: Duration = Duration::from_secs(3600);
const LABEL: &[u8] = b"hcpki console csrf v1";

/// The token key.
pub struct CsrfKey(hmac::Key);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrfError {
    /// No token, or not one this server made for this certificate (forged, from another certificate, or made
    /// before the server restarted): reload the page and submit again.
    #[error("the form's security token is missing or not valid for your certificate: reload the page and submit again")]
    Invalid,
    /// The token expired: the page was open too long.
    #[error("the form expired (forms are valid for an hour): reload the page and submit again")]
    Expired,
}

impl CsrfKey {
    /// The key all replicas share, derived from the deployment's enrollment key (`secrets/enrollment-key` in the
    /// shared hcpki directory): a form served by one replica is accepted by another, and a restart keeps open
    /// forms working.
    pub fn from_secret(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// A token for `binding`, valid until `now + LIFETIME`.
    pub fn token(&self, binding: &str, now: UnixTime) -> String {
        let expiry = now.plus(LIFETIME).as_secs();
        let mut out = expiry.to_be_bytes().to_vec();
        out.extend_from_slice(hmac::sign(&self.0, &message(binding, expiry)).as_ref());
        B64.encode(out)
    }

    /// Check a token for `binding` at `now`.
    pub fn verify(&self, token: &str, binding: &str, now: UnixTime) -> Result<(), CsrfError> {
        let bytes = B64.decode(token.trim()).map_err(|_| CsrfError::Invalid)?;
        let (expiry, tag) = bytes.split_at_checked(8).ok_or(CsrfError::Invalid)?;
        let expiry = i64::from_be_bytes(expiry.try_into().map_err(|_| CsrfError::Invalid)?);
        hmac::verify(&self.0, &message(binding, expiry), tag).map_err(|_| CsrfError::Invalid)?;
        if now.as_secs() >= expiry { Err(CsrfError::Expired) } else { Ok(()) }
    }
}

/// Why a console form was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// The body is not a form, or a field does not fit: the detail names it; correct the field.
    #[error("{0}")]
    Malformed(String),
    /// The CSRF token is missing, forged or expired: reload the page.
    #[error(transparent)]
    Token(#[from] CsrfError),
}

/// A console form's body (`application/x-www-form-urlencoded`) as `T`, after its `csrf` field checked out for
/// `binding` at `now`; the other fields, in order, are what `T` is read from.
pub fn read_form<T: serde::de::DeserializeOwned>(
    key: &CsrfKey,
    body: &[u8],
    binding: &str,
    now: UnixTime,
) -> Result<T, FormError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|e| FormError::Malformed(e.to_string()))?;
    let token = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    key.verify(token, binding, now)?;
    let fields: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "csrf").collect();
    serde_urlencoded::to_string(&fields)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_urlencoded::from_str::<T>(&text).map_err(|e| e.to_string()))
        .map_err(FormError::Malformed)
}

fn message(binding: &str, expiry: i64) -> Vec<u8> {
    let mut m = LABEL.to_vec();
    m.push(0);
    m.extend_from_slice(binding.as_bytes());
    m.push(0);
    m.extend_from_slice(&expiry.to_be_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1000: UnixTime = UnixTime::from_secs(1000);

    #[test]
    fn tokens_bind_the_certificate_and_expire() {
        let key = CsrfKey::from_secret(b"one deployment's key");
        let t = key.token("aa", T1000);
        assert_eq!(key.verify(&t, "aa", T1000), Ok(()));
        assert_eq!(key.verify(&t, "bb", T1000), Err(CsrfError::Invalid));
        assert_eq!(key.verify(&t, "aa", T1000.plus(LIFETIME)), Err(CsrfError::Expired));
        assert_eq!(CsrfKey::from_secret(b"another deployment's key").verify(&t, "aa", T1000), Err(CsrfError::Invalid));
        assert_eq!(key.verify("", "aa", T1000), Err(CsrfError::Invalid));
        assert_eq!(key.verify("!!", "aa", T1000), Err(CsrfError::Invalid));
        // A later expiry spliced onto the old tag does not verify.
        let mut forged = B64.decode(&t).unwrap();
        forged[..8].copy_from_slice(&(5000i64 + 3600).to_be_bytes());
        assert_eq!(key.verify(&B64.encode(forged), "aa", UnixTime::from_secs(5000)), Err(CsrfError::Invalid));
    }

    #[test]
    fn forms_are_read_after_their_token() {
        let key = CsrfKey::from_secret(b"one deployment's key");
        let body = format!("name=%E8%A8%BA%E7%99%82%E6%89%80&csrf={}&kind=clinic", key.token("aa", T1000));
        let fields: Vec<(String, String)> = read_form(&key, body.as_bytes(), "aa", T1000).unwrap();
        assert_eq!(fields, [("name".to_owned(), "診療所".to_owned()), ("kind".to_owned(), "clinic".to_owned())]);
        let refused = read_form::<Vec<(String, String)>>(&key, body.as_bytes(), "bb", T1000);
        assert_eq!(refused, Err(FormError::Token(CsrfError::Invalid)));
        let untokened = read_form::<Vec<(String, String)>>(&key, b"a=%ff", "aa", T1000);
        assert_eq!(untokened, Err(FormError::Token(CsrfError::Invalid)), "no token, whatever the fields");
        #[derive(Debug, serde::Deserialize)]
        struct Number {
            n: u32,
        }
        let body = format!("n=7&csrf={}", key.token("aa", T1000));
        assert_eq!(read_form::<Number>(&key, body.as_bytes(), "aa", T1000).unwrap().n, 7);
        let body = format!("n=x&csrf={}", key.token("aa", T1000));
        assert!(matches!(read_form::<Number>(&key, body.as_bytes(), "aa", T1000), Err(FormError::Malformed(_))));
    }
}
