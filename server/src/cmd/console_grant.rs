//! `hcpki console-grant …`: who may use the web console after a portal sign-in (D42).

use crate::cli::ConsoleGrantCommand;
use anyhow::Result;
use hcpki_ca::Authority;
use hcpki_ca::time::rfc3339;
use std::process::ExitCode;

pub async fn run(authority: &Authority, command: ConsoleGrantCommand) -> Result<ExitCode> {
    match command {
        ConsoleGrantCommand::Add { person, role, facility, note } => {
            let g = authority.grant_console(&person, &role, facility.as_deref(), &note, &super::actor()).await?;
            eprintln!("{} may use the console as {} after signing in to the portal", g.person_key, g.role);
            Ok(ExitCode::SUCCESS)
        }
        ConsoleGrantCommand::List { json } => {
            for g in authority.console_grants().await? {
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
        ConsoleGrantCommand::Remove { person } => match authority.remove_console_grant(&person, &super::actor()).await?
        {
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
        },
    }
}
