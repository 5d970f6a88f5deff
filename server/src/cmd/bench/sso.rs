//! `hcpki bench sso`: SSO card logins per second over HTTPS, at several concurrencies, against a real
//! `hcpki serve` of the `--dir` installation (a fresh one, or one grown by `bench national`).
//!
//! One login is the whole journey a browser, the card agent and a relying party make, each on its virtual
//! user's own keep-alive TLS connection to the portal listener:
//!
//! 1. `GET /login`: the pre-login cookie and the page's CSRF token;
//! 2. `POST /login/card/challenge`: a single-use challenge bound to that cookie;
//! 3. the card signs `login_message(origin, challenge)` (RSA-2048, PKCS #1 v1.5; a virtual HPKI card of
//!    the test PKI, signed in this process: the card's work, taken off the latency);
//! 4. `POST /login/card`: challenge taken, signature, chain (two RSA verifications) and the cached CRLs
//!    checked, `login.card` audited, the SSO session stored;
//! 5. `GET /authorize` with the session cookie and its browser cookie (D161; code flow, PKCE S256): the policy decision, the code;
//! 6. `POST /token` with a private_key_jwt client assertion (ES256, made here: the relying party's work,
//!    also off the latency): assertion checked and its jti recorded, code redeemed, refresh token stored,
//!    ID and access tokens signed.
//!
//! Reference, measured just before each row with the same connections and concurrency: journeys of as many
//! `GET /healthz` (one database round trip each) on the main listener, so the ratio says how much of what
//! the HTTP + TLS stack and the database round trips alone allow a login reaches.
//!
//! Set-up (written into `--dir`, see [`configure`]): `bench-sso/` holds the test HPKI root, authentication CA
//! and their CRLs; `[login]` trusts them (revocation fail-closed, CRLs from the files), `[portal]` listens on
//! a free port if the installation has no portal, `[limits] login_per_minute = 0` (all load comes from
//! 127.0.0.1); the service `bench-sso` (card + PIN, physicians) and its client `hcpki-bench-sso` are put in
//! the database, replacing those of an earlier run.

use super::measure::percentile;
use crate::args::Global;
use crate::config::{self, Loaded, LoginConfig};
use crate::portal::card_login::PRELOGIN_COOKIE;
use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clap::Args;
use hcpki_ca::CaName;
use hcpki_ca::store::Actor;
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use hcpki_sso::oidc::jws::{Signer, SigningAlg};
use hcpki_sso::oidc::registration::{self, Registration};
use hcpki_sso::session::COOKIE as SESSION_COOKIE;
use hcpki_sso::session::terminal::BROWSER_COOKIE;
use hcpki_vcard::testpki::{CrlValidity, HpkiSubject, HpkiTestCas};
use http_body_util::{BodyExt, Full};
use hyper::Method;
use hyper::body::Bytes;
use hyper::header::{self, HeaderName};
use rustls::pki_types::{CertificateDer, ServerName};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BenchSsoArgs {
    /// Logins in flight at once, each virtual user on its own keep-alive connection (comma-separated): one
    /// table row each.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    pub concurrency: Vec<usize>,
    /// Complete logins per row (and as many reference journeys).
    #[arg(long, default_value_t = 1000)]
    pub logins: usize,
    /// Virtual HPKI cards (physicians) the logins take turns with.
    #[arg(long, default_value_t = 8)]
    pub cards: usize,
}

/// The bench's files, inside the hcpki directory.
const FILES: &str = "bench-sso";
/// The service and the client the logins are for.
const SERVICE: &str = "bench-sso";
pub(super) const CLIENT: &str = "hcpki-bench-sso";
const REDIRECT: &str = "https://rp.bench.invalid/cb";
/// Requests of one login journey, and of one reference journey.
const JOURNEY_REQUESTS: usize = 5;
/// Logins before the first row, not counted: connections, caches and the database pool warm up.
const WARM_UP: usize = 20;
/// How long the first login may wait for the server's CRL cache to load the bench's CRLs.
const FIRST_LOGIN_WAIT: Duration = Duration::from_secs(30);
/// How long the server may take to start and pre-sign OCSP answers (a national registry takes minutes).
const START_WAIT: Duration = Duration::from_secs(1800);

pub async fn run(global: &Global, args: &BenchSsoArgs) -> Result<ExitCode> {
    anyhow::ensure!(args.cards > 0 && args.logins > 0, "--cards and --logins must be at least 1");
    anyhow::ensure!(args.concurrency.iter().all(|c| *c > 0), "--concurrency values must be at least 1");
    let Prepared { loaded, backend, files, rp, cards, tls, .. } = prepare(global, args.cards).await?;
    admit_in_flight(&loaded, args.concurrency.iter().copied().max().unwrap_or(1))?;
    let server = Served::start(global, &files).await?;
    let server_pid = server.child.id();
    let (main, portal, login) = endpoints(&loaded, &server, &tls, cards, rp)?;
    eprintln!(
        "bench sso on {backend}: portal {} on {}, {} logins per row, {} CPU cores",
        server.issuer,
        server.portal,
        args.logins,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    first_login(&portal, &login).await?;
    drive(&portal, Journey::Login(login.clone()), 1, WARM_UP).await?;

    println!(
        "| backend | logins in flight | logins | **logins/s** | p50 | p99 | failed | server CPU per login | load client \
         CPU per login | reference: {JOURNEY_REQUESTS} × GET /healthz journeys/s | reference p50 | reference p99 | \
         logins ÷ reference |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &c in &args.concurrency {
        let reference = drive(&main, Journey::Healthz, c, args.logins).await?;
        let before = (cpu_time(server_pid), cpu_time(Some(std::process::id())));
        let logins = drive(&portal, Journey::Login(login.clone()), c, args.logins).await?;
        let after = (cpu_time(server_pid), cpu_time(Some(std::process::id())));
        let per_login = |from: Option<Duration>, to: Option<Duration>| match (from, to) {
            (Some(from), Some(to)) if logins.done > 0 => {
                let done = u32::try_from(logins.done).unwrap_or(u32::MAX);
                format!("{:.2} ms", to.saturating_sub(from).as_secs_f64() * 1e3 / f64::from(done))
            }
            _ => "—".into(),
        };
        if let Some(first) = &logins.first_failure {
            eprintln!("bench sso: first failed login at {c} in flight: {first}");
        }
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
        println!(
            "| {backend} | {c} | {} | **{:.0}** | {} | {} | {} | {} | {} | {:.0} | {} | {} | {:.3}× |",
            logins.done,
            logins.rate(),
            ms(percentile(&logins.latencies, 0.5)),
            ms(percentile(&logins.latencies, 0.99)),
            logins.failed,
            per_login(before.0, after.0),
            per_login(before.1, after.1),
            reference.rate(),
            ms(percentile(&reference.latencies, 0.5)),
            ms(percentile(&reference.latencies, 0.99)),
            if reference.rate() > 0.0 { logins.rate() / reference.rate() } else { 0.0 },
        );
    }
    server.stop().await?;
    Ok(ExitCode::SUCCESS)
}

/// Give the admission gate (D138) a slot and a place in line for every login in flight: `bench sso` measures
/// what the server can carry, not what the gate refuses (that is `bench overload`). Written only when the
/// configured bounds are smaller.
fn admit_in_flight(loaded: &Loaded, in_flight: usize) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let bounds = crate::app::admission::bounds(&loaded.config.admission, cores);
    if bounds.running >= in_flight && bounds.waiting >= in_flight {
        return Ok(());
    }
    let mut config = loaded.config.clone();
    let n = u32::try_from(in_flight).unwrap_or(u32::MAX);
    config.admission.running = Some(n.max(u32::try_from(bounds.running).unwrap_or(u32::MAX)));
    config.admission.waiting = Some(n.max(u32::try_from(bounds.waiting).unwrap_or(u32::MAX)));
    eprintln!("bench sso: {} now admits {in_flight} requests at once ([admission] running, waiting)", config::FILE);
    config::rewrite(&loaded.dir, &config)
}

/// CPU time (user + system, all threads) a process has used so far, from `/proc/PID/stat`; `None` where there is
/// no procfs. The fields count clock ticks of `USER_HZ`, which Linux fixes at 100 for user space.
fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    const USER_HZ: u64 = 100;
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
    let utime: u64 = rest.nth(11)?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

/// An installation set up for card logins by the bench's virtual cards and relying party (`bench overload`
/// starts from it too).
pub(super) struct Prepared {
    pub(super) loaded: Loaded,
    pub(super) backend: &'static str,
    /// The bench's files in the hcpki directory (test HPKI, the server's log).
    pub(super) files: PathBuf,
    pub(super) authority: hcpki_ca::Authority,
    pub(super) rp: Arc<RelyingParty>,
    pub(super) cards: Arc<Vec<Card>>,
    /// The root CA as the clients' trust anchor.
    pub(super) roots: rustls::RootCertStore,
    pub(super) tls: Arc<rustls::ClientConfig>,
}

/// Make `cards` virtual cards, point the installation at their test HPKI ([`configure`]), put the bench's
/// service and client in the database.
pub(super) async fn prepare(global: &Global, cards: usize) -> Result<Prepared> {
    let loaded = Loaded::read(&global.dir, global.database_url.as_deref())?;
    let files = loaded.dir.join(FILES);
    std::fs::create_dir_all(&files).with_context(|| format!("cannot create {}", files.display()))?;
    eprintln!("bench: making {cards} virtual HPKI cards");
    let cards = Arc::new(make_cards(cards, &files)?);
    configure(&loaded, &files)?;
    let loaded = Loaded::read(&global.dir, global.database_url.as_deref())?;
    let backend = if loaded.database_url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    let authority = crate::cmd::context::open_loaded(&loaded).await?;
    let store = authority.store().clone();
    let actor = Actor::cli("bench-sso");
    // The file seeds an empty database first (as `hcpki service` does), then the bench's service goes in.
    crate::cmd::service::services(&loaded, store.as_ref()).await?;
    let records = hcpki_sso::catalog::records(&format!(
        "version = 1\n[[service]]\nid = \"{SERVICE}\"\nname = \"hcpki bench sso\"\nroles = [\"medical-doctor\"]\n\
         facility_kinds = [\"*\"]\nmin_assurance = \"card-pin\"\nclaims = [\"name\", \"hc_role\", \"acr\"]\n"
    ))?;
    store.portal_put_services(&records, true, false, &actor, hcpki_pkix::time::now()).await?;
    let rp = Arc::new(RelyingParty::register(&loaded, store.as_ref(), &actor).await?);
    let root = CertificateDer::from(authority.ca_certificate(CaName::Root)?.to_vec());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root).context("the root CA certificate as a TLS trust anchor")?;
    let tls = Arc::new(hcpki_tls_policy::client_config(roots.clone())?);
    Ok(Prepared { loaded, backend, files, authority, rp, cards, roots, tls })
}

/// The running server's main and portal listeners, and the logins on the portal.
pub(super) fn endpoints(
    loaded: &Loaded,
    server: &Served,
    tls: &Arc<rustls::ClientConfig>,
    cards: Arc<Vec<Card>>,
    rp: Arc<RelyingParty>,
) -> Result<(Arc<Endpoint>, Arc<Endpoint>, Arc<Login>)> {
    let main = Arc::new(Endpoint::new(server.https, &main_name(loaded), tls.clone())?);
    let portal_host = server.issuer.split("://").nth(1).context("the portal's issuer has no host")?;
    let portal_name = portal_host.rsplit_once(':').map_or(portal_host, |(h, _)| h);
    let portal = Arc::new(Endpoint::new(server.portal, portal_name, tls.clone())?);
    let origin = loaded.config.login.origin.clone().unwrap_or_else(|| server.issuer.clone());
    let login = Arc::new(Login { cards, rp, issuer: server.issuer.clone(), origin });
    Ok((main, portal, login))
}

/// The name the main listener's certificate is checked for.
pub(super) fn main_name(loaded: &Loaded) -> String {
    loaded.config.serve.server_names.first().cloned().unwrap_or_else(|| "localhost".into())
}

/// Point the installation's card login at the bench's test HPKI (refusing to replace another one), give it a
/// portal if it has none, and lift the per-address sign-in limit.
fn configure(loaded: &Loaded, files: &Path) -> Result<()> {
    let relative = |name: &str| PathBuf::from(FILES).join(name);
    let crl = |name: &str| format!("file:{}", files.join(name).display());
    let ours = LoginConfig {
        hpki_anchors: vec![relative("hpki-root.der")],
        intermediates: vec![relative("hpki-auth-ca.der")],
        crl_urls: vec![crl("hpki-auth.crl"), crl("hpki-root.arl")],
        ..LoginConfig::default()
    };
    let mut config = loaded.config.clone();
    if config.login != LoginConfig::default() && config.login.hpki_anchors != ours.hpki_anchors {
        bail!(
            "{} has its own [login] trust anchors; bench sso logs in with its own test cards and sets [login] \
             itself: run it on a copy of the installation (`hcpki backup`, `hcpki restore`) or a fresh `hcpki init`",
            loaded.dir.join(config::FILE).display()
        );
    }
    config.login = ours;
    if config.portal.is_none() {
        config.portal = Some(toml::from_str("listen = \"127.0.0.1:0\"").context("the bench's [portal]")?);
    }
    config.limits.login_per_minute = 0;
    if config.login != loaded.config.login
        || config.portal != loaded.config.portal
        || config.limits != loaded.config.limits
    {
        eprintln!(
            "bench sso: {} now has card login on the bench's test HPKI, a portal, no sign-in limit",
            config::FILE
        );
        config::rewrite(&loaded.dir, &config)?;
    }
    Ok(())
}

/// A virtual HPKI card: its authentication key, the chain the agent posts and the agent's card id.
pub(super) struct Card {
    key: hcpki_vcard::key::CardKey,
    chain: String,
    id: String,
}

/// `n` physicians' cards under one fresh test HPKI, whose root, authentication CA, CRL (empty) and ARL go to
/// `files` for the server.
fn make_cards(n: usize, files: &Path) -> Result<Vec<Card>> {
    let cas = HpkiTestCas::new()?;
    let mut cards = Vec::with_capacity(n);
    for i in 0..n {
        let subject = HpkiSubject {
            name_romaji: format!("Bench Doctor {i}"),
            registration_id: format!("Bench{i:06}"),
            ..HpkiSubject::default()
        };
        let issued = cas.issue(&subject)?;
        if i == 0 {
            std::fs::write(files.join("hpki-root.der"), &issued.root)?;
            std::fs::write(files.join("hpki-auth-ca.der"), &issued.authentication_ca)?;
        }
        let chain = [&issued.authentication.cert, &issued.authentication_ca].map(|c| STANDARD.encode(c)).join(",");
        let id = hcpki_agent_protocol::card_id(&issued.authentication.cert);
        cards.push(Card { key: issued.authentication.key, chain, id });
    }
    std::fs::write(files.join("hpki-auth.crl"), cas.authentication_crl(&[], CrlValidity::fresh(24))?)?;
    std::fs::write(files.join("hpki-root.arl"), cas.root_arl(&[], CrlValidity::fresh(24))?)?;
    Ok(cards)
}

/// The relying party: a private_key_jwt client of the bench's service with a fresh P-256 key.
pub(super) struct RelyingParty {
    signer: Signer,
}

impl RelyingParty {
    async fn register(loaded: &Loaded, store: &dyn hcpki_ca::store::Store, actor: &Actor) -> Result<Self> {
        let (key, _) = SoftwareKey::generate_device_key(KeyAlgorithm::P256)?;
        let signer = Signer::new(Arc::new(key), SigningAlg::Es256)?;
        // An earlier run's client goes (its grants with it); this run's key replaces it.
        store.oidc_remove_client(&hcpki_model::OidcClientId::parse(CLIENT)?, actor, hcpki_pkix::time::now()).await?;
        let (services, _) = crate::cmd::service::services(loaded, store).await?;
        let registration = Registration {
            id: CLIENT.into(),
            redirect_uris: vec![REDIRECT.into()],
            auth: "private_key_jwt".into(),
            jwks: Some(serde_json::json!({ "keys": [signer.jwk] })),
            tls_subject: None,
            service: SERVICE.into(),
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            id_token_signed_response_alg: SigningAlg::Es256,
            userinfo_signed_response_alg: None,
            require_pushed_authorization_requests: false,
            token_exchange_audiences: Vec::new(),
        };
        let deployment = registration::Deployment { services: Some(&services), secrets_allowed: false, consent: None };
        registration::register(store, deployment, registration, actor, hcpki_pkix::time::now_unix_ms()).await?;
        Ok(Self { signer })
    }

    /// A client assertion for the token endpoint `audience` (RFC 7523), with its own jti.
    pub(super) fn assertion(&self, audience: &str) -> Result<String> {
        let now = hcpki_pkix::time::now_unix();
        let jti = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
        let claims = serde_json::json!({ "iss": CLIENT, "sub": CLIENT, "aud": audience, "iat": now, "exp": now + 60, "jti": jti });
        Ok(self.signer.sign("JWT", &claims)?)
    }
}

/// What a login needs besides its connection.
pub(super) struct Login {
    cards: Arc<Vec<Card>>,
    rp: Arc<RelyingParty>,
    issuer: String,
    /// The origin the card signs for.
    origin: String,
}

#[derive(Clone)]
pub(super) enum Journey {
    Login(Arc<Login>),
    Healthz,
    /// One request of another bench's row (`bench scim`).
    Request(Arc<dyn Request>),
}

/// A request another bench drives like the logins (declared here so this file imports none of them).
#[async_trait::async_trait]
pub(super) trait Request: Send + Sync {
    /// The `n`th request of the row on `conn`; the time spent on the client's own work.
    async fn run(&self, conn: &mut Connection, n: usize) -> Result<Duration>;
}

impl Journey {
    /// One journey on `conn` (the `n`th of its row); the time spent on the client's own work (card signature,
    /// client assertion), which is not the server's and is taken off the latency.
    async fn run(&self, conn: &mut Connection, n: usize) -> Result<Duration> {
        match self {
            Self::Healthz => {
                for _ in 0..JOURNEY_REQUESTS {
                    let r = conn.send(Method::GET, "/healthz", &[], None).await?;
                    anyhow::ensure!(r.status == 200, "/healthz answered {}", r.status);
                }
                Ok(Duration::ZERO)
            }
            Self::Login(login) => login.card_login(conn, n).await,
            Self::Request(request) => request.run(conn, n).await,
        }
    }
}

impl Login {
    /// One whole login on `conn` with the `n`th card; the client's own work, taken off the latency.
    pub(super) async fn card_login(&self, conn: &mut Connection, n: usize) -> Result<Duration> {
        let card = self.cards.get(n % self.cards.len().max(1)).context("no cards")?;
        let page = conn.send(Method::GET, "/login", &[], None).await?;
        anyhow::ensure!(page.status == 200, "GET /login answered {}", page.status);
        let prelogin = page.cookie(PRELOGIN_COOKIE).context("GET /login set no pre-login cookie")?;
        let csrf = hidden_field(&page.body, "csrf").context("the login page has no card login (csrf field)")?;
        let form = |cookie: String| {
            [
                (header::COOKIE, cookie),
                (header::ORIGIN, self.issuer.clone()),
                (header::CONTENT_TYPE, "application/x-www-form-urlencoded".to_owned()),
            ]
        };
        let headers = form(format!("{PRELOGIN_COOKIE}={prelogin}"));
        let body = serde_urlencoded::to_string([("csrf", &csrf)])?;
        let issued = conn.send(Method::POST, "/login/card/challenge", &headers, Some(body)).await?;
        anyhow::ensure!(issued.status == 200, "challenge answered {}: {}", issued.status, excerpt(&issued.body));
        let issued: serde_json::Value = serde_json::from_str(&issued.body)?;
        let challenge = issued.get("challenge").and_then(|c| c.as_str()).context("no challenge in the answer")?;

        let card_work = Instant::now();
        let message = hcpki_agent_protocol::login_message(&self.origin, &URL_SAFE_NO_PAD.decode(challenge)?);
        let signature = STANDARD.encode(card.key.sign_sha256(&message)?);
        let mut client_work = card_work.elapsed();

        let body = serde_urlencoded::to_string([
            ("csrf", csrf.as_str()),
            ("challenge_id", challenge),
            ("kind", "hpki"),
            ("signature", &signature),
            ("chain", &card.chain),
            ("card_id", &card.id),
        ])?;
        let done = conn.send(Method::POST, "/login/card", &headers, Some(body)).await?;
        let session = done.cookie(SESSION_COOKIE).with_context(|| {
            format!("POST /login/card answered {} without a session: {}", done.status, excerpt(&done.body))
        })?;

        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "bench"),
            ("nonce", &URL_SAFE_NO_PAD.encode(rand::random::<[u8; 8]>())),
            ("code_challenge_method", "S256"),
            ("code_challenge", &URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))),
        ])?;
        // The session is bound to this browser (D161): the second cookie goes with it, as a browser sends both.
        let browser = done.cookie(BROWSER_COOKIE).with_context(|| {
            format!("POST /login/card answered {} without the browser cookie: {}", done.status, excerpt(&done.body))
        })?;
        let cookie = [(header::COOKIE, format!("{SESSION_COOKIE}={session}; {BROWSER_COOKIE}={browser}"))];
        let authorized = conn.send(Method::GET, &format!("/authorize?{query}"), &cookie, None).await?;
        let code = authorized
            .location
            .as_deref()
            .and_then(|l| l.split_once('?'))
            .and_then(|(_, q)| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .and_then(|q| q.into_iter().find(|(k, _)| k == "code").map(|(_, v)| v))
            .with_context(|| {
                format!("/authorize answered {} without a code: {}", authorized.status, excerpt(&authorized.body))
            })?;

        let rp_work = Instant::now();
        let assertion = self.rp.assertion(&format!("{}/token", self.issuer))?;
        client_work += rp_work.elapsed();
        let body = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_assertion_type", hcpki_sso::oidc::client::JWT_BEARER),
            ("client_assertion", &assertion),
        ])?;
        let content_type = [(header::CONTENT_TYPE, "application/x-www-form-urlencoded".to_owned())];
        let tokens = conn.send(Method::POST, "/token", &content_type, Some(body)).await?;
        anyhow::ensure!(
            tokens.status == 200 && tokens.body.contains("\"id_token\""),
            "/token answered {}: {}",
            tokens.status,
            excerpt(&tokens.body)
        );
        Ok(client_work)
    }
}

/// The first login, retried while the server's CRL cache has not loaded the bench's CRLs yet (fail-closed
/// refuses until then).
pub(super) async fn first_login(portal: &Endpoint, login: &Arc<Login>) -> Result<()> {
    let started = Instant::now();
    let mut conn = portal.connect().await?;
    loop {
        match login.card_login(&mut conn, 0).await {
            Ok(_) => return Ok(()),
            Err(e) if started.elapsed() < FIRST_LOGIN_WAIT => {
                tracing::debug!(error = %e, "first bench login refused; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
                conn = portal.connect().await?;
            }
            Err(e) => return Err(e.context("no card login succeeded; see bench-sso/serve.log")),
        }
    }
}

/// One row's measurement.
pub(super) struct Run {
    /// Journeys completed.
    pub(super) done: usize,
    pub(super) failed: usize,
    pub(super) first_failure: Option<String>,
    /// From the moment every connection was open to the last answer.
    elapsed: Duration,
    /// Per completed journey, without the client's own work; sorted.
    pub(super) latencies: Vec<Duration>,
}

impl Run {
    pub(super) fn rate(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `total` journeys on `concurrency` connections (opened before the clock starts), each connection running
/// its journeys one after another; a failed journey is counted and its connection opened again.
pub(super) async fn drive(endpoint: &Arc<Endpoint>, journey: Journey, concurrency: usize, total: usize) -> Result<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(concurrency + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (endpoint, journey, next, start) = (endpoint.clone(), journey.clone(), next.clone(), start.clone());
        let mut conn = endpoint.connect().await?;
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let (mut failed, mut first_failure) = (0usize, None);
            start.wait().await;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let began = Instant::now();
                match journey.run(&mut conn, n).await {
                    Ok(client_work) => latencies.push(began.elapsed().saturating_sub(client_work)),
                    Err(e) => {
                        failed += 1;
                        first_failure.get_or_insert_with(|| format!("{e:#}"));
                        conn = endpoint.connect().await?;
                    }
                }
            }
            anyhow::Ok((latencies, failed, first_failure))
        });
    }
    start.wait().await;
    let began = Instant::now();
    let mut run = Run { done: 0, failed: 0, first_failure: None, elapsed: Duration::ZERO, latencies: Vec::new() };
    while let Some(joined) = tasks.join_next().await {
        let (latencies, failed, first_failure) = joined??;
        run.latencies.extend(latencies);
        run.failed += failed;
        if run.first_failure.is_none() {
            run.first_failure = first_failure;
        }
    }
    run.elapsed = began.elapsed();
    run.done = run.latencies.len();
    run.latencies.sort();
    Ok(run)
}

/// A listener of the server: where to connect, the name its certificate is checked for, the TLS client.
pub(super) struct Endpoint {
    addr: SocketAddr,
    name: ServerName<'static>,
    host: String,
    tls: Arc<rustls::ClientConfig>,
}

impl Endpoint {
    pub(super) fn new(addr: SocketAddr, name: &str, tls: Arc<rustls::ClientConfig>) -> Result<Self> {
        let server_name = ServerName::try_from(name.to_owned()).with_context(|| format!("server name {name:?}"))?;
        Ok(Self { addr, name: server_name, host: format!("{name}:{}", addr.port()), tls })
    }

    /// A keep-alive HTTP/1.1 connection over TLS, the server's certificate verified.
    pub(super) async fn connect(&self) -> Result<Connection> {
        let tcp = tokio::net::TcpStream::connect(self.addr).await.with_context(|| format!("connect {}", self.addr))?;
        tcp.set_nodelay(true)?;
        let tls = tokio_rustls::TlsConnector::from(self.tls.clone()).connect(self.name.clone(), tcp).await?;
        let (sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await?;
        let driver = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "bench connection ended");
            }
        });
        Ok(Connection { sender, driver, host: self.host.clone() })
    }
}

pub(super) struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    driver: tokio::task::JoinHandle<()>,
    host: String,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// An answer, read whole.
pub(super) struct Reply {
    pub(super) status: u16,
    location: Option<String>,
    /// `name=value` of each `Set-Cookie`.
    cookies: Vec<String>,
    pub(super) body: String,
}

impl Reply {
    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find_map(|c| c.strip_prefix(name)?.strip_prefix('='))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

impl Connection {
    pub(super) async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(HeaderName, String)],
        body: Option<String>,
    ) -> Result<Reply> {
        self.sender.ready().await?;
        let mut request = hyper::Request::builder().method(method).uri(path).header(header::HOST, &self.host);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let cookies = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
            .collect();
        let body = response.into_body().collect().await?.to_bytes();
        // Read whole first: the connection stays usable for the next request.
        if status == 503 {
            return Err(Busy.into());
        }
        Ok(Reply { status, location, cookies, body: String::from_utf8_lossy(&body).into_owned() })
    }
}

/// A 503 answer: the server refused the request for load (the admission gate, D138), not for what it asked.
#[derive(Debug)]
pub(super) struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("503: the server is busy")
    }
}

impl std::error::Error for Busy {}

/// The value of the hidden field `name` in a page.
fn hidden_field(html: &str, name: &str) -> Option<String> {
    let rest = html.split(&format!("name=\"{name}\" value=\"")).nth(1)?;
    rest.split('"').next().map(str::to_owned)
}

/// The start of an answer's body, for an error message.
pub(super) fn excerpt(body: &str) -> String {
    body.chars().take(300).collect()
}

/// `hcpki serve` of the installation, started from this executable on free loopback ports.
pub(super) struct Served {
    child: tokio::process::Child,
    _stdout: tokio::io::BufReader<tokio::process::ChildStdout>,
    pub(super) https: SocketAddr,
    pub(super) portal: SocketAddr,
    pub(super) issuer: String,
}

impl Served {
    /// Start it (its log goes to `files/serve.log`) and wait until it listens and has pre-signed its OCSP
    /// answers, so that pre-signing a large registry does not share the cores with the load.
    pub(super) async fn start(global: &Global, files: &Path) -> Result<Self> {
        use tokio::io::AsyncBufReadExt as _;
        let log_path = files.join("serve.log");
        let log = std::fs::File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut command = tokio::process::Command::new(std::env::current_exe()?);
        command.arg("--dir").arg(&global.dir);
        if let Some(url) = &global.database_url {
            command.arg("--database-url").arg(url);
        }
        // Info lines of `serve` at least: the pre-signing's end is read from the log.
        let filter = std::env::var("HCPKI_LOG").unwrap_or_else(|_| "info".into());
        command
            .args(["serve", "--https-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"])
            .env("HCPKI_LOG", format!("{filter},hcpki::cmd::serve=info"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        let mut child = command.spawn().context("cannot start hcpki serve")?;
        let stdout = child.stdout.take().context("hcpki serve's stdout")?;
        // Kept open while it runs: the server's stdout stays a pipe with a reader.
        let mut stdout = tokio::io::BufReader::new(stdout);
        let mut line = String::new();
        tokio::time::timeout(START_WAIT, stdout.read_line(&mut line))
            .await
            .context("hcpki serve did not start in time")??;
        // "hcpki listening on https://A and http://B and portal ISSUER on C"
        let word_after = |marker: &str| line.split(marker).nth(1).and_then(|r| r.split_whitespace().next());
        let https = word_after("listening on https://").and_then(|a| a.parse().ok());
        let issuer = word_after(" and portal ").map(str::to_owned);
        let portal = line.rsplit(" on ").next().and_then(|a| a.trim().parse().ok());
        let (Some(https), Some(issuer), Some(portal)) = (https, issuer, portal) else {
            bail!("hcpki serve did not start its portal (stdout {line:?}); see {}", log_path.display());
        };
        let waited = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if text.contains("OCSP answers pre-signed") || text.contains("pre-signing OCSP answers stopped") {
                break;
            }
            if waited.elapsed() > START_WAIT {
                bail!("hcpki serve did not finish pre-signing OCSP answers; see {}", log_path.display());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!(
            "bench sso: hcpki serve ready ({:.1} s of OCSP pre-signing waited for)",
            waited.elapsed().as_secs_f64()
        );
        Ok(Self { child, _stdout: stdout, https, portal, issuer })
    }

    /// SIGTERM (`kill`), as an operator stops it, and wait for the graceful exit.
    pub(super) async fn stop(mut self) -> Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill").arg(pid.to_string()).status().await;
        }
        match tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await {
            Ok(status) => anyhow::ensure!(status?.success(), "hcpki serve did not exit cleanly"),
            Err(_) => self.child.kill().await?,
        }
        Ok(())
    }
}
