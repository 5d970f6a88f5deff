-- hcpki schema: card person keys bound to their trust anchor (issue #24, item 10).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
--
-- Card logins now key a person as hpki:<anchor>:<O>:<serialNumber> (jpki:<anchor>:<hex>, hpki-cert:<anchor>:<hex>),
-- the anchor being a hash of the trust anchor's public key; before, two anchors whose CAs share an organisation
-- name gave their cards one key. The database cannot tell which anchor an earlier key came from, so each earlier
-- card key seen (live or ended sessions, console grants, successful card logins in the audit log) is listed here,
-- unclaimed. The first login whose card gives that earlier key claims it (`person_key`): its console grant moves
-- to the new key, audited `person.key-linked`, and relying parties keep the pairwise `sub` they knew (derived from
-- the earlier key). Password keys (pwd:<name>) are unchanged.
CREATE TABLE person_key_links (
    legacy_key TEXT PRIMARY KEY,
    person_key TEXT UNIQUE,
    claimed_at BIGINT
);

INSERT INTO person_key_links (legacy_key)
SELECT person_key FROM portal_sessions
 WHERE person_key LIKE 'hpki:%' OR person_key LIKE 'hpki-cert:%' OR person_key LIKE 'jpki:%'
UNION
SELECT person_key FROM console_grants
 WHERE person_key LIKE 'hpki:%' OR person_key LIKE 'hpki-cert:%' OR person_key LIKE 'jpki:%'
UNION
SELECT target FROM audit_log
 WHERE action = 'login.card' AND outcome = 'ok'
   AND (target LIKE 'hpki:%' OR target LIKE 'hpki-cert:%' OR target LIKE 'jpki:%');
