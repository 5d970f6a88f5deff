//! The patient-presence proof (受診確認トークン, issue #49 item 1, D148), HTTP-free: when reception or the physician
//! identifies the patient with the My Number card through the agent ([`crate::consent::identification`]), the
//! portal issues, for one relying service, a short-lived ES256 JWT (`typ` [`TYP`]) saying which facility saw the
//! patient, the acting person's role, how (the card's user-authentication key after its 4-digit PIN) and when.
//!
//! The patient is the service's pairwise reference: the portal secret's pairwise derivation (the one that makes
//! people's `sub`, OIDC Core §8.1) over the patient's pseudonymous key with the service's sector
//! ([`crate::oidc::client::sector_of`]), so two services cannot join their records through it, and the same
//! service sees the same reference at every visit. The proof never holds the individual number (個人番号), the
//! patient key or the facility's patient ID, nor the certificate's four items (name, address, birth date, sex):
//! nothing read from the card but the fact that its key answered.
//!
//! It is signed with the provider's current ES256 key and so verifies with the published `/jwks`; its own `typ`
//! keeps it apart from ID and access tokens signed with the same key. Every proof is recorded (migration 0033)
//! and spent once: by the token endpoint of a service whose policy says `require_patient_presence` ([`Gate`]), or
//! by the service at [`introspect`] (`spend=1`), which also says whether it was used. The time is passed in.

use crate::audit::audit;
use crate::oidc::client::{Client, Endpoint, sector_of};
use crate::oidc::endpoints::TokenQuery;
use crate::oidc::jws::{JwsError, SigningAlg};
use crate::oidc::token::PresenceGate;
use crate::oidc::{Context, OAuthError, Provider, random_token};
use crate::patient_key::PatientKey;
use crate::policy::ClientRule;
use crate::session::Session;
use hcpki_ca::FacilityId;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::{PresenceRecord, StoreError};
use hcpki_pkix::time::UnixTime;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The JWT's `typ` header: a presence proof is accepted as nothing else, and nothing else as one.
pub const TYP: &str = "patient-presence+jwt";
/// The proof method: the My Number card's user-authentication key (利用者証明用電子証明書) signed the portal's
/// challenge after its 4-digit PIN, through the card agent, and its certificate is linked to the patient here.
pub const METHOD: &str = "jpki-auth-pin";
/// Fewest and most minutes a proof may hold (`[consent] presence_minutes`).
pub const MINUTES: std::ops::RangeInclusive<i64> = 1..=60;
/// The services' endpoint: confidential clients only, as `/introspect` (they act on their own authority).
pub const INTROSPECT: Endpoint = Endpoint { path: "/presence/introspect", callers: ClientRule::Confidential };

/// The audit actions.
pub mod action {
    /// A proof issued (target: its `jti`).
    pub const ISSUED: &str = "presence.issued";
    /// A proof spent, or a spend refused (used before, expired).
    pub const USED: &str = "presence.used";
    /// A service asked about a proof (denied: the proof was refused, with why).
    pub const INTROSPECTED: &str = "presence.introspected";
    /// The token endpoint refused a proof, or its absence.
    pub const REFUSED: &str = "presence.refused";
}

/// The claims of a proof.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PresenceClaims {
    /// The provider.
    pub iss: String,
    /// The relying service's id (services file): the one service the proof is good at.
    pub aud: String,
    /// The patient, as this service's pairwise reference.
    pub sub: String,
    /// Who saw the patient.
    pub actor: PresenceActor,
    /// How and when the card answered.
    pub proof: ProofOf,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Good until (Unix seconds).
    pub exp: i64,
    /// The proof's unique id: its record and single use.
    pub jti: String,
}

/// The facility and the acting person's role.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PresenceActor {
    /// The facility (its ID: 10 digits, the medical institution code's form).
    pub facility_id: String,
    /// The acting person's hcRole code (`medical-doctor` …), or `staff` for a sign-in without one (reception).
    pub role: String,
}

/// How and when.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProofOf {
    /// [`METHOD`].
    pub method: String,
    /// When the card's answer was verified (Unix seconds).
    pub at: i64,
}

/// A proof just issued.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The compact JWS.
    pub token: String,
    /// Its claims.
    pub claims: PresenceClaims,
}

/// The patient reference `service` sees for `patient`: the pairwise derivation of people's `sub`, over the patient
/// key (whose `pk1:` prefix keeps it apart from person keys) in the service's sector.
pub fn patient_ref(ctx: Context<'_>, service: &str, patient: &PatientKey) -> String {
    ctx.secret.pairwise_sub(&sector_of(service), patient.as_str())
}

/// Issue a proof for `service` that `session`'s person at `facility` identified `patient` with the card at `now`,
/// good for `minutes`; recorded and audited (`presence.issued`, the patient as its key) in one transaction.
pub async fn issue(
    ctx: Context<'_>,
    session: &Session,
    facility: &FacilityId,
    patient: &PatientKey,
    service: &str,
    minutes: i64,
    now: i64,
) -> Result<Issued, PresenceError> {
    let catalog = ctx.services.current().await.map_err(|e| PresenceError::Unavailable(e.to_string()))?;
    if catalog.get(service).is_none() {
        return Err(PresenceError::NoService(service.chars().take(64).collect()));
    }
    let jti = random_token(16).map_err(|e| PresenceError::Unavailable(e.description))?;
    let claims = PresenceClaims {
        iss: ctx.provider.issuer.clone(),
        aud: service.to_owned(),
        sub: patient_ref(ctx, service, patient),
        actor: PresenceActor {
            facility_id: facility.as_str().to_owned(),
            role: session.subject.role().map_or("staff", |r| r.code()).to_owned(),
        },
        proof: ProofOf { method: METHOD.into(), at: now },
        iat: now,
        exp: now + minutes.clamp(*MINUTES.start(), *MINUTES.end()) * 60,
        jti,
    };
    let token =
        ctx.provider.sign(SigningAlg::Es256, TYP, &claims).map_err(|e| PresenceError::Unavailable(e.description))?;
    let record = PresenceRecord {
        jti: claims.jti.clone(),
        service: service.to_owned(),
        facility_id: claims.actor.facility_id.clone(),
        patient_ref: claims.sub.clone(),
        issued_at: now,
        expires_at: claims.exp,
        used_at: None,
        used_by: None,
    };
    let event = AuditEvent {
        actor: format!("portal:{}", session.person_key),
        action: action::ISSUED.into(),
        target: claims.jti.clone(),
        outcome: Outcome::Ok,
        detail: json!({ "service": service, "facility": facility.as_str(), "patient": patient.as_str(),
            "role": claims.actor.role, "method": METHOD, "exp": claims.exp }),
    };
    ctx.provider.store.presence_issue(&record, &event, UnixTime::from_secs(now)).await?;
    Ok(Issued { token, claims })
}

/// Verify `token` as a proof for `service` at `now` (and for `patient_ref`, when the caller names the patient it
/// expects): signed by one of the provider's published keys with `alg` ES256, `typ` [`TYP`], for this service,
/// not expired. Offline as a service would do it with the JWKS: whether it was used is the store's, below.
pub fn verify(
    provider: &Provider,
    token: &str,
    service: &str,
    patient_ref: Option<&str>,
    now: i64,
) -> Result<PresenceClaims, PresenceError> {
    let alg = crate::oidc::jws::Parsed::parse(token).map_err(PresenceError::Jws)?.alg;
    if alg != SigningAlg::Es256.as_str() {
        return Err(PresenceError::Jws(JwsError::Algorithm(alg)));
    }
    let (typ, claims) = provider.verify_own(token).map_err(PresenceError::Jws)?;
    if typ.as_deref() != Some(TYP) {
        return Err(PresenceError::NotAProof(typ.unwrap_or_default()));
    }
    let claims: PresenceClaims = serde_json::from_value(claims).map_err(|e| PresenceError::Claims(e.to_string()))?;
    check_claims(claims, &provider.issuer, service, patient_ref, now)
}

/// The claims' part of [`verify`], once the signature holds: this issuer, this service, not expired, this patient.
fn check_claims(
    claims: PresenceClaims,
    issuer: &str,
    service: &str,
    patient_ref: Option<&str>,
    now: i64,
) -> Result<PresenceClaims, PresenceError> {
    if claims.iss != issuer {
        return Err(PresenceError::Claims(format!("iss {} is not this provider", claims.iss)));
    }
    if claims.aud != service {
        return Err(PresenceError::OtherService { aud: claims.aud, service: service.to_owned() });
    }
    // No leeway: a proof is minutes long, and the issuer's clock is the one that counts.
    if claims.exp <= now {
        return Err(PresenceError::Expired(claims.exp));
    }
    if patient_ref.is_some_and(|r| r != claims.sub) {
        return Err(PresenceError::OtherPatient);
    }
    Ok(claims)
}

/// Spend the verified proof `claims` for `client` at `now` (audited `presence.used`, denied when it cannot be).
async fn spend(provider: &Provider, client: &Client, claims: &PresenceClaims, now: i64) -> Result<(), PresenceError> {
    let event = AuditEvent {
        actor: format!("oidc:{}", client.id),
        action: action::USED.into(),
        target: claims.jti.clone(),
        outcome: Outcome::Ok,
        detail: json!({ "service": claims.aud, "facility": claims.actor.facility_id }),
    };
    if provider.store.presence_use(&claims.jti, &client.id, &event, UnixTime::from_secs(now)).await? {
        return Ok(());
    }
    match provider.store.presence(&claims.jti).await? {
        Some(PresenceRecord { used_at: Some(at), .. }) => Err(PresenceError::Used(at)),
        Some(r) if r.expires_at <= now => Err(PresenceError::Expired(r.expires_at)),
        _ => Err(PresenceError::Unknown),
    }
}

/// The token endpoint's presence check (D148): `require_patient_presence` is a rule of the service, and the
/// token endpoint is where record access is handed out (and refreshed) to the service's server, which holds the
/// proof; the authorization step runs in the staff member's browser and would carry the proof through it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gate;

#[async_trait::async_trait]
impl PresenceGate for Gate {
    async fn check(
        &self,
        ctx: Context<'_>,
        client: &Client,
        proof: Option<&str>,
        now: i64,
    ) -> Result<Option<Value>, OAuthError> {
        let service = &client.config.service;
        let catalog = ctx.services.current().await.map_err(OAuthError::server)?;
        let required = catalog.get(service).is_some_and(|s| s.require_patient_presence);
        let outcome = match proof {
            None if required => Err(PresenceError::Required(service.clone())),
            None => return Ok(None),
            Some(token) => match verify(ctx.provider, token, service, None, now) {
                Ok(claims) => spend(ctx.provider, client, &claims, now).await.map(|()| claims),
                Err(e) => Err(e),
            },
        };
        match outcome {
            Ok(c) => Ok(Some(json!({ "jti": c.jti, "sub": c.sub, "facility_id": c.actor.facility_id,
                "role": c.actor.role, "method": c.proof.method, "at": c.proof.at }))),
            Err(e) => {
                if !matches!(e, PresenceError::Used(_) | PresenceError::Unavailable(_) | PresenceError::Store(_)) {
                    // A spend refused is audited by the store as `presence.used` denied; the others here.
                    let detail = json!({ "service": service, "reason": e.to_string() });
                    let actor = format!("oidc:{}", client.id);
                    audit(&*ctx.provider.store, now * 1000, &actor, action::REFUSED, service, Outcome::Denied, detail)
                        .await;
                }
                Err(e.oauth())
            }
        }
    }
}

/// What a service's `POST /presence/introspect` asks besides the `token`: the patient reference it expects
/// (`patient_ref`, optional) and whether to spend the proof (`spend=1`).
#[derive(Debug, Default)]
pub struct Asked {
    /// `patient_ref`.
    pub patient_ref: Option<String>,
    /// `spend`.
    pub spend: bool,
}

impl Asked {
    /// Read the form's fields.
    pub fn parse(form: &HashMap<String, String>) -> Self {
        Self {
            patient_ref: form.get("patient_ref").filter(|r| !r.is_empty()).cloned(),
            spend: form.get("spend").is_some_and(|s| s == "1" || s == "true"),
        }
    }
}

/// `POST /presence/introspect` at `now`, client-authenticated as `/introspect`: a verified proof for the client's
/// own service answers `active: true` with its claims, `used` and `used_at` (after spending it, with `spend=1`);
/// anything else `active: false` with `reason`, the refusal in words. Audited `presence.introspected`.
pub async fn introspect(ctx: Context<'_>, query: TokenQuery<'_>, asked: Asked, now: i64) -> Result<Value, OAuthError> {
    let provider = ctx.provider;
    let (client, token) = query.authenticated(ctx, INTROSPECT, action::INTROSPECTED, now).await?;
    let service = client.config.service.clone();
    let checked = match verify(provider, token, &service, asked.patient_ref.as_deref(), now) {
        Ok(claims) if asked.spend => spend(provider, &client, &claims, now).await.map(|()| claims),
        other => other,
    };
    let actor = format!("oidc:{}", client.id);
    let claims = match checked {
        Ok(claims) => claims,
        Err(e @ (PresenceError::Store(_) | PresenceError::Unavailable(_))) => return Err(e.oauth()),
        Err(e) => {
            let detail = json!({ "service": service, "reason": e.to_string() });
            audit(&*provider.store, now * 1000, &actor, action::INTROSPECTED, &service, Outcome::Denied, detail).await;
            return Ok(json!({ "active": false, "reason": e.to_string() }));
        }
    };
    let record = provider.store.presence(&claims.jti).await.map_err(OAuthError::server)?;
    let Some(record) = record else {
        let reason = PresenceError::Unknown.to_string();
        return Ok(json!({ "active": false, "reason": reason }));
    };
    let detail = json!({ "service": service, "used": record.used_at.is_some() });
    audit(&*provider.store, now * 1000, &actor, action::INTROSPECTED, &claims.jti, Outcome::Ok, detail).await;
    let mut body = serde_json::to_value(&claims).map_err(OAuthError::server)?;
    if let Some(map) = body.as_object_mut() {
        map.insert("active".into(), json!(true));
        map.insert("token_type".into(), json!(TYP));
        map.insert("used".into(), json!(record.used_at.is_some()));
        map.insert("used_at".into(), json!(record.used_at));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> PresenceClaims {
        PresenceClaims {
            iss: "https://portal.unit".into(),
            aud: "records".into(),
            sub: "ref-a".into(),
            actor: PresenceActor { facility_id: "1310000001".into(), role: "medical-doctor".into() },
            proof: ProofOf { method: METHOD.into(), at: 1000 },
            iat: 1000,
            exp: 1060,
            jti: "j".into(),
        }
    }

    /// Each claim check, table-driven: the proof's minute, its service, its patient, its issuer.
    #[test]
    fn the_claims_hold_for_their_service_patient_and_minute_only() {
        let check = |iss: &str, service: &str, patient: Option<&str>, now: i64| {
            check_claims(claims(), iss, service, patient, now)
        };
        assert!(check("https://portal.unit", "records", Some("ref-a"), 1059).is_ok());
        assert!(matches!(check("https://portal.unit", "records", None, 1060), Err(PresenceError::Expired(1060))));
        let other = check("https://portal.unit", "emr", None, 1000);
        assert!(matches!(other, Err(PresenceError::OtherService { .. })), "{other:?}");
        let patient = check("https://portal.unit", "records", Some("ref-b"), 1000);
        assert!(matches!(patient, Err(PresenceError::OtherPatient)), "{patient:?}");
        assert!(matches!(check("https://other.unit", "records", None, 1000), Err(PresenceError::Claims(_))));
        let said = PresenceError::Expired(1060).to_string();
        assert!(said.contains("identify the patient with the My Number card again"), "{said}");
    }
}

/// Why a proof is not issued or not accepted. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PresenceError {
    /// The service chosen is not configured.
    #[error("no relying service {0:?} is configured: choose one of the services the page lists")]
    NoService(String),
    /// Not a JWS this provider signed: malformed, `alg` refused (`none`, HS256 …), or signed by another key.
    #[error(
        "the patient-presence proof is refused: {0} (a proof is an ES256 JWS signed with a key of this provider's \
         /jwks: send it exactly as issued)"
    )]
    Jws(JwsError),
    /// Signed by this provider, but another kind of token.
    #[error("the token's typ is {0:?}, not patient-presence+jwt: send the presence proof, not another token")]
    NotAProof(String),
    /// The claims are not a proof's.
    #[error("the patient-presence proof's claims are not usable ({0}): send the proof exactly as issued")]
    Claims(String),
    /// Issued for another service.
    #[error(
        "the patient-presence proof was issued for service {aud:?}, not {service:?}: a proof is good only at the \
         service it names; identify the patient again choosing this service"
    )]
    OtherService {
        /// The proof's `aud`.
        aud: String,
        /// The caller's service.
        service: String,
    },
    /// Expired.
    #[error("the patient-presence proof expired (exp {0}): identify the patient with the My Number card again")]
    Expired(i64),
    /// Another patient than the one asked about.
    #[error("the patient-presence proof names another patient than patient_ref: it proves nothing of this patient")]
    OtherPatient,
    /// Never issued here (or gone).
    #[error("no patient-presence proof with this jti was issued: identify the patient again")]
    Unknown,
    /// Spent before.
    #[error("the patient-presence proof was used already (at {0}): a proof is good once; identify the patient again")]
    Used(i64),
    /// The service requires a proof and none was sent.
    #[error(
        "service {0:?} requires a fresh patient-presence proof (require_patient_presence): identify the patient with \
         the My Number card at /patients/identify choosing this service, and send the proof as patient_presence"
    )]
    Required(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing or the services' catalog failed.
    #[error("the patient-presence proof cannot be made now ({0}); retry later")]
    Unavailable(String),
}

impl PresenceError {
    /// The OAuth error answered: `invalid_grant` for a proof refused, 5xx for a failure of ours.
    pub fn oauth(self) -> OAuthError {
        match self {
            Self::Store(e) => OAuthError::store(e),
            Self::Unavailable(_) => OAuthError::server(self),
            _ => OAuthError::invalid_grant(self.to_string()),
        }
    }
}
