//! Exchanging a code or a refresh token for its grant, group-committed across concurrent token requests.
//!
//! One exchange needs the grant read, the client assertion's and the DPoP proof's jtis recorded, and the code
//! redeemed (or the refresh token rotated) durably. Made per request, that was a statement and a thread hand-off each on
//! SQLite plus one fsync'd commit per exchange, and the commits, one writer at a time, bounded the endpoint at
//! the disk's fsync rate (~1 000/s here; D28 addendum). Here a [`GroupCommit`] worker takes every request
//! waiting and, for the whole batch: reads the grants in one statement, checks each request against its grant
//! (client, redirect URI, PKCE, DPoP key), then records the jtis and applies the uses in one transaction
//! ([`Oidc::oidc_token_writes`]). Results are what the requests would have got one after another.

use super::dpop::Proof;
use super::{GrantData, OAuthError, hash_secret};
use hcpki_ca::group_commit::GroupCommit;
use hcpki_ca::store::{GrantOp, GrantRecord, GrantUse, Oidc, OnceRecord, TokenWrite, TokenWritten};
use hcpki_pkix::time::Clock;
use hcpki_pkix::time::UnixTime;
use std::collections::HashMap;
use std::sync::Arc;

/// Most requests in one batch.
const MAX_BATCH: usize = 256;
/// Requests waiting beyond this make callers wait to enqueue.
const QUEUE_DEPTH: usize = 4096;

/// What the client presented for its grant.
#[derive(Debug)]
pub enum GrantRequest {
    /// `grant_type=authorization_code`.
    Code {
        /// The code.
        code: String,
        /// `redirect_uri`, which must be the authorization request's.
        redirect_uri: Option<String>,
        /// `code_verifier` (PKCE S256).
        verifier: Option<String>,
        /// The first refresh token, made by the caller (`<grant id>.<secret>`).
        refresh: String,
    },
    /// `grant_type=refresh_token`.
    Refresh {
        /// The refresh token presented.
        old: String,
        /// Its successor, made by the caller.
        new: String,
    },
}

impl GrantRequest {
    /// The grant id the code or refresh token names (`<grant id>.<secret>`).
    fn grant_id(&self) -> Option<&str> {
        let token = match self {
            Self::Code { code, .. } => code,
            Self::Refresh { old, .. } => old,
        };
        token.split_once('.').map(|(id, _)| id)
    }
}

/// One token request: the authenticated client, its assertion's jti and its DPoP proof to record, and what it
/// presented (none when the request was refused before that, so that its jtis are still spent).
#[derive(Debug)]
pub struct Exchange {
    /// The authenticated client.
    pub client_id: String,
    /// The client assertion's jti (private_key_jwt).
    pub once: Option<OnceRecord>,
    /// The code or refresh token.
    pub request: Option<GrantRequest>,
    /// The DPoP proof the request carried (RFC 9449), verified, its jti recorded with the assertion's: a code
    /// redeemed with one binds the grant to its key; a refresh of a bound grant must prove the same key.
    pub dpop: Option<Proof>,
}

impl Exchange {
    /// The thumbprint of the DPoP key the request proved.
    fn dpop_jkt(&self) -> Option<&String> {
        self.dpop.as_ref().map(|p| &p.jkt)
    }
}

/// Why an exchange gave no grant.
#[derive(Debug)]
pub enum Refusal {
    /// The client assertion was used before.
    AssertionReplayed,
    /// The DPoP proof was used before with its key: nothing was used.
    DpopReplayed,
    /// The code or refresh token was spent already: the grant is now revoked (to audit).
    Replayed {
        /// The revoked grant.
        grant: Box<GrantRecord>,
        /// What was reused.
        what: &'static str,
        /// A refresh token the grant rotated out came back (RFC 9700 §4.14.2): someone kept a copy, so the
        /// session the grant belongs to ends too (D152). A code's replay only revokes its grant: a browser that
        /// reloads the redirect presents its code twice without anything being stolen.
        ends_session: bool,
        /// The answer.
        error: OAuthError,
    },
    /// Any other refusal.
    Refused(OAuthError),
}

impl From<OAuthError> for Refusal {
    fn from(e: OAuthError) -> Self {
        Self::Refused(e)
    }
}

/// An accepted exchange: the grant as it is now and its data, decoded once by the check.
#[derive(Debug)]
pub struct Granted {
    /// The grant after the redemption or rotation.
    pub grant: GrantRecord,
    /// What its tokens say.
    pub data: GrantData,
}

/// The outcome of one exchange: the grant as it is now, when accepted.
pub type Outcome = Result<Option<Granted>, Refusal>;

/// The worker's handle.
pub struct Exchanges(GroupCommit<Exchange, Outcome>);

impl std::fmt::Debug for Exchanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Exchanges {
    /// Start the worker on the current tokio runtime. `refresh_lifetime` bounds a redeemed grant's refresh
    /// tokens (and the session's own end, recorded in the grant, bounds it further).
    pub fn start(store: Arc<dyn Oidc>, clock: Arc<dyn Clock>, refresh_lifetime: i64) -> Self {
        Self(GroupCommit::start("token endpoint", MAX_BATCH, QUEUE_DEPTH, move |batch: Vec<Exchange>| {
            let store = store.clone();
            // The deadline checks use the time the batch runs, not when each request arrived.
            let now = clock.now_unix();
            async move { run(store.as_ref(), batch, refresh_lifetime, now).await }
        }))
    }

    /// Exchange with whatever else is waiting: `Ok(Some(grant))` when accepted, `Ok(None)` when nothing was
    /// presented (the jti was spent and was fresh).
    pub async fn exchange(&self, exchange: Exchange) -> Outcome {
        self.0.submit(exchange).await.map_err(|e| Refusal::Refused(OAuthError::server(e)))?
    }
}

async fn run(store: &dyn Oidc, batch: Vec<Exchange>, refresh_lifetime: i64, now: i64) -> Vec<Outcome> {
    let mut ids: Vec<String> = batch.iter().filter_map(|e| e.request.as_ref()?.grant_id()).map(str::to_owned).collect();
    ids.sort_unstable();
    ids.dedup();
    let grants: HashMap<String, GrantRecord> = match store.oidc_grants(&ids).await {
        Ok(found) => found.into_iter().map(|g| (g.id.clone(), g)).collect(),
        Err(e) => return failed(&batch, &e),
    };
    let mut writes = Vec::with_capacity(batch.len());
    let mut checked = Vec::with_capacity(batch.len());
    for e in &batch {
        let (op, data) = match check(e, &grants, refresh_lifetime, now) {
            Ok(Some((op, data))) => (Some(op), Ok(Some(data))),
            Ok(None) => (None, Ok(None)),
            Err(refused) => (None, Err(refused)),
        };
        writes.push(TokenWrite { once: e.once.clone(), dpop: e.dpop.as_ref().map(Proof::once), op });
        checked.push(data);
    }
    let written = match store.oidc_token_writes(&writes, UnixTime::from_secs(now)).await {
        Ok(w) => w,
        Err(e) => return failed(&batch, &e),
    };
    batch.iter().zip(checked).zip(written).map(|((e, c), w)| outcome(e, c, w)).collect()
}

/// Every request of a batch whose database work failed gets a 503 if the database is unavailable, else a
/// server error; the cause is logged once, not once per request (a database outage would otherwise log up to
/// a batch's worth of identical lines per commit).
fn failed(batch: &[Exchange], e: &hcpki_ca::store::StoreError) -> Vec<Outcome> {
    tracing::error!(error = %e, requests = batch.len(), "OIDC provider failure: token endpoint batch");
    let unavailable = matches!(e, hcpki_ca::store::StoreError::Unavailable(_));
    batch
        .iter()
        .map(|_| {
            Err(Refusal::Refused(if unavailable {
                OAuthError::unavailable_logged()
            } else {
                OAuthError::server_logged()
            }))
        })
        .collect()
}

/// The request against its grant, before anything is written: the op to apply and the grant's data (which the
/// op leaves as it is, so the tokens are made from this decoding), `None` if nothing was presented.
fn check(
    exchange: &Exchange,
    grants: &HashMap<String, GrantRecord>,
    refresh_lifetime: i64,
    now: i64,
) -> Result<Option<(GrantOp, GrantData)>, OAuthError> {
    let Some(presented) = &exchange.request else {
        return Ok(None);
    };
    let malformed = || match presented {
        GrantRequest::Code { .. } => OAuthError::invalid_grant("malformed code"),
        GrantRequest::Refresh { .. } => OAuthError::invalid_grant("malformed refresh token"),
    };
    let id = presented.grant_id().ok_or_else(malformed)?;
    // Another client's code or refresh token is `invalid_grant` (RFC 6749 §5.2), like an unknown one.
    let grant = grants
        .get(id)
        .filter(|g| g.client_id == exchange.client_id)
        .ok_or_else(|| OAuthError::invalid_grant("unknown code or refresh token"))?;
    let mut data = GrantData::of(grant)?;
    // Expired is refused here, before anything is written: the conditional redemption would miss, and a miss
    // counts as a replay, which revokes the grant and audits a reuse that never happened (a code presented
    // after its minute, as a slow client or a loaded machine does).
    if grant.state != "revoked" && grant.expires_at <= now {
        return Err(match presented {
            GrantRequest::Code { .. } if grant.state == "code" => OAuthError::invalid_grant(
                "the code has expired (codes are valid for one minute): start the sign-in again",
            ),
            GrantRequest::Code { .. } => OAuthError::invalid_grant("the code is unknown, expired or revoked"),
            GrantRequest::Refresh { .. } => OAuthError::invalid_grant("refresh token expired: log in again"),
        });
    }
    let op = match presented {
        GrantRequest::Code { code, redirect_uri, verifier, refresh } => {
            // A spent code skips the checks: its redemption fails and revokes the grant.
            if grant.state == "code" {
                if redirect_uri.as_deref() != Some(data.redirect_uri.as_str()) {
                    return Err(OAuthError::invalid_grant("redirect_uri differs from the authorization request's"));
                }
                let verifier =
                    verifier.as_deref().ok_or_else(|| OAuthError::invalid_grant("code_verifier is missing (PKCE)"))?;
                if super::jws::sha256_b64(verifier.as_bytes()) != data.code_challenge {
                    return Err(OAuthError::invalid_grant(
                        "code_verifier does not match the code_challenge (PKCE S256)",
                    ));
                }
                // A code bound to a DPoP key when it was asked for (RFC 9449 §10) is redeemed only with a proof
                // by that key: whoever intercepted the code without the key gets nothing.
                if let Some(bound) = &data.dpop_jkt
                    && exchange.dpop_jkt() != Some(bound)
                {
                    return Err(OAuthError::invalid_grant(
                        "the code is bound to a DPoP key (dpop_jkt): redeem it with a DPoP proof made with that key",
                    ));
                }
            }
            // The key the code is redeemed with binds the grant (RFC 9449 §5): kept in its data by the redemption
            // (already there when the code was bound at the authorization request).
            let bound = match exchange.dpop_jkt() {
                Some(jkt) if grant.state == "code" && data.dpop_jkt.is_none() => {
                    data.dpop_jkt = Some(jkt.clone());
                    Some(serde_json::to_string(&data).map_err(OAuthError::server)?)
                }
                _ => None,
            };
            GrantOp::Redeem {
                id: grant.id.clone(),
                code_hash: hash_secret(code),
                refresh_hash: hash_secret(refresh),
                expires_at: (now + refresh_lifetime).min(data.session_expires_at.unwrap_or(i64::MAX)),
                data: bound,
            }
        }
        GrantRequest::Refresh { old, new } => {
            // A grant bound to a DPoP key refreshes only with a proof by that key; a thief of the refresh token
            // without the key gets nothing, and the grant stays (the owner's next refresh works).
            if let Some(bound) = &data.dpop_jkt
                && exchange.dpop_jkt() != Some(bound)
            {
                return Err(OAuthError::new(
                    "invalid_dpop_proof",
                    "the refresh token is bound to a DPoP key: send a DPoP proof made with that key",
                ));
            }
            GrantOp::Rotate { id: grant.id.clone(), old_hash: hash_secret(old), new_hash: hash_secret(new) }
        }
    };
    Ok(Some((op, data)))
}

fn outcome(exchange: &Exchange, checked: Result<Option<GrantData>, OAuthError>, written: TokenWritten) -> Outcome {
    // A replayed jti refuses the request whatever else is wrong with it, as it did when recorded first; the
    // assertion's first, as the client is authenticated before its proof counts.
    if !written.once_fresh {
        return Err(Refusal::AssertionReplayed);
    }
    if !written.dpop_fresh {
        return Err(Refusal::DpopReplayed);
    }
    let data = checked?;
    let code = matches!(exchange.request, Some(GrantRequest::Code { .. }));
    match written.grant {
        None => Ok(None),
        // An op is written only with the data its check decoded.
        Some(GrantUse::Accepted(grant)) => match data {
            Some(data) => Ok(Some(Granted { grant, data })),
            None => Err(Refusal::Refused(OAuthError::server(format!("grant {} used without a check", grant.id)))),
        },
        Some(GrantUse::Replayed(grant)) if code => Err(Refusal::Replayed {
            grant: Box::new(grant),
            what: "authorization code reused",
            ends_session: false,
            error: OAuthError::invalid_grant("the code was already used: every token issued from it is revoked"),
        }),
        Some(GrantUse::Replayed(grant)) => Err(Refusal::Replayed {
            grant: Box::new(grant),
            what: "refresh token reused after rotation",
            ends_session: true,
            error: OAuthError::invalid_grant(
                "refresh token already used (rotated out): the grant and its sign-in session are ended, log in again",
            ),
        }),
        Some(GrantUse::Refused) if code => {
            Err(Refusal::Refused(OAuthError::invalid_grant("the code is unknown, expired or revoked")))
        }
        Some(GrantUse::Refused) => {
            Err(Refusal::Refused(OAuthError::invalid_grant("refresh token unknown, expired or revoked")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "a-verifier-of-forty-three-characters-or-more";
    const NOW: i64 = 1_800_000_000;

    fn grant(state: &str, expires_at: i64) -> GrantRecord {
        let data = GrantData {
            sub: "s".into(),
            claims: serde_json::json!({}),
            acr: "a".into(),
            amr: serde_json::json!([]),
            auth_time: NOW - 100,
            nonce: None,
            scope: "openid".into(),
            code_challenge: super::super::jws::sha256_b64(VERIFIER.as_bytes()),
            redirect_uri: "https://rp.example/cb".into(),
            sid: "sid".into(),
            session_expires_at: None,
            purpose_of_use: Default::default(),
            break_glass: None,
            dpop_jkt: None,
        };
        GrantRecord {
            id: "g1".into(),
            client_id: "rp".into(),
            session_hash: "h".into(),
            data: serde_json::to_string(&data).unwrap(),
            code_hash: None,
            refresh_hash: None,
            state: state.into(),
            created_at: NOW - 100,
            expires_at,
        }
    }

    fn code_exchange() -> Exchange {
        Exchange {
            client_id: "rp".into(),
            once: None,
            request: Some(GrantRequest::Code {
                code: "g1.secret".into(),
                redirect_uri: Some("https://rp.example/cb".into()),
                verifier: Some(VERIFIER.into()),
                refresh: "g1.next".into(),
            }),
            dpop: None,
        }
    }

    fn refresh_exchange() -> Exchange {
        Exchange {
            client_id: "rp".into(),
            once: None,
            request: Some(GrantRequest::Refresh { old: "g1.old".into(), new: "g1.new".into() }),
            dpop: None,
        }
    }

    fn proof(jkt: &str) -> Proof {
        Proof { jkt: jkt.into(), jti: "p1".into(), iat: NOW }
    }

    fn checked(exchange: &Exchange, g: GrantRecord) -> Result<Option<(GrantOp, GrantData)>, OAuthError> {
        check(exchange, &HashMap::from([(g.id.clone(), g)]), 3600, NOW)
    }

    #[test]
    fn a_live_code_with_its_verifier_is_redeemed() {
        let (op, _) = checked(&code_exchange(), grant("code", NOW + 1)).unwrap().unwrap();
        assert!(matches!(op, GrantOp::Redeem { ref id, .. } if id == "g1"), "{op:?}");
    }

    #[test]
    fn an_expired_code_is_refused_as_expired_and_writes_nothing() {
        // At its deadline, not only after it: the redemption's own condition is `expires_at > now`.
        for expires_at in [NOW, NOW - 30] {
            let e = checked(&code_exchange(), grant("code", expires_at)).unwrap_err();
            assert_eq!(e.error, "invalid_grant");
            assert!(e.description.contains("expired"), "{}", e.description);
            assert!(!e.description.contains("already used"), "{}", e.description);
        }
    }

    #[test]
    fn an_expired_refresh_token_is_refused_as_expired() {
        let e = checked(&refresh_exchange(), grant("active", NOW - 1)).unwrap_err();
        assert_eq!((e.error, e.description.as_str()), ("invalid_grant", "refresh token expired: log in again"));
        // A live one goes on to its rotation (whose secret the store checks).
        let (op, _) = checked(&refresh_exchange(), grant("active", NOW + 60)).unwrap().unwrap();
        assert!(matches!(op, GrantOp::Rotate { .. }), "{op:?}");
    }

    #[test]
    fn a_spent_code_presented_again_before_the_deadline_still_goes_to_the_store_as_a_replay() {
        // State `active`: the code was redeemed; the op is written so that its miss revokes the grant.
        let (op, _) = checked(&code_exchange(), grant("active", NOW + 60)).unwrap().unwrap();
        assert!(matches!(op, GrantOp::Redeem { .. }), "{op:?}");
    }

    /// RFC 9449 §5: a code redeemed with a DPoP proof binds the grant to the key, in the data the redemption
    /// writes; a refresh of the bound grant needs a proof by that key; a grant without one keeps its data.
    #[test]
    fn a_dpop_key_binds_the_grant_at_the_redemption_and_every_refresh_proves_it() {
        let mut code = code_exchange();
        code.dpop = Some(proof("K"));
        let (op, data) = checked(&code, grant("code", NOW + 1)).unwrap().unwrap();
        let GrantOp::Redeem { data: Some(written), .. } = op else { panic!("{op:?}") };
        assert_eq!(data.dpop_jkt.as_deref(), Some("K"));
        assert_eq!(serde_json::from_str::<GrantData>(&written).unwrap().dpop_jkt.as_deref(), Some("K"));
        let (op, _) = checked(&code_exchange(), grant("code", NOW + 1)).unwrap().unwrap();
        assert!(matches!(op, GrantOp::Redeem { data: None, .. }), "no proof: the data is kept");

        let mut bound = grant("active", NOW + 60);
        bound.data = written;
        for presented in [None, Some("other")] {
            let mut refresh = refresh_exchange();
            refresh.dpop = presented.map(proof);
            let e = checked(&refresh, bound.clone()).unwrap_err();
            assert_eq!(e.error, "invalid_dpop_proof", "{presented:?}");
        }
        let mut refresh = refresh_exchange();
        refresh.dpop = Some(proof("K"));
        assert!(matches!(checked(&refresh, bound).unwrap().unwrap().0, GrantOp::Rotate { .. }));
        // Grants from before DPoP read as unbound.
        assert_eq!(GrantData::of(&grant("active", NOW)).unwrap().dpop_jkt, None);
    }

    /// A replayed jti refuses the request before anything its check found, the assertion's first (D107): the
    /// op was not applied, so nothing is used; a fresh write answers what the check found.
    #[test]
    fn a_replayed_jti_refuses_the_request_whatever_its_check_found() {
        let written = |once_fresh, dpop_fresh| TokenWritten { once_fresh, dpop_fresh, grant: None };
        let wrong = || Err(OAuthError::invalid_grant("code_verifier is missing (PKCE)"));
        assert!(matches!(outcome(&code_exchange(), wrong(), written(false, false)), Err(Refusal::AssertionReplayed)));
        assert!(matches!(outcome(&code_exchange(), wrong(), written(false, true)), Err(Refusal::AssertionReplayed)));
        assert!(matches!(outcome(&code_exchange(), wrong(), written(true, false)), Err(Refusal::DpopReplayed)));
        assert!(matches!(outcome(&code_exchange(), Ok(None), written(true, false)), Err(Refusal::DpopReplayed)));
        let Err(Refusal::Refused(e)) = outcome(&code_exchange(), wrong(), written(true, true)) else { panic!() };
        assert_eq!(e.error, "invalid_grant");
    }

    /// RFC 9449 §10: a code bound when it was asked for (`dpop_jkt`, or a push with a proof) is redeemed only
    /// with a proof by that key; the refusal comes before anything is written, and the key's redemption keeps
    /// the data as it is (the binding is already there).
    #[test]
    fn a_code_bound_at_the_authorization_request_needs_its_key() {
        let mut bound = grant("code", NOW + 30);
        let mut data = GrantData::of(&bound).unwrap();
        data.dpop_jkt = Some("K".into());
        bound.data = serde_json::to_string(&data).unwrap();
        for presented in [None, Some("other")] {
            let mut code = code_exchange();
            code.dpop = presented.map(proof);
            let e = checked(&code, bound.clone()).unwrap_err();
            assert_eq!(e.error, "invalid_grant", "{presented:?}");
            assert!(e.description.contains("bound to a DPoP key"), "{}", e.description);
        }
        let mut code = code_exchange();
        code.dpop = Some(proof("K"));
        let (op, data) = checked(&code, bound).unwrap().unwrap();
        assert!(matches!(op, GrantOp::Redeem { data: None, .. }), "{op:?}");
        assert_eq!(data.dpop_jkt.as_deref(), Some("K"));
    }
}
