//! `hcpki lint …`.

use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum LintCommand {
    /// Print every rule: ID, level, source, description.
    Rules,
}

pub fn run(command: LintCommand) -> Result<ExitCode> {
    match command {
        LintCommand::Rules => {
            for r in hcpki_ca::lint::RULES {
                println!(
                    "{:<52} {:<8} {:<36} {}",
                    r.id,
                    format!("{:?}", r.level).to_lowercase(),
                    r.source,
                    r.description
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
