-- hcpki:expand — a new table only; releases before it never read it.
-- hcpki schema: each facility's limit on signing sessions (issue #48 item 3, D172): at most max_signatures
-- signatures within max_hours hours after one signature PIN at its PCs (0 turns sessions off). The card agent's
-- own limits apply besides; the lower wins. A facility without a row uses the agent's.
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
CREATE TABLE facility_signing_limits (
    facility_id TEXT PRIMARY KEY REFERENCES facilities (id),
    max_signatures BIGINT NOT NULL,
    max_hours BIGINT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
