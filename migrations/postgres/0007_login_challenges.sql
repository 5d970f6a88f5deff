-- hcpki schema: card-login challenges (server/src/login/challenge.rs, decision D23).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
-- One row per challenge handed to a login page; taking it deletes it (single use on any replica). Rows are
-- short-lived: expired ones are swept whenever a new challenge is stored.
CREATE TABLE login_challenges (
    challenge  TEXT   PRIMARY KEY NOT NULL,   -- base64url of 32 random bytes: what the card signs
    binding    TEXT   NOT NULL,               -- opaque browser-session binding (e.g. hash of a pre-login cookie)
    origin     TEXT   NOT NULL,               -- the portal origin the challenge was issued for
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_challenges_expires ON login_challenges (expires_at);
