//! Persistence: one trait per aggregate, composed into [`Store`], with an SQLite and a
//! PostgreSQL backend.
//!
//! Depends on `model` only. Every invariant that must hold across requests and replicas (one
//! key rotation at a time, single-use artefacts) is one statement or one transaction inside a
//! backend, never a read followed by a write up here.

mod portable;
mod postgres;
mod rows;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::DatabaseUrl;
use crate::model::{
    ApiToken, AuditEvent, AuthServer, AuthServerId, AuthorizationCode, Client, ClientId,
    ClientSecret, Kid, LockoutPolicy, PendingAuthn, Presented, RefreshTokenRecord, Session,
    SessionId, SessionTokenGrant, SigningKey, Status, Timestamp, TokenHash, TrustedOrigin, User,
    UserId, UserQuery,
};

/// Storage failures, with the database's own types kept inside.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such object.
    #[error("not found")]
    NotFound,
    /// A unique value is taken.
    #[error("conflict: {what} already exists")]
    Conflict {
        /// What collided.
        what: String,
    },
    /// The object changed since it was read; the change was not written.
    #[error("changed concurrently")]
    Superseded,
    /// The database is busy (SQLite lock, PostgreSQL serialization failure); retrying may work.
    #[error("the database is busy")]
    Busy,
    /// The database did not answer within the configured time (unreachable, stopped, hung):
    /// the request fails, the server stays up.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The database answers but cannot be written: a read-only file or file system, a full
    /// disk, a read-only PostgreSQL (a standby). Reads keep working.
    #[error("the database cannot be written")]
    Unwritable(#[source] sqlx::Error),
    /// A stored value cannot be read back into the model.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// Results of store operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn corrupt(err: impl std::fmt::Display) -> Self {
        Error::Corrupt(err.to_string())
    }
}

/// A rotated refresh token's successor, kept for the rotation leeway.
#[derive(Debug, Clone)]
pub struct RotatedSuccessor {
    /// When the token was rotated.
    pub rotated_at: Timestamp,
    /// The successor's hash.
    pub successor: TokenHash,
    /// The successor itself, sealed (base64).
    pub sealed: String,
}

/// What a key rotation should do, and what the caller saw when it planned it.
///
/// The backend applies the plan only if the server's ACTIVE and NEXT keys are still the ones
/// named here: of several replicas racing to rotate, exactly one succeeds.
#[derive(Debug, Clone)]
pub struct RotationPlan {
    /// The server whose keys change.
    pub auth_server_id: AuthServerId,
    /// The ACTIVE key's kid when the plan was made.
    pub expected_active: Option<Kid>,
    /// The NEXT key's kid when the plan was made.
    pub expected_next: Option<Kid>,
    /// What to do.
    pub change: KeyChange,
    /// When it happens.
    pub now: Timestamp,
}

/// The key changes a rotation can make.
#[derive(Debug, Clone)]
pub enum KeyChange {
    /// A server without keys gets an ACTIVE key and a NEXT key.
    Bootstrap {
        /// Becomes ACTIVE at once.
        active: SigningKey,
        /// Becomes NEXT.
        next: SigningKey,
    },
    /// ACTIVE becomes RETIRED (kept until `retired_remove_after`), NEXT becomes ACTIVE (or
    /// `fallback_active` if there is no NEXT), and `next` becomes NEXT.
    Rotate {
        /// When the retired key may leave the JWKS.
        retired_remove_after: Timestamp,
        /// Signs at once if the server has no NEXT key to promote.
        fallback_active: Option<SigningKey>,
        /// The new NEXT key.
        next: SigningKey,
    },
    /// A server with an ACTIVE key but no NEXT key gets one.
    AddNext {
        /// The new NEXT key.
        next: SigningKey,
    },
}

/// Whether a rotation plan was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The keys changed as planned.
    Applied,
    /// Someone else changed the keys first; nothing was written.
    Superseded,
}

/// Authorization servers.
#[async_trait]
pub trait AuthServerStore: Send + Sync {
    /// One server; [`Error::NotFound`] if there is none.
    async fn get_auth_server(&self, id: &AuthServerId) -> Result<AuthServer>;
    /// Every server, org first, then by id.
    async fn list_auth_servers(&self) -> Result<Vec<AuthServer>>;
    /// Adds a server; [`Error::Conflict`] if the id or name is taken.
    async fn insert_auth_server(&self, server: &AuthServer) -> Result<()>;
    /// Adds a server with its first ACTIVE and NEXT keys, in one transaction.
    async fn insert_auth_server_with_keys(
        &self,
        server: &AuthServer,
        active: &SigningKey,
        next: &SigningKey,
    ) -> Result<()>;
    /// Replaces a server's fields if its revision is still `server.revision`, and bumps it;
    /// [`Error::Superseded`] if it changed since, [`Error::NotFound`] if there is none.
    async fn update_auth_server(&self, server: &AuthServer) -> Result<()>;
    /// Deletes a server and its keys; whether there was one.
    async fn delete_auth_server(&self, id: &AuthServerId) -> Result<bool>;
}

/// OIDC clients (Okta apps).
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// One client; [`Error::NotFound`] if there is none.
    async fn get_client(&self, id: &ClientId) -> Result<Client>;
    /// Every client.
    async fn list_clients(&self) -> Result<Vec<Client>>;
    /// Adds a client and, for a confidential one, its first secret, in one transaction;
    /// [`Error::Conflict`] if the id is taken.
    async fn insert_client(&self, client: &Client, secret: Option<&ClientSecret>) -> Result<()>;
    /// Replaces a client's fields; [`Error::NotFound`] if there is none.
    async fn update_client(&self, client: &Client) -> Result<()>;
    /// Deletes a client; whether there was one.
    async fn delete_client(&self, id: &ClientId) -> Result<bool>;
    /// Writes the client (deactivated) and, in the same transaction, spends its pending codes,
    /// revokes every refresh token family of it (their access tokens until `until`) and makes
    /// every token issued to it before `client.updated_at` invalid for good.
    async fn update_client_ending_access(&self, client: &Client, until: Timestamp) -> Result<()>;
    /// A client's secrets, active or not, oldest first.
    async fn list_client_secrets(&self, id: &ClientId) -> Result<Vec<ClientSecret>>;
    /// Adds a secret unless its client already holds [`MAX_CLIENT_SECRETS`](crate::model::MAX_CLIENT_SECRETS):
    /// whether it was added. [`Error::NotFound`] if there is no such client.
    async fn add_client_secret(&self, secret: &ClientSecret) -> Result<bool>;
    /// Replaces a client's fields and makes `secret` its only secret (or leaves it none), in
    /// one transaction.
    async fn replace_client_and_secrets(
        &self,
        client: &Client,
        secret: Option<&ClientSecret>,
    ) -> Result<()>;
    /// Activates or deactivates a secret. Deactivating the client's last active secret is
    /// refused: whether the secret changed.
    async fn set_client_secret_status(
        &self,
        id: &ClientId,
        secret_id: &str,
        status: Status,
        now: Timestamp,
    ) -> Result<bool>;
    /// Deletes an inactive secret: whether one was deleted.
    async fn delete_client_secret(&self, id: &ClientId, secret_id: &str) -> Result<bool>;
    /// Stored secret hashes that start with `prefix`: those of an earlier scheme.
    async fn client_secret_hashes_like(&self, prefix: &str) -> Result<Vec<String>>;
    /// Replaces one stored secret hash with another for the same secret: whether it was there.
    async fn replace_client_secret_hash(&self, old: &str, new: &str) -> Result<bool>;
}

/// Users.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// The user with this login (case-insensitive); [`Error::NotFound`] if there is none.
    async fn get_user_by_login(&self, login: &str) -> Result<User>;
    /// The user with this id; [`Error::NotFound`] if there is none.
    async fn get_user(&self, id: &UserId) -> Result<User>;
    /// Adds a user; [`Error::Conflict`] if the id or login is taken.
    async fn insert_user(&self, user: &User) -> Result<()>;
    /// Replaces a user's fields except the lockout counters; [`Error::NotFound`] if none.
    async fn update_user(&self, user: &User) -> Result<()>;
    /// Users matching the query, ordered by id, after the cursor, at most `limit`.
    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>>;
    /// Clears a lockout and the failure count.
    async fn unlock_user(&self, id: &UserId, now: Timestamp) -> Result<()>;
    /// Deletes a user and everything of theirs; whether there was one.
    async fn delete_user(&self, id: &UserId) -> Result<bool>;
    /// Writes the user (deactivated or suspended) and, in the same transaction, ends their
    /// authn transactions and everything [`UserStore::end_user_access`] ends, as of
    /// `user.updated_at`.
    async fn update_user_ending_access(&self, user: &User, until: Timestamp) -> Result<()>;
    /// In one transaction: ends every session of the user, revokes every refresh token family
    /// of theirs (their access tokens until `until`), and makes every token issued before `now`
    /// invalid for good.
    async fn end_user_access(&self, id: &UserId, now: Timestamp, until: Timestamp) -> Result<()>;
}

/// Sign-in state that must hold across replicas: per-username attempt counts, lockout
/// counters, one-time session tokens and authentication transactions.
#[async_trait]
pub trait AuthnStore: Send + Sync {
    /// Counts one sign-in attempt for `key` in the window starting at `window_start`, in one
    /// statement: the attempts in the window so far, this one included, and the window's start
    /// (a later one if another replica's clock is ahead).
    async fn count_sign_in_attempt(
        &self,
        key: &TokenHash,
        window_start: Timestamp,
    ) -> Result<(u64, Timestamp)>;
    /// Counts a failed password in one statement; locks the user when the count reaches the
    /// policy's threshold. Returns the user as it now is.
    async fn record_failed_sign_in(
        &self,
        user: &UserId,
        now: Timestamp,
        policy: LockoutPolicy,
    ) -> Result<User>;
    /// Clears the failure count and any expired lockout, records the sign-in time, and
    /// replaces `verified_hash` with an upgraded hash if one is given. `false` (nothing
    /// written) if a lock is in force, perhaps set by a concurrent failure.
    async fn record_successful_sign_in(
        &self,
        user: &UserId,
        now: Timestamp,
        verified_hash: &str,
        rehashed_password: Option<&str>,
    ) -> Result<bool>;
    /// Sets a new password hash if the stored one is still `expected_hash`; an expired
    /// password's user becomes active. `false` if the password changed meanwhile.
    async fn replace_password(
        &self,
        user: &UserId,
        expected_hash: &str,
        new_hash: &str,
        now: Timestamp,
    ) -> Result<bool>;
    /// Stores a new one-time session token by its hash.
    async fn insert_session_token(
        &self,
        token: &TokenHash,
        grant: &SessionTokenGrant,
    ) -> Result<()>;
    /// Deletes and returns the token's grant in one statement, so it works exactly once;
    /// `None` if unknown, used or expired.
    async fn consume_session_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<SessionTokenGrant>>;
    /// Stores a transaction by its state token's hash.
    async fn insert_transaction(&self, state: &TokenHash, pending: &PendingAuthn) -> Result<()>;
    /// Stores a user's recovery token (a transaction in RECOVERY), ending any earlier one of
    /// theirs in the same transaction.
    async fn replace_recovery_token(&self, token: &TokenHash, pending: &PendingAuthn)
        -> Result<()>;
    /// Writes the user if they are still in RECOVERY: whether they were.
    async fn complete_recovery(&self, user: &User) -> Result<bool>;
    /// The unexpired transaction with this state token.
    async fn get_transaction(
        &self,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<PendingAuthn>>;
    /// Deletes and returns the unexpired transaction in one statement.
    async fn consume_transaction(
        &self,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<PendingAuthn>>;
}

/// Authorization codes, refresh tokens and revocations: every single-use or revocable
/// artefact of the OAuth flows.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a new authorization code by its hash.
    async fn insert_authorization_code(
        &self,
        code: &TokenHash,
        grant: &AuthorizationCode,
    ) -> Result<()>;
    /// A code as presented, nothing spent: [`Presented::Used`] once redeemed.
    async fn find_authorization_code(
        &self,
        code: &TokenHash,
        now: Timestamp,
    ) -> Result<Presented<AuthorizationCode>>;
    /// Uses up a code and stores the refresh token its redemption issued, in one transaction:
    /// exactly one of any number of concurrent redemptions gets `true`; the others get `false`
    /// and write nothing, and a failure writes nothing either (the code stays usable).
    async fn consume_authorization_code(
        &self,
        code: &TokenHash,
        now: Timestamp,
        issued: Option<(&TokenHash, &RefreshTokenRecord)>,
    ) -> Result<bool>;
    /// Stores the first refresh token of a new family by its hash.
    async fn insert_refresh_token(
        &self,
        token: &TokenHash,
        record: &RefreshTokenRecord,
    ) -> Result<()>;
    /// A refresh token as presented, nothing spent: [`Presented::Used`] once rotated, revoked,
    /// or when its family is revoked (whenever the token was stored).
    async fn find_refresh_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> Result<Presented<RefreshTokenRecord>>;
    /// Marks a usable refresh token rotated and stores its successor, in one transaction:
    /// exactly one of any number of concurrent rotations gets `true`; the others get `false`
    /// and write nothing, and a failure writes nothing either (the token stays usable). With
    /// `sealed_successor`, the rotated token keeps it, for [`GrantStore::rotated_successor`].
    async fn rotate_refresh_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
        successor: Option<(&TokenHash, &RefreshTokenRecord)>,
        sealed_successor: Option<&str>,
    ) -> Result<bool>;
    /// What a rotated (not revoked) token was replaced with, if it kept its successor.
    async fn rotated_successor(&self, token: &TokenHash) -> Result<Option<RotatedSuccessor>>;
    /// Moves a usable refresh token's idle expiry (a `STATIC` token in use); whether it was
    /// still usable.
    async fn extend_refresh_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool>;
    /// Revokes every refresh token of the grant, and its access tokens until `until`.
    async fn revoke_grant(&self, grant_id: &str, until: Timestamp) -> Result<()>;
    /// Revokes one access token until it expires.
    async fn revoke_access_token(&self, jti: &str, until: Timestamp) -> Result<()>;
    /// Whether the access token, or the grant it came from, is revoked.
    async fn is_access_token_revoked(&self, jti: &str, grant_id: &str) -> Result<bool>;
    /// Records a client assertion's `jti`; `false` if it was seen before (a replay).
    async fn record_client_assertion(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: Timestamp,
    ) -> Result<bool>;
}

/// API tokens and the audit log.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Stores a new API token by its hash.
    async fn insert_api_token(&self, token: &ApiToken, hash: &TokenHash) -> Result<()>;
    /// The token with this hash, marking it used at `now`, unless it has not been used since
    /// `unused_since` (expired).
    async fn use_api_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
        unused_since: Timestamp,
    ) -> Result<Option<ApiToken>>;
    /// Every API token, oldest first.
    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>>;
    /// Deletes an API token; whether there was one.
    async fn delete_api_token(&self, id: &str) -> Result<bool>;
    /// Appends an audit event.
    async fn insert_audit_event(&self, event: &AuditEvent) -> Result<()>;
    /// Audit events published in `[since, until)`, oldest first, at most `limit`.
    async fn list_audit_events(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<AuditEvent>>;
}

/// Okta's Trusted Origins.
#[async_trait]
pub trait TrustedOriginStore: Send + Sync {
    /// Every trusted origin, by id.
    async fn list_trusted_origins(&self) -> Result<Vec<TrustedOrigin>>;
    /// One by id.
    async fn get_trusted_origin(&self, id: &str) -> Result<TrustedOrigin>;
    /// Stores a new one; [`Error::Conflict`] if its name or origin is taken.
    async fn insert_trusted_origin(&self, origin: &TrustedOrigin) -> Result<()>;
    /// Replaces one's name, origin, scopes and status; [`Error::NotFound`] if it is gone.
    async fn update_trusted_origin(&self, origin: &TrustedOrigin) -> Result<()>;
    /// Deletes one; whether there was one.
    async fn delete_trusted_origin(&self, id: &str) -> Result<bool>;
}

/// What the seed file last applied, per object.
#[async_trait]
pub trait SeedStore: Send + Sync {
    /// The digest recorded for a seed entry.
    async fn seed_digest(&self, kind: &str, key: &str) -> Result<Option<String>>;
    /// Records (or replaces) the digest of a seed entry.
    async fn record_seed_digest(&self, kind: &str, key: &str, digest: &str) -> Result<()>;
}

/// Browser sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a session with the hash of its `sid` cookie.
    async fn insert_session(&self, session: &Session, cookie: &TokenHash) -> Result<()>;
    /// The unexpired session with this id.
    async fn get_session(&self, id: &SessionId, now: Timestamp) -> Result<Option<Session>>;
    /// The unexpired session whose `sid` cookie has this hash.
    async fn get_session_by_cookie(
        &self,
        cookie: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<Session>>;
    /// Moves an unexpired session's end to `expires_at`, capped by its absolute limit.
    async fn refresh_session(
        &self,
        id: &SessionId,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Option<Session>>;
    /// Ends an unexpired session; whether there was one.
    async fn delete_session(&self, id: &SessionId, now: Timestamp) -> Result<bool>;
    /// Deletes expired session tokens, transactions, sessions, codes, refresh tokens,
    /// revocations and assertion ids; how many rows.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64>;
}

/// Signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// A server's keys (all states), newest first.
    async fn list_keys(&self, auth_server_id: &AuthServerId) -> Result<Vec<SigningKey>>;
    /// Applies a rotation plan atomically, under a lock that serialises rotations of one server
    /// across connections and replicas.
    async fn rotate_keys_locked(&self, plan: RotationPlan) -> Result<RotationOutcome>;
    /// Deletes RETIRED keys whose `remove_after` has passed; returns how many.
    async fn purge_retired_keys(
        &self,
        auth_server_id: &AuthServerId,
        now: Timestamp,
    ) -> Result<u64>;
}

/// Everything authd stores.
#[async_trait]
pub trait Store:
    AuthServerStore
    + ClientStore
    + UserStore
    + AuthnStore
    + SessionStore
    + SeedStore
    + GrantStore
    + AdminStore
    + TrustedOriginStore
    + KeyStore
    + Send
    + Sync
{
    /// Applies the embedded migrations for this backend.
    async fn migrate(&self) -> Result<()>;
    /// Checks that the database answers.
    async fn ping(&self) -> Result<()>;
    /// Checks that the database takes a write: [`Error::Unwritable`] if it is read-only or
    /// full. Writes one small row.
    async fn check_writable(&self, now: Timestamp) -> Result<()>;
    /// Closes the connection pool.
    async fn close(&self);
    /// The directory revision: every committed change to an authorization server, an app or
    /// its secrets, a signing key or a trusted origin bumps it (triggers do, in the changing
    /// transaction).
    async fn directory_revision(&self) -> Result<i64>;
    /// The revisions other connections commit, pushed as they commit where the database can
    /// push them (PostgreSQL's `LISTEN`); `None` where the revision must be polled.
    async fn directory_notices(&self) -> Result<Option<Box<dyn DirectoryNotices>>>;
}

/// A subscription to directory revisions as they are committed.
#[async_trait]
pub trait DirectoryNotices: Send {
    /// The next revision committed. `Ok(None)` as soon as the subscription's connection is
    /// lost (notices may be missed from then on) or a notice does not say which revision: the
    /// caller reads the revision. The next call reconnects.
    async fn next(&mut self) -> Result<Option<i64>>;
}

/// Connects to the database the URL names. On PostgreSQL a request waits at most `timeout`
/// for a connection or a statement; an embedded SQLite file has no network to wait for, and
/// waits for its single writer as long as it takes. Migrations are not applied; call
/// [`Store::migrate`].
pub async fn connect(url: &DatabaseUrl, timeout: std::time::Duration) -> Result<Arc<dyn Store>> {
    match url {
        DatabaseUrl::Sqlite { url, path } => Ok(Arc::new(
            sqlite::SqliteStore::connect(url, path.as_deref()).await?,
        )),
        DatabaseUrl::Postgres(url) => Ok(Arc::new(
            postgres::PostgresStore::connect(url, timeout).await?,
        )),
    }
}

/// For a database that cannot be written: it can serve only if `applied` (the versions of the
/// migrations applied before) includes every one this version has.
fn require_migrated(migrator: &sqlx::migrate::Migrator, applied: &[i64]) -> Result<()> {
    if migrator
        .iter()
        .all(|migration| applied.contains(&migration.version))
    {
        return Ok(());
    }
    Err(Error::Migrate(sqlx::migrate::MigrateError::Execute(
        sqlx::Error::Protocol(
            "the database cannot be written and this version needs migrations applied to it; \
             start once with a writable database"
                .into(),
        ),
    )))
}

/// The versions of the migrations applied to a database, read without writing.
const APPLIED_MIGRATIONS: &str = "SELECT version FROM _sqlx_migrations WHERE success";

/// Whether an error means the database could not be reached or did not answer in time.
fn unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL: statement timeout (57014), shutdown (57P0x), the connection exceptions
        // (08xxx), too many connections (53300), and a database not accepting connections
        // (55000, as while it is being restored).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            matches!(code.as_ref(), "57014" | "53300" | "55000")
                || code.starts_with("57P")
                || code.starts_with("08")
        }),
        _ => false,
    }
}

/// Helpers shared by both backends for columns stored as JSON text or text enums.
mod columns {
    use super::Error;

    pub fn json_list<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, Error> {
        serde_json::from_str(text).map_err(Error::corrupt)
    }

    pub fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
        serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
    }

    pub fn parse<T: std::str::FromStr>(text: &str) -> Result<T, Error>
    where
        T::Err: std::fmt::Display,
    {
        text.parse().map_err(Error::corrupt)
    }
}
