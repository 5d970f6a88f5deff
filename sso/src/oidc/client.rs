//! Registered clients (the operator registers them: `hcpki oidc client add`) and client authentication at
//! the token, introspection, revocation and PAR endpoints: `private_key_jwt` (RFC 7523 assertions),
//! `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705 §2, on the mTLS listener only) — the
//! key-based methods, the default — and, for clients the operator registers that way (issue #30),
//! `client_secret_basic` / `client_secret_post` ([`super::client_secret`]).

use super::OAuthError;
use super::client_secret::{self, SecretHash};
use super::jws::{self, Parsed};
use crate::policy::ClientRule;
use hcpki_ca::store::{ClientAreas, Issuance, OnceRecord};
use hcpki_model::OidcClientId;
use hcpki_pkix::time::UnixTime;
// Clock skew tolerated between a relying service and us on assertion times (exp, nbf, iat): one minute, so a
// service whose clock is a little off still authenticates, and no more.
use hcpki_pkix::time::CLOCK_LEEWAY_SECS;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// The assertion type of RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Client assertions may live at most this long (exp − now); their jti is remembered until exp. One hour:
/// the lifetime common client libraries (authlib, oauth4webapi's default is shorter) put in assertions.
const MAX_ASSERTION_SECS: i64 = 3600;

/// The web console's own client (D42): built in, never a row of `oidc_clients` (the operator creates nothing),
/// and without credentials, so no one can redeem its codes at `/token`; the console redeems them in-process.
pub const CONSOLE_CLIENT_ID: &str = "hcpki-console";
/// Where the console's authorization responses go, under the configured `[console] url` only.
pub const CONSOLE_CALLBACK_PATH: &str = "/console/login/callback";

/// How a client authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A JWT signed with a key in the client's registered JWKS.
    PrivateKeyJwt,
    /// A client certificate issued by this CA, with the registered subject DN.
    TlsClientAuth,
    /// A (self-signed) client certificate whose key is in the client's registered JWKS.
    SelfSignedTlsClientAuth,
    /// A secret hcpki made, sent in HTTP Basic (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// A secret hcpki made, sent as the form's `client_secret`.
    ClientSecretPost,
    /// A public client (RFC 8252 native app, browser app): no credentials; PKCE, which `/authorize` requires of
    /// every client, is what ties the code to it.
    None,
}

impl AuthMethod {
    /// The registered name (RFC 8414 / RFC 8705).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
        }
    }

    /// Every method, key-based first.
    pub const ALL: [Self; 6] = [
        Self::PrivateKeyJwt,
        Self::TlsClientAuth,
        Self::SelfSignedTlsClientAuth,
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::None,
    ];

    /// Parse a registered name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// Whether the client proves a private key (an assertion or a TLS certificate) rather than a shared secret.
    pub fn is_key_based(self) -> bool {
        matches!(self, Self::PrivateKeyJwt | Self::TlsClientAuth | Self::SelfSignedTlsClientAuth)
    }

    /// Whether the method is a client secret.
    pub fn is_secret(self) -> bool {
        matches!(self, Self::ClientSecretBasic | Self::ClientSecretPost)
    }

    /// Whether a service's `clients` rule admits clients authenticating this way.
    pub fn admitted_by(self, rule: ClientRule) -> bool {
        match rule {
            ClientRule::KeyBased => self.is_key_based(),
            ClientRule::Confidential => self != Self::None,
            ClientRule::Any => true,
        }
    }
}

/// What the operator registered for a client (`oidc_clients.data`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Authentication method.
    pub auth: AuthMethod,
    /// Public keys (`private_key_jwt`, `self_signed_tls_client_auth`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// The certificate subject DN (`tls_client_auth`), as `hcpki cert show` prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_subject: Option<String>,
    /// The secrets' hashes (`client_secret_basic`, `client_secret_post`): the current one, and after a
    /// rotation the previous one until it retires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretHash>,
    /// The services-file id whose policy and claims apply.
    pub service: String,
    /// Where RP-initiated logout may return.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where back-channel logout tokens go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// The algorithm of the client's ID tokens, and of its access and logout tokens (its libraries verify
    /// them all); ES256 unless registered otherwise.
    #[serde(default, skip_serializing_if = "jws::is_default_alg")]
    pub id_token_signed_response_alg: jws::SigningAlg,
    /// When set, userinfo answers this client with a signed JWT (`application/jwt`, OIDC Core §5.3.2)
    /// instead of plain JSON, so the claims keep the provider's signature when the client stores or
    /// forwards them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<jws::SigningAlg>,
    /// RFC 9126 §6: the client may start an authorization only by pushing it (PAR); `/authorize` refuses its
    /// plain requests (FAPI 2.0 Security Profile §5.3.2.2). Omitted when false, as the RFC's default: a
    /// registration that does not require PAR reads the same to a server that predates the setting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// The clients whose audience this client may exchange a user's access token for (RFC 8693, D96). Omitted
    /// when empty, so registrations made before it read as "may not exchange".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_exchange_audiences: Vec<String>,
}

/// Who requires a client's authorization requests to be pushed ([`Client::must_push`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParRequiredBy {
    /// The client's registration (`require_pushed_authorization_requests`).
    Registration,
    /// The server, for every client (`[oidc] require_pushed_authorization_requests`).
    Server,
}

impl ParRequiredBy {
    /// Where the requirement comes from, for the refusal's description and audit entry.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "its registration",
            Self::Server => "this server",
        }
    }
}

/// A loaded client.
#[derive(Clone, Debug)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// Its registration.
    pub config: ClientConfig,
}

impl Client {
    /// The web console's built-in client ([`CONSOLE_CLIENT_ID`]): the console's policy is its grants
    /// ([`crate::policy::Service::console`]), its tokens are never handed out.
    pub fn console() -> Self {
        Self {
            id: CONSOLE_CLIENT_ID.to_owned(),
            config: ClientConfig {
                redirect_uris: Vec::new(),
                auth: AuthMethod::PrivateKeyJwt,
                jwks: None,
                tls_subject: None,
                secrets: Vec::new(),
                service: CONSOLE_CLIENT_ID.to_owned(),
                post_logout_redirect_uris: Vec::new(),
                backchannel_logout_uri: None,
                id_token_signed_response_alg: jws::SigningAlg::default(),
                userinfo_signed_response_alg: None,
                require_pushed_authorization_requests: false,
                token_exchange_audiences: Vec::new(),
            },
        }
    }

    /// Whether `/authorize` takes this client's requests only when pushed (RFC 9126 §4: "globally or on a
    /// per-client basis"): its registration says so, or the server does for every client (`[oidc]
    /// require_pushed_authorization_requests`, `server_wide`). The web console's built-in client never: the
    /// server writes its requests for itself (D42), to a redirect URI on its own hosts and with a code only it
    /// can redeem, so pushing would guard nothing, and it has no credentials to authenticate a push with.
    pub fn must_push(&self, server_wide: bool) -> Option<ParRequiredBy> {
        if self.id == CONSOLE_CLIENT_ID {
            None
        } else if self.config.require_pushed_authorization_requests {
            Some(ParRequiredBy::Registration)
        } else {
            server_wide.then_some(ParRequiredBy::Server)
        }
    }

    /// Whether `uri` is one of this client's redirect URIs: an exact registered one, or for the console's
    /// client exactly `console_callback` (`[console] url` + [`CONSOLE_CALLBACK_PATH`]; none when the key is
    /// unset). Pinned to one scheme, host, port and path (issue #24 item 12): any host the server certificate
    /// names, on any port, let a code travel to whatever listens on another port of that host (or of the
    /// loopback names the certificate carries by default).
    pub fn accepts_redirect(&self, uri: &str, console_callback: Option<&str>) -> bool {
        if self.id != CONSOLE_CLIENT_ID {
            return self.config.redirect_uris.iter().any(|u| u == uri || loopback_any_port(u, uri));
        }
        console_callback == Some(uri)
    }

    /// The pairwise sector (OIDC Core §8.1): the service the client acts for, so each service sees its own
    /// stable `sub` for a person, whatever host its redirect URIs name, and the clients of one service (a web
    /// front end and a mobile one, say) see the same one. A host-based sector would give two services behind
    /// one host the same `sub` and let them join their records of a person (issue #6: "per service").
    pub fn sector(&self) -> String {
        sector_of(&self.config.service)
    }
}

/// The pairwise sector of the services-file service `service` (see [`Client::sector`]): also the sector of a
/// patient-presence proof's patient reference for that service (D148), so each service sees its own.
pub fn sector_of(service: &str) -> String {
    format!("service:{service}")
}

/// The registered clients as this replica last read them, each re-read after at most `refresh` (D28 addendum):
/// a client is read on every back-channel request, and each statement costs a thread hand-off on SQLite.
/// `hcpki oidc client add|remove` runs in another process, so a change reaches every replica within `refresh`
/// (`[portal] services_refresh_secs`, like the services; 0 reads on every request). A removed client's grants
/// are revoked in the same transaction, so until then it can authenticate but redeem nothing issued before.
/// Unknown ids are not kept: the map holds at most the registered clients. Clients are shared (`Arc`), not
/// copied per request: a registration holds its JWKS.
#[derive(Debug)]
pub struct Registry {
    store: Arc<dyn ClientAreas>,
    refresh: Duration,
    cached: RwLock<HashMap<OidcClientId, (Arc<Client>, Instant)>>,
    /// The browser apps' origins ([`super::web_origins`]), read from every registration, re-read after `refresh`.
    web_origins: RwLock<Option<(Arc<BTreeSet<String>>, Instant)>>,
    secrets_allowed: bool,
}

impl Registry {
    /// The clients in `store`, each re-read after at most `refresh`; client secrets accepted.
    pub fn new(store: Arc<dyn ClientAreas>, refresh: Duration) -> Self {
        Self { store, refresh, cached: RwLock::default(), web_origins: RwLock::default(), secrets_allowed: true }
    }

    /// The same registry refusing every client secret when `allowed` is false (`[oidc] client_secrets`).
    pub fn with_secrets_allowed(self, allowed: bool) -> Self {
        Self { secrets_allowed: allowed, ..self }
    }

    /// Whether client secrets are accepted here.
    pub fn secrets_allowed(&self) -> bool {
        self.secrets_allowed
    }

    /// The database, for the checks of client authentication.
    pub fn store(&self) -> &dyn ClientAreas {
        self.store.as_ref()
    }

    /// Drop what this replica keeps of client `id` (it was just removed here), so it stops authenticating now
    /// rather than within `refresh`.
    pub fn forget(&self, id: &OidcClientId) {
        self.cached.write().unwrap_or_else(PoisonError::into_inner).remove(id);
        *self.web_origins.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Whether a page at `origin` (a request's `Origin` header) is a registered browser app's, whose calls the
    /// browser may read (CORS). A registration that no longer decodes counts for none: it authenticates nothing
    /// either.
    pub async fn is_web_origin(&self, origin: &str) -> Result<bool, OAuthError> {
        let kept = self.web_origins.read().unwrap_or_else(PoisonError::into_inner).clone();
        let origins = match kept {
            Some((origins, read_at)) if read_at.elapsed() < self.refresh => origins,
            _ => {
                let read_at = Instant::now();
                let records = self.store.oidc_clients().await?;
                let configs: Vec<ClientConfig> =
                    records.iter().filter_map(|r| serde_json::from_str(&r.data).ok()).collect();
                let origins = Arc::new(web_origins_of(&configs));
                *self.web_origins.write().unwrap_or_else(PoisonError::into_inner) = Some((origins.clone(), read_at));
                origins
            }
        };
        Ok(origins.contains(origin))
    }

    /// Load a client. The id is parsed where it enters (a request's `client_id`, a token's `aud`): a text that
    /// is none is refused there as malformed, or, read back from a grant or a token hcpki signed, names no client.
    pub async fn load(&self, id: &OidcClientId) -> Result<Option<Arc<Client>>, OAuthError> {
        if id.as_str() == CONSOLE_CLIENT_ID {
            // The console's client is built in and has no credentials: never a registered one (D42).
            return Ok(None);
        }
        let kept = self.cached.read().unwrap_or_else(PoisonError::into_inner).get(id).cloned();
        if let Some((client, read_at)) = kept
            && read_at.elapsed() < self.refresh
        {
            return Ok(Some(client));
        }
        let read_at = Instant::now();
        let Some(record) = self.store.oidc_client(id).await? else {
            self.cached.write().unwrap_or_else(PoisonError::into_inner).remove(id);
            return Ok(None);
        };
        let config: ClientConfig =
            serde_json::from_str(&record.data).map_err(|e| OAuthError::server(format!("client {id}: {e}")))?;
        let client = Arc::new(Client { id: record.id, config });
        if !self.refresh.is_zero() {
            self.cached.write().unwrap_or_else(PoisonError::into_inner).insert(id.clone(), (client.clone(), read_at));
        }
        Ok(Some(client))
    }

    /// The client named by text read back from hcpki's own records or tokens (a grant's or a record's
    /// `client_id`, a token's `aud` or `client_id` claim): a text that is no client id names none. What a request
    /// names is parsed at its edge instead, and refused there when malformed.
    pub async fn load_recorded(&self, text: &str) -> Result<Option<Arc<Client>>, OAuthError> {
        match OidcClientId::parse(text) {
            Ok(id) => self.load(&id).await,
            Err(_) => Ok(None),
        }
    }
}

/// The browser apps' origins among `clients`: only public clients' redirect URIs count ([`super::web_origins`]).
fn web_origins_of(clients: &[ClientConfig]) -> BTreeSet<String> {
    let public = clients.iter().filter(|c| c.auth == AuthMethod::None);
    super::web_origins::of_redirects(public.flat_map(|c| c.redirect_uris.iter().map(String::as_str)))
}

/// What a back-channel request sends to authenticate its client (RFC 7523 §2.2), read from its form at the
/// edge: each value as sent (an empty one is sent, not absent). A client certificate comes with the
/// connection instead ([`Presented::certificate`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `client_assertion` (`private_key_jwt`).
    pub assertion: Option<String>,
    /// `client_assertion_type`.
    pub assertion_type: Option<String>,
    /// `client_secret` in the form (`client_secret_post`).
    pub post_secret: Option<String>,
    /// HTTP Basic credentials (`client_secret_basic`): (client_id, secret), or why the header is not such.
    pub basic: Option<Result<(String, String), &'static str>>,
}

impl ClientCredentials {
    /// The credentials among a request's form fields.
    pub fn from_form(form: &HashMap<String, String>) -> Self {
        Self {
            client_id: form.get("client_id").cloned(),
            assertion: form.get("client_assertion").cloned(),
            assertion_type: form.get("client_assertion_type").cloned(),
            post_secret: form.get("client_secret").cloned(),
            basic: None,
        }
    }

    /// The same credentials with the request's `Authorization` header, when it is HTTP Basic (a Bearer token
    /// is the resource's business, not the client's credentials).
    pub fn with_authorization(self, header: Option<&str>) -> Self {
        let basic =
            header.filter(|h| h.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("basic "))).map(client_secret::basic);
        Self { basic, ..self }
    }

    /// How the request tried to authenticate, for the audit (never the credential itself).
    pub fn way(&self) -> &'static str {
        match (&self.assertion, &self.basic, &self.post_secret) {
            (Some(_), ..) => "client_assertion",
            (None, Some(_), _) => "http_basic",
            (None, None, Some(_)) => "client_secret",
            (None, None, None) => "none_or_certificate",
        }
    }

    /// The client the request claims to be, to name in a refusal's audit entry: its `client_id`, else its
    /// assertion's `iss` (unverified: only to say whose name was used).
    pub fn claimed(&self) -> Option<String> {
        let basic = || self.basic.as_ref().and_then(|b| b.as_ref().ok()).map(|(id, _)| id.clone());
        self.client_id.clone().or_else(basic).or_else(|| self.assertion.as_deref().and_then(jws::unverified_issuer))
    }
}

/// A back-channel endpoint as client authentication sees it: declared once beside the endpoint's core, so
/// who may call it is written where it is served and checked by [`verify`] itself, not by each caller after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Its path: an assertion may name its URL as its audience (besides the issuer and the token endpoint).
    pub path: &'static str,
    /// The clients it admits, by how they authenticate: [`ClientRule::Any`] where a public client's `client_id`
    /// is enough because something else binds the request to it (PKCE the code at `/token`, the token itself at
    /// `/revoke`); [`ClientRule::Confidential`] where the caller acts on its own authority (introspection, token
    /// exchange, the consent and signing-request APIs), which a public client has none of: anyone may send its
    /// `client_id`.
    pub callers: ClientRule,
}

/// The request's client credentials, as the endpoint saw them.
#[derive(Debug)]
pub struct Presented<'a> {
    /// What the form sent.
    pub credentials: &'a ClientCredentials,
    /// The TLS client certificate (mTLS listener only).
    pub certificate: Option<&'a [u8]>,
    /// Audiences the assertion may name: the endpoint URLs and the issuer.
    pub audiences: Vec<String>,
    /// The time of the request (assertion lifetimes, certificate validity, the jti's record).
    pub now: i64,
}

/// A client whose credentials verified.
#[derive(Debug)]
pub struct Verified {
    /// The client.
    pub client: Arc<Client>,
    /// Its assertion's jti, which must still be recorded (single use) before the request counts as
    /// authenticated: by [`authenticate`], or by the token endpoint together with its other writes.
    pub once: Option<OnceRecord>,
}

/// Authenticate the client of a back-channel request as one the endpoint admits ([`Endpoint::callers`],
/// [`verify`]), the assertion's jti recorded.
pub async fn authenticate(
    clients: &Registry,
    presented: &Presented<'_>,
    callers: ClientRule,
) -> Result<Arc<Client>, OAuthError> {
    let verified = verify(clients, presented, callers).await?;
    if let Some(once) = &verified.once {
        let fresh = clients
            .store()
            .oidc_once_put(
                &once.kind,
                &once.key,
                "",
                UnixTime::from_secs(once.expires_at),
                UnixTime::from_secs(presented.now),
            )
            .await
            .map_err(OAuthError::store)?;
        if !fresh {
            return Err(assertion_replayed());
        }
    }
    Ok(verified.client)
}

/// The refusal of a client the endpoint does not take, whatever it sent: saying why, for the caller and the
/// audit entry.
fn not_admitted(client: &Client, callers: ClientRule) -> OAuthError {
    let admitted = match callers {
        ClientRule::KeyBased => "key-based clients (private_key_jwt or a TLS client certificate)",
        ClientRule::Confidential => {
            "confidential clients (private_key_jwt, a TLS client certificate or a client secret)"
        }
        ClientRule::Any => "any client",
    };
    let method = client.config.auth;
    OAuthError::invalid_client(if method == AuthMethod::None {
        format!(
            "client {} is a public client (registered with auth none): its client_id is no credential, and this \
             endpoint, where the caller acts on its own authority, takes {admitted} only; call it from the \
             service's server as such a client",
            client.id
        )
    } else {
        format!("client {} authenticates with {}: this endpoint takes {admitted} only", client.id, method.as_str())
    })
}

/// The refusal of a client assertion used before.
pub fn assertion_replayed() -> OAuthError {
    OAuthError::invalid_client("the client assertion was used before (jti replay)")
}

/// Check the credentials of a back-channel request's client, writing nothing; a client `callers` does not
/// admit ([`Endpoint::callers`]) is refused whatever it sent.
pub async fn verify(
    clients: &Registry,
    presented: &Presented<'_>,
    callers: ClientRule,
) -> Result<Verified, OAuthError> {
    let store = clients.store();
    let sent = presented.credentials;
    // Parsed once: its unverified iss finds the client, then its signature and claims are checked.
    let assertion = sent
        .assertion
        .as_deref()
        .map(|a| Parsed::parse(a).map_err(|e| OAuthError::invalid_client(e.to_string())))
        .transpose()?;
    let basic = match &sent.basic {
        Some(Err(why)) => return Err(OAuthError::invalid_client(*why)),
        Some(Ok((id, secret))) => Some((id.as_str(), secret.as_str())),
        None => None,
    };
    let claimed = match (&assertion, basic) {
        (Some(a), _) => Some(assertion_issuer(a)?),
        (None, Some((id, _))) => Some(id),
        (None, None) => sent.client_id.as_deref(),
    };
    let Some(client_id) = claimed else {
        return Err(OAuthError::invalid_client("no client authentication: send a client_assertion or use mTLS"));
    };
    if let Some(form_id) = sent.client_id.as_deref()
        && client_id != form_id
    {
        return Err(OAuthError::invalid_client("client_id differs from the assertion's issuer or the Basic user"));
    }
    // One method per request (RFC 6749 §2.3: a client must not use more than one).
    let methods = [assertion.is_some(), basic.is_some(), sent.post_secret.is_some()];
    if methods.iter().filter(|m| **m).count() > 1 {
        return Err(OAuthError::invalid_client(
            "more than one client authentication in one request: send only the one the client is registered for",
        ));
    }
    // The id the request names is parsed here, once: a text that is no client id is a malformed request (400),
    // not an unknown client.
    let client_id = OidcClientId::parse(client_id).map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    let client = clients.load(&client_id).await?.ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
    if !client.config.auth.admitted_by(callers) {
        return Err(not_admitted(&client, callers));
    }
    let once = match (client.config.auth, &assertion, presented.certificate) {
        (AuthMethod::PrivateKeyJwt, Some(a), _) => {
            if sent.assertion_type.as_deref() != Some(JWT_BEARER) {
                return Err(OAuthError::invalid_client("client_assertion_type must be jwt-bearer (RFC 7523)"));
            }
            Some(check_assertion(&client, a, &presented.audiences, presented.now)?)
        }
        (AuthMethod::TlsClientAuth, None, Some(cert)) => {
            check_tls_subject(store, &client, cert, presented.now).await?;
            None
        }
        (AuthMethod::SelfSignedTlsClientAuth, None, Some(cert)) => {
            check_self_signed(&client, cert)?;
            None
        }
        (AuthMethod::ClientSecretBasic, None, _) if basic.is_some() => {
            check_secret(clients, &client, basic.map(|(_, s)| s), presented.now)?;
            None
        }
        (AuthMethod::ClientSecretPost, None, _) if sent.post_secret.is_some() => {
            check_secret(clients, &client, sent.post_secret.as_deref(), presented.now)?;
            None
        }
        // A public client sends its client_id and nothing else: a credential it could not keep would prove nothing.
        (AuthMethod::None, None, _) if basic.is_none() && sent.post_secret.is_none() => None,
        (method, _, _) => {
            return Err(OAuthError::invalid_client(format!(
                "this client authenticates with {} (on the mTLS endpoints for certificate methods)",
                method.as_str()
            )));
        }
    };
    Ok(Verified { client, once })
}

/// RFC 8252 §7.3: a native app's loopback redirect URI registered without a port (`http://127.0.0.1/cb`,
/// `http://[::1]/cb`) matches the same URI with any port, since the app listens on whatever port the system
/// gives it. Everything else must be the same; `localhost` is not a loopback IP literal (§8.3) and gets no
/// such match.
fn loopback_any_port(registered: &str, presented: &str) -> bool {
    for host in ["http://127.0.0.1", "http://[::1]"] {
        let (Some(reg_path), Some(rest)) = (registered.strip_prefix(host), presented.strip_prefix(host)) else {
            continue;
        };
        if !reg_path.starts_with('/') {
            return false;
        }
        let Some(after_colon) = rest.strip_prefix(':') else { return false };
        let digits = after_colon.bytes().take_while(u8::is_ascii_digit).count();
        let port_ok = (1..=5).contains(&digits)
            && after_colon.get(..digits).and_then(|p| p.parse::<u16>().ok()).is_some_and(|p| p != 0);
        return port_ok && after_colon.get(digits..) == Some(reg_path);
    }
    false
}

/// `client_secret_basic` / `client_secret_post`: secrets allowed here, and the secret one of the client's.
fn check_secret(clients: &Registry, client: &Client, secret: Option<&str>, now: i64) -> Result<(), OAuthError> {
    if !clients.secrets_allowed() {
        return Err(OAuthError::invalid_client(
            "this provider accepts no client secrets ([oidc] client_secrets = false): register the client with a key",
        ));
    }
    if !secret.is_some_and(|s| client_secret::matches(&client.config.secrets, s, now)) {
        return Err(OAuthError::invalid_client(
            "the client secret is wrong or retired: use the current secret (`hcpki oidc client rotate-secret` makes one)",
        ));
    }
    Ok(())
}

/// The unverified `iss` of an assertion, to find the client and its keys.
fn assertion_issuer(parsed: &Parsed) -> Result<&str, OAuthError> {
    parsed
        .claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| OAuthError::invalid_client("the client assertion has no iss"))
}

/// RFC 7523 §3: signature by a registered key, iss = sub = client_id, aud names us, unexpired and short; the
/// jti to record (the caller makes sure it was never seen before).
fn check_assertion(client: &Client, parsed: &Parsed, audiences: &[String], now: i64) -> Result<OnceRecord, OAuthError> {
    let keys = client.config.jwks.as_ref().and_then(|j| j.get("keys")).and_then(Value::as_array);
    let kid = parsed.header.get("kid").and_then(Value::as_str);
    let verified = keys
        .into_iter()
        .flatten()
        .filter(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid)
        .any(|k| jws::verify_with(k, parsed).is_ok());
    if !verified {
        return Err(OAuthError::invalid_client(
            "the client assertion's signature does not verify with the registered keys",
        ));
    }
    let c = &parsed.claims;
    let text = |name: &str| c.get(name).and_then(Value::as_str);
    if text("iss") != Some(&client.id) || text("sub") != Some(&client.id) {
        return Err(OAuthError::invalid_client("the client assertion's iss and sub must both be the client_id"));
    }
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => audiences.contains(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(|a| audiences.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err(OAuthError::invalid_client("the client assertion's aud must be the token endpoint or the issuer"));
    }
    let exp = c
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| OAuthError::invalid_client("the client assertion has no exp"))?;
    // Saturating, as every sum with a time the client wrote (issue #42 item 6): an `exp` near the ends of i64
    // must not wrap into the window.
    if exp.saturating_add(CLOCK_LEEWAY_SECS) <= now {
        return Err(OAuthError::invalid_client(
            "the client assertion has expired (more than a minute ago: check the service's clock)",
        ));
    }
    if exp.saturating_sub(now) > MAX_ASSERTION_SECS + CLOCK_LEEWAY_SECS {
        return Err(OAuthError::invalid_client("the client assertion lives too long: exp at most one hour ahead"));
    }
    for (claim, meaning) in [("nbf", "is not valid yet"), ("iat", "was issued in the future")] {
        if c.get(claim).and_then(Value::as_i64).is_some_and(|t| t > now + CLOCK_LEEWAY_SECS) {
            return Err(OAuthError::invalid_client(format!(
                "the client assertion {meaning} ({claim} more than a minute ahead: check the service's clock)"
            )));
        }
    }
    let jti = text("jti").ok_or_else(|| OAuthError::invalid_client("the client assertion has no jti"))?;
    Ok(OnceRecord {
        kind: "jti".into(),
        // Length-prefixed, so no (client, jti) pair can collide with another; no NUL (PostgreSQL text refuses it).
        key: format!("{}:{}:{jti}", client.id.len(), client.id),
        // Kept until exp plus the leeway twice: a replica accepts the assertion until exp plus the leeway by its
        // own clock, and the replica that sweeps the row may run up to the leeway ahead of it; a replay inside
        // either is still refused.
        expires_at: exp + 2 * CLOCK_LEEWAY_SECS,
    })
}

/// `tls_client_auth`: a certificate this CA issued (byte-identical record, still issued) whose subject DN is
/// the registered one. The registry check stands in for path validation: only our own certificates count.
async fn check_tls_subject(store: &dyn Issuance, client: &Client, der: &[u8], now: i64) -> Result<(), OAuthError> {
    let cert = <x509_cert::Certificate as der::Decode>::from_der(der)
        .map_err(|_| OAuthError::invalid_client("the client certificate does not decode"))?;
    let record = store.certificate_with_serial_octets(cert.tbs_certificate().serial_number().as_bytes()).await?;
    let good = record.is_some_and(|r| {
        r.der.as_deref() == Some(der) && r.status == hcpki_ca::store::CertStatus::Issued && r.not_after > now
    });
    let subject = cert.tbs_certificate().subject().to_string();
    if !good || client.config.tls_subject.as_deref() != Some(subject.as_str()) {
        return Err(OAuthError::invalid_client("the client certificate is not this client's (tls_client_auth)"));
    }
    Ok(())
}

/// `self_signed_tls_client_auth`: the certificate's key is one of the registered JWKs.
fn check_self_signed(client: &Client, der: &[u8]) -> Result<(), OAuthError> {
    let presented = jws::certificate_jwk(der).map(|k| jws::thumbprint(&k));
    let keys = client.config.jwks.as_ref().and_then(|j| j.get("keys")).and_then(Value::as_array);
    let known = keys.into_iter().flatten().any(|k| Some(jws::thumbprint(k)) == presented);
    if presented.is_none() || !known {
        return Err(OAuthError::invalid_client(
            "the client certificate's key is not registered (self_signed_tls_client_auth)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_client_redirects_only_to_the_configured_console() {
        let pinned = Some("https://ca.example.jp:8443/console/login/callback");
        let c = Client::console();
        assert!(c.accepts_redirect("https://ca.example.jp:8443/console/login/callback", pinned));
        for bad in [
            "https://ca.example.jp:9443/console/login/callback",
            "https://ca.example.jp/console/login/callback",
            "https://localhost:8443/console/login/callback",
            "https://127.0.0.1:8443/console/login/callback",
            "https://[::1]:8443/console/login/callback",
            "http://ca.example.jp:8443/console/login/callback",
            "https://CA.example.jp:8443/console/login/callback",
            "https://ca.example.jp:8443/console/login/callback?x=1",
            "https://ca.example.jp:8443/console/login/callbackx",
            "https://evil@ca.example.jp:8443/console/login/callback",
            "/console/login/callback",
        ] {
            assert!(!c.accepts_redirect(bad, pinned), "{bad}");
        }
        assert!(!c.accepts_redirect("https://localhost/console/login/callback", None), "no [console] url: none");
        // A registered client keeps its exact list; the console's rule is not its.
        let mut other = Client::console();
        other.id = "rp".into();
        other.config.redirect_uris = vec!["https://rp.example/cb".into()];
        assert!(other.accepts_redirect("https://rp.example/cb", pinned));
        assert!(!other.accepts_redirect("https://ca.example.jp:8443/console/login/callback", pinned));
    }

    #[test]
    fn pushed_requests_are_required_by_the_registration_or_the_server_never_of_the_console() {
        let mut rp = Client::console();
        rp.id = "rp".into();
        assert_eq!(rp.must_push(false), None);
        assert_eq!(rp.must_push(true), Some(ParRequiredBy::Server));
        rp.config.require_pushed_authorization_requests = true;
        assert_eq!(rp.must_push(false), Some(ParRequiredBy::Registration));
        assert_eq!(rp.must_push(true), Some(ParRequiredBy::Registration));
        assert_eq!(Client::console().must_push(true), None, "the console's built-in client cannot push");
        // Stored without the key (a registration from before the setting, or one that does not require PAR).
        let old = r#"{"redirect_uris":["https://rp.example/cb"],"auth":"private_key_jwt","service":"wiki"}"#;
        let config: ClientConfig = serde_json::from_str(old).unwrap();
        assert!(!config.require_pushed_authorization_requests);
        assert!(!serde_json::to_string(&config).unwrap().contains("require_pushed"), "false is omitted");
    }

    #[test]
    fn a_loopback_redirect_registered_without_a_port_takes_any_port_and_nothing_else() {
        let mut app = Client::console();
        app.id = "emr-desktop".into();
        app.config.redirect_uris = vec!["http://127.0.0.1/cb".into(), "http://[::1]/cb".into()];
        for ok in ["http://127.0.0.1/cb", "http://127.0.0.1:51234/cb", "http://[::1]:8080/cb", "http://127.0.0.1:1/cb"]
        {
            assert!(app.accepts_redirect(ok, None), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:51234/cb2",
            "http://127.0.0.1:51234/cb?x=1",
            "http://127.0.0.1:0/cb",
            "http://127.0.0.1:123456/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1:80@evil.example/cb",
            "http://127.0.0.10:8080/cb",
            "http://localhost:8080/cb",
            "https://127.0.0.1:8080/cb",
        ] {
            assert!(!app.accepts_redirect(bad, None), "{bad}");
        }
        // A loopback URI registered with a port is exact, as every other URI.
        app.config.redirect_uris = vec!["http://127.0.0.1:9000/cb".into()];
        assert!(!app.accepts_redirect("http://127.0.0.1:9001/cb", None));
    }

    #[test]
    fn a_services_client_rule_admits_methods_by_strength() {
        for m in AuthMethod::ALL {
            assert!(m.admitted_by(ClientRule::Any), "{m:?}");
            assert_eq!(m.admitted_by(ClientRule::Confidential), m != AuthMethod::None, "{m:?}");
            assert_eq!(m.admitted_by(ClientRule::KeyBased), m.is_key_based(), "{m:?}");
            assert_eq!(AuthMethod::from_name(m.as_str()), Some(m));
        }
        assert!(!AuthMethod::None.is_secret() && !AuthMethod::None.is_key_based());
    }

    #[test]
    fn the_pairwise_sector_is_the_service_not_the_host() {
        let client = |id: &str, service: &str, redirect: &str| {
            let mut c = Client::console();
            c.id = id.into();
            c.config.service = service.into();
            c.config.redirect_uris = vec![redirect.into()];
            c
        };
        let emr = client("emr-web", "emr", "https://apps.example/emr/cb");
        let wiki = client("wiki", "wiki", "https://apps.example/wiki/cb");
        let emr_mobile = client("emr-mobile", "emr", "https://m.example/cb");
        assert_ne!(emr.sector(), wiki.sector(), "two services behind one host");
        assert_eq!(emr.sector(), emr_mobile.sector(), "two clients of one service");
    }

    /// Only public clients' redirect URIs make browser-app origins; a confidential client's site never does.
    #[test]
    fn only_public_clients_make_origins() {
        let client = |auth: AuthMethod, uris: &[&str]| {
            let mut c = Client::console().config;
            c.auth = auth;
            c.redirect_uris = uris.iter().map(|u| (*u).to_owned()).collect();
            c
        };
        let clients = [
            client(AuthMethod::None, &["https://app.example.jp/cb", "http://127.0.0.1/cb", "com.example:/cb"]),
            client(AuthMethod::None, &["https://app.example.jp/other"]),
            client(AuthMethod::PrivateKeyJwt, &["https://wiki.example.jp/cb"]),
            client(AuthMethod::ClientSecretBasic, &["https://apache.example.jp/cb"]),
        ];
        let origins: Vec<String> = web_origins_of(&clients).into_iter().collect();
        assert_eq!(origins, ["http://127.0.0.1", "https://app.example.jp"]);
    }
}
