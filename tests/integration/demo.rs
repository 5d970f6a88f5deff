//! README command 1: `hcpki demo` builds the hierarchy, registers a facility, issues a router and a PC
//! certificate, and what it leaves behind verifies with the peers it tells the reader to use. `demo --serve`
//! (issue #26 item 6) then keeps the server running: the URLs, the account and the certificates it prints are
//! enough to log in to the portal and reach the console, with pcscd the card agent command it prints logs the
//! virtual HPKI card's holder in, and SIGTERM stops it cleanly.

use crate::agent::{self, hpki};
use crate::harness::{Backend, Hcpki, free_port};
use crate::issue::{assert_subject_carries, check_router};
use crate::oidc::Reply;
use crate::pcsc_lock::pcsc_lock;
use crate::peers;
use crate::portal_card::{self, PortalBrowser};
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

on_both_backends!(
    demo_leaves_verifiable_certificates,
    demo_serve_opens_the_portal_and_the_console_with_the_printed_account,
    demo_serve_logs_in_with_the_virtual_hpki_card_as_printed,
);

fn demo_leaves_verifiable_certificates(b: Backend) {
    let h = Hcpki::new(b);
    let stdout = h.ok(&["demo"]);
    let out = h.dir().join("out");
    for f in ["router.pem", "router.key", "pc.pem", "pc.key", "root-ca.pem", "router-ca.pem", "pc-ca.pem"] {
        assert!(out.join(f).is_file(), "demo must write out/{f}; it printed:\n{stdout}");
    }
    assert!(
        stdout.contains("openssl verify") && stdout.contains(": OK"),
        "demo must print the openssl verify commands and their result:\n{stdout}"
    );

    let id = stdout
        .split_whitespace()
        .find(|w| hcpki_ca::FacilityId::parse(w).is_ok())
        .unwrap_or_else(|| panic!("demo must print the facility ID:\n{stdout}"))
        .to_owned();
    let issued = h.cert_list(Some(&id));
    assert_eq!(issued.len(), 2, "demo issues a router and a PC certificate for {id}: {issued:?}");

    let router = out.join("router.pem");
    let dns = h.router_dns_name(&id);
    check_router(&h, &router, &id, &[&format!("DNS:{dns}"), "IP Address:192.0.2.1"]);
    let pc = out.join("pc.pem");
    peers::openssl_verify(&h.chain_file("pc"), &pc, Some("sslclient"));
    peers::pkilint(&pc);
    assert_subject_carries(&pc, &id);

    for name in ["router", "pc"] {
        assert_key_matches(&out.join(format!("{name}.key")), &out.join(format!("{name}.pem")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join(format!("{name}.key"))).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{name}.key must not be readable by others (mode {mode:o})");
        }
    }
    h.ok(&["audit", "verify"]);
}

/// The private key the demo wrote belongs to the certificate it issued.
fn assert_key_matches(key: &Path, cert: &Path) {
    let spki = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let from_key = spki(&["pkey", "-in", key.to_str().unwrap(), "-pubout"]);
    let from_cert = spki(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-pubkey"]);
    assert_eq!(from_key, from_cert, "{} does not match {}", key.display(), cert.display());
}

/// `demo --serve` without pcscd (its socket pointing nowhere): the printed portal answers over HTTPS with the
/// printed CA, the printed account logs in with password + TOTP at the facility PC (the printed PKCS#12), the
/// console signs that person in as the facility's administrator, the page says card login is off and how to
/// turn it on, and SIGTERM stops the server with exit 0.
fn demo_serve_opens_the_portal_and_the_console_with_the_printed_account(b: Backend) {
    let h = Hcpki::new(b).with_env("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm");
    let demo = DemoServer::start(&h, &[]);
    let printed = &demo.printed;
    assert!(
        printed.contains("card login is off: pcscd is not running") && printed.contains("scripts/pcsc-stack start"),
        "without pcscd the demo must say card login is off and how to start pcscd:\n{printed}"
    );
    assert!(printed.contains(": OK"), "--serve keeps the demo's openssl verify steps:\n{printed}");

    let browser = Browser::at_facility_pc(&h, &demo);
    let login = browser.get(&format!("{}/login", demo.portal));
    assert_eq!(login.0, 200, "the portal's login page over HTTPS with the printed CA: {login:?}");
    let secret = demo.value("oathtool --totp -b");
    let code = crate::oidc::totp(&secret, 0);
    let user = demo.value("username");
    let password = demo.value("password");
    let form = [("username", user.as_str()), ("password", password.as_str()), ("totp", code.as_str())];
    let logged_in = browser.post(&format!("{}/login", demo.portal), &form);
    assert_eq!(logged_in.0, 303, "the printed account's password + TOTP login: {logged_in:?}");
    let home = browser.get(&format!("{}/", demo.portal));
    assert!(home.0 == 200 && home.2.contains("さくら内科クリニック"), "the home page at the demo facility: {home:?}");

    // The console's sign-in rides on the portal session: /console/login → /authorize → the callback.
    let mut next = format!("{}/login", demo.console.trim_end_matches('/'));
    let mut hops = 0;
    let page = loop {
        let r = browser.get(&next);
        if r.0 != 303 || hops > 5 {
            break r;
        }
        next = if r.1.starts_with("https://") { r.1 } else { format!("{}{}", demo.console_origin(), r.1) };
        hops += 1;
    };
    assert_eq!(page.0, 200, "the console's sign-in: {page:?}");
    let facility = demo.value("facility");
    assert!(page.2.contains(&format!("施設管理者 {facility}")), "signed in as the facility's administrator: {page:?}");
    let console = browser.get(&demo.console);
    assert!(
        console.0 == 200 && console.2.contains("さくら内科クリニック"),
        "the console shows the demo facility to its administrator: {console:?}"
    );

    demo.assert_urls_name_the_served_http_port(&h, &browser, &facility);

    let passphrase = demo.value("passphrase:");
    let log = demo.stop();
    for secret in [&password, &secret, &passphrase] {
        assert!(!log.contains(secret.as_str()), "the demo's secrets are printed once, never logged:\n{log}");
    }
}

/// With pcscd answering and a virtual HPKI card's identity to trust, the card login a newcomer does by following
/// the demo's output, end to end with the real agent and pcscd: the virtual HPKI card in a reader, the card agent
/// started from the command line the demo printed (so a wrong one fails here), the login page's script played
/// by curl (challenge, the agent's PIN page with the card's authentication PIN, the signature posted), and the
/// portal's home page with the card holder's name, qualification in words, the demo clinic and both demo
/// services (the EMR needs the card at the clinic's PC). The operator's audit log records the login at the clinic.
fn demo_serve_logs_in_with_the_virtual_hpki_card_as_printed(b: Backend) {
    let _pcsc = pcsc_lock();
    let h = Hcpki::new(b);
    let card_dir = h.path("card");
    hpki().save(&card_dir).unwrap();
    let card = agent::insert(hpki(), 0);
    let agent_port = free_port().to_string();
    let demo = DemoServer::start(&h, &["--card-identity", card_dir.to_str().unwrap(), "--agent-port", &agent_port]);
    let printed = &demo.printed;
    assert!(
        printed.contains("card login is on") && printed.contains("type the card's \"authentication PIN\""),
        "pcscd answers (scripts/pcsc-stack): card login must be on, naming the card's PIN:\n{printed}"
    );

    // The agent command as printed, run with this build's agent.
    let words = printed.lines().map(|l| l.split_whitespace().collect::<Vec<_>>());
    let typed = words
        .filter_map(|w| match w.split_first() {
            Some((program, args)) if program.ends_with("hcpki-agent") && args.first() == Some(&"serve") => {
                Some(((*program).to_owned(), args.to_vec()))
            }
            _ => None,
        })
        .next();
    let (program, args) =
        typed.unwrap_or_else(|| panic!("demo --serve must print the card agent's command line:\n{printed}"));
    assert!(program == "hcpki-agent" || Path::new(&program).is_file(), "the printed agent must run: {program}");
    let agent = agent::Served::start_typed(&args, &demo.portal);
    agent.wait_card(0, "hpki");

    let browser = Browser::at_facility_pc(&h, &demo);
    let login = browser.get(&format!("{}/login", demo.portal));
    assert!(
        login.0 == 200
            && login.2.contains("action=\"/login/card\"")
            && login.2.contains(&format!("data-agent=\"http://127.0.0.1:{agent_port}\"")),
        "the login page offers card login through the agent the demo printed: {login:?}"
    );
    let csrf = portal_card::field(&login.2, "csrf");
    let (challenge, done) = portal_card::signed_challenge(&browser, &agent, &csrf);
    let r = portal_card::post_login(&browser, &csrf, &challenge, &done);
    assert_eq!((r.status, r.location.as_str()), (303, format!("{}/", demo.portal).as_str()), "{r:?}");
    let home = browser.get(&format!("{}/", demo.portal));
    assert_eq!(home.0, 200, "{home:?}");
    for words in ["試験\u{3000}太郎", "医師", "さくら内科クリニック", portal_card::AT_FACILITY_WORDS] {
        assert!(home.2.contains(words), "{words} not on the home page: {home:?}");
    }
    assert_eq!(portal_card::listed_services(&home.2), ["wiki", "emr"], "{home:?}");
    assert_eq!(card.card().stats().signatures, 1);
    drop(agent);
    drop(card);

    let facility = demo.value("facility");
    demo.stop();
    let login = h.audit_entries().into_iter().find(|e| e["action"] == "login.card");
    let login = login.unwrap_or_else(|| panic!("the card login must be audited"));
    assert_eq!(
        (&login["outcome"], &login["detail"]["kind"], &login["detail"]["facility"]),
        (&"ok".into(), &"hpki".into(), &facility.into()),
        "{login}"
    );
}

/// A running `hcpki demo --serve` and what it printed.
struct DemoServer {
    child: Option<Child>,
    printed: String,
    portal: String,
    console: String,
    /// The `--http-addr` it was given (not the default 8080).
    http: String,
    log: PathBuf,
}

impl DemoServer {
    /// Starts the demo on free ports and reads its output up to the server's "listening" line.
    fn start(h: &Hcpki, extra: &[&str]) -> Self {
        let addr = || format!("127.0.0.1:{}", free_port());
        let (https, http, portal) = (addr(), addr(), addr());
        let args =
            [&["demo", "--serve", "--https-addr", &https, "--http-addr", &http, "--portal-addr", &portal][..], extra]
                .concat();
        let log = h.path("demo-serve.log");
        let mut child = h.spawn(&args, &log);
        let mut printed = String::new();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap());
        while !printed.contains("hcpki listening on") {
            let mut line = String::new();
            if lines.read_line(&mut line).unwrap() == 0 {
                let _ = child.wait();
                panic!("demo --serve ended before serving:\n{printed}\n{}", std::fs::read_to_string(&log).unwrap());
            }
            printed.push_str(&line);
        }
        let url = |label: &str| {
            let line = printed.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| {
                panic!("demo --serve must print the {label} URL:\n{printed}");
            });
            line.split_whitespace().find(|w| w.starts_with("https://")).unwrap().to_owned()
        };
        let (portal, console) = (url("portal").trim_end_matches('/').to_owned(), url("console"));
        Self { child: Some(child), printed, portal, console, http, log }
    }

    /// The word after `label` on the line that starts with it (e.g. `password`), else the first that holds it.
    fn value(&self, label: &str) -> String {
        let mut lines = self.printed.lines();
        let starting = lines.clone().find(|l| l.trim_start().starts_with(label));
        let line = starting.or_else(|| lines.find(|l| l.contains(label))).unwrap_or_else(|| {
            panic!("demo --serve must print {label:?}:\n{}", self.printed);
        });
        line.split(label).nth(1).unwrap().split_whitespace().next().unwrap().to_owned()
    }

    /// The certificates' CRL and OCSP URLs and the console's router snippets name the `--http-addr` the demo
    /// serves (issue #45 item 8), and the CRL URL read from the certificate by OpenSSL answers there.
    fn assert_urls_name_the_served_http_port(&self, h: &Hcpki, browser: &Browser, facility: &str) {
        let base = format!("http://{}", self.http);
        let pc = h.dir().join("out").join("pc.pem");
        let o = Command::new("openssl")
            .args(["x509", "-noout", "-ext", "crlDistributionPoints,authorityInfoAccess", "-in"])
            .arg(&pc)
            .output()
            .unwrap();
        assert!(o.status.success(), "openssl x509 -ext: {}", crate::harness::describe(&o));
        let ext = String::from_utf8(o.stdout).unwrap();
        let uri = |prefix: &str| {
            ext.lines().find_map(|l| l.trim().strip_prefix(prefix).map(str::to_owned)).unwrap_or_else(|| {
                panic!("the PC certificate must carry {prefix}…:\n{ext}");
            })
        };
        let (crl, ocsp) = (uri("URI:"), uri("OCSP - URI:"));
        assert!(
            crl.starts_with(&format!("{base}/crl/")) && ocsp.starts_with(&format!("{base}/ocsp/")),
            "the CRL and OCSP URLs must name the served {base}:\n{ext}"
        );
        let fetched = h.path("pc-crl.der");
        let o = Command::new("curl").args(["-sSf", "-o"]).arg(&fetched).arg(&crl).output().unwrap();
        assert!(o.status.success(), "the certificate's CRL URL must answer: {}", crate::harness::describe(&o));
        let o =
            Command::new("openssl").args(["crl", "-inform", "DER", "-noout", "-in"]).arg(&fetched).output().unwrap();
        assert!(o.status.success(), "{crl} must serve a CRL: {}", crate::harness::describe(&o));

        let page = browser.get(&format!("{}/console/facilities/{facility}", self.console_origin()));
        assert_eq!(page.0, 200, "the demo facility's console page: {page:?}");
        for url in [format!("{base}/scep/router"), format!("{base}/crl/")] {
            assert!(page.2.contains(&url), "the router snippets must name {url}: {}", page.2);
        }
        assert!(!page.2.contains(":8080"), "no router snippet may name the default port 8080: {}", page.2);
    }

    /// `https://host:port` of the console URL.
    fn console_origin(&self) -> String {
        let rest = self.console.trim_start_matches("https://");
        format!("https://{}", rest.split('/').next().unwrap())
    }

    /// SIGTERM: the process must exit 0 within a few seconds.
    fn stop(mut self) -> String {
        crate::serve::terminate(self.child.take().unwrap(), &self.log, "hcpki demo --serve")
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        // A failed test must not leave a server running.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// curl as the browser at the demo facility's PC: the printed CA trusted, the PC certificate from the printed
/// PKCS#12 offered, one cookie jar. Answers (status, Location, body).
struct Browser {
    jar: PathBuf,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    portal: String,
}

impl Browser {
    /// The browser a newcomer sets up from what `demo` printed: the root CA trusted, the clinic PC's certificate
    /// and key taken from the printed PKCS#12 with the printed passphrase.
    fn at_facility_pc(h: &Hcpki, demo: &DemoServer) -> Self {
        let out = h.dir().join("out");
        let (p12, passphrase) = (out.join("pc.p12"), demo.value("passphrase:"));
        let (cert, key) = (h.path("pc-from-p12.pem"), h.path("pc-from-p12.key"));
        for (what, file) in [("-nokeys", &cert), ("-nocerts", &key)] {
            let o = Command::new("openssl")
                .args(["pkcs12", "-in", p12.to_str().unwrap(), "-passin", &format!("pass:{passphrase}"), what])
                .args(["-noenc", "-out"])
                .arg(file)
                .output()
                .unwrap();
            assert!(o.status.success(), "the printed PKCS#12 and passphrase: {}", crate::harness::describe(&o));
        }
        Browser { jar: h.path("jar"), ca: out.join("root-ca.pem"), cert, key, portal: demo.portal.clone() }
    }

    fn get(&self, url: &str) -> (u16, String, String) {
        self.curl(&[url])
    }

    fn post(&self, url: &str, form: &[(&str, &str)]) -> (u16, String, String) {
        let origin = format!("Origin: {}", self.portal);
        let mut args = vec!["-H".to_owned(), origin];
        for (k, v) in form {
            args.extend(["--data-urlencode".to_owned(), format!("{k}={v}")]);
        }
        args.push(url.to_owned());
        self.curl(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn curl(&self, args: &[&str]) -> (u16, String, String) {
        let body = self.jar.with_extension(format!("body-{}", uuid::Uuid::new_v4().simple()));
        let out = Command::new("curl")
            .args(["-sS", "--cacert"])
            .arg(&self.ca)
            .arg("--cert")
            .arg(&self.cert)
            .arg("--key")
            .arg(&self.key)
            .arg("-b")
            .arg(&self.jar)
            .arg("-c")
            .arg(&self.jar)
            .arg("-o")
            .arg(&body)
            .args(["-w", "%{http_code} %{redirect_url}"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {args:?}: {}", crate::harness::describe(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        let (status, location) = text.split_once(' ').unwrap_or((&text, ""));
        (status.parse().unwrap(), location.to_owned(), std::fs::read_to_string(&body).unwrap_or_default())
    }
}

impl PortalBrowser for Browser {
    fn post_page_form(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        let (status, location, body) = self.post(&format!("{}{path}", self.portal), form);
        Reply { status, location, body }
    }
}
