//! `hcpki facility import --csv FILE`: register many facilities at once (D29), as a job (D38).
//!
//! The file is checked by [`crate::jobs::import::parse`], the same code the console's import page runs; the
//! good rows become a job whose worker registers them in batches, with a progress bar on a terminal.

use super::job::progress_bar;
use crate::jobs::{self, Kind, RunLimit, import};
use anyhow::{Context, Result};
use hcpki_ca::Authority;
use hcpki_ca::store::Actor;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

#[cfg(feature = "bench")]
pub(super) use import::BATCH;

/// What the operator asked for besides the file.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Import the good rows even if some are bad.
    pub valid_only: bool,
    /// Approve each registered facility.
    pub approve: bool,
    /// Check only.
    pub dry_run: bool,
}

/// Check the file, then import (or not) as `options` say, and print one summary line.
pub async fn run(authority: &Authority, path: &Path, options: Options, actor: &Actor) -> Result<ExitCode> {
    let started = Instant::now();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (good, refused) = import::parse(&bytes)?;
    for r in &refused {
        eprintln!("{}:{}: {}", path.display(), r.line, r.why);
    }
    let import = !options.dry_run && (refused.is_empty() || options.valid_only);
    let mut counts = Counts { refused: refused.len(), ..Counts::default() };
    if import && !good.is_empty() {
        let (params, items) = import::job_parts(&path.display().to_string(), &good, &refused, options.approve);
        let job = jobs::create(authority, Kind::FacilityImport, params, items, actor).await?;
        let bar = progress_bar(job.total, "facilities");
        let done = jobs::run(authority, &job.id, actor, RunLimit::default(), &|j| bar.set_position(done_of(j)))
            .await
            .with_context(|| format!("job {} stopped; `hcpki job resume {}` continues it", job.id, job.id))?;
        bar.finish_and_clear();
        let skipped = super::job::items(authority, &job.id, "skipped").await?;
        for item in &skipped {
            eprintln!("line {}: {}", item.key, item.result.as_deref().unwrap_or("skipped"));
        }
        counts.already = skipped.len();
        counts.imported = usize::try_from(done.done).unwrap_or(0).saturating_sub(skipped.len());
    } else if !import {
        counts.valid = good.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    let rows = counts.imported + counts.already + counts.refused + counts.valid;
    #[allow(clippy::cast_precision_loss)] // a row count far below 2^52
    let rate = if seconds > 0.0 { rows as f64 / seconds } else { 0.0 };
    let verb = if options.dry_run {
        "checked (dry run)"
    } else if import {
        "imported"
    } else {
        "nothing imported"
    };
    eprintln!(
        "{verb}: imported {}, already registered {}, refused {}, valid not imported {}, {seconds:.2} s, {rate:.0} rows/s",
        counts.imported, counts.already, counts.refused, counts.valid
    );
    Ok(if refused.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn done_of(job: &hcpki_ca::store::JobRecord) -> u64 {
    u64::try_from(job.done + job.failed).unwrap_or(0)
}

#[derive(Default)]
struct Counts {
    imported: usize,
    already: usize,
    refused: usize,
    valid: usize,
}
