-- hcpki:expand — a new table only; releases before it never read it.
-- hcpki schema: the schema window (issue #46 item 3, D137; migrations/README.md). Kept equal on SQLite and
-- PostgreSQL.
--
-- One row. `needs_version`: the oldest migration a binary must carry to run against this schema. Expand
-- migrations leave it alone; a contract migration raises it in its own transaction, so a binary of an older
-- release that starts against the result refuses with what to do instead of failing on a missing column.
-- 30 here: every release carrying this migration may run; release 0.1.0 (0001-0030) cannot read this table and
-- refuses any migration it does not carry at its next start (sqlx's check), so replicas of 0.1.0 must not be
-- restarted during the upgrade to 0.2.0 (CHANGELOG.md). `written_by`: the newest release that migrated the
-- database, which the refusal names; each start of that release writes it.
CREATE TABLE schema_window (
    id            SMALLINT PRIMARY KEY CHECK (id = 1),
    needs_version BIGINT NOT NULL,
    written_by    TEXT NOT NULL
);
INSERT INTO schema_window (id, needs_version, written_by) VALUES (1, 30, 'unknown');
