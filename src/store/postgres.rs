//! The PostgreSQL backend: production, any number of replicas on one database.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

use super::{Error, Result};

type Db = sqlx::Postgres;
type Pool = sqlx::PgPool;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// A store on a PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
    /// The statement that gives a connection the configured statement timeout.
    statement_timeout: String,
}

impl PostgresStore {
    /// Connects a pool to the server.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self> {
        // One connection first, for its own error: the pool would retry a refused connection
        // until its timeout and report only that it timed out.
        let probe = tokio::time::timeout(
            timeout,
            <sqlx::PgConnection as sqlx::Connection>::connect(url),
        )
        .await
        .map_err(|_| {
            Error::Unavailable(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {timeout:?}"),
            )))
        })?
        .map_err(map_err)?;
        let _ = sqlx::Connection::close(probe).await;
        let statement_timeout = format!("SET statement_timeout = {}", timeout.as_millis());
        let set_timeout = statement_timeout.clone();
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(timeout)
            // A hung server or a lock held too long fails the statement, not the replica.
            .after_connect(move |connection, _| {
                let statement_timeout = set_timeout.clone();
                Box::pin(async move {
                    sqlx::Executor::execute(connection, statement_timeout.as_str()).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(map_err)?;
        Ok(Self {
            pool,
            statement_timeout,
        })
    }
}

#[async_trait::async_trait]
impl crate::store::Store for PostgresStore {
    async fn migrate(&self) -> Result<()> {
        // A migration may wait for another replica's (sqlx takes an advisory lock) and may take
        // long: it runs without the requests' statement timeout.
        let mut connection = self.pool.acquire().await.map_err(map_err)?;
        sqlx::query("SET statement_timeout = 0")
            .execute(&mut *connection)
            .await
            .map_err(map_err)?;
        let migrated = match MIGRATOR.run_direct(&mut *connection).await {
            // A standby, or `default_transaction_read_only`: it can serve if it is up to date.
            Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(db)))
                if db.code().as_deref() == Some("25006") =>
            {
                check_migrated(&mut connection).await
            }
            Ok(()) => self.materialise().await,
            Err(err) => Err(Error::Migrate(err)),
        };
        // Back in the pool, the connection has the timeout again, or it is not put back.
        if sqlx::query(&self.statement_timeout)
            .execute(&mut *connection)
            .await
            .is_err()
        {
            connection.detach();
        }
        migrated
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
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(map_err)?;
        // A lost connection is reported at once, not after reconnecting (which waits as long
        // as the database is away): until it is back, nothing held may decide a request.
        listener.eager_reconnect(false);
        listener.listen(DIRECTORY_CHANNEL).await.map_err(map_err)?;
        Ok(Some(Box::new(Notices(listener))))
    }
}

/// The channel the directory revision trigger notifies (migration 0015).
const DIRECTORY_CHANNEL: &str = "authd_directory";

/// Directory revisions as PostgreSQL pushes them to a `LISTEN`ing connection.
struct Notices(sqlx::postgres::PgListener);

#[async_trait::async_trait]
impl crate::store::DirectoryNotices for Notices {
    async fn next(&mut self) -> Result<Option<i64>> {
        match self.0.try_recv().await.map_err(map_err)? {
            Some(notice) => Ok(notice.payload().parse().ok()),
            None => Ok(None),
        }
    }
}

/// A database that cannot be written can serve only if every migration was applied before.
async fn check_migrated(connection: &mut sqlx::PgConnection) -> Result<()> {
    let applied: Vec<i64> = sqlx::query_scalar(super::APPLIED_MIGRATIONS)
        .fetch_all(&mut *connection)
        .await
        .map_err(map_err)?;
    super::require_migrated(&MIGRATOR, &applied)
}

impl super::query::Backend for Db {
    fn error(err: sqlx::Error) -> Error {
        map_err(err)
    }

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

fn map_err(err: sqlx::Error) -> Error {
    if super::unreachable(&err) {
        return Error::Unavailable(err);
    }
    if let sqlx::Error::Database(db) = &err {
        // serialization_failure and deadlock_detected: the transaction may be retried.
        if matches!(db.code().as_deref(), Some("40001" | "40P01")) {
            return Error::Busy;
        }
        // disk_full, read_only_sql_transaction (a standby, or default_transaction_read_only).
        if matches!(db.code().as_deref(), Some("53100" | "25006")) {
            return Error::Unwritable(err);
        }
        if db.is_unique_violation() {
            return Error::Conflict {
                what: db.constraint().unwrap_or("a unique value").to_owned(),
            };
        }
    }
    Error::Database(err)
}

// The server's row lock serialises rotations across every replica on this database; a second
// rotation waits here and then sees the first one's result.
crate::store::portable::portable_stores!(
    PostgresStore,
    lock_keys = "SELECT id FROM authorization_servers WHERE id = $1 FOR UPDATE"
);
