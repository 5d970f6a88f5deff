//! `hcpki facility import --csv FILE`: register many facilities at once (D29).
//!
//! Every row is checked first with the same [`NewFacility::new`] that `facility add` uses, plus what only a file
//! can get wrong (column count, UTF-8, a 医療機関コード twice in the file). Then the good rows go to the store in
//! batches, one transaction each, every facility audited as `facility.register` as `facility add` does.

use anyhow::{Context, Result};
use hcpki_ca::Authority;
use hcpki_ca::facility::{FacilityKind, NewFacility, Transition};
use hcpki_ca::store::{Actor, Registration};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

/// The columns a file may have; `name` and `kind` are required, the others optional (an empty cell is "none").
const COLUMNS: [&str; 5] = ["name", "kind", "medical_code", "address", "contact"];
/// Rows per transaction: large enough that the commit (fsync) cost vanishes, small enough that a SQLite
/// writer does not hold the lock for long while the server is serving.
pub(super) const BATCH: usize = 1000;

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

/// A row that passed every check: its line in the file and the application.
type Checked = (u64, NewFacility);

/// A row that is refused: its line in the file and why.
struct Refusal {
    line: u64,
    why: String,
}

/// Check the file, then import (or not) as `options` say, and print one summary line.
pub async fn run(authority: &Authority, path: &Path, options: Options, actor: &Actor) -> Result<ExitCode> {
    let started = Instant::now();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (good, refused) = parse(&bytes)?;
    for r in &refused {
        eprintln!("{}:{}: {}", path.display(), r.line, r.why);
    }
    let import = !options.dry_run && (refused.is_empty() || options.valid_only);
    let mut counts = Counts { refused: refused.len(), ..Counts::default() };
    if import {
        counts = register(authority, good, options.approve, actor, counts).await?;
    } else {
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

#[derive(Default)]
struct Counts {
    imported: usize,
    already: usize,
    refused: usize,
    valid: usize,
}

/// Register the checked rows batch by batch, with a progress bar on a terminal.
async fn register(
    authority: &Authority,
    good: Vec<Checked>,
    approve: bool,
    actor: &Actor,
    mut counts: Counts,
) -> Result<Counts> {
    let target =
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(good.len() as u64), target);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} facilities, {per_sec}, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for chunk in good.chunks(BATCH) {
        let batch: Vec<NewFacility> = chunk.iter().map(|(_, new)| new.clone()).collect();
        let results = authority.store().register_facilities(&batch, actor).await?;
        for ((line, _), result) in chunk.iter().zip(results) {
            match result {
                Registration::New(f) => {
                    counts.imported += 1;
                    if approve {
                        authority.transition(&f.id, Transition::Approve, None, actor).await?;
                    }
                }
                Registration::AlreadyRegistered { code, existing } => {
                    counts.already += 1;
                    bar.suspend(|| eprintln!("line {line}: 医療機関コード {code} is already registered to {existing}"));
                }
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(counts)
}

/// Split the file into checked applications (with their line numbers) and refused rows.
/// A bad header is an error for the whole file.
fn parse(bytes: &[u8]) -> Result<(Vec<Checked>, Vec<Refusal>)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(bytes);
    let columns = header(reader.byte_headers().context("cannot read the CSV header row")?)?;
    let mut good = Vec::new();
    let mut refused = Vec::new();
    let mut codes: HashMap<String, u64> = HashMap::new();
    for record in reader.byte_records() {
        let record = record.context("the CSV file is malformed")?;
        let line = record.position().map_or(0, csv::Position::line);
        match row(&columns, &record) {
            Err(why) => refused.push(Refusal { line, why }),
            Ok(new) => match new.medical_code.as_ref().and_then(|c| first_line(&mut codes, c.as_str(), line)) {
                Some(first) => refused.push(Refusal {
                    line,
                    why: format!(
                        "医療機関コード {} is also on line {first} of this file",
                        new.medical_code.as_ref().map_or("", |c| c.as_str())
                    ),
                }),
                None => good.push((line, new)),
            },
        }
    }
    Ok((good, refused))
}

/// The line where `code` was first seen, if before `line` (else remember `line`).
fn first_line(codes: &mut HashMap<String, u64>, code: &str, line: u64) -> Option<u64> {
    match codes.entry(code.to_owned()) {
        std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(line);
            None
        }
    }
}

/// The column index of each of [`COLUMNS`] (None when absent), refusing unknown, repeated or missing ones.
fn header(record: &csv::ByteRecord) -> Result<[Option<usize>; 5]> {
    let mut at = [None; 5];
    for (i, raw) in record.iter().enumerate() {
        let name = std::str::from_utf8(raw).context("the CSV header row is not UTF-8")?.trim();
        let Some(slot) = COLUMNS.iter().position(|c| *c == name) else {
            anyhow::bail!("unknown column {name:?} in the CSV header row: the columns are {}", COLUMNS.join(","));
        };
        if at.get_mut(slot).and_then(|s| s.replace(i)).is_some() {
            anyhow::bail!("column {name:?} appears twice in the CSV header row");
        }
    }
    if at[0].is_none() || at[1].is_none() {
        anyhow::bail!("the CSV header row must have the columns name and kind (found {} columns)", record.len());
    }
    Ok(at)
}

/// One data row as an application, or why not.
fn row(columns: &[Option<usize>; 5], record: &csv::ByteRecord) -> Result<NewFacility, String> {
    let expected = columns.iter().flatten().count();
    if record.len() != expected {
        return Err(format!("{} columns where the header has {expected}", record.len()));
    }
    let cell = |slot: usize| -> Result<Option<&str>, String> {
        let Some(raw) = columns.get(slot).copied().flatten().and_then(|i| record.get(i)) else { return Ok(None) };
        let column = COLUMNS.get(slot).copied().unwrap_or_default();
        let text = std::str::from_utf8(raw).map_err(|_| format!("column {column} is not valid UTF-8"))?;
        Ok(Some(text.trim()).filter(|t| !t.is_empty()))
    };
    let kind = cell(1)?.ok_or("kind is empty")?;
    let kind = FacilityKind::from_str(kind).map_err(|e| e.to_string())?;
    NewFacility::new(cell(0)?.unwrap_or(""), kind, cell(2)?, cell(3)?, cell(4)?).map_err(|e| e.to_string())
}
