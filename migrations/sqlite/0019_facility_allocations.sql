-- hcpki schema: the address allocations of each facility (issue #24, item 2).
-- Kept column-for-column equal on SQLite and PostgreSQL (PostgreSQL adds a generated inet column and an
-- exclusion constraint as a second guard; hcpki never writes that column).
--
-- A router certificate may carry an IP address only inside its facility's allocations, and the allocations of
-- two facilities never overlap. Overlap is checked by the store inside the adding transaction, which holds the
-- audit head's lock like every writer (so two concurrent adds queue and the second sees the first):
-- first_hex/last_hex are the range's first and last address as fixed-width lowercase hex (8 digits IPv4,
-- 32 IPv6), which compare as text exactly as the numbers do on both databases.
CREATE TABLE facility_allocations (
    facility_id TEXT    NOT NULL REFERENCES facilities (id),
    prefix      TEXT    NOT NULL,        -- canonical text: 2001:db8:10::/48, 192.0.2.7 (a single address)
    family      BIGINT  NOT NULL CHECK (family IN (4, 6)),
    first_hex   TEXT    NOT NULL,
    last_hex    TEXT    NOT NULL,
    added_at    BIGINT  NOT NULL,        -- Unix seconds
    added_by    TEXT    NOT NULL,        -- the operator (audit actor form)
    PRIMARY KEY (prefix)
);
CREATE INDEX facility_allocations_range ON facility_allocations (family, first_hex, last_hex);
CREATE INDEX facility_allocations_facility ON facility_allocations (facility_id);
