-- hcpki schema: per-address rate limits shared by every server replica (issue #9, D31 addendum).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
--
-- Each replica counts requests in memory and, once per `[limits] sync_secs`, adds what it allowed since its last
-- sync to these rows in one batched statement and reads the totals back (server/src/http/rate_limit/), so the
-- limits hold for the cluster, not per replica, without a database write per request. Only addresses that used a
-- noticeable part of their budget on a replica are written; the housekeeping sweep deletes windows older than
-- the previous minute.
CREATE TABLE rate_limit_counts (
    class        TEXT   NOT NULL,            -- enroll, revocation, login
    address      TEXT   NOT NULL,            -- the client address, as the limiter keys it
    window_start BIGINT NOT NULL,            -- Unix seconds, a multiple of 60: one minute's window
    requests     BIGINT NOT NULL,            -- requests allowed in the window, by all replicas together
    engaged      BIGINT NOT NULL DEFAULT 0,  -- 1 once a replica refused the address in this window
    PRIMARY KEY (class, address, window_start)
);
CREATE INDEX rate_limit_counts_window ON rate_limit_counts (window_start);

-- The replicas that share the counts: each divides what is left of an address's budget by how many are alive.
-- Rows of replicas gone for an hour are deleted by the next sync of any replica.
CREATE TABLE rate_limit_replicas (
    replica     TEXT   PRIMARY KEY NOT NULL, -- a random ID per process start
    alive_until BIGINT NOT NULL              -- Unix seconds: three sync intervals after its last sync
);
CREATE INDEX rate_limit_replicas_alive ON rate_limit_replicas (alive_until);
