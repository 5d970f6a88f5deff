//! The forced-login marker (issue #24, item 6): when `prompt=login` or `max_age` sends the browser to the login
//! page, the return trip to `/authorize` must accept only a login made after that redirect. What says so is kept
//! here, server-side, under a random single-use key (the `login_after` parameter of the return trip), bound to
//! the request (a digest of its parameters) and to the session that was found not fresh enough.
//!
//! A `login_after` the browser made up, spent, expired or carried over to another request is no marker: the
//! request is decided on its own `prompt` and `max_age`, as if the parameter were absent. So someone at a
//! shared PC with a colleague's live session cannot skip the colleague's card and PIN by adding it.

use super::super::{OAuthError, Provider, random_token};
use hcpki_ca::store::{Oidc, StoreError};
use hcpki_pkix::time::CLOCK_LEEWAY_SECS;
use hcpki_pkix::time::UnixTime;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The return trip's parameter naming the marker. Never taken from a client: a pushed request's copy is
/// dropped, and a plain request's value is only a key to look up.
pub const PARAM: &str = "login_after";
/// The `oidc_once` kind the markers are kept under.
const KIND: &str = "forced-login";

/// What the redirect to the login page asked of the session that comes back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Marker {
    /// The redirect's time: the login must be at or after it (less the clock leeway, for a replica behind).
    after: i64,
    /// Digest of the request's parameters ([`request_digest`]): the marker answers only that request.
    request: String,
    /// The session (id hash) found not fresh enough, if there was one: it never satisfies the marker, however
    /// close to the redirect it was made (the leeway).
    stale: Option<String>,
}

impl Marker {
    /// Whether the session `id_hash`, authenticated at `auth_time`, is a login made for this marker.
    pub fn satisfied_by(&self, id_hash: &str, auth_time: i64) -> bool {
        self.stale.as_deref() != Some(id_hash) && auth_time + CLOCK_LEEWAY_SECS >= self.after
    }
}

/// Keep a marker for the request `params` (without [`PARAM`]) whose session `stale` was not fresh enough, for
/// `lifetime` seconds: the value of [`PARAM`] for the return trip.
pub async fn issue(
    provider: &Provider,
    params: &HashMap<String, String>,
    stale: Option<&str>,
    lifetime: i64,
    now: i64,
) -> Result<String, OAuthError> {
    let key = random_token(32)?;
    let marker = Marker { after: now, request: request_digest(params), stale: stale.map(str::to_owned) };
    let value = serde_json::to_string(&marker).map_err(OAuthError::server)?;
    provider
        .store
        .oidc_once_put(
            KIND,
            &key,
            &value,
            UnixTime::from_secs(now + lifetime + CLOCK_LEEWAY_SECS),
            UnixTime::from_secs(now),
        )
        .await?;
    Ok(key)
}

/// Take (single use) the marker `key` names, if it exists, is live and was made for the request `params`
/// (without [`PARAM`]). None for anything else: a forgery, a replay, another request's marker.
pub async fn redeem(
    store: &dyn Oidc,
    key: &str,
    params: &HashMap<String, String>,
    now: i64,
) -> Result<Option<Marker>, StoreError> {
    let Some(stored) = store.oidc_once_take(KIND, key, UnixTime::from_secs(now)).await? else {
        return Ok(None);
    };
    let marker: Option<Marker> = serde_json::from_str(&stored).ok();
    Ok(marker.filter(|m| m.request == request_digest(params)))
}

/// SHA-256 (hex) of the parameters, sorted by name, each name and value length-prefixed (no two requests
/// share an encoding), [`PARAM`] left out.
pub fn request_digest(params: &HashMap<String, String>) -> String {
    let mut pairs: Vec<(&String, &String)> = params.iter().filter(|(k, _)| k.as_str() != PARAM).collect();
    pairs.sort();
    let mut h = Sha256::new();
    for (k, v) in pairs {
        for part in [k, v] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn digest_ignores_the_marker_and_order_but_not_boundaries() {
        let a = params(&[("client_id", "rp1"), ("prompt", "login")]);
        let with_marker = params(&[("prompt", "login"), ("client_id", "rp1"), (PARAM, "x")]);
        assert_eq!(request_digest(&a), request_digest(&with_marker));
        let shifted = params(&[("client_id", "rp1p"), ("rompt", "login")]);
        assert_ne!(request_digest(&a), request_digest(&shifted));
    }

    #[test]
    fn the_stale_session_never_satisfies_and_older_logins_do_not() {
        let m = Marker { after: 1000, request: String::new(), stale: Some("old".into()) };
        assert!(!m.satisfied_by("old", 2000), "the session that was not fresh enough");
        assert!(m.satisfied_by("new", 1000));
        assert!(m.satisfied_by("new", 1000 - CLOCK_LEEWAY_SECS), "a replica behind by the leeway");
        assert!(!m.satisfied_by("new", 1000 - CLOCK_LEEWAY_SECS - 1));
    }
}
