//! `hcpki init`: configuration, database and CA hierarchy.

use crate::args::value;
use crate::config::{self, Config, KeysConfig, Loaded};
use anyhow::{Context, Result, bail};
use base64::Engine;
use clap::Args;
use hcpki_ca::authority::{InitOptions, KeyPlacement};
use hcpki_ca::profile::ProfileSettings;
use hcpki_ca::{Authority, CaName};
use hcpki_pkix::keys::KeyAlgorithm;
use hcpki_pkix::keys::Pkcs11Config;
use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// PKCS#11 module: generate the CA keys in an HSM instead of encrypted files.
    #[arg(long, requires_all = ["pkcs11_token_label", "pkcs11_pin_file"])]
    pub pkcs11_module: Option<PathBuf>,
    /// Label of the (initialised) token to generate the CA keys on.
    #[arg(long)]
    pub pkcs11_token_label: Option<String>,
    /// File holding the token's user PIN.
    #[arg(long)]
    pub pkcs11_pin_file: Option<PathBuf>,
    /// Passphrase file for software keys (default: a new random one at secrets/key-passphrase).
    #[arg(long, conflicts_with = "passphrase_credential")]
    pub passphrase_file: Option<PathBuf>,
    /// The passphrase as the systemd credential of this name (`$CREDENTIALS_DIRECTORY/NAME`, loaded by the
    /// unit's `LoadCredential=`; the package's is `key-passphrase`) instead of a file (D136).
    #[arg(long, value_name = "NAME")]
    pub passphrase_credential: Option<String>,
    #[arg(long = "key-type", value_name = "CA=ALG", value_parser = value::ca_key_type, help = value::ca_key_type_help())]
    pub key_types: Vec<(CaName, KeyAlgorithm)>,
    /// Organisation written into every subject DN.
    #[arg(long, default_value = "hcpki")]
    pub organization: String,
    /// DNS zone under which facilities own their router names.
    #[arg(long, default_value = "router.hcpki.example")]
    pub router_zone: String,
    /// Domain of facility PC identity URIs (https://<domain>/facility/<id>/device/<device>).
    #[arg(long, default_value = "hcpki.example")]
    pub identity_domain: String,
    /// Base URL of the plain-HTTP publication point (CRL DP, AIA).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub http_base_url: String,
}

pub async fn run(dir: &Path, database_url: Option<&str>, args: &InitArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if dir.join(config::FILE).exists() {
        bail!("{} already holds an hcpki configuration; init never overwrites one", dir.display());
    }
    if let Some(name) = &args.passphrase_credential {
        // Before anything is written: a missing credential leaves no half-made directory behind.
        let credentials = std::env::var_os(crate::systemd::CREDENTIALS_DIRECTORY).map(PathBuf::from);
        crate::systemd::credential(credentials.as_deref(), name)?;
    }
    let algorithms: BTreeMap<_, _> = args.key_types.iter().copied().collect();
    let (placement, pkcs11, passphrase_file) =
        match (&args.pkcs11_module, &args.pkcs11_token_label, &args.pkcs11_pin_file) {
            (Some(module), Some(token), Some(pin)) => (
                KeyPlacement::Pkcs11 { token: token.clone() },
                Some(Pkcs11Config { module: absolute(module)?, pin_file: absolute(pin)? }),
                None,
            ),
            _ => {
                let pass = match (&args.passphrase_file, &args.passphrase_credential) {
                    (_, Some(_)) => None,
                    (Some(p), None) => Some(absolute(p)?),
                    (None, None) => Some(new_passphrase_file(dir)?),
                };
                (KeyPlacement::Software, None, pass)
            }
        };
    let cfg = Config {
        version: config::VERSION,
        database_url: database_url.map(str::to_owned).unwrap_or_else(|| "sqlite:hcpki.db".into()),
        keys: KeysConfig {
            passphrase_file,
            passphrase_credential: if pkcs11.is_none() { args.passphrase_credential.clone() } else { None },
        },
        pkcs11,
        profiles: ProfileSettings {
            organization: args.organization.clone(),
            router_zone: args.router_zone.trim_end_matches('.').to_ascii_lowercase(),
            identity_domain: args.identity_domain.trim_end_matches('.').to_ascii_lowercase(),
            http_base_url: args.http_base_url.trim_end_matches('/').to_owned(),
            ..ProfileSettings::default()
        },
        serve: config::ServeConfig::default(),
        acme: config::AcmeConfig::default(),
        login: config::LoginConfig::default(),
        portal: None,
        oidc: config::OidcConfig::default(),
        limits: config::LimitsConfig::default(),
        admission: config::AdmissionConfig::default(),
        monitor: config::MonitorConfig::default(),
        console: config::ConsoleConfig::default(),
        ca: config::CaConfig::default(),
        tsa: None,
        signing: config::SigningConfig::default(),
        consent: hcpki_sso::consent::settings::ConsentSettings::default(),
        audit: config::AuditConfig::default(),
        atna: None,
    };
    config::write_new(dir, &cfg)?;
    let loaded = Loaded::read(dir, None)?;
    let store = hcpki_ca::store::open(&loaded.database_url).await.context("cannot open the database")?;
    let authority = Authority::init(
        store,
        loaded.key_context(),
        cfg.profiles.clone(),
        &InitOptions { placement, algorithms },
        &super::actor(),
    )
    .await?;
    eprintln!("initialised hcpki in {}", dir.display());
    for ca in CaName::ALL {
        eprintln!("  {:<7} CA  key {}", ca.as_str(), authority.ca_key_uri(ca)?);
    }
    eprintln!("database: {}", redact(&loaded.database_url));
    Ok(ExitCode::SUCCESS)
}

/// A fresh 256-bit passphrase, owner-readable only.
fn new_passphrase_file(dir: &Path) -> Result<std::path::PathBuf> {
    let bytes = hcpki_pkix::keys::random_secret(32)?;
    let text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes.as_slice());
    let rel = Path::new("secrets").join("key-passphrase");
    let path = dir.join(&rel);
    std::fs::create_dir_all(dir.join("secrets"))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path).with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes())?;
    Ok(rel)
}

fn absolute(p: &Path) -> Result<std::path::PathBuf> {
    std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()))
}

/// Hide a password in a database URL for printing.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = url.get(s + 3..at).unwrap_or_default();
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    format!("{}{}:***{}", url.get(..s + 3).unwrap_or_default(), user, url.get(at..).unwrap_or_default())
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
