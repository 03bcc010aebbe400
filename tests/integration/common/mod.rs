//! The test harness: a real authd on an ephemeral port, on the backend the environment names.
//!
//! `AUTHD_TEST_DATABASE` is `sqlite` (the default) or a PostgreSQL URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`; each test gets a database of its own, dropped
//! when the test ends. An unreachable PostgreSQL fails the test: it never skips.

pub mod database;
pub mod keys;
pub mod private_postgres;

use std::sync::Arc;

use authd::app::{self, App, AppState};
use authd::clock::TestClock;
use authd::config::{Config, SettingsArgs};
use authd::model::Timestamp;
use tokio::sync::oneshot;

pub use database::TestDatabase;

/// The key-encryption secret every test server uses.
pub const TEST_SECRET: &str = "6f1c2d3e4f5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// The bootstrap admin API token every test server accepts (`SSWS …`).
pub const TEST_ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";

/// Where test clocks start: now, so that real client libraries, which check token times
/// against the wall clock, agree with the server. Tests move it forward, never back.
pub fn test_start() -> Timestamp {
    use authd::clock::Clock as _;
    authd::clock::SystemClock.now()
}

/// A client-credentials token for `scope` from the default server of the authd at
/// `base_url`: the access token, after checking the answer is a 200.
pub async fn client_credentials_token(
    base_url: &str,
    (client_id, secret): (&str, &str),
    scope: &str,
) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base_url}/oauth2/default/v1/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {body}"))
        .to_owned()
}

/// Waits until `url` answers 200, as an orchestrator waits for a started process; `false` if
/// it does not within `patience`.
pub async fn answers_ok_within(url: &str, patience: std::time::Duration) -> bool {
    let http = reqwest::Client::new();
    let polled = async {
        loop {
            if let Ok(response) = http.get(url).send().await {
                if response.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(patience, polled).await.is_ok()
}

/// A running authd and what a test needs to drive and inspect it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`, also the org issuer.
    pub base_url: String,
    /// An HTTP client that does not follow redirects.
    pub http: reqwest::Client,
    /// The running app, for assertions through its modules' APIs.
    pub state: AppState,
    /// The clock the server reads; advance it instead of sleeping.
    pub clock: Arc<TestClock>,
    /// The database, dropped with the last app using it.
    pub database: Arc<TestDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// A change to the test configuration.
pub type Tweak = Option<Box<dyn FnOnce(&mut SettingsArgs)>>;

/// How to start a test server.
#[derive(Default)]
pub struct Options {
    /// A seed file's contents, applied at start.
    pub seed: Option<String>,
    /// Share another server's database (two replicas).
    pub database: Option<Arc<TestDatabase>>,
    /// Share another server's clock.
    pub clock: Option<Arc<TestClock>>,
    /// Changes to the test configuration (flags and environment, as strings).
    pub settings: Tweak,
}

impl TestApp {
    /// A server on a fresh database.
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    /// A server started with the given options.
    pub async fn spawn_with(options: Options) -> Self {
        let database = match options.database {
            Some(database) => database,
            None => Arc::new(TestDatabase::create().await),
        };
        let clock = options
            .clock
            .unwrap_or_else(|| Arc::new(TestClock::new(test_start())));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let files = tempfile::tempdir().unwrap();
        let empty_config = files.path().join("authd.toml");
        std::fs::write(&empty_config, "").unwrap();
        let seed_file = options.seed.map(|text| {
            let path = files.path().join("seed.toml");
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        });
        let mut settings = SettingsArgs {
            config: Some(empty_config),
            base_url: Some(base_url.clone()),
            database_url: Some(database.url().to_owned()),
            seed_file,
            // Cheap hashing keeps tests fast; production cost is the default.
            argon2_memory_kib: Some("64".into()),
            argon2_iterations: Some("1".into()),
            // Tests drive maintenance themselves after moving the clock.
            key_check_interval: Some("1h".into()),
            ..SettingsArgs::default()
        };
        if let Some(change) = options.settings {
            change(&mut settings);
        }
        let config = Config::resolve(
            settings,
            Some(TEST_SECRET.to_owned()),
            Some(TEST_ADMIN_TOKEN.to_owned()),
        )
        .unwrap();
        init_test_logging();
        let app = App::open_with_key_source(config, clock.clone(), database.key_source())
            .await
            .unwrap();
        app.prepare().await.unwrap();
        let state = app.into_state();
        let (shutdown, stopped) = oneshot::channel();
        let server = tokio::spawn(app::serve(state.clone(), listener, async {
            let _ = stopped.await;
        }));
        TestApp {
            base_url,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            state,
            clock,
            database,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// A second server on this one's database and clock, as another replica or a restart.
    pub async fn spawn_beside(&self) -> Self {
        Self::spawn_with(Options {
            database: Some(self.database.clone()),
            clock: Some(self.clock.clone()),
            ..Default::default()
        })
        .await
    }

    /// A GET on a path of this server.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .unwrap()
    }

    /// A POST of a JSON body to a path of this server.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base_url))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A management-API call with the bootstrap `SSWS` token: status, JSON body, headers.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .header("authorization", format!("SSWS {TEST_ADMIN_TOKEN}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body, headers)
    }

    /// A management API call with the test's admin token: status and JSON body.
    pub async fn admin_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (status, body, _) = self.admin(method, path, body).await;
        (status, body)
    }

    /// The JSON body of a GET that must succeed.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

fn init_test_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        authd::telemetry::init(authd::config::LogFormat::Human);
    }
}
