-- hcpki schema v4: SCEP requests held for an operator (ca/src/enroll/scep/held.rs, decision D16).
-- A PKCSReq without a challenge password whose CSR names its facility waits here until
-- `hcpki enroll pending approve|reject`; the client polls by transaction ID.
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT, BIGINT and BLOB only.
CREATE TABLE scep_requests (
    id             TEXT   PRIMARY KEY NOT NULL,     -- 16 lowercase hex: what operators type
    transaction_id TEXT   NOT NULL,                 -- the client's transactionID
    profile        TEXT   NOT NULL,                 -- router | pc (the endpoint's)
    facility_id    TEXT   NOT NULL REFERENCES facilities (id),
    csr            BLOB   NOT NULL,                 -- DER PKCS#10, checked on receipt
    state          TEXT   NOT NULL,                 -- pending | issued | rejected
    serial         TEXT,                            -- the certificate issued on approval
    reason         TEXT,                            -- the operator's reason for a rejection
    created_at     BIGINT NOT NULL,
    decided_at     BIGINT,
    decided_by     TEXT
);
CREATE UNIQUE INDEX scep_requests_transaction ON scep_requests (profile, transaction_id);
CREATE INDEX scep_requests_state ON scep_requests (state, created_at);
