-- hcpki schema: facility-admin changes by a named person; PC sessions end with their certificate (issue #24,
-- items 7 and 9). Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.

-- Facilities whose admins may make changes (credentials, PKCS#12, revocations) after a password + TOTP sign-in
-- at one of its PCs; every other facility takes changes only from a card sign-in (HPKI or JPKI with PIN).
-- A row means "allowed"; set with `hcpki facility admin-login ID --password-totp allow|deny`, audited.
CREATE TABLE facility_admin_password_logins (
    facility_id TEXT   PRIMARY KEY NOT NULL,
    set_by      TEXT   NOT NULL,
    set_at      BIGINT NOT NULL
);
-- Before this migration a facility admin by password + TOTP (D42) could change everything its PC certificate
-- could; the facilities where an operator had granted a password account the facility-admin role keep that
-- choice, so those admins keep working. New facilities, and those without such a grant, start card-only.
INSERT INTO facility_admin_password_logins (facility_id, set_by, set_at)
    SELECT DISTINCT facility_id, 'migration:0020', CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) FROM console_grants
    WHERE role = 'facility-admin' AND facility_id IS NOT NULL AND person_key LIKE 'pwd:%';

-- The serial of the facility PC certificate a session logged in through: revoking or holding the certificate
-- ends the session in the same transaction. Live sessions from before this migration get theirs from the
-- session's data (where the portal kept it).
ALTER TABLE portal_sessions ADD COLUMN facility_serial TEXT;
UPDATE portal_sessions SET facility_serial = CAST(data AS jsonb) #>> '{details,facility_certificate}' WHERE ended_at IS NULL;
CREATE INDEX portal_sessions_facility_serial ON portal_sessions (facility_serial);
