-- Token lifetimes an authorization server sets for itself (JSON object of seconds); unset ones
-- follow the configuration.
ALTER TABLE authorization_servers ADD COLUMN token_lifetimes TEXT NOT NULL DEFAULT '{}';
