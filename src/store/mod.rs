//! Persistence: one trait per aggregate, composed into [`Store`], with an SQLite and a
//! PostgreSQL backend.
//!
//! Depends on `model` only. Every invariant that must hold across requests and replicas (one
//! key rotation at a time, single-use artefacts) is one statement or one transaction inside a
//! backend, never a read followed by a write up here.

mod access;
mod admin;
mod assignments;
mod auth_servers;
mod authn;
mod clients;
mod grants;
mod groups;
mod keys;
mod portable;
mod postgres;
mod query;
mod seed_entries;
mod sessions;
mod sqlite;
mod trusted_origins;
mod users;

pub use admin::AdminStore;
pub use assignments::AssignmentStore;
pub use auth_servers::AuthServerStore;
pub use authn::AuthnStore;
pub use clients::ClientStore;
pub use grants::{GrantStore, RotatedSuccessor};
pub use groups::GroupStore;
pub use keys::{KeyChange, KeyStore, RotationOutcome, RotationPlan};
pub use seed_entries::SeedStore;
pub use sessions::SessionStore;
pub use trusted_origins::TrustedOriginStore;
pub use users::UserStore;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::DatabaseUrl;
use crate::model::Timestamp;

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

/// How many connections a pool holds, and how many of them wait idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Open connections.
    pub open: u32,
    /// Open connections no query is using.
    pub idle: u32,
}

/// Results of store operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn corrupt(err: impl std::fmt::Display) -> Self {
        Error::Corrupt(err.to_string())
    }
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
    + GroupStore
    + AssignmentStore
    + KeyStore
    + Send
    + Sync
{
    /// Applies the embedded migrations for this backend.
    async fn migrate(&self) -> Result<()>;
    /// Checks that the database answers.
    async fn ping(&self) -> Result<()>;
    /// The connection pool's use now.
    fn pool_use(&self) -> PoolUse;
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

/// [`connect`], waiting up to `wait` for a PostgreSQL that refuses connections or is still
/// starting (a database container started beside this one, a failover in progress): the
/// first thing a process does should not fail for what a moment later would not. Anything
/// else (a wrong password, an unknown database, a certificate not trusted) fails at once.
pub async fn connect_waiting(
    url: &DatabaseUrl,
    timeout: std::time::Duration,
    wait: std::time::Duration,
) -> Result<Arc<dyn Store>> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut pause = std::time::Duration::from_millis(100);
    loop {
        match connect(url, timeout).await {
            Err(err) if not_up_yet(&err) => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    return Err(err);
                }
                let retry_in = pause.min(left);
                let cause = std::error::Error::source(&err).map(ToString::to_string);
                tracing::warn!(
                    error = cause.as_deref().unwrap_or("unknown"),
                    retry_in_ms = retry_in.as_millis(),
                    "the database does not accept connections yet"
                );
                tokio::time::sleep(retry_in).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
            connected => return connected,
        }
    }
}

/// Whether a failure to connect is one that time mends: nothing listens yet, or the server
/// says it is starting, shutting down or recovering. A certificate that is not trusted comes
/// as an I/O error of invalid data, and waiting does not mend it.
fn not_up_yet(err: &Error) -> bool {
    match err {
        Error::Unavailable(sqlx::Error::Io(io)) => !matches!(
            io.kind(),
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::PermissionDenied
        ),
        Error::Unavailable(sqlx::Error::PoolTimedOut) => true,
        Error::Unavailable(sqlx::Error::Database(db)) => db
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
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
