//! `hcpki bench issue`: the full issuance pipeline against the raw signing
//! rate of the same CA key, on SQLite and (optionally) PostgreSQL. `hcpki bench crl`: one CRL of N entries
//! (`revocation::crl::build`, as the server signs it), see [`crl`]. `hcpki bench login`: the server side of a
//! card login, see [`login`]. `hcpki bench national`: a national dataset grown point by point, see [`national`].
//! `hcpki bench sso`: card logins over HTTPS against a running `hcpki serve`, see [`sso`]. `hcpki bench p384`:
//! ECDSA P-384 verifications/s against `openssl speed ecdsap384`, see [`p384`].
//!
//! The pipeline number includes everything a real issuance does: CSR parse
//! and proof-of-possession check, facility lookup, profile, TBS encoding,
//! lints, the write-ahead intent row, the signature, the certificate row and
//! its audit entry. CSRs are made before the clock starts (that is the
//! device's work). The raw rate signs TBS-sized messages with the same key
//! on the same number of threads, so the ratio isolates hcpki's overhead.

mod dataset;
mod measure;
mod national;
mod overload;
mod p384;
mod scim;
mod sso;

use crate::args::Global;
use measure::{RawCrl, crl_entries, percentile, raw_crl, raw_rate};
use national::BenchNationalArgs;
use overload::BenchOverloadArgs;
use p384::BenchP384Args;
use sso::BenchSsoArgs;

use crate::args::value;
use anyhow::{Context, Result};
use clap::Args;
use clap::Subcommand;
use hcpki_ca::authority::{InitOptions, IssueRequest, KeyPlacement};
use hcpki_ca::facility::{FacilityKind, NewFacility, Transition};
use hcpki_ca::profile::{ProfileKind, ProfileSettings};
use hcpki_ca::store::Actor;
use hcpki_ca::{Authority, CaName};
use hcpki_pkix::keys::{self, KeyAlgorithm, KeyContext, KeyUri, SoftwareKey};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Certificates per second through the full pipeline vs. the raw signing rate of the same CA key.
    Issue(BenchIssueArgs),
    /// Time to build and sign one CRL with N entries, its size, vs. encoding alone and OpenSSL parsing it.
    Crl(BenchCrlArgs),
    /// Server-side card login as `POST /login/card` runs it (challenge, signature, chain, cached revocation,
    /// audit entry, SSO session), and its parts.
    Login(BenchLoginArgs),
    /// A national dataset (facilities of every kind by prefecture, ~6 certificates each, ~5% revoked) grown in
    /// the `--dir` installation point by point, measuring registration, issuance, lookups, CRLs and size at each.
    National(BenchNationalArgs),
    /// SSO card logins per second over HTTPS against `hcpki serve` of the `--dir` installation (login page,
    /// challenge, card signature, session, code flow, token), at several concurrencies, against journeys of as
    /// many `GET /healthz`. Sets the installation's `[login]` to the bench's test HPKI (and a `[portal]` if none).
    Sso(BenchSsoArgs),
    /// The admission gate under overload (D138): the sustainable rate of card logins and EST re-enrollments,
    /// then 2× and 5× of it offered open loop, with p50/p99 of the completed requests and the share refused,
    /// against the same server with `[admission] enabled = false`. Sets up the installation as `bench sso` does.
    Overload(BenchOverloadArgs),
    /// ECDSA P-384 / SHA-384 verifications per second (the next My Number card, D153) through hcpki's card
    /// signature path, against `openssl speed ecdsap384` on the same machine in the same run.
    P384(BenchP384Args),
    /// SCIM 2.0 list, filter and PATCH requests per second over a facility's staff accounts (D175), against a
    /// running `hcpki serve` of the `--dir` installation and as many `GET /healthz` journeys. Sets up the
    /// installation as `bench sso` does, and puts `--accounts` staff accounts in one facility.
    Scim(scim::BenchScimArgs),
}

#[derive(Debug, Args)]
pub struct BenchLoginArgs {
    /// Logins to verify.
    #[arg(long, default_value_t = 2000)]
    pub iterations: usize,
    /// Entries on the card CA's cached CRL (the lookup is a hash map; a large CRL shows it stays flat).
    #[arg(long, default_value_t = 10_000)]
    pub crl_entries: usize,
    /// PostgreSQL admin URL: run on a scratch database there instead of a fresh SQLite file.
    #[arg(long, conflicts_with = "database")]
    pub postgres: Option<String>,
    /// Run on this database (`sqlite:PATH` or `postgres://…`, created or migrated as needed) and keep it: its
    /// `portal_sessions` table then holds one session per login, for measuring bytes per session.
    #[arg(long)]
    pub database: Option<String>,
    /// Log in as a card does at a facility PC by default: with the facility's context and its PC certificate
    /// (serial, notAfter), under a card presence lease (`[portal] card_presence_secs`' default) and with a card
    /// id of the agent's form, so that every session row has a real one's shape (`scripts/bench-sessions`).
    #[arg(long)]
    pub at_facility: bool,
}

#[derive(Debug, Args)]
pub struct BenchCrlArgs {
    /// Revoked certificates on the CRL.
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: usize,
    /// CA key algorithms to sign with (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "p256,rsa2048", value_parser = value::key_algorithm())]
    pub keys: Vec<KeyAlgorithm>,
}

#[derive(Debug, Args)]
pub struct BenchIssueArgs {
    /// Certificates to issue per configuration.
    #[arg(long, default_value_t = 2000)]
    pub count: usize,
    /// Concurrent single-request issuers.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Certificates per batch for the group-commit run.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// CA key algorithms to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "p256,rsa2048", value_parser = value::key_algorithm())]
    pub keys: Vec<KeyAlgorithm>,
    /// PostgreSQL URL to also measure on (a fresh database is created per run).
    #[arg(long, env = "HCPKI_BENCH_PG_URL")]
    pub postgres: Option<String>,
}

pub async fn run(command: BenchCommand, global: &Global) -> Result<ExitCode> {
    match command {
        BenchCommand::Issue(args) => issue(&args).await,
        BenchCommand::Crl(args) => crl(&args),
        BenchCommand::Login(args) => login(&args).await,
        BenchCommand::National(args) => national::run(global, &args).await,
        BenchCommand::Sso(args) => sso::run(global, &args).await,
        BenchCommand::Overload(args) => overload::run(global, &args).await,
        BenchCommand::P384(args) => p384::run(&args),
        BenchCommand::Scim(args) => scim::run(global, &args).await,
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
    let algs: Vec<KeyAlgorithm> = args.keys.clone();
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
        .registrar()
        .register_facility(&NewFacility::new("ベンチマーク病院", FacilityKind::Hospital, None, None, None)?, &actor)
        .await?;
    authority.registrar().transition(&f.id, Transition::Approve, None, &actor).await?;
    authority.registrar().add_allocation(f.id.as_str(), "192.0.2.1", &actor).await?;

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
        facility: Some(f.id.clone()),
        csr: csr.into(),
        sans: vec![san, "192.0.2.1".into()],
        device: None,
        router: None,
        router_eku: None,
        ocsp_for: None,
        not_after: None,
    });
    // Warm up (opens the CA key, fills caches and pools).
    authority.pipeline().issue(&request, &actor).await?;

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
                authority.pipeline().issue(&request, &actor).await?;
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
    let pct = |p: f64| percentile(&latencies, p);
    let single = latencies.len() as f64 / elapsed.as_secs_f64();

    // Group commit: the same pipeline per certificate, one transaction per batch for intents and for results.
    let batch: Vec<IssueRequest> = (0..args.batch.max(1)).map(|_| (*request).clone()).collect();
    let batches = args.count.div_ceil(args.batch.max(1));
    let start = Instant::now();
    let mut issued = 0usize;
    for _ in 0..batches {
        for r in authority.pipeline().issue_many(&batch, &actor).await {
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

/// One CRL of `--entries` revoked certificates per CA key, made by `revocation::crl::build` exactly as the
/// server makes it (from the entries the store returns: random 16-octet serials in serial order, revocation
/// times over the last 397 days, a realistic mix of reasons). Reported: seconds to build and sign, the
/// size and bytes per entry, and two ratios measured in the same run: build+sign against encoding the
/// TBSCertList alone, and against `openssl crl` reading the same CRL (when OpenSSL is installed).
fn crl(args: &BenchCrlArgs) -> Result<ExitCode> {
    let algs: Vec<KeyAlgorithm> = args.keys.clone();
    let now = hcpki_pkix::time::now();
    let entries = crl_entries(args.entries, now)?;
    let issuer: x509_cert::name::Name = "CN=hcpki Facility PC CA,O=hcpki,C=JP".parse().context("benchmark CA name")?;
    eprintln!("bench crl: {} entries", entries.len());
    println!(
        "| CA key | entries | build + sign (s) | encode only (s) | ÷ encode | bytes | bytes/entry | openssl crl parse (s) | ÷ openssl |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for alg in algs {
        let RawCrl { build, encode, der } = raw_crl(alg, &issuer, &entries, now)?;
        let parse = openssl_parse_secs(&der)?;
        let per_entry = der.len() as f64 / entries.len().max(1) as f64;
        let (parse_cell, ratio_cell) = match parse {
            Some(p) => (format!("{p:.3}"), format!("{:.2}", build / p)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {alg} | {} | {build:.3} | {encode:.3} | {:.2} | {} | {per_entry:.1} | {parse_cell} | {ratio_cell} |",
            entries.len(),
            build / encode,
            der.len(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Seconds `openssl crl -inform DER -noout` takes to read `der`; `None` without OpenSSL.
fn openssl_parse_secs(der: &[u8]) -> Result<Option<f64>> {
    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), der)?;
    let start = Instant::now();
    let out = match std::process::Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-in"])
        .arg(file.path())
        .output()
    {
        Ok(out) => out,
        Err(_) => return Ok(None),
    };
    let secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(out.status.success(), "openssl could not read the CRL: {}", String::from_utf8_lossy(&out.stderr));
    Ok(Some(secs))
}

/// The server side of one card login. Two measurements per iteration, each on its own challenge:
///
/// - **full**: `portal::card_login::complete`, the function `POST /login/card` runs after its HTTP checks —
///   take the challenge (one `DELETE … RETURNING`), verify the card's RSA-2048 signature over the login
///   message, validate the HPKI path (root → authentication CA → card, two RSA signature checks), look both
///   certificates up in the cached CRLs (`--crl-entries` on the card CA's), decode hcRole, append the
///   hash-chained `login.card` audit entry, create the SSO session row;
/// - **parts**: the challenge take alone (database), then verify + a sample service's policy decision (CPU),
///   as the bench measured before sessions existed; and the floor (the three RSA verifications alone).
///
/// Off the clock: issuing the challenge (the login page's request) and the card's signature (the card's work).
/// SQLite (fresh file) unless `--postgres` names a server, where a scratch database is made, or `--database`
/// names one to use and keep (every full login leaves its session row there).
async fn login(args: &BenchLoginArgs) -> Result<ExitCode> {
    use crate::portal::card_login::{self, CardAnswer, CardLogin, LoginSource};
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use hcpki_ca::facility::{FacilityKind, FacilityState};
    use hcpki_sso::login::{CardVerifier, CrlCache, RevocationPolicy, TrustAnchors, challenge};
    use hcpki_sso::policy::{FacilityContext, Services, decide};
    use hcpki_sso::{secret::PortalSecret, session::Sessions};
    use hcpki_vcard::testpki::{CrlValidity, HpkiSubject, HpkiTestCas, Revoked};

    const ORIGIN: &str = "https://portal.bench.invalid";
    let dir = tempfile::tempdir()?;
    let url = match (&args.database, &args.postgres) {
        (Some(url), _) => url.clone(),
        (None, Some(admin)) => hcpki_ca::store::create_scratch_database(admin, "hcpki_bench").await?,
        (None, None) => format!("sqlite:{}", dir.path().join("bench.db").display()),
    };
    let backend = if url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    let store = hcpki_ca::store::open(&url).await?;
    let cas = HpkiTestCas::new()?;
    let card = cas.issue(&HpkiSubject::default())?;
    // Positive 8-byte serials with a non-zero first octet, as a CA draws them.
    let revoked: Vec<Revoked> = (0..args.crl_entries)
        .map(|_| {
            let mut serial = rand::random::<[u8; 8]>();
            serial[0] = (serial[0] & 0x7f) | 0x01;
            Revoked { serial: serial.to_vec(), at: time::OffsetDateTime::now_utc(), reason: None }
        })
        .collect();
    let trust =
        TrustAnchors::new(std::slice::from_ref(&card.root), &[], std::slice::from_ref(&card.authentication_ca))?;
    let crls = Arc::new(CrlCache::new(Vec::new(), &trust));
    let now_ms = hcpki_pkix::time::now_unix_ms();
    let now = now_ms.div_euclid(1000);
    crls.install("bench:auth", &cas.authentication_crl(&revoked, CrlValidity::fresh(24))?, now)?;
    crls.install("bench:arl", &cas.root_arl(&[], CrlValidity::fresh(24))?, now)?;
    let cards = CardLogin {
        verifier: CardVerifier::new(Arc::new(trust), crls, RevocationPolicy::FailClosed),
        origin: ORIGIN.into(),
        ttl_secs: challenge::DEFAULT_TTL_SECS,
        agent: "http://127.0.0.1:7717".into(),
    };
    let secret = Arc::new(PortalSecret::load_or_create(&dir.path().join("portal.secret"))?);
    // A facility PC's login (`--at-facility`): the facility, its PC certificate's serial (16 octets, as this CA
    // draws them) and notAfter, a presence lease, the agent's card id (a SHA-256 in hex).
    let facility = if args.at_facility {
        Some(FacilityContext {
            id: hcpki_ca::FacilityId::from_number(1)?,
            name: "ベンチ診療所".into(),
            kind: FacilityKind::Clinic,
            state: FacilityState::Active,
            medical_code: None,
        })
    } else {
        None
    };
    let facility_certificate = args.at_facility.then(|| "5a".repeat(16));
    let facility_not_after = args.at_facility.then_some(now + 365 * 86_400);
    let presence = args.at_facility.then_some(i64::from(crate::config::DEFAULT_CARD_PRESENCE_SECS));
    let sessions = Sessions::new(store.clone(), secret, 8 * 3600, presence);
    let services = Services::parse(
        "version = 1\n[[service]]\nid = \"emr\"\nname = \"EMR\"\nroles = [\"medical-doctor\"]\n\
         facility_kinds = [\"*\"]\nmin_assurance = \"card-pin\"\nclaims = [\"name\", \"hc_role\", \"acr\"]\n",
    )?;
    let service = services.get("emr").context("sample service")?;
    let chain = vec![card.authentication.cert.clone(), card.authentication_ca.clone()];
    let chain_b64 = chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>().join(",");
    eprintln!(
        "bench login: {} logins on {backend}, CRL of {} entries, {} CPU cores",
        args.iterations,
        args.crl_entries,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    // The login page's request and the card's work, off the clock: a challenge and its signature.
    let signed = |prelogin: String| async {
        let issued = cards.challenge(&*store, &prelogin, now).await?;
        let bytes = URL_SAFE_NO_PAD.decode(&issued.challenge)?;
        let signature = card.authentication.key.sign_sha256(&hcpki_agent_protocol::login_message(ORIGIN, &bytes))?;
        anyhow::Ok((prelogin, issued.challenge, signature))
    };

    // Per login: full, the challenge take alone (database), verify + decide alone (CPU), the RSA floor.
    let mut samples: [Vec<Duration>; 4] = Default::default();
    let mut elapsed_full = Duration::ZERO;
    for i in 0..args.iterations.max(1) + 20 {
        let (prelogin, challenge_id, signature) = signed(format!("bench-full-{i}")).await?;
        let answer = CardAnswer {
            challenge_id: &challenge_id,
            signature: &STANDARD.encode(&signature),
            chain: &chain_b64,
            button: hcpki_sso::login::CardKind::Hpki,
        };
        let source = LoginSource {
            prelogin_id: &prelogin,
            facility: facility.clone(),
            facility_certificate: facility_certificate.clone(),
            facility_not_after,
            pc_certificate: None,
        };
        let start = Instant::now();
        let created = card_login::complete(store.as_ref(), &sessions, &cards, &services, &answer, source, now_ms).await;
        let full = start.elapsed();
        created.map_err(|e| anyhow::anyhow!("card login refused: {e:?}"))?;

        let (prelogin, challenge_id, signature) = signed(format!("bench-parts-{i}")).await?;
        let start = Instant::now();
        let taken = challenge::take(
            &*store,
            &challenge_id,
            &hcpki_sso::login::challenge::prelogin_binding(&prelogin),
            ORIGIN,
            now,
        )
        .await?;
        let took = start.elapsed();
        let verified = cards.verifier.verify(&taken, &signature, &chain, now)?;
        let decision = decide(&verified.subject, facility.as_ref(), service);
        let parts = start.elapsed();
        anyhow::ensure!(decision.is_allowed(), "the sample service refused the bench card: {decision}");
        let start = Instant::now();
        rsa_verifications(&card, &signature, &taken)?;
        let rsa = start.elapsed();
        // The first logins warm caches and the connection pool; they are not counted.
        if i >= 20 {
            for (v, d) in samples.iter_mut().zip([full, took, parts - took, rsa]) {
                v.push(d);
            }
            elapsed_full += full;
        }
    }
    for v in &mut samples {
        v.sort();
    }
    let pct = percentile;
    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
    let [full, take, verify, rsa] = &samples;
    println!(
        "| backend | logins | CRL entries | **full login p50** | **p99** | **max** | full logins/s (1 task) | challenge take p50 / p99 | verify + decide p50 / p99 | 3 RSA verifications p50 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {backend} | {} | {} | **{}** | **{}** | **{}** | {:.0} | {} / {} | {} / {} | {} |",
        full.len(),
        args.crl_entries,
        ms(pct(full, 0.5)),
        ms(pct(full, 0.99)),
        ms(full.last().copied().unwrap_or_default()),
        full.len() as f64 / elapsed_full.as_secs_f64().max(1e-9),
        ms(pct(take, 0.5)),
        ms(pct(take, 0.99)),
        ms(pct(verify, 0.5)),
        ms(pct(verify, 0.99)),
        ms(pct(rsa, 0.5)),
    );
    Ok(ExitCode::SUCCESS)
}

/// The floor of a login: the three RSA-2048 verifications alone (login signature, card certificate, CA
/// certificate), through the same aws-lc-rs calls.
fn rsa_verifications(
    card: &hcpki_vcard::testpki::HpkiCredentials,
    signature: &[u8],
    taken: &hcpki_sso::login::Challenge,
) -> Result<()> {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
    use der::Decode;
    let key_of = |der: &[u8]| -> Result<Vec<u8>> {
        let cert = x509_cert::Certificate::from_der(der)?;
        Ok(cert.tbs_certificate().subject_public_key_info().subject_public_key.raw_bytes().to_vec())
    };
    let signed = |der: &[u8]| -> Result<(Vec<u8>, Vec<u8>)> {
        let raw = hcpki_pkix::asn1::SignedRaw::from_der(der)?;
        Ok((raw.tbs_der()?, raw.signature.raw_bytes().to_vec()))
    };
    let message = hcpki_agent_protocol::login_message(taken.origin(), taken.bytes());
    let check = |key: &[u8], msg: &[u8], sig: &[u8]| {
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
            .verify(msg, sig)
            .map_err(|_| anyhow::anyhow!("RSA verification failed"))
    };
    check(&key_of(&card.authentication.cert)?, &message, signature)?;
    let (tbs, sig) = signed(&card.authentication.cert)?;
    check(&key_of(&card.authentication_ca)?, &tbs, &sig)?;
    let (tbs, sig) = signed(&card.authentication_ca)?;
    check(&key_of(&card.root)?, &tbs, &sig)
}
