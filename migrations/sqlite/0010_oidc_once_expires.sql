-- The sweep of expired single-use rows (client-assertion jtis, PAR requests) runs before every insert
-- (`DELETE FROM oidc_once WHERE expires_at <= now`); without this index it scanned the whole table, one row per
-- token request kept for up to an hour (docs/benchmarks.md, OIDC code-for-token exchanges).
CREATE INDEX oidc_once_expires ON oidc_once (expires_at);
