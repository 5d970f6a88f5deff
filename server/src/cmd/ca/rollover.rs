//! `hcpki ca rollover CA start|status|switch|retire|abort` (issue #47, D145): the CLI over the authority's
//! rollover, which the admin API calls too. Run where the root key is for `start` (it signs the new CA), like
//! `init`; the other steps need the database only.

use crate::args::value;
use anyhow::Result;
use clap::{Args, Subcommand};
use der::Decode as _;
use hcpki_ca::authority::{KeyPlacement, RolloverOptions, RolloverStatus};
use hcpki_ca::issuer::der_to_pem;
use hcpki_ca::store::rollover::{RolloverRecord, RolloverStep};
use hcpki_ca::{Authority, CaName};
use hcpki_pkix::keys::KeyAlgorithm;
use hcpki_pkix::time::rfc3339;
use serde_json::json;
use std::process::ExitCode;

/// `hcpki ca rollover CA …`.
#[derive(Debug, Args)]
pub struct RolloverArgs {
    /// The CA to roll over: root (a new root under the same name and link certificates both ways, D160), router,
    /// pc or server.
    #[arg(value_parser = value::ca())]
    pub ca: CaName,
    #[command(subcommand)]
    pub verb: Verb,
}

/// The steps of a rollover.
#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Make a new key and a certificate for it under the current root (linted, audited) and publish it beside
    /// the old generation (EST cacerts, SCEP GetNextCACert); the old one keeps issuing until `switch`. For the
    /// root: a new self-signed root and the link certificates both ways. Needs the root key on this machine.
    Start {
        /// Make the new key on this PKCS#11 token (of the configured module) instead of beside the old key.
        #[arg(long)]
        pkcs11_token_label: Option<String>,
        /// Make the new key as software (an encrypted PKCS#8 file under keys/) instead of beside the old key.
        #[arg(long, conflicts_with = "pkcs11_token_label")]
        software: bool,
        /// The new key's algorithm (default: the old key's).
        #[arg(long, value_parser = value::key_algorithm())]
        algorithm: Option<KeyAlgorithm>,
    },
    /// Where the rollover stands, and the certificates still on the old generation by facility.
    Status {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The new generation issues from now on (every replica once restarted); the old one stays served.
    Switch,
    /// Take the old generation out of service. Refused while certificates of it are still valid.
    Retire {
        /// The old key is compromised: retire at once and revoke the old CA certificate (cACompromise).
        #[arg(long)]
        compromised: bool,
    },
    /// Drop the new generation before the switch; the old one goes on as before.
    Abort,
}

/// Run one rollover verb; exit 1 from `status` while certificates remain on the old generation.
pub async fn run(authority: &Authority, args: RolloverArgs) -> Result<ExitCode> {
    let ca = args.ca;
    let actor = super::super::actor();
    let step = match args.verb {
        Verb::Start { pkcs11_token_label, software, algorithm } => {
            let placement = match (pkcs11_token_label, software) {
                (Some(token), _) => Some(KeyPlacement::Pkcs11 { token }),
                (None, true) => Some(KeyPlacement::Software),
                (None, false) => None,
            };
            let record = authority.rollover_start(ca, &RolloverOptions { placement, algorithm }, &actor).await?;
            eprintln!(
                "started the rollover of the {ca} CA to generation {} ({}), key {}; both generations are served \
                 now, the old one still issues. Restart every replica so it serves the new one, then run `hcpki \
                 ca rollover {ca} switch` when devices have fetched it",
                record.generation,
                subject(&record.cert_der),
                record.key_uri
            );
            return Ok(ExitCode::SUCCESS);
        }
        Verb::Status { json } => return status(authority, ca, json).await,
        Verb::Switch => RolloverStep::Switch,
        Verb::Retire { compromised } => RolloverStep::Retire { compromised },
        Verb::Abort => RolloverStep::Abort,
    };
    let record = authority.rollover_step(ca, step, &actor).await?;
    eprintln!("{}", done(&record, step));
    Ok(ExitCode::SUCCESS)
}

/// What a step did, and what comes next.
fn done(record: &RolloverRecord, step: RolloverStep) -> String {
    let (ca, generation) = (record.ca, record.generation);
    match step {
        RolloverStep::Switch => format!(
            "the {ca} CA's generation {generation} issues from now on; restart every replica so it does there too. \
             The old generation stays served; `hcpki ca rollover {ca} status` shows who still holds it"
        ),
        RolloverStep::Retire { compromised: true } => format!(
            "retired the {ca} CA's old generation as compromised and revoked its CA certificate: sign and import \
             a new ARL at once (`hcpki ca sign-arl` at the ceremony, then `hcpki ca import-arl`)"
        ),
        RolloverStep::Retire { .. } => {
            format!("retired the {ca} CA's old generation; generation {generation} alone is served")
        }
        RolloverStep::Abort => {
            format!(
                "aborted the rollover of the {ca} CA to generation {generation}; the old generation goes on as before"
            )
        }
    }
}

async fn status(authority: &Authority, ca: CaName, json: bool) -> Result<ExitCode> {
    let status: RolloverStatus = authority.rollover_status(ca).await?;
    let old = status.old_certificates();
    if json {
        let latest = status.latest.as_ref().map(|r| {
            json!({ "generation": r.generation, "state": r.state.as_str(), "key_uri": r.key_uri,
                "subject": subject(&r.cert_der), "old_key_uri": r.old_key_uri, "started_at": r.started_at,
                "started_by": r.started_by, "switched_at": r.switched_at, "ended_at": r.ended_at,
                "ended_by": r.ended_by, "compromised": r.compromised,
                "cert_pem": der_to_pem("CERTIFICATE", &r.cert_der),
                "old_cert_pem": der_to_pem("CERTIFICATE", &r.old_cert_der),
                "links": crate::http::admin::rollover::links_json(r) })
        });
        let holders: Vec<_> =
            status.old_holders.iter().map(|(f, n)| json!({ "facility": f, "certificates": n })).collect();
        println!(
            "{}",
            json!({ "ca": ca.as_str(), "rollover": latest, "old_certificates": old, "old_holders": holders,
                "crls": status.crls })
        );
    } else {
        match &status.latest {
            None => println!("{ca}: never rolled over (generation 1)"),
            Some(r) => {
                println!(
                    "{ca}: generation {} ({}) {} since {} by {}",
                    r.generation,
                    subject(&r.cert_der),
                    r.state,
                    rfc3339(r.switched_at.or(r.ended_at).unwrap_or(r.started_at)),
                    r.ended_by.as_deref().unwrap_or(&r.started_by)
                );
                for crl in &status.crls {
                    let role = if crl.issuing { "issuing" } else { "previous, answered for until retired" };
                    println!(
                        "  CRL of generation {} ({role}): {} revoked, at {}",
                        crl.generation, crl.revoked, crl.url
                    );
                }
                if r.state.is_open() {
                    println!("{old} certificate(s) still valid on the old generation");
                    for (facility, n) in &status.old_holders {
                        println!("  {:<14} {n}", facility.as_deref().unwrap_or("(no facility)"));
                    }
                }
            }
        }
    }
    Ok(if old > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// A certificate's subject, for the messages.
fn subject(der: &[u8]) -> String {
    x509_cert::Certificate::from_der(der).map(|c| c.tbs_certificate().subject().to_string()).unwrap_or_default()
}
