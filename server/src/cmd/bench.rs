//! `hcpki bench issue`: the full issuance pipeline against the raw signing
//! rate of the same CA key, on SQLite and (optionally) PostgreSQL.
//!
//! The pipeline number includes everything a real issuance does: CSR parse
//! and proof-of-possession check, facility lookup, profile, TBS encoding,
//! lints, the write-ahead intent row, the signature, the certificate row and
//! its audit entry. CSRs are made before the clock starts (that is the
//! device's work). The raw rate signs TBS-sized messages with the same key
//! on the same number of threads, so the ratio isolates hcpki's overhead.

use crate::cli::{BenchCommand, BenchIssueArgs};
use anyhow::{Context, Result};
use hcpki_ca::authority::{InitOptions, IssueRequest, KeyPlacement};
use hcpki_ca::facility::{FacilityKind, NewFacility, Transition};
use hcpki_ca::keys::{self, KeyAlgorithm, KeyContext, KeyUri, SoftwareKey};
use hcpki_ca::profile::{ProfileKind, ProfileSettings};
use hcpki_ca::store::Actor;
use hcpki_ca::{Authority, CaName};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn run(command: BenchCommand) -> Result<ExitCode> {
    match command {
        BenchCommand::Issue(args) => issue(&args).await,
    }
}

struct Row {
    backend: &'static str,
    key: KeyAlgorithm,
    raw_1: f64,
    raw_n: f64,
    single: f64,
    p50: Duration,
    p99: Duration,
    batched: f64,
}

async fn issue(args: &BenchIssueArgs) -> Result<ExitCode> {
    let algs: Vec<KeyAlgorithm> =
        args.keys.split(',').map(KeyAlgorithm::from_str).collect::<Result<_, _>>().context("--keys")?;
    let mut backends: Vec<(&'static str, Option<String>)> = vec![("sqlite", None)];
    if let Some(pg) = &args.postgres {
        backends.push(("postgres", Some(pg.clone())));
    }
    eprintln!(
        "bench issue: {} certificates per run, {} concurrent issuers, {} CPU cores",
        args.count,
        args.concurrency,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let mut rows = Vec::new();
    for (backend, pg) in &backends {
        for &alg in &algs {
            rows.push(run_one(backend, pg.as_deref(), alg, args).await?);
        }
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "| backend | CA key | raw sign/s, 1 thread | raw sign/s, {cores} threads | single requests certs/s ({c} concurrent) | p50 | p99 | ÷ raw ({cores}) | batched certs/s (batches of {b}) | ÷ raw ({cores}) |",
        c = args.concurrency,
        b = args.batch
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.2} ms | {:.2} ms | {:.1}% | {:.0} | {:.1}% |",
            r.backend,
            r.key,
            r.raw_1,
            r.raw_n,
            r.single,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            100.0 * r.single / r.raw_n,
            r.batched,
            100.0 * r.batched / r.raw_n,
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_one(backend: &'static str, pg: Option<&str>, alg: KeyAlgorithm, args: &BenchIssueArgs) -> Result<Row> {
    let dir = tempfile::tempdir()?;
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "benchmark passphrase")?;
    let keys = KeyContext { base_dir: dir.path().to_owned(), passphrase_file: Some(pass), pkcs11: None };
    let url = match pg {
        Some(admin) => hcpki_ca::store::create_scratch_database(admin, "hcpki_bench").await?,
        None => format!("sqlite:{}", dir.path().join("bench.db").display()),
    };
    let store = hcpki_ca::store::open(&url).await?;
    let actor = Actor::cli("bench");
    let algorithms: BTreeMap<CaName, KeyAlgorithm> = [(CaName::Router, alg)].into_iter().collect();
    let authority = Arc::new(
        Authority::init(
            store,
            keys.clone(),
            ProfileSettings::default(),
            &InitOptions { placement: KeyPlacement::Software, algorithms },
            &actor,
        )
        .await?,
    );
    let f = authority
        .register_facility(&NewFacility::new("ベンチマーク病院", FacilityKind::Hospital, None, None, None)?, &actor)
        .await?;
    authority.transition(&f.id, Transition::Approve, None, &actor).await?;

    // Raw signing with the router CA's own key, over TBS-sized input.
    let key: Arc<dyn keys::KeySource> =
        Arc::from(keys::open(&KeyUri::from_str(authority.ca_key_uri(CaName::Router)?)?, &keys)?);
    let message = vec![0x5au8; 700];
    let raw_1 = raw_rate(&key, &message, args.count, 1)?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let raw_n = raw_rate(&key, &message, args.count, cores)?;

    // Device side, off the clock.
    let (device, _) = SoftwareKey::generate_device_key(KeyAlgorithm::P256)?;
    let csr = hcpki_ca::csr::build(&device, x509_cert::name::Name::default())?;
    let san = authority.settings().router_dns_name(&f.id);
    let request = Arc::new(IssueRequest {
        profile: ProfileKind::Router,
        facility: Some(f.id.to_string()),
        csr: csr.into(),
        sans: vec![san, "192.0.2.1".into()],
        device: None,
        router_eku: None,
        ocsp_for: None,
    });
    // Warm up (opens the CA key, fills caches and pools).
    authority.issue(&request, &actor).await?;

    let per_task = args.count.div_ceil(args.concurrency.max(1));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let authority = authority.clone();
        let request = request.clone();
        let actor = actor.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let t = Instant::now();
                authority.issue(&request, &actor).await?;
                lat.push(t.elapsed());
            }
            Ok::<_, hcpki_ca::AuthorityError>(lat)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p) as usize).copied().unwrap_or_default();
    let single = latencies.len() as f64 / elapsed.as_secs_f64();

    // Group commit: the same pipeline per certificate, one transaction per batch for intents and for results.
    let batch: Vec<IssueRequest> = (0..args.batch.max(1)).map(|_| (*request).clone()).collect();
    let batches = args.count.div_ceil(args.batch.max(1));
    let start = Instant::now();
    let mut issued = 0usize;
    for _ in 0..batches {
        for r in authority.issue_many(&batch, &actor).await {
            r?;
            issued += 1;
        }
    }
    let batched = issued as f64 / start.elapsed().as_secs_f64();
    let row = Row { backend, key: alg, raw_1, raw_n, single, p50: pct(0.5), p99: pct(0.99), batched };
    eprintln!(
        "  {backend} {alg}: raw {:.0}/s; single requests {:.0}/s; batched {:.0}/s",
        row.raw_n, row.single, row.batched
    );
    Ok(row)
}

fn raw_rate(key: &Arc<dyn keys::KeySource>, message: &[u8], count: usize, threads: usize) -> Result<f64> {
    let per = count.div_ceil(threads.max(1));
    let start = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..per {
                        key.sign(message)?;
                    }
                    Ok::<_, hcpki_ca::keys::KeyError>(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| anyhow::anyhow!("signing thread panicked"))??;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok((per * threads.max(1)) as f64 / start.elapsed().as_secs_f64())
}
