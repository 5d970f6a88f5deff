-- hcpki:expand — a new table only; releases before it never read it.
-- hcpki schema: each facility's named security officer (セキュリティ責任者, issue #50 item 5, D155): the person
-- incident response calls. Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
CREATE TABLE facility_security_officers (
    facility_id TEXT PRIMARY KEY REFERENCES facilities (id),
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
