//! One database per test, on the backend `AUTHD_TEST_DATABASE` names.

use std::sync::Arc;

use sqlx::Connection as _;

use super::keys::KeyPool;

/// A database that exists for one test (or the servers of one test) and is removed after.
pub struct TestDatabase {
    url: String,
    postgres: Option<PostgresCleanup>,
    _dir: Option<tempfile::TempDir>,
    /// Shared by every server on the database, so that none is given a key another holds.
    keys: Arc<KeyPool>,
}

struct PostgresCleanup {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// Creates an empty database.
    pub async fn create() -> Self {
        let backend = std::env::var("AUTHD_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into());
        if backend == "sqlite" {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("authd.db").display());
            return Self {
                url,
                postgres: None,
                _dir: Some(dir),
                keys: Arc::default(),
            };
        }
        assert!(
            backend.starts_with("postgres://") || backend.starts_with("postgresql://"),
            "AUTHD_TEST_DATABASE must be `sqlite` or a postgres:// URL, not {backend:?}"
        );
        let name = format!("authd_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&backend)
            .await
            .unwrap_or_else(|err| {
                panic!("PostgreSQL at {backend} is unreachable ({err}); start it, do not skip")
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let mut url = url::Url::parse(&backend).unwrap();
        url.set_path(&name);
        Self {
            url: url.to_string(),
            postgres: Some(PostgresCleanup {
                admin_url: backend,
                name,
            }),
            _dir: None,
            keys: Arc::default(),
        }
    }

    /// Where the servers on this database take their signing keys from.
    pub fn key_source(&self) -> Arc<KeyPool> {
        self.keys.clone()
    }

    /// The URL to give authd.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs SQL statements on the database, from outside the server (fault injection).
    pub async fn execute(&self, statements: &str) {
        if self.postgres.is_some() {
            let mut connection = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::raw_sql(statements)
                .execute(&mut connection)
                .await
                .unwrap();
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::raw_sql(statements)
                .execute(&mut connection)
                .await
                .unwrap();
        }
    }

    /// The first column of a query's rows, as text, read from outside the server.
    pub async fn texts(&self, query: &str) -> Vec<String> {
        if self.postgres.is_some() {
            let mut connection = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::query_scalar(query)
                .fetch_all(&mut connection)
                .await
                .unwrap()
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query_scalar(query)
                .fetch_all(&mut connection)
                .await
                .unwrap()
        }
    }

    /// Cuts the servers off their PostgreSQL database, as an outage would: new connections
    /// are refused and open ones end. `false` on SQLite, which has no server to lose.
    pub async fn cut_off(&self) -> bool {
        self.allow_connections(false).await
    }

    /// Holds an exclusive lock on `table` until the returned connection is dropped, as a hung
    /// database or a runaway migration would: statements on it wait. `None` on SQLite.
    pub async fn lock_table(&self, table: &str) -> Option<sqlx::PgConnection> {
        self.postgres.as_ref()?;
        let mut connection = sqlx::PgConnection::connect(&self.url).await.unwrap();
        sqlx::raw_sql(&format!(
            "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;"
        ))
        .execute(&mut connection)
        .await
        .unwrap();
        Some(connection)
    }

    /// Ends [`TestDatabase::cut_off`].
    pub async fn restore(&self) -> bool {
        self.allow_connections(true).await
    }

    async fn allow_connections(&self, allowed: bool) -> bool {
        let Some(postgres) = &self.postgres else {
            return false;
        };
        let mut admin = sqlx::PgConnection::connect(&postgres.admin_url)
            .await
            .unwrap();
        let name = &postgres.name;
        sqlx::raw_sql(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS {allowed}; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid() AND {};",
            !allowed
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        true
    }

    /// Makes every insert into `table` fail, as a full disk or a lost connection would, until
    /// [`TestDatabase::allow_inserts_into`].
    pub async fn fail_inserts_into(&self, table: &str) {
        let statements = if self.postgres.is_some() {
            format!(
                "CREATE OR REPLACE FUNCTION authd_test_fail() RETURNS trigger LANGUAGE plpgsql \
                 AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
                 CREATE TRIGGER fail_insert_{table} BEFORE INSERT ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION authd_test_fail();"
            )
        } else {
            format!(
                "CREATE TRIGGER fail_insert_{table} BEFORE INSERT ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
            )
        };
        self.execute(&statements).await;
    }

    /// Undoes [`TestDatabase::fail_inserts_into`].
    pub async fn allow_inserts_into(&self, table: &str) {
        let statement = if self.postgres.is_some() {
            format!("DROP TRIGGER fail_insert_{table} ON {table}")
        } else {
            format!("DROP TRIGGER fail_insert_{table}")
        };
        self.execute(&statement).await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(cleanup) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&cleanup.admin_url).await {
                    let _ = sqlx::query(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        cleanup.name
                    ))
                    .execute(&mut admin)
                    .await;
                }
            });
        })
        .join();
    }
}
