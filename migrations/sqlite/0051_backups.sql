-- hcpki:expand — a new table only; releases before it never read it.
-- hcpki schema: the backups `hcpki backup` took (issue #48 item 4, D176), so the compliance report can say when
-- the last one was. Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only. The manifest's
-- SHA-256 names a backup: the same manifest is never recorded twice.
CREATE TABLE backups (
    manifest_sha256 TEXT PRIMARY KEY,
    taken_at BIGINT NOT NULL,
    taken_by TEXT NOT NULL,
    location TEXT NOT NULL,
    database_kind TEXT NOT NULL,
    audit_head_seq BIGINT NOT NULL,
    files BIGINT NOT NULL,
    includes_secrets BIGINT NOT NULL
);
CREATE INDEX backups_by_time ON backups (taken_at);
