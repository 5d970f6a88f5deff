//! The portal's listeners: the browser-facing one (same TLS policy as the main listener; it *requests* a
//! client certificate from the facility PC CA only, so browsers offer only facility certificates, and leaves
//! revocation to the registry check of each request, which answers with a page rather than a TLS alert), and,
//! when configured, the mutual-TLS alias listener of the token endpoints (RFC 8705 §5), which takes a
//! client certificate from any issuer: it serves only client-authenticated endpoints, where a certificate
//! authenticates nothing until the client authentication layer matches it to a registered client.

use crate::config::{Loaded, OidcConfig, Period, PortalConfig};
use crate::http::tls;
use crate::outbound::post::{self, Poster};
use crate::portal::PortalState;
use crate::portal::card_login::CardLogin;
use anyhow::{Context, Result};
use hcpki_ca::{Authority, CaName};
use hcpki_pkix::keys::KeySource;
use hcpki_pkix::time::Clock;
use hcpki_sso::catalog::Catalog;
use hcpki_sso::oidc::keys::{self, KeyRing, Schedule};
use hcpki_sso::oidc::{CODE_SECS, Lifetimes, Provider, backchannel, client, iua};
use hcpki_sso::outbound::HttpPost;
use hcpki_sso::secret::PortalSecret;
use hcpki_sso::session::Sessions;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use std::net::TcpListener;
use std::sync::Arc;

/// Bound listeners with their TLS configurations and routes, ready to serve.
#[derive(Debug)]
pub struct Prepared {
    /// The portal listener.
    pub portal: (TcpListener, ServerConfig),
    /// The mTLS alias listener.
    pub mtls: Option<(TcpListener, ServerConfig)>,
    /// The state the routes serve.
    pub state: PortalState,
}

/// Bind the portal listeners and build the provider.
pub fn prepare(
    cfg: &PortalConfig,
    loaded: &Loaded,
    authority: &Arc<Authority>,
    chain: &[Vec<u8>],
    server_key: Arc<dyn KeySource>,
) -> Result<Prepared> {
    let listener = TcpListener::bind(cfg.listen)
        .with_context(|| format!("cannot listen for the portal on {}: pick another [portal] listen", cfg.listen))?;
    let port = listener.local_addr()?.port();
    let issuer = cfg.issuer.clone().unwrap_or_else(|| format!("https://localhost:{port}"));
    let pc_ca = authority.ca_certificate(CaName::Pc)?;
    // Revocation is the registry's (`portal::facility`), which shows the person at the PC why they are refused.
    let portal_tls = tls::server_config(chain, server_key, &[pc_ca], tls::RevokedClients::ByRegistry)?;
    let mtls = match cfg.mtls_listen {
        Some(addr) => {
            let l = TcpListener::bind(addr)
                .with_context(|| format!("cannot listen for the portal's mTLS endpoints on {addr}"))?;
            let provider = Arc::new(tls::provider());
            let mut config = ServerConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])?
                .with_client_cert_verifier(Arc::new(AnyClientCertificate(provider)))
                .with_cert_resolver(portal_tls.cert_resolver.clone());
            config.alpn_protocols = portal_tls.alpn_protocols.clone();
            Some((l, config))
        }
        None => None,
    };
    let mtls_base = match &mtls {
        Some((l, _)) => {
            let host = cfg.mtls_host.clone().unwrap_or_else(|| "localhost".into());
            Some(format!("https://{host}:{}", l.local_addr()?.port()))
        }
        None => None,
    };
    let secret = Arc::new(PortalSecret::load_or_create(&loaded.dir.join(&cfg.secret_file))?);
    let store = authority.store().clone();
    let refresh = std::time::Duration::from_secs(cfg.services_refresh_secs.into());
    let clock = authority.clock().clone();
    let seed = cfg.services.as_ref().map(|f| loaded.dir.join(f));
    let services = Arc::new(Catalog::new(store.clone(), seed, refresh, clock.clone()));
    let session_secs = i64::from(cfg.session_hours.clamp(1, 24 * 7)) * 3600;
    let lifetimes = Lifetimes {
        code: CODE_SECS,
        id_token: 300,
        // Refused beyond IUA's hour when the configuration was read; checked again for a configuration built
        // in code.
        access_token: iua::access_token_secs(cfg.access_token_secs)?,
        refresh_token: session_secs,
        par: 60,
        par_login: 600,
    };
    let schedule = key_schedule(&loaded.config.oidc, &lifetimes);
    let keys =
        Arc::new(KeyRing::new(keys::load(authority, &loaded.dir, &loaded.key_context(), schedule.keep_retired)?));
    keys::spawn_maintenance(keys.clone(), authority.clone(), loaded.dir.clone(), loaded.key_context(), schedule);
    let ca_file = loaded.config.oidc.backchannel_ca_file.as_ref().map(|f| loaded.dir.join(f));
    // The TLS client of https logout endpoints: the server's TLS policy, the public WebPKI roots and the PEM
    // certificates of `[oidc] backchannel_ca_file` (the facility network's own CAs).
    let logout = Arc::new(Poster::new(post::tls_client(ca_file.as_deref(), "[oidc] backchannel_ca_file")?));
    let clients =
        client::Registry::new(store.clone(), refresh).with_secrets_allowed(loaded.config.oidc.secrets_allowed());
    let exchanges = hcpki_sso::oidc::exchange::Exchanges::start(store.clone(), clock.clone(), lifetimes.refresh_token);
    let oidc = Arc::new(Provider {
        issuer,
        mtls_base,
        keys,
        store: store.clone(),
        clients,
        logout,
        lifetimes,
        exchanges,
        console_callback: console_callback(loaded)?,
        require_par: loaded.config.oidc.require_pushed_authorization_requests,
        dpop_nonce: loaded.config.oidc.dpop_nonce,
        clock: clock.clone(),
        home_community_id: loaded.config.oidc.home_community_id.clone(),
        break_glass_webhook: hcpki_sso::oidc::break_glass_webhook::BreakGlassWebhook::new(
            loaded.config.monitor.break_glass_webhook.clone(),
            || -> anyhow::Result<Arc<dyn HttpPost>> {
                let ca_file = loaded.config.monitor.ca_file.as_ref().map(|p| loaded.dir.join(p));
                let tls =
                    post::tls_client(ca_file.as_deref(), "[monitor] ca_file").context("the break-glass webhook")?;
                Ok(Arc::new(Poster::new(tls)))
            },
        )?,
        signals: Arc::new(hcpki_sso::ssf::Transmitter),
        ssf_wake: Arc::new(tokio::sync::Notify::new()),
    });
    let presence = (cfg.card_presence_secs > 0).then(|| i64::from(cfg.card_presence_secs.clamp(60, 3600)));
    let lend_secs = hcpki_sso::lending::LendSecs::new(cfg.lend_secs)?;
    let sessions = Sessions::new(store.clone(), secret.clone(), session_secs, presence)
        .with_lend_secs(lend_secs)
        .with_idle_limit(hcpki_sso::session::idle::IdleLimit::from_minutes(cfg.idle_minutes));
    let cards = card_login(cfg, loaded, &oidc.issuer, clock.clone())?;
    let refusals = Arc::new(hcpki_sso::refusals::Refusals::start(store.clone(), clock.clone()));
    let time_stamps = Arc::new(crate::http::tsa_client::TimeStamps::from_config(loaded, clock.clone())?);
    let consent = Arc::new(loaded.config.consent.clone());
    let delegation_max_hours = cfg.delegation_max_hours.clamp(1, hcpki_sso::delegation::rules::MAX_HOURS_CEILING);
    let enrolment = cfg.enrolment_rule()?;
    let state = PortalState {
        store,
        sessions,
        secret,
        services,
        oidc,
        cards,
        refusals,
        clock,
        time_stamps,
        consent,
        delegation_max_hours,
        enrolment,
    };
    Ok(Prepared { portal: (listener, portal_tls), mtls, state })
}

/// The console's one redirect URI (`[console] url`), or none, said once in the log: console sign-in through
/// the portal is then refused, naming the key.
fn console_callback(loaded: &Loaded) -> Result<Option<String>> {
    let callback = loaded.config.console.callback()?;
    if callback.is_none() {
        tracing::warn!(
            "console sign-in through the portal is off: set [console] url in {} to the console's external URL",
            crate::config::FILE
        );
    }
    Ok(callback)
}

/// The key rotation schedule of `[oidc]`. A retired key stays published at least while an ID, access or
/// logout token it signed may be alive.
fn key_schedule(cfg: &OidcConfig, lifetimes: &Lifetimes) -> Schedule {
    let secs = |p: Period| i64::try_from(p.0).unwrap_or(i64::MAX);
    let longest = lifetimes.access_token.max(lifetimes.id_token).max(backchannel::LOGOUT_TOKEN_SECS);
    Schedule {
        rotate_every: cfg.rotate_every.map(secs),
        keep_retired: cfg.retire_after.map_or(longest, secs).max(longest),
        check_every: std::time::Duration::from_secs(cfg.check_every.0),
    }
}

/// Card login when `[login]` names trust anchors: the verifier, its CRL cache prefetched and refreshed by a
/// background task on `clock` (the login path never fetches), the portal's origin and the card agent's.
fn card_login(
    cfg: &PortalConfig,
    loaded: &Loaded,
    issuer: &str,
    clock: Arc<dyn Clock>,
) -> Result<Option<Arc<CardLogin>>> {
    let login = &loaded.config.login;
    if login.hpki_anchors.is_empty() && login.jpki_anchors.is_empty() {
        return Ok(None);
    }
    let (verifier, crls) = login.verifier(&loaded.dir)?;
    // First fetch and then every refresh in the background: a slow CRL server delays no login and no start.
    crls.spawn_refresher(clock);
    let agent = cfg.card_agent.trim_end_matches('/').to_owned();
    if axum::http::HeaderValue::from_str(&agent).is_err() || !agent.starts_with("http://127.0.0.1:") {
        anyhow::bail!(
            "[portal] card_agent must be the local agent's origin, e.g. http://127.0.0.1:7717 (got {agent:?})"
        );
    }
    Ok(Some(Arc::new(CardLogin {
        verifier,
        origin: login.origin.clone().unwrap_or_else(|| issuer.to_owned()),
        ttl_secs: login.challenge_ttl_secs,
        agent,
    })))
}

/// Requests a certificate, accepts any that the client proves it holds (the handshake signature is
/// verified); what it is worth is decided by client authentication (`oidc::client`).
#[derive(Debug)]
struct AnyClientCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
