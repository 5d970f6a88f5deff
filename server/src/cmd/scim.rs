//! `hcpki scim client …`: which confidential OIDC client is which facility's HR system for SCIM provisioning
//! (issue #51 item 3, D158).

use anyhow::{Result, bail};
use clap::Subcommand;
use hcpki_ca::FacilityId;
use hcpki_ca::store::{ScimClientRecord, Store};
use hcpki_model::OidcClientId;
use hcpki_pkix::time::rfc3339;
use hcpki_sso::oidc::client::{AuthMethod, ClientConfig};
use std::process::ExitCode;

/// `hcpki scim …`.
#[derive(Debug, Subcommand)]
pub enum ScimCommand {
    /// SCIM clients: confidential OIDC clients bound to the one facility whose staff they provision.
    #[command(subcommand)]
    Client(ScimClientCommand),
}

/// `hcpki scim client …`.
#[derive(Debug, Subcommand)]
pub enum ScimClientCommand {
    /// Let a confidential OIDC client (registered with `hcpki oidc client add`) provision one facility's staff
    /// accounts over SCIM, with tokens from `/token` (`grant_type=client_credentials`, `scope=scim`).
    Add {
        /// The OIDC client id.
        client_id: String,
        /// The facility it provisions.
        #[arg(long)]
        facility: String,
    },
    /// List SCIM clients.
    List,
    /// Stop a client's SCIM access: its next request is refused (its tokens are checked against this binding).
    Remove { client_id: String },
}

/// Run one command.
pub async fn run(store: &dyn Store, command: ScimCommand) -> Result<ExitCode> {
    let ScimCommand::Client(command) = command;
    let actor = super::actor();
    let now = hcpki_pkix::time::now();
    match command {
        ScimClientCommand::Add { client_id, facility } => {
            let Ok(id) = OidcClientId::parse(&client_id) else {
                bail!("{client_id:?} is not an OIDC client id: see `hcpki oidc client list`");
            };
            let Some(record) = store.oidc_client(&id).await? else {
                bail!("no OIDC client {client_id}: register it first with `hcpki oidc client add`");
            };
            let config: ClientConfig = serde_json::from_str(&record.data)?;
            if config.auth == AuthMethod::None {
                bail!(
                    "client {client_id} is public (no credentials): SCIM needs a confidential client, registered \
                     with a secret, a private_key_jwt key or a certificate"
                );
            }
            let Ok(facility) = facility.parse::<FacilityId>() else {
                bail!("{facility:?} is not a facility id: see `hcpki facility list`");
            };
            let binding = ScimClientRecord { client_id, facility, added_by: actor.as_str().to_owned(), added_at: 0 };
            store.scim_client_put(&binding, &actor, now).await?;
            eprintln!(
                "client {} may provision the staff accounts of facility {} over SCIM ({})",
                binding.client_id,
                binding.facility,
                hcpki_sso::oidc::client_credentials::SCIM_PATH
            );
        }
        ScimClientCommand::List => {
            for c in store.scim_clients().await? {
                println!("{:<40} {:<24} {} by {}", c.client_id, c.facility.as_str(), rfc3339(c.added_at), c.added_by);
            }
        }
        ScimClientCommand::Remove { client_id } => {
            if !store.scim_client_remove(&client_id, &actor, now).await? {
                bail!("{client_id} is no SCIM client: see `hcpki scim client list`");
            }
            eprintln!("client {client_id} no longer provisions over SCIM; its next request is refused");
        }
    }
    Ok(ExitCode::SUCCESS)
}
