//! `hcpki oidc client add|list|remove`: the relying parties the operator registers.

use crate::config::Loaded;
use crate::oidc::client::{AuthMethod, ClientConfig};
use crate::oidc::jws::SigningAlg;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hcpki_ca::store::{OidcClientRecord, Store};
use std::path::PathBuf;
use std::process::ExitCode;

/// `hcpki oidc …`.
#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Relying parties.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Make a new generation of token signing keys; the old one stays in the JWKS until its tokens have
    /// expired. Running servers pick it up within `[oidc] check_every`, without a restart.
    RotateKey,
}

/// `hcpki oidc client …`.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client.
    Add {
        /// The client_id.
        #[arg(long)]
        id: String,
        /// An exact redirect URI (repeatable).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// private_key_jwt, tls_client_auth or self_signed_tls_client_auth.
        #[arg(long)]
        auth: String,
        /// The client's public keys (JWKS JSON file): private_key_jwt and self_signed_tls_client_auth.
        #[arg(long)]
        jwks_file: Option<PathBuf>,
        /// The client certificate's subject DN (tls_client_auth), e.g. `CN=emr,O=hcpki`.
        #[arg(long)]
        tls_subject: Option<String>,
        /// The services-file id whose rules and claims apply.
        #[arg(long)]
        service: String,
        /// Where RP-initiated logout may return (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Where back-channel logout tokens are POSTed (https://, or http:// on the facility network).
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// The algorithm of the client's ID, access and logout tokens: ES256 (default), RS256 or PS256.
        #[arg(long, default_value = "ES256", value_parser = signing_alg)]
        id_token_signed_response_alg: SigningAlg,
        /// Answer userinfo with a JWT signed with ES256, RS256 or PS256 instead of plain JSON.
        #[arg(long, value_parser = signing_alg)]
        userinfo_signed_response_alg: Option<SigningAlg>,
    },
    /// List clients.
    List,
    /// Remove a client; its grants are revoked.
    Remove { id: String },
}

/// Run one command.
pub async fn run(loaded: &Loaded, store: &dyn Store, command: OidcCommand) -> Result<ExitCode> {
    let command = match command {
        OidcCommand::Client(c) => c,
        OidcCommand::RotateKey => bail!("internal: rotate-key needs the CA (see cmd.rs)"),
    };
    match command {
        ClientCommand::Add {
            id,
            redirect_uris,
            auth,
            jwks_file,
            tls_subject,
            service,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            id_token_signed_response_alg: alg,
            userinfo_signed_response_alg,
        } => {
            if id == crate::oidc::client::CONSOLE_CLIENT_ID {
                bail!("client id {id} is the web console's own (built in, D42): choose another id");
            }
            if let Some(uri) = &backchannel_logout_uri
                && !(uri.starts_with("https://") || uri.starts_with("http://"))
            {
                bail!("--backchannel-logout-uri {uri}: use an https:// (or facility-network http://) URL");
            }
            let auth = AuthMethod::from_name(&auth).with_context(|| {
                format!("unknown --auth {auth:?}: use private_key_jwt, tls_client_auth or self_signed_tls_client_auth")
            })?;
            let jwks = match &jwks_file {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                    let v: serde_json::Value =
                        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
                    if !v.get("keys").is_some_and(serde_json::Value::is_array) {
                        bail!("{} is not a JWKS: it needs a \"keys\" array", path.display());
                    }
                    Some(v)
                }
                None => None,
            };
            match auth {
                AuthMethod::PrivateKeyJwt | AuthMethod::SelfSignedTlsClientAuth if jwks.is_none() => {
                    bail!("--auth {} needs --jwks-file with the client's public keys", auth.as_str())
                }
                AuthMethod::TlsClientAuth if tls_subject.is_none() => {
                    bail!("--auth tls_client_auth needs --tls-subject")
                }
                _ => {}
            }
            for uri in redirect_uris.iter().chain(&post_logout_redirect_uris) {
                if !(uri.starts_with("https://")
                    || uri.starts_with("http://127.0.0.1")
                    || uri.starts_with("http://localhost"))
                    || uri.contains('#')
                {
                    bail!("redirect URI {uri}: use https:// (http:// only for loopback) and no fragment");
                }
            }
            if loaded.config.portal.is_some() {
                let (services, _) = super::service::services(loaded, store).await?;
                if services.get(&service).is_none() {
                    bail!("no service {service:?}: add it first (`hcpki service add FILE`, `hcpki service list`)");
                }
            }
            if store.oidc_client(&id).await?.is_some() {
                bail!("client {id} exists already: remove it first (`hcpki oidc client remove {id}`)");
            }
            let config = ClientConfig {
                redirect_uris,
                auth,
                jwks,
                tls_subject,
                service,
                post_logout_redirect_uris,
                backchannel_logout_uri,
                id_token_signed_response_alg: alg,
                userinfo_signed_response_alg,
            };
            let record = OidcClientRecord {
                id: id.clone(),
                data: serde_json::to_string(&config)?,
                created_by: super::actor().as_str().to_owned(),
                created_at: hcpki_ca::time::now_unix(),
            };
            store.oidc_add_client(&record, &super::actor()).await?;
            println!("client {id} registered ({}, {})", auth.as_str(), alg.as_str());
        }
        ClientCommand::List => {
            for c in store.oidc_clients().await? {
                let cfg: ClientConfig = serde_json::from_str(&c.data)?;
                println!("{:<24} {:<28} {:<16} {}", c.id, cfg.auth.as_str(), cfg.service, cfg.redirect_uris.join(" "));
            }
        }
        ClientCommand::Remove { id } => {
            if !store.oidc_remove_client(&id, &super::actor()).await? {
                bail!("no client {id}: see `hcpki oidc client list`");
            }
            println!("client {id} removed; its tokens no longer work");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--id-token-signed-response-alg`: only what the provider signs with.
fn signing_alg(name: &str) -> Result<SigningAlg, String> {
    SigningAlg::from_name(name)
        .ok_or_else(|| format!("{name:?} is not supported: use ES256, RS256 or PS256 (never none or HS*)"))
}

/// `hcpki oidc rotate-key`.
pub async fn rotate_key(loaded: &Loaded, authority: &hcpki_ca::Authority) -> Result<ExitCode> {
    use crate::oidc::keys;
    let rotated = keys::rotate(authority, &loaded.dir, &loaded.key_context())?;
    keys::audit_rotation(authority, super::actor().as_str(), &rotated, "operator").await;
    println!(
        "new OIDC signing keys {} (generation {}); running servers sign with them within [oidc] check_every",
        rotated.kids.join(" "),
        rotated.generation
    );
    Ok(ExitCode::SUCCESS)
}
