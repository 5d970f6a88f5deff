-- hcpki:expand — a new table only; releases before it never read it (their rotations simply record nothing here).
-- hcpki schema: the refresh tokens a grant has rotated out (issue #51 item 1, RFC 9700 §4.14.2, D152). Kept equal on
-- SQLite and PostgreSQL: TEXT and BIGINT only.
--
-- One row per refresh token spent by a rotation: its grant and its SHA-256 (never the token), and when it was
-- spent. A refresh token presented again is found here, which tells a reuse (the token was once good: someone
-- kept a copy) from a made-up secret for a grant id (access tokens carry the grant id as `gid`): a reuse revokes
-- the grant and ends the session it belongs to; a made-up secret is only refused. The rows go with their grant
-- (the housekeeping sweep deletes expired grants). Times are Unix seconds.
CREATE TABLE oidc_refresh_spent (
    grant_id TEXT   NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    hash     TEXT   NOT NULL,
    spent_at BIGINT NOT NULL,
    PRIMARY KEY (grant_id, hash)
);
