//! `hcpki router list|add|remove|models|model-approve|model-status|model-remove|approved-only`: the router register (issue #50
//! item 2, D168). Each subcommand calls one operation of `hcpki_ca::router_register` or the store area it
//! audits through, as the admin API and the console do.

use anyhow::Result;
use clap::Subcommand;
use hcpki_ca::FacilityId;
use hcpki_ca::router_register::{self, RouterRequest};
use hcpki_ca::store::Store;
use hcpki_ca::store::router::{RouterAuth, RouterModelRecord};
use hcpki_pkix::time::UnixTime;
use std::process::ExitCode;

/// `hcpki router …`.
#[derive(Debug, Subcommand)]
pub enum RouterCommand {
    /// The routers of a facility (of every facility without one).
    List {
        /// The facility ID.
        facility: Option<FacilityId>,
    },
    /// Register a facility's router; its addresses must be inside the facility's allocations.
    Add {
        /// The facility ID.
        facility: FacilityId,
        /// The router's name inside the facility (e.g. gw1).
        name: String,
        /// Its model (`hcpki router models`).
        #[arg(long)]
        model: String,
        /// Its firmware version.
        #[arg(long)]
        firmware: String,
        /// certificate or psk.
        #[arg(long)]
        auth: RouterAuth,
        /// An address it uses (repeat for more).
        #[arg(long = "address", required = true)]
        addresses: Vec<String>,
    },
    /// Remove a facility's router from the register.
    Remove {
        /// The facility ID.
        facility: FacilityId,
        /// The router's name.
        name: String,
    },
    /// The approved models, with what was tested, and whether only they are accepted.
    Models,
    /// Approve a model (or replace its entry).
    ModelApprove {
        /// Its id (letters, digits, '.', '-', '_').
        model: String,
        /// Its name for people.
        #[arg(long)]
        name: String,
        /// Who makes it.
        #[arg(long, default_value = "")]
        vendor: String,
        /// The firmware versions approved, as text (e.g. "Rev.15.02 以降"); empty: any.
        #[arg(long, default_value = "")]
        firmware: String,
        /// The methods approved, e.g. `certificate,psk`.
        #[arg(long, value_delimiter = ',', required = true)]
        auth: Vec<RouterAuth>,
        /// The pre-shared key syntax of its configuration (`hcpki psk issue --vendor`).
        #[arg(long)]
        psk_vendor: Option<hcpki_ca::psk::Vendor>,
        /// What was tested, and where.
        #[arg(long)]
        tested: String,
        /// Its configuration guide.
        #[arg(long, default_value = "docs/routers/README.md")]
        guide: String,
    },
    /// Change an approved model's tested status, keeping the rest of its entry.
    ModelStatus {
        /// The model id.
        model: String,
        /// What was tested, and where.
        #[arg(long)]
        tested: String,
    },
    /// Take a model off the list (its routers stay registered).
    ModelRemove {
        /// The model id.
        model: String,
    },
    /// Issue router certificates and pre-shared keys only for registered routers of approved models (on), or
    /// for any (off, the default).
    ApprovedOnly {
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

/// Run a `router` command.
pub async fn run(store: &dyn Store, command: RouterCommand) -> Result<ExitCode> {
    let actor = super::actor();
    let at = UnixTime::from_millis(hcpki_pkix::time::now_unix_ms());
    match command {
        RouterCommand::List { facility } => {
            for r in store.routers(facility.as_ref()).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    r.facility_id,
                    r.name,
                    r.model,
                    r.firmware,
                    r.auth,
                    r.addresses.join(" ")
                );
            }
        }
        RouterCommand::Add { facility, name, model, firmware, auth, addresses } => {
            let req = RouterRequest { facility, name, model, firmware, auth, addresses };
            let r = router_register::register(store, &req, &actor, at).await?;
            eprintln!("router {} of {} registered ({}, {})", r.name, r.facility_id, r.model, r.auth);
        }
        RouterCommand::Remove { facility, name } => {
            let r = router_register::remove(store, &facility, &name, &actor, at).await?;
            eprintln!("router {} of {} removed", r.name, r.facility_id);
        }
        RouterCommand::Models => {
            let only = store.approved_models_only().await?;
            println!("# approved models only: {}", if only { "on" } else { "off" });
            for m in store.router_models().await? {
                let methods = m.auth_methods.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(",");
                // New columns at the end: scripts reading the first five keep working.
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    m.model, m.name, methods, m.tested, m.guide, m.vendor, m.firmware
                );
            }
        }
        RouterCommand::ModelApprove { model, name, vendor, firmware, auth, psk_vendor, tested, guide } => {
            let record = RouterModelRecord {
                model,
                name,
                vendor,
                firmware,
                auth_methods: auth,
                psk_vendor: psk_vendor.map(|v| v.as_str().to_owned()),
                tested,
                guide,
                approved_by: actor.as_str().to_owned(),
                approved_at: at.as_secs(),
            };
            router_register::approve_model(store, &record, &actor, at).await?;
            eprintln!("model {} approved", record.model);
        }
        RouterCommand::ModelStatus { model, tested } => {
            router_register::set_model_tested(store, &model, &tested, &actor, at).await?;
            eprintln!("model {model}: tested status changed");
        }
        RouterCommand::ModelRemove { model } => {
            router_register::withdraw_model(store, &model, &actor, at).await?;
            eprintln!("model {model} taken off the list");
        }
        RouterCommand::ApprovedOnly { state } => {
            store.set_approved_models_only(state == "on", &actor, at).await?;
            eprintln!("approved models only: {state}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
