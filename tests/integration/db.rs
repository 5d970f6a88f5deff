//! Direct database access, behind the CLI's back: fresh PostgreSQL databases per test, and the raw SQL
//! that the tampering tests use to play an attacker with write access to the database.

use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};
use std::path::{Path, PathBuf};

/// The environment variable naming the PostgreSQL server for tests (set by scripts/test).
pub const PG_URL_VAR: &str = "HCPKI_TEST_PG_URL";

/// A database created for one test on the server at `HCPKI_TEST_PG_URL`, dropped when the test ends.
#[derive(Debug)]
pub struct PgDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// Creates a database with a unique name. Panics when `HCPKI_TEST_PG_URL` is unset or the server is
    /// unreachable: a PostgreSQL test never passes without PostgreSQL.
    pub fn create() -> Self {
        Self::create_named(&format!("hcpki_test_{}", uuid::Uuid::new_v4().simple()), None)
    }

    /// A database with a unique name that is a copy of `template` (`CREATE DATABASE … TEMPLATE`, which needs
    /// no session connected to the template: the `init` that filled it has exited).
    pub fn create_from(template: &PgDatabase) -> Self {
        Self::create_named(&format!("hcpki_test_{}", uuid::Uuid::new_v4().simple()), Some(&template.name))
    }

    /// A database for this test process's `init` template ([`crate::init_template`]), named after the process,
    /// after dropping the templates of processes that have ended (a template lives as long as its process, and
    /// a static is never dropped).
    pub fn create_template(pid: u32) -> Self {
        let server_url = server_url();
        block_on(async {
            let mut conn = connect(&server_url).await;
            let names: Vec<String> =
                sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE 'hcpki_tmpl_%'")
                    .fetch_all(&mut conn)
                    .await
                    .unwrap_or_default();
            for name in names {
                let owner =
                    name.trim_start_matches("hcpki_tmpl_").split('_').next().and_then(|p| p.parse::<u32>().ok());
                if owner.is_some_and(|p| p != pid && !std::path::Path::new(&format!("/proc/{p}")).exists()) {
                    // Hex and digits of our own making, not input: safe to splice.
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await;
                }
            }
        });
        Self::create_named(&format!("hcpki_tmpl_{pid}_{}", uuid::Uuid::new_v4().simple()), None)
    }

    fn create_named(name: &str, template: Option<&str>) -> Self {
        let server_url = server_url();
        let url = with_database(&server_url, name);
        block_on(async {
            let mut conn = connect(&server_url).await;
            // The names are ours (hex from a UUID, a process id), not input: safe to splice.
            let sql = match template {
                Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t}"),
                None => format!("CREATE DATABASE {name}"),
            };
            sqlx::query(AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {server_url}: {e}"));
        });
        Self { server_url, name: name.to_owned(), url }
    }

    /// The URL of this database, for `--database-url`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The server's URL from `HCPKI_TEST_PG_URL`; panics when it is unset.
fn server_url() -> String {
    std::env::var(PG_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{PG_URL_VAR} is not set, so the PostgreSQL half of the suite cannot run. Run scripts/test, \
             which starts a throwaway PostgreSQL, or start one with `scripts/pg-instance start DIR PORT` \
             and export {PG_URL_VAR}=postgres://app@127.0.0.1:PORT/postgres"
        )
    })
}

async fn connect(server_url: &str) -> PgConnection {
    PgConnection::connect(server_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {PG_URL_VAR}={server_url}: {e}"))
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if crate::harness::keep_artifacts() {
            eprintln!("HCPKI_TEST_KEEP: keeping database {}", self.url);
            return;
        }
        // Best effort: the server itself is thrown away at the end of scripts/test.
        block_on(async {
            if let Ok(mut conn) = PgConnection::connect(&self.server_url).await {
                let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
                let _ = sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await;
            }
        });
    }
}

/// One installation's database, opened fresh for every statement.
#[derive(Debug, Clone)]
pub enum Db {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Db {
    /// The SQLite database at `path` (which must exist).
    pub fn sqlite(path: &Path) -> Self {
        assert!(path.is_file(), "no SQLite database at {} (the CLI default <dir>/hcpki.db)", path.display());
        Self::Sqlite(path.to_owned())
    }

    /// The PostgreSQL database at `url`.
    pub fn postgres(url: &str) -> Self {
        Self::Postgres(url.to_owned())
    }

    /// Runs one statement; returns the number of rows it changed.
    pub fn execute(&self, sql: &str) -> u64 {
        let sql = sql.to_owned();
        block_on(async {
            let result = match self {
                Self::Sqlite(path) => {
                    let mut c = self.sqlite_conn(path).await;
                    sqlx::query(AssertSqlSafe(sql.clone())).execute(&mut c).await.map(|r| r.rows_affected())
                }
                Self::Postgres(url) => {
                    let mut c = pg_conn(url).await;
                    sqlx::query(AssertSqlSafe(sql.clone())).execute(&mut c).await.map(|r| r.rows_affected())
                }
            };
            result.unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
    }

    /// Runs a query returning one integer (e.g. `SELECT MAX(seq) …`).
    pub fn scalar_i64(&self, sql: &str) -> i64 {
        let sql = sql.to_owned();
        block_on(async {
            let result = match self {
                Self::Sqlite(path) => {
                    let mut c = self.sqlite_conn(path).await;
                    sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.clone())).fetch_one(&mut c).await
                }
                Self::Postgres(url) => {
                    let mut c = pg_conn(url).await;
                    sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.clone())).fetch_one(&mut c).await
                }
            };
            result.unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
    }

    /// Runs a query returning one text column.
    pub fn strings(&self, sql: &str) -> Vec<String> {
        let sql = sql.to_owned();
        block_on(async {
            let result = match self {
                Self::Sqlite(path) => {
                    let mut c = self.sqlite_conn(path).await;
                    sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.clone())).fetch_all(&mut c).await
                }
                Self::Postgres(url) => {
                    let mut c = pg_conn(url).await;
                    sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.clone())).fetch_all(&mut c).await
                }
            };
            result.unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
    }

    /// Removes whatever the schema uses to refuse UPDATE and DELETE on `audit_log` (triggers, rules).
    ///
    /// The attacker the hash chain defends against has full write access to the database and can drop
    /// such guards; the chain must catch the edit without them.
    pub fn drop_audit_log_guards(&self) {
        match self {
            Self::Sqlite(_) => {
                let triggers =
                    self.strings("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'");
                for t in triggers {
                    self.execute(&format!("DROP TRIGGER \"{t}\""));
                }
            }
            Self::Postgres(_) => {
                self.execute("ALTER TABLE audit_log DISABLE TRIGGER USER");
                for r in self.strings("SELECT rulename::text FROM pg_rules WHERE tablename = 'audit_log'") {
                    self.execute(&format!("DROP RULE \"{r}\" ON audit_log"));
                }
            }
        }
    }

    async fn sqlite_conn(&self, path: &Path) -> SqliteConnection {
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
    }
}

async fn pg_conn(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

/// `postgres://user@host:port/olddb?opts` → `postgres://user@host:port/NAME?opts`.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server_url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..path_start])
}

/// Runs a future to completion on a private single-threaded runtime (the tests themselves are sync).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime").block_on(f)
}

#[test]
fn with_database_replaces_only_the_path() {
    assert_eq!(with_database("postgres://app@127.0.0.1:5432/postgres", "x"), "postgres://app@127.0.0.1:5432/x");
    assert_eq!(with_database("postgres://app@127.0.0.1:5432", "x"), "postgres://app@127.0.0.1:5432/x");
    assert_eq!(
        with_database("postgres://app@127.0.0.1:5432/postgres?sslmode=disable", "x"),
        "postgres://app@127.0.0.1:5432/x?sslmode=disable"
    );
}
