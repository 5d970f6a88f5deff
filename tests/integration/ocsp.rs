//! The OCSP responder at the AIA URL, asked by OpenSSL (`openssl ocsp`, POST with and without nonce, SHA-1 and
//! SHA-256 CertIDs; GET through curl with the request OpenSSL wrote, checked by `openssl ocsp -respin`) and by
//! GnuTLS `ocsptool`; every answer linted by pkilint's OCSP linter. Bad requests get OCSP or HTTP errors and
//! leave the responder serving. The server's mutual-TLS check refuses a revoked PC certificate at the
//! handshake.

use crate::fixtures::{Key, csr, run_ok, x509_text};
use crate::harness::{Backend, Hcpki, describe};
use crate::peers::{self, Pkilint};
use crate::serve::Served;
use std::path::{Path, PathBuf};
use std::process::Command;

on_both_backends!(
    openssl_and_gnutls_see_good_then_revoked,
    bad_ocsp_requests_get_clear_errors,
    revoked_pc_certificate_fails_the_tls_handshake,
);

/// A router certificate carries the responder's URL in AIA; OpenSSL (POST, nonce and no nonce, SHA-1 and
/// SHA-256), curl GET + OpenSSL, and ocsptool all verify a `good` answer under the CA chain; after
/// `hcpki revoke` each reports `revoked` with the reason. Every answer passes pkilint.
fn openssl_and_gnutls_see_good_then_revoked(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Asking clinic");
    let cert = issue(&h, "router", &id, "asked");
    let aia = x509_text(&cert, &["-ext", "authorityInfoAccess"]);
    let url = aia.split("OCSP - URI:").nth(1).and_then(|s| s.lines().next()).map(str::trim);
    let url = url.unwrap_or_else(|| panic!("no OCSP URL in AIA\n{aia}"));
    let path = &url[url.find("/ocsp/").unwrap_or_else(|| panic!("OCSP URL {url} is not under /ocsp/"))..];
    assert_eq!(path, "/ocsp/router");
    let server = Served::start(&h, &[]);
    let url = format!("http://127.0.0.1:{}{path}", server.http_port);
    let ask = Asker::new(&h, &url, "router");

    let mut lint = Pkilint::ocsp_responses();
    for (extra, name) in [(&[][..], "nonce"), (&["-no_nonce"][..], "plain"), (&["-sha256"][..], "sha256")] {
        let (text, response) = ask.openssl(&cert, extra, name);
        assert!(text.contains(&format!("{}: good", cert.display())), "{name}: {text}");
        assert!(text.contains("Response verify OK"), "{name}: {text}");
        assert!(!text.contains("WARNING: no nonce"), "{name}: the nonce is echoed\n{text}");
        lint.add(&response);
    }
    // thisUpdate back-dated five minutes before producedAt (the signing time); a relying party allowing no
    // clock skew at all (-validity_period 0) accepts it.
    let (text, _) = ask.openssl(&cert, &["-no_nonce", "-resp_text", "-validity_period", "0"], "back-dated");
    assert!(text.contains(": good") && text.contains("Response verify OK"), "{text}");
    let field = |name: &str| {
        let line = text.lines().find_map(|l| l.trim().strip_prefix(name)).unwrap_or_else(|| panic!("{name}\n{text}"));
        crate::fixtures::unix_of(line)
    };
    assert_eq!(field("This Update: "), field("Produced At: ") - 300, "{text}");
    let (headers, text) = ask.get(&cert, "get-good");
    assert!(text.contains(": good"), "{text}");
    assert!(headers.contains("cache-control: public, max-age="), "{headers}");
    assert!(headers.contains("expires: ") && headers.contains("last-modified: "), "{headers}");
    let gnutls = ask.ocsptool(&cert);
    assert!(gnutls.contains("Certificate Status: good") && gnutls.contains("Verifying OCSP Response: Success"));

    let serial = x509_text(&cert, &["-serial"]).trim().trim_start_matches("serial=").to_ascii_lowercase();
    h.ok(&["revoke", "--serial", &serial, "--reason", "keyCompromise"]);
    // The server reloads revocations every second; wait for the event, bounded, without a timing assertion.
    let mut seen = String::new();
    for _ in 0..120 {
        seen = ask.openssl(&cert, &["-no_nonce"], "revoked").0;
        if seen.contains(": revoked") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(seen.contains(": revoked") && seen.contains("Reason: keyCompromise"), "{seen}");
    assert!(seen.contains("Response verify OK"), "{seen}");
    let (text, response) = ask.openssl(&cert, &[], "revoked-nonce");
    assert!(text.contains(": revoked") && text.contains("Response verify OK"), "{text}");
    lint.add(&response);
    lint.check();
    let (_, text) = ask.get(&cert, "get-revoked");
    assert!(text.contains(": revoked") && text.contains("Reason: keyCompromise"), "{text}");
    let gnutls = ask.ocsptool(&cert);
    assert!(gnutls.contains("Certificate Status: revoked"), "{gnutls}");
    assert!(gnutls.contains("Verifying OCSP Response: Success"), "{gnutls}");
    server.stop();
}

/// Garbage, truncated and oversize requests, a wrong media type, an unknown responder path, a CA that is not
/// ours and a serial never issued: `malformedRequest`, `unauthorized`, `unknown`, 413, 415, 404. The
/// responder answers correctly afterwards.
fn bad_ocsp_requests_get_clear_errors(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Odd clinic");
    let cert = issue(&h, "pc", &id, "odd");
    let server = Served::start(&h, &[]);
    let url = format!("http://127.0.0.1:{}/ocsp/pc", server.http_port);
    let ask = Asker::new(&h, &url, "pc");

    let good = ask.request_der(&["-cert", cert.to_str().unwrap()], "good.req");
    let der = std::fs::read(&good).unwrap();
    // Without a nonce the answer is the pre-signed one: the same bytes every time (ECDSA signatures are
    // randomized, so a per-request signature would differ).
    let (status, _, first) = ask.post(&der, "application/ocsp-request", "first");
    let (_, _, second) = ask.post(&der, "application/ocsp-request", "second");
    assert_eq!(status, 200);
    assert_eq!(first, second, "a request without nonce is answered from the pre-signed cache");
    for (name, body) in [
        ("garbage", b"this is not DER".to_vec()),
        ("truncated", der[..der.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("trailing", [der.as_slice(), b"\0"].concat()),
    ] {
        let (status, _, response) = ask.post(&body, "application/ocsp-request", name);
        assert_eq!(status, 200, "{name}: OCSP errors are OCSP responses");
        assert!(ask.respin_status(&response).contains("malformedrequest"), "{name}");
    }
    let (status, _, body) = ask.post(&vec![0x30; 64 * 1024], "application/ocsp-request", "oversize");
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    let (status, _, body) = ask.post(&der, "text/plain", "media");
    assert_eq!(status, 415, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("application/ocsp-request"));
    let wrong = format!("http://127.0.0.1:{}/ocsp/nowhere", server.http_port);
    for extra in [&[][..], &["--data-binary", "x", "-H", "Content-Type: application/ocsp-request"][..]] {
        let out =
            run_ok(Command::new("curl").args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", &wrong]).args(extra));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "404");
    }

    // A CA that is not ours: unauthorized (RFC 6960 §2.3).
    let foreign = foreign_ca(&h);
    let req = ask.request_der(&["-issuer", foreign.to_str().unwrap(), "-serial", "0x1234"], "foreign.req");
    let (_, _, response) = ask.post(&std::fs::read(req).unwrap(), "application/ocsp-request", "foreign");
    assert!(ask.respin_status(&response).contains("unauthorized"));
    // Our CA, a serial it never issued: a signed `unknown`.
    let out = ask.run(&["-issuer", ask.issuer.to_str().unwrap(), "-serial", "0x7f0102030405060708090a0b0c0d0e0f"]);
    assert!(out.contains(": unknown") && out.contains("Response verify OK"), "{out}");

    let (text, _) = ask.openssl(&cert, &[], "after");
    assert!(text.contains(": good") && text.contains("Response verify OK"), "still serving\n{text}");
    server.stop();
}

/// A PC certificate completes the TLS handshake with the admin listener; once revoked, its next handshake is
/// refused with the certificate_revoked alert (the revocation board, not a CRL download).
fn revoked_pc_certificate_fails_the_tls_handshake(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Handshaking clinic");
    let cert = issue(&h, "pc", &id, "hs");
    let key = h.scratch().join("hs-p256.key");
    let server = Served::start(&h, &[]);
    let handshake = |tls: &[&str]| {
        Command::new("curl")
            .args(tls)
            .args(["-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(h.chain_file("server"))
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .arg(format!("https://127.0.0.1:{}/api/v1/whoami", server.https_port))
            .output()
            .unwrap()
    };
    let before = handshake(&["--tlsv1.2"]);
    assert!(before.status.success(), "the handshake with a good certificate fails\n{}", describe(&before));

    let serial = x509_text(&cert, &["-serial"]).trim().trim_start_matches("serial=").to_ascii_lowercase();
    h.ok(&["revoke", "--serial", &serial, "--reason", "affiliationChanged"]);
    // TLS 1.2 first: the alert arrives inside the handshake, so curl always reports it. In TLS 1.3 the client
    // may have sent its request before the alert comes; it still gets no answer.
    let mut after = handshake(&["--tls-max", "1.2"]);
    for _ in 0..120 {
        if !after.status.success() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        after = handshake(&["--tls-max", "1.2"]);
    }
    assert!(!after.status.success(), "a revoked certificate still connects\n{}", describe(&after));
    assert!(describe(&after).contains("alert certificate revoked"), "{}", describe(&after));
    let tls13 = handshake(&["--tlsv1.3"]);
    assert!(!tls13.status.success() && String::from_utf8_lossy(&tls13.stdout) == "000", "{}", describe(&tls13));
    let log = server.stop();
    assert!(log.contains("TLS client certificate refused: revoked"), "{log}");
}

/// Issue a `profile` certificate for `facility` from a P-256 CSR (key at `<scratch>/<name>-p256.key`).
fn issue(h: &Hcpki, profile: &str, facility: &str, name: &str) -> PathBuf {
    let request = csr(h.scratch(), name, Key::P256, name);
    let out = h.path(&format!("{name}.pem"));
    h.ok(&["issue", "--profile", profile, "--facility", facility, "--csr", path(&request), "--out", path(&out)]);
    out
}

/// A self-signed CA of nobody's: OCSP must not answer for it.
fn foreign_ca(h: &Hcpki) -> PathBuf {
    let (cert, key) = (h.path("foreign-ca.pem"), h.path("foreign-ca.key"));
    run_ok(
        Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"])
            .args(["-subj", "/CN=Foreign CA", "-days", "2", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    cert
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The OCSP clients, pointed at one responder URL and one CA.
pub(crate) struct Asker<'a> {
    h: &'a Hcpki,
    url: &'a str,
    issuer: PathBuf,
    chain: PathBuf,
}

impl<'a> Asker<'a> {
    /// The responder at `url` for certificates of `h`'s CA `ca` (its certificate and chain from `hcpki ca`).
    pub(crate) fn new(h: &'a Hcpki, url: &'a str, ca: &str) -> Self {
        Self { h, url, issuer: h.ca_cert_file(ca), chain: h.chain_file(ca) }
    }

    /// `openssl ocsp -cert CERT -url …` with `extra`; returns (stdout + stderr, the response file).
    pub(crate) fn openssl(&self, cert: &Path, extra: &[&str], name: &str) -> (String, PathBuf) {
        let response = self.h.path(&format!("ocsp-{name}.der"));
        // Digest options must come before -cert.
        let text = self.run(&[extra, &["-cert", path(cert), "-respout", path(&response)]].concat());
        (text, response)
    }

    /// `openssl ocsp -issuer … -url … -CAfile chain` with `args`, output of both streams.
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("openssl")
            .args(["ocsp", "-issuer", path(&self.issuer), "-CAfile", path(&self.chain), "-url", self.url])
            .args(args)
            .output()
            .unwrap();
        describe(&out)
    }

    /// A DER request written by OpenSSL (`-reqout`) for `args` (`-cert …` or `-issuer … -serial …`).
    fn request_der(&self, args: &[&str], name: &str) -> PathBuf {
        let file = self.h.path(name);
        let mut cmd = Command::new("openssl");
        cmd.args(["ocsp", "-no_nonce"]);
        if !args.contains(&"-issuer") {
            cmd.args(["-issuer", path(&self.issuer)]);
        }
        run_ok(cmd.args(args).arg("-reqout").arg(&file));
        file
    }

    /// The GET form (RFC 6960 A.1) by curl, the answer checked by `openssl ocsp -respin`; returns (lowercased
    /// response headers, OpenSSL's report).
    fn get(&self, cert: &Path, name: &str) -> (String, String) {
        let request = std::fs::read(self.request_der(&["-cert", path(cert)], &format!("{name}.req"))).unwrap();
        let encoded = base64_url_path(&request);
        let response = self.h.path(&format!("{name}.der"));
        let headers = self.h.path(&format!("{name}.headers"));
        run_ok(
            Command::new("curl")
                .args(["-sS", "--fail", "-D"])
                .arg(&headers)
                .arg("-o")
                .arg(&response)
                .arg(format!("{}/{encoded}", self.url)),
        );
        let out = Command::new("openssl")
            .args(["ocsp", "-respin", path(&response), "-issuer", path(&self.issuer), "-CAfile", path(&self.chain)])
            .args(["-cert", path(cert), "-no_nonce"])
            .output()
            .unwrap();
        peers::pkilint_ocsp(&response);
        (std::fs::read_to_string(headers).unwrap().to_ascii_lowercase(), describe(&out))
    }

    /// POST `body` with `media`; returns (HTTP status, headers, body).
    fn post(&self, body: &[u8], media: &str, name: &str) -> (u16, String, Vec<u8>) {
        let (req, resp) = (self.h.path(&format!("{name}.body")), self.h.path(&format!("{name}.resp")));
        std::fs::write(&req, body).unwrap();
        let out = run_ok(
            Command::new("curl")
                .args(["-sS", "-o", path(&resp), "-w", "%{http_code}", "-H", &format!("Content-Type: {media}")])
                .arg("--data-binary")
                .arg(format!("@{}", req.display()))
                .arg(self.url),
        );
        let status = String::from_utf8_lossy(&out.stdout).parse().unwrap();
        (status, String::new(), std::fs::read(resp).unwrap_or_default())
    }

    /// OpenSSL's reading of an unsigned error response (lowercased).
    fn respin_status(&self, response: &[u8]) -> String {
        let file = self.h.path(&format!("status-{}.der", uuid::Uuid::new_v4().simple()));
        std::fs::write(&file, response).unwrap();
        let out = Command::new("openssl").args(["ocsp", "-resp_text", "-noverify", "-respin", path(&file)]).output();
        describe(&out.unwrap()).to_ascii_lowercase()
    }

    /// GnuTLS `ocsptool --ask` (nonce on), trusting the CA chain.
    fn ocsptool(&self, cert: &Path) -> String {
        let out = Command::new("ocsptool")
            .arg(format!("--ask={}", self.url))
            .args(["--nonce", "--load-issuer", path(&self.issuer), "--load-cert", path(cert)])
            .args(["--load-trust", path(&self.chain)])
            .output()
            .unwrap();
        describe(&out)
    }
}

/// Base64 of `der`, URL-encoded for a path segment (`+`, `/`, `=` escaped), as RFC 6960 A.1 describes.
fn base64_url_path(der: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(der).replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}
