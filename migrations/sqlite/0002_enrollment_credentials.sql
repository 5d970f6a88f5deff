-- hcpki schema v2: enrollment credentials (ca/src/enroll/credential.rs, decision D15).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
-- The secret itself is never stored: secret_hash is HMAC-SHA-256 keyed by the per-row salt.
CREATE TABLE enrollment_credentials (
    id          TEXT   PRIMARY KEY NOT NULL,        -- 32 lowercase hex; the EST username, the ACME EAB kid
    facility_id TEXT   NOT NULL REFERENCES facilities (id),
    protocol    TEXT   NOT NULL,                    -- est | scep | acme
    profiles    TEXT   NOT NULL,                    -- comma-separated profile names, first = default
    salt        TEXT   NOT NULL,                    -- hex, 16 random bytes
    secret_hash TEXT   NOT NULL,                    -- hex HMAC-SHA-256(salt, secret)
    created_by  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,                             -- set once, atomically, by the use that redeems it
    used_by     TEXT,
    revoked_at  BIGINT
);
CREATE INDEX enrollment_credentials_facility ON enrollment_credentials (facility_id, created_at);
