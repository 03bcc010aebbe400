//! The SQLite backend: the embedded default, a file under `./data/` or in memory.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Error, Result};

type Db = sqlx::Sqlite;
type Pool = sqlx::SqlitePool;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// A store on an SQLite database.
pub struct SqliteStore {
    pool: Pool,
    /// Opened read-only because the file could not be opened for writing.
    read_only: bool,
}

impl SqliteStore {
    /// Opens (and creates, for a file) the database. An existing file that cannot be opened
    /// for writing (a read-only or full file system) is opened read-only instead, so that the
    /// server can still serve what only needs reads.
    pub async fn connect(url: &str, path: Option<&Path>) -> Result<Self> {
        if let Some(path) = path {
            create_private(path).map_err(|err| Error::Database(sqlx::Error::Io(err)))?;
        }
        let base = SqliteConnectOptions::from_str(url)
            .map_err(map_err)?
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writable = base
            .clone()
            .create_if_missing(true)
            // WAL lets readers proceed while one connection writes; the busy timeout makes a
            // second writer wait for the lock instead of failing at once.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let pool_options = match path {
            Some(_) => SqlitePoolOptions::new().max_connections(4),
            // Every connection to `:memory:` is a separate database: keep exactly one, forever.
            None => SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None),
        };
        let err = match open(&pool_options, writable).await {
            Ok(pool) => {
                return Ok(Self {
                    pool,
                    read_only: false,
                })
            }
            Err(err) => err,
        };
        if path.is_none_or(|path| !path.exists()) || !cannot_write(&err) {
            return Err(err);
        }
        tracing::warn!(
            error = %chain(&err),
            "the database file cannot be opened for writing; serving it read-only: changes fail \
             with 503 and /health/ready reports it until the server is restarted with a \
             writable database"
        );
        // A WAL database needs its shared-memory file. Where that cannot be created either,
        // the file is read as immutable, which ignores locks and the write-ahead log: right
        // only when the log holds nothing (the last writer closed cleanly) and the file
        // cannot change under us.
        let read_only = base.read_only(true);
        let pool = open(&pool_options, read_only.clone()).await?;
        let pool = match readable(&pool).await {
            Ok(()) => pool,
            Err(err) if cannot_write(&err) && path.is_some_and(wal_is_empty) => {
                pool.close().await;
                open(&pool_options, read_only.immutable(true)).await?
            }
            Err(err) => return Err(err),
        };
        Ok(Self {
            pool,
            read_only: true,
        })
    }
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// Opens a pool, retrying while another process switches a new file to WAL: that needs the
/// file alone for a moment, and SQLite does not wait for it (no busy handler).
async fn open(pool_options: &SqlitePoolOptions, options: SqliteConnectOptions) -> Result<Pool> {
    let mut attempt = 0;
    loop {
        match pool_options
            .clone()
            .connect_with(options.clone())
            .await
            .map_err(map_err)
        {
            Err(Error::Busy) if attempt < 10 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
            }
            other => return other,
        }
    }
}

/// Whether the schema can be read: a WAL database without its shared-memory file opens, and
/// then fails at the first statement.
async fn readable(pool: &Pool) -> Result<()> {
    sqlx::query("SELECT 1 FROM sqlite_master LIMIT 1")
        .execute(pool)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Whether the database's write-ahead log is missing or empty.
fn wal_is_empty(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(Path::new(&wal)).map_or(true, |wal| wal.len() == 0)
}

/// Whether opening failed because the file or its directory cannot be written: read-only,
/// full, or the journal files cannot be created (SQLITE_IOERR, SQLITE_CANTOPEN).
fn cannot_write(err: &Error) -> bool {
    match err {
        Error::Unwritable(_) => true,
        Error::Database(sqlx::Error::Database(db)) => {
            matches!(primary_code(db.as_ref()), Some(10 | 14))
        }
        _ => false,
    }
}

fn primary_code(db: &dyn sqlx::error::DatabaseError) -> Option<i32> {
    // Extended result codes carry the primary code in their low byte.
    db.code()
        .and_then(|code| code.parse::<i32>().ok())
        .map(|code| code & 0xff)
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

impl SqliteStore {
    /// A read-only database can serve only if every migration was applied before.
    async fn check_migrated(&self) -> Result<()> {
        let applied: Vec<i64> = sqlx::query_scalar(super::APPLIED_MIGRATIONS)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        super::require_migrated(&MIGRATOR, &applied)
    }
}

#[async_trait::async_trait]
impl crate::store::Store for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        if self.read_only {
            return self.check_migrated().await;
        }
        // sqlx cannot lock an SQLite database while migrating (it does on PostgreSQL), so two
        // processes starting on one file may both try the same migration; each runs in its own
        // transaction, the loser's rolls back, and on a second look it is already applied.
        let mut attempt = 0;
        loop {
            match MIGRATOR.run(&self.pool).await {
                Ok(()) => return self.materialise().await,
                // Opened for writing, but the file refuses writes (`mode=ro`, permissions).
                Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(db)))
                    if matches!(primary_code(db.as_ref()), Some(8)) =>
                {
                    return self.check_migrated().await;
                }
                Err(_) if attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                Err(err) => return Err(Error::Migrate(err)),
            }
        }
    }

    async fn check_writable(&self, now: crate::model::Timestamp) -> Result<()> {
        sqlx::query(crate::store::portable::RECORD_HEALTH_CHECK)
            .bind(now.unix())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn pool_use(&self) -> crate::store::PoolUse {
        crate::store::PoolUse {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
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

    async fn directory_revision(&self) -> Result<i64> {
        sqlx::query_scalar(crate::store::portable::DIRECTORY_REVISION)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn directory_notices(&self) -> Result<Option<Box<dyn crate::store::DirectoryNotices>>> {
        Ok(None)
    }
}

impl super::query::Backend for Db {
    fn error(err: sqlx::Error) -> Error {
        map_err(err)
    }

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

fn map_err(err: sqlx::Error) -> Error {
    if super::unreachable(&err) {
        return Error::Unavailable(err);
    }
    if let sqlx::Error::Database(db) = &err {
        match primary_code(db.as_ref()) {
            // SQLITE_BUSY and SQLITE_LOCKED.
            Some(5 | 6) => return Error::Busy,
            // SQLITE_READONLY and SQLITE_FULL.
            Some(8 | 13) => return Error::Unwritable(err),
            _ => {}
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
