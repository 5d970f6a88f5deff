//! `hcpki console-grant …`: who may use the web console after a portal sign-in (D42).

use anyhow::Result;
use clap::Subcommand;
use hcpki_ca::Authority;
use hcpki_pkix::time::rfc3339;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ConsoleGrantCommand {
    /// Let a person use the console after a portal sign-in (or change their role). Operators and auditors
    /// must sign in by card; a facility admin at one of the facility's PCs.
    Add {
        /// The person key (the console's user search and `login.card` audit entries show it; `pwd:NAME` for a
        /// password account).
        person: String,
        /// operator, auditor or facility-admin.
        #[arg(long)]
        role: String,
        /// The facility of a facility-admin.
        #[arg(long)]
        facility: Option<String>,
        /// A note for the list (e.g. the person's name).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List console grants.
    List {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a person's console grant: their console session ends at its next request.
    Remove { person: String },
}

pub async fn run(authority: &Authority, command: ConsoleGrantCommand) -> Result<ExitCode> {
    match command {
        ConsoleGrantCommand::Add { person, role, facility, note } => {
            let g = authority
                .registrar()
                .grant_console(&person, &role, facility.as_deref(), &note, &super::actor())
                .await?;
            eprintln!("{} may use the console as {} after signing in to the portal", g.person_key, g.role);
            Ok(ExitCode::SUCCESS)
        }
        ConsoleGrantCommand::List { json } => {
            for g in authority.registrar().console_grants().await? {
                if json {
                    println!("{}", serde_json::to_value(&g)?);
                } else {
                    println!(
                        "{:<40} {:<34} {} by {} {}",
                        g.person_key,
                        g.role.to_string(),
                        rfc3339(g.granted_at),
                        g.granted_by,
                        g.note
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ConsoleGrantCommand::Remove { person } => {
            match authority.registrar().remove_console_grant(&person, &super::actor()).await? {
                Some(g) => {
                    eprintln!(
                        "{} no longer has console access (was {}); a live console session ends now",
                        g.person_key, g.role
                    );
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("{person} has no console grant: nothing removed (see `hcpki console-grant list`)");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
