-- hcpki:expand — new tables only; releases before it never read them (their operators are all central).
-- hcpki schema: scoped registration authorities (issue #50 item 3, D167): connection providers and prefectures
-- that register, approve, suspend and help the facilities in their scope. `prefectures` is a prefecture RA's
-- comma-separated prefecture numbers ("13,14"; empty for a provider RA); a provider RA's scope is its rows in
-- `ra_facilities` (one provider per facility); `ra_members` puts an operator (`operator:<name>`) or a console
-- person (`person:<key>`) in one RA, staff without a row being central. Kept column-for-column equal on SQLite
-- and PostgreSQL.
CREATE TABLE registration_authorities (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    prefectures TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE ra_facilities (
    facility_id TEXT PRIMARY KEY REFERENCES facilities (id),
    ra TEXT NOT NULL REFERENCES registration_authorities (name),
    assigned_by TEXT NOT NULL,
    assigned_at BIGINT NOT NULL
);
CREATE INDEX ra_facilities_ra ON ra_facilities (ra, facility_id);
CREATE TABLE ra_members (
    member TEXT PRIMARY KEY,
    ra TEXT NOT NULL REFERENCES registration_authorities (name),
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
