-- hcpki schema: forwarding the audit log to an outside repository (issue #29 part 6, ATNA, D98).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
--
-- One row per destination (`atna`): the sequence number of the last audit entry the destination acknowledged
-- (written and flushed on its TLS connection), so a restarted server, or any replica, resumes after it. The
-- row only moves forward. Updating it is not itself audited: each update would append an entry, which would
-- then have to be forwarded, and so on without end; the entries forwarded are the record.
CREATE TABLE audit_forwarding (
    destination TEXT PRIMARY KEY,
    acked_seq BIGINT NOT NULL,
    acked_at BIGINT NOT NULL
);
