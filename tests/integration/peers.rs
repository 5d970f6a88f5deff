//! The real peers, through the wrappers in tests/peers/ (the same scripts a person runs by hand).

use crate::harness::{describe, repo_root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script(name: &str) -> PathBuf {
    repo_root().join("tests/peers").join(name)
}

fn run(name: &str, args: &[&Path], extra: &[&str]) -> Output {
    let path = script(name);
    Command::new("bash")
        .arg(&path)
        .args(args)
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()))
}

fn must_pass(what: &str, out: Output) {
    assert!(out.status.success(), "{what} failed ({})\n{}", out.status, describe(&out));
}

/// `openssl verify -x509_strict` of `cert` against `chain` (root + issuing), with `-purpose` when given.
pub fn openssl_verify(chain: &Path, cert: &Path, purpose: Option<&str>) {
    let out = run("verify.sh", &[chain, cert], purpose.as_slice());
    must_pass(&format!("openssl verify {} (purpose {purpose:?})", cert.display()), out);
}

/// pkilint's RFC 5280 linter: no finding at ERROR or above.
pub fn pkilint(cert: &Path) {
    let out = run("pkilint.sh", &[cert], &[]);
    must_pass(&format!("pkilint {}", cert.display()), out);
}

/// Files a test lints with pkilint all at once, in one pkilint process (`pkilint.sh FILE...`: its start-up,
/// ~0.35 s of CPU, paid once rather than once per file): [`Pkilint::check`] fails naming each file with a
/// finding at ERROR or above. Dropped unchecked outside a panic, it fails the test: no file goes unlinted.
#[must_use = "the files are linted by check()"]
pub struct Pkilint {
    kind: Option<&'static str>,
    files: Vec<PathBuf>,
}

impl Pkilint {
    /// Certificates, RFC 5280 (as [`pkilint`]).
    pub fn certs() -> Self {
        Self { kind: None, files: Vec::new() }
    }

    /// OCSP responses, RFC 6960 (as [`pkilint_ocsp`]).
    pub fn ocsp_responses() -> Self {
        Self { kind: Some("--ocsp"), files: Vec::new() }
    }

    pub fn add(&mut self, file: &Path) {
        self.files.push(file.to_owned());
    }

    /// Lints every file added: none may have a finding at ERROR or above.
    pub fn check(mut self) {
        let files = std::mem::take(&mut self.files);
        assert!(!files.is_empty(), "nothing to lint");
        let mut args: Vec<&Path> = self.kind.iter().map(Path::new).collect();
        args.extend(files.iter().map(PathBuf::as_path));
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let out = run("pkilint.sh", &args, &[]);
        must_pass(&format!("pkilint {}{}", self.kind.map_or(String::new(), |k| format!("{k} ")), names.join(" ")), out);
    }
}

impl Drop for Pkilint {
    fn drop(&mut self) {
        assert!(
            self.files.is_empty() || std::thread::panicking(),
            "{} file(s) added to pkilint but never linted: {:?}",
            self.files.len(),
            self.files
        );
    }
}

/// pkilint's RFC 5280 CRL linter: no finding at ERROR or above.
pub fn pkilint_crl(crl: &Path) {
    let out = run("pkilint.sh", &[Path::new("--crl"), crl], &[]);
    must_pass(&format!("pkilint --crl {}", crl.display()), out);
}

/// pkilint's CRL linter on an authority revocation list (the offline root's CRL), CA/Browser Forum profile (its
/// validity at most twelve months): no finding at ERROR or above.
pub fn pkilint_arl(arl: &Path) {
    let out = run("pkilint.sh", &[Path::new("--arl"), arl], &[]);
    must_pass(&format!("pkilint --arl {}", arl.display()), out);
}

/// pkilint's OCSP response linter (RFC 6960) must find nothing at ERROR or above.
pub fn pkilint_ocsp(response: &Path) {
    let out = run("pkilint.sh", &[Path::new("--ocsp"), response], &[]);
    must_pass(&format!("pkilint --ocsp {}", response.display()), out);
}

/// NSS vfychain with `usage` (12 = IPsec, 1 = SSL server, 0 = SSL client).
pub fn vfychain(root: &Path, issuing: &Path, cert: &Path, usage: u8) {
    let usage = usage.to_string();
    let out = run("vfychain.sh", &[root, issuing, cert], &[&usage]);
    must_pass(&format!("NSS vfychain -u {usage} {}", cert.display()), out);
}

/// NSS vfychain with `usage` must refuse the certificate (the wrappers' own negative check).
pub fn vfychain_refuses(root: &Path, issuing: &Path, cert: &Path, usage: u8) {
    let usage = usage.to_string();
    let out = run("vfychain.sh", &[root, issuing, cert], &[&usage]);
    assert!(!out.status.success(), "NSS vfychain -u {usage} accepted {}\n{}", cert.display(), describe(&out));
}

/// `openssl verify` must refuse.
pub fn openssl_verify_refuses(chain: &Path, cert: &Path, purpose: Option<&str>) {
    let out = run("verify.sh", &[chain, cert], purpose.as_slice());
    assert!(!out.status.success(), "openssl verify accepted {} for {purpose:?}\n{}", cert.display(), describe(&out));
}

/// pkilint must report an ERROR.
pub fn pkilint_refuses(cert: &Path) {
    let out = run("pkilint.sh", &[cert], &[]);
    assert!(!out.status.success(), "pkilint found no error in {}\n{}", cert.display(), describe(&out));
}

/// A throwaway TLS PKI in `dir` (OpenSSL, P-256, one day): ca.pem/ca.key, server.pem/server.key for localhost and
/// 127.0.0.1 issued by it, and stranger.pem/stranger.key, self-signed for the same names (an untrusted server).
pub(crate) fn make_tls_pki(dir: &std::path::Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").current_dir(dir).args(args).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}\n{}", describe(&out));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"];
    let san = "subjectAltName=DNS:localhost,IP:127.0.0.1";
    openssl(
        &[&["req", "-x509"][..], &ec, &["-subj", "/CN=Facility services CA", "-keyout", "ca.key", "-out", "ca.pem"]]
            .concat(),
    );
    openssl(&[&["req"][..], &ec, &["-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"]].concat());
    std::fs::write(dir.join("server.ext"), format!("{san}\nextendedKeyUsage=serverAuth\n")).unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-days",
        "1",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    let stranger = ["-subj", "/CN=localhost", "-addext", san, "-keyout", "stranger.key", "-out", "stranger.pem"];
    openssl(&[&["req", "-x509"][..], &ec, &stranger].concat());
}

/// Start a peer that prints the port it listens on as its first line of standard output.
pub(crate) fn spawn_listening(mut command: Command) -> (std::process::Child, u16) {
    use std::io::BufRead as _;
    let mut child = command.stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().parse().unwrap_or_else(|_| panic!("{command:?} said {line:?} instead of its port"));
    (child, port)
}

/// tests/peers/https_receiver.py: one POST over TLS, its body written to a file.
pub(crate) struct HttpsReceiver {
    child: std::process::Child,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
    out: PathBuf,
}

impl HttpsReceiver {
    pub(crate) fn start(cert: &std::path::Path, key: &std::path::Path, out: &std::path::Path) -> Self {
        let mut command = Command::new(crate::oidc::tools().join("bin/python"));
        command.arg(repo_root().join("tests/peers/https_receiver.py"));
        command.arg("--cert").arg(cert).arg("--key").arg(key).arg("--out").arg(out);
        let (child, port) = spawn_listening(command);
        Self { child, port, out: out.to_owned() }
    }

    /// The body of the POST, once it arrived.
    pub(crate) fn wait(&self) -> String {
        crate::oidc::poll(|| std::fs::read_to_string(&self.out).ok())
    }
}

impl Drop for HttpsReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pyhanko ARGS…` as a shell would run it — its exit code, stdout and stderr — through pyHanko's own command line
/// (`cli_root`) in one Python process per test run (`tests/peers/pyhanko_runs.py`, started on first use; the
/// tests take turns): the ~0.6 s of CPU of Python's and pyHanko's start-up is paid once, not once per run (D143).
pub(crate) fn pyhanko(args: &[&str]) -> Output {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Child, ChildStdin, ChildStdout, Stdio};
    use std::sync::{Mutex, OnceLock};
    static RUNS: OnceLock<Mutex<(Child, ChildStdin, BufReader<ChildStdout>)>> = OnceLock::new();
    let runs = RUNS.get_or_init(|| {
        let mut child = Command::new(crate::oidc::tools().join("bin/python"))
            .arg(script("pyhanko_runs.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tests/peers/pyhanko_runs.py with the venv's python (scripts/deps)");
        // Kept, never waited for: it ends when this test process does (the end of its input).
        let (stdin, stdout) = (child.stdin.take().unwrap(), BufReader::new(child.stdout.take().unwrap()));
        Mutex::new((child, stdin, stdout))
    });
    // A test that panicked while holding the lock left the pipes in step: every run is one line each way.
    let mut runs = runs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (_, stdin, stdout) = &mut *runs;
    writeln!(stdin, "{}", serde_json::to_string(args).unwrap()).expect("write to pyhanko_runs.py");
    stdin.flush().expect("write to pyhanko_runs.py");
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read from pyhanko_runs.py");
    assert!(!line.is_empty(), "tests/peers/pyhanko_runs.py ended (its stderr is above) running pyhanko {args:?}");
    let answer: serde_json::Value = serde_json::from_str(&line).unwrap();
    let text = |key: &str| answer[key].as_str().unwrap().as_bytes().to_vec();
    let code = answer["code"].as_i64().unwrap() as i32;
    Output {
        status: std::process::ExitStatus::from_raw((code & 0xff) << 8),
        stdout: text("stdout"),
        stderr: text("stderr"),
    }
}
