-- hcpki schema: which expiring certificates the expiry webhook has reported (issue #8), so each is reported
-- once, by one replica. Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
CREATE TABLE expiry_notices (
    serial      TEXT   PRIMARY KEY NOT NULL,
    not_after   BIGINT NOT NULL,
    notified_at BIGINT NOT NULL
);
CREATE INDEX expiry_notices_not_after ON expiry_notices (not_after);
