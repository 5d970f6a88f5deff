-- hcpki:expand — a new table only; releases before it never read it.
-- hcpki schema: each facility's rule on passkeys (issue #48 item 1, D170): none (any passkey), any (attested
-- hardware keys) or models (the listed AAGUIDs, space-separated). A facility without a row admits any passkey.
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
CREATE TABLE facility_passkey_rules (
    facility_id TEXT PRIMARY KEY REFERENCES facilities (id),
    rule TEXT NOT NULL,
    models TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
