-- Okta's refresh token rotation settings per app: ROTATE (a new token on every use) or STATIC
-- (the same token until it expires), and the leeway during which a rotated token still works,
-- returning the same successor (a client's retry after a lost response). Existing apps keep
-- rotating, with Okta's default leeway.
ALTER TABLE clients ADD COLUMN refresh_rotation_type TEXT NOT NULL DEFAULT 'ROTATE';
ALTER TABLE clients ADD COLUMN refresh_leeway_seconds INTEGER NOT NULL DEFAULT 30;

-- A rotated token's successor, by hash and sealed (AES-256-GCM under a key derived from
-- AUTHD_SECRET_KEY), so that within the leeway the same successor can be handed out again.
ALTER TABLE refresh_tokens ADD COLUMN successor_hash TEXT;
ALTER TABLE refresh_tokens ADD COLUMN successor_sealed TEXT;
