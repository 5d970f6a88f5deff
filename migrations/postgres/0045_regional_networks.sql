-- hcpki:expand — a new table and a nullable column; releases before it never read them.
-- hcpki schema: regional networks (地域医療連携ネットワーク, issue #49 item 2, D169). One row per declared network:
-- its name, its responsible party (管理責任者: name and contact), the 共同利用 notice's items shared, purpose and
-- the scope of joint users in words, and its members: facility IDs and relying service ids, as JSON arrays of
-- text. consents.network names the network a consent's scope reaches (NULL: the asking service alone), copied
-- from the template when the consent is asked for, so a later change of the template does not widen a consent
-- the patient signed. Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
CREATE TABLE regional_networks (
    name               TEXT PRIMARY KEY,
    title              TEXT NOT NULL,
    responsible_name   TEXT NOT NULL,
    responsible_contact TEXT NOT NULL,
    items              TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    joint_users        TEXT NOT NULL,
    facilities         TEXT NOT NULL,
    services           TEXT NOT NULL,
    declared_at        BIGINT NOT NULL,
    declared_by        TEXT NOT NULL
);
ALTER TABLE consents ADD COLUMN network TEXT;
CREATE INDEX consents_network ON consents (network, state);
