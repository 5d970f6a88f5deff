//! ACME (RFC 8555) as request → response, with no HTTP: the server hands over the endpoint, the URL the
//! client reached, its Content-Type and body; this module authenticates the JWS, decides and answers with a
//! status, JSON or a PEM chain, or a [`Problem`] document. External Account Binding is required: an account
//! exists only by redeeming an ACME enrollment credential, which binds it to one facility and profile
//! (decision D17).
//!
//! State lives in the store (accounts, orders, nonces), so any replica can serve any request. Challenge
//! validation runs while the challenge POST is answered, through the server's [`Validator`]; finalize issues
//! through the same pipeline as EST. Every refusal is audited (`acme.<operation>` / denied) and issues
//! nothing.

mod account;
pub mod challenge;
pub mod eab;
mod issuance;
pub mod jws;
pub mod order;
pub mod payload;
pub mod problem;
pub mod validation_address;

pub use challenge::Validator;
pub use order::{AcmeAccount, AcmeOrder};
pub use problem::{Problem, ProblemType};

use super::{EnrollError, Grant};
use crate::facility::FacilityId;
use jws::{Jws, Signer};
use zeroize::Zeroizing;

/// Largest request body accepted: a finalize with a CSR for an 8192-bit RSA key is well under this.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long an unused nonce stays valid.
pub const NONCE_LIFETIME_SECS: i64 = 600;
/// The only request Content-Type (RFC 8555 §6.2).
pub const JOSE_JSON: &str = "application/jose+json";
/// The certificate download type (RFC 8555 §9.1).
pub const PEM_CHAIN: &str = "application/pem-certificate-chain";

/// What the CA side offers ACME: declared here, implemented by [`crate::Authority`].
#[async_trait::async_trait]
pub trait AcmeAuthority: Send + Sync + std::fmt::Debug {
    /// Make and record a fresh nonce.
    async fn new_nonce(&self) -> Result<String, Problem>;

    /// Consume a nonce: `true` exactly once for a nonce issued and unexpired.
    async fn take_nonce(&self, nonce: &str) -> Result<bool, Problem>;

    /// The EAB HMAC key of ACME credential `kid`, derived from the enrollment key; `None` when no such
    /// credential exists.
    async fn eab_key(&self, kid: &str) -> Result<Option<Zeroizing<Vec<u8>>>, Problem>;

    /// Redeem credential `kid` (its secret being the derived EAB key, base64url): single use, audited.
    async fn redeem(&self, kid: &str, secret: &str) -> Result<Grant, EnrollError>;

    /// Give a redeemed credential back because the account could not be recorded.
    async fn release(&self, kid: &str, reason: &str);

    /// The domain a facility's identifiers live under (`<facility-id>.<router zone>`).
    fn facility_domain(&self, facility: &FacilityId) -> String;

    /// Record a new account (audited `acme.account.create`).
    async fn create_account(&self, account: &AcmeAccount) -> Result<(), Problem>;

    /// One account.
    async fn account(&self, id: &str) -> Result<Option<AcmeAccount>, Problem>;

    /// The account with this key thumbprint.
    async fn account_by_thumbprint(&self, thumbprint: &str) -> Result<Option<AcmeAccount>, Problem>;

    /// Store a changed account (key, status, contact), audited as `acme.account.<action>`.
    async fn update_account(&self, account: &AcmeAccount, action: &str) -> Result<(), Problem>;

    /// Record a new order (audited `acme.order.create`).
    async fn create_order(&self, order: &AcmeOrder, account: &AcmeAccount) -> Result<(), Problem>;

    /// One order.
    async fn order(&self, id: &str) -> Result<Option<AcmeOrder>, Problem>;

    /// Store `order` if nobody changed it since it was read at `order.version - 1`: `false` when another
    /// request did (the caller re-reads).
    async fn update_order(&self, order: &AcmeOrder) -> Result<bool, Problem>;

    /// Issue for the account's facility and profile with this CSR and name request (the EST pipeline).
    async fn issue(
        &self,
        account: &AcmeAccount,
        csr: crate::csr::Csr,
        sans: Vec<String>,
        device: Option<String>,
    ) -> Result<Vec<u8>, EnrollError>;

    /// A certificate this CA issued, with its chain (leaf first, root excluded).
    async fn certificate(&self, serial: &str) -> Result<Option<IssuedCertificate>, Problem>;

    /// The account whose order was finalized with certificate `serial`; `None` for certificates ACME did not
    /// issue (EST, SCEP, operators).
    async fn ordered_by(&self, serial: &str) -> Result<Option<String>, Problem>;

    /// Mark a certificate revoked with its RFC 5280 reason code (audited `cert.revoke`).
    async fn revoke(&self, serial: &str, reason: u8, actor: &crate::store::Actor) -> Result<(), Problem>;

    /// Audit a refused request.
    async fn refused(&self, operation: &str, reason: &str);
}

/// A certificate as revocation and download need it.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    /// Its serial.
    pub serial: String,
    /// Its facility.
    pub facility: Option<FacilityId>,
    /// SHA-256 of its SubjectPublicKeyInfo (hex).
    pub spki_sha256: String,
    /// Whether it is revoked.
    pub revoked: bool,
    /// Leaf and issuing CA, DER.
    pub chain: Vec<Vec<u8>>,
}

/// The POST endpoints (RFC 8555 §7.1), with the ID from the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `new-account`.
    NewAccount,
    /// `new-order`.
    NewOrder,
    /// `acct/{id}`.
    Account(String),
    /// `order/{id}`.
    Order(String),
    /// `order/{id}/finalize`.
    Finalize(String),
    /// `authz/{id}`.
    Authz(String),
    /// `chall/{id}`.
    Challenge(String),
    /// `cert/{serial}`.
    Cert(String),
    /// `revoke-cert`.
    RevokeCert,
    /// `key-change`.
    KeyChange,
}

impl Endpoint {
    /// Name for audit entries and logs.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::NewAccount => "new-account",
            Self::NewOrder => "new-order",
            Self::Account(_) => "account",
            Self::Order(_) => "order",
            Self::Finalize(_) => "finalize",
            Self::Authz(_) => "authz",
            Self::Challenge(_) => "challenge",
            Self::Cert(_) => "cert",
            Self::RevokeCert => "revoke-cert",
            Self::KeyChange => "key-change",
        }
    }
}

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
    fn json(status: u16, body: serde_json::Value) -> Self {
        Self { status, location: None, up: None, body: Body::Json(body) }
    }

    fn at(mut self, location: String) -> Self {
        self.location = Some(location);
        self
    }
}

/// The directory (RFC 8555 §7.1.1); EAB is required.
pub fn directory(base: &str) -> serde_json::Value {
    serde_json::json!({
        "newNonce": format!("{base}/new-nonce"),
        "newAccount": format!("{base}/new-account"),
        "newOrder": format!("{base}/new-order"),
        "revokeCert": format!("{base}/revoke-cert"),
        "keyChange": format!("{base}/key-change"),
        "meta": {"externalAccountRequired": true},
    })
}

/// A body over [`MAX_BODY_BYTES`], which the server stopped reading: refused and audited.
pub async fn too_large(authority: &dyn AcmeAuthority, endpoint: &Endpoint) -> Problem {
    let p = Problem::malformed(format!("request body over {MAX_BODY_BYTES} bytes")).with_status(413);
    authority.refused(endpoint.operation(), &p.detail).await;
    p
}

/// Handle a POST to `endpoint`. Refusals are audited here, once, whatever refused them.
pub async fn post(
    authority: &dyn AcmeAuthority,
    validator: &dyn Validator,
    endpoint: &Endpoint,
    request: &AcmeRequest<'_>,
) -> Result<AcmeResponse, Problem> {
    let result = handle(authority, validator, endpoint, request).await;
    if let Err(p) = &result {
        authority.refused(endpoint.operation(), &format!("{}: {}", p.kind.name(), p.detail)).await;
    }
    result
}

async fn handle(
    authority: &dyn AcmeAuthority,
    validator: &dyn Validator,
    endpoint: &Endpoint,
    request: &AcmeRequest<'_>,
) -> Result<AcmeResponse, Problem> {
    let content_type = request.content_type.map(|c| c.split(';').next().unwrap_or_default().trim());
    if content_type.is_none_or(|c| !c.eq_ignore_ascii_case(JOSE_JSON)) {
        return Err(Problem::malformed(format!("the Content-Type must be {JOSE_JSON}")).with_status(415));
    }
    if request.body.len() > MAX_BODY_BYTES {
        return Err(Problem::malformed(format!("request body over {MAX_BODY_BYTES} bytes")).with_status(413));
    }
    let jws = jws::parse(request.body)?;
    if jws.url != request.url {
        return Err(Problem::unauthorized(format!("the JWS url {:?} is not the URL requested", jws.url)));
    }
    let nonce = jws.nonce.as_deref().ok_or_else(|| Problem::bad_nonce("the protected header has no nonce"))?;
    if !authority.take_nonce(nonce).await? {
        return Err(Problem::bad_nonce("the nonce is unknown, used or expired: retry with the Replay-Nonce given"));
    }
    match endpoint {
        Endpoint::NewAccount => account::new_account(authority, request, &jws).await,
        Endpoint::RevokeCert => issuance::revoke(authority, request, &jws).await,
        other => {
            let account = signed_by_account(authority, request.base, &jws).await?;
            match other {
                Endpoint::Account(id) => account::update(authority, request, &jws, account, id).await,
                Endpoint::KeyChange => account::key_change(authority, request, &jws, account).await,
                Endpoint::NewOrder => issuance::new_order(authority, request, &jws, &account).await,
                Endpoint::Order(id) => issuance::show_order(authority, request, &account, id).await,
                Endpoint::Authz(id) => issuance::authz(authority, request, &jws, &account, id).await,
                Endpoint::Challenge(id) => issuance::challenge(authority, validator, request, &jws, &account, id).await,
                Endpoint::Finalize(id) => issuance::finalize(authority, request, &jws, &account, id).await,
                Endpoint::Cert(serial) => issuance::download(authority, &account, serial).await,
                Endpoint::NewAccount | Endpoint::RevokeCert => Err(Problem::server_internal("unreachable endpoint")),
            }
        }
    }
}

/// The account a `kid` JWS names, if it is valid and the signature is its key's.
async fn signed_by_account(authority: &dyn AcmeAuthority, base: &str, jws: &Jws) -> Result<AcmeAccount, Problem> {
    let Signer::Account(kid) = &jws.signer else {
        return Err(Problem::malformed("this request must be signed by an account key (kid), not a jwk"));
    };
    let id = kid
        .strip_prefix(&format!("{base}/acct/"))
        .ok_or_else(|| Problem::account_does_not_exist(format!("{kid} is not an account URL of this CA")))?;
    let account = authority
        .account(id)
        .await?
        .ok_or_else(|| Problem::account_does_not_exist(format!("no account {id}: register with newAccount")))?;
    jws.verify(&account_key(&account)?)?;
    if account.status != "valid" {
        return Err(Problem::unauthorized(format!("account {id} is {}", account.status)));
    }
    Ok(account)
}

/// The stored key of an account.
fn account_key(account: &AcmeAccount) -> Result<jws::Jwk, Problem> {
    serde_json::from_str(&account.jwk)
        .map_err(|e| Problem::server_internal(format!("stored key of account {} is damaged: {e}", account.id)))
        .and_then(|v| jws::Jwk::from_value(&v))
}

/// The payload as a JSON object; POST-as-GET (empty payload) is `None`.
fn payload_json(jws: &Jws) -> Result<Option<serde_json::Value>, Problem> {
    payload::object(&jws.payload)
}

/// 128 random bits, base64url: IDs, tokens and nonces.
fn random_token() -> Result<String, Problem> {
    use base64::Engine;
    let bytes = crate::keys::random_secret(16).map_err(|e| Problem::server_internal(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_slice()))
}

/// A random hex ID.
fn random_id() -> Result<String, Problem> {
    let bytes = crate::keys::random_secret(16).map_err(|e| Problem::server_internal(e.to_string()))?;
    Ok(hex::encode(bytes.as_slice()))
}

/// A fresh nonce value (the authority records it).
pub fn nonce_value() -> Result<String, Problem> {
    random_token()
}
