-- hcpki:expand — new tables only; releases before it never read them.
-- hcpki schema: vetting evidence before approval (issue #50 item 4, D173).
-- medical_register: the Regional Bureaus of Health and Welfare's published list of medical institutions as last
-- imported (one row per 医療機関コード; an import replaces every row in one transaction);
-- medical_register_imports: each import (who, when, the file's digest, the counts);
-- facility_vetting: one row per facility with what the approver checked (the code against the register, the
-- acceptance of the network's security rules, the last vulnerability assessment and the next one due), each
-- part with who recorded it and when;
-- vetting_requirements: which evidence an approval needs, per registration authority ('' is the central default);
-- vetting_settings: the network's current security rules version; vetting_warnings: warnings sent to facilities.
-- Dates (YYYY-MM-DD, Japan's calendar day) are TEXT so that they compare in order.
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
CREATE TABLE medical_register (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefecture BIGINT NOT NULL,
    address TEXT NOT NULL,
    postal_code TEXT,
    phone TEXT,
    founder TEXT,
    manager TEXT,
    designated_on TEXT,
    beds TEXT
);
CREATE TABLE medical_register_imports (
    seq BIGINT PRIMARY KEY,
    imported_at BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows_total BIGINT NOT NULL,
    added BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    changed BIGINT NOT NULL
);
CREATE TABLE facility_vetting (
    facility_id TEXT PRIMARY KEY REFERENCES facilities (id),
    code_checked TEXT,
    code_found BIGINT,
    code_register_name TEXT,
    code_name_matches BIGINT,
    code_prefecture_matches BIGINT,
    code_note TEXT,
    code_checked_by TEXT,
    code_checked_at BIGINT,
    rules_version TEXT,
    rules_accepted_on TEXT,
    rules_accepted_by TEXT,
    rules_basis TEXT,
    rules_recorded_by TEXT,
    rules_recorded_at BIGINT,
    assessment_last TEXT,
    assessment_next_due TEXT,
    assessment_by TEXT,
    assessment_recorded_by TEXT,
    assessment_recorded_at BIGINT
);
CREATE INDEX facility_vetting_due ON facility_vetting (assessment_next_due);
CREATE TABLE vetting_requirements (
    ra TEXT PRIMARY KEY,
    code_check BIGINT NOT NULL,
    security_rules BIGINT NOT NULL,
    assessment BIGINT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
CREATE TABLE vetting_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
CREATE TABLE vetting_warnings (
    facility_id TEXT NOT NULL REFERENCES facilities (id),
    reasons TEXT NOT NULL,
    message TEXT NOT NULL,
    warned_by TEXT NOT NULL,
    warned_at BIGINT NOT NULL
);
CREATE INDEX vetting_warnings_facility ON vetting_warnings (facility_id, warned_at);
