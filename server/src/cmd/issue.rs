//! `hcpki issue`.

use crate::args::value;
use anyhow::{Context, Result};
use clap::Args;
use hcpki_ca::Authority;
use hcpki_ca::CaName;
use hcpki_ca::authority::IssueRequest;
use hcpki_ca::facility::FacilityId;
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::profile::RouterEku;
use hcpki_ca::profile::Vendor;
use hcpki_ca::store::CertificateRecord;
use hcpki_pkix::keys::KeyAlgorithm;
use hcpki_pkix::keys::SoftwareKey;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The profile (`operator` certificates come from `hcpki operator add`).
    #[arg(long, value_parser = value::profile())]
    pub profile: ProfileKind,
    /// The facility (router and pc profiles).
    #[arg(long)]
    pub facility: Option<FacilityId>,
    /// The CSR file (PEM or DER); `-` reads standard input.
    #[arg(long, required_unless_present = "p12", conflicts_with = "p12")]
    pub csr: Option<PathBuf>,
    /// Instead of a CSR: hcpki makes the key (see --key-type) and writes key, certificate and CA chain to this
    /// PKCS#12 file (AES-256, PBKDF2-SHA256), printing its generated passphrase once. The key is not kept.
    /// For devices without an enrollment client.
    #[arg(long)]
    pub p12: Option<PathBuf>,
    /// Key made for --p12 (default rsa2048: every router imports it).
    #[arg(long, requires = "p12", default_value = "rsa2048", value_parser = value::key_algorithm())]
    pub key_type: KeyAlgorithm,
    /// Subject alternative name: a DNS name or an IP address (repeatable).
    #[arg(long)]
    pub san: Vec<String>,
    /// Device identifier for pc certificates (default: derived from the key).
    #[arg(long)]
    pub device: Option<String>,
    /// Router EKU variant.
    #[arg(long, conflicts_with = "vendor", value_parser = value::router_eku())]
    pub eku: Option<RouterEku>,
    /// Router vendor, choosing the EKU variant.
    #[arg(long, value_parser = value::vendor())]
    pub vendor: Option<Vendor>,
    /// For --profile ocsp: the issuing CA the signer answers for.
    #[arg(long, value_parser = value::ca())]
    pub ocsp_for: Option<CaName>,
    /// End the validity at this RFC 3339 time (e.g. 2027-03-31T23:59:59Z) instead of the profile's lifetime;
    /// never later than it.
    #[arg(long, value_parser = value::rfc3339)]
    pub not_after: Option<i64>,
    /// Where to write the certificate (PEM); `-` or omitted: standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The facility's registered router the certificate is for (`hcpki router list`; router profile): it must
    /// be registered for certificates; required while only approved models are accepted (D168).
    #[arg(long)]
    pub router: Option<String>,
}

pub async fn run(authority: &Authority, args: &IssueArgs) -> Result<ExitCode> {
    // With --p12 the key is made here and never written anywhere but the passphrase-protected file.
    let (csr, p12_key) = match (&args.csr, &args.p12) {
        (Some(path), _) => (read_csr(path)?, None),
        (None, Some(_)) => {
            let (key, pkcs8) = SoftwareKey::generate_device_key(args.key_type)?;
            (hcpki_ca::csr::build(&key, x509_cert::name::Name::default())?, Some(pkcs8))
        }
        (None, None) => anyhow::bail!("give --csr FILE, or --p12 FILE for a key made by hcpki"),
    };
    let router_eku = args.eku.or(args.vendor.map(|v| v.eku()));
    let profile = args.profile;
    if profile == ProfileKind::Ocsp && args.ocsp_for.is_none() {
        anyhow::bail!("--profile ocsp needs --ocsp-for router|pc|server: an OCSP signer answers for one issuing CA");
    }
    if profile == ProfileKind::Operator {
        anyhow::bail!("operator certificates are issued with `hcpki operator add NAME --role … --csr … --out …`");
    }
    let request = IssueRequest {
        profile,
        // The authority takes the facility as text (the API's and enrollment's callers share that entry).
        facility: args.facility.clone(),
        csr: csr.into(),
        sans: args.san.clone(),
        device: args.device.clone(),
        // Held to the router register by the pipeline, as every front end's router certificates (D174).
        router: args.router.clone(),
        router_eku,
        ocsp_for: args.ocsp_for,
        not_after: args.not_after,
    };
    let (issued, record) = authority.pipeline().issue(&request, &super::actor()).await?;
    if let (Some(path), Some(pkcs8)) = (&args.p12, &p12_key) {
        write_p12(authority, path, pkcs8, &issued.der, &record)?;
    }
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

fn read_csr(path: &std::path::Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::stdin().read_to_end(&mut v).context("cannot read the CSR from standard input")?;
        Ok(v)
    } else {
        std::fs::read(path).with_context(|| format!("cannot read CSR file {}", path.display()))
    }
}

/// The PKCS#12 file of a key made by `--p12`: key, certificate and the issuing CA's chain, under a fresh
/// passphrase that is printed once (standard error, like the issuance line) and stored nowhere.
fn write_p12(
    authority: &Authority,
    path: &std::path::Path,
    pkcs8: &[u8],
    leaf: &[u8],
    record: &CertificateRecord,
) -> Result<()> {
    let (file, passphrase) = crate::output::device_pkcs12(authority, pkcs8, leaf, record)?;
    super::demo::write_private(path, &file)?;
    eprintln!(
        "wrote {} (key, certificate, CA chain; AES-256, PBKDF2-SHA256)\npassphrase: {}\n\
         The passphrase is shown only now and is not stored: give it to the installer separately; {}.",
        path.display(),
        passphrase.as_str(),
        crate::output::PASSPHRASE_AS_SHOWN
    );
    Ok(())
}
