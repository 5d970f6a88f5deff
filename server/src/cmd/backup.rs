//! `hcpki backup` and `hcpki restore`: thin adapters around [`crate::backup`].

use crate::args::Global;
use crate::backup::{self, DatabaseCopy};
use crate::config::Loaded;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup directory: new or empty, outside the hcpki directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Also copy `secrets/` (the key passphrase, enrollment and portal secrets). Without it, keep those
    /// files in your secret store and put them back after a restore.
    #[arg(long)]
    pub include_secrets: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup directory written by `hcpki backup`.
    #[arg(long)]
    pub from: PathBuf,
}

pub async fn take(g: &Global, args: &BackupArgs) -> Result<ExitCode> {
    let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
    let store = hcpki_ca::store::open(&loaded.database_url).await.context("cannot open the database")?;
    let now = hcpki_pkix::time::now_unix();
    let written =
        backup::take(&loaded.dir, &loaded.database_url, store.as_ref(), &args.out, args.include_secrets, now).await?;
    let m = &written.manifest;
    // Recorded after the manifest is synced: a backup that failed half-way is never in the record.
    let actor = super::context::actor();
    let recorded =
        store.record_backup(&written.record(actor.as_str()), &actor, hcpki_pkix::time::UnixTime::from_secs(now)).await;
    println!(
        "backup written to {}: {} files, audit head {}:{}",
        args.out.display(),
        m.files.len(),
        m.audit_head.seq,
        m.audit_head.hash
    );
    match &m.database {
        DatabaseCopy::Sqlite { file } => println!("database: SQLite snapshot {file}"),
        DatabaseCopy::Postgresql => println!(
            "database: PostgreSQL, not in this directory: dump it now with `pg_dump -Fc` (or rely on \
             pg_basebackup + WAL archiving); a restore checks that the dump holds audit entry {}",
            m.audit_head.seq
        ),
    }
    if let Some(db) = &written.outside_database {
        println!(
            "note: the database {} lies outside the hcpki directory; its snapshot is at the top of the backup",
            db.display()
        );
    }
    if !m.includes_secrets {
        println!(
            "secrets/ not included: keep its files (key passphrase, enrollment and portal secrets) in your secret store"
        );
    }
    if let Err(e) = recorded {
        eprintln!(
            "the backup is complete, but the installation could not record it ({e}): the compliance report will not \
             count it; run hcpki backup again once the database accepts writes"
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("recorded as backup {} (hcpki compliance report shows the last one)", written.manifest_sha256);
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(g: &Global, args: &RestoreArgs) -> Result<ExitCode> {
    let manifest = backup::unpack(&args.from, &g.dir)?;
    let loaded = Loaded::read(&g.dir, g.database_url.as_deref())?;
    if let Some(passphrase) = loaded.key_context().passphrase_file.filter(|p| !p.exists()) {
        println!(
            "put the key passphrase back at {} before starting hcpki (the backup has no secrets/)",
            passphrase.display()
        );
    }
    let store = hcpki_ca::store::open(&loaded.database_url).await.with_context(|| match manifest.database {
        DatabaseCopy::Postgresql => {
            "cannot open the database: restore the pg_dump first, then pass its URL with --database-url".to_owned()
        }
        DatabaseCopy::Sqlite { .. } => "cannot open the restored database".to_owned(),
    })?;
    let expected = (manifest.audit_head.seq, manifest.audit_head.hash.clone());
    match super::audit::verify_chain(store.as_ref(), Some(&expected)).await? {
        Ok(head) => {
            println!(
                "restored to {}: audit log intact, {} entries (backup head {}:{} found), head {}:{}",
                g.dir.display(),
                head.seq,
                expected.0,
                expected.1,
                head.seq,
                head.hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(tampered) => {
            eprintln!(
                "the restored database does not match the backup: audit log{tampered}; do not serve from {} \
                 (for PostgreSQL: is this the dump taken with this backup?)",
                g.dir.display()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
