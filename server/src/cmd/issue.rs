//! `hcpki issue`.

use crate::cli::IssueArgs;
use anyhow::{Context, Result};
use hcpki_ca::authority::IssueRequest;
use hcpki_ca::profile::{ProfileKind, RouterEku, Vendor};
use hcpki_ca::{Authority, CaName};
use std::io::Read;
use std::process::ExitCode;
use std::str::FromStr;

pub async fn run(authority: &Authority, args: &IssueArgs) -> Result<ExitCode> {
    let csr = if args.csr.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::stdin().read_to_end(&mut v).context("cannot read the CSR from standard input")?;
        v
    } else {
        std::fs::read(&args.csr).with_context(|| format!("cannot read CSR file {}", args.csr.display()))?
    };
    let router_eku = match (&args.eku, &args.vendor) {
        (Some(e), _) => Some(RouterEku::from_str(e)?),
        (None, Some(v)) => Some(Vendor::from_str(v)?.eku()),
        (None, None) => None,
    };
    let profile = ProfileKind::from_str(&args.profile)?;
    if profile == ProfileKind::Ocsp && args.ocsp_for.is_none() {
        anyhow::bail!("--profile ocsp needs --ocsp-for router|pc|server: an OCSP signer answers for one issuing CA");
    }
    if profile == ProfileKind::Operator {
        anyhow::bail!("operator certificates are issued with `hcpki operator add NAME --role … --csr … --out …`");
    }
    let request = IssueRequest {
        profile,
        facility: args.facility.clone(),
        csr: csr.into(),
        sans: args.san.clone(),
        device: args.device.clone(),
        router_eku,
        ocsp_for: args.ocsp_for.as_deref().map(CaName::from_str).transpose()?,
        not_after: args.not_after.as_deref().map(parse_rfc3339).transpose()?,
    };
    let (issued, record) = authority.issue(&request, &super::actor()).await?;
    match &args.out {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::write(p, issued.pem()).with_context(|| format!("cannot write {}", p.display()))?;
        }
        _ => print!("{}", issued.pem()),
    }
    eprintln!(
        "issued {} certificate serial {} ({}){}",
        record.profile,
        record.serial,
        record.sans.join(", "),
        record.facility.map(|f| format!(" for facility {f}")).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// `--not-after`: an RFC 3339 time as Unix seconds.
fn parse_rfc3339(text: &str) -> Result<i64> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("--not-after {text:?} is not an RFC 3339 time such as 2027-03-31T23:59:59Z"))?;
    Ok(t.unix_timestamp())
}
