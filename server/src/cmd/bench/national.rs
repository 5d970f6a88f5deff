//! `hcpki bench national --facilities 1000,10000,…`: a national dataset grown in an initialised hcpki
//! directory (`--dir`, its configured or `--database-url` database, its CA keys), measured at each point.
//!
//! The dataset goes through the real paths only, so what is measured is what an operator's installation would
//! do, and the directory is a real installation afterwards (`hcpki audit verify`, `hcpki serve`, …):
//!
//! - facilities: [`hcpki_ca::store::Store::register_facilities`] in batches of [`facility_import::BATCH`] (as `hcpki facility
//!   import`, D29), then each approved through [`Authority::transition`], `--concurrency` at a time, through
//!   the group-commit worker a server runs (concurrent approvals share a transaction, each audited); the
//!   approvals are spread across 47 prefecture registration authorities (D167): each facility with a code is
//!   approved by its prefecture RA's operator, after the scope decision over its placement as the admin API
//!   makes it (the others by a central operator);
//! - routers (D174): each facility is registered with a /29 of 10.0.0.0/8 and, once approved, its one or two
//!   routers are registered inside it through [`hcpki_ca::router_register::register`] (the checks and the
//!   audited `router.add` of `hcpki router add`), `--concurrency` at a time; `approved_models_only` is turned
//!   on before the first issuance, so every router certificate below is held to the register and the list;
//! - certificates: [`Authority::issue_many`] in batches of [`ISSUE_BATCH`] (the group-commit path a mass
//!   enrollment takes): CSR proof of possession, profile, lints, write-ahead intent, a real signature by the CA
//!   key, the certificate row and its audit entry. The device keys come from a pool of [`DEVICE_KEYS`] made
//!   off the clock (a device's work, as in `bench issue`);
//! - revocations: 5 % of the certificates, each through [`Authority::revoke`], `--concurrency` at a time,
//!   through the server's group-commit worker as the approvals are (each revocation audited).
//!
//! At each point: registration, approval, issuance and revocation rates over the facilities added since the
//! previous point, each against a reference measured just before on the same database: registration against
//! bare audit entries appended in transactions of the same size ([`hcpki_ca::store::Store::append_audits`]),
//! approval and revocation against bare audited transactions of one entry each, as many in flight
//! ([`hcpki_ca::store::Store::append_audit`]), issuance against the raw signing rate of the same CA keys;
//! lookup latency by facility ID and by serial against a `SELECT 1` round trip
//! ([`hcpki_ca::store::Store::ping`]); each CA's complete CRL as the server signs it against `bench crl`'s
//! database-free build of the same number of entries; the database's size on disk against the DER bytes it
//! holds (every certificate issued and each CA's current CRL).
//!
//! The reference entries (`bench.reference`, at most [`REFERENCE_BATCHED`] + [`REFERENCE_COMMITS`] per point)
//! stay in the audit log: they are real chain entries, so `hcpki audit verify` covers them too.

use super::dataset::Generator;
use super::measure::{SplitMix, crl_entries, percentile, raw_crl, raw_rate};
use crate::args::Global;
use crate::cmd::facility_import;
use crate::config::Loaded;
use anyhow::{Context, Result};
use clap::Args;
use hcpki_ca::access::{Action, Principal, decide};
use hcpki_ca::authority::IssueRequest;
use hcpki_ca::facility::Transition;
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::revocation::{CrlReason, Reason};
use hcpki_ca::router_register::{self, RouterRequest};
use hcpki_ca::serial::SerialHex;
use hcpki_ca::store::router::RouterAuth;
use hcpki_ca::store::{Actor, Registration};
use hcpki_ca::{Authority, CaName, FacilityId};
use hcpki_pkix::keys::{self, KeyAlgorithm, KeyUri, SoftwareKey};
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BenchNationalArgs {
    /// Facility counts to measure at, ascending (comma-separated): the dataset grows to each in turn.
    #[arg(long, value_delimiter = ',', required = true)]
    pub facilities: Vec<usize>,
    /// Where national.csv and national.json go (created if missing).
    #[arg(long, default_value = "bench-national")]
    pub out: PathBuf,
    /// Seed of the dataset (names, kinds, prefectures, which certificates are revoked).
    #[arg(long, default_value_t = 9)]
    pub seed: u64,
    /// Lookups sampled per kind at each point.
    #[arg(long, default_value_t = 2000)]
    pub lookups: usize,
    /// Approvals and revocations in flight at once (both share commits as in a server, each one audited).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// The model of the dataset's routers: on the seeded list, approved for certificates.
const BENCH_ROUTER_MODEL: &str = "strongswan";
/// Certificates per `issue_many` call (as `bench issue --batch` and the group-commit queue's upper bound).
const ISSUE_BATCH: usize = 256;
/// Device keys (and CSRs) shared by the dataset's certificates: key generation is the device's work.
const DEVICE_KEYS: usize = 32;
/// Share of certificates revoked, in percent.
const REVOKED_PERCENT: u64 = 5;
/// Serials kept for the lookup sample (reservoir).
const SERIAL_SAMPLE: usize = 50_000;
/// Signatures per raw-rate measurement, by key kind (about a tenth of a second each on this machine).
const RAW_SIGNATURES_RSA: usize = 400;
const RAW_SIGNATURES_EC: usize = 8000;
/// Bare audit entries per point for registration's reference (in transactions of [`facility_import::BATCH`]).
const REFERENCE_BATCHED: usize = 5000;
/// Bare audited transactions per point for approval's and revocation's reference.
const REFERENCE_COMMITS: usize = 2000;

/// Everything measured at one point; one row of `national.csv`, one element of `national.json`.
#[derive(Debug, serde::Serialize)]
struct Point {
    backend: &'static str,
    facilities: usize,
    certificates: u64,
    revoked: u64,
    cores: usize,
    /// `/proc/loadavg`'s one-minute figure when the point was finished (other jobs on the machine).
    load_average: f64,
    added_facilities: usize,
    register_per_s: f64,
    /// Bare audit entries per second, appended in transactions of as many as a registration batch holds.
    audit_batch_per_s: f64,
    register_vs_reference: f64,
    approve_per_s: f64,
    /// Bare audited transactions (one entry each) per second, `--concurrency` in flight, each its own commit.
    audit_commit_per_s: f64,
    approve_vs_reference: f64,
    /// Routers registered so far, and the rate of the ones added at this point (each its audited transaction,
    /// `--concurrency` in flight) against the same bare audited commits as approval.
    routers: u64,
    router_register_per_s: f64,
    router_register_vs_reference: f64,
    added_certificates: u64,
    issue_per_s: f64,
    /// Raw signatures per second of the CA keys on every core, weighted as the added certificates were.
    raw_sign_per_s: f64,
    issue_vs_raw: f64,
    revoke_per_s: f64,
    revoke_vs_reference: f64,
    facility_lookup_p50_ms: f64,
    facility_lookup_p99_ms: f64,
    serial_lookup_p50_ms: f64,
    serial_lookup_p99_ms: f64,
    /// A facility's routers read from the register (what every router certificate's issuance reads).
    router_lookup_p50_ms: f64,
    router_lookup_p99_ms: f64,
    select1_p50_ms: f64,
    select1_p99_ms: f64,
    router_crl_entries: u64,
    router_crl_s: f64,
    router_crl_bytes: usize,
    router_crl_raw_s: f64,
    pc_crl_entries: u64,
    pc_crl_s: f64,
    pc_crl_bytes: usize,
    pc_crl_raw_s: f64,
    db_bytes: u64,
    db_bytes_per_certificate: f64,
    /// The DER the database holds: every certificate the dataset issued and each CA's current CRL.
    der_bytes: u64,
    db_vs_der: f64,
}

/// What the dataset holds so far.
#[derive(Default)]
struct Population {
    facilities: Vec<FacilityId>,
    /// Routers registered.
    routers: u64,
    certificates: u64,
    /// DER bytes of the certificates issued.
    certificate_der_bytes: u64,
    /// Revoked certificates per issuing CA.
    revoked_router: u64,
    revoked_pc: u64,
    /// A uniform sample of the serials issued so far.
    serials: Vec<SerialHex>,
}

pub async fn run(global: &Global, args: &BenchNationalArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        args.facilities.windows(2).all(|w| w.first() < w.get(1)),
        "--facilities must be ascending: the dataset grows from one point to the next"
    );
    let loaded = Loaded::read(&global.dir, global.database_url.as_deref())?;
    let authority = Arc::new(crate::cmd::context::open_loaded(&loaded).await?);
    // As `hcpki serve` does: concurrent approvals share commits (D35 addendum). Issuance calls
    // `issue_many` directly and is not affected.
    authority.start_group_commit();
    let backend = if loaded.database_url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    eprintln!("bench national on {backend}, {cores} CPU cores, points {:?}", args.facilities);

    let devices = device_csrs()?;
    let mut generator = Generator::new(args.seed);
    let mut sampler = SplitMix(args.seed ^ 0x5eed);
    let mut population = Population::default();
    let actor = Actor::cli("bench-national");
    let mut points = Vec::new();
    for &target in &args.facilities {
        let started = Instant::now();
        let point = grow_and_measure(
            &authority,
            &loaded,
            backend,
            &devices,
            &mut generator,
            &mut sampler,
            &mut population,
            &actor,
            args,
            target,
        )
        .await?;
        eprintln!(
            "  {target} facilities: {} certificates ({} revoked) in {:.0} s; {:.0} registrations/s, {:.0} issuances/s, \
             {} bytes on disk",
            point.certificates,
            point.revoked,
            started.elapsed().as_secs_f64(),
            point.register_per_s,
            point.issue_per_s,
            point.db_bytes
        );
        points.push(point);
        // Written after every point: a run stopped at a large point keeps the smaller ones.
        write_results(&args.out, &points)?;
    }
    print_table(&points);
    Ok(ExitCode::SUCCESS)
}

/// Grow the dataset to `target` facilities, then measure.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename these
async fn grow_and_measure(
    authority: &Arc<Authority>,
    loaded: &Loaded,
    backend: &'static str,
    devices: &[hcpki_ca::csr::Csr],
    generator: &mut Generator,
    sampler: &mut SplitMix,
    population: &mut Population,
    actor: &Actor,
    args: &BenchNationalArgs,
    target: usize,
) -> Result<Point> {
    let added = target.saturating_sub(population.facilities.len());
    let mut planned = Vec::with_capacity(added);
    for _ in 0..added {
        planned.push(generator.facility()?);
    }

    // Registration, batch by batch as `facility import` does; its reference just before.
    let audit_batch_per_s = audit_reference(authority, actor, added.min(REFERENCE_BATCHED), Shape::Batched).await?;
    let start = Instant::now();
    let mut new_ids = Vec::with_capacity(added);
    for chunk in planned.chunks(facility_import::BATCH) {
        let batch: Vec<_> = chunk.iter().map(|p| p.new.clone()).collect();
        for result in
            authority.registrar().facilities().register_facilities(&batch, actor, hcpki_pkix::time::now()).await?
        {
            match result {
                Registration::New(f) => new_ids.push(f.id),
                Registration::AlreadyRegistered { code, existing } => anyhow::bail!(
                    "医療機関コード {code} is already registered to {existing}: run bench national on a fresh `hcpki init` directory"
                ),
                Registration::AddressHeld { asked, holder, .. } => {
                    anyhow::bail!(
                        "{asked} is allocated to {holder}: run bench national on a fresh `hcpki init` directory"
                    )
                }
            }
        }
    }
    let register_per_s = rate(added as u64, start.elapsed());

    let commits = Shape::Committed { in_flight: args.concurrency };
    let audit_commit_per_s = audit_reference(authority, actor, added.min(REFERENCE_COMMITS), commits).await?;
    let start = Instant::now();
    let ras = std::sync::Arc::new(prefecture_ras(authority, actor).await?);
    concurrently(authority, actor, new_ids.clone(), args.concurrency, move |authority, _, id| {
        let ras = ras.clone();
        async move {
            let registrar = authority.registrar();
            let placement = registrar.placement(&id).await?;
            let prefecture = placement.as_ref().and_then(|p| p.prefecture);
            let ra = prefecture.and_then(|n| ras.get(usize::from(n.number()).saturating_sub(1))).cloned();
            let name = hcpki_ca::operator::OperatorName::parse("bench")?;
            let approver = Principal::Operator { name, role: hcpki_ca::operator::OperatorRole::Operator, ra };
            decide(&approver, &Action::Transition(Transition::Approve, &id), placement.as_ref())?;
            registrar.transition(&id, Transition::Approve, None, &approver.actor()).await?;
            Ok(())
        }
    })
    .await?;
    let approve_per_s = rate(added as u64, start.elapsed());

    // The router register: each facility's routers inside its allocation, through the register's checks.
    let registrations: Vec<RouterRequest> = planned
        .iter()
        .zip(&new_ids)
        .flat_map(|(p, id)| {
            p.router_addresses.iter().enumerate().map(move |(n, address)| RouterRequest {
                facility: id.clone(),
                name: format!("gw{}", n + 1),
                model: BENCH_ROUTER_MODEL.into(),
                firmware: "5.9".into(),
                auth: RouterAuth::Certificate,
                addresses: vec![address.clone()],
            })
        })
        .collect();
    let added_routers = registrations.len() as u64;
    let start = Instant::now();
    concurrently(authority, actor, registrations, args.concurrency, |authority, actor, req| async move {
        router_register::register(authority.store().as_ref(), &req, &actor, hcpki_pkix::time::now()).await?;
        Ok(())
    })
    .await?;
    let router_register_per_s = rate(added_routers, start.elapsed());
    population.routers += added_routers;
    let store = authority.store().as_ref();
    if !store.approved_models_only().await? {
        store.set_approved_models_only(true, actor, hcpki_pkix::time::now()).await?;
    }

    // Issuance: the signing reference first, on the same keys, just before.
    let (raw_router, raw_pc) =
        (raw_signing(authority, loaded, CaName::Router)?, raw_signing(authority, loaded, CaName::Pc)?);
    let (mut routers, mut pcs) = (0u64, 0u64);
    let mut to_revoke: Vec<(SerialHex, CaName)> = Vec::new();
    let mut issuing = Duration::ZERO;
    let mut batch: Vec<IssueRequest> = Vec::with_capacity(ISSUE_BATCH);
    let requests = planned.iter().zip(&new_ids).flat_map(|(p, id)| {
        let router = p.router_addresses.iter().enumerate().map(move |(n, a)| (ProfileKind::Router, id, n, Some(a)));
        router.chain((0..usize::from(p.pcs)).map(move |n| (ProfileKind::Pc, id, n, None)))
    });
    let mut device = 0usize;
    let mut pending = requests.peekable();
    while pending.peek().is_some() {
        batch.clear();
        for (profile, id, n, address) in pending.by_ref().take(ISSUE_BATCH) {
            device = (device + 1) % devices.len().max(1);
            let csr = devices.get(device).cloned().context("no device keys")?;
            batch.push(request(profile, id, n, address, csr));
        }
        let start = Instant::now();
        let results = authority.pipeline().issue_many(&batch, actor).await;
        issuing += start.elapsed();
        for result in results {
            let (issued, record) = result?;
            population.certificate_der_bytes += issued.der.len() as u64;
            let ca = if record.ca == CaName::Router { CaName::Router } else { CaName::Pc };
            match ca {
                CaName::Router => routers += 1,
                _ => pcs += 1,
            }
            population.certificates += 1;
            keep_sample(&mut population.serials, population.certificates, &record.serial, sampler);
            if generator.below(100) < REVOKED_PERCENT {
                to_revoke.push((record.serial, ca));
            }
        }
    }
    let added_certificates = routers + pcs;
    let issue_per_s = rate(added_certificates, issuing);
    // The raw rate of the mix: the time the same signatures take on the raw keys.
    let raw_secs = routers as f64 / raw_router + pcs as f64 / raw_pc;
    let raw_sign_per_s = if raw_secs > 0.0 { added_certificates as f64 / raw_secs } else { 0.0 };

    let start = Instant::now();
    let revocations = to_revoke.len() as u64;
    population.revoked_router += to_revoke.iter().filter(|(_, ca)| *ca == CaName::Router).count() as u64;
    population.revoked_pc += to_revoke.iter().filter(|(_, ca)| *ca == CaName::Pc).count() as u64;
    concurrently(authority, actor, to_revoke, args.concurrency, |authority, actor, (serial, _)| async move {
        authority.revoker().revoke(&serial, Reason(CrlReason::Superseded), &actor).await?;
        Ok(())
    })
    .await?;
    let revoke_per_s = rate(revocations, start.elapsed());
    population.facilities.extend(new_ids);

    // Lookups, each sample on its own round trip, one at a time.
    let (facilities, certificates) = (authority.registrar().facilities(), authority.pipeline().certificates());
    let maintenance = authority.maintenance();
    let by_id = sample_latency(args.lookups, sampler, &population.facilities, |id| async move {
        anyhow::ensure!(facilities.facility(&id).await?.is_some(), "facility {id} is missing");
        Ok(())
    })
    .await?;
    let by_serial = sample_latency(args.lookups, sampler, &population.serials, |serial| async move {
        anyhow::ensure!(certificates.certificate(&serial).await?.is_some(), "certificate {serial} is missing");
        Ok(())
    })
    .await?;
    let register = authority.store().as_ref();
    let routers_of = sample_latency(args.lookups, sampler, &population.facilities, |id| async move {
        anyhow::ensure!(!register.routers(Some(&id)).await?.is_empty(), "facility {id} has no router");
        Ok(())
    })
    .await?;
    let select1 =
        sample_latency(args.lookups, sampler, &[()], |()| async move { Ok(maintenance.ping().await?) }).await?;

    let router_crl = crl(authority, loaded, CaName::Router, population.revoked_router).await?;
    let pc_crl = crl(authority, loaded, CaName::Pc, population.revoked_pc).await?;
    let db_bytes = database_bytes(&loaded.database_url)?;
    let der_bytes = population.certificate_der_bytes + (router_crl.bytes + pc_crl.bytes) as u64;
    let revoked = population.revoked_router + population.revoked_pc;
    Ok(Point {
        backend,
        facilities: population.facilities.len(),
        certificates: population.certificates,
        revoked,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        load_average: load_average(),
        added_facilities: added,
        register_per_s,
        audit_batch_per_s,
        register_vs_reference: ratio(register_per_s, audit_batch_per_s),
        approve_per_s,
        audit_commit_per_s,
        approve_vs_reference: ratio(approve_per_s, audit_commit_per_s),
        routers: population.routers,
        router_register_per_s,
        router_register_vs_reference: ratio(router_register_per_s, audit_commit_per_s),
        added_certificates,
        issue_per_s,
        raw_sign_per_s,
        issue_vs_raw: ratio(issue_per_s, raw_sign_per_s),
        revoke_per_s,
        revoke_vs_reference: ratio(revoke_per_s, audit_commit_per_s),
        facility_lookup_p50_ms: ms(percentile(&by_id, 0.5)),
        facility_lookup_p99_ms: ms(percentile(&by_id, 0.99)),
        serial_lookup_p50_ms: ms(percentile(&by_serial, 0.5)),
        serial_lookup_p99_ms: ms(percentile(&by_serial, 0.99)),
        router_lookup_p50_ms: ms(percentile(&routers_of, 0.5)),
        router_lookup_p99_ms: ms(percentile(&routers_of, 0.99)),
        select1_p50_ms: ms(percentile(&select1, 0.5)),
        select1_p99_ms: ms(percentile(&select1, 0.99)),
        router_crl_entries: population.revoked_router,
        router_crl_s: router_crl.secs,
        router_crl_bytes: router_crl.bytes,
        router_crl_raw_s: router_crl.raw_secs,
        pc_crl_entries: population.revoked_pc,
        pc_crl_s: pc_crl.secs,
        pc_crl_bytes: pc_crl.bytes,
        pc_crl_raw_s: pc_crl.raw_secs,
        db_bytes,
        db_bytes_per_certificate: db_bytes as f64 / population.certificates.max(1) as f64,
        der_bytes,
        db_vs_der: ratio(db_bytes as f64, der_bytes as f64),
    })
}

/// How the reference's bare audit entries are committed.
#[derive(Clone, Copy)]
enum Shape {
    /// In transactions of [`facility_import::BATCH`] entries, one after another (a registration batch's shape).
    Batched,
    /// One entry per transaction, `in_flight` at a time (an approval's or a revocation's shape).
    Committed { in_flight: usize },
}

/// Audit entries per second when `n` bare `bench.reference` entries go in as `shape` says: what the hash
/// chain and the commits alone cost on this database, with its durability, just before the step they are
/// the reference of.
/// The 47 prefecture RAs (`pref-01` … `pref-47`), created at the first point (audited `ra.create`), in
/// prefecture order.
async fn prefecture_ras(authority: &Authority, actor: &Actor) -> Result<Vec<hcpki_ca::ra::Ra>> {
    let registrar = authority.registrar();
    let existing = registrar.ras().await?;
    let mut ras = Vec::with_capacity(47);
    for n in 1..=47u8 {
        let name = format!("pref-{n:02}");
        let ra = match existing.iter().find(|r| r.name.as_str() == name) {
            Some(r) => r.clone(),
            None => {
                let new = hcpki_ca::registrar::ra::NewRa {
                    name,
                    kind: "prefecture".into(),
                    label: format!("都道府県 {n:02}"),
                    prefectures: vec![n.to_string()],
                };
                registrar.create_ra(&new, actor).await?
            }
        };
        ras.push(ra);
    }
    Ok(ras)
}

async fn audit_reference(authority: &Arc<Authority>, actor: &Actor, n: usize, shape: Shape) -> Result<f64> {
    let event = |i: usize| hcpki_ca::audit::AuditEvent {
        actor: actor.as_str().to_owned(),
        action: "bench.reference".into(),
        target: "-".into(),
        outcome: hcpki_ca::audit::Outcome::Ok,
        detail: serde_json::json!({ "entry": i }),
    };
    let start = Instant::now();
    match shape {
        Shape::Batched => {
            let events: Vec<_> = (0..n).map(event).collect();
            for chunk in events.chunks(facility_import::BATCH) {
                authority.audit_log().append_audits(chunk, hcpki_pkix::time::now()).await?;
            }
        }
        Shape::Committed { in_flight } => {
            let events: Vec<_> = (0..n).map(event).collect();
            concurrently(authority, actor, events, in_flight, |authority, _, event| async move {
                authority.audit_log().append_audit(&event, hcpki_pkix::time::now()).await?;
                Ok(())
            })
            .await?;
        }
    }
    Ok(rate(n as u64, start.elapsed()))
}

/// The issue request for certificate `n` of `profile` at facility `id`, named as an operator would: a router's
/// by its registered name and address (held to the register by the pipeline, D174), a PC's by its device ID.
fn request(
    profile: ProfileKind,
    id: &FacilityId,
    n: usize,
    address: Option<&String>,
    csr: hcpki_ca::csr::Csr,
) -> IssueRequest {
    let (sans, device, router) = match (profile, address) {
        (ProfileKind::Router, Some(a)) => (vec![a.clone()], None, Some(format!("gw{}", n + 1))),
        _ => (Vec::new(), Some(format!("pc-{n:02}")), None),
    };
    IssueRequest {
        profile,
        facility: Some(id.clone()),
        csr,
        sans,
        device,
        router,
        router_eku: None,
        ocsp_for: None,
        not_after: None,
    }
}

fn device_csrs() -> Result<Vec<hcpki_ca::csr::Csr>> {
    (0..DEVICE_KEYS)
        .map(|_| {
            let (key, _) = SoftwareKey::generate_device_key(KeyAlgorithm::P256)?;
            Ok(hcpki_ca::csr::build(&key, x509_cert::name::Name::default())?.into())
        })
        .collect()
}

/// `ca`'s own key, opened as the server opens it.
fn ca_key(authority: &Authority, loaded: &Loaded, ca: CaName) -> Result<Arc<dyn keys::KeySource>> {
    Ok(Arc::from(keys::open(&KeyUri::from_str(authority.ca_key_uri(ca)?)?, &loaded.key_context())?))
}

/// Raw signatures per second of `ca`'s own key on every core.
fn raw_signing(authority: &Authority, loaded: &Loaded, ca: CaName) -> Result<f64> {
    let key = ca_key(authority, loaded, ca)?;
    let count = match key.algorithm() {
        KeyAlgorithm::P256 | KeyAlgorithm::P384 => RAW_SIGNATURES_EC,
        _ => RAW_SIGNATURES_RSA,
    };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    raw_rate(&key, &[0x5a; 700], count, cores)
}

/// One CA's complete CRL made as `hcpki crl` makes it, and the reference.
struct CrlFigures {
    secs: f64,
    bytes: usize,
    /// `bench crl`'s build of as many entries with a fresh key of the same algorithm, no database.
    raw_secs: f64,
}

async fn crl(authority: &Authority, loaded: &Loaded, ca: CaName, entries: u64) -> Result<CrlFigures> {
    let start = Instant::now();
    let der = authority.revoker().crl(ca).await?;
    let secs = start.elapsed().as_secs_f64();
    let algorithm = ca_key(authority, loaded, ca)?.algorithm();
    let now = hcpki_pkix::time::now();
    let issuer: x509_cert::name::Name = "CN=hcpki bench,O=hcpki,C=JP".parse().context("benchmark CA name")?;
    let raw = raw_crl(algorithm, &issuer, &crl_entries(usize::try_from(entries)?, now)?, now)?;
    Ok(CrlFigures { secs, bytes: der.len(), raw_secs: raw.build })
}

/// Run `op` on every item, `tasks` at a time (each op its own transaction; on SQLite the writer lock
/// serialises them, on PostgreSQL they overlap).
async fn concurrently<T, F, Fut>(
    authority: &Arc<Authority>,
    actor: &Actor,
    items: Vec<T>,
    tasks: usize,
    op: F,
) -> Result<()>
where
    T: Send + 'static,
    F: Fn(Arc<Authority>, Actor, T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<()>> + Send,
{
    let tasks = tasks.max(1);
    let mut lanes: Vec<Vec<T>> = (0..tasks).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        if let Some(lane) = lanes.get_mut(i % tasks) {
            lane.push(item);
        }
    }
    let mut set = tokio::task::JoinSet::new();
    for lane in lanes {
        let (authority, actor, op) = (authority.clone(), actor.clone(), op.clone());
        set.spawn(async move {
            for item in lane {
                op(authority.clone(), actor.clone(), item).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = set.join_next().await {
        done??;
    }
    Ok(())
}

/// Latencies of `n` calls of `op` on items drawn uniformly from `from`, sorted.
async fn sample_latency<'a, T, F, Fut>(n: usize, rng: &mut SplitMix, from: &[T], op: F) -> Result<Vec<Duration>>
where
    T: Clone,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<()>> + 'a,
{
    let mut out = Vec::with_capacity(n);
    if from.is_empty() {
        return Ok(out);
    }
    for _ in 0..n {
        let item = from.get(rng.below(from.len() as u64) as usize).cloned().context("sample index")?;
        let start = Instant::now();
        op(item).await?;
        out.push(start.elapsed());
    }
    out.sort();
    Ok(out)
}

/// Reservoir sampling: after `seen` serials, each is in `sample` with the same probability.
fn keep_sample(sample: &mut Vec<SerialHex>, seen: u64, serial: &SerialHex, rng: &mut SplitMix) {
    if sample.len() < SERIAL_SAMPLE {
        sample.push(serial.clone());
    } else if let Some(slot) = sample.get_mut(rng.below(seen) as usize) {
        *slot = serial.clone();
    }
}

/// Bytes the database takes: the SQLite file with its WAL, or PostgreSQL's `pg_database_size` (via `psql`).
fn database_bytes(url: &str) -> Result<u64> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.split('?').next().unwrap_or(path).trim_start_matches("//");
        return Ok(["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(format!("{path}{suffix}")).ok())
            .map(|m| m.len())
            .sum());
    }
    let out = std::process::Command::new("psql")
        .args([url, "-Atc", "SELECT pg_database_size(current_database())"])
        .output()
        .context("psql is needed to measure a PostgreSQL database's size")?;
    anyhow::ensure!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

/// The one-minute load average (0 where /proc is absent).
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// `a ÷ b`, 0 when there is no reference.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn rate(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `national.csv` and `national.json` in `out`.
fn write_results(out: &std::path::Path, points: &[Point]) -> Result<()> {
    let mut csv = csv::Writer::from_path(out.join("national.csv"))?;
    for p in points {
        csv.serialize(p)?;
    }
    csv.flush()?;
    std::fs::write(out.join("national.json"), serde_json::to_vec_pretty(points)?)?;
    Ok(())
}

/// The figures as Markdown, each rate and size with its ratio to its same-run reference.
fn print_table(points: &[Point]) {
    println!(
        "| backend | facilities | certificates | revoked | register/s (÷ ref) | ref: audit entries/s, batched | \
         approve/s (÷ ref) | revoke/s (÷ ref) | ref: audited commits/s | routers | router add/s (÷ ref) | issue/s | \
         ÷ raw sign | lookup by ID p50 / p99 | by serial p50 / p99 | routers of p50 / p99 | SELECT 1 p50 / p99 | router CRL s (÷ raw) | PC CRL s (÷ raw) | \
         PC CRL bytes | DB bytes | DER held | DB ÷ DER | bytes/cert |"
    );
    println!(
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for p in points {
        println!(
            "| {} | {} | {} | {} | {:.0} ({:.2}×) | {:.0} | {:.0} ({:.2}×) | {:.0} ({:.2}×) | {:.0} | {} | {:.0} ({:.2}×) | \
             {:.0} | {:.1}% | {:.3} / {:.3} ms | {:.3} / {:.3} ms | {:.3} / {:.3} ms | {:.3} / {:.3} ms | {:.3} ({:.1}×) | {:.3} ({:.1}×) | {} | {} | {} | \
             {:.2}× | {:.0} |",
            p.backend,
            p.facilities,
            p.certificates,
            p.revoked,
            p.register_per_s,
            p.register_vs_reference,
            p.audit_batch_per_s,
            p.approve_per_s,
            p.approve_vs_reference,
            p.revoke_per_s,
            p.revoke_vs_reference,
            p.audit_commit_per_s,
            p.routers,
            p.router_register_per_s,
            p.router_register_vs_reference,
            p.issue_per_s,
            100.0 * p.issue_vs_raw,
            p.facility_lookup_p50_ms,
            p.facility_lookup_p99_ms,
            p.serial_lookup_p50_ms,
            p.serial_lookup_p99_ms,
            p.router_lookup_p50_ms,
            p.router_lookup_p99_ms,
            p.select1_p50_ms,
            p.select1_p99_ms,
            p.router_crl_s,
            ratio(p.router_crl_s, p.router_crl_raw_s),
            p.pc_crl_s,
            ratio(p.pc_crl_s, p.pc_crl_raw_s),
            p.pc_crl_bytes,
            p.db_bytes,
            p.der_bytes,
            p.db_vs_der,
            p.db_bytes_per_certificate,
        );
    }
}
