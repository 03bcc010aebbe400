-- Tokens issued before these times stay invalid even when the user or app is active again:
-- set when a user is deactivated or suspended or their password changes, and when an app is
-- deactivated (Okta: reactivation does not revive tokens).
ALTER TABLE users ADD COLUMN tokens_valid_after BIGINT;
ALTER TABLE clients ADD COLUMN tokens_valid_after BIGINT;
