-- hcpki schema: a physician's delegation to a named staff account at the same facility (issue #29 item 4, D95).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
--
-- One row per delegation, made from the portal by a physician signed in with an HPKI card carrying an hcRole at a
-- facility PC: who (the physician's person key, name and hcRole as the card said at that moment), to whom (a
-- password + TOTP account), where (the facility of the physician's login), for which services (a JSON array of
-- service ids) and until when. Ending it sets ended_at; rows are kept for the audit trail's readers.
CREATE TABLE delegations (
    id                TEXT PRIMARY KEY,
    facility_id       TEXT NOT NULL,
    physician_key     TEXT NOT NULL,
    physician_name    TEXT NOT NULL,
    physician_role    TEXT NOT NULL,
    delegate_username TEXT NOT NULL,
    delegate_name     TEXT NOT NULL,
    services          TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    ended_at          BIGINT,
    ended_by          TEXT,
    CHECK (expires_at > created_at)
);
CREATE INDEX delegations_physician ON delegations (physician_key, expires_at);
CREATE INDEX delegations_delegate ON delegations (delegate_username, expires_at);

-- The staff member's sessions that chose to act under a delegation: the one row of a session with stopped_at
-- NULL is what its sign-ins act under; every row is what ending the delegation revokes the grants of.
CREATE TABLE delegation_sessions (
    session_hash  TEXT NOT NULL,
    delegation_id TEXT NOT NULL REFERENCES delegations (id) ON DELETE CASCADE,
    chosen_at     BIGINT NOT NULL,
    stopped_at    BIGINT,
    PRIMARY KEY (session_hash, delegation_id)
);
CREATE INDEX delegation_sessions_of ON delegation_sessions (delegation_id);
