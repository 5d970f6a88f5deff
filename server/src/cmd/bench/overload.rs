//! `hcpki bench overload`: what the admission gate (issue #46 item 4, D138) keeps for the requests it admits
//! when more is offered than the server can do, against the same server without the gate.
//!
//! Two kinds of work, each measured alone: whole card logins on the portal (the six requests of `bench sso`)
//! and EST re-enrollments (`POST /.well-known/est/pc/simplereenroll` with a P-256 CSR over TLS client
//! authentication by a PC certificate the bench issues itself).
//!
//! 1. **Sustainable rate**, with the gate as configured: `--concurrency` requests in flight, one after another
//!    on keep-alive connections (closed loop), for `--seconds`: the completed rate.
//! 2. **Offered load**, open loop: arrivals at `--factors` times that rate for `--seconds` each, whatever the
//!    answers, over `--connections` keep-alive connections opened before the clock starts (clients behind a
//!    load balancer; a TLS handshake per request would measure the handshakes, which no HTTP gate bounds). Per
//!    row: the completed rate, p50 and p99 of the *completed* requests measured from their arrival (so waiting
//!    for a connection or a slot counts), the share refused with 503, other failures, and arrivals not sent
//!    because `--max-in-flight` were pending.
//! 3. The same offered rates against the server restarted with `[admission] enabled = false`: the reference.
//!
//! The load client shares the cores with the server (its card signatures and client assertions are taken off
//! the latency, as in `bench sso`). The installation is changed as `bench sso` changes it, plus `[limits]
//! enroll_per_minute = 0`; `[admission]` is put back as it was at the end.

use super::measure::percentile;
use super::sso::{self, Busy, Connection, Endpoint, Login, Served};
use crate::args::Global;
use crate::config;
use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::Args;
use hcpki_ca::CaName;
use hcpki_ca::authority::IssueRequest;
use hcpki_ca::facility::{FacilityKind, NewFacility, Transition};
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::store::Actor;
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use hyper::Method;
use hyper::header;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BenchOverloadArgs {
    /// Requests in flight while the sustainable rate is measured (closed loop).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Seconds of each measurement.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Multiples of the sustainable rate offered (open loop), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "2,5")]
    pub factors: Vec<f64>,
    /// Virtual HPKI cards the logins take turns with.
    #[arg(long, default_value_t = 8)]
    pub cards: usize,
    /// Keep-alive connections the offered load is sent over.
    #[arg(long, default_value_t = 256)]
    pub connections: usize,
    /// Requests the load client keeps pending at most; an arrival beyond is counted as not sent.
    #[arg(long, default_value_t = 4000)]
    pub max_in_flight: usize,
}

/// The EST re-enrollment path the bench's PC certificate may use.
const REENROLL: &str = "/.well-known/est/pc/simplereenroll";

pub async fn run(global: &Global, args: &BenchOverloadArgs) -> Result<ExitCode> {
    anyhow::ensure!(args.concurrency > 0 && args.seconds > 0, "--concurrency and --seconds must be at least 1");
    anyhow::ensure!(args.factors.iter().all(|f| *f > 0.0), "--factors must be positive");
    let prepared = sso::prepare(global, args.cards).await?;
    let est = Arc::new(Enrollment::prepare(&prepared).await?);
    let est_tls = Arc::new(est.client_config(&prepared)?);
    let original = prepared.loaded.config.clone();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let bounds = crate::app::admission::bounds(&original.admission, cores);
    eprintln!(
        "bench overload on {}: {cores} CPU cores, gate of {} running and {} waiting per kind, {} s per row",
        prepared.backend, bounds.running, bounds.waiting, args.seconds
    );
    println!(
        "| gate | work | offered | offered/s | completed/s | p50 completed | p99 completed | refused (503) | \
         failed | not sent |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut sustainable: Option<[f64; 2]> = None;
    let mut p99 = Vec::new();
    for gate in [true, false] {
        let mut config = original.clone();
        config.limits.enroll_per_minute = 0;
        config.admission.enabled = gate;
        config::rewrite(&prepared.loaded.dir, &config)?;
        let server = Served::start(global, &prepared.files).await;
        let server = match server {
            Ok(s) => s,
            Err(e) => {
                config::rewrite(&prepared.loaded.dir, &original)?;
                return Err(e);
            }
        };
        let (_, portal, login) =
            sso::endpoints(&prepared.loaded, &server, &prepared.tls, prepared.cards.clone(), prepared.rp.clone())?;
        let enroll = Arc::new(Endpoint::new(server.https, &sso::main_name(&prepared.loaded), est_tls.clone())?);
        sso::first_login(&portal, &login).await?;
        let works = [(Work::Login(login), portal), (Work::Enroll(est.clone()), enroll)];
        let label = if gate { "on" } else { "**off** (reference)" };
        let rates = match sustainable {
            Some(r) => r,
            None => {
                let mut r = [0.0; 2];
                for ((work, endpoint), rate) in works.iter().zip(&mut r) {
                    let run = closed_loop(endpoint, work, args.concurrency, args.seconds).await?;
                    *rate = run.done as f64 / args.seconds as f64;
                    println!(
                        "| {label} | {} | sustainable: {} in flight | — | **{:.0}** | {} | {} | {} | {} | — |",
                        work.name(),
                        args.concurrency,
                        *rate,
                        ms(percentile(&run.latencies, 0.5)),
                        ms(percentile(&run.latencies, 0.99)),
                        run.refused,
                        run.failed,
                    );
                }
                sustainable = Some(r);
                r
            }
        };
        for ((work, endpoint), rate) in works.iter().zip(rates) {
            for &factor in &args.factors {
                let offered = rate * factor;
                let pool = Arc::new(Pool::open(endpoint, args.connections).await?);
                let run = open_loop(&pool, work, offered, args.seconds, args.max_in_flight).await?;
                if let Some(first) = &run.first_failure {
                    eprintln!("bench overload: first failure ({}, {factor}×, gate {gate}): {first}", work.name());
                }
                let total = (run.done + run.refused + run.failed).max(1);
                let row_p99 = percentile(&run.latencies, 0.99);
                p99.push((work.name(), factor, gate, row_p99));
                println!(
                    "| {label} | {} | {factor}× | {offered:.0} | {:.0} | {} | {} | {:.1} % | {} | {} |",
                    work.name(),
                    run.done as f64 / run.elapsed.as_secs_f64().max(1e-9),
                    ms(percentile(&run.latencies, 0.5)),
                    ms(row_p99),
                    100.0 * run.refused as f64 / total as f64,
                    run.failed,
                    run.not_sent,
                );
            }
        }
        server.stop().await?;
    }
    config::rewrite(&prepared.loaded.dir, &original)?;
    println!();
    println!("| work | offered | p99 completed, gate on ÷ off |");
    println!("|---|---:|---:|");
    for (work, factor, _, on) in p99.iter().filter(|(_, _, gate, _)| *gate) {
        let off = p99.iter().find(|(w, f, g, _)| w == work && f == factor && !*g).map(|r| r.3);
        if let Some(off) = off.filter(|d| !d.is_zero()) {
            println!("| {work} | {factor}× | {:.3} |", on.as_secs_f64() / off.as_secs_f64());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// What one request of the load is.
#[derive(Clone)]
enum Work {
    Login(Arc<Login>),
    Enroll(Arc<Enrollment>),
}

impl Work {
    fn name(&self) -> &'static str {
        match self {
            Self::Login(_) => "card login",
            Self::Enroll(_) => "EST re-enrollment",
        }
    }

    /// One request (a whole login, or one enrollment) on `conn`; the client's own work to take off the latency.
    async fn once(&self, conn: &mut Connection, n: usize) -> Result<Duration> {
        match self {
            Self::Login(login) => login.card_login(conn, n).await,
            Self::Enroll(est) => {
                let content_type = [(header::CONTENT_TYPE, "application/pkcs10".to_owned())];
                let reply = conn.send(Method::POST, REENROLL, &content_type, Some(est.body.clone())).await?;
                anyhow::ensure!(reply.status == 200, "EST answered {}: {}", reply.status, sso::excerpt(&reply.body));
                Ok(Duration::ZERO)
            }
        }
    }
}

/// The bench's EST client: a PC certificate of its own facility, its key, and the CSR it re-enrolls with.
struct Enrollment {
    /// The CSR, base64 (RFC 7030 §4.2.1's body).
    body: String,
    pkcs8: Vec<u8>,
    chain: Vec<Vec<u8>>,
}

impl Enrollment {
    /// An approved facility and a P-256 PC certificate for it, issued through the pipeline.
    async fn prepare(prepared: &sso::Prepared) -> Result<Self> {
        let authority = &prepared.authority;
        let actor = Actor::cli("bench-overload");
        let name = format!("Bench overload clinic {}", hex::encode(rand::random::<[u8; 4]>()));
        let new = NewFacility::new(&name, FacilityKind::Clinic, None, None, None)?;
        let facility = authority.registrar().register_facility(&new, &actor).await?;
        authority.registrar().transition(&facility.id, Transition::Approve, Some("bench overload"), &actor).await?;
        let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256)?;
        let csr = hcpki_ca::csr::build(&key, x509_cert::name::Name::default())?;
        let body = STANDARD.encode(&csr);
        let request = IssueRequest {
            profile: ProfileKind::Pc,
            facility: Some(facility.id.clone()),
            csr: csr.into(),
            sans: Vec::new(),
            device: None,
            router: None,
            router_eku: None,
            ocsp_for: None,
            not_after: None,
        };
        let (issued, _) = authority.pipeline().issue(&request, &actor).await?;
        let chain = vec![issued.der, authority.ca_certificate(CaName::Pc)?.to_vec()];
        Ok(Self { body, pkcs8: pkcs8.to_vec(), chain })
    }

    /// The TLS client presenting the PC certificate, under the server's TLS policy.
    fn client_config(&self, prepared: &sso::Prepared) -> Result<rustls::ClientConfig> {
        let chain = self.chain.iter().map(|c| CertificateDer::from(c.clone())).collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.pkcs8.clone()));
        rustls::ClientConfig::builder_with_provider(Arc::new(hcpki_tls_policy::provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_root_certificates(prepared.roots.clone())
            .with_client_auth_cert(chain, key)
            .context("the bench's PC certificate as a TLS client certificate")
    }
}

/// What a measurement saw.
#[derive(Default)]
struct Seen {
    /// Completed requests' latencies, from arrival, without the client's own work; sorted.
    latencies: Vec<Duration>,
    done: usize,
    refused: usize,
    failed: usize,
    not_sent: usize,
    first_failure: Option<String>,
    /// From the first arrival to the last answer.
    elapsed: Duration,
}

enum Outcome {
    Done(Duration),
    Refused,
    Failed(String),
}

impl Seen {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Done(d) => self.latencies.push(d),
            Outcome::Refused => self.refused += 1,
            Outcome::Failed(e) => {
                self.failed += 1;
                self.first_failure.get_or_insert(e);
            }
        }
    }

    fn finish(mut self, began: Instant) -> Self {
        self.elapsed = began.elapsed();
        self.done = self.latencies.len();
        self.latencies.sort();
        self
    }
}

/// A fixed number of keep-alive connections to one endpoint, shared by the arrivals: an arrival waits for an
/// idle one; a connection that failed is opened again by the next taker.
struct Pool {
    endpoint: Arc<Endpoint>,
    idle: Mutex<Vec<Connection>>,
    /// One permit per connection not in use.
    free: tokio::sync::Semaphore,
}

impl Pool {
    /// `n` connections, opened now.
    async fn open(endpoint: &Arc<Endpoint>, n: usize) -> Result<Self> {
        let mut idle = Vec::with_capacity(n);
        for _ in 0..n {
            idle.push(endpoint.connect().await?);
        }
        Ok(Self { endpoint: endpoint.clone(), idle: Mutex::new(idle), free: tokio::sync::Semaphore::new(n) })
    }

    async fn take(&self) -> Result<Connection> {
        self.free.acquire().await?.forget();
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        match idle {
            Some(c) => Ok(c),
            None => self.endpoint.connect().await.inspect_err(|_| self.free.add_permits(1)),
        }
    }

    fn give(&self, conn: Connection) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
        self.free.add_permits(1);
    }

    /// One request from its arrival at `arrived`: its outcome (a refusal keeps its connection; a failure drops
    /// it).
    async fn serve(&self, work: &Work, n: usize, arrived: Instant) -> Outcome {
        let mut conn = match self.take().await {
            Ok(c) => c,
            Err(e) => return Outcome::Failed(format!("{e:#}")),
        };
        match work.once(&mut conn, n).await {
            Ok(client_work) => {
                self.give(conn);
                Outcome::Done(arrived.elapsed().saturating_sub(client_work))
            }
            Err(e) if e.downcast_ref::<Busy>().is_some() => {
                self.give(conn);
                Outcome::Refused
            }
            Err(e) => {
                // The connection is dropped; its place goes to the next taker, who opens a new one.
                self.free.add_permits(1);
                Outcome::Failed(format!("{e:#}"))
            }
        }
    }
}

/// `concurrency` requests in flight one after another for `seconds`.
async fn closed_loop(endpoint: &Arc<Endpoint>, work: &Work, concurrency: usize, seconds: u64) -> Result<Seen> {
    let pool = Arc::new(Pool::open(endpoint, concurrency).await?);
    let next = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let until = began + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (pool, work, next) = (pool.clone(), work.clone(), next.clone());
        tasks.spawn(async move {
            let mut seen = Seen::default();
            while Instant::now() < until {
                let n = next.fetch_add(1, Ordering::Relaxed);
                seen.add(pool.serve(&work, n, Instant::now()).await);
            }
            seen
        });
    }
    let mut all = Seen::default();
    while let Some(joined) = tasks.join_next().await {
        let seen = joined?;
        all.latencies.extend(seen.latencies);
        all.refused += seen.refused;
        all.failed += seen.failed;
        if all.first_failure.is_none() {
            all.first_failure = seen.first_failure;
        }
    }
    Ok(all.finish(began))
}

/// Arrivals at `rate` per second for `seconds`, each served whatever the others' answers (open loop).
async fn open_loop(pool: &Arc<Pool>, work: &Work, rate: f64, seconds: u64, max_in_flight: usize) -> Result<Seen> {
    let pending = Arc::new(AtomicUsize::new(0));
    let arrivals = (rate * seconds as f64).round() as usize;
    let began = Instant::now();
    let mut seen = Seen::default();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..arrivals {
        let due = began + Duration::from_secs_f64(n as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        while let Some(done) = tasks.try_join_next() {
            seen.add(done?);
        }
        if pending.load(Ordering::Relaxed) >= max_in_flight {
            seen.not_sent += 1;
            continue;
        }
        pending.fetch_add(1, Ordering::Relaxed);
        let (pool, work, pending) = (pool.clone(), work.clone(), pending.clone());
        tasks.spawn(async move {
            let outcome = pool.serve(&work, n, due).await;
            pending.fetch_sub(1, Ordering::Relaxed);
            outcome
        });
    }
    while let Some(done) = tasks.join_next().await {
        seen.add(done?);
    }
    Ok(seen.finish(began))
}
