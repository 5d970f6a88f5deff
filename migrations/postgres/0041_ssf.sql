-- hcpki:expand — new tables only; releases before it never read them.
-- hcpki schema: the Shared Signals transmitter (issue #51 item 2, D162). ssf_streams holds one event stream per
-- confidential OIDC client (its configuration as the receiver set it, as JSON, and its status); ssf_outbox the
-- signed SETs not yet acknowledged: a push row until the receiver answered 202 (retried at next_at, doubling),
-- a poll row until the receiver acknowledged its jti. Kept column-for-column equal on SQLite and PostgreSQL:
-- TEXT and BIGINT only.
CREATE TABLE ssf_streams (
    stream_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE ssf_outbox (
    jti TEXT PRIMARY KEY,
    stream_id TEXT NOT NULL REFERENCES ssf_streams (stream_id),
    set_jwt TEXT NOT NULL,
    push BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX ssf_outbox_due ON ssf_outbox (push, next_at);
CREATE INDEX ssf_outbox_stream ON ssf_outbox (stream_id, created_at);
