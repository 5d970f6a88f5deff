//! `hcpki revoke` and `hcpki crl`.

use crate::args::value;
use anyhow::{Context, Result};
use clap::Args;
use hcpki_ca::Authority;
use hcpki_ca::CaName;
use hcpki_ca::issuer::der_to_pem;
use hcpki_ca::revocation::Reason;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The certificate's serial (hex, as `hcpki cert list` shows it; `:` and `0x` allowed).
    #[arg(long, value_parser = value::serial)]
    pub serial: hcpki_ca::serial::SerialHex,
    /// RFC 5280 reason (any case; `-` and `_` ignored, e.g. key-compromise).
    #[arg(long, default_value = "unspecified", value_parser = value::reason())]
    pub reason: Reason,
}

#[derive(Debug, Args)]
pub struct CrlArgs {
    /// The CA.
    #[arg(long, value_parser = value::ca())]
    pub ca: CaName,
    /// One shard of the pc CA's partitioned CRL (`pc_crl_shards`), instead of the complete CRL.
    #[arg(long)]
    pub shard: Option<u16>,
    /// The CA generation whose CRL to sign (default: the one that issues; after a rollover's switch the
    /// previous one signs its own certificates' CRL, `hcpki ca rollover <ca> status` lists them).
    #[arg(long)]
    pub generation: Option<u32>,
    /// Where to write it (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// PEM instead of DER.
    #[arg(long)]
    pub pem: bool,
}

pub async fn revoke(authority: &Authority, args: &RevokeArgs) -> Result<ExitCode> {
    let reason = args.reason;
    let record = authority.revoker().revoke(&args.serial, reason, &super::actor()).await?;
    eprintln!(
        "certificate {} ({}, facility {}) revoked: {reason}; it is on the {} CA's next CRL",
        record.serial,
        record.profile,
        record.facility.as_ref().map_or("-", |f| f.as_str()),
        record.ca
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn crl(authority: &Authority, args: &CrlArgs) -> Result<ExitCode> {
    let ca = args.ca;
    let revoker = authority.revoker();
    let generation = args.generation.unwrap_or_else(|| revoker.current_scope(ca).generation());
    let scope = revoker.crl_scope(ca, generation, args.shard).await?;
    let der = authority.revoker().crl(scope).await?;
    let bytes = if args.pem { der_to_pem("X509 CRL", &der).into_bytes() } else { der };
    match &args.out {
        Some(path) => std::fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(&bytes).context("cannot write the CRL to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
