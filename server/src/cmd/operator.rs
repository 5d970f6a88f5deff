//! `hcpki operator …`: operators of the admin API.

use crate::args::value;
use anyhow::{Context, Result};
use clap::Subcommand;
use hcpki_ca::Authority;
use hcpki_ca::operator::OperatorName;
use hcpki_ca::operator::OperatorRole;
use hcpki_pkix::time::rfc3339;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator (or change an enabled one's role) and issue an operator certificate for the CSR.
    Add {
        /// The operator's name (a–z 0–9 . _ -): the certificate's CN and identity.
        #[arg(value_parser = OperatorName::parse)]
        name: OperatorName,
        /// The role: an operator approves facilities and manages credentials; an auditor only reads.
        #[arg(long, value_parser = value::operator_role())]
        role: OperatorRole,
        /// The CSR file (PEM or DER).
        #[arg(long)]
        csr: PathBuf,
        /// Where to write the certificate (PEM).
        #[arg(long)]
        out: PathBuf,
    },
    /// List operators.
    List {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable an operator for good: their certificates stop authenticating at once.
    Disable {
        #[arg(value_parser = OperatorName::parse)]
        name: OperatorName,
    },
}

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
            for o in authority.registrar().operators().await? {
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
            let o = authority.registrar().disable_operator(&name, &super::actor()).await?;
            eprintln!("operator {} is disabled; their certificates no longer authenticate", o.name);
            Ok(ExitCode::SUCCESS)
        }
    }
}
