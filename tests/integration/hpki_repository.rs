//! The test HPKI hierarchy's repository, served on 127.0.0.1 while a test runs (issue #27 item 6): what the
//! certificates of `HpkiTestCas::with_repository(repo.base_url())` name is really there, so a relying party that
//! follows them (`hcpki signature verify`, pyHanko, `openssl ocsp`) fetches revocation data as it would from an
//! HPKI CA's repository.
//!
//! * **CRLs** (`GET`): whatever the test sets at a URL's path (`set_crl`), 404 otherwise — a test withdraws a CRL
//!   to make a relying party go on to OCSP, or replaces it.
//! * **OCSP** (`POST /ocsp/sign`; hcpki, pyHanko and OpenSSL all POST): passed to a real responder, `openssl
//!   ocsp -index index.txt -rsigner … -CA signature-ca.pem -ndays 1` run as a child process, answering from an
//!   index the test writes (`serve_ocsp`: which certificates are good, which revoked and since when) and signing
//!   with the signature CA's delegated responder certificate (`HpkiTestCas::signature_ocsp_responder`). A new
//!   index means a new responder: OpenSSL notices a changed index only by its modification time in whole seconds,
//!   so an index rewritten within the second would go unnoticed; the certificates' URL stays the same because
//!   this server passes requests on to whichever responder is current.
//!
//! Everything stops when the repository is dropped (the responder killed, the listener closed).

use crate::harness::describe;
use hcpki_vcard::testpki::HpkiTestCas;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use x509_cert::der::Decode;

/// Where the OCSP responder is asked, under the base URL (`HpkiTestCas::signature_ocsp_url`).
const OCSP_PATH: &str = "/ocsp/sign";
/// Largest request body read: OCSP requests are a few hundred octets.
const MAX_REQUEST: usize = 64 * 1024;

/// The repository: an HTTP server on 127.0.0.1 and, once asked for, an OCSP responder behind it.
pub(crate) struct HpkiRepository {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
    dir: tempfile::TempDir,
}

#[derive(Default)]
struct State {
    /// URL path → CRL (DER).
    crls: HashMap<String, Vec<u8>>,
    responder: Option<Responder>,
    /// How many OCSP requests came in, and how many GETs each path had.
    ocsp_requests: usize,
    gets: HashMap<String, usize>,
}

/// What the responder says of one certificate (a row of its index.txt).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OcspEntry<'a> {
    /// The certificate (DER), issued by the signature CA.
    pub cert: &'a [u8],
    /// Revoked since (Unix seconds), or good.
    pub revoked_at: Option<i64>,
}

impl<'a> OcspEntry<'a> {
    pub(crate) fn good(cert: &'a [u8]) -> Self {
        Self { cert, revoked_at: None }
    }

    pub(crate) fn revoked(cert: &'a [u8], at: i64) -> Self {
        Self { cert, revoked_at: Some(at) }
    }
}

impl HpkiRepository {
    /// A repository serving nothing yet, on a free loopback port.
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state: Arc<Mutex<State>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (served, stopping) = (state.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = served.clone();
                // One thread per connection: pyHanko asks for CRLs and OCSP at once.
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { port, state, stop, accept: Some(accept), dir: tempfile::tempdir().unwrap() }
    }

    /// `http://127.0.0.1:PORT`: the base for `HpkiTestCas::with_repository`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Serve `crl` at `url` (one of `HpkiTestCas`'s `*_crl_url`/`root_arl_url`), or 404 there when `None`.
    pub(crate) fn set_crl(&self, url: &str, crl: Option<Vec<u8>>) {
        let path = self.path_of(url);
        let mut state = self.state.lock().unwrap();
        match crl {
            Some(der) => state.crls.insert(path, der),
            None => state.crls.remove(&path),
        };
    }

    /// How many times `url` was asked for (GET).
    pub(crate) fn gets(&self, url: &str) -> usize {
        let path = self.path_of(url);
        self.state.lock().unwrap().gets.get(&path).copied().unwrap_or_default()
    }

    /// How many OCSP requests came in (each passed to the responder, or 503 when none runs).
    pub(crate) fn ocsp_requests(&self) -> usize {
        self.state.lock().unwrap().ocsp_requests
    }

    /// (Re)start the signature CA's OCSP responder, knowing exactly `entries` (any other certificate is
    /// "unknown"), signing with a delegated responder certificate `cas` issues now, its answers valid a day.
    pub(crate) fn serve_ocsp(&self, cas: &HpkiTestCas, entries: &[OcspEntry<'_>]) {
        let mut state = self.state.lock().unwrap();
        // The old one first: its answers must not be taken for the new index's.
        state.responder = None;
        let dir = self.dir.path().join(format!("responder-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        let index: String = entries.iter().map(index_row).collect();
        std::fs::write(dir.join("index.txt"), index).unwrap();
        let responder = cas.signature_ocsp_responder().unwrap();
        pem(&dir.join("responder.pem"), "CERTIFICATE", &responder.cert);
        pem(&dir.join("responder.key"), "PRIVATE KEY", responder.key.pkcs8_der());
        pem(&dir.join("ca.pem"), "CERTIFICATE", cas.signature_ca_certificate());
        state.responder = Some(Responder::start(&dir));
    }

    /// The path part of `url`, which must be under this repository.
    fn path_of(&self, url: &str) -> String {
        let base = self.base_url();
        url.strip_prefix(&base).unwrap_or_else(|| panic!("{url} is not under the repository {base}")).to_owned()
    }
}

impl Drop for HpkiRepository {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        if let Ok(mut state) = self.state.lock() {
            state.responder = None;
        }
    }
}

/// `openssl ocsp` as a child process, killed when dropped.
struct Responder {
    child: Child,
    port: u16,
}

impl Responder {
    /// Starts the responder over the files in `dir` on a port the system picks (`-port 0`), and waits for the
    /// line it prints once listening (`ACCEPT [::]:PORT PID=…`).
    fn start(dir: &Path) -> Self {
        let log = std::fs::File::create(dir.join("responder.log")).unwrap();
        let mut child = Command::new("openssl")
            .current_dir(dir)
            .args(["ocsp", "-index", "index.txt", "-port", "0", "-rsigner", "responder.pem", "-rkey"])
            .args(["responder.key", "-CA", "ca.pem", "-ndays", "1"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("run openssl ocsp (apt install openssl)");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line
            .strip_prefix("ACCEPT ")
            .and_then(|l| l.split_whitespace().next())
            .and_then(|address| address.rsplit(':').next())
            .and_then(|p| p.parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let status = child.wait().unwrap();
            let log = std::fs::read_to_string(dir.join("responder.log")).unwrap_or_default();
            panic!("openssl ocsp did not start ({status}): {line}\n{log}");
        };
        // Anything it prints later must not fill the pipe and stop it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Self { child, port }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.x exchange: a CRL, the responder's answer, or 404.
fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    let Some((method, path, body)) = read_request(&stream) else { return };
    let response = if method == "POST" && path == OCSP_PATH {
        let port = {
            let mut state = state.lock().unwrap();
            state.ocsp_requests += 1;
            state.responder.as_ref().map(|r| r.port)
        };
        let head = format!(
            "POST / HTTP/1.0\r\nContent-Type: application/ocsp-request\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        port.map_or_else(|| status("503 Service Unavailable"), |port| ask_responder(port, &head, &body))
    } else if method == "GET" {
        let crl = {
            let mut state = state.lock().unwrap();
            *state.gets.entry(path.clone()).or_default() += 1;
            state.crls.get(&path).cloned()
        };
        match crl {
            Some(der) => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nConnection: close\r\n";
                let mut r = format!("{head}Content-Length: {}\r\n\r\n", der.len()).into_bytes();
                r.extend(der);
                r
            }
            None => status("404 Not Found"),
        }
    } else {
        status("405 Method Not Allowed")
    };
    let _ = stream.write_all(&response);
}

/// The method, the path and the body (by Content-Length, at most [`MAX_REQUEST`]).
fn read_request(stream: &TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut words = request_line.split_whitespace();
    let (method, path) = (words.next()?.to_owned(), words.next()?.to_owned());
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok()?;
        }
    }
    if length > MAX_REQUEST {
        return None;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

/// The responder's whole answer to `head` + `body` (HTTP/1.0: it closes the connection when done).
fn ask_responder(port: u16, head: &str, body: &[u8]) -> Vec<u8> {
    let Ok(mut responder) = TcpStream::connect(("127.0.0.1", port)) else { return status("502 Bad Gateway") };
    let mut answer = Vec::new();
    let sent = responder.write_all(head.as_bytes()).and_then(|()| responder.write_all(body));
    if sent.and_then(|()| responder.read_to_end(&mut answer)).is_err() || answer.is_empty() {
        return status("502 Bad Gateway");
    }
    answer
}

fn status(line: &str) -> Vec<u8> {
    format!("HTTP/1.1 {line}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into_bytes()
}

/// A row of OpenSSL's CA database (`openssl ca`'s index.txt, read by `openssl ocsp -index`), fields separated by
/// tabs: status `V` (valid) or `R` (revoked), notAfter, the revocation time (empty for `V`), the serial in upper
/// case hexadecimal as OpenSSL prints it (`BN_bn2hex`: no leading zero octet), the file name (`unknown`), and a
/// subject (ours unique per row: OpenSSL refuses two valid rows with one subject by default).
fn index_row(entry: &OcspEntry<'_>) -> String {
    let cert = x509_cert::Certificate::from_der(entry.cert).unwrap();
    let tbs = cert.tbs_certificate();
    let serial = tbs.serial_number().as_bytes();
    let first = serial.iter().position(|b| *b != 0).unwrap_or(serial.len().saturating_sub(1));
    let serial = hex::encode_upper(&serial[first..]);
    let not_after = utc_time(hcpki_pkix::time::unix(&tbs.validity().not_after));
    match entry.revoked_at {
        None => format!("V\t{not_after}\t\t{serial}\tunknown\t/CN={serial}\n"),
        Some(at) => format!("R\t{not_after}\t{}\t{serial}\tunknown\t/CN={serial}\n", utc_time(at)),
    }
}

/// `YYMMDDHHMMSSZ` (UTCTime, as index.txt holds times before 2050).
fn utc_time(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap();
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        t.year() % 100,
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn pem(file: &Path, label: &str, der: &[u8]) {
    let text = x509_cert::der::pem::encode_string(label, x509_cert::der::pem::LineEnding::LF, der).unwrap();
    std::fs::write(file, text).unwrap();
}

/// `openssl ocsp -url URL -issuer CA -cert CERT -CAfile ROOT` (the CA also among the certificates that may build
/// the responder's chain): OpenSSL's own client asking the same responder. Its stdout and stderr.
pub(crate) fn openssl_ocsp(url: &str, dir: &Path, root: &[u8], ca: &[u8], cert: &[u8]) -> String {
    let file = |name: &str, der: &[u8]| -> PathBuf {
        let f = dir.join(name);
        pem(&f, "CERTIFICATE", der);
        f
    };
    let (root, ca, cert) = (file("ocsp-root.pem", root), file("ocsp-ca.pem", ca), file("ocsp-cert.pem", cert));
    let out = Command::new("openssl")
        .args(["ocsp", "-url", url, "-issuer"])
        .arg(&ca)
        .arg("-cert")
        .arg(&cert)
        .arg("-CAfile")
        .arg(&root)
        .arg("-verify_other")
        .arg(&ca)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl ocsp -url {url}\n{}", describe(&out));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_repository_serves_crls_and_openssl_answers_ocsp_from_the_index() {
    let repo = HpkiRepository::start();
    let cas = HpkiTestCas::with_repository(&repo.base_url()).unwrap();
    let subject = hcpki_vcard::testpki::HpkiSubject::default();
    let (good, revoked) = (cas.issue(&subject).unwrap(), cas.issue(&subject).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let url = cas.signature_ocsp_url().unwrap();
    let ask = |cert: &[u8]| openssl_ocsp(&url, dir.path(), &good.root, &good.signature_ca, cert);

    // A CRL is there once set, and gone once withdrawn.
    let crl_url = cas.signature_crl_url();
    assert_eq!(http_get(&crl_url).0, 404);
    let crl = cas.signature_crl(&[], hcpki_vcard::testpki::CrlValidity::fresh(24)).unwrap();
    repo.set_crl(&crl_url, Some(crl.clone()));
    assert_eq!(http_get(&crl_url), (200, crl));
    assert_eq!(repo.gets(&crl_url), 2);
    repo.set_crl(&crl_url, None);
    assert_eq!(http_get(&crl_url).0, 404);

    let at = hcpki_pkix::time::now_unix() - 600;
    repo.serve_ocsp(&cas, &[OcspEntry::good(&good.signature.cert), OcspEntry::revoked(&revoked.signature.cert, at)]);
    let said = ask(&good.signature.cert);
    assert!(said.contains("Response verify OK") && said.contains(": good"), "{said}");
    let said = ask(&revoked.signature.cert);
    assert!(said.contains(": revoked"), "{said}");
    let when = time::OffsetDateTime::from_unix_timestamp(at).unwrap();
    assert!(
        said.contains(&format!("{:02}:{:02}:{:02} {}", when.hour(), when.minute(), when.second(), when.year())),
        "{said}"
    );
    let stranger = cas.issue(&subject).unwrap();
    assert!(ask(&stranger.signature.cert).contains(": unknown"));
    // A new index: the same URL now answers from it at once.
    repo.serve_ocsp(&cas, &[OcspEntry::revoked(&good.signature.cert, at)]);
    assert!(ask(&good.signature.cert).contains(": revoked"));
    assert_eq!(repo.ocsp_requests(), 4);
}

/// A plain GET (status, body) through std, for the repository's own test.
fn http_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..end]).to_string();
    let code = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, answer[end + 4..].to_vec())
}
