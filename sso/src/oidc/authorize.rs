//! The authorization endpoint (code flow only, PKCE S256 required, exact redirect URI match, `prompt`,
//! `max_age`) and pushed authorization requests (RFC 9126), which a client's registration or the server can
//! make the only way in.
//!
//! HTTP-free: [`authorize`] and [`par`] take what the request carried (its parameters, the browser's session,
//! the connection's certificate) and `now`, and answer an [`AuthorizeAnswer`] or the pushed request's URI; the
//! axum adapters are `server::http::oidc::authorize`.

use super::break_glass::{self, BreakGlass, Confirmed, Pending};
use super::client::{self, Client, ClientCredentials, Endpoint, Presented};
use super::{Context, GrantData, OAuthError, Provider, hash_secret, random_token};
use crate::audit::audit;
use crate::delegation::acting;
use crate::facility;
use crate::policy::{self, AssuranceLevel, ClientRule, Decision, DenyReason};
use crate::problem::{Cure, Problem};
use crate::refusals;
use crate::session::Session;
use crate::uri::percent;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::GrantRecord;
use hcpki_model::OidcClientId;
use hcpki_pkix::time::CLOCK_LEEWAY_SECS;
use hcpki_pkix::time::UnixTime;
use serde_json::json;
use std::collections::HashMap;

pub mod forced_login;
pub mod request;

/// `request_uri` prefix of pushed requests (RFC 9126 §2.2).
const PAR_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// The return trip's forced-login marker ([`forced_login`]).
const LOGIN_AFTER: &str = forced_login::PARAM;

/// Everything `/authorize` reads from a request.
#[derive(Debug)]
pub struct AuthorizeCall<'a> {
    /// The query (GET) or form (POST) parameters.
    pub params: HashMap<String, String>,
    /// The browser's live session (its cookie's), if any; looked up by the caller through [`SessionLookup`].
    pub session: SessionLookup<'a>,
    /// The connection's TLS client certificate (DER): a facility PC's, when presented.
    pub certificate: Option<&'a [u8]>,
    /// A break-glass the person confirmed on the portal's page (`params` are then the request it kept).
    pub confirmed: Option<Confirmed>,
}

/// How `/authorize` finds the browser's session: only once the request itself is known good, so a refused
/// request costs no session read.
#[derive(Debug)]
pub struct SessionLookup<'a> {
    /// The sessions.
    pub sessions: &'a crate::session::Sessions,
    /// The value of the request's session cookie, if it sent one.
    pub cookie: Option<String>,
}

/// How the authorization endpoint answers the browser.
#[derive(Debug)]
#[must_use]
pub enum AuthorizeAnswer {
    /// Send the browser on (303 See Other): to the client's redirect URI with a code or an error, or to the
    /// login page.
    Redirect(String),
    /// An error page: the client or its redirect URI is not known good (RFC 6749 §4.1.2.1).
    Refused {
        /// Which status.
        status: PageStatus,
        /// What the page says.
        message: String,
    },
    /// A page saying what went wrong for the person and what to do (issue #26): the connection's facility
    /// refused, or a service the policy refused this login (with the way back to the service, which then gets
    /// `access_denied`).
    Problem {
        /// The problem.
        problem: Problem,
        /// The refusal in full (English, as audited), shown under the problem.
        detail: Option<String>,
    },
    /// The provider cannot answer (500 or 503), as an OAuth error.
    Failed(OAuthError),
}

/// The status of an [`AuthorizeAnswer::Refused`] page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageStatus {
    /// 400: the request is not one to act on.
    BadRequest,
}

impl AuthorizeAnswer {
    fn failed(e: impl Into<OAuthError>) -> Self {
        Self::Failed(e.into())
    }
}

/// Answer an authorization request at `now` (plain or pushed, GET or POST).
pub async fn authorize(ctx: Context<'_>, call: AuthorizeCall<'_>, now: i64) -> AuthorizeAnswer {
    match run(ctx, call, now).await {
        Ok(answer) | Err(answer) => answer,
    }
}

async fn run(ctx: Context<'_>, call: AuthorizeCall<'_>, now: i64) -> Result<AuthorizeAnswer, AuthorizeAnswer> {
    let provider = ctx.provider;
    let query = call.params;
    // A pushed request replaces the query (only client_id may accompany it). The forced-login marker's key
    // comes from the query either way; it is only a key, looked up below.
    // A confirmed break-glass request comes from the server's own store, as a pushed one does.
    let pushed = query.contains_key("request_uri") || call.confirmed.is_some();
    let marker_key = query.get(LOGIN_AFTER).filter(|v| !v.is_empty()).cloned();
    let mut params = match query.get("request_uri") {
        Some(uri) => {
            let key = uri.strip_prefix(PAR_PREFIX).unwrap_or_default();
            let stored = provider
                .store
                .oidc_once_take("par", key, UnixTime::from_secs(now))
                .await
                .map_err(AuthorizeAnswer::failed)?;
            let named = query.get("client_id").map(String::as_str);
            let Some(stored) = stored else {
                let why = "the request_uri is unknown, used or expired: start again";
                return Err(refused_page(ctx, named, "invalid_request_uri", why, None).await);
            };
            let p: HashMap<String, String> =
                serde_json::from_str(&stored).map_err(|e| AuthorizeAnswer::Failed(OAuthError::server(e)))?;
            // RFC 9126 §4: the request_uri is only good for the client that pushed it (it is spent either way).
            if query.get("client_id") != p.get("client_id") {
                let why = "client_id differs from the pushed request's: a request_uri is good only for its client";
                return Err(refused_page(ctx, named, "invalid_request_uri", why, None).await);
            }
            p
        }
        None => query,
    };
    // Whatever the request carries under the marker's name is not the request's: dropped before anything reads
    // or keeps the parameters.
    params.remove(LOGIN_AFTER);
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(client_id) = get("client_id") else {
        return Err(refused_page(ctx, None, "invalid_request", "client_id is missing", None).await);
    };
    // The client is named here, once: a text that is no client id is malformed, shown as the unknown one is.
    let typed = match OidcClientId::parse(client_id) {
        Ok(id) => id,
        Err(e) => return Err(refused_page(ctx, Some(client_id), "invalid_request", &e.to_string(), None).await),
    };
    let client = provider.authorizing_client(&typed).await.map_err(AuthorizeAnswer::Failed)?;
    let Some(client) = client else {
        return Err(refused_page(ctx, Some(client_id), "invalid_request", "unknown client_id", None).await);
    };
    let console_callback = provider.console_callback.as_deref();
    if client.id == client::CONSOLE_CLIENT_ID && console_callback.is_none() {
        let why = "console sign-in through the portal is off: set [console] url in hcpki.toml to the console's \
                   external URL (https://host[:port])";
        return Err(refused_page(ctx, Some(client_id), "invalid_request", why, Some(get("redirect_uri"))).await);
    }
    // Errors go back to the client only once the redirect URI is known to be registered (RFC 6749 §4.1.2.1).
    let Some(redirect_uri) = get("redirect_uri").filter(|r| client.accepts_redirect(r, console_callback)) else {
        let why = "redirect_uri is missing or not registered for this client (exact match)";
        return Err(refused_page(ctx, Some(client_id), "invalid_request", why, Some(get("redirect_uri"))).await);
    };
    let back = Back { redirect_uri, state: get("state"), issuer: &provider.issuer };
    let refuse = |error, why| refused_back(ctx, &back, &client.id, error, why);
    // A client that must push (RFC 9126 §4; FAPI 2.0 Security Profile §5.3.2.2: "shall reject authorization
    // requests sent without PAR") is refused a plain request. The refusal goes back to the client rather than
    // to an error page: the client and this exact redirect URI are registered, which is when RFC 6749
    // §4.1.2.1 sends errors to the client; so the one party who can fix the integration learns it, as the
    // standard error its library reads, and the person lands back at the service instead of at a dead end.
    // Nothing of the request is acted on, and the redirect carries only the error, the request's own `state`
    // and `iss`: nothing the sender of the request did not know.
    if !pushed && let Some(by) = client.must_push(provider.require_par) {
        let why = format!(
            "this client must push its authorization requests (PAR, RFC 9126): POST them to the \
             pushed_authorization_request_endpoint and send only client_id and request_uri here (required by {})",
            by.as_str()
        );
        return Err(refuse("invalid_request", why.as_str()).await);
    }
    let request = match request::parse(&params) {
        Ok(request) => request,
        Err(e) => return Err(refuse(e.code(), &e.to_string()).await),
    };
    let purpose = request.purpose;
    let current = call.session.find(now).await.map_err(AuthorizeAnswer::failed)?;
    let marker = match &marker_key {
        Some(key) => {
            forced_login::redeem(provider.store.as_ref(), key, &params, now).await.map_err(AuthorizeAnswer::failed)?
        }
        None => None,
    };
    if marker_key.is_some() && marker.is_none() {
        // Not a marker this server keeps for this request (made up, spent, expired, another request's): a try
        // at skipping prompt=login or max_age, or a reload of a spent return trip. Either way the request is
        // decided without it (the login page when forced), and audited.
        let actor = current.as_ref().map_or_else(|| ANONYMOUS.to_owned(), |s| format!("portal:{}", s.person_key));
        let detail = json!({ "client": client.id, "error": "login_required", "reason": FORGED_MARKER });
        ctx.refusals.record(&actor, "oidc.authorize", &client.id, detail).await;
    }
    // After a login forced by prompt=login or max_age, the session must be that login: not the session found
    // stale, and made at or after the redirect, less the clock leeway (the login may have been made by a
    // replica whose clock runs behind this one's, and without it the browser would go round the login page
    // again and again); otherwise prompt=login refuses any session and max_age an older one (max_age=0 any,
    // like prompt=login, whatever the clock's resolution). The RP checks auth_time in the ID token as well
    // (OIDC Core §3.1.2.1).
    let stale = current.as_ref().map(|s| s.id_hash.clone());
    let session = current.filter(|s| match &marker {
        Some(m) => m.satisfied_by(&s.id_hash, s.auth_time),
        None => {
            request.prompt.split(' ').all(|p| p != "login")
                && request.max_age.is_none_or(|m| m > 0 && now - s.auth_time <= m)
        }
    });
    let Some(session) = session else {
        if request.prompt.split(' ').any(|p| p == "none") {
            return Err(back.error("login_required", "no session (or not fresh enough) and prompt=none"));
        }
        return Err(to_login(provider, &params, pushed, stale.as_deref(), now).await);
    };
    let store = provider.store.as_ref();
    let facility = match facility::for_certificate(store, call.certificate, session.facility_id.as_ref(), now)
        .await
        .map_err(AuthorizeAnswer::failed)?
    {
        Ok(f) => f,
        Err(refusal) => {
            let detail = json!({ "client": client.id, "reason": refusal.reason });
            let actor = format!("portal:{}", session.person_key);
            ctx.refusals.record(&actor, "oidc.authorize", &client.id, detail).await;
            return Err(AuthorizeAnswer::Problem { problem: refusal.problem, detail: Some(refusal.reason) });
        }
    };
    let services = ctx.services.current().await.map_err(AuthorizeAnswer::failed)?;
    let actor = format!("portal:{}", session.person_key);
    // The console's client is built in: who may use the console is its grants' decision (D42), not a service's.
    let console = (client.id == client::CONSOLE_CLIENT_ID).then(policy::Service::console);
    let Some(service) = console.as_ref().or_else(|| services.get(&client.config.service)) else {
        // The operator removed the service (`hcpki service remove`): its clients are refused, audited.
        let reason = format!("service {} is not offered (removed by the operator)", client.config.service);
        let detail =
            json!({ "client": client.id, "service": client.config.service, "decision": format!("denied: {reason}") });
        audit_decision(provider, &actor, &client.id, Outcome::Denied, detail).await;
        return Err(back.error("access_denied", &reason));
    };
    // The service's rule on clients (issue #30): a public client, or a secret one, where the service wants more.
    if !client.config.auth.admitted_by(service.clients) {
        let reason = format!(
            "service {} admits clients = \"{}\" only, and client {} authenticates with {}",
            service.id,
            service.clients.as_str(),
            client.id,
            client.config.auth.as_str()
        );
        let detail = json!({ "client": client.id, "service": service.id, "decision": format!("denied: {reason}") });
        audit_decision(provider, &actor, &client.id, Outcome::Denied, detail).await;
        return Err(back.error("unauthorized_client", &reason));
    }
    // A staff member acting for a physician (D95): the physician is the principal the policy decides on.
    let acting =
        match acting::find(provider.store.as_ref(), provider.clock.as_ref(), &session, &service.id, &client.id, now)
            .await
        {
            Ok(acting) => acting,
            Err(acting::FindError::Refused(why)) => {
                return Err(back.error("access_denied", &why.to_string()));
            }
            Err(acting::FindError::Store(e)) => return Err(AuthorizeAnswer::failed(e)),
        };
    let decision = policy::decide(acting.as_ref().map_or(&session.subject, |a| &a.subject), facility.as_ref(), service);
    // How the client authenticates is in every sign-in's entry: a reviewer sees which sessions went to
    // secret or public clients (issue #30).
    let detail = json!({ "client": client.id, "client_auth": client.config.auth.as_str(), "service": service.id,
        "decision": decision.to_string(), "facility": facility.as_ref().map(|f| f.id.to_string()) });
    let claims = match decision {
        Decision::Allow(claims) => claims,
        Decision::Deny(reason) => {
            audit_decision(provider, &actor, &client.id, Outcome::Denied, detail).await;
            let denied = back.error("access_denied", &reason.to_string());
            // With prompt=none no page may be shown (OIDC Core §3.1.2.1): the client hears it at once. Else
            // the person reads why, and the way back to the service carries the same answer.
            let AuthorizeAnswer::Redirect(to) = &denied else { return Err(denied) };
            if request.prompt.split(' ').any(|p| p == "none") {
                return Err(denied);
            }
            let cure = cure(&reason, session.subject.assurance(facility.as_ref()));
            let problem = Problem::ServiceRefused {
                service: service.name.clone(),
                cure,
                reason: reason.to_string(),
                back: Some(to.clone()),
            };
            return Err(AuthorizeAnswer::Problem { problem, detail: None });
        }
    };
    // The purpose of use is the service's to accept (D94), decided after the policy so that a person the policy
    // refuses reads that reason; a purpose the service does not take goes back to the client that asked for it.
    if !service.purposes.contains(&purpose) {
        let accepted: Vec<&str> = service.purposes.iter().map(|p| p.code()).collect();
        let reason = format!(
            "service {} does not accept purpose_of_use {purpose}: it accepts {}",
            service.id,
            accepted.join(", ")
        );
        let detail = json!({ "client": client.id, "service": service.id, "purpose_of_use": purpose,
            "decision": format!("denied: {reason}"), "facility": facility.as_ref().map(|f| f.id.to_string()) });
        audit_decision(provider, &actor, &client.id, Outcome::Denied, detail).await;
        return Err(back.error("access_denied", &reason));
    }
    let mut detail = detail;
    if let Some(map) = detail.as_object_mut() {
        map.insert("purpose_of_use".into(), json!(purpose));
    }
    // Break-glass (D94): a card holder with a qualification, who confirmed it on the portal's page with a reason.
    let break_glass = match purpose.is_break_glass() {
        false => None,
        true => {
            let facility_id = facility.as_ref().map(|f| f.id.to_string());
            if let Err(why) = break_glass::eligible(&session.subject) {
                let detail = json!({ "client": client.id, "service": service.id, "facility": facility_id,
                    "reason": why.code(), "message": why.to_string() });
                audit_as(provider, &actor, break_glass::AUDIT_ACTION, &client.id, Outcome::Denied, detail).await;
                return Err(back.error("access_denied", &why.to_string()));
            }
            match call.confirmed.filter(|c| c.session_hash == session.id_hash) {
                Some(confirmed) => {
                    let used = BreakGlass { reason: confirmed.reason.as_str().to_owned(), confirmed_at: now };
                    let detail = json!({ "client": client.id, "service": service.id, "facility": facility_id,
                        "purpose_of_use": purpose, "name": session.subject.name(),
                        "hc_role": session.subject.role().map(|r| r.code()), "reason": used.reason,
                        "review": "pending" });
                    audit_as(provider, &actor, break_glass::AUDIT_ACTION, &client.id, Outcome::Ok, detail.clone())
                        .await;
                    if let Some(hook) = &provider.break_glass_webhook {
                        hook.notify(provider.store.clone(), provider.clock.clone(), &actor, detail);
                    }
                    Some(used)
                }
                None if request.prompt.split(' ').any(|p| p == "none") => {
                    let detail = json!({ "client": client.id, "service": service.id, "facility": facility_id,
                        "reason": "prompt_none", "message": "prompt=none leaves no room for the confirmation page" });
                    audit_as(provider, &actor, break_glass::AUDIT_ACTION, &client.id, Outcome::Denied, detail).await;
                    return Err(back.error(
                        "interaction_required",
                        "break-glass (purpose_of_use EMER) needs the person to confirm on the portal's page",
                    ));
                }
                None => return Err(confirmation_page(provider, &params, &session.id_hash, now).await),
            }
        }
    };
    // The allowed decision's entry goes in with the grant it makes (one write turn, issue #52).
    let allowed = AuditEvent {
        actor: actor.clone(),
        action: "oidc.authorize".into(),
        target: client.id.to_string(),
        outcome: Outcome::Ok,
        detail,
    };
    let level = session.subject.assurance(facility.as_ref());
    // A card key linked to its form before trust-anchor binding keeps the `sub` relying parties knew.
    // Acting for a physician (D95): the physician is the principal (`sub`, the IUA subject), the staff member `act`.
    let principal = acting.as_ref().map_or(session.person_key.as_str(), |a| a.principal_key());
    let subject = acting.as_ref().map_or(&session.subject, |a| &a.subject);
    let linked = store.person_key_linked(principal).await.map_err(AuthorizeAnswer::failed)?;
    let mut service_claims = super::service_claims(&claims);
    if service.claims.contains(&policy::Claim::IheIua) {
        let home = provider.home_community_id.as_ref();
        let iua = super::iua::claims(subject, facility.as_ref(), principal, purpose, home);
        if let Some(map) = service_claims.as_object_mut() {
            map.insert("extensions".into(), json!({ "ihe_iua": iua }));
        }
    }
    let data = GrantData {
        sub: ctx.secret.pairwise_sub(&client.sector(), linked.as_deref().unwrap_or(principal)),
        claims: match &acting {
            Some(a) => a.claims(service_claims, ctx.secret.pairwise_sub(&client.sector(), &a.delegate_key)),
            None => service_claims,
        },
        acr: level.acr().to_owned(),
        amr: json!(session.subject.amr()),
        auth_time: session.auth_time,
        nonce: request.nonce.map(str::to_owned),
        scope: request.scope.to_owned(),
        code_challenge: request.code_challenge.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        sid: super::sid(&session.id_hash),
        session_expires_at: Some(session.expires_at),
        purpose_of_use: purpose,
        break_glass,
        // A code asked for with `dpop_jkt` (or pushed with a proof) is redeemed only with that key (RFC 9449 §10).
        dpop_jkt: request.dpop_jkt.map(str::to_owned),
    };
    let code =
        issue_code(provider, &client, &session.id_hash, &data, &allowed, now).await.map_err(AuthorizeAnswer::Failed)?;
    Ok(back.with(&[("code", &code)]))
}

/// What would let a login the policy refused open the service: a card login where the login is a password's
/// (or a card without the needed kind), a facility PC where the connection lacks one, else the service's
/// conditions, which the person cannot change here.
fn cure(reason: &DenyReason, have: AssuranceLevel) -> Cure {
    match reason {
        DenyReason::NoFacility => Cure::FacilityPc,
        // A password's or a passkey's login: a card is what raises it (a facility PC raises only a card's).
        DenyReason::AssuranceTooLow { .. } if have < AssuranceLevel::CardPin => Cure::CardLogin,
        DenyReason::AssuranceTooLow { .. } => Cure::FacilityPc,
        DenyReason::JpkiNotAccepted => Cure::CardLogin,
        DenyReason::NoQualification { .. } if have < AssuranceLevel::CardPin => Cure::CardLogin,
        _ => Cure::Conditions,
    }
}

/// Audit the policy's decision on an authorization request (`oidc.authorize`), at the time it is written.
async fn audit_decision(provider: &Provider, actor: &str, client: &str, outcome: Outcome, detail: serde_json::Value) {
    audit_as(provider, actor, "oidc.authorize", client, outcome, detail).await;
}

/// Audit `action` on `client`'s request at the time it is written.
async fn audit_as(
    provider: &Provider,
    actor: &str,
    action: &str,
    client: &str,
    outcome: Outcome,
    detail: serde_json::Value,
) {
    audit(provider.store.as_ref(), provider.clock.now_unix_ms(), actor, action, client, outcome, detail).await;
}

/// Keep a break-glass request for its confirmation page (single use, for the session `session_hash`, as long as
/// a login's return trip) and send the browser there. `prompt` and `max_age` are dropped from what is kept: the
/// session was found fresh enough now, and the confirmed request is decided in that same session.
async fn confirmation_page(
    provider: &Provider,
    params: &HashMap<String, String>,
    session_hash: &str,
    now: i64,
) -> AuthorizeAnswer {
    let kept = params.iter().filter(|(k, _)| !matches!(k.as_str(), "prompt" | "max_age" | LOGIN_AFTER));
    let expires_at = now + provider.lifetimes.par_login + CLOCK_LEEWAY_SECS;
    let pending = Pending {
        params: kept.map(|(k, v)| (k.clone(), v.clone())).collect(),
        session_hash: session_hash.to_owned(),
        expires_at,
    };
    let stored = match (random_token(32), serde_json::to_string(&pending)) {
        (Ok(key), Ok(value)) => (key, value),
        (Err(e), _) => return AuthorizeAnswer::Failed(e),
        (_, Err(e)) => return AuthorizeAnswer::Failed(OAuthError::server(e)),
    };
    let (key, value) = stored;
    if let Err(e) = provider
        .store
        .oidc_once_put(
            break_glass::PENDING_KIND,
            &key,
            &value,
            UnixTime::from_secs(expires_at),
            UnixTime::from_secs(now),
        )
        .await
    {
        return AuthorizeAnswer::failed(e);
    }
    AuthorizeAnswer::Redirect(format!("{}?{}", break_glass::PAGE_PATH, encode(&[("request".into(), key)])))
}

impl SessionLookup<'_> {
    /// The session the cookie names, if it is live at `now`.
    async fn find(&self, now: i64) -> Result<Option<Session>, crate::session::SessionError> {
        Ok(self.sessions.of_cookie(self.cookie.as_deref(), now).await?.map(|(s, _)| s))
    }
}

/// The actor of a refused authorization request: the browser's session is not looked up before the request
/// itself is known good.
const ANONYMOUS: &str = "portal:anonymous";
/// The audited reason of a `login_after` that is no live marker of this request.
const FORGED_MARKER: &str = "login_after is not a forced-login marker this server issued for this request (made \
                             up, used or expired): it is ignored, and prompt=login or max_age needs a fresh login";

/// A refusal answered with an error page, not a redirect (RFC 6749 §4.1.2.1: the client or its redirect URI is
/// not known good), audited `oidc.authorize` with the OAuth error it stands for and the redirect URI sent, if
/// that was the problem. The page names the error for the developer of the client.
async fn refused_page(
    ctx: Context<'_>,
    client_id: Option<&str>,
    error: &str,
    why: &str,
    redirect_uri: Option<Option<&str>>,
) -> AuthorizeAnswer {
    let mut detail = json!({ "error": error, "reason": why });
    if let (Some(sent), Some(map)) = (redirect_uri, detail.as_object_mut()) {
        map.insert("redirect_uri".into(), json!(sent.map(|r| refusals::named(Some(r)))));
    }
    ctx.refusals.record(ANONYMOUS, "oidc.authorize", &refusals::named(client_id), detail).await;
    AuthorizeAnswer::Refused { status: PageStatus::BadRequest, message: format!("{why} ({error})") }
}

/// A malformed request of a known client, answered at its redirect URI and audited `oidc.authorize`.
async fn refused_back(ctx: Context<'_>, back: &Back<'_>, client_id: &str, error: &str, why: &str) -> AuthorizeAnswer {
    ctx.refusals.record(ANONYMOUS, "oidc.authorize", client_id, json!({ "error": error, "reason": why })).await;
    back.error(error, why)
}

/// Store a grant in state `code` with the audit entry of the decision that allowed it, and return the code
/// (`<grant id>.<secret>`).
async fn issue_code(
    provider: &Provider,
    client: &Client,
    session_hash: &str,
    data: &GrantData,
    allowed: &AuditEvent,
    now: i64,
) -> Result<String, OAuthError> {
    let id = random_token(16)?;
    let code = format!("{id}.{}", random_token(32)?);
    let grant = GrantRecord {
        id,
        client_id: client.id.clone(),
        session_hash: session_hash.to_owned(),
        data: serde_json::to_string(data).map_err(OAuthError::server)?,
        code_hash: Some(hash_secret(&code)),
        refresh_hash: None,
        state: "code".into(),
        created_at: now,
        // Redeemed and swept by any replica: one whose clock runs ahead still gives the code its lifetime.
        expires_at: now + provider.lifetimes.code + CLOCK_LEEWAY_SECS,
    };
    provider
        .store
        .oidc_create_grant_audited(&grant, allowed, UnixTime::from_millis(provider.clock.now_unix_ms()))
        .await?;
    Ok(code)
}

/// Send the browser to the login page, coming back here with a forced-login marker ([`forced_login`]) when
/// `prompt=login` or `max_age` asked for a fresh login, so that login (and only a login after this redirect, not
/// the session `stale` found not fresh enough) satisfies them without a loop. A pushed request comes back
/// pushed: its parameters are kept for the login under a new single-use `request_uri`
/// ([`Lifetimes::par_login`](super::Lifetimes)), so they never appear in the browser's URL (why the client
/// pushed them) and a client that must push is not refused its own return trip.
async fn to_login(
    provider: &Provider,
    params: &HashMap<String, String>,
    pushed: bool,
    stale: Option<&str>,
    now: i64,
) -> AuthorizeAnswer {
    let kept: HashMap<String, String> =
        params.iter().filter(|(k, _)| k.as_str() != LOGIN_AFTER).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut query: Vec<(String, String)> = if pushed {
        let request_uri = match push(provider, &kept, provider.lifetimes.par_login, now).await {
            Ok(uri) => uri,
            Err(e) => return AuthorizeAnswer::Failed(e),
        };
        let client_id = kept.get("client_id").cloned().unwrap_or_default();
        vec![("client_id".into(), client_id), ("request_uri".into(), request_uri)]
    } else {
        kept.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let forced =
        params.get("prompt").is_some_and(|p| p.split(' ').any(|x| x == "login")) || params.contains_key("max_age");
    if forced {
        let lifetime = provider.lifetimes.par_login;
        match forced_login::issue(provider, &kept, stale, lifetime, now).await {
            Ok(key) => query.push((LOGIN_AFTER.into(), key)),
            Err(e) => return AuthorizeAnswer::Failed(e),
        }
    }
    let back = format!("/authorize?{}", encode(&query));
    AuthorizeAnswer::Redirect(format!("/login?{}", encode(&[("return_to".into(), back)])))
}

/// Where and how to answer the client.
struct Back<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    issuer: &'a str,
}

impl Back<'_> {
    fn error(&self, error: &str, description: &str) -> AuthorizeAnswer {
        self.with(&[("error", error), ("error_description", description)])
    }

    /// Redirect with `params`, `state` and `iss` (RFC 9207).
    fn with(&self, params: &[(&str, &str)]) -> AuthorizeAnswer {
        let mut all: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        if let Some(s) = self.state {
            all.push(("state".into(), s.to_owned()));
        }
        all.push(("iss".into(), self.issuer.to_owned()));
        let sep = if self.redirect_uri.contains('?') { '&' } else { '?' };
        AuthorizeAnswer::Redirect(format!("{}{sep}{}", self.redirect_uri, encode(&all)))
    }
}

/// `application/x-www-form-urlencoded`.
pub fn encode(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", percent(k), percent(v))).collect::<Vec<_>>().join("&")
}

/// Everything `/par` reads from a request: the form (the authorization request and the client's credentials)
/// and the connection's certificate.
#[derive(Debug)]
pub struct ParCall<'a> {
    /// The form.
    pub form: HashMap<String, String>,
    /// The client's credentials in it.
    pub credentials: ClientCredentials,
    /// The TLS client certificate (mTLS listener).
    pub certificate: Option<&'a [u8]>,
    /// The `DPoP` header's proof (RFC 9449 §10.1), when the push carried one, or why it cannot be one.
    pub dpop: Option<Result<String, super::dpop::DpopError>>,
}

impl<'a> ParCall<'a> {
    /// Read a pushed request's form and certificate.
    pub fn parse(form: HashMap<String, String>, certificate: Option<&'a [u8]>) -> Self {
        Self { credentials: ClientCredentials::from_form(&form), form, certificate, dpop: None }
    }
}

/// A pushed request kept (RFC 9126 §2.2): answered 201 with this body.
#[derive(Debug, serde::Serialize)]
pub struct Pushed {
    /// The single-use `request_uri`.
    pub request_uri: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
}

/// `/par`: public clients too (RFC 9126 §2.1 authenticates them by their client_id): a pushed request is
/// PKCE-bound as any other, and gives its client nothing but a `request_uri` for its own redirect URIs.
pub const PAR: Endpoint = Endpoint { path: "/par", callers: ClientRule::Any };

/// `POST /par` (RFC 9126) at `now`: a client-authenticated authorization request, kept briefly under a
/// single-use `request_uri`. A refusal is audited here and returned as the OAuth error to answer.
pub async fn par(ctx: Context<'_>, call: ParCall<'_>, now: i64) -> Result<Pushed, OAuthError> {
    let provider = ctx.provider;
    let presented = Presented {
        credentials: &call.credentials,
        certificate: call.certificate,
        audiences: provider.audiences(PAR.path),
        now,
    };
    let client = match client::authenticate(&provider.clients, &presented, PAR.callers).await {
        Ok(c) => c,
        Err(e) => return Err(super::refused::client(ctx.refusals, PAR.path, &call.credentials, e).await),
    };
    let form = call.form;
    // RFC 9126 §2.3: a pushed request is checked as the authorization endpoint would, and refused here with
    // `invalid_request` where that endpoint could not redirect (a request_uri inside, an unregistered
    // redirect URI) and where PKCE is missing or plain, so the client learns it now rather than after a
    // round trip through the browser.
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let refused = if form.contains_key("request_uri") {
        Some("request_uri must not be pushed (RFC 9126 §2.1)".to_owned())
    } else if !form.get("redirect_uri").is_some_and(|r| client.config.redirect_uris.contains(r)) {
        Some("redirect_uri is missing or not registered for this client (exact match)".to_owned())
    } else {
        let pkce = request::pkce_challenge(get("code_challenge"), get("code_challenge_method"));
        pkce.and(request::dpop_jkt(get("dpop_jkt"))).err().map(|e| e.to_string())
    };
    let more = || json!({ "redirect_uri": form.get("redirect_uri").map(|r| refusals::named(Some(r))) });
    if let Some(why) = refused {
        let e = OAuthError::invalid_request(why);
        return Err(super::refused::request(ctx.refusals, &client.id, "oidc.par", e, more()).await);
    }
    // RFC 9449 §10.1: a proof with the push binds the code to its key, as `dpop_jkt` does; both must agree.
    let bound = match provider.dpop_post_proof(ctx.secret, call.dpop.as_ref(), call.certificate, PAR.path, now) {
        Ok(Some(proof)) if get("dpop_jkt").is_some_and(|j| j != proof.jkt) => Err(OAuthError::new(
            "invalid_dpop_proof",
            "dpop_jkt is not the thumbprint of the DPoP proof's key: send the proof's key's thumbprint, or leave \
             dpop_jkt out",
        )),
        Ok(Some(proof)) => provider.dpop_record(&proof, now).await.map(|()| Some(proof)).map_err(|e| e.oauth()),
        other => other,
    };
    let bound = match bound {
        Ok(bound) => bound,
        Err(e) => return Err(super::refused::request(ctx.refusals, &client.id, "oidc.par", e, more()).await),
    };
    // The forced-login marker is the server's own (item 6 of issue #24): a pushed one is dropped.
    let mut params: HashMap<String, String> =
        form.into_iter().filter(|(k, _)| !k.starts_with("client_assertion") && k.as_str() != LOGIN_AFTER).collect();
    params.insert("client_id".into(), client.id.clone());
    if let Some(proof) = bound {
        params.insert("dpop_jkt".into(), proof.jkt);
    }
    let request_uri = push(provider, &params, provider.lifetimes.par, now).await?;
    Ok(Pushed { request_uri, expires_in: provider.lifetimes.par })
}

/// Keep the authorization request `params` for `lifetime` seconds under a new single-use `request_uri`
/// (RFC 9126 §2.2), and return it. The deadline has the clock leeway added: the replica that takes it may run
/// ahead of this one.
async fn push(
    provider: &Provider,
    params: &HashMap<String, String>,
    lifetime: i64,
    now: i64,
) -> Result<String, OAuthError> {
    let key = random_token(32)?;
    let value = serde_json::to_string(params).map_err(OAuthError::server)?;
    provider
        .store
        .oidc_once_put(
            "par",
            &key,
            &value,
            UnixTime::from_secs(now + lifetime + CLOCK_LEEWAY_SECS),
            UnixTime::from_secs(now),
        )
        .await?;
    Ok(format!("{PAR_PREFIX}{key}"))
}
