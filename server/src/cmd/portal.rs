//! `hcpki portal user add|list|disable`: the password + TOTP accounts of the SSO portal.

use crate::config::{Loaded, PortalConfig};
use crate::portal::{accounts, secret::PortalSecret, totp};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hcpki_ca::store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

/// `hcpki portal …`.
#[derive(Debug, Subcommand)]
pub enum PortalCommand {
    /// Password + TOTP accounts (the lower `password-totp` assurance level, for staff without cards).
    #[command(subcommand)]
    User(UserCommand),
}

/// `hcpki portal user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account; prints the TOTP secret and its otpauth:// URI once.
    Add {
        /// Login name (a-z 0-9 . _ - @).
        username: String,
        /// Display name (the `name` claim).
        #[arg(long)]
        name: String,
        /// The hcRole code the account carries (see docs/portal.md), if any.
        #[arg(long)]
        role: Option<String>,
        /// File holding the initial password (at least 12 characters; trailing newline dropped).
        #[arg(long)]
        password_file: PathBuf,
    },
    /// List accounts.
    List,
    /// Disable an account for good.
    Disable { username: String },
}

/// Run one command.
pub async fn run(loaded: &Loaded, store: &dyn Store, command: PortalCommand) -> Result<ExitCode> {
    let PortalCommand::User(command) = command;
    match command {
        UserCommand::Add { username, name, role, password_file } => {
            let cfg = portal_config(loaded)?;
            let role = match role {
                Some(code) => Some(crate::policy::HcRole::from_code(&code).with_context(|| {
                    format!("unknown hcRole code {code:?}: see the hcRole table in docs/portal.md")
                })?),
                None => None,
            };
            let password = hcpki_ca::keys::read_secret_file(&password_file)?;
            let secret = PortalSecret::load_or_create(&loaded.dir.join(&cfg.secret_file))?;
            let added = accounts::add(store, &secret, &username, &name, role, &password, &super::actor()).await?;
            let issuer = cfg.issuer.clone().unwrap_or_else(|| "hcpki".into());
            println!(
                "user {username} ({}) added; give the person this TOTP secret once (it is not shown again):",
                added.user.display_name
            );
            println!("secret: {}", totp::base32(&added.totp_secret));
            println!("uri: {}", totp::otpauth_uri(&issuer, &username, &added.totp_secret));
        }
        UserCommand::List => {
            for u in store.portal_users().await? {
                let state = if u.disabled_at.is_some() { "disabled" } else { "active" };
                println!(
                    "{:<24} {:<8} {:<28} {}",
                    u.username,
                    state,
                    u.hc_role.as_deref().unwrap_or("-"),
                    u.display_name
                );
            }
        }
        UserCommand::Disable { username } => {
            if !store.portal_disable_user(&username, &super::actor()).await? {
                bail!("no active user {username}: see `hcpki portal user list`");
            }
            println!("user {username} disabled");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The `[portal]` section, which the accounts need (its secret seals the TOTP secrets).
pub fn portal_config(loaded: &Loaded) -> Result<&PortalConfig> {
    loaded.config.portal.as_ref().context("hcpki.toml has no [portal] section: add one first (docs/operator-guide.md)")
}
