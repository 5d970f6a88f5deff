//! The card agent built for Windows (issue #44), run as Windows code under Wine against the same pcscd and virtual
//! HPKI and JPKI cards as the Linux agent's tests: `scripts/windows-agent e2e` (and scripts/test's Windows stage)
//! builds `hcpki-agent.exe` and runs these cases with `HCPKI_TEST_WINDOWS_AGENT=1`. Debian 12's Wine 8.0 reaches pcscd
//! through the project's test-harness PC/SC bridge (tests/wine-harness): Wine is regression evidence; a real Windows
//! PC is the acceptance test (docs/windows.md). Every case holds the PC/SC lock, which also keeps them one at a time
//! in the one Wine prefix (the end of the session below reaches every program in it).
//!
//! Peers: OpenSSL (login signatures, `cms -verify` of the CAdES), the Linux build of the agent (the same output for
//! the same cards; the same APDUs per login), Chromium with the portal's own pages, `opensc-tool --reset` (another
//! program resetting the card), pcscd stopped and started (the Smart Card service stopped and back), Wine's
//! `wineboot --end-session` (what Windows sends at logoff and shutdown) and `wineboot` (a logon: it runs the Run
//! entries), wixl/msiexec/osslsigncode (the MSI).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::agent::{
    self, Build, Events, PORTAL, Served, assert_login_verifies, b64, cli_of, hpki, insert, insert_into, jpki,
    login_message, openssl_verifies, output_in_files, signed_json, text, wait_for_reader_of,
};
use crate::browser::{AutoSelect, Chromium, issuer_cn, nss_db, tab_to};
use crate::cades::cms_verify;
use crate::card_login::openssl;
use crate::harness::{Backend, describe, free_port, repo_root};
use crate::oidc;
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{PIN, card_portal};

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What the Linux agent prints and what the Windows agent prints for the same cards: byte for byte. Then the
/// Windows agent alone: a login signature OpenSSL verifies, a wrong PIN counted down (and a right one after it), a
/// CAdES document signature with the HPKI card's signature key that `openssl cms` verifies, a corrupt agent.toml
/// named with its line, and `bench` exchanging exactly the Linux build's APDUs.
#[test]
fn the_cli_reads_signs_and_counts_as_the_linux_agent_does() {
    let _pcsc = pcsc_lock();
    let dir = tempfile::tempdir().unwrap();
    let jpki_card = insert(jpki(), 0);
    let hpki_card = insert(hpki(), 1);
    wait_for_reader_of(Build::Windows, 0, "JPKI card");
    wait_for_reader_of(Build::Windows, 1, "HPKI card");

    for args in [&["readers"][..], &["cards"], &["cards", "--json"], &["pin-status", "--card", "jpki"]] {
        let (linux, windows) = (cli_of(Build::Linux, args, ""), cli_of(Build::Windows, args, ""));
        assert!(windows.status.success(), "{args:?}: {}", text(&windows));
        assert_eq!(
            String::from_utf8_lossy(&windows.stdout),
            String::from_utf8_lossy(&linux.stdout),
            "hcpki-agent {args:?}: the Windows build printed something else"
        );
    }

    // A login signature over the origin-bound message, verified by OpenSSL.
    let challenge = [0x5Au8; 32];
    let encoded = B64URL.encode(challenge);
    let login = |pin: &str| {
        let args = ["sign", "--card", "jpki", "--origin", PORTAL, "--challenge", &encoded, "--pin-stdin"];
        cli_of(Build::Windows, &args, &format!("{pin}\n"))
    };
    let signed = signed_json(&login("1234"));
    let chain: Vec<Vec<u8>> = signed["chain"].as_array().unwrap().iter().map(b64).collect();
    assert_eq!(chain[0], jpki().certificates()[0].1);
    assert!(openssl_verifies(&chain[0], &login_message(PORTAL, &challenge), &b64(&signed["signature"])));
    // A wrong PIN is counted down by the card and said so; the right one then works (and resets the counter).
    let tries = || match jpki_card.card().emulated() {
        hcpki_vcard::card::Emulated::Jpki(j) => j.tries_left(hcpki_vcard::jpki::JpkiPin::Auth),
        _ => unreachable!(),
    };
    let wrong = login("9999");
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong PIN: 2 tries left"), "{}", text(&wrong));
    assert!(!String::from_utf8_lossy(&wrong.stderr).contains("9999"), "the PIN was echoed: {}", text(&wrong));
    assert_eq!(tries(), 2);
    assert!(login("1234").status.success());
    assert_eq!((tries(), jpki_card.card().stats().signatures), (3, 2));

    // A document signature with the HPKI card's signature key: FILE.p7s, accepted by OpenSSL.
    let (root, config) = crate::agent_sign::signing_files(dir.path());
    let letter = dir.path().join("referral.json");
    std::fs::write(&letter, "{\"resourceType\":\"Bundle\",\"type\":\"document\"}\n").unwrap();
    let (file, config) = (letter.to_str().unwrap(), config.to_str().unwrap());
    let out =
        cli_of(Build::Windows, &["sign", "--format", "cades", file, "--config", config, "--pin-stdin"], "hpki1234\n");
    assert!(out.status.success(), "{}", text(&out));
    let ok = cms_verify(&dir.path().join("referral.json.p7s"), &letter, &root);
    assert!(String::from_utf8_lossy(&ok.stderr).contains("Verification successful"), "{}", describe(&ok));
    assert_eq!(hpki_card.card().stats().signatures, 1);

    // A corrupt agent.toml: the file and the line, and nothing served.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\nallowed_origins = [\"https://portal.example\"]\npin_entry = \"telepathy\"\n")
        .unwrap();
    let out = cli_of(Build::Windows, &["serve", "--config", bad.to_str().unwrap()], "");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("bad.toml, line 3: unknown variant `telepathy`"), "{}", text(&out));

    // The benchmark: the same card, the same APDUs per operation from both builds (the timings are benchmarks.md's).
    let bench = |build| {
        let out = cli_of(build, &["bench", "--card", "jpki", "--logins", "3", "--json"], "1234\n");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
        let apdus = |s: &Value| s["apdus"].as_u64().unwrap();
        (apdus(&report["cold"]), report["warm"].as_array().unwrap().iter().map(apdus).collect::<Vec<_>>())
    };
    let (linux, windows) = (bench(Build::Linux), bench(Build::Windows));
    assert_eq!(windows, linux, "APDUs per login, Windows build vs Linux build");
    assert!(windows.1.iter().all(|a| *a <= 8), "{windows:?}");
}

/// `serve` as a Windows program: the cards followed over `/v1/events` (removed, inserted in the other reader), a
/// login through its PIN page while another program resets the card, the card pulled in the middle of a login, the
/// Smart Card service (pcscd) stopped and started again without restarting the agent, a second agent of the same
/// user refused with a message, and the end of the session (logoff, shutdown: `WM_ENDSESSION`) stopping it cleanly.
#[test]
fn serve_follows_cards_rides_out_faults_and_stops_at_the_end_of_the_session() {
    let _pcsc = pcsc_lock();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let log = dir.path().join("agent.log");
    let mut card = insert(jpki(), 0);
    let mut agent = Served::start_windows(PORTAL, "127.0.0.1:0", &[], Some(&state), &log);
    agent.wait_card(0, "jpki");

    // One agent per user: a second `serve` with the same state (the same user) is refused, and says why.
    let second = Build::Windows
        .command()
        .env("HCPKI_AGENT_STATE_DIR", &state)
        .args(["serve", "--listen", "127.0.0.1:0", "--allow-origin", PORTAL, "--peer-check", "off"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!second.status.success(), "{}", text(&second));
    assert!(text(&second).contains("already serving for this user"), "{}", text(&second));
    assert!(text(&second).contains("listening on 127.0.0.1:0"), "{}", text(&second));

    // Another program resets the card while the PIN is asked: the agent reconnects and the login goes through.
    let resets = card.card().stats().resets;
    let done = agent.login_with("jpki", &[0x51; 32], "1234", || agent::reset_by_another_program(0));
    assert!(card.card().stats().resets > resets, "the card was not reset");
    assert_login_verifies(&done, &[0x51; 32], jpki().certificates()[0].1);

    // The card pulled a few APDUs into the signing transaction: the login fails as "card removed", nothing signed.
    let signatures = card.card().stats().signatures;
    card.remove_after_apdus(3);
    let pulled = agent.login("jpki", &[0x52; 32], "1234");
    assert_eq!(
        (pulled["status"].as_str(), pulled["error"]["code"].as_str()),
        (Some("failed"), Some("card_removed")),
        "{pulled}"
    );
    assert!(card.wait_removed(Duration::from_secs(5)));
    assert_eq!(card.card().stats().signatures, signatures);

    // Put into the other reader: the event stream says so, and the card works there.
    agent.wait_empty(0);
    let mut events = Events::open(&agent);
    insert_into(&mut card, 1);
    let inserted = events.until(|e| e["event"] == "inserted");
    assert_eq!((inserted["reader"].as_str(), inserted["kind"].as_str()), (Some("Virtual PCD 00 01"), Some("jpki")));
    card.remove();
    let removed = events.until(|e| e["event"] == "removed");
    assert_eq!(removed["reader"], "Virtual PCD 00 01");
    agent.wait_empty(1);
    let mut card = insert(hpki(), 0);
    agent.wait_card(0, "hpki");

    // The Smart Card service goes away with every reader (Windows stops it with the last reader) and comes back: the
    // agent says so meanwhile and carries on by itself.
    agent::stop_pcscd();
    events.until(|e| e["event"] == "reader_removed");
    let (status, body) = agent.http("GET", "/v1/cards", PORTAL, "text/plain", "");
    assert!(status == 503 || body.contains("\"readers\":[]"), "{status} {body}");
    let restarted = Command::new(repo_root().join("scripts/pcsc-stack")).arg("start").output().unwrap();
    assert!(restarted.status.success(), "{}", text(&restarted));
    events.until(|e| e["event"] == "inserted" && e["kind"] == "hpki");
    agent.wait_card(0, "hpki");
    let auth = hpki().certificates().into_iter().find(|(n, _)| *n == "authentication").unwrap().1.to_vec();
    assert_login_verifies(&agent.login("hpki", &[0x41; 32], "hpki1234"), &[0x41; 32], &auth);

    // The session ends (what Windows sends at logoff and shutdown): the agent stops by itself, cleanly.
    let ended = output_in_files(&mut windows_agent(&["wine", "wineboot", "--end-session", "--shutdown"]), "");
    assert!(ended.status.success(), "{}", text(&ended));
    let status = agent.wait_exit(Duration::from_secs(30));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "the agent did not stop cleanly at the session's end");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("stopping: the PC is shutting down") && logged.contains("stopped"), "{logged}");
    assert!(!logged.contains("hpki1234") && !logged.contains("1234\n"), "a PIN in the log");
    card.remove();
}

/// The physician's card login of `browser`, with the Windows agent answering the portal's page: Chromium with the
/// facility PC's certificate, the portal's `card-login.js`, the PIN typed into the PIN page the Windows agent serves
/// (axe-clean), the home page handing the agent the presence token (the agent then reports to the portal over TLS,
/// as Windows code), and the card pulled out ending the session.
#[test]
fn a_card_login_in_chromium_with_the_windows_agent_answering_the_portal() {
    let _pcsc = pcsc_lock();
    let agent_port = free_port();
    let p = card_portal(Backend::Sqlite, &format!("http://127.0.0.1:{agent_port}"));
    let ca = p.h.chain_file("server");
    let log = p.h.path("windows-agent.log");
    let agent = Served::start_windows(
        &p.issuer,
        &format!("127.0.0.1:{agent_port}"),
        &["--portal-ca-file", ca.to_str().unwrap()],
        None,
        &log,
    );
    let mut card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");

    let (_facility, cert, key) = oidc::issue_pc(&p.h, "Windows clinic");
    let home_dir = p.h.path("browser-home");
    nss_db(&home_dir, &p.h.chain_file("server"), &cert, &key, &p.h.path("pc.p12"));
    let _policy = AutoSelect::write(&[&p.issuer], &issuer_cn(&cert));
    let mut browser = Chromium::start(&home_dir, &p.h.path("chromium-profile"));
    browser.cmd(json!({"cmd": "accept_language", "value": "ja,en-US;q=0.8"}));
    let login = browser.goto(&format!("{}/", p.issuer));
    assert!(login.starts_with(&format!("{}/login", p.issuer)), "{login}");
    tab_to(&mut browser, "document.activeElement.dataset.kind === 'hpki'");
    browser.cmd(json!({"cmd": "key", "key": "Enter"}));
    let pin_window = browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
    assert!(pin_window["url"].as_str().unwrap().starts_with(&format!("http://127.0.0.1:{agent_port}/pin/")));
    // The Windows agent's own page, in the portal page's language (Japanese here: the login page asked for it,
    // issue #45 item 7): the card, its holder, what the PIN is for, axe-core clean.
    let page = browser.eval_in("popup", "document.body.innerText");
    let page = page.as_str().unwrap();
    for words in
        ["HPKI カード", "試験\u{3000}太郎", "ポータルへのログイン", "カードの PIN を入力してください", &p.issuer]
    {
        assert!(page.contains(words), "{words:?} not on the Windows agent's PIN page: {page}");
    }
    crate::accessibility::assert_wcag21_aa(&mut browser, "popup", "the Windows agent's PIN page");
    browser.cmd(json!({"cmd": "keys", "tab": "popup", "text": PIN}));
    browser.cmd(json!({"cmd": "key", "tab": "popup", "key": "Enter"}));
    let home = browser.wait_exact_url(&format!("{}/", p.issuer), "#card-status");
    assert_eq!(home, format!("{}/", p.issuer), "{}", browser.eval("document.body.innerText"));
    // The presence token handed to the Windows agent, accepted (202).
    browser.cmd(json!({"cmd": "wait_response", "contains": "/v1/presence", "status": 202}));
    let text = browser.eval("document.querySelector('main').innerText");
    assert!(text.as_str().unwrap().contains("Windows clinic"), "{text}");
    assert_eq!(card.card().stats().signatures, 1);

    // The card leaves the reader: the session ends.
    browser.cmd(json!({"cmd": "wait_response", "contains": "/v1/events"}));
    card.remove();
    let ended = browser.wait_url(&format!("{}/login?problem=ended_card_removed", p.issuer), "body");
    assert!(ended.contains("ended_card_removed"), "{ended}");
    let audit = p.h.audit_entries();
    let logins: Vec<&Value> = audit.iter().filter(|e| e["action"] == "login.card").collect();
    assert_eq!((logins.len(), logins[0]["outcome"].as_str()), (1, Some("ok")), "{logins:?}");
    assert!(audit.iter().any(|e| e["action"] == "portal.logout" && e["detail"]["reason"] == "card-removed"));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("signed") && !logged.contains(PIN), "the Windows agent's log: {logged}");
}

/// The MSI a clinic's IT deploys: built by `scripts/windows-agent msi` with the organisation's agent.toml and
/// portal CA and signed with a code-signing certificate made here (osslsigncode verifies the MSI and the installed
/// exe under the test CA); its tables (per machine, the Run entry, agent.toml NeverOverwrite); installed with msiexec
/// in the Wine prefix, the agent started at "logon" by hcpki-agent-logon.exe from the installed configuration and
/// logging under the user's local app data; upgraded to a newer version keeping the edited agent.toml; uninstalled,
/// leaving no program, configuration or Run entry.
#[test]
fn the_msi_installs_starts_the_agent_at_logon_upgrades_and_uninstalls() {
    Build::Windows.command(); // says how to build the exe when it is not
    let _pcsc = pcsc_lock();
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    // The organisation's code-signing certificate, from a test CA.
    let path = |name: &str| d(name).to_str().unwrap().to_owned();
    let (ca_key, ca, key, csr, ext, cert) =
        (path("ca.key"), path("ca.pem"), path("sign.key"), path("sign.csr"), path("ext.cnf"), path("sign.pem"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=hcpki test code-signing CA",
        "-keyout",
        &ca_key,
        "-out",
        &ca,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    let subject = "/O=Example Clinic Corp/CN=Example Clinic Corp";
    openssl(&["req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", &key, "-out", &csr]);
    std::fs::write(&ext, "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-days",
        "2",
        "-CAcreateserial",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-extfile",
        &ext,
        "-out",
        &cert,
    ]);
    // The organisation's configuration: its portal, its portal CA; the harness's peer_check (peer.rs: Wine cannot
    // trace connections).
    let port = free_port();
    std::fs::write(
        d("agent.toml"),
        format!(
            "version = 1\nlisten = \"127.0.0.1:{port}\"\nallowed_origins = [\"https://portal.example\"]\n\
             portal_ca_file = \"portal-ca.pem\"\npeer_check = \"off\"\n"
        ),
    )
    .unwrap();
    std::fs::copy(d("ca.pem"), d("portal-ca.pem")).unwrap();
    let msi = |version: &str| {
        let out = d(&format!("hcpki-agent-{version}.msi"));
        let built = windows_agent(&["msi", "--version", version, "--out", out.to_str().unwrap()])
            .args(["--config", d("agent.toml").to_str().unwrap(), "--portal-ca", d("portal-ca.pem").to_str().unwrap()])
            .args(["--sign", d("sign.pem").to_str().unwrap(), d("sign.key").to_str().unwrap()])
            .output()
            .unwrap();
        assert!(built.status.success(), "{}", describe(&built));
        out
    };
    let first = msi("0.1.0");

    // Signed, and the signature verifies under the test CA; a byte changed breaks it.
    let verify = |file: &Path| {
        Command::new("osslsigncode")
            .args(["verify", "-CAfile", d("ca.pem").to_str().unwrap(), "-in"])
            .arg(file)
            .output()
            .unwrap()
    };
    let checked = verify(&first);
    assert!(checked.status.success() && text(&checked).contains("Signature verification: ok"), "{}", text(&checked));
    let mut tampered = std::fs::read(&first).unwrap();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    std::fs::write(d("tampered.msi"), tampered).unwrap();
    assert!(!verify(&d("tampered.msi")).status.success(), "a changed MSI still verified");

    // The tables: per machine, the two programs, the configuration (NeverOverwrite), the Run entry.
    let table = |name: &str| {
        let out = Command::new("msiinfo").args(["export"]).arg(&first).arg(name).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(table("Property").contains("ALLUSERS\t1"), "{}", table("Property"));
    let files = table("File");
    for f in ["hcpki-agent.exe", "hcpki-agent-logon.exe", "agent.toml", "portal-ca.pem"] {
        assert!(files.contains(f), "{f} not in the File table:\n{files}");
    }
    assert!(
        table("Component").lines().any(|l| l.starts_with("Config\t") && l.contains("\t384\t")),
        "{}",
        table("Component")
    );
    let registry = table("Registry");
    assert!(
        registry.contains(
            "Software\\Microsoft\\Windows\\CurrentVersion\\Run\thcpki-agent\t\"[INSTALLDIR]hcpki-agent-logon.exe\""
        ),
        "{registry}"
    );

    // Installed in the prefix.
    let drive = repo_root().join("target/windows/wine/prefix/drive_c");
    let drive = std::env::var_os("HCPKI_WINE_DIR").map_or(drive, |w| Path::new(&w).join("prefix/drive_c"));
    let installed = drive.join("Program Files/hcpki/hcpki-agent");
    let config = drive.join("ProgramData/hcpki-agent/agent.toml");
    msiexec(&["/i", &first.display().to_string(), "/qn"]);
    assert!(installed.join("hcpki-agent.exe").is_file() && config.is_file());
    let run = output_in_files(
        &mut windows_agent(&["wine", "reg", "query", r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run"]),
        "",
    );
    assert!(text(&run).contains(r"C:\Program Files\hcpki\hcpki-agent\hcpki-agent-logon.exe"), "{}", text(&run));
    assert!(verify(&installed.join("hcpki-agent.exe")).status.success(), "the installed exe is not signed");

    // Logon: Wine's wineboot runs HKLM's Run entries as Windows does at a logon, so the installed
    // hcpki-agent-logon.exe starts the agent in the background with the installed configuration (its state directory,
    // standing for the user's local app data, given through the environment it inherits).
    let state = d("local-app-data");
    // Its output to nowhere: the agent it starts inherits it and keeps it open.
    let logon = windows_agent(&["wine", "wineboot"])
        .env("HCPKI_AGENT_STATE_DIR", &state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(logon.success(), "wineboot (the logon) failed: {logon}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let health = loop {
        let got =
            Command::new("curl").args(["-s", "-m", "5", &format!("http://127.0.0.1:{port}/healthz")]).output().unwrap();
        if got.status.success() {
            break String::from_utf8_lossy(&got.stdout).into_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the agent started at logon never answered; its log: {:?}",
            std::fs::read_to_string(state.join("agent.log"))
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(health, "ok");
    let logged = std::fs::read_to_string(state.join("agent.log")).unwrap();
    assert!(logged.contains("serving") && logged.contains(&format!("127.0.0.1:{port}")), "{logged}");
    // Stopped as at the end of the session (`--shutdown`: without it wineboot would start the Run entries again, as
    // after a logon): the log says so and the port is free again.
    let ended = output_in_files(&mut windows_agent(&["wine", "wineboot", "--end-session", "--shutdown"]), "");
    assert!(ended.status.success(), "{}", text(&ended));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(state.join("agent.log")).unwrap().contains("stopped")
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    {
        assert!(
            Instant::now() < deadline,
            "the agent started at logon did not stop with the session: {:?}",
            std::fs::read_to_string(state.join("agent.log"))
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // An upgrade keeps the configuration edited on the PC; the programs are the new version's.
    let mut edited = std::fs::read_to_string(&config).unwrap();
    edited.push_str("pin_timeout_secs = 90\n");
    std::fs::write(&config, &edited).unwrap();
    let second = msi("0.1.1");
    msiexec(&["/i", &second.display().to_string(), "/qn"]);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited, "the upgrade replaced the PC's agent.toml");
    assert!(installed.join("hcpki-agent.exe").is_file());

    // Uninstalled: programs, configuration and the Run entry gone.
    msiexec(&["/x", &second.display().to_string(), "/qn"]);
    assert!(
        !installed.exists() && !config.exists(),
        "left behind: {:?}",
        std::fs::read_dir(drive.join("ProgramData")).unwrap().collect::<Vec<_>>()
    );
    let run = windows_agent(&[
        "wine",
        "reg",
        "query",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run",
        "/v",
        "hcpki-agent",
    ])
    .output()
    .unwrap();
    assert!(!run.status.success(), "the Run entry is still there: {}", text(&run));
}

fn windows_agent(args: &[&str]) -> Command {
    let mut command = Command::new(repo_root().join("scripts/windows-agent"));
    command.args(args);
    command
}

fn msiexec(args: &[&str]) {
    let out = windows_agent(&["wine", "msiexec"]).args(args).output().unwrap();
    assert!(out.status.success(), "msiexec {args:?}: {}", text(&out));
}
