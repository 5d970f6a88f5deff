//! `hcpki ca …`.

use crate::cli::CaCommand;
use anyhow::Result;
use hcpki_ca::issuer::der_to_pem;
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::{Authority, CaName};
use std::process::ExitCode;
use std::str::FromStr;

pub fn run(authority: &Authority, command: CaCommand) -> Result<ExitCode> {
    match command {
        CaCommand::Cert { name } => {
            print!("{}", der_to_pem("CERTIFICATE", authority.ca_certificate(CaName::from_str(&name)?)?));
        }
        CaCommand::Chain { profile } => {
            // A profile name or a CA name.
            let ca = match ProfileKind::from_str(&profile).ok().and_then(CaName::for_profile) {
                Some(ca) => ca,
                None => CaName::from_str(&profile)?,
            };
            for der in authority.chain(ca)? {
                print!("{}", der_to_pem("CERTIFICATE", &der));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
