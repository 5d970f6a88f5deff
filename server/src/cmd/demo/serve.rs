//! `hcpki demo --serve`: after the demo's issuance journey, the same directory served as `hcpki serve` serves
//! it, with the SSO portal, the operator console and a demo password + TOTP account, so a newcomer can open
//! the pages in a browser (issue #26 item 6, D61). Nothing here serves anything itself: it writes the
//! configuration a real installation would have (`[portal]`, `[console] url`, `[login]`) and starts
//! [`crate::cmd::serve`].

use crate::args::Global;
use crate::cmd::serve::ServeArgs;
use crate::config::{Loaded, PortalConfig};
use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use clap::Args;
use hcpki_ca::{Authority, FacilityId};
use hcpki_sso::totp;
use hcpki_sso::{accounts, secret::PortalSecret};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `--serve` and where it listens.
#[derive(Debug, Args)]
pub struct ServeDemoArgs {
    /// After the demo, keep the server running (until Ctrl-C) with the portal, the console and a demo account.
    #[arg(long)]
    pub serve: bool,
    /// With --serve: the HTTPS listener (the console, the APIs). A real port: the console's sign-in returns to it.
    #[arg(long, default_value = "127.0.0.1:8443", requires = "serve")]
    pub https_addr: SocketAddr,
    /// With --serve: the plain-HTTP listener (health, SCEP, CRLs).
    #[arg(long, default_value = "127.0.0.1:8080", requires = "serve")]
    pub http_addr: SocketAddr,
    /// With --serve: the SSO portal's HTTPS listener.
    #[arg(long, default_value = "127.0.0.1:8444", requires = "serve")]
    pub portal_addr: SocketAddr,
    /// With --serve: a virtual HPKI card's identity directory (`hcpki-vcard --identity DIR`): card login
    /// trusts its test CAs. Card login also needs pcscd (scripts/pcsc-stack start) and the card agent.
    #[arg(long, value_name = "DIR", requires = "serve")]
    pub card_identity: Option<PathBuf>,
    /// With --serve: the card agent's port on 127.0.0.1 (the only address a portal page may reach it at): the
    /// login page talks to it, and the agent command the demo prints listens there.
    #[arg(long, default_value_t = 7717, value_parser = clap::value_parser!(u16).range(1..), requires = "serve")]
    pub agent_port: u16,
}

/// A certificate the demo issued for a device, with the key it made.
pub struct IssuedDevice {
    pub pkcs8: zeroize::Zeroizing<Vec<u8>>,
    pub der: Vec<u8>,
    pub record: hcpki_ca::store::CertificateRecord,
}

/// What the demo's first part made that serving needs.
pub struct Demo<'a> {
    pub dir: &'a Path,
    pub facility: &'a FacilityId,
    pub pc: IssuedDevice,
}

/// The demo account's login name (its console person key is `pwd:demo`).
const USERNAME: &str = "demo";
/// The demo services: one a password + TOTP login opens, one that needs a card at a facility PC, so the home
/// page shows both what opens and what does not and why.
const SERVICES: &str = r#"version = 1
[[service]]
id = "wiki"
name = "職員 wiki (Staff wiki)"
roles = []
facility_kinds = ["*"]
min_assurance = "password-totp"
claims = ["name", "facility_id", "facility_name", "acr", "amr"]

[[service]]
id = "emr"
name = "電子カルテ (EMR)"
roles = ["*"]
facility_kinds = ["clinic", "hospital"]
min_assurance = "card-pin-facility"
claims = ["name", "hc_role", "facility_id", "facility_name"]
"#;

/// Configure the portal and console in `demo.dir`, add the demo account, print what to open, and serve until
/// SIGINT/SIGTERM.
pub async fn run(
    demo: &Demo<'_>,
    authority: Authority,
    database_url: Option<&str>,
    args: &ServeDemoArgs,
) -> Result<ExitCode> {
    if args.https_addr.port() == 0 {
        bail!("--https-addr needs a real port (the console's sign-in returns to it): e.g. 127.0.0.1:8443");
    }
    let card = CardLogin::probe(args.card_identity.as_deref())?;
    let mut loaded = Loaded::read(demo.dir, database_url)?;
    let agent_addr = SocketAddr::from(([127, 0, 0, 1], args.agent_port));
    let agent_origin = format!("http://{agent_addr}");
    let portal: PortalConfig = toml::from_str(&format!(
        "listen = \"{}\"\nservices = \"services.toml\"\ncard_agent = \"{agent_origin}\"\n",
        args.portal_addr
    ))
    .context("the demo's [portal] section")?;
    let console_url = format!("https://127.0.0.1:{}", args.https_addr.port());
    loaded.config.console.url = Some(console_url.clone());
    if let CardLogin::On { root, intermediate } = &card {
        loaded.config.login.hpki_anchors = vec![root.clone()];
        loaded.config.login.intermediates = vec![intermediate.clone()];
        // The virtual cards' test CAs publish no CRL.
        loaded.config.login.revocation = hcpki_sso::login::RevocationPolicy::FailOpen;
    }
    std::fs::write(demo.dir.join("services.toml"), SERVICES)?;
    let secret = PortalSecret::load_or_create(&demo.dir.join(&portal.secret_file))?;
    loaded.config.portal = Some(portal);
    crate::config::rewrite(demo.dir, &loaded.config)?;

    let account = add_account(&authority, &secret, demo.facility).await?;
    let out = demo.dir.join("out");
    let p12_passphrase = write_pc_p12(&authority, &demo.pc, &out.join("pc.p12"))?;
    // The server opens the directory itself, as `hcpki serve` does.
    drop(authority);

    let portal_url = format!("https://localhost:{}", args.portal_addr.port());
    let o = out.display();
    println!();
    println!("serving the demo: open these in a browser on this machine");
    println!("  portal   {portal_url}/");
    println!("  console  {console_url}/console/");
    println!();
    println!("trust the demo's CAs first (the server certificate chains to the root):");
    println!("  import {o}/root-ca.pem as a trusted certificate authority (e.g. Firefox: Settings → Certificates)");
    println!("this browser is the facility's PC: import its certificate (the portal and console ask for it)");
    println!("  {o}/pc.p12   passphrase: {}", p12_passphrase.as_str());
    println!("  ({})", crate::output::PASSPHRASE_AS_SHOWN);
    println!();
    println!("demo account (password + TOTP; the facility's administrator in the console)");
    println!("  username  {USERNAME}");
    println!("  password  {}", account.password.as_str());
    println!("  TOTP      code now: {:06} (a new one every 30 s)", account.code_now);
    println!("            add it to an authenticator app: {}", account.otpauth);
    println!("            or compute one: oathtool --totp -b {}", account.secret_base32.as_str());
    println!();
    card.print(&portal_url, &out, agent_addr)?;
    println!();
    println!("stop with Ctrl-C");
    super::super::serve::run(
        &Global { dir: demo.dir.to_path_buf(), database_url: database_url.map(str::to_owned) },
        &ServeArgs { https_addr: args.https_addr, http_addr: args.http_addr, server_names: Vec::new(), drain_secs: 0 },
    )
    .await
}

/// The demo account as printed once.
struct Account {
    password: zeroize::Zeroizing<String>,
    secret_base32: zeroize::Zeroizing<String>,
    otpauth: String,
    code_now: u32,
}

/// The demo account: a random password and TOTP secret, the console's facility administrator of the demo
/// facility, allowed to act with password + TOTP there (a real facility decides that: issue #24 item 7).
async fn add_account(authority: &Authority, secret: &PortalSecret, facility: &FacilityId) -> Result<Account> {
    // 12 random bytes: 16 base64url characters, short enough to type, far past guessing.
    let password = zeroize::Zeroizing::new(B64.encode(hcpki_pkix::keys::random_secret(12)?.as_slice()));
    let actor = super::super::actor();
    let now = hcpki_pkix::time::now_unix_ms();
    let store = authority.store().as_ref();
    let added = accounts::add(store, secret, USERNAME, "デモ 医師", None, password.as_bytes(), &actor, now).await?;
    authority
        .registrar()
        .grant_console(&format!("pwd:{USERNAME}"), "facility-admin", Some(facility.as_str()), "hcpki demo", &actor)
        .await?;
    authority.registrar().set_admin_password_totp(facility, true, &actor).await?;
    let code_now = totp::code(&added.totp_secret, totp::step_at(hcpki_pkix::time::now_unix()));
    Ok(Account {
        password,
        secret_base32: zeroize::Zeroizing::new(totp::base32(&added.totp_secret)),
        otpauth: totp::otpauth_uri("hcpki demo", USERNAME, &added.totp_secret),
        code_now,
    })
}

/// The facility PC's certificate and key as a browser imports them, under a fresh passphrase (returned).
fn write_pc_p12(authority: &Authority, pc: &IssuedDevice, path: &Path) -> Result<zeroize::Zeroizing<String>> {
    let (file, passphrase) = crate::output::device_pkcs12(authority, &pc.pkcs8, &pc.der, &pc.record)?;
    crate::output::write_private(path, &file)?;
    Ok(passphrase)
}

/// Whether the portal offers card login, and why not when it does not.
enum CardLogin {
    /// pcscd does not answer: no reader, so no card.
    NoPcscd { socket: PathBuf },
    /// pcscd answers, but no virtual card's CAs were given to trust.
    NoIdentity,
    /// Card login trusts this root and authentication CA.
    On { root: PathBuf, intermediate: PathBuf },
}

impl CardLogin {
    fn probe(identity: Option<&Path>) -> Result<Self> {
        let socket = pcscd_socket();
        // pcscd's clients (libpcsclite, the card agent) talk to it over this socket; connecting is how
        // SCardEstablishContext finds it there, without linking libpcsclite into the server for one check.
        if std::os::unix::net::UnixStream::connect(&socket).is_err() {
            return Ok(Self::NoPcscd { socket });
        }
        let Some(dir) = identity else { return Ok(Self::NoIdentity) };
        let dir = std::path::absolute(dir).with_context(|| format!("the card identity {}", dir.display()))?;
        let (root, intermediate) = (dir.join("root-ca.pem"), dir.join("authentication-ca.pem"));
        for f in [&root, &intermediate] {
            if !f.is_file() {
                bail!(
                    "{} is missing: --card-identity names the directory of an HPKI virtual card \
                     (hcpki-vcard --kind hpki --identity DIR)",
                    f.display()
                );
            }
        }
        Ok(Self::On { root, intermediate })
    }

    /// What the newcomer does next: the commands to type, with programs and paths as this PC has them.
    fn print(&self, portal_url: &str, out: &Path, agent_addr: SocketAddr) -> Result<()> {
        let vcard = format!("{} --kind hpki --netns hcpki-pcsc --identity hcpki-demo-card", program("hcpki-vcard"));
        match self {
            Self::NoPcscd { socket } => {
                println!("card login is off: pcscd is not running (nothing answers at {}).", socket.display());
                println!("  start it with scripts/pcsc-stack start (as root), insert the virtual HPKI card with");
                println!("  {vcard}");
                println!("  and run a new demo with --serve --card-identity hcpki-demo-card;");
                println!("  password + TOTP login works meanwhile.");
            }
            Self::NoIdentity => {
                println!("card login is off: pcscd is running, but no virtual card's CAs were given to trust.");
                println!("  insert the virtual HPKI card (as root): {vcard}");
                println!("  and run a new demo with --serve --card-identity hcpki-demo-card.");
            }
            Self::On { root, .. } => {
                let ca = std::path::absolute(out.join("root-ca.pem")).context("the demo's root CA file")?;
                println!("card login is on: the portal trusts the virtual HPKI card under {}", root.display());
                println!("  1. keep the card in its reader (hcpki-vcard running); start the card agent in a terminal:");
                println!(
                    "     {} serve --listen {agent_addr} --allow-origin {portal_url} --portal-ca-file {}",
                    program("hcpki-agent"),
                    shell_word(&ca.display().to_string())
                );
                println!(
                    "  2. press 「HPKI カードでログイン」 on the portal and type the card's \"authentication PIN\""
                );
                println!("     (hcpki-vcard printed it) in the agent's PIN window: the home page then shows the card");
                println!("     holder, their qualification and the services the card opens at this PC.");
            }
        }
        Ok(())
    }
}

/// How to run the workspace program `name` here: the one built beside this `hcpki` (a source tree's
/// `target/release` after `cargo build --release`, as the README says), else the name, for one on `PATH`.
fn program(name: &str) -> String {
    let sibling = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(name)));
    sibling.filter(|p| p.is_file()).map_or_else(|| name.to_owned(), |p| shell_word(&p.display().to_string()))
}

/// `word` as one shell word: as it is when it holds nothing a shell treats specially, else single-quoted, so a
/// printed command can be pasted whatever the directory's name.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-:+=@,%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The PC/SC daemon's socket: libpcsclite's `PCSCLITE_CSOCK_NAME` override, else its default path.
fn pcscd_socket() -> PathBuf {
    std::env::var_os("PCSCLITE_CSOCK_NAME").map_or_else(|| PathBuf::from("/run/pcscd/pcscd.comm"), PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn printed_paths_paste_as_one_shell_word() {
        assert_eq!(shell_word("/home/a/hcpki-demo/out/root-ca.pem"), "/home/a/hcpki-demo/out/root-ca.pem");
        assert_eq!(shell_word("/home/a/my demo/root-ca.pem"), "'/home/a/my demo/root-ca.pem'");
        assert_eq!(shell_word("/tmp/it's/ca.pem"), "'/tmp/it'\\''s/ca.pem'");
        assert_eq!(shell_word("/tmp/$HOME"), "'/tmp/$HOME'");
        assert_eq!(shell_word(""), "''");
    }
}
