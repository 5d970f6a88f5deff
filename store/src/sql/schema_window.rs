//! Migrating within the schema window (migration 0031, D137; the decision itself is [`crate::schema`]): read
//! what the database has, refuse a schema from beyond the window, tell sqlx to leave alone the migrations of a
//! newer release that are within it, and record which release migrated the database last.

use crate::StoreError;
use crate::schema::{self, Found};
use sqlx::migrate::Migrator;

/// Every applied migration. Fails on a database that was never migrated (no table yet).
pub(super) const APPLIED: &str = "SELECT version, success FROM _sqlx_migrations ORDER BY version";
/// The window's row (migration 0031).
pub(super) const WINDOW: &str = "SELECT needs_version, written_by FROM schema_window WHERE id = 1";
/// Which release migrated the database last (informational: the refusal names it).
pub(super) const WRITTEN_BY: &str = "UPDATE schema_window SET written_by = $1 WHERE id = 1";

/// The migrator to run: the migrations this binary carries, told to leave alone a newer release's migrations
/// when they are within the window; refused when they are not. `found` is `None` when the database has no
/// migration table yet, or it could not be read: then sqlx's own check refuses any version it does not carry.
pub(super) fn migrator(carried: &Migrator, found: Option<&Found>) -> Result<Migrator, StoreError> {
    let mut migrator = Migrator::with_migrations(carried.iter().cloned().collect());
    if let Some(found) = found {
        let ahead = schema::check(&versions(carried), found)?;
        if ahead {
            tracing::warn!(
                "the database carries migrations of a newer hcpki release (within the schema window: this release \
                 keeps working); finish the upgrade by replacing this binary"
            );
        }
        migrator.set_ignore_missing(ahead);
    }
    Ok(migrator)
}

/// The newest migration applied, when the database has one and this binary carries migrations it lacks: an
/// upgrade is about to change the schema (SQLite copies the database first).
pub(super) fn upgrading_from(carried: &Migrator, found: Option<&Found>) -> Option<i64> {
    let found = found?;
    let newest = found.applied.iter().map(|(v, _)| *v).max()?;
    let pending = carried.iter().any(|m| !found.applied.iter().any(|(v, _)| *v == m.version));
    pending.then_some(newest)
}

/// Whether this binary should record itself as the release that migrated the database last: it carries the
/// newest migration applied, and another release is recorded.
pub(super) fn should_record(carried: &Migrator, found: &Found) -> bool {
    let carried_max = versions(carried).into_iter().max().unwrap_or(0);
    let newest = found.applied.iter().map(|(v, _)| *v).max().unwrap_or(0);
    newest <= carried_max && found.window.as_ref().is_some_and(|(_, by)| by != schema::RELEASE)
}

fn versions(m: &Migrator) -> Vec<i64> {
    m.iter().map(|m| m.version).collect()
}

/// Read [`Found`] from a pool of either backend (the same SQL on both).
macro_rules! read_found {
    ($pool:expr) => {
        async {
            match sqlx::query_as::<_, (i64, bool)>(schema_window::APPLIED).fetch_all($pool).await {
                Err(_) => None,
                Ok(applied) => {
                    let window = sqlx::query_as::<_, (i64, String)>(schema_window::WINDOW)
                        .fetch_optional($pool)
                        .await
                        .ok()
                        .flatten();
                    Some(crate::schema::Found { applied, window })
                }
            }
        }
    };
}

/// Migrate `$pool` with `$carried` within the window; `$before` runs first when an upgrade is about to change
/// the schema (given the newest migration applied). Then record this release as the last to migrate.
macro_rules! migrate_within_window {
    ($pool:expr, $carried:expr, $before:expr) => {
        async {
            let found = schema_window::read_found!($pool).await;
            let migrator = schema_window::migrator(&$carried, found.as_ref())?;
            if let Some(from) = schema_window::upgrading_from(&$carried, found.as_ref()) {
                $before(from).await?;
            }
            migrator.run($pool).await.map_err(errors::migrate)?;
            if let Some(after) = schema_window::read_found!($pool).await
                && schema_window::should_record(&$carried, &after)
                && let Err(e) = sqlx::query(schema_window::WRITTEN_BY).bind(crate::schema::RELEASE).execute($pool).await
            {
                // Informational only (a read-only database serves on): the refusals name a release from it.
                tracing::warn!(error = %e, "cannot record this release in schema_window");
            }
            Ok::<(), StoreError>(())
        }
    };
}

pub(super) use {migrate_within_window, read_found};
