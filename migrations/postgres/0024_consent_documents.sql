-- hcpki schema: the documents of a consent (issue #28): the PDF the patient is shown and signs, as the portal
-- rendered it from the service's template; the signed consent (PAdES B-LT) the service reads back; the same for
-- a withdrawal (撤回) and for a physician's attestation; and the card's user-authentication certificate read
-- with the signature (it holds no personal data: C=JP and an opaque CN), from which staff confirmation takes the
-- identity link's hash.
--
-- The signed documents carry the patient's JPKI signing certificate, hence the basic four items: they are the
-- patient's own signed evidence, read only by the service that asked (and the facility's staff), and go with the
-- consent's retention (consent_sweep). Nothing else keeps the four items.
CREATE TABLE consent_documents (
    consent_id TEXT   NOT NULL,              -- consents.id
    kind       TEXT   NOT NULL,              -- consent | attestation | withdrawal | signed_consent |
                                             -- signed_withdrawal | card_authentication
    bytes      BYTEA  NOT NULL,              -- at most 10 MiB + the signature's room
    sha256     TEXT   NOT NULL,              -- hex
    created_at BIGINT NOT NULL,
    PRIMARY KEY (consent_id, kind)
);
