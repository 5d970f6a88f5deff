//! `hcpki psk issue|list|show|withdraw|hub-secrets`: routers' managed pre-shared keys (issue #50 item 1, D156), for
//! routers that cannot use certificates. Each subcommand calls one operation of `hcpki_ca::psk::manage`; the
//! key is sealed with the portal secret's PSK key, so `[portal]` must be configured.

use crate::config::Loaded;
use anyhow::{Context, Result};
use clap::Subcommand;
use hcpki_ca::FacilityId;
use hcpki_ca::psk::manage::{self, PskRequest};
use hcpki_ca::psk::{HubFormat, Vendor};
use hcpki_ca::store::Store;
use hcpki_pkix::time::UnixTime;
use hcpki_sso::secret::PortalSecret;
use std::path::PathBuf;
use std::process::ExitCode;

/// `hcpki psk …`.
#[derive(Debug, Subcommand)]
pub enum PskCommand {
    /// Make a facility's key for a hub (rotating out the current one) and print it ONCE with the router's
    /// configuration lines.
    Issue {
        /// The facility ID.
        facility: FacilityId,
        /// The hub (peer) the router tunnels to, as `hub-secrets --peer` names it.
        #[arg(long)]
        peer: String,
        /// The router's IKE identity (e.g. hf000000012.router.example.jp).
        #[arg(long)]
        remote_id: String,
        /// strongswan, libreswan, yamaha-rtx, cisco-ios-xe, fortigate, juniper-srx or mikrotik.
        #[arg(long)]
        vendor: Vendor,
        /// Fewer characters than the vendor's longest (default: the longest it accepts).
        #[arg(long)]
        length: Option<usize>,
        /// Hours the rotated-out key keeps working (0 to 720; default 24).
        #[arg(long, default_value_t = 24)]
        overlap_hours: i64,
        /// The hub's IKE identity, for the configuration lines.
        #[arg(long, default_value = "hub.example.jp")]
        hub_id: String,
        /// The hub's address, for the configuration lines.
        #[arg(long, default_value = "192.0.2.1")]
        hub_address: String,
        /// The facility's registered router the key is for (`hcpki router list`); required while only approved
        /// models are accepted.
        #[arg(long)]
        router: Option<String>,
    },
    /// Withdraw one working key at once (a router lost, its configuration leaked); the hub refuses it after
    /// its next `hub-secrets` and reload.
    Withdraw {
        /// The facility ID.
        facility: FacilityId,
        /// The key id (`hcpki psk list`).
        key_id: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// A facility's keys (ids, peers, states; never the keys).
    List {
        /// The facility ID.
        facility: FacilityId,
    },
    /// Print one working key of the facility again (audited as `psk.view`).
    Show {
        /// The facility ID.
        facility: FacilityId,
        /// The key id (`hcpki psk list`).
        key_id: String,
    },
    /// Write the hub's secrets file: every key working now for the peer (rotated-out keys past their overlap
    /// and withdrawn ones are left out, so the hub refuses them after its reload).
    HubSecrets {
        /// The hub (peer).
        #[arg(long)]
        peer: String,
        /// swanctl (a swanctl.conf include) or libreswan (an ipsec.secrets include).
        #[arg(long)]
        format: String,
        /// The hub's own IKE identity (the routers' `--hub-id`): libreswan keys each secret by both IDs.
        #[arg(long, default_value = "hub.example.jp")]
        hub_id: String,
        /// The file to write (mode 0600, replaced atomically).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Run a `psk` command.
pub async fn run(loaded: &Loaded, store: &dyn Store, command: PskCommand) -> Result<ExitCode> {
    let cfg = super::portal::portal_config(loaded)?;
    let secret = PortalSecret::load_or_create(&loaded.dir.join(&cfg.secret_file))?;
    let seal = secret.psk_seal_key();
    let actor = super::actor();
    let at = UnixTime::from_millis(hcpki_pkix::time::now_unix_ms());
    match command {
        PskCommand::Issue { facility, peer, remote_id, vendor, length, overlap_hours, hub_id, hub_address, router } => {
            let req = PskRequest {
                facility,
                peer,
                remote_id,
                vendor,
                len: length,
                overlap_secs: overlap_hours.saturating_mul(3600),
                router,
            };
            let issued = manage::issue(store, seal, &req, &actor, at).await?;
            eprintln!(
                "key {} issued for {} → {} ({}, {} characters): shown once, copy it now",
                issued.record.key_id,
                req.facility,
                req.peer,
                vendor.as_str(),
                issued.key.secret.len()
            );
            println!("{}", issued.key.secret.as_str());
            // The configuration lines carry the key: stdout like the key itself, never the (logged) stderr.
            println!("--- {} configuration ---", vendor.as_str());
            print!(
                "{}",
                hcpki_ca::psk::router_snippet(vendor, &req.remote_id, &hub_id, &hub_address, &issued.key.secret)
            );
        }
        PskCommand::List { facility } => {
            let now = at.as_secs();
            for k in store.psk_list(&facility).await? {
                let state = match (k.withdrawn_at, k.retires_at) {
                    (Some(_), _) => "withdrawn".to_owned(),
                    (None, Some(t)) if now >= t => "rotated out".to_owned(),
                    (None, Some(t)) => format!("overlap until {t}"),
                    (None, None) => "current".to_owned(),
                };
                println!("{}\t{}\t{}\t{}\t{}", k.key_id, k.peer, k.remote_id, k.vendor, state);
            }
        }
        PskCommand::Withdraw { facility, key_id, reason } => {
            let k = manage::withdraw(store, &facility, &key_id, &reason, &actor, at).await?;
            eprintln!(
                "key {} of {} for {} withdrawn: run hub-secrets and reload the hub",
                k.key_id, k.facility_id, k.peer
            );
        }
        PskCommand::Show { facility, key_id } => {
            let (_, key) = manage::view(store, seal, &facility, &key_id, &actor, at).await?;
            println!("{}", key.as_str());
        }
        PskCommand::HubSecrets { peer, format, hub_id, out } => {
            let format = match format.as_str() {
                "swanctl" => HubFormat::Swanctl,
                "libreswan" => HubFormat::Libreswan,
                other => anyhow::bail!("unknown hub secrets format {other:?}: use swanctl or libreswan"),
            };
            let file = manage::hub_secrets(store, seal, &peer, &hub_id, format, &actor, at).await?;
            let tmp = out.with_extension("hcpki-tmp");
            let _ = std::fs::remove_file(&tmp);
            crate::output::write_private(&tmp, file.as_bytes())?;
            std::fs::rename(&tmp, &out).with_context(|| format!("cannot replace {}", out.display()))?;
            eprintln!("wrote {}: reload the hub (swanctl --load-creds, or ipsec auto --rereadsecrets)", out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
