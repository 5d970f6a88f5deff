-- hcpki:expand — new nullable columns; releases before it never read them, and their inserts leave them NULL, which is right for an issuing CA's rollover.
-- hcpki schema: a root rollover's link certificates (issue #47, D160). Kept column-for-column equal on SQLite and
-- PostgreSQL (the DER is BYTEA here, as cert_der).
--
-- RFC 4210 §4.4's root key update: new_with_old_der is the new root's key certified by the old root (a relying
-- party holding the old root reaches the new generation through it), old_with_new_der the old root's key certified
-- by the new root (one holding the new root reaches the old generation). Both NULL for an issuing CA's rollover.
ALTER TABLE ca_rollovers ADD COLUMN new_with_old_der BYTEA;
ALTER TABLE ca_rollovers ADD COLUMN old_with_new_der BYTEA;
