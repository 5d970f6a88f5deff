//! A POST as received and the answer, stripped of HTTP, and what every handler does with them (the payload,
//! an account's key, random IDs): below the dispatcher (`acme`) and its handlers.

use super::authority::AcmeAuthority;
use super::jws::{self, Jws, Signer};
use super::order::AcmeAccount;
use super::payload;
use super::problem::Problem;
use hcpki_model::{ACME_ID_OCTETS, AcmeAccountId};

/// A POST as received, stripped of HTTP.
#[derive(Debug)]
pub struct AcmeRequest<'a> {
    /// The ACME base URL as the client reached it, e.g. `https://ca.example:8443/acme`.
    pub base: &'a str,
    /// The full URL of this request (compared with the JWS `url`).
    pub url: &'a str,
    /// The Content-Type header.
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

/// A successful answer.
#[derive(Debug, PartialEq, Eq)]
pub struct AcmeResponse {
    /// HTTP status (200 or 201).
    pub status: u16,
    /// `Location`.
    pub location: Option<String>,
    /// `Link: <…>;rel="up"`.
    pub up: Option<String>,
    /// `Link: <…>;rel="alternate"`: another chain for the certificate downloaded (RFC 8555 §7.4.2).
    pub alternate: Option<String>,
    /// The body.
    pub body: Body,
}

/// A response body.
#[derive(Debug, PartialEq, Eq)]
pub enum Body {
    /// `application/json`.
    Json(serde_json::Value),
    /// `application/pem-certificate-chain`.
    PemChain(String),
    /// Nothing.
    Empty,
}

impl AcmeResponse {
    pub(super) fn json(status: u16, body: serde_json::Value) -> Self {
        Self { status, location: None, up: None, alternate: None, body: Body::Json(body) }
    }

    pub(super) fn at(mut self, location: String) -> Self {
        self.location = Some(location);
        self
    }
}

/// The stored key of an account.
pub(super) fn account_key(account: &AcmeAccount) -> Result<jws::Jwk, Problem> {
    serde_json::from_str(&account.jwk)
        .map_err(|e| Problem::server_internal(format!("stored key of account {} is damaged: {e}", account.id)))
        .and_then(|v| jws::Jwk::from_value(&v))
}

/// The payload as a JSON object; POST-as-GET (empty payload) is `None`.
pub(super) fn payload_json(jws: &Jws) -> Result<Option<serde_json::Value>, Problem> {
    payload::object(&jws.payload)
}

/// 128 random bits, base64url: IDs, tokens and nonces.
pub(super) fn random_token() -> Result<String, Problem> {
    use base64::Engine;
    let bytes = hcpki_pkix::keys::random_secret(16).map_err(|e| Problem::server_internal(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_slice()))
}

/// The random octets of a new account or order ID (D128).
pub(super) fn random_id() -> Result<[u8; ACME_ID_OCTETS], Problem> {
    let bytes = hcpki_pkix::keys::random_secret(ACME_ID_OCTETS).map_err(|e| Problem::server_internal(e.to_string()))?;
    bytes.as_slice().try_into().map_err(|_| Problem::server_internal("the random source gave a short ID"))
}

/// The account a `kid` JWS names, if it is valid and the signature is its key's.
pub(super) async fn signed_by_account(
    authority: &dyn AcmeAuthority,
    base: &str,
    jws: &Jws,
) -> Result<AcmeAccount, Problem> {
    let Signer::Account(kid) = &jws.signer else {
        return Err(Problem::malformed("this request must be signed by an account key (kid), not a jwk"));
    };
    let id = kid
        .strip_prefix(&format!("{base}/acct/"))
        .ok_or_else(|| Problem::account_does_not_exist(format!("{kid} is not an account URL of this CA")))?;
    let no_account = || Problem::account_does_not_exist(format!("no account {id}: register with newAccount"));
    // An ID this CA cannot have made is unknown too, and said so in the same words.
    let known = AcmeAccountId::parse(id).map_err(|_| no_account())?;
    let account = authority.account(&known).await?.ok_or_else(no_account)?;
    jws.verify(&account_key(&account)?)?;
    if account.status != "valid" {
        return Err(Problem::unauthorized(format!("account {id} is {}", account.status)));
    }
    Ok(account)
}
