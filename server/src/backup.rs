//! Backup and restore of an hcpki installation: the directory (configuration, sealed software keys, OIDC key
//! ring, services) plus a consistent snapshot of an embedded SQLite database, with a manifest of SHA-256
//! digests and the audit head at backup time. A restore checks every digest, copies into an empty directory
//! and verifies the restored database's audit chain up to (at least) that head, so a backup that was damaged,
//! truncated or taken from another installation is refused before anyone serves from it.
//!
//! The key passphrase and other files under `secrets/` are left out unless asked for: a backup is often
//! stored where the sealed keys may go but their passphrase may not. A PostgreSQL database is dumped with
//! PostgreSQL's own tools (docs/deployment.md); the manifest's head still proves the dump matches.

use anyhow::{Context, Result, bail};
use hcpki_ca::audit::AuditHead;
use hcpki_ca::store::{AuditLog, BackupDatabase, BackupRecord, Maintenance};
use hcpki_pkix::time::UnixTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest's own name inside a backup directory; written last, so its absence means "incomplete".
pub const MANIFEST: &str = "manifest.json";
const FORMAT: u32 = 1;
/// Top-level directory holding the key passphrase and derivation secrets.
const SECRETS_DIR: &str = "secrets";

/// What a backup holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format version.
    pub format: u32,
    /// When the backup was taken (Unix seconds).
    pub created_at: i64,
    /// The hcpki version that took it.
    pub hcpki_version: String,
    /// Where the database is.
    pub database: DatabaseCopy,
    /// The audit head read just before the database was copied: the copy contains this entry, with this hash.
    pub audit_head: AuditHead,
    /// Whether `secrets/` was copied.
    pub includes_secrets: bool,
    /// Every copied file (relative path, `/`-separated) and its SHA-256 (hex).
    pub files: BTreeMap<String, String>,
}

/// The database part of a backup.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DatabaseCopy {
    /// A snapshot file inside the backup, at `file` (relative), which the configuration names.
    Sqlite {
        /// Relative path of the snapshot.
        file: String,
    },
    /// Not in the backup: dumped separately with pg_dump / pg_basebackup.
    Postgresql,
}

/// A backup as written.
#[derive(Debug)]
pub struct Written {
    /// Its manifest.
    pub manifest: Manifest,
    /// The manifest file's SHA-256 (hex): which backup this is, in the installation's record of backups.
    pub manifest_sha256: String,
    /// Where it was written (absolute).
    pub location: PathBuf,
    /// The SQLite database URL's file, if it lies outside the hcpki directory (then the copy sits at the
    /// backup's top level and the configuration must be pointed at it on restore).
    pub outside_database: Option<PathBuf>,
}

/// Take a backup of the installation in `dir` (database `database_url`, open as `store`) into `out`, which
/// must not exist or be empty; its manifest says it was made at `now` (Unix seconds).
pub async fn take<S: AuditLog + Maintenance + ?Sized>(
    dir: &Path,
    database_url: &str,
    store: &S,
    out: &Path,
    include_secrets: bool,
    now: i64,
) -> Result<Written> {
    let dir = dir.canonicalize().with_context(|| format!("cannot read the hcpki directory {}", dir.display()))?;
    let out_abs = absolute(out)?;
    if out_abs.starts_with(&dir) {
        bail!(
            "the backup directory {} lies inside the hcpki directory {}: choose a place outside it",
            out.display(),
            dir.display()
        );
    }
    prepare_empty(out)?;
    let out = out.canonicalize().with_context(|| format!("cannot resolve {}", out.display()))?;
    // The URL is resolved already (relative to the working directory, like every path on the command line).
    let sqlite = sqlite_file(database_url).map(|f| f.canonicalize().unwrap_or(f));
    let skip = |rel: &Path, abs: &Path| {
        let database_file = sqlite.as_ref().is_some_and(|db| {
            let name = db.as_os_str().to_string_lossy().into_owned();
            let this = abs.as_os_str().to_string_lossy().into_owned();
            this == name || ["-wal", "-shm", "-journal"].iter().any(|s| this == format!("{name}{s}"))
        });
        database_file || (!include_secrets && rel.starts_with(SECRETS_DIR))
    };
    let mut files = BTreeMap::new();
    copy_tree(&dir, &dir, &out, &skip, &mut files)?;

    // The head first: every entry up to it is in the copy taken afterwards.
    let audit_head = store.audit_head().await?;
    let (database, outside_database) = match &sqlite {
        Some(db) => {
            let rel = db.strip_prefix(&dir).map(Path::to_path_buf).ok();
            let rel = rel.unwrap_or_else(|| PathBuf::from(db.file_name().unwrap_or_default()));
            let target = out.join(&rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            }
            store.snapshot_into(&target).await?;
            let rel = slash_path(&rel);
            files.insert(rel.clone(), digest_file(&target)?);
            let outside = (!db.starts_with(&dir)).then(|| db.clone());
            (DatabaseCopy::Sqlite { file: rel }, outside)
        }
        None => (DatabaseCopy::Postgresql, None),
    };
    let manifest = Manifest {
        format: FORMAT,
        created_at: now,
        hcpki_version: env!("CARGO_PKG_VERSION").to_owned(),
        database,
        audit_head,
        includes_secrets: include_secrets,
        files,
    };
    let path = out.join(MANIFEST);
    let text = serde_json::to_vec_pretty(&manifest)?;
    let file = std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::write_all(&mut &file, &text)?;
    file.sync_all()?;
    let manifest_sha256 = hex::encode(Sha256::digest(&text));
    Ok(Written { manifest, manifest_sha256, location: out, outside_database })
}

impl Written {
    /// What the installation records of this backup, taken by `taken_by` (D176).
    pub fn record(&self, taken_by: &str) -> BackupRecord {
        let m = &self.manifest;
        BackupRecord {
            manifest_sha256: self.manifest_sha256.clone(),
            taken_at: UnixTime::from_secs(m.created_at),
            taken_by: taken_by.to_owned(),
            location: self.location.display().to_string(),
            database: match m.database {
                DatabaseCopy::Sqlite { .. } => BackupDatabase::Sqlite,
                DatabaseCopy::Postgresql => BackupDatabase::Postgresql,
            },
            audit_head_seq: m.audit_head.seq,
            files: u64::try_from(m.files.len()).unwrap_or(u64::MAX),
            includes_secrets: m.includes_secrets,
        }
    }
}

/// Check a backup's manifest and digests and copy it into `to` (which must not exist or be empty). The
/// caller then verifies the audit chain of the database the restored configuration names.
pub fn unpack(from: &Path, to: &Path) -> Result<Manifest> {
    let manifest = read_manifest(from)?;
    for (rel, want) in &manifest.files {
        let path = from.join(rel);
        let got = digest_file(&path).with_context(|| format!("the backup is incomplete: {rel} is missing"))?;
        if &got != want {
            bail!("the backup is damaged: {rel} has SHA-256 {got}, the manifest says {want}; restore an older backup");
        }
    }
    prepare_empty(to)?;
    for rel in manifest.files.keys() {
        let target = to.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::copy(from.join(rel), &target).with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(manifest)
}

fn read_manifest(from: &Path) -> Result<Manifest> {
    let path = from.join(MANIFEST);
    let text = std::fs::read(&path).with_context(|| {
        format!("{} is not a complete hcpki backup: no {MANIFEST} (was the backup interrupted?)", from.display())
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&text).with_context(|| format!("{} is not a valid backup manifest", path.display()))?;
    if manifest.format != FORMAT {
        bail!("{} has manifest format {}, this hcpki reads format {FORMAT}", path.display(), manifest.format);
    }
    for rel in manifest.files.keys() {
        // Only plain relative paths: a manifest must not write outside the target directory.
        if Path::new(rel).components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            bail!("{} names an unsafe path {rel:?}; refusing to restore it", path.display());
        }
    }
    Ok(manifest)
}

/// The file of a `sqlite:` URL, as written (relative paths are the directory's).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    Some(PathBuf::from(path))
}

/// `path` made absolute without requiring it to exist (its parent must).
fn absolute(path: &Path) -> Result<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Ok(p);
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let parent = parent.canonicalize().with_context(|| format!("cannot resolve {}", parent.display()))?;
    Ok(parent.join(path.file_name().unwrap_or_default()))
}

fn prepare_empty(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!("{} is not empty: give a new or empty directory", dir.display());
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            restrict(dir)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Backups hold sealed keys: owner-only, like the hcpki directory's `keys/`.
fn restrict(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {}", dir.display()))
}

fn copy_tree(
    root: &Path,
    from: &Path,
    out: &Path,
    skip: &dyn Fn(&Path, &Path) -> bool,
    files: &mut BTreeMap<String, String>,
) -> Result<()> {
    let mut entries = std::fs::read_dir(from)
        .with_context(|| format!("cannot read {}", from.display()))?
        .collect::<std::io::Result<Vec<_>>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let abs = entry.path();
        let rel = abs.strip_prefix(root).unwrap_or(&abs).to_path_buf();
        if skip(&rel, &abs) {
            continue;
        }
        // Not following links: a backup holds what the directory holds, never what a link points at.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(root, &abs, out, skip, files)?;
        } else if kind.is_file() {
            let target = out.join(&rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::copy(&abs, &target).with_context(|| format!("cannot copy {}", abs.display()))?;
            files.insert(slash_path(&rel), digest_file(&target)?);
        }
    }
    Ok(())
}

fn slash_path(p: &Path) -> String {
    p.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn digest_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(sqlite_file("sqlite:hcpki.db"), Some(PathBuf::from("hcpki.db")));
        assert_eq!(sqlite_file("sqlite:///var/lib/hcpki/x.db?mode=rwc"), Some(PathBuf::from("/var/lib/hcpki/x.db")));
        assert_eq!(sqlite_file("postgres://app@db/hcpki"), None);
    }

    #[test]
    fn manifests_naming_paths_outside_the_backup_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = serde_json::json!({
            "format": 1, "created_at": 0, "hcpki_version": "0", "database": {"kind": "postgresql"},
            "audit_head": {"seq": 0, "hash": "00"}, "includes_secrets": false,
            "files": {"../../etc/passwd": "00"}
        });
        std::fs::write(dir.path().join(MANIFEST), manifest.to_string()).unwrap();
        let err = read_manifest(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unsafe path"), "{err}");
    }

    #[test]
    fn a_backup_without_manifest_is_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let err = unpack(dir.path(), &dir.path().join("to")).unwrap_err().to_string();
        assert!(err.contains("not a complete hcpki backup"), "{err}");
    }
}
