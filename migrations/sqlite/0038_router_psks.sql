-- hcpki:expand — a new table only; releases before it never read it.
-- hcpki schema: routers' managed pre-shared keys (issue #50 item 1, D156), per facility and per peer (the hub).
-- `sealed` is AES-256-GCM bound to facility, peer and key id (pkix::seal); the key itself is never stored.
-- `retires_at` is set when a rotation puts the key in its overlap window; `withdrawn_at` when the facility is
-- suspended or retired (or the key withdrawn). Kept column-for-column equal on SQLite and PostgreSQL.
CREATE TABLE router_psks (
    key_id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facilities (id),
    peer TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    vendor TEXT NOT NULL,
    sealed TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retires_at BIGINT,
    withdrawn_at BIGINT
);
CREATE INDEX router_psks_facility ON router_psks (facility_id, peer);
CREATE INDEX router_psks_peer ON router_psks (peer, withdrawn_at);
