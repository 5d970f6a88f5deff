-- hcpki schema: SSO session lifecycle and services in the database (issue #6, decisions D22, D26).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.

-- Sessions remember their facility (suspending or retiring it ends them), why they ended, and when their
-- clients were sent back-channel logout. A session ended by another process (the CLI disabling an account,
-- a facility suspended) has notified_at NULL until a server replica claims it and notifies its clients.
ALTER TABLE portal_sessions ADD COLUMN facility_id TEXT;
ALTER TABLE portal_sessions ADD COLUMN end_reason TEXT;
ALTER TABLE portal_sessions ADD COLUMN notified_at BIGINT;
-- Sessions ended before this migration were notified by the process that ended them.
UPDATE portal_sessions SET notified_at = ended_at WHERE ended_at IS NOT NULL;
CREATE INDEX portal_sessions_facility ON portal_sessions (facility_id);
CREATE INDEX portal_sessions_person ON portal_sessions (person_key);
CREATE INDEX portal_sessions_expires ON portal_sessions (expires_at);
CREATE INDEX portal_sessions_pending ON portal_sessions (notified_at, ended_at);
-- The sweeper deletes by deadline in bounded batches.
CREATE INDEX oidc_grants_expires ON oidc_grants (expires_at);
-- The housekeeping sweep deletes expired single-use rows (client-assertion jtis, PAR requests) by deadline (D28).
CREATE INDEX oidc_once_expires ON oidc_once (expires_at);

-- Card presence (D26, `[portal] card_presence_secs`): the SHA-256 of the session's presence token, which the
-- card agent presents to renew the lease while the card is in and to end the session when it leaves; a
-- session whose lease lapsed is refused and then ended by the housekeeping.
ALTER TABLE portal_sessions ADD COLUMN presence_hash TEXT;
ALTER TABLE portal_sessions ADD COLUMN presence_until BIGINT;
CREATE INDEX portal_sessions_presence ON portal_sessions (presence_hash);
CREATE INDEX portal_sessions_presence_until ON portal_sessions (presence_until);

-- Per-facility SSO session lifetime, overriding [portal] session_hours (e.g. a night-shift clinic).
CREATE TABLE portal_facility_sessions (
    facility_id  TEXT   PRIMARY KEY NOT NULL,
    session_secs BIGINT NOT NULL,
    set_by       TEXT   NOT NULL,
    set_at       BIGINT NOT NULL
);

-- The authorization policy's services (D22), each one `[[service]]` table of the services file schema,
-- kept as its TOML text and parsed by the same strict parser as the file.
CREATE TABLE portal_services (
    id          TEXT   PRIMARY KEY NOT NULL,
    position    BIGINT NOT NULL,                    -- listing order on the portal home page
    definition  TEXT   NOT NULL,                    -- TOML of one service table
    updated_by  TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL
);
-- One row: bumped by every change, so replicas reload only when something changed; `seeded` once the
-- services file was imported (afterwards the database is the source and the file is not read again).
CREATE TABLE portal_services_head (
    id          BIGINT PRIMARY KEY NOT NULL,
    generation  BIGINT NOT NULL,
    seeded      BIGINT NOT NULL
);
INSERT INTO portal_services_head (id, generation, seeded) VALUES (1, 0, 0);
