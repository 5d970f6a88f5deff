-- hcpki schema: who may use the web console after signing in to the SSO portal (issue #8, D42).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
--
-- One row per portal person key (a card holder's key, or pwd:<name>): the role, and for a facility admin the
-- facility. Managed by `hcpki console grant` and the admin API, each change audited in the same transaction.
-- Removing the row ends the person's console access at their next request (the console reads it every time).
CREATE TABLE console_grants (
    person_key  TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('operator', 'auditor', 'facility-admin')),
    facility_id TEXT,
    note        TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    granted_by  TEXT NOT NULL,
    CHECK ((role = 'facility-admin') = (facility_id IS NOT NULL))
);
