//! `hcpki oidc client add|list|remove`: the relying parties the operator registers (the checks and the store
//! are `oidc::registration`'s, shared with the admin API's `/api/v1/oidc-clients`).

use crate::config::Loaded;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hcpki_ca::store::Store;
use hcpki_model::OidcClientId;
use hcpki_sso::oidc::client::AuthMethod;
use hcpki_sso::oidc::jws::SigningAlg;
use hcpki_sso::oidc::registration::{self, Registration, signing_alg};
use std::path::PathBuf;
use std::process::ExitCode;

/// `hcpki oidc …`.
#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Relying parties (boxed: a registration's flags are far larger than the other commands).
    #[command(subcommand)]
    Client(Box<ClientCommand>),
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
        // How the client authenticates: the help names every `AuthMethod` from its list, so a method added
        // there cannot be missing here (`none` once was).
        #[arg(long, help = auth_help())]
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
        /// Take this client's authorization requests only when pushed (PAR, RFC 9126): `/authorize` refuses
        /// its plain ones (client metadata `require_pushed_authorization_requests`; FAPI 2.0).
        #[arg(long)]
        require_par: bool,
        /// A client this client may exchange a user's access token for a token to (RFC 8693 token exchange;
        /// repeatable; none: it may not exchange).
        #[arg(long = "token-exchange-audience")]
        token_exchange_audiences: Vec<String>,
    },
    /// Give a client registered with a secret a new one, printed once; the old one keeps working for the
    /// overlap, so the service can switch without an outage.
    RotateSecret {
        /// The client_id.
        id: OidcClientId,
        /// How long the old secret keeps working (`1d`, `2h`, `0`: not at all; at most 30 days). Default one day.
        #[arg(long, default_value = "1d", value_parser = period)]
        overlap: crate::config::Period,
    },
    /// List clients.
    List,
    /// Remove a client; its grants are revoked.
    Remove { id: OidcClientId },
}

/// The help of `--auth`: every method, from [`AuthMethod::ALL`], and what each needs.
fn auth_help() -> String {
    let needs = |m: AuthMethod| match m {
        AuthMethod::PrivateKeyJwt | AuthMethod::SelfSignedTlsClientAuth => "with --jwks-file",
        AuthMethod::TlsClientAuth => "with --tls-subject",
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
            "hcpki makes the secret and prints it once: for a client that cannot hold a key, e.g. Apache mod_auth_openidc"
        }
        AuthMethod::None => "a public client, a native or browser app: PKCE only, no credential",
    };
    let methods: Vec<String> = AuthMethod::ALL.iter().map(|m| format!("{} ({})", m.as_str(), needs(*m))).collect();
    format!("How the client authenticates: {}", methods.join("; "))
}

/// Run one command.
pub async fn run(loaded: &Loaded, store: &dyn Store, command: OidcCommand) -> Result<ExitCode> {
    let command = match command {
        OidcCommand::Client(c) => *c,
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
            id_token_signed_response_alg,
            userinfo_signed_response_alg,
            require_par,
            token_exchange_audiences,
        } => {
            let jwks = match &jwks_file {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                    Some(serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?)
                }
                None => None,
            };
            // The services are checked only where the portal is configured: without one there is no policy yet.
            let services = match loaded.config.portal {
                Some(_) => Some(super::service::services(loaded, store).await?.0),
                None => None,
            };
            let r = Registration {
                id,
                redirect_uris,
                auth,
                jwks,
                tls_subject,
                service,
                post_logout_redirect_uris,
                backchannel_logout_uri,
                id_token_signed_response_alg,
                userinfo_signed_response_alg,
                require_pushed_authorization_requests: require_par,
                token_exchange_audiences,
            };
            let deployment = registration::Deployment {
                services: services.as_ref(),
                secrets_allowed: loaded.config.oidc.secrets_allowed(),
                consent: Some(&loaded.config.consent),
            };
            let now = hcpki_pkix::time::now_unix_ms();
            let c = registration::register(store, deployment, r, &super::actor(), now).await?;
            println!(
                "client {} registered ({}, {}{})",
                c.id,
                c.config.auth.as_str(),
                c.config.id_token_signed_response_alg.as_str(),
                if c.config.require_pushed_authorization_requests { ", pushed requests only" } else { "" }
            );
            if let Some(secret) = &c.secret {
                print_secret(secret);
            }
        }
        ClientCommand::RotateSecret { id, overlap } => {
            let now = hcpki_pkix::time::now_unix_ms();
            let overlap =
                i64::try_from(overlap.0).unwrap_or(i64::MAX).min(hcpki_sso::oidc::client_secret::MAX_OVERLAP_SECS);
            let rotated = registration::rotate_secret(store, &id, overlap, &super::actor(), now).await?;
            println!("client {id}: new secret; the previous one keeps working for {overlap} s");
            print_secret(&rotated.secret);
        }
        ClientCommand::List => {
            for c in registration::list(store).await? {
                let cfg = &c.config;
                let par = if cfg.require_pushed_authorization_requests { "par-required" } else { "-" };
                println!(
                    "{:<24} {:<28} {:<16} {par:<12} {}",
                    c.id,
                    cfg.auth.as_str(),
                    cfg.service,
                    cfg.redirect_uris.join(" ")
                );
            }
        }
        ClientCommand::Remove { id } => {
            registration::remove(store, &id, &super::actor(), hcpki_pkix::time::now_unix_ms()).await?;
            println!("client {id} removed; its tokens no longer work");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A period as the configuration writes one (`"1d"`), or `0` / `0s`: no overlap.
fn period(text: &str) -> Result<crate::config::Period, String> {
    match text {
        "0" | "0s" => Ok(crate::config::Period(0)),
        _ => crate::config::Period::try_from(text.to_owned()),
    }
}

/// The secret on its own line, once: it is not stored and cannot be shown again.
fn print_secret(secret: &str) {
    println!("client_secret: {secret}");
    println!("(shown this once: hcpki keeps only its hash; give it to the service now, over a safe channel)");
}

/// `hcpki oidc rotate-key`.
pub async fn rotate_key(loaded: &Loaded, authority: &hcpki_ca::Authority) -> Result<ExitCode> {
    use hcpki_sso::oidc::keys;
    let rotated = keys::rotate(authority, &loaded.dir, &loaded.key_context())?;
    keys::audit_rotation(authority, super::actor().as_str(), &rotated, "operator").await;
    println!(
        "new OIDC signing keys {} (generation {}); running servers sign with them within [oidc] check_every",
        rotated.kids.join(" "),
        rotated.generation
    );
    Ok(ExitCode::SUCCESS)
}
