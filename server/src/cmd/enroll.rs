//! `hcpki enroll …`: enrollment credentials.

use crate::args::value;
use anyhow::Result;
use clap::Subcommand;
use hcpki_ca::Authority;
use hcpki_ca::enroll::NewCredential;
use hcpki_ca::enroll::credential::Protocol;
use hcpki_ca::enroll::scep::held::{HeldRequest, HeldState};
use hcpki_ca::facility::FacilityId;
use hcpki_ca::profile::ProfileKind;
use hcpki_pkix::time::rfc3339;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum EnrollCommand {
    /// Create a single-use, expiring credential for an approved or active facility and print it once as
    /// key=value lines: est `username`/`password`, scep `challenge`, acme `eab_kid`/`eab_hmac_key`.
    Credential {
        /// The facility.
        #[arg(long)]
        facility: FacilityId,
        /// The enrollment protocol.
        #[arg(long, value_parser = value::protocol())]
        protocol: Protocol,
        /// A profile the credential may receive, a facility's (router, pc); repeatable, the first is the default.
        #[arg(long = "profile", required = true, value_parser = value::profile())]
        profiles: Vec<ProfileKind>,
        /// Lifetime: a number with d, h or m (1m to 90d).
        #[arg(long, default_value = "7d", value_parser = hcpki_ca::enroll::credential::parse_validity)]
        valid_for: i64,
    },
    /// List credentials (never their secrets), newest first.
    List {
        /// Only this facility's.
        #[arg(long)]
        facility: Option<FacilityId>,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a credential so it can no longer be used.
    Revoke { id: String },
    /// SCEP requests without a challenge password, held for an operator's decision.
    #[command(subcommand)]
    Pending(PendingCommand),
}

/// `hcpki enroll pending …`.
#[derive(Debug, Subcommand)]
pub enum PendingCommand {
    /// List held SCEP requests, newest first.
    List {
        /// Every request, not only those still pending.
        #[arg(long)]
        all: bool,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Issue the certificate a held request asks for; the device gets it on its next poll.
    Approve { id: String },
    /// Refuse a held request; the device gets FAILURE on its next poll.
    Reject {
        id: String,
        /// Why (recorded in the audit log and the request).
        #[arg(long)]
        reason: String,
    },
}

pub async fn run(authority: &Authority, command: EnrollCommand) -> Result<ExitCode> {
    match command {
        EnrollCommand::Credential { facility, protocol, profiles, valid_for } => {
            let new = NewCredential::new(facility, protocol, &profiles, valid_for)?;
            let minted = authority.registrar().create_credential(&new, &super::actor()).await?;
            let r = &minted.record;
            // stdout: exactly the key=value lines a script or the facility admin needs; the rest on stderr.
            for (name, value) in minted.device_fields() {
                println!("{name}={}", value.as_str());
            }
            eprintln!(
                "{} credential {} for facility {} ({}), single use, valid until {}; the secret is not shown again",
                protocol,
                r.id,
                r.facility,
                r.profiles_text(),
                rfc3339(r.expires_at)
            );
            Ok(ExitCode::SUCCESS)
        }
        EnrollCommand::List { facility, json } => {
            let now = hcpki_pkix::time::now();
            for c in authority.registrar().credentials(facility.as_ref()).await? {
                if json {
                    println!("{}", crate::output::credential_json(&c, now));
                } else {
                    println!(
                        "{}  {:<11} {:<4} {:<9} {:<7} {}",
                        c.id,
                        c.facility,
                        c.protocol,
                        c.profiles_text(),
                        c.status(now),
                        rfc3339(c.expires_at)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        EnrollCommand::Pending(command) => pending(authority, command).await,
        EnrollCommand::Revoke { id } => {
            let c = authority.registrar().revoke_credential(id.trim(), &super::actor()).await?;
            eprintln!("credential {} of facility {} is revoked", c.id, c.facility);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn pending(authority: &Authority, command: PendingCommand) -> Result<ExitCode> {
    match command {
        PendingCommand::List { all, json } => {
            for r in authority.registrar().held_requests(if all { None } else { Some("pending") }).await? {
                if json {
                    println!("{}", held_json(&r));
                } else {
                    println!(
                        "{}  {:<11} {:<6} {:<8} {}  {}",
                        r.id,
                        r.facility,
                        r.profile,
                        r.state.as_str(),
                        rfc3339(r.created_at),
                        r.transaction_id
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        PendingCommand::Approve { id } => {
            let r = authority.approve_held(id.trim(), &super::actor()).await?;
            if let HeldState::Issued(serial) = &r.state {
                println!("{serial}");
            }
            eprintln!(
                "SCEP request {} of facility {} approved; the device receives it on its next poll",
                r.id, r.facility
            );
            Ok(ExitCode::SUCCESS)
        }
        PendingCommand::Reject { id, reason } => {
            let r = authority.registrar().reject_held(id.trim(), &reason, &super::actor()).await?;
            eprintln!("SCEP request {} of facility {} rejected", r.id, r.facility);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn held_json(r: &HeldRequest) -> serde_json::Value {
    let (serial, reason) = match &r.state {
        HeldState::Issued(s) => (Some(s.as_str()), None),
        HeldState::Rejected(why) => (None, Some(why.as_str())),
        HeldState::Pending => (None, None),
    };
    serde_json::json!({
        "id": r.id,
        "transaction_id": r.transaction_id,
        "facility": r.facility.as_str(),
        "profile": r.profile,
        "state": r.state.as_str(),
        "serial": serial,
        "reason": reason,
        "created_at": r.created_at,
        "decided_at": r.decided_at,
        "decided_by": r.decided_by,
    })
}
