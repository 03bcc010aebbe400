-- Times are whole seconds since the Unix epoch, the resolution of JWT claims, so that both
-- backends store and compare them the same way.

CREATE TABLE authorization_servers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    audiences   TEXT NOT NULL,          -- JSON array of strings
    issuer_mode TEXT NOT NULL,
    status      TEXT NOT NULL,
    signing_alg TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE clients (
    id                         TEXT PRIMARY KEY,
    label                      TEXT NOT NULL,
    application_type           TEXT NOT NULL,
    redirect_uris              TEXT NOT NULL,   -- JSON array
    post_logout_redirect_uris  TEXT NOT NULL,   -- JSON array
    grant_types                TEXT NOT NULL,   -- JSON array
    response_types             TEXT NOT NULL,   -- JSON array
    token_endpoint_auth_method TEXT NOT NULL,
    secret_hash                TEXT,
    status                     TEXT NOT NULL,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    status              TEXT NOT NULL,
    login               TEXT NOT NULL,
    login_lower         TEXT NOT NULL UNIQUE,  -- Okta logins are unique case-insensitively
    profile             TEXT NOT NULL,         -- JSON object
    password_hash       TEXT,
    created_at          INTEGER NOT NULL,
    activated_at        INTEGER,
    status_changed_at   INTEGER,
    last_login_at       INTEGER,
    updated_at          INTEGER NOT NULL,
    password_changed_at INTEGER
);

CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    auth_server_id     TEXT NOT NULL REFERENCES authorization_servers (id) ON DELETE CASCADE,
    alg                TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('NEXT', 'ACTIVE', 'RETIRED')),
    public_jwk         TEXT NOT NULL,
    sealed_private_key BLOB NOT NULL,
    created_at         INTEGER NOT NULL,
    activated_at       INTEGER,
    retired_at         INTEGER,
    remove_after       INTEGER
);

-- At most one signing key and one waiting key per server, whatever a buggy caller does.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (auth_server_id) WHERE state = 'ACTIVE';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (auth_server_id) WHERE state = 'NEXT';
