//! `hcpki portal user add|list|disable`: the password + TOTP accounts of the SSO portal; `hcpki portal
//! lifetime set|clear|list`: per-facility session lifetimes; `hcpki portal sweep`: housekeeping now.

use crate::config::{Loaded, PortalConfig};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hcpki_ca::FacilityId;
use hcpki_ca::store::{Facilities, Sessions, Store};
use hcpki_pkix::time::UnixTime;
use hcpki_sso::totp;
use hcpki_sso::{accounts, secret::PortalSecret};
use std::path::PathBuf;
use std::process::ExitCode;

/// `hcpki portal …`.
#[derive(Debug, Subcommand)]
pub enum PortalCommand {
    /// Password + TOTP accounts (the lower `password-totp` assurance level, for staff without cards).
    #[command(subcommand)]
    User(UserCommand),
    /// Passkeys of password + TOTP accounts (D157): the help desk lists them and revokes a lost one.
    #[command(subcommand)]
    Passkey(PasskeyCommand),
    /// Per-facility SSO session lifetimes (overriding `[portal] session_hours`).
    #[command(subcommand)]
    Lifetime(LifetimeCommand),
    /// Delete expired and ended sessions, spent grants and single-use rows now (servers do it every
    /// `[portal] housekeeping_secs`).
    Sweep {
        /// Sweep as of this Unix time instead of now (tests, or catching up after a clock fix).
        #[arg(long)]
        at: Option<i64>,
    },
}

/// `hcpki portal lifetime …`.
#[derive(Debug, Subcommand)]
pub enum LifetimeCommand {
    /// Give a facility's new sessions their own lifetime (live sessions keep theirs).
    Set {
        /// The facility ID.
        facility: FacilityId,
        /// Hours, 1 to 168.
        hours: u32,
    },
    /// Back to `[portal] session_hours`.
    Clear {
        /// The facility ID.
        facility: FacilityId,
    },
    /// Facilities with their own lifetime.
    List,
}

/// `hcpki portal passkey …`.
#[derive(Debug, Subcommand)]
pub enum PasskeyCommand {
    /// An account's passkeys, revoked ones too: credential id, state, name, registered, last used.
    List {
        /// The account's login name.
        username: String,
    },
    /// Revoke a passkey (a lost or stolen device): it signs in no more, and the sessions it opened end at once
    /// (their services are told by the server).
    Revoke {
        /// The account's login name.
        username: String,
        /// The credential id (`hcpki portal passkey list`).
        credential_id: String,
    },
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
        #[arg(long, value_parser = crate::args::value::hc_role())]
        role: Option<hcpki_sso::policy::HcRole>,
        /// File holding the initial password (at least 12 characters; trailing newline dropped).
        #[arg(long)]
        password_file: PathBuf,
        /// The facility the account belongs to: the facility's SCIM client (its HR system) then sees and
        /// manages it (D158). Without it the account belongs to no facility.
        #[arg(long)]
        facility: Option<FacilityId>,
    },
    /// List accounts.
    List,
    /// The active accounts without a confirmed second factor (no one-time code ever accepted, no live passkey):
    /// they set one up at their next sign-in at a facility PC until `[portal] second_factor_deadline` + grace,
    /// then are refused until reset (D161). Tab-separated: name, created (UTC), hcRole, display name.
    NotReady,
    /// Give an account a new TOTP secret, shown once here to hand to the person (a lost phone, or an account
    /// past the set-up period, D161); the person's first code confirms it. Sessions go on.
    ResetSecondFactor { username: String },
    /// Disable an account for good; its live sessions end and their clients get back-channel logout.
    Disable { username: String },
}

/// Run one command.
pub async fn run(loaded: &Loaded, store: &dyn Store, command: PortalCommand) -> Result<ExitCode> {
    let command = match command {
        PortalCommand::User(c) => c,
        PortalCommand::Lifetime(c) => return lifetime(store, c).await,
        PortalCommand::Passkey(c) => return passkey(store, c).await,
        PortalCommand::Sweep { at } => {
            let now = at.unwrap_or_else(hcpki_pkix::time::now_unix);
            let lent = store.portal_end_lapsed_lends(UnixTime::from_secs(now), None).await?;
            println!("card sessions ended (lend ran out): {}", lent.len());
            let lapsed = store.portal_end_lapsed_sessions(UnixTime::from_secs(now)).await?;
            println!("card sessions ended (presence lapsed): {lapsed}");
            let swept = crate::portal::housekeeping::sweep(store, now).await?;
            for (table, rows) in swept.by_table() {
                println!("{table}: {rows} swept");
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    match command {
        UserCommand::Add { username, name, role, password_file, facility } => {
            let cfg = portal_config(loaded)?;
            let password = hcpki_pkix::keys::read_secret_file(&password_file)?;
            let secret = PortalSecret::load_or_create(&loaded.dir.join(&cfg.secret_file))?;
            let now_ms = hcpki_pkix::time::now_unix_ms();
            let actor = super::actor();
            let added = match &facility {
                None => accounts::add(store, &secret, &username, &name, role, &password, &actor, now_ms).await?,
                Some(f) => {
                    accounts::add_in_facility(store, f, &secret, &username, &name, role, &password, &actor, now_ms)
                        .await?
                }
            };
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
        UserCommand::NotReady => {
            for u in accounts::not_ready(store, store).await? {
                let created = hcpki_pkix::time::rfc3339(u.created_at);
                println!("{}\t{created}\t{}\t{}", u.username, u.hc_role.as_deref().unwrap_or("-"), u.display_name);
            }
        }
        UserCommand::ResetSecondFactor { username } => {
            let cfg = portal_config(loaded)?;
            let secret = PortalSecret::load_or_create(&loaded.dir.join(&cfg.secret_file))?;
            let new = hcpki_pkix::keys::random_secret(totp::SECRET_LEN)?;
            let sealed = secret.seal(&username, &new)?;
            if !store.portal_reset_totp(&username, &sealed, &super::actor(), hcpki_pkix::time::now()).await? {
                bail!("no active user {username}: see `hcpki portal user list`");
            }
            let issuer = cfg.issuer.clone().unwrap_or_else(|| "hcpki".into());
            println!("user {username}: a new TOTP secret; give it to the person once (it is not shown again):");
            println!("secret: {}", totp::base32(&new));
            println!("uri: {}", totp::otpauth_uri(&issuer, &username, &new));
        }
        UserCommand::Disable { username } => {
            if !store.portal_disable_user(&username, &super::actor(), hcpki_pkix::time::now()).await? {
                bail!("no active user {username}: see `hcpki portal user list`");
            }
            println!("user {username} disabled");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn lifetime(store: &(impl Sessions + Facilities + ?Sized), command: LifetimeCommand) -> Result<ExitCode> {
    let actor = super::actor();
    match command {
        LifetimeCommand::Set { facility, hours } => {
            if !(1..=168).contains(&hours) {
                bail!("a session lifetime of {hours} h: use 1 to 168 hours");
            }
            let id = known_facility(store, facility).await?;
            store
                .portal_set_session_lifetime(&id, Some(i64::from(hours) * 3600), &actor, hcpki_pkix::time::now())
                .await?;
            println!("facility {id}: new sessions last {hours} h (never past the card's or PC's certificate)");
        }
        LifetimeCommand::Clear { facility } => {
            let id = known_facility(store, facility).await?;
            if !store.portal_set_session_lifetime(&id, None, &actor, hcpki_pkix::time::now()).await? {
                bail!("facility {id} has no session lifetime of its own: see `hcpki portal lifetime list`");
            }
            println!("facility {id}: new sessions last [portal] session_hours");
        }
        LifetimeCommand::List => {
            for (facility, secs, by, _) in store.portal_session_lifetimes().await? {
                println!("{facility:<24} {:>4} h  set by {by}", secs / 3600);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn passkey(store: &dyn Store, command: PasskeyCommand) -> Result<ExitCode> {
    match command {
        PasskeyCommand::List { username } => {
            for k in store.passkeys_of(&format!("pwd:{username}")).await? {
                let state = if k.revoked_at.is_some() { "revoked" } else { "live" };
                let used = k.last_used_at.map_or_else(|| "-".to_owned(), |t| t.to_string());
                println!(
                    "{:<44} {:<8} created {} last used {:<10} {}",
                    k.credential_id, state, k.created_at, used, k.name
                );
            }
        }
        PasskeyCommand::Revoke { username, credential_id } => {
            let person_key = format!("pwd:{username}");
            let event = hcpki_ca::audit::AuditEvent {
                actor: super::actor().0,
                action: "passkey.revoke".into(),
                target: credential_id.clone(),
                outcome: hcpki_ca::audit::Outcome::Ok,
                detail: serde_json::json!({ "by": "help-desk", "account": username }),
            };
            let Some((_, ended)) =
                store.passkey_revoke(&person_key, &credential_id, &event, hcpki_pkix::time::now()).await?
            else {
                bail!("{username} has no live passkey {credential_id}: see `hcpki portal passkey list {username}`");
            };
            println!("passkey {credential_id} of {username} revoked; {ended} session(s) it opened ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A registered facility's ID, in its canonical form.
async fn known_facility(store: &(impl Facilities + ?Sized), id: FacilityId) -> Result<FacilityId> {
    store.facility(&id).await?.with_context(|| format!("no facility {id}: check the ID with `hcpki facility list`"))?;
    Ok(id)
}

/// The `[portal]` section, which the accounts need (its secret seals the TOTP secrets).
pub fn portal_config(loaded: &Loaded) -> Result<&PortalConfig> {
    loaded.config.portal.as_ref().context("hcpki.toml has no [portal] section: add one first (docs/operator-guide.md)")
}
