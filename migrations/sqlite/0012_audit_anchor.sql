-- hcpki schema: audit retention (issue #8). `hcpki audit prune` archives the oldest entries to a file and
-- deletes them; this row keeps the sequence number and hash of the last entry deleted, so the entries left
-- still verify as a chain (the first one links to the anchor) and the archive can be checked against it.
-- No row: nothing was ever pruned, the chain starts at the genesis hash.
CREATE TABLE audit_anchor (
    id   BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT   NOT NULL
);
