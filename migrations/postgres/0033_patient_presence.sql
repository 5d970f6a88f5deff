-- hcpki:expand — a new table only; releases before it never read it.
-- hcpki schema: patient-presence proofs (受診確認トークン, issue #49 item 1, D148). Kept column-for-column equal on
-- SQLite and PostgreSQL: TEXT and BIGINT only.
--
-- One row per proof issued: its `jti`, the service (`aud`) and facility it names, the patient as the service's
-- pairwise reference (never the patient key, the individual number or the certificate's four items), when it was
-- issued and until when it holds, and its single use: `used_at` and the client that used it, set once by a
-- conditional update, so two replicas cannot both accept it. Times are Unix seconds.
CREATE TABLE patient_presence (
    jti         TEXT PRIMARY KEY,
    service     TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    patient_ref TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    used_by     TEXT
);
CREATE INDEX patient_presence_expiry ON patient_presence (expires_at);
