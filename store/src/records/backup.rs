//! The backups `hcpki backup` took, as recorded (issue #48 item 4, D176): the manifest stays with the backup,
//! the record stays with the installation, so the compliance report can say when the last one was and where
//! it went.

use hcpki_model::UnixTime;

/// Where the backup's database copy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupDatabase {
    /// A SQLite snapshot inside the backup.
    Sqlite,
    /// Not in the backup: PostgreSQL's own tools dump it (pg_dump, or pg_basebackup with WAL archiving).
    Postgresql,
}

impl BackupDatabase {
    /// `sqlite` or `postgresql`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgresql => "postgresql",
        }
    }

    /// The stored form read back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sqlite" => Some(Self::Sqlite),
            "postgresql" => Some(Self::Postgresql),
            _ => None,
        }
    }
}

/// One backup taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupRecord {
    /// The SHA-256 (hex) of the backup's `manifest.json`: which backup this is.
    pub manifest_sha256: String,
    /// When it was taken.
    pub taken_at: UnixTime,
    /// Who took it (the audit actor).
    pub taken_by: String,
    /// Where it was written, as an absolute path on the machine that took it.
    pub location: String,
    /// Where its database copy is.
    pub database: BackupDatabase,
    /// The audit entry the copy holds last (the manifest's head).
    pub audit_head_seq: i64,
    /// How many files it holds, the database snapshot included.
    pub files: u64,
    /// Whether `secrets/` was copied.
    pub includes_secrets: bool,
}
