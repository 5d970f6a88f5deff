-- hcpki schema: display names of facility devices (issue #45 item 8, D134). Kept column-for-column equal on SQLite
-- and PostgreSQL: TEXT and BIGINT only.
--
-- A PC's certificates name it by its device ID (`pc-1a2b3c4d`, in the identity URI `…/device/<device>`); staff know
-- it as 受付PC or 診察室1. The name belongs to the device, not to one certificate, so a re-issued certificate for the
-- same device keeps it; it is never put into a certificate. One row per named device; renaming replaces the row
-- (the audit entry `facility.device.name` keeps the old name).
CREATE TABLE device_names (
    facility_id TEXT NOT NULL,
    device      TEXT NOT NULL,
    name        TEXT NOT NULL,
    named_by    TEXT NOT NULL,
    named_at    BIGINT NOT NULL,
    PRIMARY KEY (facility_id, device)
);
