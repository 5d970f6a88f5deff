//! Command implementations: thin adapters from the CLI to `hcpki_ca`. Each command's module declares its own
//! arguments (`cli.rs` lists them as `Command`); [`run`] dispatches downward, and what every command shares
//! (the audit actor, opening the database and the authority) lives in the leaf `context`.

pub mod audit;
pub mod backup;
#[cfg(feature = "bench")]
pub mod bench;
pub mod ca;
pub mod cert;
pub mod console_grant;
mod context;
pub mod demo;
pub mod enroll;
pub mod facility;
mod facility_import;
pub mod init;
pub mod issue;
pub mod job;
pub mod lint;
pub mod login;
pub mod oidc;
pub mod operator;
pub mod portal;
pub mod revocation;
pub mod serve;
pub mod service;
pub mod signature;
pub mod tsa;

pub use context::actor;
use context::{open, open_loaded, open_store, with_store};

use crate::cli::{Cli, Command};
use crate::config::Loaded;
use anyhow::Result;
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
            let forwarding = loaded.config.atna.is_some();
            audit::run(open_store(&loaded).await?.as_ref(), loaded.config.audit.retention_days, forwarding, c).await
        }
        Command::Lint(c) => lint::run(c),
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
        Command::Tsa(c) => tsa::run(&Loaded::read(&g.dir, g.database_url.as_deref())?, c).await,
        Command::Signature(c) => signature::run(&Loaded::read(&g.dir, g.database_url.as_deref())?, c).await,
    }
}
