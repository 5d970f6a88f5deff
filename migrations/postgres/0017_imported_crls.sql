-- hcpki schema: CRLs signed elsewhere and served from the database (issue #9): the offline root's ARL.
-- Kept column-for-column equal on SQLite and PostgreSQL (the DER is BYTEA here, as authorities.cert_der).
--
-- The root key stays at the ceremony; there `hcpki ca sign-arl` signs the root's CRL for up to a year, and
-- online `hcpki ca import-arl` checks it (signature under the root certificate, issuer, CRL number above every
-- row here, nextUpdate ahead) and inserts it with its audit entry in one transaction. `hcpki serve` then hands
-- out the row with the highest number at /crl/root.crl and never opens the root key. Rows are never updated or
-- deleted: the table is the history of what was published.
CREATE TABLE imported_crls (
    ca          TEXT   NOT NULL,            -- root
    crl_number  BIGINT NOT NULL,            -- cRLNumber; each import above every earlier one of the CA
    der         BYTEA  NOT NULL,            -- the CRL exactly as signed
    this_update BIGINT NOT NULL,            -- Unix seconds
    next_update BIGINT NOT NULL,            -- Unix seconds: chains through the CA fail after it
    entries     BIGINT NOT NULL,            -- certificates listed
    sha256      TEXT   NOT NULL,            -- hex SHA-256 of der
    imported_at BIGINT NOT NULL,
    imported_by TEXT   NOT NULL,
    PRIMARY KEY (ca, crl_number)
);
