//! `hcpki facility …`.

use crate::cli::{AddressCommand, AllowDeny, FacilityCommand};
use crate::output;
use anyhow::Result;
use hcpki_ca::facility::{FacilityId, NewFacility, Transition};
use hcpki_ca::store::{Actor, FacilityFilter};
use hcpki_ca::{Authority, AuthorityError};
use std::process::ExitCode;

pub async fn run(authority: &Authority, command: FacilityCommand) -> Result<ExitCode> {
    let actor = super::actor();
    let transition = |id: FacilityId, t: Transition, reason: Option<String>| {
        let actor = actor.clone();
        async move {
            let f = authority.transition(&id, t, reason.as_deref(), &actor).await?;
            eprintln!("facility {} is now {}", f.id, f.state);
            Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
        }
    };
    match command {
        FacilityCommand::Add { name, kind, code, address, contact } => {
            let new = NewFacility::new(&name, kind, code.as_deref(), address.as_deref(), contact.as_deref())?;
            let f = authority.register_facility(&new, &actor).await?;
            println!("{}", f.id);
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::Import { csv, valid_only, approve, dry_run } => {
            let options = super::facility_import::Options { valid_only, approve, dry_run };
            super::facility_import::run(authority, &csv, options, &actor).await
        }
        FacilityCommand::Approve { id } => transition(id, Transition::Approve, None).await,
        FacilityCommand::Reject { id, reason } => transition(id, Transition::Reject, Some(reason)).await,
        FacilityCommand::Suspend { id, reason } => transition(id, Transition::Suspend, Some(reason)).await,
        FacilityCommand::Resume { id, reason } => transition(id, Transition::Resume, reason).await,
        FacilityCommand::Retire { id, reason } => transition(id, Transition::Retire, Some(reason)).await,
        FacilityCommand::List { state, kind, json } => {
            let filter = FacilityFilter { state, kind, ..FacilityFilter::default() };
            for f in authority.store().list_facilities(&filter).await? {
                if json {
                    println!("{}", facility_json(authority, &f));
                } else {
                    println!("{}", output::facility_row(&f));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::Show { id, json } => {
            let f = authority.store().facility(&id).await?.ok_or(AuthorityError::UnknownFacility(id))?;
            if json {
                println!("{}", facility_json(authority, &f));
            } else {
                print!("{}", output::facility_detail(&f, &authority.settings().router_dns_name(&f.id)));
            }
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::AdminLogin { id, password_totp } => {
            let store = authority.store();
            if let Some(choice) = password_totp {
                let allow = choice == AllowDeny::Allow;
                let changed =
                    store.set_facility_admin_password_totp(&id, allow, &actor, hcpki_ca::time::now_unix_ms()).await?;
                if !changed {
                    eprintln!("unchanged");
                }
            } else if store.facility(&id).await?.is_none() {
                return Err(AuthorityError::UnknownFacility(id).into());
            }
            let allowed = store.facility_admin_password_totp(id.as_str()).await?;
            println!("{}", if allowed { "card or password-totp" } else { "card" });
            Ok(ExitCode::SUCCESS)
        }
        FacilityCommand::Address(command) => address(authority, command, &actor).await,
    }
}

/// `hcpki facility address add|remove|list` (issue #24, item 2).
async fn address(authority: &Authority, command: AddressCommand, actor: &Actor) -> Result<ExitCode> {
    match command {
        AddressCommand::Add { facility, prefix } => {
            let r = authority.add_allocation(&facility, &prefix, actor).await?;
            eprintln!("{} is now allocated to facility {}", r.allocation, r.facility);
        }
        AddressCommand::Remove { facility, prefix } => {
            let r = authority.remove_allocation(&facility, &prefix, actor).await?;
            eprintln!("{} is no longer allocated to facility {}", r.allocation, r.facility);
        }
        AddressCommand::List { facility, json } => {
            for r in authority.allocations(facility.as_ref()).await? {
                if json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{}",
                        r.facility,
                        r.allocation,
                        hcpki_ca::time::rfc3339(r.added_at),
                        r.added_by
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn facility_json(authority: &Authority, f: &hcpki_ca::facility::Facility) -> serde_json::Value {
    output::facility_json(f, &authority.settings().router_dns_name(&f.id))
}
