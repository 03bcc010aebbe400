//! One database per test, on the backend `AUTHD_TEST_DATABASE` names.

use sqlx::Connection as _;

/// A database that exists for one test (or the servers of one test) and is removed after.
pub struct TestDatabase {
    url: String,
    postgres: Option<PostgresCleanup>,
    _dir: Option<tempfile::TempDir>,
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
        }
    }

    /// The URL to give authd.
    pub fn url(&self) -> &str {
        &self.url
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
