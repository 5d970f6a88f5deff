-- hcpki:expand — a new nullable column; releases before it never read it, and their updates leave it NULL (no mode reported).
-- hcpki schema: how the card agent says a signing request's signature was authorised (issue #48 item 3, D163): the
-- physician's PIN for it alone, a signing session's n-th of N, or one document of a batch — canonical JSON as the
-- signing-request core wrote it ({"mode":"session","n":2,"of":250}). Kept column-for-column equal on SQLite and
-- PostgreSQL.
ALTER TABLE signing_requests ADD COLUMN signature_mode TEXT;
