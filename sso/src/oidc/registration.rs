//! The operator's registrations of relying parties (issue #6: "clients are registered by the operator
//! (CLI/API)"): the one piece of code behind `hcpki oidc client add|list|remove` and the admin API's
//! `/api/v1/oidc-clients`. Both front ends parse their input into a [`Registration`] and call [`register`],
//! [`list`] or [`remove`]; the store writes each change and its audit entry (`oidc.client.add|remove`, with
//! the actor) in one transaction, and a removal revokes the client's grants in the same one.

use super::client::{AuthMethod, CONSOLE_CLIENT_ID, ClientConfig};
use super::client_secret::{self, NoRandom};
use super::jws::SigningAlg;
use crate::policy::Services;
use hcpki_ca::store::{Actor, Oidc, OidcClientRecord, StoreError};
use hcpki_model::{InvalidOidcClientId, OidcClientId};
use hcpki_pkix::time::UnixTime;
use serde_json::Value;

/// A client to register, as the operator gave it (the CLI's flags, the API's JSON fields).
#[derive(Clone, Debug)]
pub struct Registration {
    /// The client_id.
    pub id: String,
    /// Exact redirect URIs (at least one).
    pub redirect_uris: Vec<String>,
    /// `private_key_jwt`, `tls_client_auth` or `self_signed_tls_client_auth`; or, opt-in for a client that
    /// cannot hold a key, `client_secret_basic` or `client_secret_post` (hcpki makes the secret).
    pub auth: String,
    /// The client's public keys (a JWKS): `private_key_jwt` and `self_signed_tls_client_auth`.
    pub jwks: Option<Value>,
    /// The client certificate's subject DN (`tls_client_auth`).
    pub tls_subject: Option<String>,
    /// The service whose rules and claims apply.
    pub service: String,
    /// Where RP-initiated logout may return.
    pub post_logout_redirect_uris: Vec<String>,
    /// Where back-channel logout tokens are POSTed.
    pub backchannel_logout_uri: Option<String>,
    /// The algorithm of the client's ID, access and logout tokens.
    pub id_token_signed_response_alg: SigningAlg,
    /// Userinfo as a JWT signed with this algorithm instead of plain JSON.
    pub userinfo_signed_response_alg: Option<SigningAlg>,
    /// Authorization requests only through PAR (RFC 9126 §6).
    pub require_pushed_authorization_requests: bool,
    /// The clients this client may exchange a user's access token for a token to (RFC 8693, D96); none: it
    /// may not exchange.
    pub token_exchange_audiences: Vec<String>,
}

/// Why a registration or removal was refused. The text says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The id is the web console's built-in client's (D42).
    #[error("client id {0} is the web console's own (built in, D42): choose another id")]
    Reserved(String),
    /// The id is empty or not printable ASCII without spaces.
    #[error(transparent)]
    BadId(#[from] InvalidOidcClientId),
    /// Not one of the client authentication methods.
    #[error(
        "unknown auth {0:?}: use private_key_jwt, tls_client_auth or self_signed_tls_client_auth (or, for a client \
         that cannot hold a key, client_secret_basic or client_secret_post; for a native or browser app, none)"
    )]
    UnknownAuth(String),
    /// A secret for a client whose authorization requests must be pushed (FAPI 2.0 allows keys only).
    #[error(
        "a client that must push its requests (PAR, FAPI 2.0) authenticates with a key: use private_key_jwt or a \
         TLS method, not a client secret"
    )]
    SecretWithPar,
    /// A public client given a right only confidential clients hold.
    #[error(
        "client {id} is a public client (auth none) and cannot be given {right}: only confidential clients may \
         (a public client's client_id is no credential, so anyone could use them in its name); register the \
         service's server as a confidential client (private_key_jwt, a TLS method or a secret) for them, or \
         leave them out"
    )]
    PublicClientGiven {
        /// The client.
        id: String,
        /// What it was given.
        right: PublicRight,
    },
    /// The service's `clients` rule does not admit the method.
    #[error(
        "service {service} admits clients = \"{rule}\" only, and {auth} is not one: register the client with a key \
         (private_key_jwt), or change the service's rule if the operator means it"
    )]
    ServiceRefusesMethod {
        /// The service.
        service: String,
        /// Its rule.
        rule: &'static str,
        /// The method asked for.
        auth: &'static str,
    },
    /// Secrets are forbidden on this deployment.
    #[error(
        "this deployment accepts no client secrets ([oidc] client_secrets = false): register the client with a key"
    )]
    SecretsForbidden,
    /// A secret rotation for a client that has none.
    #[error("client {0} authenticates with {1}, not a secret: nothing to rotate")]
    NoSecret(OidcClientId, &'static str),
    /// The client changed while its secret was rotated.
    #[error("client {0} changed meanwhile: run the rotation again")]
    Raced(OidcClientId),
    /// No random bytes for the secret.
    #[error(transparent)]
    NoRandom(#[from] NoRandom),
    /// A key-based method without keys.
    #[error("auth {0} needs the client's public keys (a JWKS: --jwks-file, or \"jwks\" in the API)")]
    MissingJwks(&'static str),
    /// The keys are not a JWKS.
    #[error("the client's keys are not a JWKS: it needs a \"keys\" array")]
    NotJwks,
    /// `tls_client_auth` without the subject to match.
    #[error("auth tls_client_auth needs the certificate's subject DN (--tls-subject, or \"tls_subject\")")]
    MissingTlsSubject,
    /// No redirect URI at all.
    #[error("a client needs at least one redirect URI")]
    NoRedirectUri,
    /// A redirect or post-logout URI that is not https (or loopback http), or has a fragment.
    #[error("redirect URI {0}: use https:// (http:// only for loopback) and no fragment")]
    BadRedirectUri(String),
    /// A back-channel logout URI that is not http(s).
    #[error("back-channel logout URI {0}: use an https:// (or facility-network http://) URL")]
    BadBackchannelUri(String),
    /// The service is not in the policy.
    #[error("no service {0:?}: add it first (`hcpki service add FILE`, `hcpki service list`)")]
    UnknownService(String),
    /// The id is taken.
    #[error("client {0} exists already: remove it first (`hcpki oidc client remove {0}`)")]
    Exists(OidcClientId),
    /// Nothing to remove.
    #[error("no client {0}: see `hcpki oidc client list`")]
    Unknown(OidcClientId),
    /// A stored registration no longer parses (edited by hand, or written by a newer version).
    #[error("client {id} is stored in a form this version cannot read: {why}")]
    Damaged {
        /// The client.
        id: String,
        /// serde's message.
        why: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A registered client as listed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Registered {
    /// The client_id.
    pub id: String,
    /// Its registration.
    #[serde(flatten)]
    pub config: ClientConfig,
    /// Who registered it (the audit actor).
    pub created_by: String,
    /// When (Unix seconds).
    pub created_at: i64,
    /// The client secret, when the registration made one: shown this once, never stored or listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// What a registration is checked against besides itself: the deployment's settings.
#[derive(Clone, Copy, Debug)]
pub struct Deployment<'a> {
    /// The policy's services when the portal is configured (the client's service must be one of them); without a
    /// portal there is no policy to check against yet.
    pub services: Option<&'a Services>,
    /// `[oidc]`'s (the server's `config::OidcConfig::secrets_allowed`): a secret client is refused where secrets
    /// are not.
    pub secrets_allowed: bool,
    /// `[consent]`, whose templates name the clients that may ask for consents; none where the deployment has no
    /// portal to serve the consent API.
    pub consent: Option<&'a dyn ConsentClients>,
}

/// The clients that may ask for patients' consents: `[consent]`'s templates name them. The consent core, a floor
/// above this one, implements it, so registration checks a public client without depending on consent (issue #43
/// item 1).
pub trait ConsentClients: std::fmt::Debug + Sync {
    /// Whether a consent template names client `id`.
    fn asks_consents(&self, id: &str) -> bool;
}

/// Check `r` against itself and `deployment`, and register it as `actor` at `now_ms` (Unix milliseconds;
/// audited `oidc.client.add`).
pub async fn register(
    store: &dyn Oidc,
    deployment: Deployment<'_>,
    r: Registration,
    actor: &Actor,
    now_ms: i64,
) -> Result<Registered, RegistrationError> {
    let (config, secret) = checked(r.clone(), now_ms.div_euclid(1000))?;
    if secret.is_some() && !deployment.secrets_allowed {
        return Err(RegistrationError::SecretsForbidden);
    }
    public_client_limits(&r.id, &config, deployment.consent)?;
    if let Some(services) = deployment.services {
        let Some(service) = services.get(&config.service) else {
            return Err(RegistrationError::UnknownService(config.service));
        };
        if !config.auth.admitted_by(service.clients) {
            return Err(RegistrationError::ServiceRefusesMethod {
                service: service.id.clone(),
                rule: service.clients.as_str(),
                auth: config.auth.as_str(),
            });
        }
    }
    let id = OidcClientId::parse(&r.id)?;
    if store.oidc_client(&id).await?.is_some() {
        return Err(RegistrationError::Exists(id));
    }
    let data = serde_json::to_string(&config)
        .map_err(|e| RegistrationError::Damaged { id: r.id.clone(), why: e.to_string() })?;
    let record =
        OidcClientRecord { id: r.id, data, created_by: actor.as_str().to_owned(), created_at: now_ms.div_euclid(1000) };
    store.oidc_add_client(&record, actor, UnixTime::from_millis(now_ms)).await?;
    Ok(Registered { id: record.id, config, created_by: record.created_by, created_at: record.created_at, secret })
}

/// What a public client (`auth` none) cannot be given (issue #42 item 1): the rights a service uses on its own
/// authority — exchanging users' tokens for other services (its `token_exchange_audiences`), asking for patients'
/// consents (a `[[consent.templates]]` entry naming it). Its `client_id` proves nothing, so anyone could use them
/// in its name; the endpoints that serve them refuse public callers anyway ([`super::client::Endpoint`]), and
/// the operator learns it here rather than from the service's first refused call. (Signing requests need no
/// right of their own: any confidential client may create them, no public one.)
pub fn public_client_limits(
    id: &str,
    config: &ClientConfig,
    consent: Option<&dyn ConsentClients>,
) -> Result<(), RegistrationError> {
    if config.auth != AuthMethod::None {
        return Ok(());
    }
    if !config.token_exchange_audiences.is_empty() {
        return Err(RegistrationError::PublicClientGiven { id: id.to_owned(), right: PublicRight::ExchangeAudiences });
    }
    if consent.is_some_and(|c| c.asks_consents(id)) {
        return Err(RegistrationError::PublicClientGiven { id: id.to_owned(), right: PublicRight::ConsentTemplates });
    }
    Ok(())
}

/// A right only confidential clients may hold ([`public_client_limits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicRight {
    /// `token_exchange_audiences` (RFC 8693, D96).
    ExchangeAudiences,
    /// A `[[consent.templates]]` entry (issue #28).
    ConsentTemplates,
}

impl std::fmt::Display for PublicRight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ExchangeAudiences => "token exchange audiences (--token-exchange-audience)",
            Self::ConsentTemplates => "consent templates ([[consent.templates]] naming it)",
        })
    }
}

/// A rotated secret: the new one, to show once, and until when the previous one keeps working.
#[derive(Debug)]
pub struct Rotated {
    /// The new client secret: shown this once, never stored or listed.
    pub secret: String,
    /// When the last previous secret stops working (Unix seconds); none: it stopped at once.
    pub previous_until: Option<i64>,
    /// How the client sends it.
    pub auth: AuthMethod,
}

/// Give client `id` a new secret at `now_ms` as `actor` (audited `oidc.client.secret_rotate`, with the hashes'
/// count and the overlap, never a secret): the current one keeps working `overlap_secs` more (at most 30
/// days; 0: not at all).
pub async fn rotate_secret(
    store: &dyn Oidc,
    id: &OidcClientId,
    overlap_secs: i64,
    actor: &Actor,
    now_ms: i64,
) -> Result<Rotated, RegistrationError> {
    let now = now_ms.div_euclid(1000);
    let record = store.oidc_client(id).await?.ok_or_else(|| RegistrationError::Unknown(id.clone()))?;
    let mut config: ClientConfig = serde_json::from_str(&record.data)
        .map_err(|e| RegistrationError::Damaged { id: id.to_string(), why: e.to_string() })?;
    if !config.auth.is_secret() {
        return Err(RegistrationError::NoSecret(id.clone(), config.auth.as_str()));
    }
    let new = client_secret::generate(now)?;
    config.secrets = client_secret::rotated(&config.secrets, new.kept, now, overlap_secs);
    let data = serde_json::to_string(&config)
        .map_err(|e| RegistrationError::Damaged { id: id.to_string(), why: e.to_string() })?;
    let overlap = overlap_secs.clamp(0, client_secret::MAX_OVERLAP_SECS);
    let detail =
        serde_json::json!({ "auth": config.auth.as_str(), "secrets": config.secrets.len(), "overlap_secs": overlap });
    let event = hcpki_ca::audit::AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "oidc.client.secret_rotate".to_owned(),
        target: id.to_string(),
        outcome: hcpki_ca::audit::Outcome::Ok,
        detail,
    };
    if store.oidc_update_client(id, &record.data, &data, &event, UnixTime::from_millis(now_ms)).await? {
        let previous_until = client_secret::overlap_ends(&config.secrets, now);
        Ok(Rotated { secret: new.secret, previous_until, auth: config.auth })
    } else {
        Err(RegistrationError::Raced(id.clone()))
    }
}

/// Every registered client, by id.
pub async fn list(store: &dyn Oidc) -> Result<Vec<Registered>, RegistrationError> {
    store
        .oidc_clients()
        .await?
        .into_iter()
        .map(|c| {
            let config = serde_json::from_str(&c.data)
                .map_err(|e| RegistrationError::Damaged { id: c.id.clone(), why: e.to_string() })?;
            Ok(Registered { id: c.id, config, created_by: c.created_by, created_at: c.created_at, secret: None })
        })
        .collect()
}

/// Remove client `id` as `actor` at `now_ms` (Unix milliseconds): its grants are revoked with it (audited
/// `oidc.client.remove`).
pub async fn remove(store: &dyn Oidc, id: &OidcClientId, actor: &Actor, now_ms: i64) -> Result<(), RegistrationError> {
    if store.oidc_remove_client(id, actor, UnixTime::from_millis(now_ms)).await? {
        Ok(())
    } else {
        Err(RegistrationError::Unknown(id.clone()))
    }
}

/// The registration as stored, with the secret it made (shown once), or what is wrong with it.
fn checked(r: Registration, now: i64) -> Result<(ClientConfig, Option<String>), RegistrationError> {
    if r.id == CONSOLE_CLIENT_ID {
        return Err(RegistrationError::Reserved(r.id));
    }
    OidcClientId::parse(&r.id)?;
    let auth = AuthMethod::from_name(&r.auth).ok_or_else(|| RegistrationError::UnknownAuth(r.auth.clone()))?;
    if let Some(jwks) = &r.jwks
        && !jwks.get("keys").is_some_and(Value::is_array)
    {
        return Err(RegistrationError::NotJwks);
    }
    match auth {
        AuthMethod::PrivateKeyJwt | AuthMethod::SelfSignedTlsClientAuth if r.jwks.is_none() => {
            return Err(RegistrationError::MissingJwks(auth.as_str()));
        }
        AuthMethod::TlsClientAuth if r.tls_subject.is_none() => return Err(RegistrationError::MissingTlsSubject),
        _ if auth.is_secret() && r.require_pushed_authorization_requests => {
            return Err(RegistrationError::SecretWithPar);
        }
        _ => {}
    }
    if r.redirect_uris.is_empty() {
        return Err(RegistrationError::NoRedirectUri);
    }
    if let Some(uri) = r.redirect_uris.iter().chain(&r.post_logout_redirect_uris).find(|u| !redirect_uri_ok(u)) {
        return Err(RegistrationError::BadRedirectUri(uri.clone()));
    }
    if let Some(uri) = &r.backchannel_logout_uri
        && !(uri.starts_with("https://") || uri.starts_with("http://"))
    {
        return Err(RegistrationError::BadBackchannelUri(uri.clone()));
    }
    let secret = if auth.is_secret() { Some(client_secret::generate(now)?) } else { None };
    let config = ClientConfig {
        redirect_uris: r.redirect_uris,
        auth,
        jwks: r.jwks,
        tls_subject: r.tls_subject,
        secrets: secret.iter().map(|s| s.kept.clone()).collect(),
        service: r.service,
        post_logout_redirect_uris: r.post_logout_redirect_uris,
        backchannel_logout_uri: r.backchannel_logout_uri,
        id_token_signed_response_alg: r.id_token_signed_response_alg,
        userinfo_signed_response_alg: r.userinfo_signed_response_alg,
        require_pushed_authorization_requests: r.require_pushed_authorization_requests,
        token_exchange_audiences: r.token_exchange_audiences,
    };
    Ok((config, secret.map(|s| s.secret)))
}

/// https, or http to the loopback interface only (a native or test client), and never a fragment.
fn redirect_uri_ok(uri: &str) -> bool {
    (uri.starts_with("https://") || uri.starts_with("http://127.0.0.1") || uri.starts_with("http://localhost"))
        && !uri.contains('#')
}

/// `ES256`, `RS256` or `PS256`: only what the provider signs with.
pub fn signing_alg(name: &str) -> Result<SigningAlg, String> {
    SigningAlg::from_name(name)
        .ok_or_else(|| format!("{name:?} is not supported: use ES256, RS256 or PS256 (never none or HS*)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> Registration {
        Registration {
            id: "emr".into(),
            redirect_uris: vec!["https://emr.example/cb".into()],
            auth: "private_key_jwt".into(),
            jwks: Some(serde_json::json!({ "keys": [] })),
            tls_subject: None,
            service: "emr".into(),
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            id_token_signed_response_alg: SigningAlg::default(),
            userinfo_signed_response_alg: None,
            require_pushed_authorization_requests: false,
            token_exchange_audiences: Vec::new(),
        }
    }

    #[test]
    fn registrations_are_checked_before_anything_is_stored() {
        assert!(checked(registration(), 0).is_ok_and(|(_, secret)| secret.is_none()));
        let refused = |change: fn(&mut Registration)| {
            let mut r = registration();
            change(&mut r);
            checked(r, 0).map(|_| ()).unwrap_err().to_string()
        };
        assert!(refused(|r| r.id = CONSOLE_CLIENT_ID.into()).contains("console"));
        assert!(refused(|r| r.id = "two words".into()).contains("printable"));
        assert!(refused(|r| r.auth = "client_secret_jwt".into()).contains("unknown auth"));
        assert!(
            refused(|r| {
                r.auth = "client_secret_basic".into();
                r.require_pushed_authorization_requests = true;
            })
            .contains("PAR")
        );
        assert!(refused(|r| r.jwks = None).contains("public keys"));
        assert!(refused(|r| r.jwks = Some(serde_json::json!({ "kty": "EC" }))).contains("\"keys\" array"));
        assert!(refused(|r| r.auth = "tls_client_auth".into()).contains("subject DN"));
        assert!(refused(|r| r.redirect_uris = Vec::new()).contains("at least one"));
        assert!(refused(|r| r.redirect_uris = vec!["http://emr.example/cb".into()]).contains("https://"));
        assert!(refused(|r| r.post_logout_redirect_uris = vec!["https://emr.example/#x".into()]).contains("fragment"));
        assert!(refused(|r| r.backchannel_logout_uri = Some("ftp://emr.example/bcl".into())).contains("back-channel"));
        assert!(signing_alg("HS256").is_err() && signing_alg("none").is_err() && signing_alg("PS256").is_ok());
    }

    #[test]
    fn a_public_client_gets_no_secret_and_keeps_no_keys() {
        let mut r = registration();
        r.auth = "none".into();
        r.jwks = None;
        r.redirect_uris = vec!["http://127.0.0.1/cb".into()];
        let (config, secret) = checked(r, 100).unwrap();
        assert!(secret.is_none() && config.secrets.is_empty());
        assert_eq!(config.auth, AuthMethod::None);
    }

    /// Issue #42 item 1: exchange audiences and consent templates go to confidential clients only, naming the rule.
    #[test]
    fn a_public_client_is_given_no_exchange_audiences_and_no_consent_templates() {
        let mut r = registration();
        r.auth = "none".into();
        r.jwks = None;
        r.token_exchange_audiences = vec!["records".into()];
        let (config, _) = checked(r.clone(), 100).unwrap();
        let e = public_client_limits("emr", &config, None).unwrap_err();
        assert!(matches!(e, RegistrationError::PublicClientGiven { right: PublicRight::ExchangeAudiences, .. }));
        let said = e.to_string();
        assert!(said.contains("public client") && said.contains("--token-exchange-audience"), "{said}");

        use crate::consent::settings::ConsentSettings;
        let template = |client| crate::consent::template::Template::example(client, "record-link");
        let consent =
            ConsentSettings { templates: vec![template("other"), template("emr")], ..ConsentSettings::default() };
        r.token_exchange_audiences = Vec::new();
        let (config, _) = checked(r.clone(), 100).unwrap();
        let e = public_client_limits("emr", &config, Some(&consent)).unwrap_err();
        assert!(e.to_string().contains("[[consent.templates]]"), "{e}");
        assert!(public_client_limits("app", &config, Some(&consent)).is_ok(), "no template names it");
        assert!(public_client_limits("emr", &config, None).is_ok(), "no portal, no consent API");

        // A confidential client may hold both.
        let mut r = registration();
        r.token_exchange_audiences = vec!["records".into()];
        let (config, _) = checked(r, 100).unwrap();
        assert!(public_client_limits("emr", &config, Some(&consent)).is_ok());
    }

    #[test]
    fn a_secret_client_gets_a_secret_shown_once_and_kept_as_its_hash() {
        let mut r = registration();
        r.auth = "client_secret_basic".into();
        r.jwks = None;
        let (config, secret) = checked(r, 100).unwrap();
        let secret = secret.unwrap();
        assert_eq!(config.secrets.len(), 1);
        assert!(client_secret::matches(&config.secrets, &secret, 100));
        let stored = serde_json::to_string(&config).unwrap();
        assert!(!stored.contains(&secret), "{stored}");
    }
}
