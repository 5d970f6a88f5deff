-- hcpki schema: signing requests from relying services (issue #27 item 3, D79-D80).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT, BIGINT and BYTEA only.
--
-- A service registered as an OIDC client asks for a document to be signed by the physician its access token
-- names; the physician signs on the portal's page with the card, hcpki adds the time stamp and keeps the result
-- until the service fetches it. Rows are deleted by the housekeeping a day after their deadline.
CREATE TABLE signing_requests (
    id              TEXT   PRIMARY KEY NOT NULL,   -- random, 256 bits, base64url
    client_id       TEXT   NOT NULL,               -- the service (OIDC client) that asked
    person_key      TEXT   NOT NULL,               -- the person of the access token's grant (its session's)
    grant_id        TEXT   NOT NULL,               -- the grant the access token came from
    sub             TEXT   NOT NULL,               -- the pairwise sub the service knows the person by
    format          TEXT   NOT NULL,               -- cades
    level           TEXT   NOT NULL,               -- b-b | b-t
    title           TEXT   NOT NULL,
    document        BYTEA  NOT NULL,               -- at most 10 MiB
    document_sha256 TEXT   NOT NULL,               -- hex
    state           TEXT   NOT NULL,               -- pending | signed | refused | cancelled (expired: pending past expires_at)
    result          BYTEA,                         -- the signed document (the .p7s), when signed
    signer_sha256   TEXT,                          -- hex SHA-256 of the signer certificate, when signed
    gen_time        BIGINT,                        -- the signature time stamp's genTime (b-t), when signed
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    error           TEXT                           -- why the last attempt failed, or why it was refused
);
CREATE INDEX signing_requests_expires ON signing_requests (expires_at);
