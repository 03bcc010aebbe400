//! The store operations whose SQL is the same on SQLite and PostgreSQL (both accept `$N`
//! placeholders), written once and instantiated for each backend by [`portable_stores!`].
//!
//! Only what differs stays in the backend modules: connecting, migrations, error codes and the
//! statement that locks a server's keys.

pub const GET_AUTH_SERVER: &str = "SELECT id, name, description, audiences, issuer_mode, status, \
     signing_alg, scopes, claims, token_lifetimes, policies, revision, created_at, updated_at \
     FROM authorization_servers WHERE id = $1";
pub const LIST_AUTH_SERVERS: &str = "SELECT id, name, description, audiences, issuer_mode, \
     status, signing_alg, scopes, claims, token_lifetimes, policies, revision, created_at, \
     updated_at FROM authorization_servers ORDER BY id <> 'org', id";
pub const INSERT_AUTH_SERVER: &str = "INSERT INTO authorization_servers (id, name, description, \
     audiences, issuer_mode, status, signing_alg, scopes, claims, created_at, updated_at, \
     token_lifetimes, policies, revision) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
// Applies only to the revision the change was made from ($14), and bumps it.
pub const UPDATE_AUTH_SERVER: &str = "UPDATE authorization_servers SET name = $2, \
     description = $3, audiences = $4, issuer_mode = $5, status = $6, signing_alg = $7, \
     scopes = $8, claims = $9, created_at = $10, updated_at = $11, token_lifetimes = $12, \
     policies = $13, revision = revision + 1 WHERE id = $1 AND revision = $14";
// Servers stored before policies existed (migration 0008) have none: they are given Okta's
// default policy once, after migrating, so that nothing reading a server has to.
pub const SERVERS_WITHOUT_POLICIES: &str =
    "SELECT id, created_at FROM authorization_servers WHERE policies IS NULL";
pub const MATERIALISE_POLICIES: &str =
    "UPDATE authorization_servers SET policies = $2 WHERE id = $1 AND policies IS NULL";
pub const AUTH_SERVER_EXISTS: &str = "SELECT 1 FROM authorization_servers WHERE id = $1";

pub const DELETE_AUTH_SERVER: &str = "DELETE FROM authorization_servers WHERE id = $1";
// An app holds at most two active secrets (MAX_CLIENT_SECRETS), read with the app in the
// same statement because the token endpoint needs both on every request.
macro_rules! client_columns {
    () => {
        "id, label, application_type, redirect_uris, post_logout_redirect_uris, grant_types, \
         response_types, token_endpoint_auth_method, allow_plain_pkce, jwks, status, created_at, \
         updated_at, tokens_valid_after, refresh_rotation_type, refresh_leeway_seconds, \
         (SELECT MIN(secret_hash) FROM client_secrets s WHERE s.client_id = clients.id \
             AND s.status = 'ACTIVE') AS secret_hash, \
         (SELECT CASE WHEN COUNT(*) > 1 THEN MAX(secret_hash) END FROM client_secrets s \
             WHERE s.client_id = clients.id AND s.status = 'ACTIVE') AS second_secret_hash"
    };
}
pub const GET_CLIENT: &str = concat!("SELECT ", client_columns!(), " FROM clients WHERE id = $1");
pub const LIST_CLIENTS: &str = concat!("SELECT ", client_columns!(), " FROM clients ORDER BY id");
pub const DELETE_CLIENT: &str = "DELETE FROM clients WHERE id = $1";
pub const INSERT_CLIENT: &str = "INSERT INTO clients (id, label, application_type, \
     redirect_uris, post_logout_redirect_uris, grant_types, response_types, \
     token_endpoint_auth_method, status, created_at, updated_at, allow_plain_pkce, jwks, \
     refresh_rotation_type, refresh_leeway_seconds) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
pub const UPDATE_CLIENT: &str = "UPDATE clients SET label = $2, application_type = $3, \
     redirect_uris = $4, post_logout_redirect_uris = $5, grant_types = $6, response_types = $7, \
     token_endpoint_auth_method = $8, status = $9, created_at = $10, updated_at = $11, \
     allow_plain_pkce = $12, jwks = $13, refresh_rotation_type = $14, \
     refresh_leeway_seconds = $15 WHERE id = $1";
// Taken first in a secret-changing transaction: it serialises changes to one app's secrets.
pub const TOUCH_CLIENT: &str = "UPDATE clients SET updated_at = $2 WHERE id = $1";
pub const LIST_CLIENT_SECRETS: &str = "SELECT id, client_id, secret_hash, status, created_at, \
     updated_at FROM client_secrets WHERE client_id = $1 ORDER BY created_at, id";
pub const INSERT_CLIENT_SECRET: &str = "INSERT INTO client_secrets (id, client_id, secret_hash, \
     status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub const COUNT_CLIENT_SECRETS: &str = "SELECT COUNT(*) FROM client_secrets WHERE client_id = $1";
pub const DELETE_CLIENT_SECRETS: &str = "DELETE FROM client_secrets WHERE client_id = $1";
// Deactivation leaves at least one active secret, so that an app is never locked out by one call.
pub const SET_CLIENT_SECRET_STATUS: &str = "UPDATE client_secrets SET status = $3, \
     updated_at = $4 WHERE client_id = $1 AND id = $2 AND ($3 = 'ACTIVE' OR \
     EXISTS (SELECT 1 FROM client_secrets o WHERE o.client_id = $1 AND o.id <> $2 \
         AND o.status = 'ACTIVE'))";
pub const CLIENT_SECRET_HASHES_LIKE: &str =
    "SELECT secret_hash FROM client_secrets WHERE secret_hash LIKE $1";
pub const REPLACE_CLIENT_SECRET_HASH: &str =
    "UPDATE client_secrets SET secret_hash = $2 WHERE secret_hash = $1";
pub const DELETE_INACTIVE_CLIENT_SECRET: &str =
    "DELETE FROM client_secrets WHERE client_id = $1 AND id = $2 AND status = 'INACTIVE'";

pub const GET_USER_BY_LOGIN: &str = "SELECT id, status, login, profile, password_hash, \
     created_at, activated_at, status_changed_at, last_login_at, updated_at, password_changed_at, \
     failed_sign_ins, locked_until, tokens_valid_after FROM users WHERE login_lower = $1";
pub const LIST_USERS: &str = "SELECT id, status, login, profile, password_hash, \
     created_at, activated_at, status_changed_at, last_login_at, updated_at, password_changed_at, \
     failed_sign_ins, locked_until, tokens_valid_after FROM users \
     WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR login_lower = $2) \
     AND ($3 IS NULL OR search_terms LIKE $3 ESCAPE '\\') \
     AND ($4 IS NULL OR id > $4) ORDER BY id LIMIT $5";
pub const UNLOCK_USER: &str = "UPDATE users SET failed_sign_ins = 0, locked_until = NULL, \
     status = CASE WHEN status = 'LOCKED_OUT' THEN 'ACTIVE' ELSE status END, \
     status_changed_at = CASE WHEN status = 'LOCKED_OUT' THEN $2 ELSE status_changed_at END \
     WHERE id = $1";
pub const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";
pub const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";
pub const REVOKE_USER_GRANTS: &str = "INSERT INTO revoked_grants (grant_id, expires_at) \
     SELECT DISTINCT grant_id, $2 FROM refresh_tokens WHERE user_id = $1 \
     ON CONFLICT (grant_id) DO NOTHING";
pub const REVOKE_USER_REFRESH_TOKENS: &str =
    "UPDATE refresh_tokens SET revoked = 1 WHERE user_id = $1";
pub const CONSUME_USER_CODES: &str = "UPDATE authorization_codes SET consumed_at = $2 \
     WHERE user_id = $1 AND consumed_at IS NULL";
pub const CONSUME_CLIENT_CODES: &str = "UPDATE authorization_codes SET consumed_at = $2 \
     WHERE client_id = $1 AND consumed_at IS NULL";
pub const END_USER_TOKENS: &str = "UPDATE users SET tokens_valid_after = $2 WHERE id = $1";
pub const REVOKE_CLIENT_GRANTS: &str = "INSERT INTO revoked_grants (grant_id, expires_at) \
     SELECT DISTINCT grant_id, $2 FROM refresh_tokens WHERE client_id = $1 \
     ON CONFLICT (grant_id) DO NOTHING";
pub const REVOKE_CLIENT_REFRESH_TOKENS: &str =
    "UPDATE refresh_tokens SET revoked = 1 WHERE client_id = $1";
pub const END_CLIENT_TOKENS: &str = "UPDATE clients SET tokens_valid_after = $2 WHERE id = $1";
pub const GET_USER: &str = "SELECT id, status, login, profile, password_hash, \
     created_at, activated_at, status_changed_at, last_login_at, updated_at, password_changed_at, \
     failed_sign_ins, locked_until, tokens_valid_after FROM users WHERE id = $1";

// In an UPDATE every expression sees the row as it was, so the new count is spelled out where
// it is needed. A lock whose time has passed starts the count again.
pub const RECORD_FAILED_SIGN_IN: &str = "UPDATE users SET \
     failed_sign_ins = CASE WHEN locked_until <= $2 THEN 1 ELSE failed_sign_ins + 1 END, \
     locked_until = CASE WHEN locked_until > $2 THEN locked_until \
         WHEN (CASE WHEN locked_until <= $2 THEN 1 ELSE failed_sign_ins + 1 END) >= $3 THEN $4 \
         ELSE NULL END, \
     status = CASE WHEN locked_until > $2 THEN status \
         WHEN (CASE WHEN locked_until <= $2 THEN 1 ELSE failed_sign_ins + 1 END) >= $3 \
             THEN 'LOCKED_OUT' \
         WHEN status = 'LOCKED_OUT' THEN 'ACTIVE' ELSE status END, \
     status_changed_at = CASE WHEN locked_until > $2 THEN status_changed_at \
         WHEN (CASE WHEN locked_until <= $2 THEN 1 ELSE failed_sign_ins + 1 END) >= $3 THEN $2 \
         ELSE status_changed_at END \
     WHERE id = $1 \
     RETURNING id, status, login, profile, password_hash, created_at, activated_at, \
     status_changed_at, last_login_at, updated_at, password_changed_at, failed_sign_ins, \
     locked_until, tokens_valid_after";
// Refused while a lock set by a concurrent failure is in force, so a right guess cannot undo
// it; the upgraded hash replaces only the hash that was verified.
pub const RECORD_SUCCESSFUL_SIGN_IN: &str = "UPDATE users SET failed_sign_ins = 0, \
     locked_until = NULL, last_login_at = $2, \
     status = CASE WHEN status = 'LOCKED_OUT' THEN 'ACTIVE' ELSE status END, \
     status_changed_at = CASE WHEN status = 'LOCKED_OUT' THEN $2 ELSE status_changed_at END, \
     password_hash = CASE WHEN password_hash = $4 THEN COALESCE($3, password_hash) \
         ELSE password_hash END \
     WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)";
pub const REPLACE_PASSWORD: &str = "UPDATE users SET password_hash = $2, \
     password_changed_at = $3, updated_at = $3, \
     status = CASE WHEN status = 'PASSWORD_EXPIRED' THEN 'ACTIVE' ELSE status END, \
     status_changed_at = CASE WHEN status = 'PASSWORD_EXPIRED' THEN $3 \
         ELSE status_changed_at END \
     WHERE id = $1 AND password_hash = $4";

pub const INSERT_SESSION_TOKEN: &str = "INSERT INTO session_tokens (token_hash, user_id, \
     auth_time, amr, expires_at) VALUES ($1, $2, $3, $4, $5)";
pub const CONSUME_SESSION_TOKEN: &str = "DELETE FROM session_tokens WHERE token_hash = $1 \
     RETURNING user_id, auth_time, amr, expires_at";
pub const INSERT_TRANSACTION: &str = "INSERT INTO authn_transactions (state_hash, user_id, state, \
     relay_state, auth_time, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub const DELETE_RECOVERY_TOKENS: &str =
    "DELETE FROM authn_transactions WHERE user_id = $1 AND state = 'RECOVERY'";
pub const DELETE_USER_TRANSACTIONS: &str = "DELETE FROM authn_transactions WHERE user_id = $1";
pub const GET_TRANSACTION: &str = "SELECT user_id, state, relay_state, auth_time, expires_at \
     FROM authn_transactions WHERE state_hash = $1 AND expires_at > $2";
pub const CONSUME_TRANSACTION: &str = "DELETE FROM authn_transactions \
     WHERE state_hash = $1 AND expires_at > $2 \
     RETURNING user_id, state, relay_state, auth_time, expires_at";

pub const INSERT_SESSION: &str = "INSERT INTO sessions (id, cookie_hash, user_id, created_at, \
     expires_at, max_expires_at, last_password_verification, amr) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub const GET_SESSION: &str = "SELECT s.id, s.user_id, u.login, s.created_at, s.expires_at, \
     s.max_expires_at, s.last_password_verification, s.amr \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.expires_at > $2";
pub const GET_SESSION_BY_COOKIE: &str = "SELECT s.id, s.user_id, u.login, s.created_at, \
     s.expires_at, s.max_expires_at, s.last_password_verification, s.amr \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.cookie_hash = $1 AND s.expires_at > $2";
pub const REFRESH_SESSION: &str = "UPDATE sessions SET expires_at = \
     CASE WHEN $3 < max_expires_at THEN $3 ELSE max_expires_at END \
     WHERE id = $1 AND expires_at > $2";
pub const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id = $1 AND expires_at > $2";
pub const PURGE_SESSION_TOKENS: &str = "DELETE FROM session_tokens WHERE expires_at <= $1";
pub const PURGE_TRANSACTIONS: &str = "DELETE FROM authn_transactions WHERE expires_at <= $1";
pub const PURGE_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";
pub const PURGE_CODES: &str = "DELETE FROM authorization_codes WHERE expires_at <= $1";
pub const PURGE_REFRESH_TOKENS: &str = "DELETE FROM refresh_tokens WHERE family_expires_at <= $1";
pub const PURGE_REVOKED_GRANTS: &str = "DELETE FROM revoked_grants WHERE expires_at <= $1";
pub const PURGE_REVOKED_ACCESS_TOKENS: &str =
    "DELETE FROM revoked_access_tokens WHERE expires_at <= $1";
pub const PURGE_CLIENT_ASSERTIONS: &str = "DELETE FROM client_assertions WHERE expires_at <= $1";
pub const DIRECTORY_REVISION: &str = "SELECT revision FROM directory_revision WHERE id = 1";
pub const RECORD_HEALTH_CHECK: &str = "INSERT INTO health_checks (id, checked_at) \
     VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at";
pub const PURGE_SIGN_IN_ATTEMPTS: &str =
    "DELETE FROM sign_in_attempts WHERE window_start + 60 <= $1";
// A replica whose clock is a little behind counts into the newer window instead of resetting it.
pub const COUNT_SIGN_IN_ATTEMPT: &str = "INSERT INTO sign_in_attempts (key_hash, window_start, \
     attempts) VALUES ($1, $2, 1) ON CONFLICT (key_hash) DO UPDATE SET \
     attempts = CASE WHEN sign_in_attempts.window_start >= excluded.window_start \
         THEN sign_in_attempts.attempts + 1 ELSE 1 END, \
     window_start = CASE WHEN sign_in_attempts.window_start >= excluded.window_start \
         THEN sign_in_attempts.window_start ELSE excluded.window_start END \
     RETURNING attempts, window_start";

pub const INSERT_CODE: &str = "INSERT INTO authorization_codes (code_hash, grant_id, \
     auth_server_id, client_id, user_id, scopes, auth_time, amr, session_id, redirect_uri, \
     nonce, code_challenge, code_challenge_method, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
pub const FIND_CODE: &str = "SELECT grant_id, auth_server_id, client_id, user_id, scopes, \
     auth_time, amr, session_id, redirect_uri, nonce, code_challenge, code_challenge_method, \
     expires_at FROM authorization_codes \
     WHERE code_hash = $1 AND consumed_at IS NULL AND expires_at > $2";
pub const CONSUME_CODE: &str = "UPDATE authorization_codes SET consumed_at = $2 \
     WHERE code_hash = $1 AND consumed_at IS NULL AND expires_at > $2";
pub const USED_CODE: &str = "SELECT grant_id FROM authorization_codes \
     WHERE code_hash = $1 AND consumed_at IS NOT NULL";
pub const INSERT_REFRESH_TOKEN: &str = "INSERT INTO refresh_tokens (token_hash, grant_id, \
     auth_server_id, client_id, user_id, scopes, auth_time, amr, session_id, created_at, \
     expires_at, family_expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
// A family is revoked by its grant id in `revoked_grants`, so that a token of the family stored
// after the revocation (by a rotation racing it, on any replica) is dead too; the `revoked`
// column alone only reaches the rows that existed.
macro_rules! family_not_revoked {
    () => {
        " AND NOT EXISTS (SELECT 1 FROM revoked_grants \
          WHERE revoked_grants.grant_id = refresh_tokens.grant_id)"
    };
}
pub const ROTATE_REFRESH_TOKEN: &str = concat!(
    "UPDATE refresh_tokens SET rotated_at = $2, successor_hash = $3, successor_sealed = $4 \
     WHERE token_hash = $1 AND rotated_at IS NULL AND revoked = 0 \
     AND expires_at > $2 AND family_expires_at > $2",
    family_not_revoked!()
);
pub const ROTATED_SUCCESSOR: &str = concat!(
    "SELECT rotated_at, successor_hash, successor_sealed FROM refresh_tokens \
     WHERE token_hash = $1 AND rotated_at IS NOT NULL AND revoked = 0 \
     AND successor_hash IS NOT NULL AND successor_sealed IS NOT NULL",
    family_not_revoked!()
);
pub const EXTEND_REFRESH_TOKEN: &str = concat!(
    "UPDATE refresh_tokens SET expires_at = $3 \
     WHERE token_hash = $1 AND rotated_at IS NULL AND revoked = 0 \
     AND expires_at > $2 AND family_expires_at > $2",
    family_not_revoked!()
);
pub const ROTATED_REFRESH_TOKEN: &str = "SELECT grant_id FROM refresh_tokens \
     WHERE token_hash = $1 AND (rotated_at IS NOT NULL OR revoked <> 0 OR EXISTS \
     (SELECT 1 FROM revoked_grants WHERE revoked_grants.grant_id = refresh_tokens.grant_id))";
pub const FIND_REFRESH_TOKEN: &str = concat!(
    "SELECT grant_id, auth_server_id, client_id, user_id, \
     scopes, auth_time, amr, session_id, created_at, expires_at, family_expires_at \
     FROM refresh_tokens WHERE token_hash = $1 AND rotated_at IS NULL AND revoked = 0 \
     AND expires_at > $2 AND family_expires_at > $2",
    family_not_revoked!()
);
pub const REVOKE_REFRESH_FAMILY: &str = "UPDATE refresh_tokens SET revoked = 1 WHERE grant_id = $1";
pub const REVOKE_GRANT: &str = "INSERT INTO revoked_grants (grant_id, expires_at) \
     VALUES ($1, $2) ON CONFLICT (grant_id) DO UPDATE SET expires_at = \
     CASE WHEN excluded.expires_at > revoked_grants.expires_at THEN excluded.expires_at \
     ELSE revoked_grants.expires_at END";
pub const REVOKE_ACCESS_TOKEN: &str = "INSERT INTO revoked_access_tokens (jti, expires_at) \
     VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING";
pub const IS_ACCESS_TOKEN_REVOKED: &str = "SELECT 1 FROM revoked_access_tokens WHERE jti = $1 \
     UNION ALL SELECT 1 FROM revoked_grants WHERE grant_id = $2";
pub const RECORD_CLIENT_ASSERTION: &str = "INSERT INTO client_assertions (client_id, jti, \
     expires_at) VALUES ($1, $2, $3) ON CONFLICT (client_id, jti) DO NOTHING";
pub const INSERT_USER: &str = "INSERT INTO users (id, status, login, login_lower, profile, \
     password_hash, created_at, activated_at, status_changed_at, last_login_at, updated_at, \
     password_changed_at, search_terms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
pub const USERS_WITHOUT_SEARCH_TERMS: &str =
    "SELECT id, login, profile FROM users WHERE search_terms IS NULL";
// Only where still unset: another replica may have written newer terms meanwhile.
pub const SET_SEARCH_TERMS: &str =
    "UPDATE users SET search_terms = $2 WHERE id = $1 AND search_terms IS NULL";
// Lockout columns are left to the sign-in statements, so an update never undoes a failure
// counted meanwhile.
macro_rules! update_user {
    () => {
        "UPDATE users SET status = $2, login = $3, login_lower = $4, profile = $5, \
         password_hash = $6, created_at = $7, activated_at = $8, status_changed_at = $9, \
         last_login_at = $10, updated_at = $11, password_changed_at = $12, search_terms = $13"
    };
}
pub const UPDATE_USER: &str = concat!(update_user!(), " WHERE id = $1");

// Ends a recovery only if the user is still in it: an administrator's deactivation in between
// wins. A lockout ends with it.
pub const UPDATE_USER_IN_RECOVERY: &str = concat!(
    update_user!(),
    ", failed_sign_ins = 0, locked_until = NULL WHERE id = $1 AND status = 'RECOVERY'"
);

pub const GET_SEED_DIGEST: &str = "SELECT digest FROM seed_entries WHERE kind = $1 AND key = $2";
pub const RECORD_SEED_DIGEST: &str = "INSERT INTO seed_entries (kind, key, digest) \
     VALUES ($1, $2, $3) ON CONFLICT (kind, key) DO UPDATE SET digest = excluded.digest";

pub const INSERT_API_TOKEN: &str = "INSERT INTO api_tokens (id, name, token_hash, created_at) \
     VALUES ($1, $2, $3, $4)";
// A token unused since `$3` has expired: it is refused, and left for an administrator to see.
pub const USE_API_TOKEN: &str = "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 \
     AND COALESCE(last_used_at, created_at) > $3 \
     RETURNING id, name, created_at, last_used_at";
pub const LIST_API_TOKENS: &str =
    "SELECT id, name, created_at, last_used_at FROM api_tokens ORDER BY created_at, id";
pub const DELETE_API_TOKEN: &str = "DELETE FROM api_tokens WHERE id = $1";
pub const INSERT_AUDIT_EVENT: &str = "INSERT INTO audit_events (uuid, published, event_type, \
     display_message, outcome, actor_id, actor_name, targets, client_ip, request_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
pub const LIST_AUDIT_EVENTS: &str = "SELECT uuid, published, event_type, display_message, \
     outcome, actor_id, actor_name, targets, client_ip, request_id FROM audit_events \
     WHERE published >= $1 AND published < $2 ORDER BY published, uuid LIMIT $3";

macro_rules! trusted_origin_columns {
    () => {
        "id, name, origin, scopes, status, created_at, created_by, updated_at, updated_by"
    };
}
pub const LIST_TRUSTED_ORIGINS: &str = concat!(
    "SELECT ",
    trusted_origin_columns!(),
    " FROM trusted_origins ORDER BY id"
);
pub const GET_TRUSTED_ORIGIN: &str = concat!(
    "SELECT ",
    trusted_origin_columns!(),
    " FROM trusted_origins WHERE id = $1"
);
pub const INSERT_TRUSTED_ORIGIN: &str = "INSERT INTO trusted_origins (id, name, origin, \
     normalized, scopes, status, updated_at, updated_by, created_at, created_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
pub const UPDATE_TRUSTED_ORIGIN: &str = "UPDATE trusted_origins SET name = $2, origin = $3, \
     normalized = $4, scopes = $5, status = $6, updated_at = $7, updated_by = $8 WHERE id = $1";
pub const DELETE_TRUSTED_ORIGIN: &str = "DELETE FROM trusted_origins WHERE id = $1";

pub const LIST_KEYS: &str = "SELECT kid, auth_server_id, alg, state, public_jwk, \
     sealed_private_key, created_at, activated_at, retired_at, remove_after \
     FROM signing_keys WHERE auth_server_id = $1 ORDER BY created_at DESC, kid";
pub const CURRENT_KEY_KIDS: &str =
    "SELECT kid, state FROM signing_keys WHERE auth_server_id = $1 AND state <> 'RETIRED'";
pub const INSERT_KEY: &str = "INSERT INTO signing_keys (kid, auth_server_id, alg, state, \
     public_jwk, sealed_private_key, created_at, activated_at, retired_at, remove_after) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
pub const RETIRE_ACTIVE_KEY: &str = "UPDATE signing_keys SET state = 'RETIRED', retired_at = $2, \
     remove_after = $3 WHERE auth_server_id = $1 AND state = 'ACTIVE'";
pub const ACTIVATE_NEXT_KEY: &str = "UPDATE signing_keys SET state = 'ACTIVE', activated_at = $2 \
     WHERE auth_server_id = $1 AND state = 'NEXT'";
pub const PURGE_RETIRED_KEYS: &str = "DELETE FROM signing_keys \
     WHERE auth_server_id = $1 AND state = 'RETIRED' AND remove_after <= $2";

/// Implements every per-aggregate store trait for a backend type that has a `pool` field, a
/// `map_err(sqlx::Error) -> store::Error` function in scope, and a statement in `$lock_keys`
/// that takes the server's row lock inside a transaction (`$1` = server id).
macro_rules! portable_stores {
    ($store:ty, lock_keys = $lock_keys:expr) => {
        use $crate::model::{
            ApiToken, AuditEvent, AuthServer, AuthServerId, AuthorizationCode, Client, ClientId,
            ClientSecret, GrantContext, KeyState, Kid, LockoutPolicy, PendingAuthn, Presented,
            RefreshTokenRecord, Session, SessionId, SessionTokenGrant, SigningKey, Timestamp,
            TokenHash, TrustedOrigin, User, UserId,
        };
        use $crate::store::portable as sql;
        use $crate::store::rows::{
            json, ApiTokenRow, AuditEventRow, AuthServerRow, ClientRow, ClientSecretRow, CodeRow,
            PendingAuthnRow, RefreshRow, SessionRow, SessionTokenRow, SigningKeyRow,
            TrustedOriginRow, UserRow,
        };
        use $crate::store::{
            AdminStore, AuthServerStore, AuthnStore, ClientStore, Error, GrantStore, KeyChange,
            KeyStore, Result, RotatedSuccessor, RotationOutcome, RotationPlan, SeedStore,
            SessionStore, TrustedOriginStore, UserStore,
        };

        impl $store {
            /// Gives every server stored before policies existed Okta's default policy (the
            /// org server none), as it was governed by until then.
            async fn materialise_default_policies(&self) -> Result<()> {
                let servers: Vec<(String, i64)> = sqlx::query_as(sql::SERVERS_WITHOUT_POLICIES)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
                for (id, created_at) in servers {
                    let policies = if id == "org" {
                        vec![]
                    } else {
                        vec![$crate::model::AccessPolicy::okta_default(
                            Some(&id),
                            Timestamp::from_unix(created_at),
                        )]
                    };
                    sqlx::query(sql::MATERIALISE_POLICIES)
                        .bind(&id)
                        .bind(json(&policies))
                        .execute(&self.pool)
                        .await
                        .map_err(map_err)?;
                }
                Ok(())
            }
        }

        impl $store {
            /// Fills in what user search matches for users stored before it was kept.
            async fn materialise_search_terms(&self) -> Result<()> {
                let users: Vec<(String, String, String)> =
                    sqlx::query_as(sql::USERS_WITHOUT_SEARCH_TERMS)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err)?;
                for (id, login, profile) in users {
                    let profile: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(&profile).map_err(Error::corrupt)?;
                    sqlx::query(sql::SET_SEARCH_TERMS)
                        .bind(&id)
                        .bind($crate::store::rows::search_terms(&login, &profile))
                        .execute(&self.pool)
                        .await
                        .map_err(map_err)?;
                }
                Ok(())
            }

            /// Brings rows written before a migration up to what this version reads.
            async fn materialise(&self) -> Result<()> {
                self.materialise_default_policies().await?;
                self.materialise_search_terms().await
            }
        }

        #[async_trait::async_trait]
        impl AuthServerStore for $store {
            async fn get_auth_server(&self, id: &AuthServerId) -> Result<AuthServer> {
                sqlx::query_as::<_, AuthServerRow>(sql::GET_AUTH_SERVER)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?
                    .ok_or(Error::NotFound)?
                    .try_into()
            }

            async fn list_auth_servers(&self) -> Result<Vec<AuthServer>> {
                sqlx::query_as::<_, AuthServerRow>(sql::LIST_AUTH_SERVERS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn insert_auth_server(&self, server: &AuthServer) -> Result<()> {
                write_auth_server(&self.pool, sql::INSERT_AUTH_SERVER, server).await
            }

            async fn insert_auth_server_with_keys(
                &self,
                server: &AuthServer,
                active: &SigningKey,
                next: &SigningKey,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                write_auth_server(&mut *tx, sql::INSERT_AUTH_SERVER, server).await?;
                insert_key(&mut tx, active, KeyState::Active, Some(server.created_at)).await?;
                insert_key(&mut tx, next, KeyState::Next, None).await?;
                tx.commit().await.map_err(map_err)
            }

            async fn update_auth_server(&self, server: &AuthServer) -> Result<()> {
                match write_auth_server(&self.pool, sql::UPDATE_AUTH_SERVER, server).await {
                    Err(Error::NotFound) => {
                        let exists: Option<(i32,)> = sqlx::query_as(sql::AUTH_SERVER_EXISTS)
                            .bind(server.id.as_str())
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(map_err)?;
                        Err(if exists.is_some() {
                            Error::Superseded
                        } else {
                            Error::NotFound
                        })
                    }
                    other => other,
                }
            }

            async fn delete_auth_server(&self, id: &AuthServerId) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_AUTH_SERVER)
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(deleted.rows_affected() > 0)
            }
        }

        async fn write_auth_server<'e>(
            executor: impl sqlx::Executor<'e, Database = Db>,
            statement: &'static str,
            server: &AuthServer,
        ) -> Result<()> {
            let written = sqlx::query(statement)
                .bind(server.id.as_str())
                .bind(&server.name)
                .bind(&server.description)
                .bind(json(&server.audiences))
                .bind(server.issuer_mode.as_str())
                .bind(server.status.as_str())
                .bind(server.signing_alg.as_str())
                .bind(json(&server.scopes))
                .bind(json(&server.claims))
                .bind(server.created_at.unix())
                .bind(server.updated_at.unix())
                .bind(json(&server.token_lifetimes))
                .bind(json(&server.policies))
                .bind(server.revision)
                .execute(executor)
                .await
                .map_err(map_err)?;
            found(written.rows_affected())
        }

        #[async_trait::async_trait]
        impl ClientStore for $store {
            async fn get_client(&self, id: &ClientId) -> Result<Client> {
                sqlx::query_as::<_, ClientRow>(sql::GET_CLIENT)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?
                    .ok_or(Error::NotFound)?
                    .try_into()
            }

            async fn list_clients(&self) -> Result<Vec<Client>> {
                sqlx::query_as::<_, ClientRow>(sql::LIST_CLIENTS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn insert_client(
                &self,
                client: &Client,
                secret: Option<&ClientSecret>,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                write_client(&mut *tx, sql::INSERT_CLIENT, client).await?;
                if let Some(secret) = secret {
                    insert_client_secret(&mut tx, secret).await?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn update_client(&self, client: &Client) -> Result<()> {
                write_client(&self.pool, sql::UPDATE_CLIENT, client).await
            }

            async fn list_client_secrets(&self, id: &ClientId) -> Result<Vec<ClientSecret>> {
                sqlx::query_as::<_, ClientSecretRow>(sql::LIST_CLIENT_SECRETS)
                    .bind(id.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn add_client_secret(&self, secret: &ClientSecret) -> Result<bool> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                touch_client(&mut tx, &secret.client_id, secret.created_at).await?;
                let (held,): (i64,) = sqlx::query_as(sql::COUNT_CLIENT_SECRETS)
                    .bind(secret.client_id.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if usize::try_from(held).unwrap_or(usize::MAX) >= $crate::model::MAX_CLIENT_SECRETS
                {
                    return Ok(false);
                }
                insert_client_secret(&mut tx, secret).await?;
                tx.commit().await.map_err(map_err)?;
                Ok(true)
            }

            async fn replace_client_and_secrets(
                &self,
                client: &Client,
                secret: Option<&ClientSecret>,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                write_client(&mut *tx, sql::UPDATE_CLIENT, client).await?;
                sqlx::query(sql::DELETE_CLIENT_SECRETS)
                    .bind(client.id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if let Some(secret) = secret {
                    insert_client_secret(&mut tx, secret).await?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn set_client_secret_status(
                &self,
                id: &ClientId,
                secret_id: &str,
                status: $crate::model::Status,
                now: Timestamp,
            ) -> Result<bool> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                touch_client(&mut tx, id, now).await?;
                let changed = sqlx::query(sql::SET_CLIENT_SECRET_STATUS)
                    .bind(id.as_str())
                    .bind(secret_id)
                    .bind(status.as_str())
                    .bind(now.unix())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(changed.rows_affected() > 0)
            }

            async fn delete_client_secret(&self, id: &ClientId, secret_id: &str) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_INACTIVE_CLIENT_SECRET)
                    .bind(id.as_str())
                    .bind(secret_id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(deleted.rows_affected() > 0)
            }

            async fn client_secret_hashes_like(&self, prefix: &str) -> Result<Vec<String>> {
                let pattern = format!("{}%", prefix.replace('%', "").replace('_', ""));
                sqlx::query_scalar(sql::CLIENT_SECRET_HASHES_LIKE)
                    .bind(pattern)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn replace_client_secret_hash(&self, old: &str, new: &str) -> Result<bool> {
                let replaced = sqlx::query(sql::REPLACE_CLIENT_SECRET_HASH)
                    .bind(old)
                    .bind(new)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(replaced.rows_affected() > 0)
            }

            async fn update_client_ending_access(
                &self,
                client: &Client,
                until: Timestamp,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                write_client(&mut *tx, sql::UPDATE_CLIENT, client).await?;
                end_access(
                    &mut tx,
                    &CLIENT_ACCESS,
                    client.id.as_str(),
                    client.updated_at,
                    until,
                )
                .await?;
                tx.commit().await.map_err(map_err)
            }

            async fn delete_client(&self, id: &ClientId) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_CLIENT)
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(deleted.rows_affected() > 0)
            }
        }

        /// Locks the client's row for the rest of the transaction; [`Error::NotFound`] if there
        /// is no such client.
        async fn touch_client(
            tx: &mut sqlx::Transaction<'static, Db>,
            id: &ClientId,
            now: Timestamp,
        ) -> Result<()> {
            let touched = sqlx::query(sql::TOUCH_CLIENT)
                .bind(id.as_str())
                .bind(now.unix())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            found(touched.rows_affected())
        }

        async fn insert_client_secret(
            tx: &mut sqlx::Transaction<'static, Db>,
            secret: &ClientSecret,
        ) -> Result<()> {
            sqlx::query(sql::INSERT_CLIENT_SECRET)
                .bind(&secret.id)
                .bind(secret.client_id.as_str())
                .bind(&secret.secret_hash)
                .bind(secret.status.as_str())
                .bind(secret.created_at.unix())
                .bind(secret.updated_at.unix())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            Ok(())
        }

        async fn write_client<'e>(
            executor: impl sqlx::Executor<'e, Database = Db>,
            statement: &'static str,
            client: &Client,
        ) -> Result<()> {
            let written = sqlx::query(statement)
                .bind(client.id.as_str())
                .bind(&client.label)
                .bind(client.application_type.as_str())
                .bind(json(&client.redirect_uris))
                .bind(json(&client.post_logout_redirect_uris))
                .bind(json(&client.grant_types))
                .bind(json(&client.response_types))
                .bind(client.token_endpoint_auth_method.as_str())
                .bind(client.status.as_str())
                .bind(client.created_at.unix())
                .bind(client.updated_at.unix())
                .bind(i64::from(client.allow_plain_pkce))
                .bind(client.jwks.as_deref())
                .bind(client.refresh_token.rotation_type.as_str())
                .bind(i64::from(client.refresh_token.leeway_seconds))
                .execute(executor)
                .await
                .map_err(map_err)?;
            found(written.rows_affected())
        }

        #[async_trait::async_trait]
        impl UserStore for $store {
            async fn get_user_by_login(&self, login: &str) -> Result<User> {
                sqlx::query_as::<_, UserRow>(sql::GET_USER_BY_LOGIN)
                    .bind(login.to_lowercase())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?
                    .ok_or(Error::NotFound)?
                    .try_into()
            }

            async fn get_user(&self, id: &UserId) -> Result<User> {
                sqlx::query_as::<_, UserRow>(sql::GET_USER)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?
                    .ok_or(Error::NotFound)?
                    .try_into()
            }

            async fn list_users(&self, query: &$crate::model::UserQuery) -> Result<Vec<User>> {
                sqlx::query_as::<_, UserRow>(sql::LIST_USERS)
                    .bind(query.status.as_deref())
                    .bind(query.login.as_ref().map(|login| login.to_lowercase()))
                    .bind(query.q.as_deref().map($crate::store::rows::search_pattern))
                    .bind(query.after.as_deref())
                    .bind(i64::from(query.limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn unlock_user(&self, id: &UserId, now: Timestamp) -> Result<()> {
                let written = sqlx::query(sql::UNLOCK_USER)
                    .bind(id.as_str())
                    .bind(now.unix())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                found(written.rows_affected())
            }

            async fn delete_user(&self, id: &UserId) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_USER)
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(deleted.rows_affected() > 0)
            }

            async fn update_user_ending_access(&self, user: &User, until: Timestamp) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                write_user(&mut *tx, sql::UPDATE_USER, user).await?;
                sqlx::query(sql::DELETE_USER_TRANSACTIONS)
                    .bind(user.id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                end_access(
                    &mut tx,
                    &USER_ACCESS,
                    user.id.as_str(),
                    user.updated_at,
                    until,
                )
                .await?;
                tx.commit().await.map_err(map_err)
            }

            async fn end_user_access(
                &self,
                id: &UserId,
                now: Timestamp,
                until: Timestamp,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                end_access(&mut tx, &USER_ACCESS, id.as_str(), now, until).await?;
                tx.commit().await.map_err(map_err)
            }

            async fn insert_user(&self, user: &User) -> Result<()> {
                write_user(&self.pool, sql::INSERT_USER, user).await
            }

            async fn update_user(&self, user: &User) -> Result<()> {
                write_user(&self.pool, sql::UPDATE_USER, user).await
            }
        }

        /// What ending a user's or a client's access runs, each statement with `$1` = its id.
        struct AccessStatements {
            /// Statements with no other parameter.
            by_id: &'static [&'static str],
            /// Revokes the families' grants; `$2` = until when.
            revoke_grants: &'static str,
            /// Spends the unredeemed codes, so that a redemption under way stores nothing;
            /// `$2` = now.
            consume_codes: &'static str,
            /// Sets `tokens_valid_after`; `$2` = now.
            end_tokens: &'static str,
        }

        const USER_ACCESS: AccessStatements = AccessStatements {
            by_id: &[sql::DELETE_USER_SESSIONS, sql::REVOKE_USER_REFRESH_TOKENS],
            revoke_grants: sql::REVOKE_USER_GRANTS,
            consume_codes: sql::CONSUME_USER_CODES,
            end_tokens: sql::END_USER_TOKENS,
        };

        const CLIENT_ACCESS: AccessStatements = AccessStatements {
            by_id: &[sql::REVOKE_CLIENT_REFRESH_TOKENS],
            revoke_grants: sql::REVOKE_CLIENT_GRANTS,
            consume_codes: sql::CONSUME_CLIENT_CODES,
            end_tokens: sql::END_CLIENT_TOKENS,
        };

        /// Ends what a user or client had, inside `tx`: pending codes first (a redemption
        /// racing this one then stores nothing), then sessions (a user's) and refresh families,
        /// their grants, and every token issued before `now`.
        async fn end_access(
            tx: &mut sqlx::Transaction<'static, Db>,
            statements: &AccessStatements,
            id: &str,
            now: Timestamp,
            until: Timestamp,
        ) -> Result<()> {
            let bind_at = |statement: &'static str, at: Timestamp| {
                sqlx::query(statement).bind(id.to_owned()).bind(at.unix())
            };
            bind_at(statements.consume_codes, now)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            for statement in statements.by_id {
                sqlx::query(statement)
                    .bind(id)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_err)?;
            }
            for (statement, at) in [
                (statements.revoke_grants, until),
                (statements.end_tokens, now),
            ] {
                bind_at(statement, at)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_err)?;
            }
            Ok(())
        }

        async fn write_user<'e>(
            executor: impl sqlx::Executor<'e, Database = Db>,
            statement: &'static str,
            user: &User,
        ) -> Result<()> {
            let written = sqlx::query(statement)
                .bind(user.id.as_str())
                .bind(user.status.as_str())
                .bind(&user.login)
                .bind(user.login.to_lowercase())
                .bind(json(&user.profile))
                .bind(user.password_hash.as_deref())
                .bind(user.created_at.unix())
                .bind(user.activated_at.map(Timestamp::unix))
                .bind(user.status_changed_at.map(Timestamp::unix))
                .bind(user.last_login_at.map(Timestamp::unix))
                .bind(user.updated_at.unix())
                .bind(user.password_changed_at.map(Timestamp::unix))
                .bind($crate::store::rows::search_terms(
                    &user.login,
                    &user.profile,
                ))
                .execute(executor)
                .await
                .map_err(map_err)?;
            found(written.rows_affected())
        }

        #[async_trait::async_trait]
        impl AuthnStore for $store {
            async fn count_sign_in_attempt(
                &self,
                key: &TokenHash,
                window_start: Timestamp,
            ) -> Result<(u64, Timestamp)> {
                let (attempts, window_start): (i64, i64) =
                    sqlx::query_as(sql::COUNT_SIGN_IN_ATTEMPT)
                        .bind(key.as_str())
                        .bind(window_start.unix())
                        .fetch_one(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok((
                    u64::try_from(attempts).unwrap_or(0),
                    Timestamp::from_unix(window_start),
                ))
            }

            async fn record_failed_sign_in(
                &self,
                user: &UserId,
                now: Timestamp,
                policy: LockoutPolicy,
            ) -> Result<User> {
                sqlx::query_as::<_, UserRow>(sql::RECORD_FAILED_SIGN_IN)
                    .bind(user.as_str())
                    .bind(now.unix())
                    .bind(i64::from(policy.threshold))
                    .bind(now.plus(policy.duration).unix())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?
                    .ok_or(Error::NotFound)?
                    .try_into()
            }

            async fn record_successful_sign_in(
                &self,
                user: &UserId,
                now: Timestamp,
                verified_hash: &str,
                rehashed_password: Option<&str>,
            ) -> Result<bool> {
                let written = sqlx::query(sql::RECORD_SUCCESSFUL_SIGN_IN)
                    .bind(user.as_str())
                    .bind(now.unix())
                    .bind(rehashed_password)
                    .bind(verified_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(written.rows_affected() > 0)
            }

            async fn replace_password(
                &self,
                user: &UserId,
                expected_hash: &str,
                new_hash: &str,
                now: Timestamp,
            ) -> Result<bool> {
                let written = sqlx::query(sql::REPLACE_PASSWORD)
                    .bind(user.as_str())
                    .bind(new_hash)
                    .bind(now.unix())
                    .bind(expected_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(written.rows_affected() > 0)
            }

            async fn insert_session_token(
                &self,
                token: &TokenHash,
                grant: &SessionTokenGrant,
            ) -> Result<()> {
                sqlx::query(sql::INSERT_SESSION_TOKEN)
                    .bind(token.as_str())
                    .bind(grant.user_id.as_str())
                    .bind(grant.auth_time.unix())
                    .bind(json(&grant.amr))
                    .bind(grant.expires_at.unix())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn consume_session_token(
                &self,
                token: &TokenHash,
                now: Timestamp,
            ) -> Result<Option<SessionTokenGrant>> {
                let row = sqlx::query_as::<_, SessionTokenRow>(sql::CONSUME_SESSION_TOKEN)
                    .bind(token.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                let Some(row) = row else { return Ok(None) };
                let grant = SessionTokenGrant::try_from(row)?;
                Ok((grant.expires_at > now).then_some(grant))
            }

            async fn replace_recovery_token(
                &self,
                token: &TokenHash,
                pending: &PendingAuthn,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                sqlx::query(sql::DELETE_RECOVERY_TOKENS)
                    .bind(pending.user_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(sql::INSERT_TRANSACTION)
                    .bind(token.as_str())
                    .bind(pending.user_id.as_str())
                    .bind(pending.state.as_str())
                    .bind(pending.relay_state.as_deref())
                    .bind(pending.auth_time.unix())
                    .bind(pending.expires_at.unix())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)
            }

            async fn complete_recovery(&self, user: &User) -> Result<bool> {
                match write_user(&self.pool, sql::UPDATE_USER_IN_RECOVERY, user).await {
                    Ok(()) => Ok(true),
                    Err(Error::NotFound) => Ok(false),
                    Err(err) => Err(err),
                }
            }

            async fn insert_transaction(
                &self,
                state: &TokenHash,
                pending: &PendingAuthn,
            ) -> Result<()> {
                sqlx::query(sql::INSERT_TRANSACTION)
                    .bind(state.as_str())
                    .bind(pending.user_id.as_str())
                    .bind(pending.state.as_str())
                    .bind(pending.relay_state.as_deref())
                    .bind(pending.auth_time.unix())
                    .bind(pending.expires_at.unix())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn get_transaction(
                &self,
                state: &TokenHash,
                now: Timestamp,
            ) -> Result<Option<PendingAuthn>> {
                fetch_at::<PendingAuthnRow, _>(
                    &self.pool,
                    sql::GET_TRANSACTION,
                    state.as_str(),
                    now,
                )
                .await
            }

            async fn consume_transaction(
                &self,
                state: &TokenHash,
                now: Timestamp,
            ) -> Result<Option<PendingAuthn>> {
                fetch_at::<PendingAuthnRow, _>(
                    &self.pool,
                    sql::CONSUME_TRANSACTION,
                    state.as_str(),
                    now,
                )
                .await
            }
        }

        #[async_trait::async_trait]
        impl SessionStore for $store {
            async fn insert_session(&self, session: &Session, cookie: &TokenHash) -> Result<()> {
                sqlx::query(sql::INSERT_SESSION)
                    .bind(session.id.as_str())
                    .bind(cookie.as_str())
                    .bind(session.user_id.as_str())
                    .bind(session.created_at.unix())
                    .bind(session.expires_at.unix())
                    .bind(session.max_expires_at.unix())
                    .bind(session.last_password_verification.unix())
                    .bind(json(&session.amr))
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn get_session(&self, id: &SessionId, now: Timestamp) -> Result<Option<Session>> {
                fetch_at::<SessionRow, _>(&self.pool, sql::GET_SESSION, id.as_str(), now).await
            }

            async fn get_session_by_cookie(
                &self,
                cookie: &TokenHash,
                now: Timestamp,
            ) -> Result<Option<Session>> {
                fetch_at::<SessionRow, _>(
                    &self.pool,
                    sql::GET_SESSION_BY_COOKIE,
                    cookie.as_str(),
                    now,
                )
                .await
            }

            async fn refresh_session(
                &self,
                id: &SessionId,
                now: Timestamp,
                expires_at: Timestamp,
            ) -> Result<Option<Session>> {
                sqlx::query(sql::REFRESH_SESSION)
                    .bind(id.as_str())
                    .bind(now.unix())
                    .bind(expires_at.unix())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                self.get_session(id, now).await
            }

            async fn delete_session(&self, id: &SessionId, now: Timestamp) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_SESSION)
                    .bind(id.as_str())
                    .bind(now.unix())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(deleted.rows_affected() > 0)
            }

            async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
                let mut purged = 0;
                for statement in [
                    sql::PURGE_SESSION_TOKENS,
                    sql::PURGE_TRANSACTIONS,
                    sql::PURGE_SESSIONS,
                    sql::PURGE_CODES,
                    sql::PURGE_REFRESH_TOKENS,
                    sql::PURGE_REVOKED_GRANTS,
                    sql::PURGE_REVOKED_ACCESS_TOKENS,
                    sql::PURGE_CLIENT_ASSERTIONS,
                    sql::PURGE_SIGN_IN_ATTEMPTS,
                ] {
                    purged += sqlx::query(statement)
                        .bind(now.unix())
                        .execute(&self.pool)
                        .await
                        .map_err(map_err)?
                        .rows_affected();
                }
                Ok(purged)
            }
        }

        fn bind_grant<'q, O>(
            query: sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments<'q>>,
            grant: &'q GrantContext,
        ) -> sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments<'q>> {
            query
                .bind(grant.grant_id.as_str())
                .bind(grant.auth_server_id.as_str())
                .bind(grant.client_id.as_str())
                .bind(grant.user_id.as_str())
                .bind(json(&grant.scopes.to_vec()))
                .bind(grant.auth_time.unix())
                .bind(json(&grant.amr))
                .bind(grant.session_id.as_ref().map(SessionId::as_str))
        }

        /// One row found by a key and the current time (`$1`, `$2`), converted to the model.
        async fn fetch_at<R, T>(
            pool: &Pool,
            statement: &'static str,
            key: &str,
            now: Timestamp,
        ) -> Result<Option<T>>
        where
            R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
            T: TryFrom<R, Error = Error>,
        {
            sqlx::query_as::<_, R>(statement)
                .bind(key)
                .bind(now.unix())
                .fetch_optional(pool)
                .await
                .map_err(map_err)?
                .map(TryInto::try_into)
                .transpose()
        }

        /// A single-use artefact as presented: `usable` selects it while it may be used, `used`
        /// its grant id once it has been (both `$1` = hash, `usable` `$2` = now).
        async fn look_up<R, T>(
            pool: &Pool,
            usable: &'static str,
            used: &'static str,
            hash: &TokenHash,
            now: Timestamp,
        ) -> Result<Presented<T>>
        where
            R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
            T: TryFrom<R, Error = Error>,
        {
            if let Some(found) = fetch_at::<R, T>(pool, usable, hash.as_str(), now).await? {
                return Ok(Presented::Usable(found));
            }
            let replayed: Option<(String,)> = sqlx::query_as(used)
                .bind(hash.as_str())
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            Ok(match replayed {
                Some((grant_id,)) => Presented::Used { grant_id },
                None => Presented::Invalid,
            })
        }

        /// Spends a single-use artefact with `spend` (an `UPDATE` that matches it only while it
        /// is usable) and stores the refresh token it issued, in one transaction. Of concurrent spenders exactly one matches; the rest write nothing.
        async fn spend<'q>(
            pool: &Pool,
            spend: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>,
            issued: Option<(&TokenHash, &RefreshTokenRecord)>,
        ) -> Result<bool> {
            let mut tx = pool.begin().await.map_err(map_err)?;
            let spent = spend
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
                == 1;
            if !spent {
                tx.rollback().await.map_err(map_err)?;
                return Ok(false);
            }
            if let Some((token, record)) = issued {
                insert_refresh_token(&mut *tx, token, record).await?;
            }
            tx.commit().await.map_err(map_err)?;
            Ok(true)
        }

        async fn insert_refresh_token<'e>(
            executor: impl sqlx::Executor<'e, Database = Db>,
            token: &TokenHash,
            record: &RefreshTokenRecord,
        ) -> Result<()> {
            let query = sqlx::query_as::<_, (i64,)>(sql::INSERT_REFRESH_TOKEN).bind(token.as_str());
            bind_grant(query, &record.grant)
                .bind(record.created_at.unix())
                .bind(record.expires_at.unix())
                .bind(record.family_expires_at.unix())
                .fetch_optional(executor)
                .await
                .map_err(map_err)?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl GrantStore for $store {
            async fn insert_authorization_code(
                &self,
                code: &TokenHash,
                grant: &AuthorizationCode,
            ) -> Result<()> {
                let (challenge, method) = match &grant.code_challenge {
                    Some((challenge, method)) => (Some(challenge.as_str()), Some(method.as_str())),
                    None => (None, None),
                };
                let query = sqlx::query_as::<_, (i64,)>(sql::INSERT_CODE).bind(code.as_str());
                bind_grant(query, &grant.grant)
                    .bind(grant.redirect_uri.as_str())
                    .bind(grant.nonce.as_deref())
                    .bind(challenge)
                    .bind(method)
                    .bind(grant.expires_at.unix())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn find_authorization_code(
                &self,
                code: &TokenHash,
                now: Timestamp,
            ) -> Result<Presented<AuthorizationCode>> {
                look_up::<CodeRow, AuthorizationCode>(
                    &self.pool,
                    sql::FIND_CODE,
                    sql::USED_CODE,
                    code,
                    now,
                )
                .await
            }

            async fn consume_authorization_code(
                &self,
                code: &TokenHash,
                now: Timestamp,
                issued: Option<(&TokenHash, &RefreshTokenRecord)>,
            ) -> Result<bool> {
                let consume = sqlx::query(sql::CONSUME_CODE)
                    .bind(code.as_str())
                    .bind(now.unix());
                spend(&self.pool, consume, issued).await
            }

            async fn insert_refresh_token(
                &self,
                token: &TokenHash,
                record: &RefreshTokenRecord,
            ) -> Result<()> {
                insert_refresh_token(&self.pool, token, record).await
            }

            async fn find_refresh_token(
                &self,
                token: &TokenHash,
                now: Timestamp,
            ) -> Result<Presented<RefreshTokenRecord>> {
                look_up::<RefreshRow, RefreshTokenRecord>(
                    &self.pool,
                    sql::FIND_REFRESH_TOKEN,
                    sql::ROTATED_REFRESH_TOKEN,
                    token,
                    now,
                )
                .await
            }

            async fn rotate_refresh_token(
                &self,
                token: &TokenHash,
                now: Timestamp,
                successor: Option<(&TokenHash, &RefreshTokenRecord)>,
                sealed_successor: Option<&str>,
            ) -> Result<bool> {
                let rotate = sqlx::query(sql::ROTATE_REFRESH_TOKEN)
                    .bind(token.as_str())
                    .bind(now.unix())
                    .bind(successor.map(|(hash, _)| hash.as_str()))
                    .bind(sealed_successor);
                spend(&self.pool, rotate, successor).await
            }

            async fn rotated_successor(
                &self,
                token: &TokenHash,
            ) -> Result<Option<RotatedSuccessor>> {
                let found: Option<(i64, String, String)> = sqlx::query_as(sql::ROTATED_SUCCESSOR)
                    .bind(token.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(
                    found.map(|(rotated_at, successor, sealed)| RotatedSuccessor {
                        rotated_at: Timestamp::from_unix(rotated_at),
                        successor: TokenHash::from_stored(successor),
                        sealed,
                    }),
                )
            }

            async fn extend_refresh_token(
                &self,
                token: &TokenHash,
                now: Timestamp,
                expires_at: Timestamp,
            ) -> Result<bool> {
                let extended = sqlx::query(sql::EXTEND_REFRESH_TOKEN)
                    .bind(token.as_str())
                    .bind(now.unix())
                    .bind(expires_at.unix())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(extended.rows_affected() == 1)
            }

            async fn revoke_grant(&self, grant_id: &str, until: Timestamp) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                sqlx::query(sql::REVOKE_REFRESH_FAMILY)
                    .bind(grant_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(sql::REVOKE_GRANT)
                    .bind(grant_id)
                    .bind(until.unix())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)
            }

            async fn revoke_access_token(&self, jti: &str, until: Timestamp) -> Result<()> {
                sqlx::query(sql::REVOKE_ACCESS_TOKEN)
                    .bind(jti)
                    .bind(until.unix())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn is_access_token_revoked(&self, jti: &str, grant_id: &str) -> Result<bool> {
                let found: Option<(i32,)> = sqlx::query_as(sql::IS_ACCESS_TOKEN_REVOKED)
                    .bind(jti)
                    .bind(grant_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(found.is_some())
            }

            async fn record_client_assertion(
                &self,
                client_id: &ClientId,
                jti: &str,
                expires_at: Timestamp,
            ) -> Result<bool> {
                let written = sqlx::query(sql::RECORD_CLIENT_ASSERTION)
                    .bind(client_id.as_str())
                    .bind(jti)
                    .bind(expires_at.unix())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(written.rows_affected() > 0)
            }
        }

        #[async_trait::async_trait]
        impl AdminStore for $store {
            async fn insert_api_token(&self, token: &ApiToken, hash: &TokenHash) -> Result<()> {
                sqlx::query(sql::INSERT_API_TOKEN)
                    .bind(&token.id)
                    .bind(&token.name)
                    .bind(hash.as_str())
                    .bind(token.created_at.unix())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn use_api_token(
                &self,
                hash: &TokenHash,
                now: Timestamp,
                unused_since: Timestamp,
            ) -> Result<Option<ApiToken>> {
                Ok(sqlx::query_as::<_, ApiTokenRow>(sql::USE_API_TOKEN)
                    .bind(hash.as_str())
                    .bind(now.unix())
                    .bind(unused_since.unix())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?
                    .map(ApiToken::from))
            }

            async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
                Ok(sqlx::query_as::<_, ApiTokenRow>(sql::LIST_API_TOKENS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(ApiToken::from)
                    .collect())
            }

            async fn delete_api_token(&self, id: &str) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_API_TOKEN)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(deleted.rows_affected() > 0)
            }

            async fn insert_audit_event(&self, event: &AuditEvent) -> Result<()> {
                sqlx::query(sql::INSERT_AUDIT_EVENT)
                    .bind(&event.uuid)
                    .bind(event.published.unix())
                    .bind(&event.event_type)
                    .bind(&event.display_message)
                    .bind(&event.outcome)
                    .bind(&event.actor.id)
                    .bind(&event.actor.name)
                    .bind(json(&event.targets))
                    .bind(event.client_ip.as_deref())
                    .bind(event.request_id.as_deref())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn list_audit_events(
                &self,
                since: Timestamp,
                until: Timestamp,
                limit: u32,
            ) -> Result<Vec<AuditEvent>> {
                sqlx::query_as::<_, AuditEventRow>(sql::LIST_AUDIT_EVENTS)
                    .bind(since.unix())
                    .bind(until.unix())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }
        }

        #[async_trait::async_trait]
        impl TrustedOriginStore for $store {
            async fn list_trusted_origins(&self) -> Result<Vec<TrustedOrigin>> {
                sqlx::query_as::<_, TrustedOriginRow>(sql::LIST_TRUSTED_ORIGINS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn get_trusted_origin(&self, id: &str) -> Result<TrustedOrigin> {
                sqlx::query_as::<_, TrustedOriginRow>(sql::GET_TRUSTED_ORIGIN)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?
                    .ok_or(Error::NotFound)?
                    .try_into()
            }

            async fn insert_trusted_origin(&self, origin: &TrustedOrigin) -> Result<()> {
                bind_trusted_origin(sql::INSERT_TRUSTED_ORIGIN, origin)
                    .bind(origin.created_at.unix())
                    .bind(&origin.created_by)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn update_trusted_origin(&self, origin: &TrustedOrigin) -> Result<()> {
                let updated = bind_trusted_origin(sql::UPDATE_TRUSTED_ORIGIN, origin)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                if updated.rows_affected() == 0 {
                    return Err(Error::NotFound);
                }
                Ok(())
            }

            async fn delete_trusted_origin(&self, id: &str) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_TRUSTED_ORIGIN)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(deleted.rows_affected() > 0)
            }
        }

        /// The columns an insert and an update of a trusted origin share, as `$1`–`$8`.
        fn bind_trusted_origin<'q>(
            statement: &'q str,
            origin: &'q TrustedOrigin,
        ) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>> {
            sqlx::query(statement)
                .bind(origin.id.as_str())
                .bind(origin.name.as_str())
                .bind(origin.origin.as_str())
                .bind(
                    origin
                        .normalized_origin()
                        .unwrap_or_else(|| origin.origin.clone()),
                )
                .bind(json(&origin.scopes))
                .bind(origin.status.as_str())
                .bind(origin.updated_at.unix())
                .bind(origin.updated_by.as_str())
        }

        #[async_trait::async_trait]
        impl SeedStore for $store {
            async fn seed_digest(&self, kind: &str, key: &str) -> Result<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as(sql::GET_SEED_DIGEST)
                    .bind(kind)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(row.map(|(digest,)| digest))
            }

            async fn record_seed_digest(&self, kind: &str, key: &str, digest: &str) -> Result<()> {
                sqlx::query(sql::RECORD_SEED_DIGEST)
                    .bind(kind)
                    .bind(key)
                    .bind(digest)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl KeyStore for $store {
            async fn list_keys(&self, auth_server_id: &AuthServerId) -> Result<Vec<SigningKey>> {
                sqlx::query_as::<_, SigningKeyRow>(sql::LIST_KEYS)
                    .bind(auth_server_id.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn rotate_keys_locked(&self, plan: RotationPlan) -> Result<RotationOutcome> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                let locked = sqlx::query($lock_keys)
                    .bind(plan.auth_server_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                found(locked.rows_affected())?;

                let current: Vec<(String, String)> = sqlx::query_as(sql::CURRENT_KEY_KIDS)
                    .bind(plan.auth_server_id.as_str())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let kid_in = |state: KeyState| {
                    current
                        .iter()
                        .find(|(_, s)| s == state.as_str())
                        .map(|(kid, _)| kid.as_str())
                };
                if kid_in(KeyState::Active) != plan.expected_active.as_ref().map(Kid::as_str)
                    || kid_in(KeyState::Next) != plan.expected_next.as_ref().map(Kid::as_str)
                {
                    return Ok(RotationOutcome::Superseded);
                }

                let server = plan.auth_server_id.as_str();
                match &plan.change {
                    KeyChange::Bootstrap { active, next } => {
                        insert_key(&mut tx, active, KeyState::Active, Some(plan.now)).await?;
                        insert_key(&mut tx, next, KeyState::Next, None).await?;
                    }
                    KeyChange::Rotate {
                        retired_remove_after,
                        fallback_active,
                        next,
                    } => {
                        sqlx::query(sql::RETIRE_ACTIVE_KEY)
                            .bind(server)
                            .bind(plan.now.unix())
                            .bind(retired_remove_after.unix())
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                        match (&plan.expected_next, fallback_active) {
                            (Some(_), _) => {
                                sqlx::query(sql::ACTIVATE_NEXT_KEY)
                                    .bind(server)
                                    .bind(plan.now.unix())
                                    .execute(&mut *tx)
                                    .await
                                    .map_err(map_err)?;
                            }
                            (None, Some(active)) => {
                                insert_key(&mut tx, active, KeyState::Active, Some(plan.now))
                                    .await?;
                            }
                            (None, None) => {
                                return Err(Error::Corrupt(
                                    "rotation without a key to activate".to_owned(),
                                ))
                            }
                        }
                        insert_key(&mut tx, next, KeyState::Next, None).await?;
                    }
                    KeyChange::AddNext { next } => {
                        insert_key(&mut tx, next, KeyState::Next, None).await?;
                    }
                }
                tx.commit().await.map_err(map_err)?;
                Ok(RotationOutcome::Applied)
            }

            async fn purge_retired_keys(
                &self,
                auth_server_id: &AuthServerId,
                now: Timestamp,
            ) -> Result<u64> {
                let purged = sqlx::query(sql::PURGE_RETIRED_KEYS)
                    .bind(auth_server_id.as_str())
                    .bind(now.unix())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(purged.rows_affected())
            }
        }

        async fn insert_key(
            tx: &mut sqlx::Transaction<'_, Db>,
            key: &SigningKey,
            state: KeyState,
            activated_at: Option<Timestamp>,
        ) -> Result<()> {
            sqlx::query(sql::INSERT_KEY)
                .bind(key.kid.as_str())
                .bind(key.auth_server_id.as_str())
                .bind(key.alg.as_str())
                .bind(state.as_str())
                .bind(&key.public_jwk)
                .bind(&key.sealed_private_key)
                .bind(key.created_at.unix())
                .bind(activated_at.map(Timestamp::unix))
                .bind(None::<i64>)
                .bind(None::<i64>)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            Ok(())
        }

        fn found(rows_affected: u64) -> Result<()> {
            if rows_affected == 0 {
                Err(Error::NotFound)
            } else {
                Ok(())
            }
        }
    };
}

pub(crate) use portable_stores;
