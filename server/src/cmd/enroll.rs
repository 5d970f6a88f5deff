//! `hcpki enroll …`: enrollment credentials.

use crate::cli::{EnrollCommand, PendingCommand};
use anyhow::Result;
use hcpki_ca::Authority;
use hcpki_ca::enroll::NewCredential;
use hcpki_ca::enroll::scep::held::{HeldRequest, HeldState};
use hcpki_ca::time::rfc3339;
use std::process::ExitCode;

pub async fn run(authority: &Authority, command: EnrollCommand) -> Result<ExitCode> {
    match command {
        EnrollCommand::Credential { facility, protocol, profiles, valid_for } => {
            let new = NewCredential::new(facility, protocol, &profiles, valid_for)?;
            let minted = authority.create_credential(&new, &super::actor()).await?;
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
            let now = hcpki_ca::time::now_unix();
            for c in authority.credentials(facility.as_ref()).await? {
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
            let c = authority.revoke_credential(id.trim(), &super::actor()).await?;
            eprintln!("credential {} of facility {} is revoked", c.id, c.facility);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn pending(authority: &Authority, command: PendingCommand) -> Result<ExitCode> {
    match command {
        PendingCommand::List { all, json } => {
            for r in authority.held_requests(if all { None } else { Some("pending") }).await? {
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
            let r = authority.reject_held(id.trim(), &reason, &super::actor()).await?;
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
