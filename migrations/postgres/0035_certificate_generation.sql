-- hcpki:expand — a new column with a default; releases before it insert without it (generation 1), which is right until a CA's first switch.
-- hcpki schema: the CA generation that issued each certificate (issue #47, D151). Kept column-for-column equal on
-- SQLite and PostgreSQL.
--
-- `generation` is the issuing CA's generation (`init` made generation 1; each rollover's switch makes the next one
-- issue, D145). Each generation signs its own CRL with its own key (`/crl/pc.crl` for generation 1, as its
-- certificates' CRL distribution point has always said; `/crl/pc-g2.crl` for generation 2), listing only its own
-- certificates. Rows from before: generation 1, except those issued after a switch recorded in ca_rollovers (the
-- switch's own second counts as old, as D145's retirement count does).
ALTER TABLE certificates ADD COLUMN generation BIGINT NOT NULL DEFAULT 1;
UPDATE certificates SET generation = (
    SELECT MAX(r.generation) FROM ca_rollovers r
    WHERE r.ca = certificates.ca AND r.state IN ('switched', 'retired')
      AND r.switched_at < COALESCE(certificates.issued_at, certificates.created_at))
WHERE EXISTS (
    SELECT 1 FROM ca_rollovers r
    WHERE r.ca = certificates.ca AND r.state IN ('switched', 'retired')
      AND r.switched_at < COALESCE(certificates.issued_at, certificates.created_at));
