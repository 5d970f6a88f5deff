//! `hcpki ra …`: registration authorities (issue #50 item 3, D167) — connection providers and prefectures that
//! register, approve, suspend and help the facilities in their scope. The CLI runs on the CA's host with the
//! database's own rights, so it acts centrally (actor `cli:<user>`); each command calls the registrar method the
//! admin API and the console call. Names, kinds and prefectures are text here: the registrar parses them and
//! audits a malformed one as a refusal.

use anyhow::Result;
use clap::Subcommand;
use hcpki_ca::Authority;
use hcpki_ca::operator::OperatorName;
use hcpki_ca::ra::Member;
use hcpki_ca::registrar::ra::NewRa;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RaCommand {
    /// Create a registration authority: a prefecture (its scope: the facilities whose 医療機関コード starts with
    /// one of its prefecture numbers) or a connection provider (its scope: the facilities assigned to it).
    Create {
        /// Its name (a–z 0–9 . _ -), e.g. `tokyo`, `isp-a`.
        name: String,
        /// provider or prefecture.
        #[arg(long)]
        kind: String,
        /// What people call it (東京都, ○○ネットワーク株式会社).
        #[arg(long)]
        label: String,
        /// A prefecture RA's prefecture numbers, comma-separated (13,14).
        #[arg(long, value_delimiter = ',')]
        prefectures: Vec<String>,
    },
    /// List the RAs and their members.
    List {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Assign a facility to a provider RA (replacing its provider before), or take it from its provider (--none).
    Assign {
        /// The facility.
        facility: String,
        /// The provider RA.
        #[arg(long, required_unless_present = "none", conflicts_with = "none")]
        ra: Option<String>,
        /// No provider.
        #[arg(long)]
        none: bool,
    },
    /// Put an operator (by certificate) or a console person (by console grant) in an RA, or make them central
    /// again (--central). Takes effect at their next request.
    Member {
        /// The operator's name.
        #[arg(long, required_unless_present = "person", conflicts_with = "person", value_parser = OperatorName::parse)]
        operator: Option<OperatorName>,
        /// The person key of a console grant.
        #[arg(long)]
        person: Option<String>,
        /// The RA.
        #[arg(long, required_unless_present = "central", conflicts_with = "central")]
        ra: Option<String>,
        /// No RA: the whole view.
        #[arg(long)]
        central: bool,
    },
}

pub async fn run(authority: &Authority, command: RaCommand) -> Result<ExitCode> {
    let actor = super::actor();
    let registrar = authority.registrar();
    match command {
        RaCommand::Create { name, kind, label, prefectures } => {
            let ra = registrar.create_ra(&NewRa { name, kind, label, prefectures }, &actor).await?;
            eprintln!("RA {} ({}, {}) created", ra.name, ra.kind, ra.label);
        }
        RaCommand::List { json } => {
            let members = registrar.ra_members().await?;
            for ra in registrar.ras().await? {
                let staff: Vec<&str> = members.iter().filter(|(_, r)| r == &ra.name).map(|(m, _)| m.as_str()).collect();
                if json {
                    println!("{}", serde_json::json!({ "ra": ra, "members": staff }));
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        ra.name,
                        ra.kind,
                        ra.label,
                        if ra.prefectures.is_empty() { "-".into() } else { ra.prefecture_list() },
                        staff.join(" ")
                    );
                }
            }
        }
        RaCommand::Assign { facility, ra, none: _ } => {
            let p = registrar.assign_to_ra(&facility, ra.as_deref(), &actor).await?;
            let provider = p.provider.as_ref().map_or("none", |r| r.as_str());
            eprintln!("facility {}: provider RA {provider}", p.facility);
        }
        RaCommand::Member { operator, person, ra, central: _ } => {
            let member = match (operator, person) {
                (Some(o), _) => Member::operator(&o),
                (None, Some(p)) => Member::person(&hcpki_ca::console_grant::parse_person_key(&p)?),
                (None, None) => anyhow::bail!("name the member: --operator NAME or --person KEY"),
            };
            registrar.set_ra_member(&member, ra.as_deref(), &actor).await?;
            eprintln!("{member}: {}", ra.as_deref().map_or("central".to_owned(), |r| format!("RA {r}")));
        }
    }
    Ok(ExitCode::SUCCESS)
}
