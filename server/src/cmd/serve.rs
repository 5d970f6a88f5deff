//! `hcpki serve`: the HTTPS listener and the plain-HTTP listener, until SIGINT or SIGTERM; SIGHUP reloads what
//! can change live (`reload`). Under systemd it says when it is ready and keeps the watchdog fed (D136).

mod reload;

use crate::app::scep_endpoints::Scep;
use crate::app::{AppState, metrics::Metrics, rate_limit, tsa_signer};
use crate::args::Global;
use crate::config::Loaded;
use crate::http::acme_validator::NetworkValidator;
use crate::http::drain::{self, Drain};
use crate::http::{routes, scep_ra, tls};
use crate::server_cert;
use crate::systemd::{Notifier, State};
use anyhow::{Context, Result};
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the HTTPS listener (port 0: any free port; the real one is printed).
    #[arg(long, env = "HCPKI_HTTPS_ADDR", default_value = "127.0.0.1:8443")]
    pub https_addr: std::net::SocketAddr,
    /// Address of the plain-HTTP listener (only what a protocol needs unencrypted: health, SCEP; CRLs later).
    #[arg(long, env = "HCPKI_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: std::net::SocketAddr,
    /// A DNS name or IP address for the server certificate (repeatable); replaces `serve.server_names`
    /// from hcpki.toml. Default: localhost, 127.0.0.1, ::1.
    #[arg(long = "server-name", value_name = "NAME")]
    pub server_names: Vec<String>,
    /// Seconds to drain after SIGTERM before the graceful shutdown, for a replica behind a load balancer:
    /// `/healthz` answers 503 (its health check takes the replica out) and every answer says `Connection: close`
    /// (keep-alive clients move to another replica between requests). Ends early once no connection is open.
    /// Set it above the balancer's check interval; 0, the default, shuts down at once (one node).
    #[arg(long, env = "HCPKI_DRAIN_SECS", default_value_t = 0, value_name = "SECONDS")]
    pub drain_secs: u64,
}

/// Say at start which root CRL `/crl/root.crl` serves: the imported ARL (warning when it ends within `[ca]
/// root_crl_warn_days` or has ended), or one signed on demand with the root key, which must then be here.
async fn log_root_crl(authority: &hcpki_ca::Authority, loaded: &Loaded) -> Result<()> {
    let now = hcpki_pkix::time::now_unix();
    match authority.revoker().root_crl().await? {
        Some(arl) if arl.next_update - now < i64::from(loaded.config.ca.root_crl_warn_days) * 86_400 => {
            tracing::warn!(
                crl_number = arl.number,
                next_update = %hcpki_pkix::time::rfc3339(arl.next_update),
                "the imported root CRL (ARL) served at /crl/root.crl ends within [ca] root_crl_warn_days (or has \
                 ended): hold a ceremony (hcpki ca sign-arl) and import the new ARL (hcpki ca import-arl)"
            );
        }
        Some(arl) => tracing::info!(
            crl_number = arl.number,
            next_update = %hcpki_pkix::time::rfc3339(arl.next_update),
            "serving the imported root CRL (ARL) at /crl/root.crl; the root key is not used"
        ),
        None => tracing::info!("no ARL imported: /crl/root.crl is signed on demand with the root key"),
    }
    Ok(())
}

/// How long in-flight requests may take to finish after a shutdown signal before connections are closed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How often a drain looks whether connections remain.
const DRAIN_POLL: Duration = Duration::from_millis(50);

pub async fn run(global: &Global, args: &ServeArgs) -> Result<ExitCode> {
    let notifier = Arc::new(Notifier::from_env().context("cannot use $NOTIFY_SOCKET")?);
    let loaded = Loaded::read(&global.dir, global.database_url.as_deref())?;
    let authority = Arc::new(super::context::open_loaded(&loaded).await?);
    // Concurrent enrollments share their commits (ca/src/authority/queue.rs).
    authority.start_group_commit();
    let names = server_names(args, &loaded);
    let identity = server_cert::ensure(&authority, &loaded.dir, &loaded.key_context(), &names).await?;
    tracing::info!(
        serial = identity.serial,
        issued = identity.issued,
        names = names.join(","),
        "TLS server certificate {}",
        if identity.issued { "issued" } else { "loaded" }
    );
    log_root_crl(&authority, &loaded).await?;
    // The revocation state the OCSP responder and the mutual-TLS check share, loaded before the first request.
    let board = revocation::load_board(&authority).await?;
    let anchors = tls::CLIENT_CAS.iter().map(|ca| authority.ca_certificate(*ca)).collect::<Result<Vec<_>, _>>()?;
    let revoked = tls::RevokedClients::AtHandshake(board.clone());
    let tls = tls::server_config(&identity.chain, identity.key.clone(), &anchors, revoked)?;
    let portal = match &loaded.config.portal {
        Some(cfg) => Some(crate::http::portal_listener::prepare(
            cfg,
            &loaded,
            &authority,
            &identity.chain,
            identity.key.clone(),
        )?),
        None => None,
    };

    // Bound here, before serving, so the addresses printed are the real ones (port 0 picks a free port)
    // and a taken port fails the command before anything starts.
    let https_listener = bind(args.https_addr, "HTTPS")?;
    let http_listener = bind(args.http_addr, "HTTP")?;
    let https_addr = https_listener.local_addr()?;
    let http_addr = http_listener.local_addr()?;

    let ras = scep_ra::ensure(&authority, &loaded.dir, &loaded.key_context()).await?;
    let tsa = match &loaded.config.tsa {
        Some(cfg) => {
            let served = Arc::new(
                tsa_signer::start(&authority, &loaded.dir, &loaded.key_context(), cfg)
                    .await
                    .context("the time-stamping authority ([tsa])")?,
            );
            tracing::info!(serial = %served.serial(), "TSA certificate in use");
            tsa_signer::spawn_rotation(
                authority.clone(),
                served.clone(),
                loaded.dir.clone(),
                loaded.key_context(),
                cfg.clone(),
            );
            Some(served)
        }
        None => None,
    };
    let ocsp = revocation::start(&authority, &loaded, board.clone()).await?;
    let scep = Arc::new(Scep::new(authority.clone(), &ras, &loaded.config.serve.scep)?);
    let metrics = Arc::new(Metrics::default());
    crate::memory::spawn_idle_release(metrics.clone(), authority.maintenance().clone());
    if let Some(atna) = &loaded.config.atna {
        // Read and checked before serving: a bad [atna] stops the start, not the first audit message.
        let forwarder = atna.forwarder(&loaded.dir, &loaded.key_context()).context("the audit repository ([atna])")?;
        forwarder.spawn(authority.audit_log().clone(), authority.clock().clone(), metrics.atna.clone());
    }
    if let Some(p) = &portal {
        // The Shared Signals push worker (D162), with the back-channel logout's TLS roots.
        let ca_file = loaded.config.oidc.backchannel_ca_file.as_ref().map(|f| loaded.dir.join(f));
        let tls = crate::outbound::post::tls_client(ca_file.as_deref(), "[oidc] backchannel_ca_file")?;
        crate::outbound::ssf_push::spawn(p.state.oidc.clone(), tls, metrics.ssf.clone());
    }
    if let Some(p) = &portal {
        // Read (and seed) the services before serving: a bad services file stops the start, not a login.
        p.state.services.current().await.context("the portal's services")?;
    }
    let every =
        std::time::Duration::from_secs(loaded.config.portal.as_ref().map_or(30, |c| c.housekeeping_secs).max(1).into());
    // The whole store, for what is assembled here: the SSO side's housekeeping (on `dyn Store` while it moves,
    // issue #43 item 1) and `AppState`; the other tasks take the areas they use.
    let store = authority.store().clone();
    crate::portal::housekeeping::spawn(
        portal.as_ref().map(|p| p.state.clone()),
        store.clone(),
        metrics.clone(),
        authority.clock().clone(),
        every,
    );
    if let Some(webhook) = crate::monitor::ExpiryWebhook::from_config(&loaded.config.monitor, &loaded.dir)? {
        webhook.spawn(store.clone(), authority.clock().clone());
    }
    let limits = Arc::new(crate::app::rate_limit::Guard::new(
        rate_limit::Settings::from_config(&loaded.config.limits)?,
        store.clone(),
        authority.audit_log().clone(),
        metrics.clone(),
        authority.clock().clone(),
    ));
    limits.share().await;
    // The bound on expensive work follows the cores this process may use (a container's quota included).
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let admission = Arc::new(crate::app::admission::Admission::from_config(
        &loaded.config.admission,
        cores,
        authority.clock().clone(),
        metrics.admission.clone(),
    ));
    let state = AppState {
        store,
        limits: limits.clone(),
        admission,
        metrics,
        est: authority.clone(),
        acme: authority.clone(),
        acme_validator: Arc::new(NetworkValidator::new(loaded.config.acme.clone())),
        scep,
        admin: authority.clone(),
        ocsp,
        portal: portal.as_ref().map(|p| p.state.clone()),
        clock: authority.clock().clone(),
        tsa,
        halt: loaded.config.ca.halt(),
        practice: Arc::new(crate::app::operations::practice::facts(&loaded.config, &authority)),
        compliance: crate::app::operations::compliance::settings(&loaded.config),
        signatures: Arc::new(loaded.config.signing.verifier_trust(&loaded.dir).context("[signing] for the verifier")?),
        console: Arc::new(crate::app::csrf::CsrfKey::from_secret(
            &authority.enrollment_key().context("the web console's CSRF key")?.derive_for("console csrf"),
        )),
        console_tickets: {
            let (absolute, idle) = loaded.config.console.lifetimes();
            let key =
                authority.enrollment_key().context("the web console's session key")?.derive_for("console session");
            Arc::new(crate::app::ticket::Tickets::new(&key, absolute, idle))
        },
    };
    let mut reloader = reload::Reloader::new(
        &loaded,
        global.database_url.as_deref(),
        portal.as_ref().map(|p| p.state.services.clone()),
    );
    let pinged = state.store.clone();
    let https_handle: Handle<SocketAddr> = Handle::new();
    let http_handle: Handle<SocketAddr> = Handle::new();
    let drain = Drain::default();
    let (portal_line, portal_servers, portal_handles) = serve_portal(portal, &state, &drain)?;
    let https = axum_server::tls_rustls::from_tcp_rustls(https_listener, RustlsConfig::from_config(Arc::new(tls)))?
        .handle(https_handle.clone())
        .serve(
            draining(origin(routes::https(state.clone()), &state), &drain)
                .into_make_service_with_connect_info::<SocketAddr>(),
        );
    let http = axum_server::from_tcp(http_listener)?.handle(http_handle.clone()).serve(
        draining(origin(routes::http(state.clone()), &state), &drain)
            .into_make_service_with_connect_info::<SocketAddr>(),
    );

    // Handlers go in before the "listening" line: a SIGTERM right after it must stop us gracefully, not kill us.
    let mut signals = Signals::install().context("cannot install the SIGINT/SIGTERM/SIGHUP handlers")?;
    // The one stdout line: scripts and tests read the bound addresses from it.
    let mut stdout = std::io::stdout();
    let listening = format!("https://{https_addr} and http://{http_addr}{portal_line}");
    writeln!(stdout, "hcpki listening on {listening}")?;
    stdout.flush()?;
    // Ready once the listeners are bound and the store is open (both above): systemd starts what depends on us.
    let serving = format!("serving {listening}");
    notifier.state(State::Ready, &serving);
    if let Some(every) = notifier.watchdog_interval() {
        tokio::spawn(feed_watchdog(notifier.clone(), pinged, every));
    }
    let told = notifier.clone();
    let drain_for = Duration::from_secs(args.drain_secs);
    tokio::spawn(async move {
        let signal = loop {
            match signals.recv().await {
                Signal::Stop(name) => break name,
                Signal::Reload => {
                    told.state(State::Reloading, "reloading hcpki.toml and the services");
                    let outcome = reloader.reload().await;
                    tracing::info!(status = %outcome.status(), "reloaded on SIGHUP; open connections kept");
                    told.state(State::Ready, &format!("{serving}; {}", outcome.status()));
                }
            }
        };
        told.state(State::Stopping, "stopping: in-flight requests finish first");
        let handles: Vec<Handle<SocketAddr>> = [https_handle, http_handle].into_iter().chain(portal_handles).collect();
        if !drain_for.is_zero() {
            tracing::info!(
                signal,
                seconds = drain_for.as_secs(),
                "draining: /healthz 503, connections closed after their request"
            );
            drain.start();
            let until = tokio::time::Instant::now() + drain_for;
            while tokio::time::Instant::now() < until && handles.iter().any(|h| h.connection_count() > 0) {
                tokio::time::sleep(DRAIN_POLL).await;
            }
        }
        tracing::info!(signal, "shutting down; in-flight requests finish first");
        for h in handles {
            h.graceful_shutdown(Some(SHUTDOWN_GRACE));
        }
    });
    tokio::try_join!(https, http, futures_join(portal_servers)).context("serving")?;
    limits.leave().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

type Serving = std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>;

/// The portal's listeners, when `[portal]` is configured: the text for the listening line, the servers and
/// their shutdown handles.
fn serve_portal(
    prepared: Option<crate::http::portal_listener::Prepared>,
    app: &AppState,
    drain: &Drain,
) -> Result<(String, Vec<Serving>, Vec<Handle<SocketAddr>>)> {
    let Some(p) = prepared else { return Ok((String::new(), Vec::new(), Vec::new())) };
    // The issuer (what clients use, perhaps a load balancer's name) and the address bound here.
    let mut line = format!(" and portal {} on {}", p.state.oidc.issuer, p.portal.0.local_addr()?);
    let mut servers: Vec<Serving> = Vec::new();
    let mut handles = Vec::new();
    let mut listeners =
        vec![(p.portal.0, p.portal.1, crate::http::routes::portal(p.state.clone(), &app.admission), "portal")];
    if let Some((l, config)) = p.mtls {
        line.push_str(&format!(" and mtls https://{}", l.local_addr()?));
        listeners.push((l, config, crate::http::routes::portal_mtls(p.state.clone(), &app.admission), "portal-mtls"));
    }
    for (listener, config, router, name) in listeners {
        // Counted and logged like the main listeners: per-route latency is how a slow login shows.
        let tracker = crate::app::metrics::Tracker::new(&app.metrics, name);
        let router = router
            .layer(axum::middleware::from_fn_with_state(app.limits.clone(), crate::app::rate_limit::limit_sign_in))
            .layer(axum::middleware::from_fn_with_state(tracker, crate::app::metrics::track))
            .layer(axum::middleware::from_fn_with_state(app.limits.clone(), crate::app::rate_limit::record_origin));
        let router = draining(router, drain);
        let handle: Handle<SocketAddr> = Handle::new();
        let server = axum_server::tls_rustls::from_tcp_rustls(listener, RustlsConfig::from_config(Arc::new(config)))?
            .handle(handle.clone())
            .serve(router.into_make_service_with_connect_info::<SocketAddr>());
        servers.push(Box::pin(server));
        handles.push(handle);
    }
    Ok((line, servers, handles))
}

/// `router` answering as [`drain`] says once draining has started.
/// `router` with each request served as coming from its client, for the audit entries (issue #50 item 5).
fn origin(router: axum::Router, state: &AppState) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state(state.limits.clone(), crate::app::rate_limit::record_origin))
}

fn draining(router: axum::Router, drain: &Drain) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state(drain.clone(), drain::layer))
}

/// Run every server to its end; the first error stops the wait.
async fn futures_join(servers: Vec<Serving>) -> std::io::Result<()> {
    let mut set = tokio::task::JoinSet::new();
    for s in servers {
        set.spawn(s);
    }
    while let Some(done) = set.join_next().await {
        done.map_err(std::io::Error::other)??;
    }
    Ok(())
}

/// `--server-name` flags, else `serve.server_names`, else this machine's loopback names.
fn server_names(args: &ServeArgs, loaded: &Loaded) -> Vec<String> {
    if !args.server_names.is_empty() {
        args.server_names.clone()
    } else if !loaded.config.serve.server_names.is_empty() {
        loaded.config.serve.server_names.clone()
    } else {
        server_cert::DEFAULT_NAMES.iter().map(|n| (*n).to_owned()).collect()
    }
}

fn bind(addr: SocketAddr, what: &str) -> Result<std::net::TcpListener> {
    std::net::TcpListener::bind(addr).with_context(|| {
        format!(
            "cannot listen for {what} on {addr}: is another server on that port? Pick another with --{}-addr",
            what.to_ascii_lowercase()
        )
    })
}

/// Keep systemd's watchdog fed every `every` (half its period) for as long as the store answers: a server
/// whose database is gone stops feeding it, and the unit's `Restart=` decides what follows.
async fn feed_watchdog(notifier: Arc<Notifier>, store: Arc<dyn hcpki_ca::store::Store>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match tokio::time::timeout(every, store.ping()).await {
            Ok(Ok(())) => notifier.watchdog(),
            Ok(Err(e)) => tracing::warn!(error = %e, "the database does not answer: the watchdog is not fed"),
            Err(_) => tracing::warn!("the database did not answer in time: the watchdog is not fed"),
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP, caught (SIGHUP's default would end the process).
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

/// What a caught signal asks for.
enum Signal {
    /// Stop gracefully; the signal's name.
    Stop(&'static str),
    /// Read the configuration again.
    Reload,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Wait for the next one.
    async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Stop("SIGTERM"),
            _ = self.int.recv() => Signal::Stop("SIGINT"),
            _ = self.hup.recv() => Signal::Reload,
        }
    }
}

/// The revocation state and the OCSP responder, with the tasks that keep them current.
mod revocation {
    use crate::app::ocsp_signer;
    use crate::config::Loaded;
    use anyhow::Result;
    use hcpki_ca::Authority;
    use hcpki_ca::revocation::ocsp::Responder;
    use hcpki_ca::revocation::status::RevocationBoard;
    use std::sync::Arc;
    use std::time::Duration;

    /// How often every CA's revocation marker is read: a revocation anywhere is answered by OCSP and
    /// refused by the TLS check within about this long.
    const REFRESH: Duration = Duration::from_secs(1);

    /// The board of the CAs the server checks and answers for, loaded once.
    pub async fn load_board(authority: &Authority) -> Result<Arc<RevocationBoard>> {
        let board = Arc::new(RevocationBoard::new(&ocsp_signer::SERVED));
        let now = hcpki_pkix::time::now();
        for ca in ocsp_signer::SERVED {
            board.refresh(authority.revoker().revocations().as_ref(), ca, now, true).await?;
        }
        Ok(board)
    }

    /// The responder with its signers, its maintenance round every [`REFRESH`], answers pre-signed for the
    /// live certificates in the background, and signer rotation.
    pub async fn start(
        authority: &Arc<Authority>,
        loaded: &Loaded,
        board: Arc<RevocationBoard>,
    ) -> Result<Arc<Responder>> {
        let served = ocsp_signer::ensure(authority, &loaded.dir, &loaded.key_context()).await?;
        let settings = loaded.config.serve.ocsp.settings(&loaded.config.profiles);
        let (certificates, revocations) =
            (authority.pipeline().certificates().clone(), authority.revoker().revocations().clone());
        let responder =
            Arc::new(Responder::new(certificates, revocations, board, served, settings, authority.clock().clone())?);
        let r = responder.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match r.prewarm().await {
                Ok(n) => {
                    tracing::info!(signed = n, seconds = started.elapsed().as_secs_f64(), "OCSP answers pre-signed")
                }
                Err(e) => {
                    tracing::error!(error = %e, "pre-signing OCSP answers stopped; answers are signed when asked")
                }
            }
        });
        let r = responder.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(REFRESH);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match r.maintain(hcpki_pkix::time::now()).await {
                    Ok(m) if m.changed + m.resigned > 0 => {
                        tracing::info!(changed = m.changed, resigned = m.resigned, "revocation state reloaded")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "revocation state not reloaded; retrying"),
                }
            }
        });
        ocsp_signer::spawn_rotation(authority.clone(), responder.clone(), loaded.dir.clone(), loaded.key_context());
        Ok(responder)
    }
}
