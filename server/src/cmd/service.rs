//! `hcpki service add|list|show|remove`: the services of the portal's authorization policy, kept in the
//! database (D22, D26) in the services file's strict schema. Running servers pick changes up within
//! `[portal] services_refresh_secs`, without a restart.

use crate::config::Loaded;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hcpki_ca::store::Services as ServiceRows;
use hcpki_sso::catalog;
use hcpki_sso::policy::Services;
use std::path::PathBuf;
use std::process::ExitCode;

/// `hcpki service …`.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Add the services of a file in the services file format (`version = 1`, `[[service]]` tables).
    Add {
        /// The file.
        file: PathBuf,
        /// Replace services whose id exists already (otherwise that is an error and nothing changes).
        #[arg(long)]
        replace: bool,
    },
    /// List the services, in the portal's order.
    List,
    /// Print one service as a services file.
    Show {
        /// The service id.
        id: String,
    },
    /// Remove a service: its clients' authorization requests are refused from then on.
    Remove {
        /// The service id.
        id: String,
    },
}

/// Run one command.
pub async fn run(loaded: &Loaded, store: &dyn ServiceRows, command: ServiceCommand) -> Result<ExitCode> {
    // The file seeds an empty database first, so that what follows works on what servers will see.
    services(loaded, store).await?;
    match command {
        ServiceCommand::Add { file, replace } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let records = catalog::records(&text)?;
            if records.is_empty() {
                bail!("{} has no [[service]] table", file.display());
            }
            store.portal_put_services(&records, replace, false, &super::actor(), hcpki_pkix::time::now()).await?;
            for r in &records {
                println!("service {} {}", r.id, if replace { "set" } else { "added" });
            }
        }
        ServiceCommand::List => {
            let (services, _) = services(loaded, store).await?;
            for s in services.iter() {
                println!("{:<24} {:<18} {}", s.id, s.min_assurance.as_str(), s.name);
            }
        }
        ServiceCommand::Show { id } => {
            let (rows, _, _) = store.portal_services().await?;
            let row = rows.into_iter().find(|r| r.id == id).with_context(|| format!("no service {id}"))?;
            println!(
                "version = {}\n\n[[service]]\n{}",
                hcpki_sso::policy::SERVICES_FILE_VERSION,
                row.definition.trim_end()
            );
        }
        ServiceCommand::Remove { id } => {
            if !store.portal_remove_service(&id, &super::actor(), hcpki_pkix::time::now()).await? {
                bail!("no service {id}: see `hcpki service list`");
            }
            println!("service {id} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The services as servers see them (the `[portal] services` file imported first if the database never had
/// services), with their change generation.
pub async fn services(loaded: &Loaded, store: &dyn ServiceRows) -> Result<(Services, i64)> {
    let cfg = super::portal::portal_config(loaded)?;
    let seed = cfg.services.as_ref().map(|f| loaded.dir.join(f));
    Ok(catalog::load(store, seed.as_deref(), &hcpki_pkix::time::SystemClock).await?)
}
