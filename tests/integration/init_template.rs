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
//! Where: SQLite — a directory under the test target's temp dir (`CARGO_TARGET_TMPDIR`), one per test process,
//! removed with the next run's; PostgreSQL — a database `hcpki_tmpl_<pid>_…` copied with `CREATE DATABASE …
//! TEMPLATE` (stale ones of finished runs are dropped by the next run).

use crate::db::PgDatabase;
use crate::harness::Backend;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// An initialised installation to copy: its hcpki directory and, on PostgreSQL, its database's name.
#[derive(Debug)]
pub struct Template {
    pub dir: PathBuf,
    pub database: Option<PgDatabase>,
}

static SQLITE: OnceLock<Template> = OnceLock::new();
static POSTGRES: OnceLock<Template> = OnceLock::new();

/// This run's template for `backend`, made by `init` (the closure) on first use.
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
        Template { dir, database }
    })
}

/// A fresh directory for this process's template of `backend`; the templates of processes that have ended
/// are removed first.
fn template_dir(backend: Backend) -> PathBuf {
    let parent = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hcpki-init-template");
    std::fs::create_dir_all(&parent).expect("create the init template's parent");
    for entry in std::fs::read_dir(&parent).expect("read the init templates").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = parent.join(format!("{}-{backend:?}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("create the init template");
    dir
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
