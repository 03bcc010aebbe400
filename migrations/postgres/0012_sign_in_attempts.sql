-- Sign-in attempts per username in the current one-minute window, shared by every replica so
-- that the per-username limit holds however requests are spread. The key is a keyed hash of
-- the lowercased username: what people type as a username is sometimes their password.
CREATE TABLE sign_in_attempts (
    key_hash TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);
