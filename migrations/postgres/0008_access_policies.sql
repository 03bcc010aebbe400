-- Access policies of each authorization server (JSON array, rules inside), and a revision that
-- every update bumps, so that concurrent changes to one server's scopes, claims and policies
-- never overwrite each other. A server from before policies existed has NULL: it is governed by
-- Okta's default policy, which it keeps once its policies are first changed.
ALTER TABLE authorization_servers ADD COLUMN policies TEXT;
ALTER TABLE authorization_servers ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
