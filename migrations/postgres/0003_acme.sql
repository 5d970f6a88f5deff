-- hcpki schema v3: ACME (RFC 8555) state, shared by every server replica (ca/src/enroll/acme.rs, decision D17),
-- and the minimal revocation record ACME's revokeCert needs (CRL/OCSP publication is issue #5).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.

-- Single use: inserted when handed out, deleted when used; rows past expires_at are swept on insert.
CREATE TABLE acme_nonces (
    nonce      TEXT   PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX acme_nonces_expires ON acme_nonces (expires_at);

CREATE TABLE acme_accounts (
    id            TEXT   PRIMARY KEY NOT NULL,      -- 32 hex; the account URL is <base>/acct/<id>
    thumbprint    TEXT   NOT NULL UNIQUE,           -- RFC 7638 of the current key
    jwk           TEXT   NOT NULL,                  -- canonical JWK JSON (public key)
    facility_id   TEXT   NOT NULL REFERENCES facilities (id),
    profile       TEXT   NOT NULL,                  -- router | pc: what its orders receive
    credential_id TEXT   NOT NULL REFERENCES enrollment_credentials (id),  -- the EAB credential it redeemed
    status        TEXT   NOT NULL,                  -- valid | deactivated
    contact       TEXT   NOT NULL,                  -- JSON array of mailto: URLs
    created_at    BIGINT NOT NULL
);

-- An order with its authorizations and challenges as one JSON document (authorizations are not shared
-- between orders); version makes every update conditional, so replicas never overwrite each other.
CREATE TABLE acme_orders (
    id                 TEXT   PRIMARY KEY NOT NULL,
    account_id         TEXT   NOT NULL REFERENCES acme_accounts (id),
    status             TEXT   NOT NULL,
    version            BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    certificate_serial TEXT,
    body               TEXT   NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX acme_orders_account ON acme_orders (account_id, created_at);

CREATE TABLE certificate_revocations (
    serial     TEXT   PRIMARY KEY NOT NULL REFERENCES certificates (serial),
    reason     BIGINT NOT NULL,                     -- RFC 5280 CRLReason
    revoked_at BIGINT NOT NULL,
    revoked_by TEXT   NOT NULL
);
