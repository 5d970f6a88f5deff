//! The schema window (D137): which database schemas this binary may run against.
//!
//! Migrations from 0031 on are each *expand* (an older binary keeps working against the schema: new tables,
//! new columns with defaults, new indexes) or *contract* (it drops, renames or tightens something an older
//! binary may still use). A contract migration raises `schema_window.needs_version`, in its own transaction, to
//! the oldest migration a binary must carry to run against the result; expand migrations leave it alone
//! (`migrations/README.md` is the rule for people writing them, checked by `sql::tests::migration_classes`).
//!
//! So a binary that finds migrations it does not carry (a newer release migrated the database: a rolling
//! upgrade in progress, or a rollback) runs if `needs_version` is within what it carries, and otherwise
//! refuses with what to do. A migration recorded as failed (`success = false`, left by an interrupted migration
//! that ran outside a transaction) is refused too: every hcpki migration runs in one transaction, so an
//! interrupted one left nothing, and the next start applies it again.

/// What the database's migration table and `schema_window` row say, read before migrating.
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
    /// Every applied migration: version and whether it completed.
    pub applied: Vec<(i64, bool)>,
    /// `schema_window`'s `needs_version` and `written_by` (absent before migration 0031).
    pub window: Option<(i64, String)>,
}

/// Why this binary will not run against the database's schema.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaRefusal {
    /// A newer release migrated the database, and one of its migrations (a contract) changed what this release
    /// relies on. Run that release (or a newer one); to go back to this release, restore the backup taken before
    /// the upgrade.
    #[error(
        "the database's schema is at migration {database:04}, migrated by hcpki {written_by}; this hcpki {ours} carries \
         migrations up to {known:04}, and since then a contract migration needs every binary to carry at least \
         {needs:04}: run hcpki {written_by} (or newer) against this database. To go back to hcpki {ours}, restore \
         the backup taken before the upgrade (`hcpki restore --from DIR`; for SQLite also the copy \
         FILE.schema-{known:04}.bak that the upgrade left beside the database file; for PostgreSQL your pg_dump), \
         see docs/operator-guide.md, \"Upgrading\""
    )]
    FromTheFuture {
        /// The newest migration applied to the database.
        database: i64,
        /// The newest migration this binary carries.
        known: i64,
        /// The oldest migration a binary must carry (`schema_window.needs_version`).
        needs: i64,
        /// The newest release that migrated the database.
        written_by: String,
        /// This binary's release.
        ours: &'static str,
    },
    /// The database has migrations this binary does not carry but no schema window row to say whether they are
    /// compatible: it was migrated by something other than hcpki's releases.
    #[error(
        "the database's schema is at migration {database:04}, beyond the {known:04} this hcpki {ours} carries, and it \
         has no schema_window row saying which releases may run against it: run the hcpki release that migrated \
         it, or restore the backup taken before that (docs/operator-guide.md, \"Upgrading\")"
    )]
    Unknown {
        /// The newest migration applied to the database.
        database: i64,
        /// The newest migration this binary carries.
        known: i64,
        /// This binary's release.
        ours: &'static str,
    },
    /// A migration is recorded as started and not finished.
    #[error(
        "migration {0:04} is recorded as not finished (an upgrade was interrupted while it ran outside a \
         transaction), so the schema may be half-changed: restore the backup taken before the upgrade \
         (`hcpki restore --from DIR`, or for SQLite the copy FILE.schema-NNNN.bak beside the database file), \
         then start the upgrade again (docs/operator-guide.md, \"Upgrading\")"
    )]
    Unfinished(i64),
}

/// This binary's release, as the refusals name it.
pub(crate) const RELEASE: &str = env!("CARGO_PKG_VERSION");

/// The first migration that has a class; the ones before are release 0.1.0's baseline (never edited: their
/// checksums are in every database).
pub const FIRST_CLASSIFIED: i64 = 31;

/// Whether a binary carrying the migrations `known` (ascending or not) may migrate and run against the database
/// as `found` describes it. `Ok(true)` when the database has migrations this binary does not carry (all
/// within the window): the migrator must then be told to leave them alone.
pub(crate) fn check(known: &[i64], found: &Found) -> Result<bool, SchemaRefusal> {
    if let Some((version, _)) = found.applied.iter().find(|(_, success)| !success) {
        return Err(SchemaRefusal::Unfinished(*version));
    }
    let known_max = known.iter().copied().max().unwrap_or(0);
    // The newest migration the database has and this binary does not: none means nothing from the future.
    let Some(database) = found.applied.iter().map(|(v, _)| *v).filter(|v| !known.contains(v)).max() else {
        return Ok(false);
    };
    match &found.window {
        None => Err(SchemaRefusal::Unknown { database, known: known_max, ours: RELEASE }),
        Some((needs, written_by)) if *needs > known_max => Err(SchemaRefusal::FromTheFuture {
            database,
            known: known_max,
            needs: *needs,
            written_by: written_by.clone(),
            ours: RELEASE,
        }),
        Some(_) => Ok(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(applied: &[i64], window: Option<i64>) -> Found {
        Found { applied: applied.iter().map(|v| (*v, true)).collect(), window: window.map(|n| (n, "0.9.0".to_owned())) }
    }

    #[test]
    fn same_or_older_schemas_run() {
        assert!(!check(&[1, 2, 31], &found(&[], None)).unwrap());
        assert!(!check(&[1, 2, 31], &found(&[1, 2], None)).unwrap());
        assert!(!check(&[1, 2, 31], &found(&[1, 2, 31], Some(30))).unwrap());
    }

    #[test]
    fn expand_only_future_runs_and_contract_future_is_refused() {
        // Release N+1 added 32 and 33, expand only: needs stays 30.
        assert!(check(&[1, 31], &found(&[1, 31, 32, 33], Some(30))).unwrap());
        // Its contract 33 keeps release N (up to 31) working: still within the window.
        assert!(check(&[1, 31], &found(&[1, 31, 32, 33], Some(31))).unwrap());
        // A contract that needs 32: refused, with what to do.
        let refusal = check(&[1, 31], &found(&[1, 31, 32, 33], Some(32))).unwrap_err();
        let text = refusal.to_string();
        assert!(text.contains("migration 0033, migrated by hcpki 0.9.0"), "{text}");
        assert!(text.contains("carries migrations up to 0031"), "{text}");
        assert!(text.contains("at least 0032: run hcpki 0.9.0 (or newer)"), "{text}");
        assert!(text.contains("restore the backup taken before the upgrade"), "{text}");
        assert!(text.contains("schema-0031.bak"), "{text}");
    }

    /// The rule of `migrations/README.md`, checked on every migration file: from 0031 on, each says its class on
    /// its first line, the same on both backends; a contract migration raises `needs_version` to what its marker
    /// says (below its own number), an expand one never touches it; CHANGELOG.md names each with its class.
    #[test]
    fn migration_classes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
        let list = |backend: &str| -> Vec<(String, String)> {
            let mut files: Vec<(String, String)> = std::fs::read_dir(root.join("migrations").join(backend))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .map(|p| (p.file_stem().unwrap().to_str().unwrap().to_owned(), std::fs::read_to_string(&p).unwrap()))
                .collect();
            files.sort();
            files
        };
        let (sqlite, postgres) = (list("sqlite"), list("postgres"));
        let names = |files: &[(String, String)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&sqlite), names(&postgres), "both backends carry the same migrations, by the same names");
        let mut classified = 0;
        for ((name, lite), (_, pg)) in sqlite.iter().zip(&postgres) {
            let number: i64 = name.get(..4).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{name}: NNNN_"));
            if number < FIRST_CLASSIFIED {
                continue;
            }
            classified += 1;
            let marker = lite.lines().next().unwrap_or_default();
            assert_eq!(marker, pg.lines().next().unwrap_or_default(), "{name}: the same class line on both backends");
            let class = if let Some(rest) = marker.strip_prefix("-- hcpki:expand — ") {
                assert!(!rest.trim().is_empty(), "{name}: say why older binaries keep working");
                "expand"
            } else if let Some(rest) = marker.strip_prefix("-- hcpki:contract needs ") {
                let (needs, why) = rest.split_once(" — ").unwrap_or_else(|| panic!("{name}: `needs NNNN — why`"));
                assert!(!why.trim().is_empty(), "{name}: say what it removes and which release stopped using it");
                let needs: i64 = needs.parse().unwrap_or_else(|_| panic!("{name}: needs NNNN"));
                assert!(needs < number, "{name}: a contract needs a migration before itself");
                for sql in [lite, pg] {
                    assert!(
                        sql.contains(&format!("UPDATE schema_window SET needs_version = {needs};")),
                        "{name}: a contract raises needs_version to {needs} in its own transaction"
                    );
                }
                "contract"
            } else {
                panic!("{name}: the first line must be `-- hcpki:expand — why` or `-- hcpki:contract needs NNNN — why`")
            };
            if class == "expand" {
                assert!(
                    !lite.contains("UPDATE schema_window") && !pg.contains("UPDATE schema_window"),
                    "{name}: an expand migration leaves needs_version alone"
                );
            }
            assert!(
                changelog.lines().any(|l| l.contains(name.as_str()) && l.contains(class)),
                "{name}: CHANGELOG.md names it with its class ({class})"
            );
        }
        assert!(classified > 0, "migration 0031 onward are classified");
    }

    #[test]
    fn unknown_and_unfinished_are_refused() {
        assert!(matches!(
            check(&[1, 31], &found(&[1, 31, 40], None)),
            Err(SchemaRefusal::Unknown { database: 40, known: 31, .. })
        ));
        let mut f = found(&[1, 31], Some(30));
        f.applied.push((32, false));
        assert!(matches!(check(&[1, 31, 32], &f), Err(SchemaRefusal::Unfinished(32))));
    }
}
