//! The real `hcpki-agent` binary against the real pcscd, with virtual cards in vpcd readers
//! (`scripts/pcsc-stack` runs pcscd in its own network namespace; scripts/test exports its name as
//! `HCPKI_TEST_PCSC_NETNS`). Signatures are checked with OpenSSL. Only two readers exist, so these
//! tests take the process-wide PC/SC lock and run one at a time.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hcpki_vcard::hpki::HpkiLayout;
use hcpki_vcard::identity::{HpkiPins, Identity, IdentityRequest, JpkiPins};
use hcpki_vcard::vpcd::{VpcdCard, VpcdTarget};

use crate::pcsc_lock::{pcsc_lock, pcsc_netns, wait_reader_empty};

pub(crate) const PORTAL: &str = "https://portal.example";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub(crate) fn jpki() -> &'static Identity {
    static ID: OnceLock<Identity> = OnceLock::new();
    ID.get_or_init(|| {
        Identity::generate(&IdentityRequest::Jpki {
            subject: Default::default(),
            pins: JpkiPins::default(),
            algorithm: Default::default(),
        })
        .unwrap()
    })
}

pub(crate) fn hpki() -> &'static Identity {
    static ID: OnceLock<Identity> = OnceLock::new();
    ID.get_or_init(|| {
        Identity::generate(&IdentityRequest::Hpki {
            subject: Default::default(),
            layout: HpkiLayout::JMA,
            pins: HpkiPins::default(),
            algorithm: Default::default(),
        })
        .unwrap()
    })
}

pub(crate) fn insert(identity: &Identity, reader: u16) -> VpcdCard {
    let mut card = VpcdCard::new(identity.card());
    insert_into(&mut card, reader);
    card
}

/// Puts `card` into `reader` as a person would: into an empty reader, in once pcscd has noticed it.
/// The identities are one per test process, so a predecessor's card looks like this one: the reader
/// must first be empty to pcscd, and the new card counts as in once pcscd has powered it (its poll
/// runs every ~400 ms); from then on PC/SC clients reach this card.
pub(crate) fn insert_into(card: &mut VpcdCard, reader: u16) {
    let netns = pcsc_netns().unwrap_or_else(|e| panic!("{e}"));
    wait_reader_empty(usize::from(reader));
    card.insert(VpcdTarget::reader(reader).in_named_netns(&netns)).unwrap();
    assert!(
        card.wait_powered(Duration::from_secs(10)),
        "pcscd did not power the card in reader {reader} within 10 s; `scripts/pcsc-stack status`, and its log"
    );
}

fn agent_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let sibling = exe.parent().and_then(Path::parent).map(|d| d.join("hcpki-agent"));
    sibling.filter(|p| p.is_file()).unwrap_or_else(|| {
        panic!("target/debug/hcpki-agent is missing: run cargo build -p card-agent first (scripts/test does)")
    })
}

/// Which build of the agent a test runs: this workspace's own (Linux), or the Windows exe run under Wine by
/// `scripts/windows-agent run` (issue #44, `windows_agent.rs`; `HCPKI_TEST_WINDOWS_AGENT=1` says it is built).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Build {
    Linux,
    Windows,
}

impl Build {
    /// A command running this build; its arguments follow.
    pub(crate) fn command(self) -> Command {
        match self {
            Build::Linux => Command::new(agent_bin()),
            Build::Windows => {
                assert!(
                    std::env::var_os("HCPKI_TEST_WINDOWS_AGENT").is_some_and(|v| v == "1"),
                    "the Windows agent is not built: run scripts/windows-agent e2e (it builds the exe and sets \
                     HCPKI_TEST_WINDOWS_AGENT=1), or scripts/test"
                );
                let mut command = Command::new(crate::harness::repo_root().join("scripts/windows-agent"));
                command.arg("run");
                command
            }
        }
    }
}

/// Runs `hcpki-agent ARGS` with `stdin`, bounded by timeout(1).
pub(crate) fn cli(args: &[&str], stdin: &str) -> Output {
    cli_of(Build::Linux, args, stdin)
}

/// [`cli`] with `build`.
pub(crate) fn cli_of(build: Build, args: &[&str], stdin: &str) -> Output {
    let program = build.command();
    let mut command = Command::new("timeout");
    command.args(["-k", "5", "120"]).arg(program.get_program()).args(program.get_args()).args(args);
    let out = output_in_files(&mut command, stdin);
    assert_ne!(out.status.code(), Some(124), "hcpki-agent {args:?} hung: {}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "hcpki-agent {args:?} panicked");
    out
}

/// Runs `command` with `stdin` and returns its output, read from files rather than pipes: Wine's device services,
/// started by the first program of a prefix, inherit its standard output and error and outlive it, so reading
/// pipes to their end can wait for ever, the program long gone (a fresh run hung so once); the exit status is what
/// ends the wait here.
pub(crate) fn output_in_files(command: &mut Command, stdin: &str) -> Output {
    let captured = (tempfile::NamedTempFile::new().unwrap(), tempfile::NamedTempFile::new().unwrap());
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(captured.0.reopen().unwrap())
        .stderr(captured.1.reopen().unwrap())
        .spawn()
        .unwrap();
    // A program that refuses before it reads its input (a document it will not sign) may be gone already: a broken
    // pipe is its answer, not the test's failure (a fresh CI run failed so once); its exit status says the rest.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing the program's input: {e}");
    }
    let status = child.wait().unwrap();
    let read = |f: &tempfile::NamedTempFile| std::fs::read(f.path()).unwrap();
    Output { status, stdout: read(&captured.0), stderr: read(&captured.1) }
}

pub(crate) fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits until `hcpki-agent readers` shows `want` in reader `index` (pcscd notices a card within ~1 s).
pub(crate) fn wait_for_reader(index: usize, want: &str) {
    wait_for_reader_of(Build::Linux, index, want);
}

/// [`wait_for_reader`] with `build`.
pub(crate) fn wait_for_reader_of(build: Build, index: usize, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = cli_of(build, &["readers"], "");
        let listing = String::from_utf8_lossy(&out.stdout).into_owned();
        if listing.lines().nth(index).is_some_and(|l| l.contains(want)) {
            return;
        }
        assert!(Instant::now() < deadline, "reader {index} never showed {want:?}:\n{}", text(&out));
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Checks sha256WithRSAEncryption over `message` with OpenSSL and the certificate.
pub(crate) fn openssl_verifies(cert_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let (cert, pubkey, msg, sig) =
        (dir.path().join("c.der"), dir.path().join("k.pem"), dir.path().join("m"), dir.path().join("s"));
    std::fs::write(&cert, cert_der).unwrap();
    std::fs::write(&msg, message).unwrap();
    std::fs::write(&sig, signature).unwrap();
    let pk = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-pubkey", "-noout", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    assert!(pk.status.success(), "openssl x509: {}", text(&pk));
    std::fs::write(&pubkey, &pk.stdout).unwrap();
    let v = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&pubkey)
        .arg("-signature")
        .arg(&sig)
        .arg(&msg)
        .output()
        .unwrap();
    v.status.success() && String::from_utf8_lossy(&v.stdout).contains("Verified OK")
}

pub(crate) fn login_message(origin: &str, challenge: &[u8]) -> Vec<u8> {
    let mut m = b"hcpki card login v1\0".to_vec();
    m.extend_from_slice(origin.as_bytes());
    m.push(0);
    m.extend_from_slice(challenge);
    m
}

pub(crate) fn signed_json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(crate) fn b64(v: &serde_json::Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn cli_jpki_login_signature_verifies_with_openssl() {
    let _pcsc = pcsc_lock();
    let card = insert(jpki(), 0);
    wait_for_reader(0, "JPKI card");
    let cards: serde_json::Value = serde_json::from_slice(&cli(&["cards", "--json"], "").stdout).unwrap();
    let listed = &cards["readers"][0]["card"];
    assert_eq!(listed["kind"], "jpki");
    let auth = listed["certificates"].as_array().unwrap().iter().find(|c| c["role"] == "auth").unwrap();
    assert_eq!(b64(&auth["chain"][0]), jpki().certificates()[0].1);

    let challenge = [0x5Au8; 32];
    let out = cli(
        &["sign", "--card", "jpki", "--origin", PORTAL, "--challenge", &B64URL.encode(challenge), "--pin-stdin"],
        "1234\n",
    );
    let signed = signed_json(&out);
    let chain: Vec<Vec<u8>> = signed["chain"].as_array().unwrap().iter().map(b64).collect();
    assert_eq!(chain[0], jpki().certificates()[0].1);
    assert!(openssl_verifies(&chain[0], &login_message(PORTAL, &challenge), &b64(&signed["signature"])));
    // The PIN went to the card only: not echoed, not logged; the card made one signature.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("1234"), "{}", text(&out));
    assert_eq!(card.card().stats().signatures, 1);
}

#[test]
fn wrong_pins_count_down_then_the_card_locks() {
    let _pcsc = pcsc_lock();
    let card = insert(jpki(), 0);
    wait_for_reader(0, "JPKI card");
    let sign = |pin: &str, last: bool| {
        let mut args =
            vec!["sign", "--card", "jpki", "--origin", PORTAL, "--challenge", "AAAAAAAAAAAAAAAAAAAAAA", "--pin-stdin"];
        if last {
            args.push("--allow-last-try");
        }
        cli(&args, &format!("{pin}\n"))
    };
    let tries = |c: &VpcdCard| match c.card().emulated() {
        hcpki_vcard::card::Emulated::Jpki(j) => j.tries_left(hcpki_vcard::jpki::JpkiPin::Auth),
        _ => unreachable!(),
    };
    let out = sign("9999", false);
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong PIN: 2 tries left"), "{}", text(&out));
    assert_eq!(tries(&card), 2);
    let out = sign("9999", false);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 tries left"), "{}", text(&out));
    // One try left: refused without touching the counter unless confirmed.
    let out = sign("1234", false);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("only one PIN try is left"),
        "{}",
        text(&out)
    );
    assert_eq!(tries(&card), 1);
    let out = sign("9999", true);
    assert!(String::from_utf8_lossy(&out.stderr).contains("blocked"), "{}", text(&out));
    assert_eq!(tries(&card), 0);
    let out = sign("1234", true);
    assert!(String::from_utf8_lossy(&out.stderr).contains("blocked"), "{}", text(&out));
    assert_eq!(card.card().stats().signatures, 0);
}

#[test]
fn a_card_pulled_mid_operation_fails_cleanly_and_works_when_reinserted() {
    let _pcsc = pcsc_lock();
    let mut card = insert(jpki(), 0);
    wait_for_reader(0, "JPKI card");
    // The CLI probes and reads certificates, checks the PIN counter, then VERIFY + SIGN: pull the
    // card a few APDUs into the signing transaction.
    let before = card.card().stats().apdus;
    let dry = cli(
        &["sign", "--card", "jpki", "--origin", PORTAL, "--challenge", "AAAAAAAAAAAAAAAAAAAAAA", "--pin-stdin"],
        "1234\n",
    );
    assert!(dry.status.success(), "{}", text(&dry));
    let per_sign = card.card().stats().apdus - before;
    card.remove_after_apdus(per_sign - 2);
    let out = cli(
        &["sign", "--card", "jpki", "--origin", PORTAL, "--challenge", "AAAAAAAAAAAAAAAAAAAAAA", "--pin-stdin"],
        "1234\n",
    );
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("removed") || err.contains("no Jpki card"), "{}", text(&out));
    assert!(card.wait_removed(Duration::from_secs(5)));
    // The user puts the card back into the same reader.
    insert_into(&mut card, 0);
    wait_for_reader(0, "JPKI card");
    let out = cli(
        &["sign", "--card", "jpki", "--origin", PORTAL, "--challenge", "AAAAAAAAAAAAAAAAAAAAAA", "--pin-stdin"],
        "1234\n",
    );
    assert!(out.status.success(), "{}", text(&out));
}

/// A running `hcpki-agent serve`.
pub(crate) struct Served {
    child: Child,
    addr: SocketAddr,
    /// The portal origin it serves (sent as `Origin` by the helpers).
    origin: String,
    /// Its own state directory (its single-instance lock): each agent a test starts is another user's, as far as the
    /// lock goes, so that tests run side by side.
    state: tempfile::TempDir,
}

impl Served {
    fn start() -> Self {
        Self::start_for(PORTAL, "127.0.0.1:0")
    }

    /// An agent on `listen` that answers pages of `origin` only.
    pub(crate) fn start_for(origin: &str, listen: &str) -> Self {
        Self::start_with(origin, listen, &[])
    }

    /// [`start_for`](Self::start_for) with more `serve` arguments.
    pub(crate) fn start_with(origin: &str, listen: &str, more: &[&str]) -> Self {
        Self::spawn(Command::new(agent_bin()).stderr(Stdio::inherit()), origin, listen, more)
    }

    /// [`start_with`](Self::start_with) on a PC whose PC/SC service is not there (libpcsclite pointed at a socket
    /// nobody serves): the agent answers `no_service`, what Windows' smart-card service also answers once the last
    /// reader is unplugged.
    pub(crate) fn start_without_pcsc(origin: &str, listen: &str, more: &[&str]) -> Self {
        let mut command = Command::new(agent_bin());
        command.env("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm").stderr(Stdio::inherit());
        Self::spawn(&mut command, origin, listen, more)
    }

    /// [`start_with`](Self::start_with), its log (the default level) to the file `log`.
    pub(crate) fn start_with_log(origin: &str, listen: &str, more: &[&str], log: &Path) -> Self {
        let log = std::fs::File::create(log).unwrap();
        Self::spawn(Command::new(agent_bin()).stderr(log), origin, listen, more)
    }

    /// [`start_for`](Self::start_for) logging everything it can (`HCPKI_LOG=trace`) to the file `log`.
    pub(crate) fn start_logging_to(origin: &str, listen: &str, log: &Path) -> Self {
        let log = std::fs::File::create(log).unwrap();
        Self::spawn(Command::new(agent_bin()).env("HCPKI_LOG", "trace").stderr(log), origin, listen, &[])
    }

    /// The agent as a person starts it from a printed command line, `hcpki-agent ARGS` (`args`: the words after
    /// the program's name), with this build's binary; `origin` is the portal whose pages it answers.
    pub(crate) fn start_typed(args: &[&str], origin: &str) -> Self {
        Self::run(Command::new(agent_bin()).stderr(Stdio::inherit()).args(args), origin)
    }

    /// The Windows build under Wine (`windows_agent.rs`) as `serve` for `origin` on `listen` with `more` arguments,
    /// its state in `state` (None: a directory of its own), its log (`HCPKI_LOG=debug`) to `log`. Wine cannot tell
    /// which program opened a loopback connection, so the test harness turns the owner check off (peer.rs).
    pub(crate) fn start_windows(origin: &str, listen: &str, more: &[&str], state: Option<&Path>, log: &Path) -> Self {
        let log = std::fs::File::create(log).unwrap();
        let mut command = Build::Windows.command();
        command.env("HCPKI_LOG", "hcpki_agent=debug,warn").stderr(log);
        if let Some(state) = state {
            command.env("HCPKI_AGENT_STATE_DIR", state);
        }
        Self::spawn(command.args(["serve", "--peer-check", "off"]), origin, listen, more)
    }

    /// Runs `command` (the agent, with its stderr set) as `serve` for `origin` on `listen` with `more` arguments,
    /// and waits for the address it prints.
    fn spawn(command: &mut Command, origin: &str, listen: &str, more: &[&str]) -> Self {
        if !command.get_args().any(|a| a == "serve") {
            command.arg("serve");
        }
        Self::run(command.args(["--listen", listen, "--allow-origin", origin]).args(more), origin)
    }

    /// Runs `command` (the agent with its arguments and stderr set) and waits for the address it prints.
    fn run(command: &mut Command, origin: &str) -> Self {
        let state = tempfile::tempdir().unwrap();
        if !command.get_envs().any(|(k, _)| k == "HCPKI_AGENT_STATE_DIR") {
            command.env("HCPKI_AGENT_STATE_DIR", state.path());
        }
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Served { child, addr: addr.parse().unwrap(), origin: origin.to_owned(), state }
    }

    /// Waits up to `timeout` for the agent to end by itself; its exit status, None if it still runs.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn http(&self, method: &str, path: &str, origin: &str, content_type: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nOrigin: {origin}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        (head.split_whitespace().nth(1).unwrap().parse().unwrap(), body.to_owned())
    }

    fn own_origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn wait_card(&self, reader: usize, kind: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, body) = self.http("GET", "/v1/cards", &self.origin, "text/plain", "");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            if v["readers"][reader]["card"]["kind"] == kind {
                return;
            }
            assert!(Instant::now() < deadline, "reader {reader} never showed a {kind} card: {body}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until this agent reports reader `reader` empty: pcscd has registered the removal (a card
    /// put back faster than vpcd's ~400 ms presence poll is otherwise never seen to leave).
    pub(crate) fn wait_empty(&self, reader: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, body) = self.http("GET", "/v1/cards", PORTAL, "text/plain", "");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            if v["readers"][reader]["card"].is_null() {
                return;
            }
            assert!(Instant::now() < deadline, "reader {reader} never became empty: {body}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts a login, types `pin` into the agent's own page, returns the finished operation.
    pub(crate) fn login(&self, kind: &str, challenge: &[u8], pin: &str) -> serde_json::Value {
        self.login_with(kind, challenge, pin, || {})
    }

    /// [`login`](Self::login), running `meanwhile` while the agent waits for the PIN.
    pub(crate) fn login_with(
        &self,
        kind: &str,
        challenge: &[u8],
        pin: &str,
        meanwhile: impl FnOnce(),
    ) -> serde_json::Value {
        self.sign_with(kind, &B64URL.encode(challenge), pin, meanwhile)
    }

    /// What the portal's login page script does: start a signature of `challenge` (base64url, as the portal
    /// issued it), type `pin` into the agent's page, wait for the result.
    pub(crate) fn sign_with(
        &self,
        kind: &str,
        challenge: &str,
        pin: &str,
        meanwhile: impl FnOnce(),
    ) -> serde_json::Value {
        let body = format!(r#"{{"challenge":"{challenge}","kind":"{kind}"}}"#);
        let origin = self.origin.clone();
        let (status, started) = self.http("POST", "/v1/sign", &origin, "application/json", &body);
        assert_eq!(status, 202, "{started}");
        let started: serde_json::Value = serde_json::from_str(&started).unwrap();
        let id = started["id"].as_str().unwrap().to_owned();
        let pin_path = format!("/pin/{id}");
        assert_eq!(started["pin_url"], format!("{}{pin_path}", self.own_origin()));
        let state = self.poll(&id, |s| s != "running");
        assert_eq!(state["status"], "pin_required", "{state}");
        meanwhile();
        let (_, page) = self.http("GET", &pin_path, &self.own_origin(), "text/plain", "");
        let token = page.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let (status, _) = self.http(
            "POST",
            &pin_path,
            &self.own_origin(),
            "application/x-www-form-urlencoded",
            &format!("token={token}&pin={pin}&action=sign"),
        );
        assert_eq!(status, 303);
        self.poll(&id, |s| s == "done" || s == "failed")
    }

    /// Long-polls the operation, telling the agent which state it last saw, until `until` holds.
    fn poll(&self, id: &str, until: impl Fn(&str) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = "running".to_owned();
        loop {
            let (_, body) =
                self.http("GET", &format!("/v1/sign/{id}?wait=10&seen={seen}"), &self.origin, "text/plain", "");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let status = v["status"].as_str().unwrap_or_default().to_owned();
            if until(&status) {
                return v;
            }
            assert!(Instant::now() < deadline, "operation {id} stuck: {v}");
            if status == "running" || status == "pin_required" {
                seen = status;
            }
        }
    }
}

impl Served {
    /// Stops the agent now (a test that starts another on the same address).
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn assert_login_verifies(done: &serde_json::Value, challenge: &[u8], expected_cert: &[u8]) {
    assert_eq!(done["status"], "done", "{done}");
    let chain: Vec<Vec<u8>> = done["result"]["chain"].as_array().unwrap().iter().map(b64).collect();
    assert_eq!(chain[0], expected_cert);
    assert!(openssl_verifies(&chain[0], &login_message(PORTAL, challenge), &b64(&done["result"]["signature"])));
}

#[test]
fn hpki_login_through_the_agents_pin_page() {
    let _pcsc = pcsc_lock();
    let _card = insert(hpki(), 0);
    let agent = Served::start();
    agent.wait_card(0, "hpki");
    let challenge = [0x11u8; 32];
    let done = agent.login("hpki", &challenge, "hpki1234");
    // The HPKI chain starts with the authentication certificate.
    let auth_cert = hpki().certificates().into_iter().find(|(n, _)| *n == "authentication").unwrap().1.to_vec();
    assert_login_verifies(&done, &challenge, &auth_cert);
    // A second, warm login exchanges at most 8 APDUs.
    let warm = agent.login("hpki", &[0x12; 32], "hpki1234");
    assert!(warm["result"]["apdus"].as_u64().unwrap() <= 8, "{warm}");
    // Another site's page is refused outright.
    let (status, _) = agent.http(
        "POST",
        "/v1/sign",
        "https://evil.example",
        "application/json",
        r#"{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","kind":"hpki"}"#,
    );
    assert_eq!(status, 403);
}

#[test]
fn hpki_and_jpki_sign_at_the_same_time_in_two_readers() {
    let _pcsc = pcsc_lock();
    let _j = insert(jpki(), 0);
    let _h = insert(hpki(), 1);
    let agent = Served::start();
    agent.wait_card(0, "jpki");
    agent.wait_card(1, "hpki");
    std::thread::scope(|s| {
        let a = s.spawn(|| agent.login("jpki", &[0x21; 32], "1234"));
        let b = s.spawn(|| agent.login("hpki", &[0x22; 32], "hpki1234"));
        assert_login_verifies(&a.join().unwrap(), &[0x21; 32], jpki().certificates()[0].1);
        let auth_cert = hpki().certificates().into_iter().find(|(n, _)| *n == "authentication").unwrap().1.to_vec();
        assert_login_verifies(&b.join().unwrap(), &[0x22; 32], &auth_cert);
    });
}

#[test]
fn another_program_resetting_the_card_does_not_break_a_login() {
    let _pcsc = pcsc_lock();
    let card = insert(jpki(), 0);
    let agent = Served::start();
    agent.wait_card(0, "jpki");
    let resets_before = card.card().stats().resets;
    // While the user types the PIN, another PC/SC program resets the card: the VERIFY state and the
    // selected application are gone, and the agent must notice and start the sequence again.
    let done = agent.login_with("jpki", &[0x51; 32], "1234", || reset_by_another_program(0));
    assert!(card.card().stats().resets > resets_before, "the card was not reset");
    assert_login_verifies(&done, &[0x51; 32], jpki().certificates()[0].1);
}

/// Another PC/SC program (OpenSC's `opensc-tool --reset`) resets the card in reader `reader`.
pub(crate) fn reset_by_another_program(reader: u16) {
    let out = Command::new("timeout")
        .args(["30", "opensc-tool", "--reader", &reader.to_string(), "--reset"])
        .output()
        .unwrap();
    assert!(out.status.success(), "opensc-tool --reset: {}", text(&out));
}

/// `GET /v1/events`, read as the portal reads it.
pub(crate) struct Events {
    stream: BufReader<TcpStream>,
    seen: Vec<String>,
}

impl Events {
    /// Opens the stream and returns once the agent has answered, i.e. has subscribed: events after
    /// this call are not missed.
    pub(crate) fn open(agent: &Served) -> Self {
        let mut s = TcpStream::connect(agent.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(
            s,
            "GET /v1/events HTTP/1.1\r\nHost: {}\r\nOrigin: {PORTAL}\r\nAccept: text/event-stream\r\n\r\n",
            agent.addr
        )
        .unwrap();
        let mut stream = BufReader::new(s);
        let mut line = String::new();
        stream.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "GET /v1/events: {line}");
        while line.trim() != "" {
            line.clear();
            stream.read_line(&mut line).unwrap();
        }
        Events { stream, seen: Vec::new() }
    }

    /// Reads events until one satisfies `want`; returns it. Keep-alive comments do not extend the
    /// 30 s this may take.
    pub(crate) fn until(&mut self, want: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        if let Some(hit) = self.seen.iter().map(|e| serde_json::from_str(e).unwrap()).find(|e| want(e)) {
            return hit;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut line = String::new();
        loop {
            assert!(Instant::now() < deadline, "the awaited event never came; seen {:?}", self.seen);
            line.clear();
            match self.stream.read_line(&mut line) {
                Ok(0) => panic!("event stream closed; seen {:?}", self.seen),
                Ok(_) => {}
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
                Err(e) => panic!("reading events: {e}; seen {:?}", self.seen),
            }
            let Some(data) = line.strip_prefix("data: ") else { continue };
            self.seen.push(data.trim().to_owned());
            let event: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
            if want(&event) {
                return event;
            }
        }
    }
}

#[test]
fn a_card_moved_to_the_other_reader_is_followed_by_events() {
    let _pcsc = pcsc_lock();
    let mut card = insert(jpki(), 0);
    let agent = Served::start();
    agent.wait_card(0, "jpki");
    let mut events = Events::open(&agent);
    card.remove();
    insert_into(&mut card, 1);
    let card_id = hcpki_agent_card_id(jpki().certificates()[0].1);
    let removed = events.until(|e| e["event"] == "removed");
    assert_eq!(removed["reader"], "Virtual PCD 00 00");
    assert_eq!(removed["card_id"], card_id.as_str());
    let inserted = events.until(|e| e["event"] == "inserted");
    assert_eq!(inserted["reader"], "Virtual PCD 00 01");
    assert_eq!(inserted["kind"], "jpki");
    assert_eq!(inserted["card_id"], card_id.as_str());
    agent.wait_card(1, "jpki");
    assert_login_verifies(&agent.login("jpki", &[0x31; 32], "1234"), &[0x31; 32], jpki().certificates()[0].1);
}

/// vpcd readers cannot be unplugged one by one; what the agent must survive is the PC/SC service
/// going away with every reader and coming back (pcscd restarted, a USB hub reset).
#[test]
fn readers_vanishing_with_pcscd_and_coming_back() {
    let _pcsc = pcsc_lock();
    let _card = insert(hpki(), 0);
    let agent = Served::start();
    agent.wait_card(0, "hpki");
    let mut events = Events::open(&agent);
    let pcsc_stack = crate::harness::repo_root().join("scripts/pcsc-stack");
    stop_pcscd();
    events.until(|e| e["event"] == "removed" && e["reader"] == "Virtual PCD 00 00");
    events.until(|e| e["event"] == "reader_removed");
    // While pcscd is down the API says so instead of hanging.
    let (status, body) = agent.http("GET", "/v1/cards", PORTAL, "text/plain", "");
    assert!(status == 503 || body.contains("\"readers\":[]"), "{status} {body}");
    let restarted = Command::new(&pcsc_stack).arg("start").output().unwrap();
    assert!(restarted.status.success(), "{}", text(&restarted));
    events.until(|e| e["event"] == "inserted" && e["kind"] == "hpki");
    agent.wait_card(0, "hpki");
    let auth_cert = hpki().certificates().into_iter().find(|(n, _)| *n == "authentication").unwrap().1.to_vec();
    assert_login_verifies(&agent.login("hpki", &[0x41; 32], "hpki1234"), &[0x41; 32], &auth_cert);
}

/// pcscd stopped, as the PC/SC service going away with every reader (`scripts/pcsc-stack start` brings it back).
pub(crate) fn stop_pcscd() {
    let pids = Command::new("pgrep").args(["-x", "pcscd"]).output().unwrap();
    for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
        assert!(Command::new("kill").args(["-TERM", pid]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Path::new("/proc").join(pid).exists() {
            assert!(Instant::now() < deadline, "pcscd {pid} did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The agent's card id: hex SHA-256 of the identity certificate (computed here with OpenSSL).
pub(crate) fn hcpki_agent_card_id(cert: &[u8]) -> String {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-r"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(cert).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_owned()
}

#[test]
fn bench_reports_cold_and_warm_logins_through_pcscd() {
    let _pcsc = pcsc_lock();
    let _card = insert(jpki(), 0);
    wait_for_reader(0, "JPKI card");
    let out = cli(&["bench", "--card", "jpki", "--logins", "5", "--json"], "1234\n");
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["warm"].as_array().unwrap().len(), 5);
    for s in report["warm"].as_array().unwrap() {
        assert!(s["apdus"].as_u64().unwrap() <= 8, "{s}");
    }
    assert!(report["cold"]["apdus"].as_u64().unwrap() > 8);
    drop(_card);

    // Document signatures with the HPKI card's signature key (issue #27): the same report, what it measured named.
    let _card = insert(hpki(), 0);
    wait_for_reader(0, "HPKI card");
    let out = cli(&["bench", "--card", "hpki", "--logins", "3", "--documents", "--json"], "hpki1234\n");
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["operation"].as_str(), report["warm"].as_array().unwrap().len()), (Some("document"), 3));
    assert!(report["warm"].as_array().unwrap().iter().all(|s| s["apdus"].as_u64().unwrap() > 0));
}

#[test]
fn pin_status_and_the_basic_four_items_from_the_cli() {
    let _pcsc = pcsc_lock();
    let card = insert(jpki(), 0);
    wait_for_reader(0, "JPKI card");
    let out = cli(&["pin-status", "--card", "jpki"], "");
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("Auth PIN: 3 tries left") && shown.contains("Sign PIN: 5 tries left"), "{shown}");
    // A patient-facing PIN pad (issue #45 item 7): pcscd hands the PC/SC Part 10 feature request to vpcd's driver,
    // which has no secure PIN entry; the agent says so and what to do rather than fall back to the keyboard.
    let out = cli(&["pin-pad", "--card", "jpki"], "");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("no PIN pad") && said.contains("FEATURE_VERIFY_PIN_DIRECT"),
        "{}",
        text(&out)
    );
    let out = cli(&["attributes", "--pin-stdin", "--json"], "1234\n");
    assert!(out.status.success(), "{}", text(&out));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let Identity::Jpki(id) = jpki() else { unreachable!() };
    assert_eq!(got["name"], id.subject.attributes.name.as_str());
    assert_eq!(got["address"], id.subject.attributes.address.as_str());
    assert_eq!(got["birth_date"], id.subject.attributes.birth_date.as_str());
    assert_eq!(got["sex"], id.subject.attributes.sex.as_str());
    // The PIN and the personal data stay off stderr (logs).
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("1234") && !err.contains(id.subject.attributes.name.as_str()), "{err}");
    // No try was spent by the status query; a wrong text PIN spends one.
    let out = cli(&["attributes", "--pin-stdin"], "0000\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 tries left"), "{}", text(&out));
    drop(card);
}

#[test]
fn both_card_kinds_one_after_another_in_one_reader() {
    let _pcsc = pcsc_lock();
    let agent = Served::start();
    for round in 0..2u8 {
        let card = insert(jpki(), 0);
        agent.wait_card(0, "jpki");
        assert_login_verifies(
            &agent.login("jpki", &[0x60 + round; 32], "1234"),
            &[0x60 + round; 32],
            jpki().certificates()[0].1,
        );
        drop(card);
        agent.wait_empty(0);
        let card = insert(hpki(), 0);
        agent.wait_card(0, "hpki");
        let auth_cert = hpki().certificates().into_iter().find(|(n, _)| *n == "authentication").unwrap().1.to_vec();
        assert_login_verifies(&agent.login("hpki", &[0x70 + round; 32], "hpki1234"), &[0x70 + round; 32], &auth_cert);
        drop(card);
        agent.wait_empty(0);
    }
}

/// One user's agent is not another user's (issue #44, D118): a program of another uid on this PC connects to the
/// agent's loopback port and is closed before a byte is answered (on a shared PC, its card operations would run in
/// this user's agent, the PIN typed into this user's page), while the agent's own user is answered; and a second
/// `serve` of the same user (the same state directory) is refused, saying which agent already serves.
#[test]
fn another_users_program_is_not_answered_and_a_second_agent_is_refused() {
    let agent = Served::start();
    let url = format!("http://{}/healthz", agent.addr);
    let own = Command::new("curl").args(["-s", "-m", "10", &url]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&own.stdout), "ok", "{}", text(&own));
    let nobody = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-s", "-m", "10", &url])
        .output()
        .unwrap();
    assert!(!nobody.status.success() && nobody.stdout.is_empty(), "another user was answered: {}", text(&nobody));
    // Closed without an answer: curl says "empty reply" (52), or "connection reset" (56) when its request had
    // already arrived unread, which makes the kernel answer the close with a reset.
    assert!(
        matches!(nobody.status.code(), Some(52 | 56)),
        "not closed without an answer (curl: empty reply or reset): {}",
        text(&nobody)
    );

    let second = Command::new(agent_bin())
        .env("HCPKI_AGENT_STATE_DIR", agent.state.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--allow-origin", PORTAL])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!second.status.success(), "{}", text(&second));
    assert!(text(&second).contains("another hcpki-agent is already serving for this user"), "{}", text(&second));
}
