//! `hcpki ca …`: the CA certificates, and the offline root's CRL (ARL): signed at the ceremony, imported online,
//! its remaining validity shown (docs/deployment.md "Offline root").

use crate::args::value;
use crate::config::Loaded;
use anyhow::{Context, Result};
use clap::Args;
use clap::Subcommand;
use der::Decode as _;
use hcpki_ca::issuer::der_to_pem;
use hcpki_ca::store::ImportedCrl;
use hcpki_ca::{Authority, CaName};
use hcpki_pkix::time::{UnixTime, rfc3339};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

mod rollover;

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Print a CA certificate as PEM.
    Cert {
        #[arg(value_parser = value::ca())]
        name: CaName,
    },
    /// Print the issuing chain of a profile or CA up to the root, issuing CA first.
    Chain {
        /// The profile (its issuing CA) or the CA.
        #[arg(value_parser = value::ca_of_profile_or_ca())]
        profile: CaName,
    },
    /// At the ceremony, with the root key: sign the root's CRL (ARL) for `[ca] root_crl_days` (every revoked
    /// issuing CA certificate, the root's next CRL number; audited). Carry the file to the online installation
    /// and run `hcpki ca import-arl` there.
    SignArl(SignArlArgs),
    /// Online: check an ARL signed at the ceremony (the root's signature, issuer, CRL number above the one
    /// stored, nextUpdate ahead) and store it; `hcpki serve` then serves it at /crl/root.crl and never needs the
    /// root key. Every refusal is audited and stores nothing.
    ImportArl {
        /// The ARL file (DER or PEM).
        file: PathBuf,
    },
    /// Stop all issuance at once on every replica (D135): EST, SCEP, ACME, the console, re-issue jobs all
    /// refuse, saying why; OCSP, CRLs and sign-in keep working. Audited. Needs the database only, no CA key.
    Halt {
        /// Why, shown to every refused requester and in the audit log (1–500 characters, one line).
        #[arg(long)]
        reason: String,
    },
    /// Approve resuming issuance as yourself (your own login, not root). Issuance resumes at the second
    /// approval by a different person within an hour; each approval and refusal is audited.
    Resume,
    /// CA key rollover of an issuing CA (D145): start, status, switch, retire, abort.
    Rollover(rollover::RolloverArgs),
    /// Whether issuance is halted, why, by whom, and the approvals to resume so far. Exits 1 while halted.
    HaltStatus {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The CAs and the root CRL served at /crl/root.crl: which ARL, until when. Exits 1 when the imported ARL
    /// ends within DAYS days (or has ended), so monitoring can alert on the exit status alone.
    Status {
        /// The warning window in days (default: `[ca] root_crl_warn_days`).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: Option<u32>,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct SignArlArgs {
    /// Where to write the ARL (it goes onto the media carried to the online installation).
    #[arg(long)]
    pub out: PathBuf,
    /// Days from thisUpdate to nextUpdate, 1–365 (default: `[ca] root_crl_days`).
    #[arg(long)]
    pub days: Option<u32>,
    /// PEM instead of DER.
    #[arg(long)]
    pub pem: bool,
}

impl CaCommand {
    /// The stop switch's commands, which open the database only (a halt must work while a key is the incident).
    pub fn switch(&self) -> Option<super::halt::Switch> {
        match self {
            Self::Halt { reason } => Some(super::halt::Switch::Halt(reason.clone())),
            Self::Resume => Some(super::halt::Switch::Resume),
            Self::HaltStatus { json } => Some(super::halt::Switch::Status { json: *json }),
            _ => None,
        }
    }
}

pub async fn run(loaded: &Loaded, authority: &Authority, command: CaCommand) -> Result<ExitCode> {
    match command {
        CaCommand::Cert { name } => {
            print!("{}", der_to_pem("CERTIFICATE", authority.ca_certificate(name)?));
        }
        CaCommand::Chain { profile: ca } => {
            for der in authority.chain(ca)? {
                print!("{}", der_to_pem("CERTIFICATE", &der));
            }
        }
        CaCommand::SignArl(args) => sign_arl(loaded, authority, &args).await?,
        CaCommand::ImportArl { file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let crl = authority.revoker().import_root_crl(&bytes, &super::actor()).await?;
            eprintln!(
                "imported the root CRL (ARL) number {} (SHA-256 {}), {} revoked CA certificate(s); /crl/root.crl \
                 serves it from now on, until {} ({})",
                crl.number,
                crl.sha256,
                crl.entries,
                rfc3339(crl.next_update),
                left(crl.next_update, hcpki_pkix::time::now())
            );
        }
        CaCommand::Halt { .. } | CaCommand::Resume | CaCommand::HaltStatus { .. } => {
            anyhow::bail!("the issuance stop switch is run without the CA keys: see `hcpki ca halt --help`")
        }
        CaCommand::Rollover(args) => return rollover::run(authority, args).await,
        CaCommand::Status { days, json } => {
            return status(loaded, authority, days.unwrap_or(loaded.config.ca.root_crl_warn_days), json).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn sign_arl(loaded: &Loaded, authority: &Authority, args: &SignArlArgs) -> Result<()> {
    let days = args.days.unwrap_or(loaded.config.ca.root_crl_days);
    // Created before signing, never over an existing file (the media may hold the last ceremony's ARL, which the
    // record names), so a bad path costs no CRL number.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.out)
        .with_context(|| format!("cannot create {} (does it exist already?)", args.out.display()))?;
    let signed = match authority.revoker().sign_root_crl(days, &super::actor()).await {
        Ok(signed) => signed,
        Err(e) => {
            drop(file);
            // Best effort: an empty file left behind would only block the next attempt's create_new.
            let _ = std::fs::remove_file(&args.out);
            return Err(e.into());
        }
    };
    let bytes = if args.pem { der_to_pem("X509 CRL", &signed.der).into_bytes() } else { signed.der.clone() };
    std::io::Write::write_all(&mut file, &bytes).with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "signed the root CRL (ARL) number {}: thisUpdate {}, nextUpdate {} ({days} days), {} revoked CA \
         certificate(s), SHA-256 {}\nwritten to {}; import it online with `hcpki ca import-arl FILE` well before \
         its nextUpdate",
        signed.number,
        rfc3339(signed.this_update),
        rfc3339(signed.next_update),
        signed.entries,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&signed.der)),
        args.out.display()
    );
    Ok(())
}

/// Every CA's certificate and where its key is, and the root CRL `hcpki serve` hands out; exit 1 when the
/// imported ARL ends within `warn_days` days.
async fn status(loaded: &Loaded, authority: &Authority, warn_days: u32, json: bool) -> Result<ExitCode> {
    let now = hcpki_pkix::time::now();
    let mut cas = Vec::with_capacity(CaName::ALL.len());
    for ca in CaName::ALL {
        let cert = x509_cert::Certificate::from_der(authority.ca_certificate(ca)?)
            .map_err(|_| hcpki_ca::SigningError::DamagedCa(ca))?;
        let tbs = cert.tbs_certificate();
        cas.push((ca, tbs.subject().to_string(), hcpki_pkix::time::unix(&tbs.validity().not_after)));
    }
    let arl = authority.revoker().root_crl().await?;
    let lapsing = arl.as_ref().filter(|a| a.next_update - now.as_secs() < i64::from(warn_days) * 86_400);
    let warning = lapsing.is_some();
    if json {
        let cas: Vec<_> = cas
            .iter()
            .map(|(ca, subject, not_after)| {
                let key_uri = authority.ca_key_uri(*ca).unwrap_or_default();
                json!({ "ca": ca.as_str(), "subject": subject, "not_after": not_after, "key_uri": key_uri,
                    "key_file_absent": key_file_absent(loaded, key_uri) })
            })
            .collect();
        let root_crl = arl.as_ref().map(|a| arl_json(a, now));
        println!("{}", json!({ "cas": cas, "root_crl": root_crl, "warn_days": warn_days, "warning": warning }));
    } else {
        for (ca, subject, not_after) in &cas {
            let key_uri = authority.ca_key_uri(*ca)?;
            let absent = if key_file_absent(loaded, key_uri) { " (not on this machine)" } else { "" };
            println!("{:<7} {:<40} until {}  key {key_uri}{absent}", ca.as_str(), subject, rfc3339(*not_after));
        }
        match &arl {
            Some(a) => println!(
                "root CRL: imported ARL number {}, thisUpdate {}, nextUpdate {} ({}), {} revoked CA certificate(s), \
                 imported {} by {}",
                a.number,
                rfc3339(a.this_update),
                rfc3339(a.next_update),
                left(a.next_update, now),
                a.entries,
                rfc3339(a.imported_at),
                a.imported_by
            ),
            None => println!(
                "root CRL: no ARL imported; `hcpki serve` signs it on demand with the root key (a machine that keeps \
                 its root key; with the root offline, import one with `hcpki ca import-arl`)"
            ),
        }
    }
    if let Some(a) = lapsing {
        eprintln!(
            "WARNING: the served root CRL (ARL) has its nextUpdate {} ({}), within {warn_days} days: every chain \
             through the root fails at relying parties that check it after that; hold a ceremony (`hcpki ca \
             sign-arl`) and import the new ARL",
            rfc3339(a.next_update),
            left(a.next_update, now)
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `key_uri` names a key file that does not exist (the offline root online). Only looked up, never
/// opened; a PKCS#11 object is not looked up (that would need a session on the token): `false`.
fn key_file_absent(loaded: &Loaded, key_uri: &str) -> bool {
    match hcpki_pkix::keys::KeyUri::from_str(key_uri) {
        Ok(hcpki_pkix::keys::KeyUri::File(path)) => !loaded.dir.join(path).exists(),
        _ => false,
    }
}

fn arl_json(a: &ImportedCrl, now: UnixTime) -> serde_json::Value {
    json!({
        "crl_number": a.number,
        "this_update": a.this_update,
        "next_update": a.next_update,
        "seconds_left": a.next_update - now.as_secs(),
        "entries": a.entries,
        "sha256": a.sha256,
        "imported_at": a.imported_at,
        "imported_by": a.imported_by,
    })
}

/// "N days from now", or "N days ago: lapsed" (`next_update` in Unix seconds, as the CRL and its row hold it).
fn left(next_update: i64, now: UnixTime) -> String {
    let now = now.as_secs();
    let days = (next_update - now).abs() / 86_400;
    if next_update > now { format!("{days} days from now") } else { format!("{days} days ago: lapsed") }
}
