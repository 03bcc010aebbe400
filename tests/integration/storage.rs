//! An SQLite database that cannot be written — a read-only file system, a full disk — with
//! the real `authd` binary in a mount namespace of its own (`unshare`), where a small tmpfs
//! holds the database and is remounted read-only or filled before the server starts.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{TEST_ADMIN_TOKEN, TEST_SECRET};

const SERVICE: &str = "0oastorageservice001";
const SERVICE_SECRET: &str = "storage-service-secret-1";
const PASSWORD: &str = "Storage-passw0rd-1";

/// Prepares the database on a fresh tmpfs, makes it unwritable as `how` says, then runs the
/// server in its place.
const SCRIPT: &str = r#"
set -e
mount -t tmpfs -o size=16m tmpfs "$DATA"
"$AUTHD" seed "$SEED" >/dev/null
case "$HOW" in
    read-only) mount -o remount,ro "$DATA" ;;
    full) dd if=/dev/zero of="$DATA/filler" bs=64k >/dev/null 2>&1 || true ;;
esac
exec "$AUTHD"
"#;

struct Unwritable {
    base_url: String,
    http: reqwest::Client,
    _server: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl Unwritable {
    async fn start(how: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let seed = dir.path().join("seed.toml");
        std::fs::write(
            &seed,
            format!(
                "[[authorization_servers]]\nid = \"default\"\naudiences = [\"api://default\"]\n\
                 scopes = [\"api.read\"]\n\n\
                 [[apps]]\nclient_id = \"{SERVICE}\"\nclient_secret = \"{SERVICE_SECRET}\"\n\
                 label = \"Service\"\napplication_type = \"service\"\n\
                 grant_types = [\"client_credentials\", \"password\"]\n\n\
                 [[users]]\nlogin = \"alice@example.com\"\npassword = \"{PASSWORD}\"\n\
                 [users.profile]\nfirstName = \"Alice\"\nlastName = \"Example\"\n\
                 email = \"alice@example.com\"\n"
            ),
        )
        .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let base_url = format!("http://{address}");
        let server = tokio::process::Command::new("unshare")
            .args(["-Urm", "sh", "-c", SCRIPT])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOW", how)
            .env("DATA", &data)
            .env("SEED", &seed)
            .env("AUTHD", env!("CARGO_BIN_EXE_authd"))
            .env(
                "AUTHD_DATABASE_URL",
                format!("sqlite://{}", data.join("authd.db").display()),
            )
            .env("AUTHD_SECRET_KEY", TEST_SECRET)
            .env("AUTHD_ADMIN_TOKEN", TEST_ADMIN_TOKEN)
            .env("AUTHD_SEED_FILE", &seed)
            .env("AUTHD_LISTEN", address.to_string())
            .env("AUTHD_BASE_URL", &base_url)
            // Cheap hashing keeps the test fast; production cost is the default.
            .env("AUTHD_ARGON2_MEMORY_KIB", "64")
            .env("AUTHD_ARGON2_ITERATIONS", "1")
            .current_dir(dir.path())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        assert!(
            crate::common::answers_ok_within(
                &format!("{base_url}/health/live"),
                Duration::from_secs(60)
            )
            .await,
            "{how}: authd did not start on an unwritable database"
        );
        let http = reqwest::Client::new();
        Self {
            base_url,
            http,
            _server: server,
            _dir: dir,
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .header("Authorization", format!("SSWS {TEST_ADMIN_TOKEN}"))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("Authorization", format!("SSWS {TEST_ADMIN_TOKEN}"))
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/oauth2/default/v1/token", self.base_url))
            .basic_auth(SERVICE, Some(SERVICE_SECRET))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

async fn serves_reads_and_refuses_writes(how: &str) {
    let server = Unwritable::start(how).await;

    let (status, ready) = server.get("/health/ready").await;
    assert_eq!(status, 503, "{how}: {ready}");
    assert_eq!(ready["database"], "read-only or full", "{how}");

    // What needs only reads keeps working.
    let (status, discovery) = server
        .get("/oauth2/default/.well-known/openid-configuration")
        .await;
    assert_eq!(status, 200, "{how}: {discovery}");
    let (status, keys) = server.get("/oauth2/default/v1/keys").await;
    assert_eq!(status, 200, "{how}: {keys}");
    assert!(!keys["keys"].as_array().unwrap().is_empty(), "{how}");
    let (status, user) = server.get("/api/v1/users/alice@example.com").await;
    assert_eq!(status, 200, "{how}: {user}");
    assert_eq!(user["profile"]["login"], "alice@example.com");

    // Changes fail with a clear 503 in each API's shape, never a 500.
    let (status, refused) = server
        .post_json(
            "/api/v1/authn",
            json!({ "username": "alice@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 503, "{how}: {refused}");
    assert_eq!(refused["errorCode"], "E0000009", "{how}");
    assert!(
        refused["errorSummary"]
            .as_str()
            .unwrap()
            .contains("read-only or full"),
        "{how}: {refused}"
    );
    let (status, refused) = server
        .post_json(
            "/api/v1/users?activate=false",
            json!({ "profile": { "login": "bob@example.com", "email": "bob@example.com",
                                 "firstName": "Bob", "lastName": "Example" } }),
        )
        .await;
    assert_eq!(status, 503, "{how}: {refused}");
    let (status, refused) = server
        .token(&[
            ("grant_type", "password"),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("scope", "api.read"),
        ])
        .await;
    assert_eq!(status, 503, "{how}: {refused}");
    assert_eq!(refused["error"], "temporarily_unavailable", "{how}");
}

#[tokio::test]
async fn on_a_read_only_file_system_the_server_starts_serves_reads_and_answers_writes_503() {
    serves_reads_and_refuses_writes("read-only").await;
}

#[tokio::test]
async fn on_a_full_disk_the_server_starts_serves_reads_and_answers_writes_503() {
    serves_reads_and_refuses_writes("full").await;
}

#[tokio::test]
async fn a_replica_on_a_database_that_refuses_writes_serves_reads_and_answers_writes_503() {
    use crate::common::{Options, TestApp};
    let writable = crate::oauth::spawn().await;
    // PostgreSQL as a standby refuses writes; SQLite opened with `mode=ro`.
    let postgres = writable.database.url().starts_with("postgres");
    let url = if postgres {
        writable
            .database
            .execute(
                "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET \
                 default_transaction_read_only = on', current_database()); END $$;",
            )
            .await;
        writable.database.url().to_owned()
    } else {
        format!("{}?mode=ro", writable.database.url())
    };
    let replica = TestApp::spawn_with(Options {
        database: Some(writable.database.clone()),
        clock: Some(writable.clock.clone()),
        settings: Some(Box::new(move |settings| {
            settings.database_url = Some(url);
        })),
        ..Default::default()
    })
    .await;

    let response = replica
        .http
        .get(format!("{}/health/ready", replica.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let ready: Value = response.json().await.unwrap();
    assert_eq!(ready["database"], "read-only or full", "{ready}");
    let response = replica
        .http
        .get(format!(
            "{}/oauth2/default/.well-known/openid-configuration",
            replica.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, user) = replica
        .admin_call(
            reqwest::Method::GET,
            "/api/v1/users/alice@example.com",
            None,
        )
        .await;
    assert_eq!(status, 200, "{user}");
    let (status, refused) = replica
        .admin_call(
            reqwest::Method::POST,
            "/api/v1/users?activate=false",
            Some(
                json!({ "profile": { "login": "bob@example.com", "email": "bob@example.com",
                                      "firstName": "Bob", "lastName": "Example" } }),
            ),
        )
        .await;
    assert_eq!(status, 503, "{refused}");
    assert_eq!(refused["errorCode"], "E0000009");

    // It follows what is changed through a writable server: a deactivated app is refused
    // within a second.
    let service_token = || {
        crate::oauth::post_form(
            &replica,
            "/oauth2/default/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "api.read"),
                ("client_id", crate::oauth::SERVICE),
                ("client_secret", crate::oauth::SERVICE_SECRET),
            ],
        )
    };
    assert_eq!(service_token().await.0, 200);
    let (status, body) = writable
        .admin_call(
            reqwest::Method::POST,
            &format!(
                "/api/v1/apps/{}/lifecycle/deactivate",
                crate::oauth::SERVICE
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let deactivated = std::time::Instant::now();
    while service_token().await.0 != 401 {
        assert!(
            deactivated.elapsed() < std::time::Duration::from_secs(1),
            "the read-only replica still issues tokens to the deactivated app"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
