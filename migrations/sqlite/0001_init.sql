-- hcpki schema v1 (SQLite). Kept column-for-column equal to migrations/postgres/0001_init.sql:
-- the store runs the same SQL on both, so only INTEGER/BIGINT, TEXT and BLOB are used
-- (no BOOLEAN, no DATETIME); times are Unix seconds, audit at_ms Unix milliseconds.

-- Never-reset counters. 'facility' hands out facility numbers (FacilityId::from_number),
-- so an ID is never reused, even after the facility is retired.
CREATE TABLE counters (
    name  TEXT   PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('facility', 0);

CREATE TABLE facilities (
    id               TEXT   PRIMARY KEY NOT NULL,   -- HF00000017K
    number           BIGINT NOT NULL UNIQUE,        -- the 17 inside it; orders and pages listings
    name             TEXT   NOT NULL,
    kind             TEXT   NOT NULL,               -- FacilityKind::as_str
    medical_code     TEXT   UNIQUE,                 -- 医療機関コード; NULLs do not collide
    address          TEXT,
    contact          TEXT,
    state            TEXT   NOT NULL,               -- FacilityState::as_str
    state_reason     TEXT,
    state_changed_by TEXT   NOT NULL,
    state_changed_at BIGINT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX facilities_state ON facilities (state, number);

CREATE TABLE authorities (
    name       TEXT   PRIMARY KEY NOT NULL,         -- root, router, pc, server
    key_uri    TEXT   NOT NULL,                     -- file:… or pkcs11:…
    cert_der   BLOB   NOT NULL,
    parent     TEXT,                                -- NULL for the root
    created_at BIGINT NOT NULL
);

-- One row per serial, written before signing (status 'reserved'), then 'issued' or 'failed'.
-- Revocation columns come in a later migration.
CREATE TABLE certificates (
    serial       TEXT   PRIMARY KEY NOT NULL,       -- lowercase hex of the DER INTEGER content
    ca           TEXT   NOT NULL,
    profile      TEXT   NOT NULL,
    facility_id  TEXT   REFERENCES facilities (id),
    subject      TEXT   NOT NULL,                   -- RFC 4514
    sans         TEXT   NOT NULL,                   -- JSON array of display strings
    not_before   BIGINT NOT NULL,
    not_after    BIGINT NOT NULL,
    status       TEXT   NOT NULL,                   -- reserved | issued | failed
    tbs_sha256   TEXT   NOT NULL,
    spki_sha256  TEXT   NOT NULL,
    der          BLOB,                              -- NULL until issued
    requested_by TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    issued_at    BIGINT
);
CREATE INDEX certificates_facility ON certificates (facility_id);
CREATE INDEX certificates_status_not_after ON certificates (status, not_after);
CREATE INDEX certificates_spki ON certificates (spki_sha256);
CREATE INDEX certificates_created ON certificates (created_at);

-- The hash chain (see ca/src/audit.rs). seq is assigned under the audit_head row lock,
-- so it is contiguous from 1.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY NOT NULL,
    at_ms     BIGINT  NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    detail    TEXT    NOT NULL,                     -- JSON text exactly as hashed
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target, seq);

-- The single head row. Every writing transaction starts by updating it, which serializes
-- writers (row lock on PostgreSQL, write lock on SQLite) and hands out the next seq.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
