-- hcpki schema: long operations (bulk facility import, bulk re-issue) as jobs with progress (issue #8).
-- A job's items are written when the job is created, so any replica can show its progress, and a job whose
-- worker died can be resumed by any replica without doing an item twice. Kept column-for-column equal on
-- SQLite and PostgreSQL: TEXT and BIGINT only.
CREATE TABLE jobs (
    id           TEXT   PRIMARY KEY NOT NULL,
    kind         TEXT   NOT NULL,                   -- facility-import | cert-reissue
    params       TEXT   NOT NULL,                   -- JSON: what the job was asked to do
    started_by   TEXT   NOT NULL,                   -- actor
    state        TEXT   NOT NULL,                   -- queued | running | done | failed | cancelled
    total        BIGINT NOT NULL,
    owner        TEXT,                              -- the worker holding it while running
    heartbeat_at BIGINT,                            -- the owner's last sign of life (Unix seconds)
    note         TEXT,                              -- why it failed or was cancelled
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE job_items (
    job_id     TEXT   NOT NULL REFERENCES jobs (id),
    seq        BIGINT NOT NULL,                     -- order of work, from 0
    item_key   TEXT   NOT NULL,                     -- a serial, a CSV line number
    payload    TEXT   NOT NULL,                     -- JSON: what the item needs
    state      TEXT   NOT NULL DEFAULT 'pending',   -- pending | done | skipped | failed
    result     TEXT,                                -- e.g. the successor's serial, the facility's ID
    error      TEXT,
    updated_at BIGINT,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX job_items_state ON job_items (job_id, state, seq);

-- A re-issued certificate names the one it succeeds, written with its write-ahead intent (D38).
ALTER TABLE certificates ADD COLUMN replaces TEXT;
CREATE INDEX certificates_replaces ON certificates (replaces);
