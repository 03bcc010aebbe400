//! The SQLite backend: the embedded default, a file under `./data/` or in memory.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

type Db = sqlx::Sqlite;
type Pool = sqlx::SqlitePool;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// A store on an SQLite database.
pub struct SqliteStore {
    pool: Pool,
}

impl SqliteStore {
    /// Opens (and creates, for a file) the database.
    pub async fn connect(url: &str, path: Option<&Path>) -> Result<Self> {
        if let Some(path) = path {
            create_private(path).map_err(|err| Error::Database(sqlx::Error::Io(err)))?;
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(map_err)?
            .create_if_missing(true)
            .foreign_keys(true)
            // WAL lets readers proceed while one connection writes; the busy timeout makes a
            // second writer wait for the lock instead of failing at once.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool_options = match path {
            Some(_) => SqlitePoolOptions::new().max_connections(4),
            // Every connection to `:memory:` is a separate database: keep exactly one, forever.
            None => SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None),
        };
        // Switching a new file to WAL needs it alone for a moment, and SQLite does not wait
        // for that (no busy handler): a second process opening the same new file retries.
        let mut attempt = 0;
        loop {
            match pool_options
                .clone()
                .connect_with(options.clone())
                .await
                .map_err(map_err)
            {
                Ok(pool) => return Ok(Self { pool }),
                Err(Error::Busy) if attempt < 10 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// Creates the database file readable by its owner only, if it is missing: it holds password
/// hashes, sealed keys and token hashes. SQLite gives its WAL and shared-memory files the
/// database file's permissions.
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

#[async_trait::async_trait]
impl crate::store::Store for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        // sqlx cannot lock an SQLite database while migrating (it does on PostgreSQL), so two
        // processes starting on one file may both try the same migration; each runs in its own
        // transaction, the loser's rolls back, and on a second look it is already applied.
        let mut attempt = 0;
        loop {
            match MIGRATOR.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(_) if attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                Err(err) => return Err(Error::Migrate(err)),
            }
        }
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

fn map_err(err: sqlx::Error) -> Error {
    if super::unreachable(&err) {
        return Error::Unavailable(err);
    }
    if let sqlx::Error::Database(db) = &err {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with any extended code in the high bits.
        let primary = db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .map(|code| code & 0xff);
        if matches!(primary, Some(5 | 6)) {
            return Error::Busy;
        }
        if db.is_unique_violation() {
            return Error::Conflict {
                what: db
                    .message()
                    .trim_start_matches("UNIQUE constraint failed: ")
                    .to_owned(),
            };
        }
    }
    Error::Database(err)
}

// Taking a write lock first is SQLite's equivalent of a row lock: the transaction holds the
// database's single writer slot from this statement on, so a second rotation waits here and
// then sees the first one's result.
crate::store::portable::portable_stores!(
    SqliteStore,
    lock_keys = "UPDATE authorization_servers SET id = id WHERE id = $1"
);
