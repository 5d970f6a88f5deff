//! What the commands share: who acts (the audit actor) and how they open the configuration, the database and the
//! authority. A leaf below every command, so that no command reaches back into the dispatcher.

use crate::args::Global;
use crate::config::Loaded;
use anyhow::{Context, Result};
use hcpki_ca::Authority;
use hcpki_ca::store::{Actor, Store};
use std::process::ExitCode;
use std::sync::Arc;

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

pub async fn open_store(loaded: &Loaded) -> Result<Arc<dyn Store>> {
    hcpki_ca::store::open(&loaded.database_url).await.context("cannot open the database")
}

pub async fn open(g: &Global) -> Result<Authority> {
    open_loaded(&Loaded::read(&g.dir, g.database_url.as_deref())?).await
}

pub async fn open_loaded(loaded: &Loaded) -> Result<Authority> {
    let store = open_store(loaded).await?;
    Ok(Authority::load(store, loaded.key_context(), loaded.config.profiles.clone()).await?)
}

type Boxed<T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send>>;

/// Commands that need the configuration and the database but no CA keys (portal accounts, OIDC clients).
pub async fn with_store<F>(g: &Global, f: F) -> Result<ExitCode>
where
    F: FnOnce(Loaded, Arc<dyn Store>) -> Boxed<ExitCode>,
{
    let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
    let store = open_store(&loaded).await?;
    f(loaded, store).await
}
