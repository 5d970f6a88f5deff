//! `hcpki register …` and `hcpki facility vetting …`: vetting evidence before approval (issue #50 item 4, D173).
//! The register of medical institutions (the Regional Bureaus' list, imported whole), what the approver checked
//! per facility, which evidence approvals need, the overdue list and its warnings. The CLI runs on the CA's host
//! with the database's own rights, so it acts centrally (`cli:<user>`, the central requirements); each command
//! calls the registrar method the admin API and the console call.

use crate::app::operations::vetting::{DEFAULT_WITHIN_DAYS, evidence_json, status_json};
use anyhow::{Context, Result};
use clap::Subcommand;
use hcpki_ca::Authority;
use hcpki_ca::facility::FacilityId;
use hcpki_ca::vetting::RulesBasis;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RegisterCommand {
    /// Replace the register of medical institutions with a CSV file (the Regional Bureaus' list: UTF-8 with or
    /// without BOM; header naming 医療機関コード, 医療機関名称, 都道府県, 所在地 and optional columns; see the
    /// operator guide). All or nothing: a file with any bad row changes nothing and every bad row is named.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
    /// Show one institution of the register by its 医療機関コード, or (without a code) the newest import, the
    /// approval requirements and the security rules' version.
    Show {
        /// The 医療機関コード.
        code: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum VettingCommand {
    /// What is recorded for a facility, and what an approval by the central requirements would lack.
    Show {
        id: FacilityId,
        /// Print JSON (as the admin API answers).
        #[arg(long)]
        json: bool,
    },
    /// Check the facility's 医療機関コード against the register and record what was found (name, prefecture).
    CheckCode {
        id: FacilityId,
        /// What the documents show when the name or prefecture differs (the check then counts).
        #[arg(long)]
        note: Option<String>,
    },
    /// Record a signed acceptance of the network's security rules (paper or PDF the facility sent).
    AcceptRules {
        id: FacilityId,
        /// The security rules' version accepted (default: the current one).
        #[arg(long)]
        rules_version: Option<String>,
        /// The day signed, YYYY-MM-DD.
        #[arg(long)]
        accepted_on: String,
        /// Who signed for the facility.
        #[arg(long)]
        accepted_by: String,
    },
    /// Record the facility's last vulnerability assessment (脆弱性診断) and when the next is due.
    Assessment {
        id: FacilityId,
        /// The day of the last assessment, YYYY-MM-DD.
        #[arg(long)]
        last: String,
        /// The day the next is due (default: a year after --last).
        #[arg(long)]
        next_due: Option<String>,
        /// Who assessed.
        #[arg(long)]
        assessor: Option<String>,
    },
    /// Which evidence approvals need: the central default (--ra central) or an RA's own. Without --require, list
    /// them all.
    Requirements {
        /// `central` or an RA's name.
        #[arg(long, default_value = "central")]
        ra: String,
        /// Comma-separated: code, rules, assessment (or none).
        #[arg(long)]
        require: Option<String>,
    },
    /// The network's current security rules version (set it with VERSION; acceptances of older ones are listed as
    /// overdue, and approvals requiring the rules need the current one).
    RulesVersion {
        /// The new current version.
        #[arg(value_name = "VERSION")]
        number: Option<String>,
    },
    /// Facilities whose vulnerability assessment is overdue or due within N days, or whose accepted security
    /// rules are older than the current version.
    Overdue {
        /// Also list assessments due within this many days.
        #[arg(long, default_value_t = DEFAULT_WITHIN_DAYS)]
        within_days: u32,
        /// JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Warn a facility of what is overdue: its admins see the warning on the facility's console pages.
    Warn {
        id: FacilityId,
        /// Count assessments due within this many days.
        #[arg(long, default_value_t = DEFAULT_WITHIN_DAYS)]
        within_days: u32,
        /// Your words (default: the standard words for what is overdue).
        #[arg(long)]
        message: Option<String>,
    },
}

pub async fn register(authority: &Authority, command: RegisterCommand) -> Result<ExitCode> {
    let actor = super::actor();
    let registrar = authority.registrar();
    match command {
        RegisterCommand::Import { file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let source = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let done = registrar.import_register(&bytes, &source, &actor).await?;
            let i = &done.import;
            eprintln!(
                "register replaced: {} institutions ({} new, {} removed, {} changed); sha256 {}",
                i.rows, i.added, i.removed, i.changed, i.sha256
            );
            if !done.ignored_columns.is_empty() {
                eprintln!("columns not kept: {}", done.ignored_columns.join(", "));
            }
        }
        RegisterCommand::Show { code: Some(code), json } => match registrar.register_entry(&code).await? {
            Some(e) if json => println!("{}", serde_json::json!(e)),
            Some(e) => println!(
                "{}\t{}\t{}\t{}",
                e.code.as_str(),
                e.name,
                hcpki_ca::vetting::prefecture_name(e.prefecture).unwrap_or("-"),
                e.address
            ),
            None => {
                anyhow::bail!("the register lists no {}: check the code, or import the current register", code.trim())
            }
        },
        RegisterCommand::Show { code: None, json } => {
            let import = registrar.register_import().await?;
            let requirements = registrar.vetting_requirements().await?;
            let version = registrar.rules_version().await?;
            let shown = status_json(import.as_ref(), &requirements, version.as_deref());
            if json {
                println!("{shown}");
            } else {
                match &import {
                    Some(i) => println!(
                        "register: {} institutions from {} ({}), imported by {}",
                        i.rows,
                        i.source,
                        hcpki_pkix::time::rfc3339(i.imported_at),
                        i.imported_by
                    ),
                    None => println!("register: never imported"),
                }
                println!("security rules version: {}", version.as_deref().unwrap_or("(not set)"));
                for r in &requirements {
                    println!("requirements {}: {}", r.scope, r.requirements.list());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn vetting(authority: &Authority, command: VettingCommand) -> Result<ExitCode> {
    let actor = super::actor();
    let registrar = authority.registrar();
    match command {
        VettingCommand::Show { id, json } => {
            let recorded = registrar.vetting(&id).await?;
            let (scope, required, missing) = registrar.vetting_shortfalls(&id, &actor).await?;
            let warnings = registrar.vetting_warnings(&id).await?;
            let shown =
                evidence_json(id.as_str(), &recorded, &scope.to_string(), &required.list(), &missing, &warnings);
            if json {
                println!("{shown}");
            } else {
                match &recorded.code {
                    Some(c) => println!(
                        "code check:\t{} {} (name {}, prefecture {}){} by {}",
                        c.code,
                        c.register_name.as_deref().unwrap_or("not in the register"),
                        if c.name_matches { "matches" } else { "differs" },
                        if c.prefecture_matches { "matches" } else { "differs" },
                        c.note.as_deref().map(|n| format!(", note: {n}")).unwrap_or_default(),
                        c.checked_by
                    ),
                    None => println!("code check:\t-"),
                }
                match &recorded.rules {
                    Some(r) => println!(
                        "security rules:\tversion {} accepted {} by {} ({}, recorded by {})",
                        r.version,
                        r.accepted_on,
                        r.accepted_by,
                        r.basis.as_str(),
                        r.recorded_by
                    ),
                    None => println!("security rules:\t-"),
                }
                match &recorded.assessment {
                    Some(a) => println!("assessment:\tlast {}, next due {}", a.last, a.next_due),
                    None => println!("assessment:\t-"),
                }
                println!("requirements ({scope}):\t{}", required.list());
                for m in &missing {
                    println!("missing:\t{m}");
                }
                for w in &warnings {
                    println!("warned:\t{} by {}: {}", hcpki_pkix::time::rfc3339(w.warned_at), w.warned_by, w.message);
                }
            }
        }
        VettingCommand::CheckCode { id, note } => {
            let c = registrar.check_code(id.as_str(), note.as_deref(), &actor).await?;
            match &c.register_name {
                None => eprintln!("{}: {} is not in the register (recorded)", id, c.code),
                Some(name) => eprintln!(
                    "{}: {} is {name} in the register; name {}, prefecture {}{}",
                    id,
                    c.code,
                    if c.name_matches { "matches" } else { "differs" },
                    if c.prefecture_matches { "matches" } else { "differs" },
                    if c.holds() { "" } else { ": not evidence enough until checked again with --note" }
                ),
            }
        }
        VettingCommand::AcceptRules { id, rules_version, accepted_on, accepted_by } => {
            let version = match rules_version {
                Some(v) => v,
                None => registrar
                    .rules_version()
                    .await?
                    .context("no current security rules version is set: give --rules-version (or set it: hcpki facility vetting rules-version VERSION)")?,
            };
            let r = registrar
                .accept_rules(id.as_str(), &version, &accepted_on, &accepted_by, RulesBasis::Paper, &actor)
                .await?;
            eprintln!(
                "{id}: security rules version {} accepted {} by {} (paper)",
                r.version, r.accepted_on, r.accepted_by
            );
        }
        VettingCommand::Assessment { id, last, next_due, assessor } => {
            let a = registrar
                .record_assessment(id.as_str(), &last, next_due.as_deref(), assessor.as_deref(), &actor)
                .await?;
            eprintln!("{id}: vulnerability assessment {}, next due {}", a.last, a.next_due);
        }
        VettingCommand::Requirements { ra, require: Some(list) } => {
            let r = registrar.set_vetting_requirements(&ra, &list, &actor).await?;
            eprintln!("requirements {}: {}", r.scope, r.requirements.list());
        }
        VettingCommand::Requirements { require: None, .. } => {
            for r in registrar.vetting_requirements().await? {
                println!("{}\t{}\t{}", r.scope, r.requirements.list(), r.set_by);
            }
        }
        VettingCommand::RulesVersion { number: Some(v) } => {
            let v = registrar.set_rules_version(&v, &actor).await?;
            eprintln!("security rules version is now {v}");
        }
        VettingCommand::RulesVersion { number: None } => {
            println!("{}", registrar.rules_version().await?.as_deref().unwrap_or("(not set)"));
        }
        VettingCommand::Overdue { within_days, json } => {
            let list = registrar.overdue(within_days, None).await?;
            for f in &list.facilities {
                if json {
                    println!("{}", serde_json::json!(f));
                } else {
                    let reasons: Vec<&str> = f.reasons.iter().map(hcpki_ca::vetting::Overdue::key).collect();
                    println!("{}\t{}\t{}", f.facility, f.name, reasons.join(","));
                }
            }
        }
        VettingCommand::Warn { id, within_days, message } => {
            let w = registrar.warn_facility(id.as_str(), within_days, message.as_deref(), &actor).await?;
            eprintln!("{id} warned ({}): {}", w.reasons.join(","), w.message);
        }
    }
    Ok(ExitCode::SUCCESS)
}
