//! Runs the real `hcpki` binary in a throwaway directory, on SQLite or on a fresh PostgreSQL database.
//!
//! Every test makes its own [`Hcpki`]: its own temp directory (`--dir`), its own database, its own
//! environment. Nothing is shared between tests, so they run in any order and in parallel.

use crate::db::{Db, PgDatabase};
use crate::init_template;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

/// Which database a test runs on. The whole suite runs once per backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: `<dir>/hcpki.db`.
    Sqlite,
    /// A fresh database on the server at `HCPKI_TEST_PG_URL` (scripts/test starts one).
    Postgres,
}

/// Seconds after which a hung `hcpki` is killed, so a deadlock fails one test instead of eating the CI
/// budget. No test asserts on time; this only bounds the damage.
const HCPKI_TIMEOUT_SECS: &str = "300";

/// What [`Hcpki::approved_facility`] allocates to an installation's first facility: the documentation ranges
/// (RFC 5737, RFC 3849) the tests' router certificates carry. 198.51.100.0/24 stays free for tests that need
/// an address in no allocation.
pub const TEST_ALLOCATIONS: [&str; 3] = ["192.0.2.0/24", "203.0.113.0/24", "2001:db8::/48"];

/// One `hcpki` installation under test.
#[derive(Debug)]
pub struct Hcpki {
    backend: Backend,
    bin: PathBuf,
    /// Root of everything this test writes; the hcpki directory and scratch files live below it.
    root: TempDir,
    /// `--dir` for every command.
    dir: PathBuf,
    /// `--database-url` for every command (PostgreSQL only; SQLite uses the CLI default `<dir>/hcpki.db`).
    database_url: Option<String>,
    /// Dropped with the installation: drops the test database.
    _pg: Option<PgDatabase>,
    env: Vec<(OsString, OsString)>,
    /// Where every command's stderr is appended, when the test asked for it ([`Hcpki::keeping_stderr`]).
    stderr_log: Option<PathBuf>,
}

impl Hcpki {
    /// A fresh, not yet initialised installation on SQLite.
    pub fn sqlite() -> Self {
        Self::fresh(Backend::Sqlite)
    }

    /// A fresh, not yet initialised installation on a new PostgreSQL database.
    ///
    /// Panics when `HCPKI_TEST_PG_URL` is unset: a PostgreSQL test must never pass without PostgreSQL.
    pub fn postgres() -> Self {
        Self::fresh(Backend::Postgres)
    }

    /// A fresh, not yet initialised installation on `backend`.
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres(),
        }
    }

    fn fresh(backend: Backend) -> Self {
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDatabase::create()),
        };
        Self::with_database(backend, pg)
    }

    fn with_database(backend: Backend, pg: Option<PgDatabase>) -> Self {
        let bin = hcpki_bin();
        let mut root = tempfile::Builder::new().prefix("hcpki-test-").tempdir().expect("create a temp dir");
        if keep_artifacts() {
            root.disable_cleanup(true);
            eprintln!("HCPKI_TEST_KEEP: keeping {}", root.path().display());
        }
        let dir = root.path().join("hcpki");
        std::fs::create_dir(&dir).expect("create the hcpki dir");
        let database_url = pg.as_ref().map(|p| p.url().to_owned());
        Self { backend, bin, root, dir, database_url, _pg: pg, env: Vec::new(), stderr_log: None }
    }

    /// An installation as `hcpki init` with software keys leaves it: a copy of this run's one `init` per
    /// backend ([`crate::init_template`]: its own directory and database, the CA keys shared with the run's
    /// other tests).
    pub fn initialized(backend: Backend) -> Self {
        let template = Self::template(backend);
        let pg = template.database.as_ref().map(PgDatabase::create_from);
        let h = Self::with_database(backend, pg);
        init_template::copy_dir(&template.dir, &h.dir);
        if let (Some(from), Some(to)) = (template.database.as_ref(), h.database_url.as_deref()) {
            init_template::point_config_at(&h.dir, from.url(), to);
        }
        h
    }

    /// This run's initialised installation of `backend` that [`Hcpki::initialized`] copies, made on first use
    /// (`scripts/fault` copies it too, through `fault.rs`).
    pub fn template(backend: Backend) -> &'static init_template::Template {
        let bin = hcpki_bin();
        init_template::get(backend, |dir, url| {
            let mut cmd = Command::new(&bin);
            cmd.arg("init").arg("--dir").arg(dir);
            if let Some(url) = url {
                cmd.arg("--database-url").arg(url);
            }
            without_developer_env(&mut cmd);
            let out = cmd.current_dir(dir).stdin(Stdio::null()).output().expect("run hcpki init for the template");
            assert!(out.status.success(), "hcpki init (the tests' template) failed\n{}", describe(&out));
        })
    }

    /// A fresh installation after its own `hcpki init` with software keys: CA keys no other installation of
    /// the run has (a test that needs a second, different installation beside its first).
    pub fn initialized_afresh(backend: Backend) -> Self {
        let h = Self::new(backend);
        h.ok(&["init"]);
        h
    }

    /// Adds an environment variable for every `hcpki` process (e.g. `SOFTHSM2_CONF`).
    pub fn with_env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Appends the stderr of every command [`Hcpki::run`] runs from now on (its log, its errors) to one file,
    /// which [`Hcpki::stderr_log`] reads: what an operator's terminal or journal would have kept.
    pub fn keeping_stderr(mut self) -> Self {
        self.stderr_log = Some(self.path("cli-stderr.log"));
        self
    }

    /// Everything the commands wrote to stderr since [`Hcpki::keeping_stderr`], each after a line naming it.
    pub fn stderr_log(&self) -> String {
        let path = self.stderr_log.as_ref().expect("keeping_stderr() was not called");
        std::fs::read_to_string(path).unwrap_or_default()
    }

    fn keep_stderr(&self, args: &[&str], out: &Output) {
        if let Some(path) = &self.stderr_log {
            use std::io::Write as _;
            let mut file =
                std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open the stderr log");
            writeln!(file, "--- hcpki {}", args.join(" ")).expect("write the stderr log");
            file.write_all(&out.stderr).expect("write the stderr log");
        }
    }

    /// The hcpki directory (`--dir`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Append `extra` (TOML) to the instance's `hcpki.toml`.
    pub fn append_config(&self, extra: &str) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(self.dir.join("hcpki.toml")).unwrap();
        f.write_all(extra.as_bytes()).unwrap();
    }

    /// The directory for the test's scratch files (CSRs, certificates), outside the hcpki directory.
    pub fn scratch(&self) -> &Path {
        self.root.path()
    }

    /// A path for a scratch file of the test (CSRs, certificates), outside the hcpki directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// This installation's database URL, as `hcpki` opens it (`sqlite:<dir>/hcpki.db` on SQLite).
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite:{}", self.dir.join("hcpki.db").display()))
    }

    /// Direct access to this installation's database, for tampering tests.
    pub fn db(&self) -> Db {
        match (&self.backend, &self.database_url) {
            (Backend::Postgres, Some(url)) => Db::postgres(url),
            _ => Db::sqlite(&self.dir.join("hcpki.db")),
        }
    }

    /// Runs `hcpki ARGS --dir D [--database-url U]` and returns what it did, success or not.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("timeout");
        cmd.args(["-k", "10", HCPKI_TIMEOUT_SECS]).arg(&self.bin);
        self.prepare(&mut cmd, args);
        let out = cmd.output().unwrap_or_else(|e| panic!("cannot run timeout(1) {}: {e}", self.bin.display()));
        if out.status.code() == Some(124) {
            panic!("hcpki {} hung and was killed after {HCPKI_TIMEOUT_SECS} s\n{}", args.join(" "), describe(&out));
        }
        self.keep_stderr(args, &out);
        out
    }

    /// [`Hcpki::run`] with one more environment variable for this process only (e.g. a crash point,
    /// `HCPKI_FAULT`, that the next command must not inherit).
    pub fn run_with_env(&self, key: &str, value: &str, args: &[&str]) -> Output {
        self.run_with_envs(&[(key, value)], args)
    }

    /// [`Hcpki::run_with_env`] with several variables (e.g. libfaketime's `LD_PRELOAD` and `FAKETIME`).
    pub fn run_with_envs(&self, vars: &[(&str, &str)], args: &[&str]) -> Output {
        let mut cmd = Command::new("timeout");
        cmd.args(["-k", "10", HCPKI_TIMEOUT_SECS]).arg(&self.bin);
        self.prepare(&mut cmd, args);
        cmd.envs(vars.iter().copied());
        let out = cmd.output().unwrap_or_else(|e| panic!("cannot run timeout(1) {}: {e}", self.bin.display()));
        assert_ne!(out.status.code(), Some(124), "hcpki {} hung\n{}", args.join(" "), describe(&out));
        self.keep_stderr(args, &out);
        out
    }

    /// Starts a long-running `hcpki ARGS` (e.g. `serve`) directly, without timeout(1), so signals sent to
    /// the child reach hcpki itself. Stdout is piped; stderr goes to `stderr_file`, so a chatty server can
    /// never block on a full pipe.
    pub fn spawn(&self, args: &[&str], stderr_file: &Path) -> std::process::Child {
        self.spawn_under(&[], args, stderr_file)
    }

    /// [`spawn`](Self::spawn) through a launcher that ends by running its arguments, e.g. `unshare --mount sh
    /// -c '… exec "$@"' sh`: the launcher's words, then the binary and its arguments.
    pub fn spawn_under(&self, launcher: &[&str], args: &[&str], stderr_file: &Path) -> std::process::Child {
        let mut cmd = match launcher.split_first() {
            Some((program, words)) => {
                let mut cmd = Command::new(program);
                cmd.args(words).arg(&self.bin);
                cmd
            }
            None => Command::new(&self.bin),
        };
        self.prepare(&mut cmd, args);
        let stderr = std::fs::File::create(stderr_file).expect("create the stderr file");
        cmd.stdout(Stdio::piped()).stderr(stderr);
        cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()))
    }

    /// Arguments, `--dir`, `--database-url`, environment and working directory of every `hcpki` process.
    fn prepare(&self, cmd: &mut Command, args: &[&str]) {
        cmd.args(args).arg("--dir").arg(&self.dir);
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        without_developer_env(cmd);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.current_dir(self.root.path()).stdin(Stdio::null());
    }

    /// Runs a command that must succeed; returns its stdout. Panics with stdout and stderr otherwise.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        if !out.status.success() {
            panic!("hcpki {} failed ({}) on {:?}\n{}", args.join(" "), out.status, self.backend, describe(&out));
        }
        String::from_utf8(out.stdout).expect("hcpki stdout is UTF-8")
    }

    /// Every audit entry as `audit list` prints it: one JSON object each, `detail` the JSON text as stored (and
    /// as exported).
    pub fn audit_list(&self) -> Vec<serde_json::Value> {
        let out = self.ok(&["audit", "list", "--limit", "1000000"]);
        out.lines().map(|l| serde_json::from_str(l).expect("audit list prints JSON lines")).collect()
    }

    /// Every audit entry, oldest first, with `detail` decoded.
    pub fn audit_entries(&self) -> Vec<serde_json::Value> {
        let mut entries = self.audit_list();
        for e in &mut entries {
            if let Some(detail) = e["detail"].as_str().and_then(|d| serde_json::from_str(d).ok()) {
                e["detail"] = detail;
            }
        }
        entries
    }

    /// Runs a command that must fail cleanly; returns its stderr.
    ///
    /// "Cleanly" means: a non-zero exit code, not a panic (Rust's 101) and not a signal, and a
    /// non-empty error message on stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let what = format!("hcpki {} on {:?}", args.join(" "), self.backend);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        match out.status.code() {
            Some(0) => panic!("{what} succeeded but must fail\n{}", describe(&out)),
            Some(101) => panic!("{what} panicked instead of reporting an error\n{}", describe(&out)),
            None => panic!("{what} was killed by a signal\n{}", describe(&out)),
            Some(_) => {}
        }
        assert!(!stderr.contains("panicked at"), "{what} panicked\n{}", describe(&out));
        assert!(!stderr.trim().is_empty(), "{what} failed without saying why on stderr\n{}", describe(&out));
        stderr
    }

    /// `hcpki facility add` with the given name and kind (and code); returns the new facility ID.
    pub fn add_facility(&self, name: &str, code: Option<&str>) -> String {
        let mut args = vec!["facility", "add", "--name", name, "--kind", "clinic"];
        if let Some(code) = code {
            args.extend(["--code", code]);
        }
        let out = self.ok(&args);
        let id = out.trim().to_owned();
        hcpki_ca::FacilityId::parse(&id)
            .unwrap_or_else(|e| panic!("`facility add` must print the new ID alone on stdout, got {out:?}: {e}"));
        id
    }

    /// A registered and approved facility; returns its ID.
    pub fn approved_facility(&self, name: &str) -> String {
        let id = self.add_facility(name, None);
        self.ok(&["facility", "approve", &id]);
        // Router certificates carry only addresses allocated to their facility (issue #24, item 2). The first
        // facility of an installation gets the documentation ranges the tests' routers use; later ones get
        // none, since two facilities' allocations never overlap (tests of other facilities' addresses
        // allocate their own).
        if self.ok(&["facility", "address", "list", "--json"]).trim().is_empty() {
            for prefix in TEST_ALLOCATIONS {
                self.allocate(&id, prefix);
            }
        }
        id
    }

    /// `hcpki facility address add FACILITY PREFIX`, which must succeed.
    pub fn allocate(&self, facility: &str, prefix: &str) {
        self.ok(&["facility", "address", "add", facility, prefix]);
    }

    /// The router DNS name a facility owns (`"router_dns_name"` in `facility show ID --json`).
    pub fn router_dns_name(&self, facility: &str) -> String {
        let out = self.ok(&["facility", "show", facility, "--json"]);
        let json: serde_json::Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("`facility show {facility} --json` is not JSON ({e}):\n{out}"));
        find_key(&json, "router_dns_name")
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("`facility show {facility} --json` has no \"router_dns_name\" string:\n{out}"))
            .to_owned()
    }

    /// `hcpki ca chain PROFILE` written to a scratch file; returns its path.
    pub fn chain_file(&self, profile: &str) -> PathBuf {
        self.stdout_to_file(&["ca", "chain", profile], &format!("chain-{profile}.pem"))
    }

    /// `hcpki ca cert NAME` written to a scratch file; returns its path.
    pub fn ca_cert_file(&self, name: &str) -> PathBuf {
        self.stdout_to_file(&["ca", "cert", name], &format!("ca-{name}.pem"))
    }

    /// `hcpki cert list [--facility ID] --json`, the JSON lines, for "nothing was added" checks.
    pub fn cert_list(&self, facility: Option<&str>) -> Vec<String> {
        let mut args = vec!["cert", "list", "--json"];
        if let Some(f) = facility {
            args.extend(["--facility", f]);
        }
        self.ok(&args).lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect()
    }

    fn stdout_to_file(&self, args: &[&str], name: &str) -> PathBuf {
        let out = self.ok(args);
        let path = self.path(name);
        std::fs::write(&path, out).expect("write scratch file");
        path
    }
}

/// Stdout and stderr of a finished process, for failure messages.
pub fn describe(out: &Output) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Reports that `test` could not run on this machine, for `reason` (a kernel feature the machine lacks, such as
/// mount namespaces; a missing package is a failure, not a skip). cargo's test harness has no skipping at run
/// time, so the test then returns and counts as passed; this makes it say so: a `SKIPPED` line on stderr and,
/// under scripts/test, a line in the file `HCPKI_TEST_SKIPPED` names, which the summary counts among the
/// skipped and lists by name.
pub fn skipped(test: &str, reason: &str) {
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(path) = std::env::var_os("HCPKI_TEST_SKIPPED") {
        use std::io::Write as _;
        let line = format!("{test}: {}\n", reason.replace('\n', " "));
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        written.unwrap_or_else(|e| panic!("cannot record the skip in {}: {e}", Path::new(&path).display()));
    }
}

/// Whether `HCPKI_TEST_KEEP` asks to keep temp directories and databases for a post-mortem.
pub fn keep_artifacts() -> bool {
    std::env::var_os("HCPKI_TEST_KEEP").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Only what a test sets reaches `hcpki`: a developer's own HCPKI_DIR or HCPKI_DATABASE_URL must not leak in.
/// HCPKI_LOG (log filter) passes through, for debugging a failing test.
pub(crate) fn without_developer_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy();
        if name.starts_with("HCPKI_") && name != "HCPKI_LOG" {
            cmd.env_remove(key);
        }
    }
}

/// A loopback TCP port free at the time of asking (for a peer that needs its port before it starts).
///
/// Taken below the kernel's ephemeral range (`ip_local_port_range`), never the same one twice in a run: a port
/// the kernel handed out for `bind(…:0)` and then released could be handed again — to another test's server or
/// to an outgoing connection's local end — before its peer started, and the peer then failed with "Address
/// already in use" (a SCEP replica test did, seconds after reserving its port).
pub fn free_port() -> u16 {
    crate::timing::note();
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    const FLOOR: u16 = 10_000;
    let ceiling = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .filter(|low| *low > FLOOR + 1_000)
        .unwrap_or(32_768);
    let span = u32::from(ceiling - FLOOR);
    let start = (uuid::Uuid::new_v4().as_u128() % u128::from(span)) as u32;
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for step in 0..span {
        let port = FLOOR + ((start + step) % span) as u16;
        if !handed_out.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed_out.insert(port);
            return port;
        }
    }
    panic!("no free loopback port between {FLOOR} and {ceiling}")
}

/// The repository root (the workspace).
pub fn repo_root() -> PathBuf {
    crate::timing::note();
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_owned()
}

/// The `hcpki` binary: `$HCPKI_BIN`, else the one cargo built next to this test binary, else
/// `<workspace>/target/debug/hcpki`.
pub fn hcpki_bin() -> PathBuf {
    crate::timing::note();
    if let Some(bin) = std::env::var_os("HCPKI_BIN") {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "HCPKI_BIN={} does not exist", bin.display());
        return bin;
    }
    // target/debug/deps/integration-HASH → target/debug/hcpki: same profile, same target dir.
    let sibling = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.parent()?.join("hcpki")));
    let candidates = sibling.into_iter().chain([repo_root().join("target/debug/hcpki")]);
    let tried: Vec<PathBuf> = candidates.collect();
    tried.iter().find(|p| p.is_file()).cloned().unwrap_or_else(|| {
        panic!(
            "the hcpki binary is missing (looked at {tried:?}): run cargo build -p server first \
             (scripts/test does), or set HCPKI_BIN"
        )
    })
}

/// The first value under `key` anywhere in a JSON document (the CLI may nest the facility).
fn find_key<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    match v {
        serde_json::Value::Object(map) => map.get(key).or_else(|| map.values().find_map(|v| find_key(v, key))),
        serde_json::Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}
