-- hcpki schema: patients' consents and identity links (issue #28, D88).
-- Kept column-for-column equal on SQLite and PostgreSQL: TEXT and BIGINT only.
--
-- A patient appears only as a pseudonymous key: HMAC-SHA256 under the server secret over (facility ID, the
-- facility's patient ID). Neither the basic four items (name, address, date of birth, sex) nor the individual
-- number (個人番号) is stored, here or anywhere. A consent is never deleted when withdrawn: it stays as history.
CREATE TABLE consents (
    id                     TEXT   PRIMARY KEY NOT NULL,  -- random, 256 bits, base64url
    client_id              TEXT   NOT NULL,              -- the service (OIDC client) that asked, or 'portal'
    purpose                TEXT   NOT NULL,              -- the purpose the service declared
    facility_id            TEXT   NOT NULL,              -- the facility (HF…)
    patient_key            TEXT   NOT NULL,              -- pseudonymous key (pk1:…), never the four items
    physician_key          TEXT   NOT NULL,              -- the signed-in physician's person key
    state                  TEXT   NOT NULL,              -- requested | shown | signed | refused | withdrawn
                                                         -- (expired: requested or shown past expires_at)
    created_at             BIGINT NOT NULL,
    expires_at             BIGINT NOT NULL,              -- sign before then
    shown_at               BIGINT,
    ended_at               BIGINT,                       -- signed, refused or withdrawn at
    refusal                TEXT,                         -- why it was refused
    -- The signature of consent (when signed):
    evidence_level         TEXT,                         -- patient_signature | physician_attestation
    document_sha256        TEXT,                         -- hex SHA-256 of the signed document
    document_format        TEXT,                         -- pades | cades
    document_level         TEXT,                         -- b-lt, …
    signer_sha256          TEXT,                         -- hex SHA-256 of the signer certificate
    time_stamp_at          BIGINT,                       -- the signature time stamp's genTime
    signed_at              BIGINT,
    -- The signed withdrawal (撤回), when withdrawn:
    withdrawal_level       TEXT,
    withdrawal_sha256      TEXT,
    withdrawal_format      TEXT,
    withdrawal_doc_level   TEXT,
    withdrawal_signer      TEXT,
    withdrawal_stamp_at    BIGINT,
    withdrawn_at           BIGINT
);
-- At most one live (signed, not withdrawn) consent per service, patient and purpose: the backstop when two
-- signatures race on PostgreSQL.
CREATE UNIQUE INDEX consents_live ON consents (client_id, patient_key, purpose) WHERE state = 'signed';
CREATE INDEX consents_patient ON consents (patient_key, created_at);
CREATE INDEX consents_expires ON consents (expires_at);

-- The link of a patient (pseudonymous key) to the My Number card's JPKI certificates, confirmed by staff.
-- One row per patient key: a new card (address change) updates it, `generation` counting the changes.
CREATE TABLE identity_links (
    patient_key          TEXT   PRIMARY KEY NOT NULL,
    facility_id          TEXT   NOT NULL,
    signing_sha256       TEXT   NOT NULL,                -- hex SHA-256 of the JPKI signing certificate
    auth_sha256          TEXT,                           -- hex SHA-256 of the JPKI user-authentication certificate
    confirmed_by         TEXT   NOT NULL,                -- the staff member's person key
    confirmed_at         BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    generation           BIGINT NOT NULL                 -- 1 when linked, +1 at each correction
);
CREATE INDEX identity_links_auth ON identity_links (facility_id, auth_sha256);
CREATE INDEX identity_links_signing ON identity_links (facility_id, signing_sha256);
