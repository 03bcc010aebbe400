-- Okta API tokens (SSWS), stored only as hashes.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

-- The audit log of admin calls, read back through /api/v1/logs in Okta's System Log shape.
CREATE TABLE audit_events (
    uuid            TEXT PRIMARY KEY,
    published       INTEGER NOT NULL,
    event_type      TEXT NOT NULL,
    display_message TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    actor_name      TEXT NOT NULL,
    targets         TEXT NOT NULL,   -- JSON array of {id, type, displayName}
    client_ip       TEXT,
    request_id      TEXT
);
CREATE INDEX audit_events_published ON audit_events (published);
