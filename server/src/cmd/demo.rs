//! `hcpki demo`: the whole issuance journey in a fresh directory, on the
//! embedded defaults (SQLite, software keys), ending with the exact
//! `openssl verify` commands to check the result independently. With `--serve` it then keeps the server
//! running with the portal, the console and a demo account ([`serve`]).

mod serve;

use super::init::InitArgs;
use crate::args::Global;
use crate::config::Loaded;
use anyhow::{Context, Result, bail};
use clap::Args;
use hcpki_ca::authority::IssueRequest;
use hcpki_ca::facility::{FacilityId, FacilityKind, NewFacility, Transition};
use hcpki_ca::issuer::der_to_pem;
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::{Authority, CaName};
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to create the demo (must not exist yet, or be empty). Default: ./hcpki-demo, or
    /// ./hcpki-demo-2, -3, … when earlier demos are there.
    #[arg(long = "out")]
    pub out: Option<PathBuf>,
    /// `--serve` and its listeners: keep the server running afterwards.
    #[command(flatten)]
    pub serving: serve::ServeDemoArgs,
}

pub async fn run(args: &DemoArgs, global: &Global) -> Result<ExitCode> {
    // `--out` names the demo directory; so does an explicit `--dir`/HCPKI_DIR (anything but the default
    // "."), so the demo honours the option every command takes. Otherwise a fresh ./hcpki-demo[-N].
    let chosen = match (&args.out, global.dir.as_path()) {
        (Some(d), _) => d.clone(),
        (None, d) if d != Path::new(".") => d.to_path_buf(),
        (None, _) => (1..)
            .map(|n| if n == 1 { "hcpki-demo".into() } else { std::path::PathBuf::from(format!("hcpki-demo-{n}")) })
            .find(|p: &std::path::PathBuf| !p.exists())
            .unwrap_or_else(|| "hcpki-demo".into()),
    };
    let dir = &chosen;
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{} exists and is not empty; pass --out NEWDIR or remove it", dir.display());
    }
    let database_url = global.database_url.as_deref();
    let init = InitArgs {
        pkcs11_module: None,
        pkcs11_token_label: None,
        pkcs11_pin_file: None,
        passphrase_file: None,
        passphrase_credential: None,
        key_types: vec![],
        organization: "hcpki demo".into(),
        router_zone: "router.hcpki.example".into(),
        identity_domain: "hcpki.example".into(),
        http_base_url: http_base_url(args.serving.http_addr)?,
    };
    super::init::run(dir, database_url, &init).await?;
    let loaded = Loaded::read(dir, database_url)?;
    let store = hcpki_ca::store::open(&loaded.database_url).await?;
    let authority = Authority::load(store, loaded.key_context(), loaded.config.profiles.clone()).await?;
    let actor = super::actor();

    let new = NewFacility::new(
        "さくら内科クリニック",
        FacilityKind::Clinic,
        Some("0110113719"),
        Some("北海道札幌市中央区北1条西2丁目"),
        Some("03-0000-0000 事務長"),
    )?;
    let facility = authority.registrar().register_facility(&new, &actor).await?;
    authority.registrar().transition(&facility.id, Transition::Approve, Some("demo"), &actor).await?;
    // Router certificates carry only addresses allocated to their facility (issue #24, item 2).
    for prefix in DEMO_ALLOCATIONS {
        authority.registrar().add_allocation(facility.id.as_str(), prefix, &actor).await?;
    }
    let out = dir.join("out");
    std::fs::create_dir_all(&out)?;

    let router_dns = authority.settings().router_dns_name(&facility.id);
    let (router, _) = issue(
        &authority,
        &out,
        "router",
        KeyAlgorithm::Rsa2048,
        ProfileKind::Router,
        &facility.id,
        vec![router_dns.clone(), "192.0.2.1".into(), "2001:db8::1".into()],
        None,
    )
    .await?;
    let (pc, pc_issued) =
        issue(&authority, &out, "pc", KeyAlgorithm::P256, ProfileKind::Pc, &facility.id, vec![], Some("pc-01".into()))
            .await?;
    for ca in CaName::ALL {
        std::fs::write(out.join(format!("{ca}-ca.pem")), der_to_pem("CERTIFICATE", authority.ca_certificate(ca)?))?;
    }
    let o = out.display();
    println!("hcpki demo in {}", dir.display());
    println!();
    println!("facility {}  さくら内科クリニック (clinic, 医療機関コード 0110113719), approved", facility.id);
    println!("  address allocations: {}", DEMO_ALLOCATIONS.join(", "));
    println!("  router identity names: {router_dns}, 192.0.2.1, 2001:db8::1");
    println!();
    println!("router certificate  {o}/router.pem   key {o}/router.key   serial {router}");
    println!("PC certificate      {o}/pc.pem       key {o}/pc.key       serial {pc}");
    println!("CA certificates     {o}/root-ca.pem  {o}/router-ca.pem  {o}/pc-ca.pem  {o}/server-ca.pem");
    println!();
    println!("verify them independently with OpenSSL:");
    let cmds = [
        format!("openssl verify -x509_strict -CAfile {o}/root-ca.pem -untrusted {o}/router-ca.pem {o}/router.pem"),
        format!(
            "openssl verify -x509_strict -purpose sslclient -CAfile {o}/root-ca.pem -untrusted {o}/pc-ca.pem {o}/pc.pem"
        ),
    ];
    for c in &cmds {
        println!("  {c}");
    }
    println!("inspect: openssl x509 -in {o}/router.pem -noout -text");
    println!("more:    hcpki --dir {} cert list    |    hcpki --dir {} audit verify", dir.display(), dir.display());
    if which_openssl() {
        println!();
        for c in &cmds {
            let args: Vec<&str> = c.split_whitespace().skip(1).collect();
            let res = std::process::Command::new("openssl").args(&args).output().context("running openssl")?;
            print!("$ {c}\n{}", String::from_utf8_lossy(&res.stdout));
            if !res.status.success() {
                eprint!("{}", String::from_utf8_lossy(&res.stderr));
                bail!("openssl verify failed");
            }
        }
    }
    if args.serving.serve {
        let demo = serve::Demo { dir, facility: &facility.id, pc: pc_issued };
        return serve::run(&demo, authority, database_url, &args.serving).await;
    }
    Ok(ExitCode::SUCCESS)
}

/// The plain-HTTP base URL the demo's certificates (CRL distribution points, AIA OCSP and CA issuers) and the
/// console's router snippets name: the `--http-addr` the demo serves, so a relying party that follows them
/// reaches this server. It is written into the fresh directory's configuration before anything is issued, so
/// the port must be known then; an unspecified address (listening everywhere) is reached at loopback. A real
/// installation sets its public URL at `hcpki init --http-base-url` and the demo never touches that.
fn http_base_url(addr: SocketAddr) -> Result<String> {
    if addr.port() == 0 {
        bail!(
            "--http-addr needs a real port (the demo's certificates name it in their CRL/OCSP URLs): e.g. 127.0.0.1:8080"
        );
    }
    let reachable = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port())),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::from((Ipv6Addr::LOCALHOST, addr.port())),
        _ => addr,
    };
    // SocketAddr's display brackets an IPv6 address, as a URL needs.
    Ok(format!("http://{reachable}"))
}

/// The demo facility's address allocations: the router certificate's addresses lie inside.
const DEMO_ALLOCATIONS: [&str; 2] = ["192.0.2.0/28", "2001:db8::/48"];

#[allow(clippy::too_many_arguments)]
async fn issue(
    authority: &Authority,
    out: &Path,
    name: &str,
    alg: KeyAlgorithm,
    profile: ProfileKind,
    facility: &FacilityId,
    sans: Vec<String>,
    device: Option<String>,
) -> Result<(String, serve::IssuedDevice)> {
    let (key, pkcs8) = SoftwareKey::generate_device_key(alg)?;
    let csr = hcpki_ca::csr::build(&key, x509_cert::name::Name::default())?;
    write_private(&out.join(format!("{name}.key")), der_to_pem("PRIVATE KEY", &pkcs8).as_bytes())?;
    let request = IssueRequest {
        profile,
        facility: Some(facility.clone()),
        csr: csr.into(),
        sans,
        device,
        router: None,
        router_eku: None,
        ocsp_for: None,
        not_after: None,
    };
    let (issued, record) = authority.pipeline().issue(&request, &super::actor()).await?;
    std::fs::write(out.join(format!("{name}.pem")), issued.pem())?;
    let serial = issued.serial.clone().into_string();
    Ok((serial, serve::IssuedDevice { pkcs8, der: issued.der, record }))
}

/// Kept at its old path for the commands that write secret files through it.
pub(crate) use crate::output::write_private;

fn which_openssl() -> bool {
    std::process::Command::new("openssl").arg("version").output().map(|o| o.status.success()).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::http_base_url;

    #[test]
    fn the_base_url_is_the_served_address_reachable() {
        let url = |a: &str| http_base_url(a.parse().unwrap()).map_err(|e| e.to_string());
        assert_eq!(url("127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(url("192.0.2.7:18080").unwrap(), "http://192.0.2.7:18080");
        assert_eq!(url("0.0.0.0:9080").unwrap(), "http://127.0.0.1:9080");
        assert_eq!(url("[::]:9080").unwrap(), "http://[::1]:9080");
        assert_eq!(url("[2001:db8::5]:80").unwrap(), "http://[2001:db8::5]:80");
        assert!(url("127.0.0.1:0").unwrap_err().contains("--http-addr needs a real port"));
    }
}
