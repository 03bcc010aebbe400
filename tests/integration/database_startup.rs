//! authd started before its PostgreSQL, as `docker compose up` or a Kubernetes pod may start
//! them: it keeps trying for `AUTHD_DATABASE_STARTUP_WAIT`, and fails at once on what waiting
//! cannot mend. The database is a private server of the test's own, really not running yet.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::private_postgres::PrivatePostgres;

const SEED: &str = "[[authorization_servers]]\nid = \"default\"\nscopes = [\"api.read\"]\n\n\
                    [[apps]]\nclient_id = \"0oastartupservice001\"\n\
                    client_secret = \"startup-service-secret-0123\"\nlabel = \"Service\"\n\
                    application_type = \"service\"\ngrant_types = [\"client_credentials\"]\n";

struct Started {
    process: tokio::process::Child,
    base_url: String,
    log: std::path::PathBuf,
}

impl Started {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn start_authd(dir: &Path, database_url: &str, startup_wait: &str) -> Started {
    let seed = dir.join("seed.toml");
    std::fs::write(&seed, SEED).unwrap();
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let log = dir.join(format!("authd-{}.log", address.port()));
    let process = tokio::process::Command::new(env!("CARGO_BIN_EXE_authd"))
        .current_dir(dir)
        .env_clear()
        .env("AUTHD_LISTEN", address.to_string())
        .env("AUTHD_BASE_URL", format!("http://{address}"))
        .env("AUTHD_DATABASE_URL", database_url)
        .env("AUTHD_DATABASE_STARTUP_WAIT", startup_wait)
        .env("AUTHD_SECRET_KEY", "33".repeat(32))
        .env("AUTHD_SEED_FILE", &seed)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    Started {
        process,
        base_url: format!("http://{address}"),
        log,
    }
}

/// Waits for the process to end: its exit status and how long it ran, or `None` if it was
/// still running after `limit`.
async fn exit_within(started: &mut Started, limit: Duration) -> Option<std::process::ExitStatus> {
    tokio::time::timeout(limit, started.process.wait())
        .await
        .ok()
        .map(Result::unwrap)
}

#[tokio::test]
async fn authd_waits_at_start_for_a_postgresql_that_is_not_running_yet() {
    let dir = tempfile::tempdir().unwrap();
    let postgres = PrivatePostgres::init(None);
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", postgres.port);
    let mut authd = start_authd(dir.path(), &url, "60s");

    // Nothing listens on the database's port: authd neither serves nor gives up.
    assert!(
        exit_within(&mut authd, Duration::from_secs(2))
            .await
            .is_none(),
        "authd exited while waiting for the database: {}",
        authd.log()
    );
    assert!(
        !crate::common::answers_ok_within(
            &format!("{}/health/ready", authd.base_url),
            Duration::from_millis(200)
        )
        .await
    );
    assert!(
        authd
            .log()
            .contains("the database does not accept connections yet"),
        "{}",
        authd.log()
    );

    let database_up = Instant::now();
    postgres.start();
    let ready = format!("{}/health/ready", authd.base_url);
    while !crate::common::answers_ok_within(&ready, Duration::from_millis(100)).await {
        assert!(
            database_up.elapsed() < Duration::from_secs(30),
            "not ready 30 s after the database started: {}",
            authd.log()
        );
        if let Some(status) = authd.process.try_wait().unwrap() {
            panic!("authd exited ({status}): {}", authd.log());
        }
    }
    crate::common::client_credentials_token(
        &authd.base_url,
        ("0oastartupservice001", "startup-service-secret-0123"),
        "api.read",
    )
    .await;
}

#[tokio::test]
async fn authd_gives_up_after_the_startup_wait_and_at_once_when_waiting_cannot_help() {
    let dir = tempfile::tempdir().unwrap();
    let postgres = PrivatePostgres::init(None);

    // Still nothing listening when the wait is over.
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", postgres.port);
    let started = Instant::now();
    let mut authd = start_authd(dir.path(), &url, "1s");
    let status = exit_within(&mut authd, Duration::from_secs(20))
        .await
        .expect("authd gives up once the wait is over");
    assert!(!status.success());
    assert!(started.elapsed() >= Duration::from_secs(1));
    let log = authd.log();
    assert!(
        log.contains("AUTHD_DATABASE_URL: cannot connect to"),
        "{log}"
    );
    assert!(log.to_lowercase().contains("connection refused"), "{log}");

    // A database that does not exist is not worth waiting for, however long the wait.
    postgres.start();
    let missing = format!(
        "postgres://postgres@127.0.0.1:{}/no_such_database",
        postgres.port
    );
    let started = Instant::now();
    let mut authd = start_authd(dir.path(), &missing, "60s");
    let status = exit_within(&mut authd, Duration::from_secs(20))
        .await
        .expect("authd gives up at once on an unknown database");
    assert!(!status.success());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let log = authd.log();
    assert!(log.contains("no_such_database"), "{log}");
    assert!(!log.contains("does not accept connections yet"), "{log}");
}
