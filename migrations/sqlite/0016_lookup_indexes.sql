-- Ending a user's or an app's access (deactivation, password change, suspension) finds their
-- refresh tokens, codes and sign-in transactions by user or by app: without these, each was a
-- scan of the whole table.
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);
CREATE INDEX authorization_codes_user ON authorization_codes (user_id);
CREATE INDEX authorization_codes_client ON authorization_codes (client_id);
CREATE INDEX authn_transactions_user ON authn_transactions (user_id);
