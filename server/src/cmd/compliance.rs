//! `hcpki compliance report`: the safety-guideline compliance report (D164) of this installation or of one
//! facility, as the admin API and the console give it, written to standard output or a file. Audited as
//! `compliance.report` with the local user as actor.

use crate::app::operations::compliance::{generate, settings};
use crate::compliance::{Scope, render};
use crate::config::Loaded;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hcpki_ca::facility::FacilityId;
use hcpki_ca::store::Store;
use hcpki_html::Lang;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ComplianceCommand {
    /// Each item of MHLW's safety guideline 6.0 and the FY2025 checklist that hcpki serves, and the vendor
    /// disclosure's items it fills: status, this installation's evidence, what the facility must still do.
    Report {
        /// The report's language.
        #[arg(long, value_enum, default_value_t = ReportLang::Ja)]
        lang: ReportLang,
        /// `html` (a page that reads on its own) or `json` (the typed evidence beside the items).
        #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
        format: ReportFormat,
        /// One facility's report (its sign-ins, admins and certificates) instead of the whole installation's.
        #[arg(long)]
        facility: Option<FacilityId>,
        /// Write the report here (overwritten) instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

/// `--lang`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportLang {
    /// 日本語.
    Ja,
    /// English.
    En,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// An HTML page.
    Html,
    /// JSON.
    Json,
}

/// Run a `compliance` command.
pub async fn run(loaded: &Loaded, store: &dyn Store, command: ComplianceCommand) -> Result<ExitCode> {
    let ComplianceCommand::Report { lang, format, facility, out } = command;
    let lang = match lang {
        ReportLang::Ja => Lang::Ja,
        ReportLang::En => Lang::En,
    };
    let scope = match facility {
        None => Scope::Installation,
        Some(f) if store.facility(&f).await?.is_some() => Scope::Facility(f),
        Some(f) => bail!("facility {f} is not registered: see `hcpki facility list`"),
    };
    let settings = settings(&loaded.config);
    let now = hcpki_pkix::time::now();
    let report = generate(store, &settings, scope, lang, now, &super::actor()).await?;
    let text = match format {
        ReportFormat::Html => render::document(&report, lang),
        ReportFormat::Json => serde_json::to_string_pretty(&render::json(&report))?,
    };
    match out {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write the report to {}: check the directory", path.display()))?,
        None => println!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
