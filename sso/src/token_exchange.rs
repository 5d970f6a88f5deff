//! Token exchange (RFC 8693, issue #29 item 5, D96): a service holding a user's access token gets a token for
//! another service, to call it on the user's behalf. Only to the services its registration lists
//! (`token_exchange_audiences`); the new token is for that service alone (`aud`), short-lived, never longer-lived
//! than the token it came from, and says who acts: the calling service in `act`, after any actors the subject
//! token named (a delegate, an earlier service).
//!
//! The caller is a confidential client ([`EXCHANGE`]) that the target service's `clients` rule admits, and the
//! subject token's sender constraint goes with it ([`sender`]): a token bound to a DPoP key or a certificate is
//! exchanged only with a proof of that key or that certificate, and comes back bound the same way (issue #42).
//!
//! HTTP-free: [`token_exchange`] takes an [`ExchangeCall`] (the token endpoint's form, the connection's
//! certificate, the `DPoP` header) and `now`; `/token`'s one grant dispatch (`crate::token_endpoint`) sends
//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` here. [`parse`], [`subject`], [`expiry`] and
//! [`sender::carried`] are the pure checks.

pub mod sender;

use crate::delegation::act::Act;
use crate::oidc::claims::AccessClaims;
use crate::oidc::client::{self, ClientCredentials, Endpoint, Presented};
use crate::oidc::dpop::DpopError;
use crate::oidc::grant_type::GrantType;
use crate::oidc::{Context, OAuthError, random_token};
use crate::policy::ClientRule;
use crate::refusals::named;
use hcpki_model::OidcClientId;
use sender::{Binding, Possession, SenderError};
use serde_json::{Value, json};
use std::collections::HashMap;

/// `grant_type` of a token exchange (RFC 8693 §2.1).
pub const GRANT_TYPE: &str = GrantType::TokenExchange.as_str();
/// The one token type taken and issued: an access token (RFC 8693 §3).
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// The longest life of an exchanged token, in seconds: a service calls another at once.
pub const EXCHANGED_SECS: i64 = 120;
/// The most actors a chain may hold (a service calling a service calling a service …).
pub const MAX_ACTORS: usize = 4;
/// The audit action of exchanges, issued and refused.
pub const ACTION: &str = "oidc.token_exchange";
/// `/token` for token exchange: confidential clients only (issue #42 item 1). The caller acts on its own
/// authority (its registration's audiences), and a public client's `client_id` is no credential: anyone holding
/// a token of that client could turn it into tokens for other services.
pub const EXCHANGE: Endpoint = Endpoint { path: "/token", callers: ClientRule::Confidential };

/// A token exchange request (RFC 8693 §2.1) as parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeRequest {
    /// `subject_token`: an access token this provider issued to the caller.
    pub subject_token: String,
    /// The service asked for: its client id, from `audience` or `resource`.
    pub target: String,
}

/// Parse the form of a token exchange.
pub fn parse(form: &HashMap<String, String>) -> Result<ExchangeRequest, ExchangeError> {
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let subject_token = get("subject_token").ok_or(ExchangeError::NoSubjectToken)?;
    match get("subject_token_type") {
        Some(ACCESS_TOKEN_TYPE) => {}
        other => return Err(ExchangeError::SubjectTokenType(other.unwrap_or("(none)").to_owned())),
    }
    if let Some(t) = get("requested_token_type").filter(|t| *t != ACCESS_TOKEN_TYPE) {
        return Err(ExchangeError::RequestedTokenType(t.to_owned()));
    }
    if get("actor_token").is_some() {
        return Err(ExchangeError::ActorToken);
    }
    let target = match (get("audience"), get("resource")) {
        (Some(a), Some(r)) if a != r => return Err(ExchangeError::TwoTargets),
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => return Err(ExchangeError::NoTarget),
    };
    Ok(ExchangeRequest { subject_token: subject_token.to_owned(), target: target.to_owned() })
}

/// What the subject token says, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct SubjectToken {
    /// Its grant (revoking it revokes the exchanged token too).
    pub gid: String,
    /// Its expiry.
    pub exp: i64,
    /// Its scope.
    pub scope: String,
    /// `acr`.
    pub acr: String,
    /// `auth_time`.
    pub auth_time: i64,
    /// Its actors, if any.
    pub act: Option<Act>,
    /// Its IHE IUA/BPPC extensions, carried over as they are.
    pub extensions: Option<Value>,
    /// Its consent, carried over as it is.
    pub consent: Option<Value>,
}

/// Check a verified token's `typ` and claims: an RFC 9068 access token of `issuer` for `caller` (its `aud`: a
/// token the caller got at sign-in, or one exchanged for it, so chains form), alive at `now`.
pub fn subject(
    typ: Option<&str>,
    claims: &Value,
    issuer: &str,
    caller: &str,
    now: i64,
) -> Result<SubjectToken, ExchangeError> {
    let str_of = |k: &str| claims.get(k).and_then(Value::as_str);
    if typ != Some("at+jwt") || str_of("iss") != Some(issuer) {
        return Err(ExchangeError::SubjectToken("it is not an access token of this provider"));
    }
    if str_of("aud") != Some(caller) {
        return Err(ExchangeError::SubjectToken("it is for another client: exchange only tokens issued for you"));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now {
        return Err(ExchangeError::SubjectToken("it has expired"));
    }
    let act = match claims.get("act") {
        Some(a) => Some(
            serde_json::from_value(a.clone()).map_err(|_| ExchangeError::SubjectToken("its act claim is malformed"))?,
        ),
        None => None,
    };
    Ok(SubjectToken {
        gid: str_of("gid").unwrap_or_default().to_owned(),
        exp,
        scope: str_of("scope").unwrap_or_default().to_owned(),
        acr: str_of("acr").unwrap_or_default().to_owned(),
        auth_time: claims.get("auth_time").and_then(Value::as_i64).unwrap_or(0),
        act,
        extensions: claims.get("extensions").cloned(),
        consent: claims.get("consent").cloned(),
    })
}

/// Whether a client whose registration lists `allowed` may exchange to `target`.
pub fn allowed(allowed: &[String], target: &str) -> Result<(), ExchangeError> {
    if allowed.is_empty() {
        return Err(ExchangeError::NotAllowed);
    }
    if !allowed.iter().any(|a| a == target) {
        return Err(ExchangeError::Audience(target.to_owned()));
    }
    Ok(())
}

/// The exchanged token's expiry: [`EXCHANGED_SECS`] (or the access token lifetime, if shorter) from `now`,
/// never after the subject token's.
pub fn expiry(now: i64, access_token_secs: i64, subject_exp: i64) -> i64 {
    (now + access_token_secs.min(EXCHANGED_SECS)).min(subject_exp)
}

/// The answer to an accepted exchange (RFC 8693 §2.2.1).
#[derive(Debug)]
pub struct Exchanged {
    /// The new access token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// The scope, the subject token's.
    pub scope: String,
    /// `DPoP` for a token bound to a DPoP key (RFC 9449 §5), else `Bearer` (a certificate-bound one too, RFC
    /// 8705 §3).
    pub token_type: &'static str,
}

impl Exchanged {
    /// The JSON body: no refresh token, no ID token.
    pub fn body(&self) -> Value {
        json!({ "access_token": self.access_token, "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": self.token_type, "expires_in": self.expires_in, "scope": self.scope })
    }
}

/// Everything a token exchange reads from its request: the form (the exchange and the client's credentials),
/// the connection's certificate (mTLS listener) and the `DPoP` header.
#[derive(Debug)]
pub struct ExchangeCall<'a> {
    /// The form.
    pub form: HashMap<String, String>,
    /// The client's credentials: the form's, with the `Authorization` header's HTTP Basic ones.
    pub credentials: ClientCredentials,
    /// The TLS client certificate (DER), when the client presented one.
    pub certificate: Option<&'a [u8]>,
    /// The `DPoP` header's proof (RFC 9449), when the request carried one, or why it cannot be one.
    pub dpop: Option<Result<String, DpopError>>,
}

impl<'a> ExchangeCall<'a> {
    /// Read an exchange's form and certificate (the adapter adds the `Authorization` header and the proof).
    pub fn parse(form: HashMap<String, String>, certificate: Option<&'a [u8]>) -> Self {
        Self { credentials: ClientCredentials::from_form(&form), form, certificate, dpop: None }
    }
}

/// `POST /token` with `grant_type` [`GRANT_TYPE`] at `now`: authenticate the client (a confidential one,
/// [`EXCHANGE`]), check its DPoP proof if it sent one, the request, the subject token, its binding and its grant,
/// and sign the new token. Issued and refused exchanges are audited ([`ACTION`]); a refusal is returned as the
/// OAuth error to answer, and nothing is issued.
pub async fn token_exchange(ctx: Context<'_>, call: ExchangeCall<'_>, now: i64) -> Result<Exchanged, OAuthError> {
    let provider = ctx.provider;
    let (form, credentials, certificate) = (&call.form, &call.credentials, call.certificate);
    let audiences = provider.audiences(EXCHANGE.path);
    let presented = Presented { credentials, certificate, audiences, now };
    let caller = match client::authenticate(&provider.clients, &presented, EXCHANGE.callers).await {
        Ok(c) => c,
        Err(e) => return Err(crate::oidc::refused::client(ctx.refusals, EXCHANGE.path, credentials, e).await),
    };
    let target = form.get("audience").or_else(|| form.get("resource")).map(|t| named(Some(t)));
    let more = |gid: Option<String>| json!({ "grant_type": GRANT_TYPE, "audience": target, "grant": gid });
    let deny = |e: OAuthError, gid| crate::oidc::refused::request(ctx.refusals, &caller.id, ACTION, e, more(gid));
    // The proof as the token endpoint takes one (`htu` this endpoint, the nonce, never over mutual TLS), its jti
    // spent at once: an exchange has no batch to join (D107).
    let proof = match provider.dpop_post_proof(ctx.secret, call.dpop.as_ref(), certificate, EXCHANGE.path, now) {
        Ok(Some(proof)) => match provider.dpop_record(&proof, now).await {
            Ok(()) => Some(proof),
            Err(e) => return Err(deny(e.oauth(), None).await),
        },
        Ok(None) => None,
        Err(e) => return Err(deny(e, None).await),
    };
    let possession = Possession { dpop_jkt: proof.as_ref().map(|p| p.jkt.as_str()), certificate };
    match issue(ctx, &caller, form, possession, now).await {
        Ok((exchanged, detail)) => {
            let actor = format!("oidc:{}", caller.id);
            crate::audit::audit(
                provider.store.as_ref(),
                provider.clock.now_unix_ms(),
                &actor,
                ACTION,
                &caller.id,
                hcpki_ca::audit::Outcome::Ok,
                detail,
            )
            .await;
            Ok(exchanged)
        }
        Err(Failed::Refused(e, gid)) => Err(deny(e.oauth(), gid).await),
        Err(Failed::Server(e)) => Err(e),
    }
}

/// Why [`issue`] gave no token.
enum Failed {
    /// Refused (with the subject token's grant, once known).
    Refused(ExchangeError, Option<String>),
    /// Our failure.
    Server(OAuthError),
}

impl From<ExchangeError> for Failed {
    fn from(e: ExchangeError) -> Self {
        Self::Refused(e, None)
    }
}

impl From<hcpki_ca::store::StoreError> for Failed {
    fn from(e: hcpki_ca::store::StoreError) -> Self {
        Self::Server(e.into())
    }
}

impl From<OAuthError> for Failed {
    fn from(e: OAuthError) -> Self {
        Self::Server(e)
    }
}

/// The checks and the new token, with the audit detail of the issue.
async fn issue(
    ctx: Context<'_>,
    caller: &client::Client,
    form: &HashMap<String, String>,
    possession: Possession<'_>,
    now: i64,
) -> Result<(Exchanged, Value), Failed> {
    let provider = ctx.provider;
    let request = parse(form)?;
    allowed(&caller.config.token_exchange_audiences, &request.target)?;
    let (typ, claims) = provider
        .verify_own(&request.subject_token)
        .map_err(|_| ExchangeError::SubjectToken("its signature does not verify against this provider's keys"))?;
    let subject = subject(typ.as_deref(), &claims, &provider.issuer, &caller.id, now)?;
    let refused = |e: ExchangeError| Failed::Refused(e, Some(subject.gid.clone()));
    // Held to the subject token's binding, whatever else is wrong with the request.
    let bound = Binding::of(&claims).map_err(|e| refused(e.into()))?;
    let cnf = sender::carried(&bound, possession).map_err(|e| refused(e.into()))?;
    if let (Binding::Certificate(_), Some(der)) = (&bound, possession.certificate)
        && let Some(why) = crate::oidc::bound_certificate::withdrawn(provider.store.as_ref(), der, now).await?
    {
        return Err(refused(SenderError::Withdrawn(why).into()));
    }
    let grant = provider.store.oidc_grant(&subject.gid).await?;
    let Some(grant) = grant.filter(|g| g.state == "active") else {
        return Err(refused(ExchangeError::SubjectToken("its grant was revoked (signed out, delegation ended)")));
    };
    // The request's `audience` names the target: a text that is no client id is no client to issue for (400).
    let target = match OidcClientId::parse(&request.target) {
        Ok(id) => provider.clients.load(&id).await?,
        Err(_) => None,
    };
    let Some(target) = target else {
        return Err(refused(ExchangeError::UnknownAudience(request.target.clone())));
    };
    // The target service has subjects of its own (pairwise per service): recomputed from the people behind the
    // grant, the principal and any delegate, never copied from the caller's token.
    let Some(session) = provider.store.portal_session_record(&grant.session_hash).await? else {
        return Err(refused(ExchangeError::SubjectToken("the sign-in it came from is gone")));
    };
    let session = crate::session::decode(session)
        .map_err(|e| Failed::Server(OAuthError::server(format!("session of grant {}: {e}", grant.id))))?;
    // The target service's rules apply as if the person had signed in to it: their credential and
    // qualification (a delegate's: the physician's, under a delegation that must cover the target too), at the
    // facility of their sign-in as the registry holds it now.
    let delegation = subject.act.as_ref().and_then(innermost_delegation);
    let (principal, person) = match delegation {
        Some(id) => match provider.store.delegation(id).await? {
            Some(d) => {
                let target_service = target.config.service.as_str();
                let person = crate::delegation::acting::judge(&d, &session, target_service, now)
                    .map_err(|e| refused(ExchangeError::Delegation(e.to_string())))?;
                (d.physician_key, person)
            }
            None => return Err(refused(ExchangeError::SubjectToken("the delegation it was issued under is gone"))),
        },
        None => (session.person_key.clone(), session.subject.clone()),
    };
    let facility = match &session.facility_id {
        Some(id) => provider.store.facility(id).await?.as_ref().map(crate::policy::FacilityContext::from),
        None => None,
    };
    let services = ctx.services.current().await.map_err(|e| Failed::Server(OAuthError::server(e)))?;
    let Some(service) = services.get(&target.config.service) else {
        return Err(refused(ExchangeError::UnknownAudience(request.target.clone())));
    };
    // The target service's rule on clients holds for whoever reaches it through an exchange, as for its sign-ins
    // (D102): a service that admits key-based clients only is not reached by a secret client's exchange.
    if !caller.config.auth.admitted_by(service.clients) {
        return Err(refused(ExchangeError::CallerNotAdmitted {
            service: service.id.clone(),
            rule: service.clients.as_str(),
            auth: caller.config.auth.as_str(),
        }));
    }
    if let crate::policy::Decision::Deny(why) = crate::policy::decide(&person, facility.as_ref(), service) {
        return Err(refused(ExchangeError::Policy(why.to_string())));
    }
    // A service that requires a fresh patient-presence proof for record access (D148) gets one only with its own
    // proof at `/token`: an exchange carries none (the proof names the patient per service and is spent once), so
    // reaching the service through another's token would skip the rule.
    if service.require_patient_presence {
        return Err(refused(ExchangeError::PresenceRequired(service.id.clone())));
    }
    let sector = target.sector();
    let linked = provider.store.person_key_linked(&principal).await?;
    let sub = ctx.secret.pairwise_sub(&sector, linked.as_deref().unwrap_or(&principal));
    let delegate_sub = ctx.secret.pairwise_sub(&sector, &session.person_key);
    let before = subject.act.clone().map(|a| re_sector(a, &delegate_sub));
    let act = Act::service(&caller.id, before);
    if act.depth() > MAX_ACTORS {
        return Err(refused(ExchangeError::ChainTooLong));
    }
    let act_value = act.to_value();
    // Purpose of use and break-glass (D94) are the grant's, as in every token made from it.
    let data = crate::oidc::GrantData::of(&grant)?;
    let exp = expiry(now, provider.lifetimes.access_token, subject.exp);
    let claims = AccessClaims {
        acr: &subject.acr,
        act: Some(&act_value),
        aud: &target.id,
        auth_time: subject.auth_time,
        break_glass: data.break_glass.as_ref().map(Into::into),
        client_id: &caller.id,
        cnf,
        consent: subject.consent.clone(),
        exp,
        extensions: subject.extensions.clone(),
        gid: &grant.id,
        iat: now,
        iss: &provider.issuer,
        jti: random_token(16)?,
        purpose_of_use: data.purpose_of_use,
        scope: &subject.scope,
        sub: &sub,
        patient_presence: None,
    };
    let token_type = if claims.cnf.as_ref().is_some_and(|c| c.jkt.is_some()) { "DPoP" } else { "Bearer" };
    let access_token = provider.sign(target.config.id_token_signed_response_alg, "at+jwt", &claims)?;
    let binding = match &claims.cnf {
        Some(c) if c.jkt.is_some() => "dpop",
        Some(_) => "certificate",
        None => "none",
    };
    let detail = json!({ "audience": target.id, "grant": grant.id, "principal": principal,
        "actors": act.depth(), "delegation": delegation, "exp": exp, "binding": binding });
    Ok((Exchanged { access_token, expires_in: exp - now, scope: subject.scope, token_type }, detail))
}

/// The delegation the chain's person actor acts under, if any.
fn innermost_delegation(act: &Act) -> Option<&hcpki_model::DelegationId> {
    act.delegation.as_ref().map(|d| &d.id).or_else(|| act.act.as_deref().and_then(innermost_delegation))
}

/// `act` with every person's subject replaced by `delegate_sub` (the target service's subject of the one person
/// who can act in a chain: the delegate).
fn re_sector(mut act: Act, delegate_sub: &str) -> Act {
    if act.sub.is_some() {
        act.sub = Some(delegate_sub.to_owned());
    }
    act.act = act.act.map(|inner| Box::new(re_sector(*inner, delegate_sub)));
    act
}

/// Why a token exchange is refused; the OAuth error each maps to is RFC 8693 §2.2.2's or RFC 6749 §5.2's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// No `subject_token`.
    #[error("subject_token is missing: send the user's access token you hold")]
    NoSubjectToken,
    /// A `subject_token_type` other than an access token.
    #[error("subject_token_type {0} is not supported: send urn:ietf:params:oauth:token-type:access_token")]
    SubjectTokenType(String),
    /// A `requested_token_type` other than an access token.
    #[error("requested_token_type {0} is not supported: only access tokens are issued")]
    RequestedTokenType(String),
    /// An `actor_token` (the caller is its own actor: its client authentication says who it is).
    #[error("actor_token is not supported: the authenticated client is the actor")]
    ActorToken,
    /// Neither `audience` nor `resource`.
    #[error("name the service to call: audience (its client_id)")]
    NoTarget,
    /// `audience` and `resource` name different services.
    #[error("audience and resource name different services: send one")]
    TwoTargets,
    /// The subject token is unacceptable.
    #[error("the subject_token is not acceptable: {0}")]
    SubjectToken(&'static str),
    /// The caller's registration lists no audiences.
    #[error(
        "this client may not exchange tokens: ask the operator to register the services it calls (--token-exchange-audience)"
    )]
    NotAllowed,
    /// The target is not among the caller's audiences.
    #[error(
        "this client may not exchange tokens for {0}: its registration does not list it (--token-exchange-audience)"
    )]
    Audience(String),
    /// The target is no registered client.
    #[error("there is no client {0} to issue a token for")]
    UnknownAudience(String),
    /// The delegation behind the subject token does not hold for the target service.
    #[error("the delegation behind the subject_token does not allow this: {0}")]
    Delegation(String),
    /// The target service's rules refuse the person.
    #[error("the service asked for does not admit this user: {0}")]
    Policy(String),
    /// The target service requires a patient-presence proof, which an exchange cannot carry.
    #[error(
        "service {0} requires a fresh patient-presence proof (require_patient_presence): its own client must \
         redeem a grant at /token with the proof; it is not reached through token exchange"
    )]
    PresenceRequired(String),
    /// Too many actors.
    #[error("the chain of services acting for the user is too long (more than 4)")]
    ChainTooLong,
    /// The target service's `clients` rule does not admit the caller's way of authenticating.
    #[error(
        "service {service} admits clients = \"{rule}\" only, and this client authenticates with {auth}: it may not \
         reach the service through an exchange either"
    )]
    CallerNotAdmitted {
        /// The target's service.
        service: String,
        /// Its rule.
        rule: &'static str,
        /// The caller's method.
        auth: &'static str,
    },
    /// The subject token's sender constraint does not hold for this request.
    #[error(transparent)]
    Sender(#[from] SenderError),
}

impl ExchangeError {
    /// The OAuth error answered.
    pub fn oauth(&self) -> OAuthError {
        let code = match self {
            Self::NotAllowed => "unauthorized_client",
            // RFC 8693 §2.2.2: unwilling to issue a token for the target service.
            Self::Audience(_)
            | Self::UnknownAudience(_)
            | Self::NoTarget
            | Self::TwoTargets
            | Self::Delegation(_)
            | Self::Policy(_)
            | Self::PresenceRequired(_)
            | Self::CallerNotAdmitted { .. } => "invalid_target",
            Self::Sender(e) => e.error(),
            _ => "invalid_request",
        };
        OAuthError::new(code, self.to_string())
    }
}

#[cfg(test)]
mod tests;
