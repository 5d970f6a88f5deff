-- hcpki schema: operators of the admin API (ca/src/operator.rs, decision D18).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
-- Certificates only identify an operator (profile `operator`, CN = name); the role and whether the
-- operator may still act are here, so disabling takes effect on the next request.
CREATE TABLE operators (
    name        TEXT   PRIMARY KEY NOT NULL,        -- a-z 0-9 . _ -, the certificate's CN
    role        TEXT   NOT NULL,                    -- operator | auditor
    created_by  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    disabled_at BIGINT,                             -- set once; a disabled operator is never re-enabled
    disabled_by TEXT
);
