-- Lockout counters live in the database so that they hold across replicas and restarts.
ALTER TABLE users ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;

-- One-time session tokens from /api/v1/authn, stored only as hashes.
CREATE TABLE session_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time  INTEGER NOT NULL,
    amr        TEXT NOT NULL,     -- JSON array
    expires_at INTEGER NOT NULL
);
CREATE INDEX session_tokens_expiry ON session_tokens (expires_at);

-- Authentication transactions waiting for the user (state tokens), stored only as hashes.
CREATE TABLE authn_transactions (
    state_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    relay_state TEXT,
    auth_time   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX authn_transactions_expiry ON authn_transactions (expires_at);

-- Browser sessions; the sid cookie is a separate secret, stored only as a hash.
CREATE TABLE sessions (
    id                         TEXT PRIMARY KEY,
    cookie_hash                TEXT NOT NULL UNIQUE,
    user_id                    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at                 INTEGER NOT NULL,
    expires_at                 INTEGER NOT NULL,
    max_expires_at             INTEGER NOT NULL,
    last_password_verification INTEGER NOT NULL,
    amr                        TEXT NOT NULL    -- JSON array
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
