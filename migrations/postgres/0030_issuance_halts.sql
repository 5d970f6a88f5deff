-- hcpki schema: the issuance stop switch (issue #46 item 5, D135). Kept column-for-column equal on SQLite and
-- PostgreSQL: TEXT and BIGINT only. Expand-only: release N-1 never reads these tables (it cannot halt).
--
-- One row per halt over the installation's life; the halt in force is the row with no `resumed_at` (at most one:
-- halting writes under the audit head lock and refuses while one is in force). Every replica's issuance pipeline
-- reads it before each batch, so a halt ordered on one replica stops all of them. Times are Unix seconds.
CREATE TABLE issuance_halts (
    id         BIGINT PRIMARY KEY,
    reason     TEXT NOT NULL,
    halted_by  TEXT NOT NULL,
    halted_at  BIGINT NOT NULL,
    resumed_at BIGINT,
    resumed_by TEXT
);
CREATE INDEX issuance_halts_in_force ON issuance_halts (resumed_at);

-- Approvals to resume a halt, one per named person and moment; an approval counts only while younger than the
-- bound (`hcpki_ca::halt::APPROVAL_TTL`, one hour), so a re-approval after expiry is a new row.
CREATE TABLE issuance_halt_approvals (
    halt_id     BIGINT NOT NULL,
    approver    TEXT NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (halt_id, approver, approved_at)
);
