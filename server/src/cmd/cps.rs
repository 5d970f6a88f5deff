//! `hcpki cps`: the CP/CPS draft of this installation (RFC 3647 outline; issue #50 item 6).

use crate::args::Global;
use crate::cmd::open_loaded;
use crate::config::Loaded;
use anyhow::{Context, Result};
use clap::Args;
use hcpki_ca::cps::{self, PracticeFacts};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct CpsArgs {
    /// Write the document here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The draft of a new installation with the shipped defaults (no `--dir` needed): how docs/cp-cps.md is made.
    #[arg(long)]
    pub defaults: bool,
}

pub async fn run(g: &Global, args: &CpsArgs) -> Result<ExitCode> {
    let facts = if args.defaults { PracticeFacts::defaults(env!("CARGO_PKG_VERSION")) } else { installed(g).await? };
    let doc = cps::render(&facts)?;
    match &args.out {
        Some(path) => std::fs::write(path, doc).with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{doc}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The facts of the installation in `--dir`, read as `hcpki serve` reads them.
async fn installed(g: &Global) -> Result<PracticeFacts> {
    let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
    let authority = open_loaded(&loaded).await?;
    Ok(crate::app::operations::practice::facts(&loaded.config, &authority)?)
}
