//! Unit tests of the HTTP-free endpoint cores: refusals reached with a typed request and an in-memory store,
//! no listener and no axum. The end-to-end cases (real clients, both databases) are in
//! tests/integration/oidc.rs and oidc_refusals.rs.

use super::authorize::{self, AuthorizeAnswer, AuthorizeCall, PageStatus, ParCall, SessionLookup};
use super::client::{ClientCredentials, Registry};
use super::endpoints::{self, TokenQuery, UserinfoError};
use super::exchange::Exchanges;
use super::keys::{KeyRing, SigningKeys};
use super::token::{self, TokenRequest, TokenRequestError};
use super::{Context, ErrorStatus, Lifetimes, Provider};
use crate::catalog::Catalog;
use crate::consent::token_claim::TokenClaims;
use crate::outbound::HttpPost;
use crate::refusals::Refusals;
use crate::secret::PortalSecret;
use crate::session::Sessions;
use crate::token_endpoint::TokenCall;
use hcpki_ca::audit::Outcome;
use hcpki_pkix::time::{Clock, FixedClock};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const NOW: i64 = 1_800_000_000;

struct Fixture {
    provider: Provider,
    refusals: Refusals,
    services: Catalog,
    secret: Arc<PortalSecret>,
    sessions: Sessions,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Self {
        let store = hcpki_ca::store::open("sqlite::memory:").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let secret = Arc::new(PortalSecret::load_or_create(&dir.path().join("portal.secret")).unwrap());
        let lifetimes =
            Lifetimes { code: 60, id_token: 300, access_token: 300, refresh_token: 3600, par: 60, par_login: 600 };
        let clock: Arc<dyn Clock> = Arc::new(FixedClock::at(NOW));
        let provider = Provider {
            issuer: "https://portal.unit".into(),
            mtls_base: None,
            keys: Arc::new(KeyRing::new(SigningKeys::none())),
            store: store.clone(),
            clients: Registry::new(store.clone(), Duration::ZERO),
            logout: Arc::new(NoNetwork),
            lifetimes,
            exchanges: Exchanges::start(store.clone(), clock.clone(), lifetimes.refresh_token),
            console_callback: None,
            require_par: false,
            dpop_nonce: true,
            clock: clock.clone(),
            home_community_id: None,
            break_glass_webhook: None,
            signals: Arc::new(super::NoSignals),
            ssf_wake: Arc::new(tokio::sync::Notify::new()),
        };
        Self {
            provider,
            refusals: Refusals::start(store.clone(), clock.clone()),
            services: Catalog::new(store.clone(), None, Duration::ZERO, clock),
            sessions: Sessions::new(store, secret.clone(), 3600, None),
            secret,
            _dir: dir,
        }
    }

    fn ctx(&self) -> Context<'_> {
        Context { provider: &self.provider, refusals: &self.refusals, services: &self.services, secret: &self.secret }
    }

    async fn authorize(&self, pairs: &[(&str, &str)]) -> AuthorizeAnswer {
        let call = AuthorizeCall {
            params: form(pairs),
            session: SessionLookup { sessions: &self.sessions, cookie: None },
            certificate: None,
            confirmed: None,
        };
        authorize::authorize(self.ctx(), call, NOW).await
    }
}

fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The OIDC core's call of a token request's form (not a token exchange).
fn grant_call(form: &HashMap<String, String>) -> token::TokenCall<'static> {
    match TokenCall::parse(form.clone(), None) {
        TokenCall::Grant(call) => call,
        other => panic!("not a code or refresh token: {form:?} {other:?}"),
    }
}

fn parse_grant(form: &HashMap<String, String>) -> Result<TokenRequest, TokenRequestError> {
    grant_call(form).request
}

#[test]
fn the_token_form_parses_into_one_request_per_grant_type() {
    let code = form(&[("grant_type", "authorization_code"), ("code", "g.s"), ("code_verifier", "v")]);
    assert_eq!(
        parse_grant(&code),
        Ok(TokenRequest::AuthorizationCode { code: "g.s".into(), redirect_uri: None, code_verifier: Some("v".into()) })
    );
    let refresh = form(&[("grant_type", "refresh_token"), ("refresh_token", "g.r")]);
    let parsed = parse_grant(&refresh).unwrap();
    assert_eq!((parsed.token(), parsed.grant_id()), ("g.r", Some("g")));
    let refused = |pairs: &[(&str, &str)]| parse_grant(&form(pairs)).unwrap_err();
    assert_eq!(refused(&[]), TokenRequestError::NoGrantType);
    assert_eq!(refused(&[("grant_type", "")]), TokenRequestError::NoGrantType, "empty is absent");
    assert_eq!(refused(&[("grant_type", "authorization_code"), ("code", "")]), TokenRequestError::NoCode);
    assert_eq!(refused(&[("grant_type", "refresh_token")]), TokenRequestError::NoRefreshToken);
    let password = refused(&[("grant_type", "password")]);
    assert_eq!(password, TokenRequestError::UnsupportedGrantType("password".into()));
    let e = password.oauth();
    assert_eq!(
        (e.status, e.error, e.description.as_str()),
        (ErrorStatus::BadRequest, "unsupported_grant_type", "grant_type password is not supported")
    );
    assert_eq!(TokenRequestError::NoCode.oauth().error, "invalid_request");
    let exchange = form(&[("grant_type", crate::token_exchange::GRANT_TYPE), ("subject_token", "t")]);
    assert!(matches!(TokenCall::parse(exchange, None), TokenCall::Exchange(_)), "one dispatch for every grant");
    let scim = form(&[("grant_type", "client_credentials"), ("scope", "scim"), ("client_id", "hr")]);
    assert!(
        matches!(TokenCall::parse(scim, None), TokenCall::ClientCredentials(c) if c.scope.as_deref() == Some("scim")),
        "client_credentials is dispatched to the SCIM grant"
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_an_unauthenticated_client_before_its_grant() {
    let f = Fixture::new().await;
    let none = form(&[("grant_type", "password")]);
    let e = token::token(f.ctx(), grant_call(&none), &TokenClaims, &crate::presence::Gate, NOW).await.unwrap_err();
    assert_eq!((e.status, e.error), (ErrorStatus::Unauthorized, "invalid_client"));
    assert!(e.description.contains("no client authentication"), "{}", e.description);
    let unknown = form(&[("grant_type", "authorization_code"), ("code", "g.s"), ("client_id", "nobody")]);
    let e = token::token(f.ctx(), grant_call(&unknown), &TokenClaims, &crate::presence::Gate, NOW).await.unwrap_err();
    assert_eq!((e.error, e.description.as_str()), ("invalid_client", "unknown client"));
    let garbled = form(&[("client_assertion", "not.a.jws"), ("client_id", "rp")]);
    let e = token::token(f.ctx(), grant_call(&garbled), &TokenClaims, &crate::presence::Gate, NOW).await.unwrap_err();
    assert_eq!(e.status, ErrorStatus::Unauthorized);
}

#[tokio::test]
async fn authorize_refuses_with_a_page_until_the_client_and_redirect_uri_are_known_good() {
    let f = Fixture::new().await;
    let page = |answer: AuthorizeAnswer| match answer {
        AuthorizeAnswer::Refused { status, message } => (status, message),
        other => panic!("not a refusal page: {other:?}"),
    };
    let (status, message) = page(f.authorize(&[("response_type", "code")]).await);
    assert_eq!((status, message.as_str()), (PageStatus::BadRequest, "client_id is missing (invalid_request)"));
    let (_, message) = page(f.authorize(&[("client_id", "nobody")]).await);
    assert_eq!(message, "unknown client_id (invalid_request)");
    let pushed = [("client_id", "rp"), ("request_uri", "urn:ietf:params:oauth:request_uri:made-up")];
    let (_, message) = page(f.authorize(&pushed).await);
    assert!(message.ends_with("(invalid_request_uri)"), "{message}");
    // The console's built-in client without `[console] url`: refused, naming the key to set.
    let (_, message) = page(f.authorize(&[("client_id", super::client::CONSOLE_CLIENT_ID)]).await);
    assert!(message.contains("[console] url"), "{message}");
}

#[tokio::test]
async fn par_introspect_revoke_and_userinfo_refuse_without_credentials() {
    let f = Fixture::new().await;
    let e = authorize::par(f.ctx(), ParCall::parse(form(&[("response_type", "code")]), None), NOW).await.unwrap_err();
    assert_eq!((e.status, e.error), (ErrorStatus::Unauthorized, "invalid_client"));
    let query = || TokenQuery::parse(&form(&[("token", "x")]), None);
    let e = endpoints::introspect(f.ctx(), query(), NOW).await.unwrap_err();
    assert_eq!(e.error, "invalid_client");
    let e = endpoints::revoke(f.ctx(), query(), NOW).await.unwrap_err();
    assert_eq!(e.error, "invalid_client");
    match endpoints::userinfo(f.ctx(), endpoints::AccessPresented::bearer(None), None, NOW).await {
        Err(UserinfoError::Bearer { error, .. }) => assert_eq!(error, "invalid_request"),
        other => panic!("{other:?}"),
    }
    match endpoints::userinfo(f.ctx(), endpoints::AccessPresented::bearer(Some("not-a-token")), None, NOW).await {
        Err(UserinfoError::Bearer { error, .. }) => assert_eq!(error, "invalid_token"),
        other => panic!("{other:?}"),
    }
    assert_eq!(ClientCredentials::from_form(&form(&[])), ClientCredentials::default());
}

/// Issue #42 item 1: a public client's `client_id` authenticates it where something else binds the request
/// (`/token`, `/par`, `/revoke`), and nowhere the caller acts on its own authority (introspection, token
/// exchange, the signing-request and consent APIs): there it is `invalid_client` saying why, whatever it sent.
#[tokio::test]
async fn a_public_clients_id_is_no_credential_where_the_caller_acts_on_its_own_authority() {
    let f = Fixture::new().await;
    let app = super::registration::Registration {
        id: "app".into(),
        redirect_uris: vec!["http://127.0.0.1/cb".into()],
        auth: "none".into(),
        jwks: None,
        tls_subject: None,
        service: "wiki".into(),
        post_logout_redirect_uris: Vec::new(),
        backchannel_logout_uri: None,
        id_token_signed_response_alg: super::jws::SigningAlg::default(),
        userinfo_signed_response_alg: None,
        require_pushed_authorization_requests: false,
        token_exchange_audiences: Vec::new(),
    };
    let deployment = super::registration::Deployment { services: None, secrets_allowed: true, consent: None };
    let actor = hcpki_ca::store::Actor::cli("test");
    super::registration::register(f.provider.store.as_ref(), deployment, app, &actor, NOW * 1000).await.unwrap();
    let public_refusal = |e: super::OAuthError| {
        assert_eq!((e.status, e.error), (ErrorStatus::Unauthorized, "invalid_client"), "{}", e.description);
        assert!(e.description.contains("client app is a public client"), "{}", e.description);
        assert!(e.description.contains("confidential clients"), "{}", e.description);
    };
    let with_id = |more: &[(&str, &str)]| {
        let mut pairs = vec![("client_id", "app")];
        pairs.extend_from_slice(more);
        form(&pairs)
    };

    // Admitted: the token endpoint (the code is unknown, so invalid_grant), PAR (the redirect URI), revocation.
    let code = with_id(&[("grant_type", "authorization_code"), ("code", "g.s"), ("code_verifier", "v")]);
    let e = token::token(f.ctx(), grant_call(&code), &TokenClaims, &crate::presence::Gate, NOW).await.unwrap_err();
    assert_eq!(e.error, "invalid_grant", "{}", e.description);
    let e = authorize::par(f.ctx(), ParCall::parse(with_id(&[("response_type", "code")]), None), NOW).await;
    assert_eq!(e.unwrap_err().error, "invalid_request");
    endpoints::revoke(f.ctx(), TokenQuery::parse(&with_id(&[("token", "x")]), None), NOW).await.unwrap();

    // Refused, with or without a token.
    public_refusal(
        endpoints::introspect(f.ctx(), TokenQuery::parse(&with_id(&[("token", "x")]), None), NOW).await.unwrap_err(),
    );
    let exchange = with_id(&[
        ("grant_type", crate::token_exchange::GRANT_TYPE),
        ("subject_token", "x"),
        ("subject_token_type", crate::token_exchange::ACCESS_TOKEN_TYPE),
        ("audience", "rp"),
    ]);
    let call = crate::token_exchange::ExchangeCall::parse(exchange, None);
    public_refusal(crate::token_exchange::token_exchange(f.ctx(), call, NOW).await.unwrap_err());
    let credentials = ClientCredentials::from_form(&with_id(&[]));
    let fields = form(&[("format", "cades"), ("document", "eA==")]);
    let now_ms = NOW * 1000;
    let e = crate::signing_requests::create(f.ctx(), &credentials, None, Some("token"), &fields, now_ms).await;
    public_refusal(e.unwrap_err());
    public_refusal(
        crate::signing_requests::status(f.ctx(), &credentials, None, &"id".parse().unwrap(), now_ms).await.unwrap_err(),
    );
    let consent = crate::consent::settings::ConsentSettings::default();
    let e = crate::consent::api::create(f.ctx(), &consent, &credentials, None, Some("token"), &fields, now_ms).await;
    public_refusal(e.unwrap_err());
    public_refusal(
        crate::consent::api::status(f.ctx(), &credentials, None, &"id".parse().unwrap(), now_ms).await.unwrap_err(),
    );
    public_refusal(crate::consent::api::check(f.ctx(), &credentials, None, &fields, now_ms).await.unwrap_err());
    public_refusal(crate::consent::api::events(f.ctx(), &credentials, None, &fields, now_ms).await.unwrap_err());
}

/// The provider's POST client here: no case ends a session, so no logout token is sent; one would be a failed
/// delivery (a unit test has no receiver; the `oidc` integration module POSTs to real ones).
#[derive(Debug)]
struct NoNetwork;

#[async_trait::async_trait]
impl HttpPost for NoNetwork {
    async fn deliver(&self, _: &str, _: &str, _: &str, _: Vec<u8>) -> (Outcome, String) {
        (Outcome::Failed, "no network in the unit tests".into())
    }
}
