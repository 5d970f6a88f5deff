//! `hcpki network declare|list`: regional networks (地域医療連携ネットワーク, issue #49 item 2, D169), whose member
//! services may check the consents that name them. Declaring is the operation the admin API and the console run
//! too ([`hcpki_sso::consent::network::declare`]), audited `network.declared`.

use anyhow::{Context, Result};
use clap::Subcommand;
use hcpki_ca::store::Store;
use hcpki_sso::consent::network::{Declaration, declare};
use std::path::PathBuf;
use std::process::ExitCode;

/// `hcpki network …`.
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Declare a network, or replace the declaration of the same name, from a TOML file: name, title,
    /// responsible_name, responsible_contact, items, purpose, joint_users, facilities = [IDs], services = [ids]
    /// (docs/consent.md, "Regional networks").
    Declare {
        /// The file.
        file: PathBuf,
    },
    /// List the declared networks and their members.
    List,
}

/// Run one command.
pub async fn run(store: &dyn Store, command: NetworkCommand) -> Result<ExitCode> {
    match command {
        NetworkCommand::Declare { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let declaration: Declaration =
                toml::from_str(&text).with_context(|| format!("{} is not a network declaration", file.display()))?;
            let actor = super::actor();
            let n = declare(store, &declaration, &actor.0, hcpki_pkix::time::now()).await?;
            println!("network {} declared ({} facilities, {} services)", n.name, n.facilities.len(), n.services.len());
        }
        NetworkCommand::List => {
            for n in store.networks().await? {
                println!(
                    "{}\t{}\t{}\tfacilities={}\tservices={}",
                    n.name,
                    n.title,
                    n.responsible_name,
                    n.facilities.join(","),
                    n.services.join(",")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
