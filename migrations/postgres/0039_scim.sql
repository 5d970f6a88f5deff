-- hcpki:expand — new tables only; releases before it never read them.
-- hcpki schema: SCIM provisioning (issue #51 item 3, D158). scim_clients binds a confidential OIDC client (a
-- facility's HR system) to the one facility whose staff it provisions; scim_accounts binds a password + TOTP
-- account to its facility, with the HR system's externalId. An account without a row here (made by
-- `hcpki portal user add`) belongs to no facility and no SCIM client sees it. Kept column-for-column equal on
-- SQLite and PostgreSQL: TEXT and BIGINT only.
CREATE TABLE scim_clients (
    client_id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facilities (id),
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
CREATE TABLE scim_accounts (
    username TEXT PRIMARY KEY REFERENCES portal_users (username),
    facility_id TEXT NOT NULL REFERENCES facilities (id),
    external_id TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX scim_accounts_facility ON scim_accounts (facility_id, username);
