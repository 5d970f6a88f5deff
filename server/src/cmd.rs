//! Command implementations: thin adapters from the CLI to `hcpki_ca`.

mod audit;
mod backup;
#[cfg(feature = "bench")]
mod bench;
mod ca;
mod cert;
mod console_grant;
mod demo;
mod enroll;
mod facility;
mod facility_import;
mod init;
mod issue;
mod job;
mod login;
pub mod oidc;
mod operator;
pub mod portal;
mod revocation;
mod serve;
pub mod service;

use crate::cli::{Cli, Command, LintCommand};
use crate::config::Loaded;
use anyhow::{Context, Result};
use hcpki_ca::Authority;
use hcpki_ca::store::Actor;
use std::process::ExitCode;

/// Run one command.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Init(args) => init::run(&g.dir, g.database_url.as_deref(), &args).await,
        Command::Backup(args) => backup::take(g, &args).await,
        Command::Restore(args) => backup::restore(g, &args).await,
        Command::Facility(c) => facility::run(&open(g).await?, c).await,
        Command::Enroll(c) => enroll::run(&open(g).await?, c).await,
        Command::Issue(args) => issue::run(&open(g).await?, &args).await,
        Command::Ca(c) => {
            let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
            ca::run(&loaded, &open_loaded(&loaded).await?, c).await
        }
        Command::Cert(c) => cert::run(&open(g).await?, c).await,
        Command::Audit(c) => {
            let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
            audit::run(&open_store(&loaded).await?, loaded.config.audit.retention_days, c).await
        }
        Command::Lint(LintCommand::Rules) => {
            for r in hcpki_ca::lint::RULES {
                println!(
                    "{:<52} {:<8} {:<36} {}",
                    r.id,
                    format!("{:?}", r.level).to_lowercase(),
                    r.source,
                    r.description
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => demo::run(&args, g).await,
        #[cfg(feature = "bench")]
        Command::Bench(c) => bench::run(c, g).await,
        Command::Serve(args) => serve::run(g, &args).await,
        Command::Operator(c) => operator::run(&open(g).await?, c).await,
        Command::ConsoleGrant(c) => console_grant::run(&open(g).await?, c).await,
        Command::Revoke(args) => revocation::revoke(&open(g).await?, &args).await,
        Command::Crl(args) => revocation::crl(&open(g).await?, &args).await,
        Command::Login(c) => login::run(g, c).await,
        Command::Portal(c) => with_store(g, |l, s| Box::pin(async move { portal::run(&l, s.as_ref(), c).await })).await,
        Command::Service(c) => {
            with_store(g, |l, s| Box::pin(async move { service::run(&l, s.as_ref(), c).await })).await
        }
        Command::Oidc(oidc::OidcCommand::RotateKey) => {
            let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
            oidc::rotate_key(&loaded, &open_loaded(&loaded).await?).await
        }
        Command::Oidc(c) => with_store(g, |l, s| Box::pin(async move { oidc::run(&l, s.as_ref(), c).await })).await,
        Command::Job(c) => job::run(&open(g).await?, c).await,
    }
}

/// The actor for audit entries: the local OS user running the CLI.
pub fn actor() -> Actor {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(os_uid)
        .unwrap_or_else(|| "unknown".into());
    Actor::cli(&user)
}

/// `uid:N` from /proc when the environment names no user (cron, CI, systemd units).
fn os_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1).map(|uid| format!("uid:{uid}"))
}

async fn open_store(loaded: &Loaded) -> Result<std::sync::Arc<dyn hcpki_ca::store::Store>> {
    hcpki_ca::store::open(&loaded.database_url).await.context("cannot open the database")
}

async fn open(g: &crate::cli::Global) -> Result<Authority> {
    open_loaded(&Loaded::read(&g.dir, g.database_url.as_deref())?).await
}

async fn open_loaded(loaded: &Loaded) -> Result<Authority> {
    let store = hcpki_ca::store::open(&loaded.database_url).await.context("cannot open the database")?;
    Ok(Authority::load(store, loaded.key_context(), loaded.config.profiles.clone()).await?)
}

type Boxed<T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send>>;

/// Commands that need the configuration and the database but no CA keys (portal accounts, OIDC clients).
async fn with_store<F>(g: &crate::cli::Global, f: F) -> Result<ExitCode>
where
    F: FnOnce(Loaded, std::sync::Arc<dyn hcpki_ca::store::Store>) -> Boxed<ExitCode>,
{
    let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
    let store = hcpki_ca::store::open(&loaded.database_url).await.context("cannot open the database")?;
    f(loaded, store).await
}
