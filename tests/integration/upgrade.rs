//! Upgrades (issue #46 item 3, D137), on both databases: the schema window (a binary runs against a newer
//! release's schema while that release only expanded it, and refuses a contracted one, in the CLI and at `serve`
//! start, with what to do) and an upgrade interrupted midway (the next start finishes it; nothing is lost).
//! The rolling upgrade itself, two releases' binaries behind HAProxy under load, is `scripts/rolling-upgrade`.

use crate::harness::{Backend, Hcpki};
use crate::serve::Served;
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn future_schema_sqlite() {
    future_schema(Backend::Sqlite);
}

#[test]
fn future_schema_postgres() {
    future_schema(Backend::Postgres);
}

#[test]
fn interrupted_upgrade_sqlite() {
    interrupted_upgrade(Backend::Sqlite);
}

#[test]
fn interrupted_upgrade_postgres() {
    interrupted_upgrade(Backend::Postgres);
}

/// A newer release's migration 9001 recorded in the database, as that release would leave it: expand (the
/// window's `needs_version` untouched) this binary runs; contract (raised to 9001) it refuses.
fn future_schema(backend: Backend) {
    let h = Hcpki::initialized(backend);
    let facility = h.approved_facility("Upgrade Clinic");
    let db = h.db();
    let checksum = if backend == Backend::Sqlite { "X'00'" } else { "'\\x00'::bytea" };
    db.execute(&format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9001, 'a future release', TRUE, {checksum}, 1)"
    ));
    db.execute("UPDATE schema_window SET written_by = '9.9.9'");

    // Expand: the CLI and the server run as before (what release N-1's replicas do during a rolling upgrade).
    assert!(h.ok(&["facility", "list"]).contains(&facility));
    let served = Served::start(&h, &[]);
    served.stop();
    assert_eq!(db.strings("SELECT written_by FROM schema_window"), ["9.9.9"], "a newer release stays recorded");

    // Contract: refused with which release the database needs and how to go back.
    db.execute("UPDATE schema_window SET needs_version = 9001");
    for args in [&["facility", "list"][..], &["serve", "--https-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"]] {
        let refusal = h.fails(args);
        for words in [
            "the database's schema is at migration 9001, migrated by hcpki 9.9.9",
            "carries migrations up to 0051",
            "run hcpki 9.9.9 (or newer) against this database",
            "restore the backup taken before the upgrade",
            "docs/operator-guide.md, \"Upgrading\"",
        ] {
            assert!(refusal.contains(words), "hcpki {}: {words:?} missing in\n{refusal}", args.join(" "));
        }
    }
    // Nothing was touched: back inside the window, everything is there.
    db.execute("UPDATE schema_window SET needs_version = 30");
    assert!(h.ok(&["facility", "list"]).contains(&facility));
    h.ok(&["audit", "verify"]);
}

/// A database as release 0.1.0 left it (migrations up to 0030, with data), upgraded by this binary; the upgrade
/// is cut inside migration 0031's transaction: on PostgreSQL the process is killed (SIGKILL) while the migration
/// waits for a lock on sqlx's bookkeeping insert, after its own statements ran; on SQLite, whose transaction
/// cannot be made to wait there, a trigger fails that insert (the same rollback a kill causes, by SQLite's atomic
/// commit). The next start applies it whole; the data is intact; SQLite's copy from before the upgrade is kept.
fn interrupted_upgrade(backend: Backend) {
    let h = Hcpki::initialized(backend);
    let facility = h.approved_facility("Interrupted Clinic");
    let db = h.db();
    db.execute("DROP TABLE schema_window");
    // The migrations after 0031 too (0.2.0's), so the database is 0.1.0's again.
    db.execute("DROP TABLE ca_rollovers");
    db.execute("DROP TABLE patient_presence");
    db.execute("DROP TABLE oidc_refresh_spent");
    db.execute("DROP TABLE facility_security_officers");
    db.execute("ALTER TABLE certificates DROP COLUMN generation");
    db.execute("DROP TABLE scim_accounts");
    db.execute("DROP TABLE scim_clients");
    db.execute("DROP TABLE passkeys");
    db.execute("DROP TABLE router_psks");
    db.execute("DROP TABLE ssf_person_events");
    db.execute("ALTER TABLE portal_sessions DROP COLUMN seen_at");
    db.execute("DROP TABLE ssf_outbox");
    db.execute("DROP TABLE ssf_streams");
    db.execute("ALTER TABLE signing_requests DROP COLUMN signature_mode");
    db.execute("DROP TABLE ra_members");
    db.execute("DROP TABLE ra_facilities");
    db.execute("DROP TABLE registration_authorities");
    db.execute("DROP TABLE facility_passkey_rules");
    db.execute("DROP TABLE facility_signing_limits");
    db.execute("DROP TABLE backups");
    db.execute("DROP TABLE routers");
    db.execute("DROP TABLE router_models");
    db.execute("DROP TABLE router_settings");
    db.execute("DROP TABLE regional_networks");
    db.execute("DROP INDEX consents_network");
    db.execute("ALTER TABLE consents DROP COLUMN network");
    db.execute("DROP TABLE medical_register");
    db.execute("DROP TABLE medical_register_imports");
    db.execute("DROP TABLE facility_vetting");
    db.execute("DROP TABLE vetting_requirements");
    db.execute("DROP TABLE vetting_settings");
    db.execute("DROP TABLE vetting_warnings");
    db.execute("DELETE FROM _sqlx_migrations WHERE version >= 31");
    let head = db.scalar_i64("SELECT MAX(seq) FROM audit_log");

    match backend {
        Backend::Sqlite => {
            db.execute(
                "CREATE TRIGGER interrupt_upgrade BEFORE INSERT ON _sqlx_migrations WHEN NEW.version = 31 \
                 BEGIN SELECT RAISE(ABORT, 'upgrade cut short by the test'); END",
            );
            let failed = h.fails(&["facility", "list"]);
            assert!(failed.contains("upgrade cut short by the test"), "{failed}");
            db.execute("DROP TRIGGER interrupt_upgrade");
        }
        Backend::Postgres => kill_inside_migration(&h),
    }
    // Rolled back whole: no half-made schema, no bookkeeping row.
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 31"), 0);
    let tables = if backend == Backend::Sqlite {
        "SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_window'"
    } else {
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'schema_window'"
    };
    assert_eq!(db.scalar_i64(tables), 0, "the interrupted migration left nothing behind");

    // The next start finishes the upgrade, and everything written before it is there.
    assert!(h.ok(&["facility", "list"]).contains(&facility));
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 31 AND success"), 1);
    assert_eq!(db.strings("SELECT written_by FROM schema_window"), [env!("CARGO_PKG_VERSION")]);
    assert!(db.scalar_i64("SELECT MAX(seq) FROM audit_log") >= head);
    h.ok(&["audit", "verify"]);
    if backend == Backend::Sqlite {
        // The copy from before the upgrade: schema 0030, with the facility.
        let copy = crate::db::Db::sqlite(&h.dir().join("hcpki.db.schema-0030.bak"));
        assert_eq!(copy.scalar_i64("SELECT MAX(version) FROM _sqlx_migrations"), 30);
        assert_eq!(copy.scalar_i64(&format!("SELECT COUNT(*) FROM facilities WHERE id = '{facility}'")), 1);
    }

    // A migration recorded as unfinished (what one run outside a transaction leaves) is refused with what to do.
    db.execute("UPDATE _sqlx_migrations SET success = FALSE WHERE version = 31");
    let refusal = h.fails(&["facility", "list"]);
    assert!(refusal.contains("migration 0031 is recorded as not finished"), "{refusal}");
    assert!(refusal.contains("restore the backup taken before the upgrade"), "{refusal}");
}

/// PostgreSQL: hold `_sqlx_migrations` in EXCLUSIVE mode (reads go on, inserts wait) from psql, start the
/// upgrade, wait until migration 0031's transaction has run its statements and waits on the bookkeeping insert,
/// SIGKILL `hcpki`, then let go.
fn kill_inside_migration(h: &Hcpki) {
    let url = h.database_url();
    let mut holder = Command::new("psql")
        .args([url.as_str(), "-q", "-v", "ON_ERROR_STOP=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("psql (scripts/deps)");
    let mut stdin = holder.stdin.take().unwrap();
    stdin.write_all(b"BEGIN;\nLOCK TABLE _sqlx_migrations IN EXCLUSIVE MODE;\n").unwrap();
    stdin.flush().unwrap();
    let db = h.db();
    crate::oidc::poll(|| {
        (db.scalar_i64(
            "SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
             WHERE c.relname = '_sqlx_migrations' AND l.mode = 'ExclusiveLock' AND l.granted",
        ) == 1)
            .then_some(())
    });
    let mut upgrade = h.spawn(&["facility", "list"], &h.path("interrupted-upgrade.log"));
    crate::oidc::poll(|| {
        (db.scalar_i64(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
             AND query LIKE '%INSERT INTO _sqlx_migrations%'",
        ) == 1)
            .then_some(())
    });
    upgrade.kill().unwrap();
    let status = upgrade.wait().unwrap();
    assert!(status.code().is_none(), "killed by a signal: {status}");
    stdin.write_all(b"ROLLBACK;\n").unwrap();
    drop(stdin);
    assert!(holder.wait().unwrap().success());
    // The killed client's server process ends its transaction when it finds the connection gone.
    crate::oidc::poll(|| {
        (db.scalar_i64(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE '%INSERT INTO _sqlx_migrations%' \
                        AND pid <> pg_backend_pid()",
        ) == 0)
            .then_some(())
    });
}

/// `hcpki serve --drain-secs` (D137), what a rolling upgrade stops replicas with: after SIGTERM a keep-alive
/// client's next request is still answered, with `Connection: close`, and `/healthz` says 503 "draining" so the
/// load balancer takes the replica out; the server then exits cleanly without waiting out the window.
#[test]
fn drain_before_exit() {
    use std::io::{BufRead, BufReader, Read};
    let h = Hcpki::initialized(Backend::Sqlite);
    let served = Served::start(&h, &["--drain-secs", "30"]);
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", served.http_port)).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut ask = |conn: &mut std::net::TcpStream| -> String {
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line.to_ascii_lowercase());
        }
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map(|n| n.trim().parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        head + &String::from_utf8_lossy(&body)
    };
    let before = ask(&mut conn);
    assert!(before.starts_with("http/1.1 200"), "{before}");
    assert!(!before.contains("connection: close"), "{before}");
    let term = Command::new("kill").args(["-TERM", &served.pid().to_string()]).status().unwrap();
    assert!(term.success());
    // The signal is handled asynchronously: ask until the answer says draining (the same connection throughout).
    let during = crate::oidc::poll(|| {
        let answer = ask(&mut conn);
        answer.starts_with("http/1.1 503").then_some(answer)
    });
    assert!(during.contains("connection: close") && during.contains("retry-after: 5"), "{during}");
    assert!(during.contains("draining: this replica is stopping"), "{during}");
    // The connection was the last one open: the server exits cleanly without waiting out the 30 s window
    // (`stop` allows 15 s).
    drop(conn);
    let log = served.stop();
    assert!(log.contains("draining: /healthz 503"), "{log}");
}
