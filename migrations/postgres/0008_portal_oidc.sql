-- hcpki schema: SSO portal accounts and sessions, OpenID Connect clients and grants (issue #6, decision D24).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only. Secrets are never stored in
-- the clear: session ids, codes and refresh tokens as SHA-256 hashes, passwords as argon2id PHC strings,
-- TOTP secrets sealed with AES-256-GCM under a key derived from the server's portal secret.

-- Staff without cards: password + TOTP (the lowest assurance level).
CREATE TABLE portal_users (
    username       TEXT   PRIMARY KEY NOT NULL,
    display_name   TEXT   NOT NULL,
    hc_role        TEXT,                             -- a policy role code, or none
    password_hash  TEXT   NOT NULL,                  -- argon2id PHC string
    totp_secret    TEXT   NOT NULL,                  -- sealed (base64url nonce || ciphertext)
    last_totp_step BIGINT NOT NULL DEFAULT 0,        -- the last accepted RFC 6238 step: replay refusal
    created_by     TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    disabled_at    BIGINT
);

-- SSO sessions, shared by every replica. Only the SHA-256 of the cookie's random id is kept.
CREATE TABLE portal_sessions (
    id_hash     TEXT   PRIMARY KEY NOT NULL,
    person_key  TEXT   NOT NULL,                     -- stable person identifier (pairwise sub input)
    card_id     TEXT,                                -- the card that logged in, for card-removal logout
    data        TEXT   NOT NULL,                     -- JSON: subject, facility, credential details, CSRF token
    auth_time   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    ended_at    BIGINT
);
CREATE INDEX portal_sessions_card ON portal_sessions (card_id);

-- Relying parties, registered by the operator.
CREATE TABLE oidc_clients (
    id          TEXT   PRIMARY KEY NOT NULL,
    data        TEXT   NOT NULL,                     -- JSON: redirect URIs, auth method, keys, service
    created_by  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

-- One authorization: its code while unredeemed, then its current refresh token. A code or refresh token
-- presented again after use revokes the grant (and so every token issued from it).
CREATE TABLE oidc_grants (
    id           TEXT   PRIMARY KEY NOT NULL,
    client_id    TEXT   NOT NULL,
    session_hash TEXT   NOT NULL,
    data         TEXT   NOT NULL,                    -- JSON: what tokens of this grant say
    code_hash    TEXT,
    refresh_hash TEXT,
    state        TEXT   NOT NULL,                    -- code | active | revoked
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX oidc_grants_session ON oidc_grants (session_hash);

-- Single-use values with a deadline: pushed authorization requests, client assertion jti.
CREATE TABLE oidc_once (
    kind        TEXT   NOT NULL,
    key         TEXT   NOT NULL,
    value       TEXT   NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (kind, key)
);
