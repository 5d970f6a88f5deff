//! Accounts, orders, authorizations and challenges: their RFC 8555 §7.1 JSON, how an order settles, and how
//! an order's identifiers become a name request for the facility's profile (decision D17). The records
//! themselves are the store's (`store::records`), re-exported here.
//!
//! An order is stored as one document with its authorizations and challenges (authorizations are never
//! shared between orders here), so one conditional UPDATE moves the whole state on every replica.
//! Authorization IDs are `<order>.<n>` ([`AuthzId`]), challenge IDs `<order>.<n>.<type>` ([`ChallengeId`]).

use super::problem::Problem;
use crate::profile::ProfileKind;
use hcpki_model::AcmeOrderId;
use std::fmt;
// The stored account and order are the store's (plain data it reads and writes); named here too. Their
// RFC 8555 JSON and state rules stay with the protocol, below.
pub use crate::store::{AcmeAccount, AcmeOrder, Authorization, Challenge, StoredProblem};

/// How long a new order (and its authorizations) may be worked on.
pub const ORDER_LIFETIME_SECS: i64 = 7 * 86_400;

/// A stored account as the protocol shows it: its RFC 8555 §7.1.2 account object. A trait because the record is
/// the store's (`hcpki-store`) and its JSON is the protocol's; import it where `to_json` is called.
pub trait AccountObject {
    /// RFC 8555 §7.1.2. Without `orders`: hcpki does not list an account's orders (no client reads the
    /// list; a URL that answers nothing would be worse than none).
    fn to_json(&self) -> serde_json::Value;
}

impl AccountObject for AcmeAccount {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "status": self.status,
            "contact": self.contact,
            "externalAccountBinding": {"kid": self.credential},
        })
    }
}

impl From<&Problem> for StoredProblem {
    fn from(p: &Problem) -> Self {
        Self { kind: p.type_urn(), detail: p.detail.clone() }
    }
}

/// A kept problem as RFC 7807 JSON inside an order or a challenge.
fn problem_json(p: &StoredProblem) -> serde_json::Value {
    serde_json::json!({"type": p.kind, "detail": p.detail})
}

/// The challenge types offered for every identifier.
pub const CHALLENGE_TYPES: [&str; 2] = ["http-01", "tls-alpn-01"];

/// A stored order as the protocol sees it: its URL, its RFC 8555 §7.1.3 order object and §7.1.4 authorization
/// objects, and how it settles after a challenge. A trait because the record is the store's (`hcpki-store`) and
/// these rules are the protocol's; import it where they are used.
pub trait OrderObject {
    /// The order's URL.
    fn url(&self, base: &str) -> String;

    /// RFC 8555 §7.1.3.
    fn to_json(&self, base: &str) -> serde_json::Value;

    /// RFC 8555 §7.1.4 for authorization `n`.
    fn authz_json(&self, n: usize, base: &str) -> Option<serde_json::Value>;

    /// After a challenge changed: the order is `ready` when every authorization is valid, `invalid` when one is.
    fn settle(&mut self);
}

impl OrderObject for AcmeOrder {
    fn url(&self, base: &str) -> String {
        format!("{base}/order/{}", self.id)
    }

    fn to_json(&self, base: &str) -> serde_json::Value {
        let mut v = serde_json::json!({
            "status": self.status,
            "expires": hcpki_pkix::time::rfc3339(self.expires_at),
            "identifiers": self.identifiers.iter().map(|i| serde_json::json!({"type": "dns", "value": i})).collect::<Vec<_>>(),
            "authorizations": (0..self.authorizations.len()).map(|n| format!("{base}/authz/{}.{n}", self.id)).collect::<Vec<_>>(),
            "finalize": format!("{base}/order/{}/finalize", self.id),
        });
        if let Some(serial) = &self.certificate {
            put(&mut v, "certificate", serde_json::Value::String(format!("{base}/cert/{serial}")));
        }
        if let Some(e) = &self.error {
            put(&mut v, "error", problem_json(e));
        }
        v
    }

    fn authz_json(&self, n: usize, base: &str) -> Option<serde_json::Value> {
        let a = self.authorizations.get(n)?;
        let challenges: Vec<serde_json::Value> = a
            .challenges
            .iter()
            .map(|c| {
                let mut v = serde_json::json!({
                    "type": c.kind,
                    "url": format!("{base}/chall/{}.{n}.{}", self.id, c.kind),
                    "token": c.token,
                    "status": c.status,
                });
                if let Some(at) = c.validated_at {
                    put(&mut v, "validated", serde_json::Value::String(hcpki_pkix::time::rfc3339(at)));
                }
                if let Some(e) = &c.error {
                    put(&mut v, "error", problem_json(e));
                }
                v
            })
            .collect();
        Some(serde_json::json!({
            "identifier": {"type": "dns", "value": a.identifier},
            "status": a.status,
            "expires": hcpki_pkix::time::rfc3339(self.expires_at),
            "challenges": challenges,
        }))
    }

    fn settle(&mut self) {
        if self.status != "pending" {
            return;
        }
        if self.authorizations.iter().any(|a| a.status == "invalid") {
            self.status = "invalid".into();
        } else if self.authorizations.iter().all(|a| a.status == "valid") {
            self.status = "ready".into();
        }
    }
}

/// Add a member to a JSON object.
fn put(v: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if let Some(obj) = v.as_object_mut() {
        obj.insert(key.to_owned(), value);
    }
}

/// An authorization's ID, `<order>.<n>` (D128): the authorization of the order's `n`-th identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthzId {
    /// Its order.
    pub order: AcmeOrderId,
    /// Its position in the order's authorizations, from 0.
    pub index: usize,
}

impl AuthzId {
    /// `<order>.<n>` as this CA writes it (`n` in decimal without leading zeros); `None` for any other text,
    /// which names no authorization.
    pub fn parse(text: &str) -> Option<Self> {
        let (order, n) = text.split_once('.')?;
        Some(Self { order: AcmeOrderId::parse(order).ok()?, index: decimal(n)? })
    }
}

impl fmt::Display for AuthzId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.order, self.index)
    }
}

/// A challenge's ID, `<authz>.<type>` (D128). The type is kept as sent: one the authorization does not offer is
/// answered "no such challenge" by the order's owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeId {
    /// Its authorization.
    pub authz: AuthzId,
    /// The challenge type, e.g. `http-01`.
    pub kind: String,
}

impl ChallengeId {
    /// `<order>.<n>.<type>` as this CA writes it; `None` for any other text, which names no challenge.
    pub fn parse(text: &str) -> Option<Self> {
        let (order, rest) = text.split_once('.')?;
        let (n, kind) = rest.split_once('.')?;
        let authz = AuthzId { order: AcmeOrderId::parse(order).ok()?, index: decimal(n)? };
        Some(Self { authz, kind: kind.to_owned() })
    }
}

impl fmt::Display for ChallengeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.authz, self.kind)
    }
}

/// A position as this CA writes it: ASCII digits, no sign, no leading zero (one text per position).
fn decimal(text: &str) -> Option<usize> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// What an order's identifiers ask for, as the profile's name request (decision D17):
///
/// * `pc`: exactly one name `<device>.<facility domain>`; the first label is the device ID that goes into
///   the certificate's identity URI, and the name itself becomes its one dNSName (so renewal by the
///   certificate's names works, D17).
/// * `router`: names equal to or below the facility domain; they become the certificate's DNS SANs, checked
///   again by the router profile.
///
/// The facility domain is `<facility-id>.<router zone>`, the name space each facility owns.
pub fn name_request(
    profile: ProfileKind,
    facility_domain: &str,
    identifiers: &[String],
) -> Result<(Vec<String>, Option<String>), Problem> {
    let suffix = format!(".{facility_domain}");
    match profile {
        ProfileKind::Pc => {
            let [name] = identifiers else {
                return Err(Problem::rejected_identifier(format!(
                    "a PC certificate names one device: order exactly one identifier <device>{suffix}"
                )));
            };
            let device = name.strip_suffix(&suffix).filter(|d| is_device_label(d)).ok_or_else(|| {
                Problem::rejected_identifier(format!(
                    "{name} is not a device of this account's facility: use <device>{suffix} (one label, letters, \
                     digits and -)"
                ))
            })?;
            Ok((vec![name.clone()], Some(device.to_owned())))
        }
        ProfileKind::Router => {
            for name in identifiers {
                if name != facility_domain && !name.ends_with(&suffix) {
                    return Err(Problem::rejected_identifier(format!(
                        "{name} is outside this account's facility: router names must be {facility_domain} or end \
                         in {suffix}"
                    )));
                }
            }
            Ok((identifiers.to_vec(), None))
        }
        other => Err(Problem::rejected_identifier(format!("ACME does not issue {other} certificates"))),
    }
}

/// A DNS label usable as a device ID (the pc profile allows more, DNS less).
fn is_device_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An identifier as a client sent it → a lowercase DNS name, or the problem.
pub fn dns_identifier(v: &serde_json::Value) -> Result<String, Problem> {
    let kind = v.get("type").and_then(|t| t.as_str()).unwrap_or_default();
    let value = v.get("value").and_then(|t| t.as_str()).unwrap_or_default();
    if kind != "dns" {
        return Err(Problem::unsupported_identifier(format!(
            "identifier type {kind:?} is not supported: hcpki issues for dns identifiers"
        )));
    }
    let name = value.trim_end_matches('.').to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if !valid {
        return Err(Problem::rejected_identifier(format!("{value:?} is not a DNS name (wildcards are not issued)")));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pc_and_router_names() {
        let d = "hf00000001x.router.test";
        let one = |n: &str| vec![n.to_owned()];
        assert_eq!(name_request(ProfileKind::Pc, d, &one(&format!("pc-0001.{d}"))).unwrap().1.unwrap(), "pc-0001");
        for bad in [d.to_owned(), format!("a.b.{d}"), "pc-0001.other.test".into(), format!("-x.{d}")] {
            assert!(name_request(ProfileKind::Pc, d, &one(&bad)).is_err(), "{bad}");
        }
        assert!(name_request(ProfileKind::Pc, d, &[format!("a.{d}"), format!("b.{d}")]).is_err());
        assert_eq!(name_request(ProfileKind::Router, d, &one(&format!("gw.{d}"))).unwrap().0, one(&format!("gw.{d}")));
        assert!(name_request(ProfileKind::Router, d, &one("evil.test")).is_err());
        assert!(name_request(ProfileKind::Router, d, &one(&format!("x{d}"))).is_err());
    }

    #[test]
    fn identifiers() {
        let v = |t: &str, n: &str| serde_json::json!({"type": t, "value": n});
        assert_eq!(dns_identifier(&v("dns", "PC-1.Example.")).unwrap(), "pc-1.example");
        assert_eq!(
            dns_identifier(&v("ip", "192.0.2.1")).unwrap_err().kind,
            super::super::problem::ProblemType::UnsupportedIdentifier
        );
        assert!(dns_identifier(&v("dns", "*.example")).is_err());
        assert!(dns_identifier(&v("dns", "a..b")).is_err());
    }

    #[test]
    fn authorization_and_challenge_ids() {
        let order = "0123456789abcdef".repeat(2);
        let authz = AuthzId::parse(&format!("{order}.1")).unwrap();
        assert_eq!((authz.order.as_str(), authz.index), (order.as_str(), 1));
        assert_eq!(authz.to_string(), format!("{order}.1"));
        let chall = ChallengeId::parse(&format!("{order}.0.http-01")).unwrap();
        assert_eq!((chall.authz.index, chall.kind.as_str()), (0, "http-01"));
        assert_eq!(chall.to_string(), format!("{order}.0.http-01"));
        for bad in ["abc.1", &order, &format!("{order}.01"), &format!("{order}.+1"), &format!("{order}.")] {
            assert_eq!(AuthzId::parse(bad), None, "{bad}");
        }
        assert_eq!(AuthzId::parse(&format!("{order}.1.http-01")), None, "a challenge is no authorization");
        assert_eq!(ChallengeId::parse(&format!("{order}.1")), None, "an authorization is no challenge");
    }
}
