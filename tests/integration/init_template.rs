//! One `hcpki init` per backend per test run, copied into every test that asks for an initialised
//! installation ([`crate::harness::Hcpki::initialized`]).
//!
//! Why: `init` generates the root's RSA key and three CA keys and encrypts each with scrypt, ~1 s of CPU in a
//! debug build; the suite asks for an initialised installation ~300 times, so a fresh `init` each time was about
//! a fifth of the test stage's CPU (issue #25, step 8). What a test gets is the same as before — its own
//! directory, its own database, the hierarchy `init` writes, `init`'s audit entries — except that the CA keys
//! are the same in every test of a run. The tests of `init` itself run it (`Hcpki::new` + `init`), and a test
//! that needs a *different* installation beside its first asks for [`crate::harness::Hcpki::initialized_afresh`].
//!
//! `hcpki serve` makes more keys on its first start in a directory (the TLS server key, the OCSP responders', the
//! SCEP RA's, the portal's three OIDC token signing keys: four of them RSA-2048, ~0.6 s of CPU in a debug build)
//! and the suite starts a server in a fresh copy a few hundred times. [`add_server_keys`] has the template's
//! installation start once, in a scratch copy, and keeps those key files in the template; the certificates
//! `serve` issues for them, their audit entries and the OIDC key list are not kept, so every test's first
//! `serve` still issues and records them as before, on keys shared like the CA keys. Tests that need the keys
//! made (PKCS#11, `init` options, a second installation) start from their own `init`, and the template's own
//! start makes them once per run.
//!
//! Opening a key file costs a scrypt (N=2^14, r=8: 16 MiB, ~30 ms of CPU and the page faults of its memory), and
//! every `hcpki serve` opens a dozen key files, every signing CLI command one or two: with the keys as `init` and
//! `serve` wrap them, a server's start took ~0.45 s of CPU, ~0.15 s with the wrapping below, and scrypt was
//! ~7 % of the CPU of the EST, SCEP and browser tests. [`cheap_key_wrapping`] has OpenSSL re-wrap the template's
//! key files once per run with scrypt at N=2^10 (same passphrase, same PBES2 with AES-256-CBC, same keys): the
//! work factor guards a stolen file of a real installation, not a test's throwaway one. What `init` and `serve`
//! write is tested where they run themselves (the tests of `init`, `initialized_afresh`, PKCS#11), and every test
//! on the template shows hcpki opening keys OpenSSL wrapped (the operator guide's ceremony path).
//!
//! Where: SQLite — a directory under the test target's temp dir (`CARGO_TARGET_TMPDIR`), one per test process,
//! removed with the next run's; PostgreSQL — a database `hcpki_tmpl_<pid>_…` copied with `CREATE DATABASE …
//! TEMPLATE` (stale ones of finished runs are dropped by the next run).

use crate::db::PgDatabase;
use crate::harness::Backend;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// An initialised installation to copy: its hcpki directory and, on PostgreSQL, its database's name.
#[derive(Debug)]
pub struct Template {
    pub dir: PathBuf,
    pub database: Option<PgDatabase>,
}

static SQLITE: OnceLock<Template> = OnceLock::new();
static POSTGRES: OnceLock<Template> = OnceLock::new();

/// This run's template for `backend`, made by `init` (the closure) and [`add_server_keys`] on first use.
pub fn get(backend: Backend, init: impl FnOnce(&Path, Option<&str>)) -> &'static Template {
    let cell = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    cell.get_or_init(|| {
        let dir = template_dir(backend);
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDatabase::create_template(std::process::id())),
        };
        init(&dir, database.as_ref().map(PgDatabase::url));
        add_server_keys(&dir, database.as_ref());
        cheap_key_wrapping(&dir);
        Template { dir, database }
    })
}

/// A fresh directory for this process's template of `backend`.
fn template_dir(backend: Backend) -> PathBuf {
    process_dir(&format!("{backend:?}"))
}

/// A fresh directory `name` of this test process beside its templates (other fixtures made once per run keep
/// theirs here too); those of processes that have ended are removed first.
pub fn process_dir(name: &str) -> PathBuf {
    let parent = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hcpki-init-template");
    std::fs::create_dir_all(&parent).expect("create the init template's parent");
    for entry in std::fs::read_dir(&parent).expect("read the init templates").flatten() {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let pid = entry_name.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = parent.join(format!("{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Starts `hcpki` (`bin`) `serve` with a portal once on a scratch copy of the template in `dir` (its own
/// database on PostgreSQL), stops it once it listens, and adds the key files it made to the template's `keys/`.
fn add_server_keys(dir: &Path, database: Option<&PgDatabase>) {
    let scratch = dir.with_extension("serve");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir(&scratch).expect("create the template's scratch copy");
    copy_dir(dir, &scratch);
    let scratch_db = database.map(PgDatabase::create_from);
    if let (Some(from), Some(to)) = (database, scratch_db.as_ref()) {
        point_config_at(&scratch, from.url(), to.url());
    }
    let config = scratch.join("hcpki.toml");
    let mut text = std::fs::read_to_string(&config).expect("read the scratch copy's hcpki.toml");
    text.push_str("\n[portal]\nlisten = \"127.0.0.1:0\"\n");
    std::fs::write(&config, text).expect("write the scratch copy's hcpki.toml");

    let mut cmd = Command::new(crate::harness::hcpki_bin());
    cmd.args(["serve", "--https-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--dir"]).arg(&scratch);
    if let Some(db) = &scratch_db {
        cmd.arg("--database-url").arg(db.url());
    }
    crate::harness::without_developer_env(&mut cmd);
    let log = scratch.with_extension("serve.log");
    let stderr = std::fs::File::create(&log).expect("create the template's serve log");
    let mut child = cmd
        .current_dir(&scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start hcpki serve for the template");
    let mut line = String::new();
    let read = BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        read.is_ok() && line.contains("listening"),
        "hcpki serve (the tests' template) did not start: {line:?}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    for entry in std::fs::read_dir(scratch.join("keys")).expect("read the scratch copy's keys").flatten() {
        let kept = dir.join("keys").join(entry.file_name());
        if !kept.exists() {
            std::fs::copy(entry.path(), &kept).expect("keep a key file in the template");
        }
    }
    drop(scratch_db);
    let _ = std::fs::remove_dir_all(&scratch);
    let _ = std::fs::remove_file(&log);
}

/// Re-wraps every encrypted key file in the template's `keys/` with OpenSSL, scrypt N=2^10 (see the module doc),
/// in place: the file keeps its mode (0600).
fn cheap_key_wrapping(dir: &Path) {
    let passphrase_file = dir.join("secrets/key-passphrase");
    let passphrase = std::fs::read_to_string(&passphrase_file).expect("read the template's key passphrase");
    // What `-passin file:` reads: the first line.
    let passphrase = passphrase.lines().next().unwrap_or_default();
    for entry in std::fs::read_dir(dir.join("keys")).expect("read the template's keys").flatten() {
        let path = entry.path();
        let pem = std::fs::read_to_string(&path).unwrap_or_default();
        if !pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            continue;
        }
        let out = Command::new("openssl")
            .args(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-scrypt", "-scrypt_N", "1024", "-scrypt_r", "8"])
            .args(["-scrypt_p", "1", "-passin"])
            .arg(format!("file:{}", passphrase_file.display()))
            .args(["-passout", "env:HCPKI_TEMPLATE_KEY_PASSPHRASE", "-in"])
            .arg(&path)
            .env("HCPKI_TEMPLATE_KEY_PASSPHRASE", passphrase)
            .output()
            .expect("run openssl pkcs8 on the template's keys");
        let wrapped = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && wrapped.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "openssl pkcs8 -scrypt on {}: {}",
            path.display(),
            crate::harness::describe(&out)
        );
        std::fs::write(&path, wrapped.as_bytes()).expect("write the re-wrapped key file");
    }
}

/// Copies the template's directory into `to` (an empty hcpki directory): files with their permissions (the
/// key files stay 0600), sub-directories followed.
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the init template").flatten() {
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type in the init template");
        if kind.is_dir() {
            std::fs::create_dir(&target).expect("create a directory from the init template");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file of the init template");
        }
    }
}

/// The copied `hcpki.toml` names the template's database: point it at the test's own.
pub fn point_config_at(dir: &Path, template_url: &str, url: &str) {
    let path = dir.join("hcpki.toml");
    let text = std::fs::read_to_string(&path).expect("read the copied hcpki.toml");
    assert!(text.contains(template_url), "the template's hcpki.toml names its database: {text}");
    std::fs::write(&path, text.replace(template_url, url)).expect("write the copied hcpki.toml");
}
