//! ACME accounts and orders as stored (decision D17): an order is one document with its authorizations and
//! challenges, so one conditional UPDATE moves the whole state on every replica. Their RFC 8555 §7.1 JSON and
//! state rules are `enroll::acme::order`'s.

use hcpki_model::{AcmeAccountId, AcmeOrderId, Actor, FacilityId, ProfileKind};
use serde::{Deserialize, Serialize};

/// An ACME account, bound at creation to the facility and profile of the EAB credential it redeemed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcmeAccount {
    /// Its ID (D128); the account URL is `<base>/acct/<id>`.
    pub id: AcmeAccountId,
    /// RFC 7638 thumbprint of the current key.
    pub thumbprint: String,
    /// The current key, as canonical JWK JSON.
    pub jwk: String,
    /// The facility it enrolls for.
    pub facility: FacilityId,
    /// The profile its orders receive (the credential's default profile).
    pub profile: ProfileKind,
    /// The EAB credential it redeemed.
    pub credential: String,
    /// `valid` or `deactivated`.
    pub status: String,
    /// `mailto:` contacts (informational).
    pub contact: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
}

impl AcmeAccount {
    /// The account's actor in the audit log.
    pub fn actor(&self) -> Actor {
        Actor(format!("acme:account:{}", self.id))
    }
}

/// An order and everything under it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeOrder {
    /// Its ID (D128).
    pub id: AcmeOrderId,
    /// Its account.
    pub account: AcmeAccountId,
    /// `pending`, `ready`, `processing`, `valid` or `invalid`.
    pub status: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The identifiers, lowercase DNS names.
    pub identifiers: Vec<String>,
    /// One per identifier, same order.
    pub authorizations: Vec<Authorization>,
    /// The issued certificate's serial once valid.
    pub certificate: Option<String>,
    /// Why the order became invalid.
    pub error: Option<StoredProblem>,
    /// Bumped on every update (optimistic concurrency between replicas).
    pub version: i64,
}

/// An authorization of one identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    /// The DNS name.
    pub identifier: String,
    /// `pending`, `valid`, `invalid` or `deactivated`.
    pub status: String,
    /// The challenges offered.
    pub challenges: Vec<Challenge>,
}

/// A challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// `http-01` or `tls-alpn-01`.
    pub kind: String,
    /// 128 random bits, base64url.
    pub token: String,
    /// `pending`, `processing`, `valid` or `invalid`.
    pub status: String,
    /// When it was validated (RFC 3339 in JSON).
    pub validated_at: Option<i64>,
    /// Why validation failed.
    pub error: Option<StoredProblem>,
}

/// A problem as kept with an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredProblem {
    /// The type URN.
    pub kind: String,
    /// The detail.
    pub detail: String,
}
