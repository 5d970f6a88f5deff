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
mod authority;
pub mod challenge;
pub mod eab;
mod issuance;
pub mod jws;
mod message;
pub mod order;
pub mod payload;
pub mod problem;
pub mod validation_address;

pub use authority::{AcmeAuthority, IssuedCertificate};
pub use challenge::Validator;
pub use issuance::Chain;
pub use message::{AcmeRequest, AcmeResponse, Body};
pub use order::{AcmeAccount, AcmeOrder};
pub use problem::{Problem, ProblemType};

use hcpki_model::{AcmeAccountId, AcmeOrderId};
use message::{random_token, signed_by_account};

/// Largest request body accepted: a finalize with a CSR for an 8192-bit RSA key is well under this.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long an unused nonce stays valid.
pub const NONCE_LIFETIME_SECS: i64 = 600;
/// The only request Content-Type (RFC 8555 §6.2).
pub const JOSE_JSON: &str = "application/jose+json";
/// The certificate download type (RFC 8555 §9.1).
pub const PEM_CHAIN: &str = "application/pem-certificate-chain";

/// The POST endpoints (RFC 8555 §7.1), with the ID from the path, parsed where the path is read (D128).
///
/// An ID is `None` when the path holds text this CA cannot have made: the request is still authenticated (nonce,
/// JWS, account) and audited, then answered as for a well-formed unknown ID, so a typo reads as it always did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `new-account`.
    NewAccount,
    /// `new-order`.
    NewOrder,
    /// `acct/{id}`.
    Account(Option<AcmeAccountId>),
    /// `order/{id}`.
    Order(Option<AcmeOrderId>),
    /// `order/{id}/finalize`.
    Finalize(Option<AcmeOrderId>),
    /// `authz/{order}.{n}`.
    Authz(Option<order::AuthzId>),
    /// `chall/{order}.{n}.{type}`.
    Challenge(Option<order::ChallengeId>),
    /// `cert/{serial}` and, during a root rollover, `cert/{serial}/alternate` (D165).
    Cert(String, issuance::Chain),
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
            Self::Cert(..) => "cert",
            Self::RevokeCert => "revoke-cert",
            Self::KeyChange => "key-change",
        }
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
                Endpoint::Account(id) => account::update(authority, request, &jws, account, id.as_ref()).await,
                Endpoint::KeyChange => account::key_change(authority, request, &jws, account).await,
                Endpoint::NewOrder => issuance::new_order(authority, request, &jws, &account).await,
                Endpoint::Order(id) => issuance::show_order(authority, request, &account, id.as_ref()).await,
                Endpoint::Authz(id) => issuance::authz(authority, request, &jws, &account, id.as_ref()).await,
                Endpoint::Challenge(id) => {
                    issuance::challenge(authority, validator, request, &jws, &account, id.as_ref()).await
                }
                Endpoint::Finalize(id) => issuance::finalize(authority, request, &jws, &account, id.as_ref()).await,
                Endpoint::Cert(serial, which) => issuance::download(authority, request, &account, serial, *which).await,
                Endpoint::NewAccount | Endpoint::RevokeCert => Err(Problem::server_internal("unreachable endpoint")),
            }
        }
    }
}

/// A fresh nonce value (the authority records it).
pub fn nonce_value() -> Result<String, Problem> {
    random_token()
}
