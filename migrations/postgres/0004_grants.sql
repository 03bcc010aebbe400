-- Scopes and claims of authorization servers, and what the OAuth flows need across requests.
ALTER TABLE authorization_servers ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';  -- JSON array
ALTER TABLE authorization_servers ADD COLUMN claims TEXT NOT NULL DEFAULT '[]';  -- JSON array
ALTER TABLE clients ADD COLUMN allow_plain_pkce BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN jwks TEXT;

-- Authorization codes, by hash. A used code keeps its row until it expires (consumed_at set),
-- so that a replay is recognised and the tokens of its grant revoked (RFC 6749 §4.1.2).
CREATE TABLE authorization_codes (
    code_hash             TEXT PRIMARY KEY,
    grant_id              TEXT NOT NULL,
    auth_server_id        TEXT NOT NULL,
    client_id             TEXT NOT NULL,
    user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes                TEXT NOT NULL,       -- JSON array
    auth_time             BIGINT NOT NULL,
    amr                   TEXT NOT NULL,       -- JSON array
    session_id            TEXT,
    redirect_uri          TEXT NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    expires_at            BIGINT NOT NULL,
    consumed_at           BIGINT
);
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);

-- Refresh tokens, by hash; a family is every token of one grant. A rotated token keeps its row
-- (rotated_at set) so that its reuse is recognised and the family revoked.
CREATE TABLE refresh_tokens (
    token_hash        TEXT PRIMARY KEY,
    grant_id          TEXT NOT NULL,
    auth_server_id    TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes            TEXT NOT NULL,
    auth_time         BIGINT NOT NULL,
    amr               TEXT NOT NULL,
    session_id        TEXT,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    family_expires_at BIGINT NOT NULL,
    rotated_at        BIGINT,
    revoked           BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (family_expires_at);

-- Grants whose access tokens are revoked (replayed code, reused refresh token, revocation of a
-- refresh token), and single revoked access tokens; both kept until the tokens expire.
CREATE TABLE revoked_grants (
    grant_id   TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- private_key_jwt assertion ids seen, for replay protection until they expire.
CREATE TABLE client_assertions (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
