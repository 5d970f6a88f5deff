//! `hcpki cert …`.

use super::job::ReissueArgs;
use crate::args::value;
use crate::output;
use anyhow::{Result, bail};
use clap::Subcommand;
use hcpki_ca::Authority;
use hcpki_ca::facility::FacilityId;
use hcpki_ca::issuer::der_to_pem;
use hcpki_ca::profile::{CertProfile, ProfileKind};
use hcpki_ca::store::{CertStatus, CertificateFilter};
use hcpki_pkix::time::rfc3339;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// List certificates, newest first.
    List {
        #[command(flatten)]
        listing: ListingArgs,
        /// At most this many (the newest); a note on stderr says when more exist.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..))]
        limit: i64,
    },
    /// Issued certificates that expire within the next DAYS days, soonest first (expiry monitoring). Exits 1
    /// when there are any, so a cron job or monitoring check can alert on the exit status alone.
    Expiring {
        /// The window, in days from now.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=36_500))]
        days: i64,
        #[command(flatten)]
        listing: ListingArgs,
    },
    /// Re-issue certificates in bulk (D38): a successor for the same subject, names, profile and public key
    /// under the CA's current key, each through the issuance pipeline and audited. Runs as a job: an
    /// interrupted run is continued by running the same command again (or `hcpki job resume`), and a
    /// certificate already re-issued is skipped.
    Reissue(ReissueArgs),
    /// Live router certificates whose IP addresses are not all inside their facility's address allocations
    /// (issued before the allocations existed, or before one was taken back), with where each address is
    /// allocated now. Re-issue them after allocating the addresses (`hcpki facility address add`), or issue new
    /// ones without the addresses and revoke the old. Exits 1 when there are any, so monitoring can alert on
    /// the exit status alone.
    CheckAddresses {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one certificate (details and PEM).
    Show {
        #[arg(value_parser = value::serial)]
        serial: hcpki_ca::serial::SerialHex,
        /// Only the PEM.
        #[arg(long)]
        pem: bool,
    },
}

/// What `cert list` and `cert expiring` both take: which facility's and profile's certificates, and whether to
/// print them as JSON lines.
#[derive(Debug, clap::Args)]
pub struct ListingArgs {
    #[arg(long)]
    facility: Option<FacilityId>,
    #[arg(long, value_parser = value::profile())]
    profile: Option<ProfileKind>,
    #[arg(long)]
    json: bool,
}

pub async fn run(authority: &Authority, command: CertCommand) -> Result<ExitCode> {
    match command {
        CertCommand::List { listing: ListingArgs { facility, profile, json }, limit } => {
            let filter = CertificateFilter {
                facility,
                profile: profile.map(CertProfile::from),
                // One more than asked: tells whether the listing was cut.
                limit: Some(limit.saturating_add(1)),
                ..CertificateFilter::default()
            };
            let mut certificates = authority.pipeline().certificates().list_certificates(&filter).await?;
            if certificates.len() as i64 > limit {
                certificates.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                eprintln!(
                    "showing the newest {limit} certificates; more exist: narrow with --facility/--profile or raise --limit"
                );
            }
            for c in certificates {
                if json {
                    println!("{}", serde_json::to_string(&c)?);
                } else {
                    println!("{}", output::cert_row(&c));
                }
            }
        }
        CertCommand::Expiring { days, listing: ListingArgs { facility, profile, json } } => {
            let now = hcpki_pkix::time::now_unix();
            let filter = CertificateFilter {
                facility,
                profile: profile.map(CertProfile::from),
                status: Some(CertStatus::Issued),
                expiring: Some((now, now + days * 86_400)),
                // Every one: an expiry report that silently stops at a limit would hide the ones it cut.
                limit: Some(i64::MAX),
            };
            let mut certificates = authority.pipeline().certificates().list_certificates(&filter).await?;
            certificates.sort_by(|a, b| a.not_after.cmp(&b.not_after).then_with(|| a.serial.cmp(&b.serial)));
            for c in &certificates {
                if json {
                    println!("{}", serde_json::to_string(c)?);
                } else {
                    println!("{}  (in {} days)", output::cert_row(c), (c.not_after - now) / 86_400);
                }
            }
            eprintln!("{} issued certificates expire within {days} days", certificates.len());
            if !certificates.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        CertCommand::Reissue(args) => return super::job::reissue(authority, args).await,
        CertCommand::CheckAddresses { json } => {
            let found = authority.registrar().certificates_outside_allocations(hcpki_pkix::time::now()).await?;
            for m in &found {
                if json {
                    println!("{}", serde_json::to_string(m)?);
                } else {
                    let addresses: Vec<String> = m
                        .addresses
                        .iter()
                        .map(|ip| match m.held_by.iter().find(|(a, _)| a == ip) {
                            Some((_, holder)) => format!("{ip} (allocated to {holder})"),
                            None => format!("{ip} (allocated to no facility)"),
                        })
                        .collect();
                    println!("{}  {}  {}  {}", m.serial, m.facility, rfc3339(m.not_after), addresses.join(", "));
                }
            }
            eprintln!(
                "{} live router certificates carry addresses outside their facility's allocations{}",
                found.len(),
                if found.is_empty() {
                    ""
                } else {
                    ": allocate the addresses (`hcpki facility address add`) and re-issue, or issue without them and revoke"
                }
            );
            if !found.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        CertCommand::Show { serial, pem } => {
            let Some(c) = authority.pipeline().certificates().certificate(&serial).await? else {
                bail!("no certificate with serial {serial}");
            };
            if !pem {
                println!("serial:      {}", c.serial);
                println!("status:      {}", c.status.as_str());
                println!("profile:     {} (CA {})", c.profile, c.ca);
                println!("facility:    {}", c.facility.as_ref().map(|f| f.as_str()).unwrap_or("-"));
                println!("subject:     {}", c.subject);
                println!("SANs:        {}", c.sans.join(", "));
                println!("valid:       {} → {}", rfc3339(c.not_before), rfc3339(c.not_after));
                println!("key SHA-256: {}", c.spki_sha256);
            }
            if let Some(der) = &c.der {
                print!("{}", der_to_pem("CERTIFICATE", der));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
