-- hcpki:expand — a new table only; releases before it never read it.
-- hcpki schema: passkeys (WebAuthn credentials, issue #48 item 1, D147). Kept column-for-column equal on SQLite and
-- PostgreSQL: TEXT and BIGINT only (flag bits, binary values base64url, times Unix seconds).
--
-- One row per credential registered. Sign-in challenges are login_challenges rows (0007) under a binding of their
-- own. `sign_count` only ever rises, by one conditional update per sign-in (a counter that does not rise is a
-- cloned authenticator: refused). A revoked passkey keeps its row (revoked_at) so the audit trail names it.
CREATE TABLE passkeys (
    credential_id   TEXT   PRIMARY KEY NOT NULL,
    person_key      TEXT   NOT NULL,
    user_handle     TEXT   NOT NULL,
    subject_name    TEXT   NOT NULL,
    subject_role    TEXT,
    public_key      TEXT   NOT NULL,
    algorithm       BIGINT NOT NULL,
    sign_count      BIGINT NOT NULL,
    backup_flags    BIGINT NOT NULL,   -- 1: backup eligible (BE, fixed), 2: backed up (BS, at the last use)
    transports      TEXT   NOT NULL,
    aaguid          TEXT   NOT NULL,
    attestation     TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX passkeys_person ON passkeys (person_key);
