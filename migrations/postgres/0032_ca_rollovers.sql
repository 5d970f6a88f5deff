-- hcpki:expand — a new table only; releases before it never read it, and the authorities row they read stays the CA that issues.
-- hcpki schema: CA key rollover (issue #47, D145). Kept column-for-column equal on SQLite and PostgreSQL (the DER
-- is BYTEA here, as authorities.cert_der).
--
-- One row per rollover of an issuing CA over the installation's life. 'published': the new generation (key_uri,
-- cert_der) exists and is served beside the old one, the old one still issues; 'switched': the new generation
-- issues (the authorities row now holds it) and the old one (old_key_uri, old_cert_der) is still served and
-- answered for; 'retired': the old generation's certificates have ended (or it was declared compromised);
-- 'aborted': the new generation was dropped before it ever issued. At most one rollover per CA is open
-- (published or switched): the partial unique index, and the store's check under the audit head lock.
-- Times are Unix seconds.
CREATE TABLE ca_rollovers (
    ca           TEXT   NOT NULL,
    generation   BIGINT NOT NULL,
    state        TEXT   NOT NULL,
    key_uri      TEXT   NOT NULL,
    cert_der     BYTEA  NOT NULL,
    old_key_uri  TEXT   NOT NULL,
    old_cert_der BYTEA  NOT NULL,
    started_at   BIGINT NOT NULL,
    started_by   TEXT   NOT NULL,
    switched_at  BIGINT,
    ended_at     BIGINT,
    ended_by     TEXT,
    compromised  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (ca, generation)
);
CREATE UNIQUE INDEX ca_rollovers_open ON ca_rollovers (ca) WHERE state IN ('published', 'switched');
