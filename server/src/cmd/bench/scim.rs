//! `hcpki bench scim`: SCIM 2.0 requests per second over one facility's staff accounts (issue #51, D175), against
//! a real `hcpki serve` of the `--dir` installation, each row beside journeys of as many `GET /healthz` on the
//! same connections and concurrency (the reference `bench sso` uses).
//!
//! Set-up: `bench sso`'s (a portal, its private_key_jwt client `hcpki-bench-sso`), then a facility
//! `SCIM ベンチ病院` with `--accounts` accounts `bench-staff-NNNNNNN` put straight into the store (no password
//! hashing: the bench measures SCIM, not account creation; an earlier run's accounts are kept) and the client
//! bound to it (`hcpki scim client add`). Each row gets a fresh 5-minute token (`client_credentials`, scope
//! `scim`). Rows: a page of 100 (`startIndex` walking the facility), a `filter=userName eq …` lookup, a `PATCH`
//! replacing one account's `displayName` (audited, as an HR system's would be).

use super::measure::percentile;
use super::sso::{self, CLIENT, Journey, Prepared, Served};
use crate::args::Global;
use anyhow::{Context, Result};
use clap::Args;
use hcpki_ca::facility::{FacilityKind, NewFacility, Transition};
use hcpki_ca::store::{Actor, PortalUser, ScimClientRecord};
use hyper::Method;
use hyper::header::{self, HeaderName};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct BenchScimArgs {
    /// Staff accounts of the facility (600,000 facilities' staff: see docs/benchmarks.md for the size to use).
    #[arg(long, default_value_t = 10_000)]
    pub accounts: usize,
    /// Requests in flight at once (comma-separated): one row per operation each.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    pub concurrency: Vec<usize>,
    /// Requests per row (and as many reference journeys).
    #[arg(long, default_value_t = 500)]
    pub requests: usize,
}

const FACILITY: &str = "SCIM ベンチ病院";

/// What one SCIM request of a row does.
#[derive(Clone, Copy, Debug)]
pub(super) enum Op {
    List,
    Filter,
    Patch,
}

/// One row's SCIM request: the operation, the token, how many accounts there are.
pub(super) struct Call {
    op: Op,
    token: String,
    accounts: usize,
}

#[async_trait::async_trait]
impl sso::Request for Call {
    /// The `n`th request of the row on `conn`; nothing of it is the client's own work.
    async fn run(&self, conn: &mut sso::Connection, n: usize) -> Result<Duration> {
        let i = n.wrapping_mul(7919) % self.accounts.max(1);
        let mut headers: Vec<(HeaderName, String)> = vec![(header::AUTHORIZATION, format!("Bearer {}", self.token))];
        let reply = match self.op {
            Op::List => {
                let path = format!("/scim/v2/Users?startIndex={}&count=100", 1 + i.saturating_sub(100));
                conn.send(Method::GET, &path, &headers, None).await?
            }
            Op::Filter => {
                let path = format!("/scim/v2/Users?filter=userName%20eq%20%22{}%22", name(i));
                conn.send(Method::GET, &path, &headers, None).await?
            }
            Op::Patch => {
                headers.push((header::CONTENT_TYPE, "application/scim+json".into()));
                let body = serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{ "op": "replace", "path": "displayName", "value": format!("Staff {i} / {n}") }],
                });
                conn.send(Method::PATCH, &format!("/scim/v2/Users/{}", name(i)), &headers, Some(body.to_string()))
                    .await?
            }
        };
        anyhow::ensure!(reply.status == 200, "{:?} answered {}: {}", self.op, reply.status, sso::excerpt(&reply.body));
        Ok(Duration::ZERO)
    }
}

fn name(i: usize) -> String {
    format!("bench-staff-{i:07}")
}

pub async fn run(global: &Global, args: &BenchScimArgs) -> Result<ExitCode> {
    anyhow::ensure!(args.accounts > 0 && args.requests > 0, "--accounts and --requests must be at least 1");
    anyhow::ensure!(args.concurrency.iter().all(|c| *c > 0), "--concurrency values must be at least 1");
    let Prepared { loaded, backend, files, authority, rp, cards, tls, .. } = sso::prepare(global, 1).await?;
    let store = authority.store().clone();
    let actor = Actor::cli("bench-scim");
    let facility = match store.list_facilities(&Default::default()).await?.into_iter().find(|f| f.name == FACILITY) {
        Some(f) => f.id,
        None => {
            let f = authority
                .registrar()
                .register_facility(&NewFacility::new(FACILITY, FacilityKind::Hospital, None, None, None)?, &actor)
                .await?;
            authority.registrar().transition(&f.id, Transition::Approve, None, &actor).await?;
            f.id
        }
    };
    eprintln!("bench scim: putting {} staff accounts in {facility}", args.accounts);
    let now = hcpki_pkix::time::now();
    for i in 0..args.accounts {
        let user = PortalUser {
            username: name(i),
            display_name: format!("Staff {i}"),
            hc_role: Some("nurse".into()),
            password_hash: "bench: no password".into(),
            totp_secret: "bench: no secret".into(),
            last_totp_step: 0,
            created_by: actor.as_str().to_owned(),
            created_at: now.as_secs(),
            disabled_at: None,
        };
        // `false`: an earlier run's account, kept.
        store.scim_account_add(&user, &facility, None, &actor, now).await?;
    }
    let binding = ScimClientRecord {
        client_id: CLIENT.into(),
        facility: facility.clone(),
        added_by: actor.as_str().into(),
        added_at: now.as_secs(),
    };
    store.scim_client_put(&binding, &actor, now).await?;
    let server = Served::start(global, &files).await?;
    let (main, portal, _) = sso::endpoints(&loaded, &server, &tls, cards, rp.clone())?;
    eprintln!(
        "bench scim on {backend}: {} accounts, {} requests per row, {} CPU cores",
        args.accounts,
        args.requests,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!(
        "| backend | accounts | operation | in flight | requests | **requests/s** | p50 | p99 | failed | reference: 5 × GET \
         /healthz journeys/s | requests ÷ reference journeys |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for op in [Op::List, Op::Filter, Op::Patch] {
        for &c in &args.concurrency {
            let token = token(&portal, &rp, &server.issuer).await?;
            let call: Arc<dyn sso::Request> = Arc::new(Call { op, token, accounts: args.accounts });
            let reference = sso::drive(&main, Journey::Healthz, c, args.requests).await?;
            let measured = sso::drive(&portal, Journey::Request(call), c, args.requests).await?;
            if let Some(first) = &measured.first_failure {
                eprintln!("bench scim: first failed {op:?} at {c} in flight: {first}");
            }
            let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
            println!(
                "| {backend} | {} | {op:?} | {c} | {} | **{:.0}** | {} | {} | {} | {:.0} | {:.2}× |",
                args.accounts,
                measured.done,
                measured.rate(),
                ms(percentile(&measured.latencies, 0.5)),
                ms(percentile(&measured.latencies, 0.99)),
                measured.failed,
                reference.rate(),
                if reference.rate() > 0.0 { measured.rate() / reference.rate() } else { 0.0 },
            );
        }
    }
    server.stop().await?;
    Ok(ExitCode::SUCCESS)
}

/// A SCIM token of the bench's client (client_credentials, scope scim, private_key_jwt).
async fn token(portal: &Arc<sso::Endpoint>, rp: &sso::RelyingParty, issuer: &str) -> Result<String> {
    let assertion = rp.assertion(&format!("{issuer}/token"))?;
    let body = serde_urlencoded::to_string([
        ("grant_type", "client_credentials"),
        ("scope", "scim"),
        ("client_assertion_type", hcpki_sso::oidc::client::JWT_BEARER),
        ("client_assertion", &assertion),
    ])?;
    let mut conn = portal.connect().await?;
    let content_type = [(header::CONTENT_TYPE, "application/x-www-form-urlencoded".to_owned())];
    let reply = conn.send(Method::POST, "/token", &content_type, Some(body)).await?;
    let answer: serde_json::Value = serde_json::from_str(&reply.body)
        .with_context(|| format!("/token answered {}: {}", reply.status, sso::excerpt(&reply.body)))?;
    answer
        .get("access_token")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .with_context(|| format!("no SCIM token: {answer}"))
}
