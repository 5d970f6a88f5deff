//! `hcpki operator …`: operators of the admin API.

use crate::cli::OperatorCommand;
use anyhow::{Context, Result};
use hcpki_ca::Authority;
use hcpki_ca::time::rfc3339;
use std::process::ExitCode;

pub async fn run(authority: &Authority, command: OperatorCommand) -> Result<ExitCode> {
    match command {
        OperatorCommand::Add { name, role, csr, out } => {
            let csr = std::fs::read(&csr).with_context(|| format!("cannot read CSR file {}", csr.display()))?;
            let (issued, cert, operator) = authority.add_operator(&name, role, csr, &super::actor()).await?;
            std::fs::write(&out, issued.pem()).with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "operator {} ({}): certificate serial {} written to {}, valid until {}",
                operator.name,
                operator.role,
                cert.serial,
                out.display(),
                rfc3339(cert.not_after)
            );
            Ok(ExitCode::SUCCESS)
        }
        OperatorCommand::List { json } => {
            for o in authority.operators().await? {
                if json {
                    println!("{}", serde_json::to_value(&o)?);
                } else {
                    let state = o.disabled_at.map(|t| format!("disabled {}", rfc3339(t)));
                    println!("{:<24} {:<8} {}", o.name, o.role, state.as_deref().unwrap_or("enabled"));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OperatorCommand::Disable { name } => {
            let o = authority.disable_operator(&name, &super::actor()).await?;
            eprintln!("operator {} is disabled; their certificates no longer authenticate", o.name);
            Ok(ExitCode::SUCCESS)
        }
    }
}
