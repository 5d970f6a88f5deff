-- hcpki:expand — a new table and a nullable column; releases before it never read them.
-- hcpki schema: the Shared Signals events of what other processes do and of the session limits (issue #51
-- item 2, D175). ssf_person_events holds events about a person that the store wrote with the change itself (an
-- account disabled, a second factor reset or set up), whatever process made it, until a server replica claims
-- (claimed_until, a lease) and signs them for the receivers; portal_sessions.seen_at is when the session was
-- last seen in use, set at its creation and then at most once per idle_minutes/6 (NULL: made by an older
-- release, left to the idle lock of its next request), so the housekeeping can
-- end sessions idle too long without a write per request. Kept column-for-column equal on SQLite and PostgreSQL:
-- TEXT and BIGINT only.
CREATE TABLE ssf_person_events (
    person_key TEXT NOT NULL,
    event TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (person_key, event, created_at)
);
CREATE INDEX ssf_person_events_due ON ssf_person_events (claimed_until);
ALTER TABLE portal_sessions ADD COLUMN seen_at BIGINT;
