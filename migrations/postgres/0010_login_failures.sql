-- hcpki schema: failed password sign-ins per account name, shared by every server replica (issue #9).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
--
-- The password throttle (server/src/portal/throttle.rs, D24) kept these counts in each replica's memory, so N
-- replicas behind a load balancer gave a guesser N times the attempts. One row per account name that failed
-- recently; a success deletes it, and the housekeeping sweep deletes rows idle for an hour.
CREATE TABLE portal_login_failures (
    username TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_at  BIGINT NOT NULL
);
CREATE INDEX portal_login_failures_last ON portal_login_failures (last_at);
