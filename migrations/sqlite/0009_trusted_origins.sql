-- Okta's Trusted Origins: origins an administrator trusts for CORS and for redirects after
-- sign-in, beyond the origins of the apps' redirect URIs.
CREATE TABLE trusted_origins (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    origin     TEXT NOT NULL,
    normalized TEXT NOT NULL UNIQUE, -- the origin as browsers send it, so "x/" and "x" collide
    scopes     TEXT NOT NULL,   -- JSON array of scope types: ["CORS", "REDIRECT", …]
    status     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);
