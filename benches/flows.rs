//! Token endpoint figures for every flow, side by side with the raw signing rate of the same
//! machine: `cargo bench --bench flows`.
//!
//! Starts the release `authd` binary (embedded SQLite, or PostgreSQL when
//! `AUTHD_BENCH_DATABASE` names a server to create a database on, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`) and loads it from this process with
//! `AUTHD_BENCH_CONCURRENCY` (default 64) connections for `AUTHD_BENCH_SECONDS` (default 10)
//! per case: client credentials (RS256 and ES256), the authorization-code flow with PKCE for a
//! signed-in user (authorize, then token: two JWTs), refresh (rotated; two JWTs) and
//! introspection. On PostgreSQL it also reports the database transactions per request, read
//! from `pg_stat_database`. `AUTHD_BENCH_METRICS=1` turns authd's Prometheus metrics on, to
//! measure what they cost. `AUTHD_BENCH_GROUPS=1` gives the benchmark users large groups, to
//! measure what they cost: each user is in 500 groups, the web app is assigned only to a group
//! of 10,000 users (the benchmark users among them), and the default server's access tokens
//! carry a groups claim that picks 100 of each user's groups. With `AUTHD_BENCH_COMPARE=1` it then loads node-oidc-provider (in
//! memory, `benches/node-oidc-provider`, installed with npm on first use) the same way for every
//! case, and prints authd's rate over its.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark command: failures abort it, figures go to stdout"
)]

#[path = "common/signing_rate.rs"]
mod signing_rate;

use std::future::Future;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use authd::model::SigningAlg;
use base64::Engine as _;

const PASSWORD: &str = "Bench-password-1";
const WEB: &str = "0oabenchweb000000001";
const WEB_SECRET: &str = "bench-web-secret-0123456789";
const SERVICE: &str = "0oabenchservice00001";
const SERVICE_SECRET: &str = "bench-secret-0123456789";
const REDIRECT: &str = "http://localhost:9999/callback";
const USERS: usize = 8;

struct Server {
    child: Child,
    base_url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// CPU time the server's threads have used so far, from Linux's scheduler statistics
    /// (`None` elsewhere): what a request costs the server alone, apart from the load
    /// generator sharing the machine.
    fn cpu_time(&self) -> Option<Duration> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id())).ok()?;
        let mut nanos = 0u64;
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
        }
        Some(Duration::from_nanos(nanos))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Groups each benchmark user is in with `AUTHD_BENCH_GROUPS=1`.
const BENCH_GROUPS: usize = 500;
/// Members of the group the web app is assigned to with `AUTHD_BENCH_GROUPS=1`.
const BIG_GROUP: usize = 10_000;

fn large_groups() -> bool {
    std::env::var("AUTHD_BENCH_GROUPS").is_ok_and(|value| value == "1")
}

fn seed() -> String {
    // With large groups: a claim that picks team-000 to team-099, and the web app open only to
    // the group of 10,000.
    let (groups_claim, web_assignment) = if large_groups() {
        (
            "[[authorization_servers.claims]]\nname = \"groups\"\nvalue_type = \"GROUPS\"\n\
             group_filter_type = \"STARTS_WITH\"\nvalue = \"team-0\"\nclaim_type = \"RESOURCE\"\n",
            "assigned_groups = [\"big\"]\n",
        )
    } else {
        ("", "")
    };
    let mut seed = format!(
        r#"
[[authorization_servers]]
id = "default"
audiences = ["api://default"]
scopes = ["api.read"]
{groups_claim}
[[authorization_servers]]
id = "es"
audiences = ["api://es"]
scopes = ["api.read"]
signing_alg = "ES256"

[[apps]]
client_id = "{SERVICE}"
client_secret = "{SERVICE_SECRET}"
label = "Benchmark service"
application_type = "service"
grant_types = ["client_credentials"]

[[apps]]
client_id = "{WEB}"
client_secret = "{WEB_SECRET}"
label = "Benchmark web app"
application_type = "web"
redirect_uris = ["{REDIRECT}"]
grant_types = ["authorization_code", "refresh_token"]
response_types = ["code"]
{web_assignment}"#
    );
    for user in 0..USERS {
        seed.push_str(&format!(
            "\n[[users]]\nlogin = \"bench{user}@example.com\"\npassword = \"{PASSWORD}\"\n\
             [users.profile]\nfirstName = \"Bench\"\nlastName = \"User\"\n\
             email = \"bench{user}@example.com\"\n"
        ));
    }
    if large_groups() {
        add_large_groups(&mut seed);
    }
    seed
}

/// 500 groups of the benchmark users, and a group of 10,000 that the web app is assigned to.
fn add_large_groups(seed: &mut String) {
    use std::fmt::Write as _;
    let bench_users: Vec<String> = (0..USERS)
        .map(|user| format!("\"bench{user}@example.com\""))
        .collect();
    let members = bench_users.join(", ");
    for group in 0..BENCH_GROUPS {
        let _ = write!(
            seed,
            "\n[[groups]]\nname = \"team-{group:03}\"\nmembers = [{members}]\n"
        );
    }
    // Imported hashes: 10,000 users without 10,000 password hashings at start.
    let mut big: Vec<String> = bench_users.clone();
    for user in 0..BIG_GROUP - USERS {
        let _ = write!(
            seed,
            "\n[[users]]\nlogin = \"member{user}@example.com\"\n\
             password_hash = \"$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\"\n\
             [users.profile]\nfirstName = \"Member\"\nlastName = \"User\"\n\
             email = \"member{user}@example.com\"\n"
        );
        big.push(format!("\"member{user}@example.com\""));
    }
    let _ = write!(
        seed,
        "\n[[groups]]\nname = \"big\"\nmembers = [{}]\n",
        big.join(", ")
    );
}

fn start_server(database_url: Option<&str>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let seed_file = dir.path().join("seed.toml");
    std::fs::write(&seed_file, seed()).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_authd"));
    command
        .current_dir(dir.path())
        .env_clear()
        .env("AUTHD_LISTEN", format!("127.0.0.1:{port}"))
        .env("AUTHD_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("AUTHD_SEED_FILE", &seed_file)
        .env("AUTHD_AUTHN_RATE_LIMIT_PER_IP", "1000000")
        .env("AUTHD_AUTHN_RATE_LIMIT_PER_USERNAME", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // With AUTHD_BENCH_METRICS=1, authd keeps its Prometheus series, at the cost they add.
    if std::env::var("AUTHD_BENCH_METRICS").is_ok_and(|value| value == "1") {
        command.env("AUTHD_METRICS_LISTEN", "127.0.0.1:0");
    }
    if let Some(url) = database_url {
        command
            .env("AUTHD_DATABASE_URL", url)
            .env("AUTHD_SECRET_KEY", "11".repeat(32));
    }
    Server {
        child: command.spawn().expect("authd starts"),
        base_url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

/// Requests per second and latencies of one case.
struct Figures {
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `step` in a loop on every worker until `period` is over; each worker starts from its
/// own state and hands it from one step to the next.
async fn load<S, F, Fut>(states: Vec<S>, period: Duration, step: F) -> Figures
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = S> + Send,
{
    let started = Instant::now();
    let deadline = started + period;
    let workers: Vec<_> = states
        .into_iter()
        .map(|mut state| {
            let step = step.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let began = Instant::now();
                    state = step(state).await;
                    latencies.push(began.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Figures {
        requests: latencies.len(),
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(0.5),
        p99: percentile(0.99),
    }
}

async fn form(
    http: &reqwest::Client,
    url: &str,
    client: (&str, &str),
    fields: &[(&str, &str)],
) -> serde_json::Value {
    let response = http
        .post(url)
        .basic_auth(client.0, Some(client.1))
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

/// A signed-in user's browser: its session cookie and its PKCE verifier.
#[derive(Clone)]
struct Browser {
    cookie: String,
    verifier: String,
    challenge: String,
}

fn pkce() -> (String, String) {
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(rand::random::<[u8; 32]>().as_slice());
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
    (verifier, challenge)
}

/// Where a provider authorizes and issues tokens.
#[derive(Clone)]
struct Endpoints {
    authorize: String,
    token: String,
}

impl Endpoints {
    fn authd(base_url: &str) -> Self {
        Endpoints {
            authorize: format!("{base_url}/oauth2/default/v1/authorize"),
            token: format!("{base_url}/oauth2/default/v1/token"),
        }
    }
}

/// The authorization request of a browser, with `extra` parameters.
fn authorization_url(
    endpoints: &Endpoints,
    browser: &Browser,
    scope: &str,
    extra: &[(&str, &str)],
) -> url::Url {
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", WEB),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "bench-state"),
        ("nonce", "bench-nonce"),
        ("code_challenge", browser.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    query.extend_from_slice(extra);
    url::Url::parse_with_params(&endpoints.authorize, &query).unwrap()
}

/// The code in a redirect back to the app.
fn code_in(location: &url::Url) -> String {
    location
        .query_pairs()
        .find(|(name, _)| name == "code")
        .unwrap_or_else(|| panic!("no code in {location}"))
        .1
        .into_owned()
}

/// Redeems a code: a JWT access token and an ID token.
async fn redeem(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    browser: &Browser,
    code: &str,
) -> serde_json::Value {
    let tokens = form(
        http,
        &endpoints.token,
        (WEB, WEB_SECRET),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &browser.verifier),
        ],
    )
    .await;
    assert_two_jwts(&tokens);
    tokens
}

/// An ID token and a JWT access token: two signatures, as authd's flows make.
fn assert_two_jwts(tokens: &serde_json::Value) {
    let access_token = tokens["access_token"].as_str().unwrap();
    assert!(tokens["id_token"].is_string(), "{tokens}");
    assert_eq!(access_token.matches('.').count(), 2, "{tokens}");
}

/// Authorize with the session, then redeem the code: one flow, two JWTs (access and ID token).
/// Also returns the session cookie the authorization response set, if any.
async fn code_flow(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    browser: &Browser,
    scope: &str,
    extra: &[(&str, &str)],
) -> (serde_json::Value, Option<String>) {
    let mut request = http.get(authorization_url(endpoints, browser, scope, extra));
    if !browser.cookie.is_empty() {
        request = request.header("cookie", &browser.cookie);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_redirection(), "authorize");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("sid="))
        .map(|value| value.split(';').next().unwrap().to_owned());
    let location = url::Url::parse(
        response
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap(),
    )
    .unwrap();
    let tokens = redeem(http, endpoints, browser, &code_in(&location)).await;
    (tokens, cookie)
}

/// Redeems a refresh token: its successor, with a JWT access token and an ID token.
async fn refresh(http: &reqwest::Client, token_url: &str, refresh_token: &str) -> String {
    let tokens = form(
        http,
        token_url,
        (WEB, WEB_SECRET),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await;
    assert_two_jwts(&tokens);
    let successor = tokens["refresh_token"].as_str().unwrap();
    assert_ne!(successor, refresh_token, "rotated");
    successor.to_owned()
}

/// Signs a user in through the Authentication API and the first authorization request.
async fn signed_in_browser(http: &reqwest::Client, base_url: &str, user: usize) -> Browser {
    let authn: serde_json::Value = http
        .post(format!("{base_url}/api/v1/authn"))
        .json(&serde_json::json!({
            "username": format!("bench{user}@example.com"), "password": PASSWORD
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session_token = authn["sessionToken"].as_str().expect("signed in");
    let (verifier, challenge) = pkce();
    let mut browser = Browser {
        cookie: String::new(),
        verifier,
        challenge,
    };
    let (_, cookie) = code_flow(
        http,
        &Endpoints::authd(base_url),
        &browser,
        "openid",
        &[("sessionToken", session_token)],
    )
    .await;
    browser.cookie = cookie.expect("a session cookie");
    browser
}

/// Transactions committed or rolled back in the database, once every replica backend has
/// reported them (PostgreSQL flushes its counters within ten seconds of going idle).
async fn transactions(admin: &sqlx::PgPool, database: &str) -> i64 {
    tokio::time::sleep(Duration::from_secs(11)).await;
    sqlx::query_scalar(
        "SELECT (xact_commit + xact_rollback)::BIGINT FROM pg_stat_database WHERE datname = $1",
    )
    .bind(database)
    .fetch_one(admin)
    .await
    .unwrap()
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(default)
    };
    let period = Duration::from_secs(env("AUTHD_BENCH_SECONDS", 10));
    let concurrency = env("AUTHD_BENCH_CONCURRENCY", 64) as usize;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    let raw_rs256 = signing_rate::signatures_per_second(SigningAlg::RS256, cores, period);
    let raw_es256 = signing_rate::signatures_per_second(SigningAlg::ES256, cores, period);
    println!(
        "raw signing rate, in process, {cores} threads: RS256 {raw_rs256:.0}/s, ES256 {raw_es256:.0}/s"
    );

    let postgres = match std::env::var("AUTHD_BENCH_DATABASE") {
        Ok(admin_url) => {
            let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
            let name = format!("authd_bench_{}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .unwrap();
            let mut url = url::Url::parse(&admin_url).unwrap();
            url.set_path(&name);
            Some((admin, name, url.to_string()))
        }
        Err(_) => None,
    };
    let server = start_server(postgres.as_ref().map(|(_, _, url)| url.as_str()));
    let base_url = server.base_url.clone();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let started = Instant::now();
    while !http
        .get(format!("{base_url}/health/ready"))
        .send()
        .await
        .is_ok_and(|response| response.status().is_success())
    {
        // Seeding 10,000 users takes a while.
        let patience = if large_groups() { 900 } else { 60 };
        assert!(
            started.elapsed() < Duration::from_secs(patience),
            "authd is not ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "authd on {}, {concurrency} connections, {}s per case, load generator in this process",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        period.as_secs()
    );

    let mut browsers = Vec::new();
    for user in 0..concurrency {
        browsers.push(signed_in_browser(&http, &base_url, user % USERS).await);
    }
    let endpoints = Endpoints::authd(&base_url);
    let access_token = code_flow(&http, &endpoints, &browsers[0], "openid", &[])
        .await
        .0["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    if large_groups() {
        // What the case measures: every token carries 100 of the user's 500 groups.
        let payload = access_token.split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            claims["groups"].as_array().map(Vec::len),
            Some(100),
            "{claims}"
        );
        println!("large groups: users in {BENCH_GROUPS} groups, the app assigned to a group of {BIG_GROUP}, 100 groups in each access token");
    }
    let mut refresh_tokens = Vec::new();
    for browser in &browsers {
        let (tokens, _) = code_flow(&http, &endpoints, browser, "openid offline_access", &[]).await;
        refresh_tokens.push(tokens["refresh_token"].as_str().unwrap().to_owned());
    }

    println!(
        "{:<34} {:>10} {:>8} {:>8} {:>12} {:>12} {:>14}",
        "case", "per second", "p50 ms", "p99 ms", "% of raw", "db xacts/req", "authd CPU ms"
    );
    let mut authd_rates = std::collections::HashMap::new();
    for case in [
        "client credentials, RS256",
        "client credentials, ES256",
        "code + PKCE flow, RS256",
        "refresh (rotated), RS256",
        "introspection",
    ] {
        let cpu_before = server.cpu_time();
        let before = match &postgres {
            Some((admin, name, _)) => Some(transactions(admin, name).await),
            None => None,
        };
        let (figures, signatures_ceiling) = match case {
            "client credentials, RS256" | "client credentials, ES256" => {
                let (server, raw) = if case.ends_with("RS256") {
                    ("default", raw_rs256)
                } else {
                    ("es", raw_es256)
                };
                let url = format!("{base_url}/oauth2/{server}/v1/token");
                let http = http.clone();
                let figures = load(vec![(); concurrency], period, move |()| {
                    let (http, url) = (http.clone(), url.clone());
                    async move {
                        form(
                            &http,
                            &url,
                            (SERVICE, SERVICE_SECRET),
                            &[("grant_type", "client_credentials"), ("scope", "api.read")],
                        )
                        .await;
                    }
                })
                .await;
                (figures, Some(raw))
            }
            "code + PKCE flow, RS256" => {
                let (http, endpoints) = (http.clone(), endpoints.clone());
                let figures = load(browsers.clone(), period, move |browser| {
                    let (http, endpoints) = (http.clone(), endpoints.clone());
                    async move {
                        code_flow(&http, &endpoints, &browser, "openid", &[]).await;
                        browser
                    }
                })
                .await;
                (figures, Some(raw_rs256 / 2.0))
            }
            "refresh (rotated), RS256" => {
                let (http, url) = (http.clone(), endpoints.token.clone());
                let figures = load(refresh_tokens.clone(), period, move |refresh_token| {
                    let (http, url) = (http.clone(), url.clone());
                    async move { refresh(&http, &url, &refresh_token).await }
                })
                .await;
                (figures, Some(raw_rs256 / 2.0))
            }
            _ => {
                let url = format!("{base_url}/oauth2/default/v1/introspect");
                let (http, token) = (http.clone(), access_token.clone());
                let figures = load(vec![(); concurrency], period, move |()| {
                    let (http, url, token) = (http.clone(), url.clone(), token.clone());
                    async move {
                        let answer = form(
                            &http,
                            &url,
                            (WEB, WEB_SECRET),
                            &[("token", &token), ("token_type_hint", "access_token")],
                        )
                        .await;
                        assert_eq!(answer["active"], true);
                    }
                })
                .await;
                (figures, None)
            }
        };
        let share = signatures_ceiling.map_or("-".to_owned(), |ceiling| {
            format!("{:.0}%", 100.0 * figures.per_second / ceiling)
        });
        let round_trips = match (&postgres, before) {
            (Some((admin, name, _)), Some(before)) => {
                let after = transactions(admin, name).await;
                format!("{:.2}", (after - before) as f64 / figures.requests as f64)
            }
            _ => "-".to_owned(),
        };
        let cpu_per_request = match (cpu_before, server.cpu_time()) {
            (Some(before), Some(after)) => format!(
                "{:.3}",
                (after - before).as_secs_f64() * 1000.0 / figures.requests as f64
            ),
            _ => "-".to_owned(),
        };
        authd_rates.insert(case, figures.per_second);
        println!(
            "{case:<34} {:>10.0} {:>8} {:>8} {share:>12} {round_trips:>12} {cpu_per_request:>14}",
            figures.per_second,
            ms(figures.p50),
            ms(figures.p99),
        );
    }
    println!(
        "% of raw: requests per second over the raw signing rate for the signatures each needs \
         (one token, or two for the flows that also issue an ID token); authd CPU ms: the \
         server's CPU time per request (a code flow is two: authorize with a session, and token)"
    );
    drop(server);
    if std::env::var("AUTHD_BENCH_COMPARE").is_ok_and(|value| value == "1") {
        compare_with_node_oidc_provider(&http, concurrency, period, &authd_rates).await;
    }
    if let Some((admin, name, _)) = postgres {
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&admin)
            .await
            .unwrap();
    }
}

/// node-oidc-provider, running while this lives.
struct NodeProvider(Child);

impl Drop for NodeProvider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn compare_with_node_oidc_provider(
    http: &reqwest::Client,
    concurrency: usize,
    period: Duration,
    authd_rates: &std::collections::HashMap<&str, f64>,
) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/node-oidc-provider");
    if !dir.join("node_modules").exists() {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(installed.success(), "npm ci in {}", dir.display());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _node = NodeProvider(
        Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("CLIENT_ID", SERVICE)
            .env("CLIENT_SECRET", SERVICE_SECRET)
            .env("WEB_CLIENT_ID", WEB)
            .env("WEB_CLIENT_SECRET", WEB_SECRET)
            .env("WEB_REDIRECT_URI", REDIRECT)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts"),
    );
    let base_url = format!("http://127.0.0.1:{port}");
    let endpoints = Endpoints {
        authorize: format!("{base_url}/auth"),
        token: format!("{base_url}/token"),
    };
    let started = Instant::now();
    while http
        .get(format!("{base_url}/.well-known/openid-configuration"))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "node-oidc-provider is not ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let opaque = form(
        http,
        &endpoints.token,
        (SERVICE, SERVICE_SECRET),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "api.read"),
            ("resource", "api://opaque"),
        ],
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut browsers = Vec::new();
    let mut refresh_tokens = Vec::new();
    for user in 0..concurrency {
        let (browser, refresh_token) = node_signed_in_browser(http, &endpoints, user % USERS).await;
        browsers.push(browser);
        refresh_tokens.push(refresh_token);
    }
    println!(
        "node-oidc-provider {} (in memory, one process), the same load:",
        node_oidc_provider_version(&dir)
    );
    println!(
        "{:<34} {:>10} {:>8} {:>8} {:>12}",
        "case", "per second", "p50 ms", "p99 ms", "authd ÷ it"
    );
    for case in [
        "client credentials, RS256",
        "client credentials, ES256",
        "code + PKCE flow, RS256",
        "refresh (rotated), RS256",
        "introspection",
    ] {
        let figures = match case {
            "client credentials, RS256" | "client credentials, ES256" => {
                let resource = if case.ends_with("RS256") {
                    "api://default"
                } else {
                    "api://es"
                };
                let (http, url) = (http.clone(), endpoints.token.clone());
                load(vec![(); concurrency], period, move |()| {
                    let (http, url) = (http.clone(), url.clone());
                    async move {
                        let tokens = form(
                            &http,
                            &url,
                            (SERVICE, SERVICE_SECRET),
                            &[
                                ("grant_type", "client_credentials"),
                                ("scope", "api.read"),
                                ("resource", resource),
                            ],
                        )
                        .await;
                        assert!(tokens["access_token"].as_str().unwrap().contains('.'));
                    }
                })
                .await
            }
            "code + PKCE flow, RS256" => {
                let (http, endpoints) = (http.clone(), endpoints.clone());
                load(browsers.clone(), period, move |browser| {
                    let (http, endpoints) = (http.clone(), endpoints.clone());
                    async move {
                        // Its access tokens are JWTs only for a resource server's scope.
                        code_flow(&http, &endpoints, &browser, "openid api.read", &[]).await;
                        browser
                    }
                })
                .await
            }
            "refresh (rotated), RS256" => {
                let (http, url) = (http.clone(), endpoints.token.clone());
                load(refresh_tokens.clone(), period, move |refresh_token| {
                    let (http, url) = (http.clone(), url.clone());
                    async move { refresh(&http, &url, &refresh_token).await }
                })
                .await
            }
            _ => {
                let url = format!("{base_url}/token/introspection");
                let (http, opaque) = (http.clone(), opaque.clone());
                load(vec![(); concurrency], period, move |()| {
                    let (http, url, opaque) = (http.clone(), url.clone(), opaque.clone());
                    async move {
                        let answer = form(
                            &http,
                            &url,
                            (SERVICE, SERVICE_SECRET),
                            &[("token", &opaque)],
                        )
                        .await;
                        assert_eq!(answer["active"], true);
                    }
                })
                .await
            }
        };
        println!(
            "{case:<34} {:>10.0} {:>8} {:>8} {:>11.1}×",
            figures.per_second,
            ms(figures.p50),
            ms(figures.p99),
            authd_rates[case] / figures.per_second
        );
    }
}

/// Signs a user in to node-oidc-provider through its interactions (sign-in, then consent to
/// `offline_access`), following its redirects as a browser does: the browser with its session
/// cookies, and a refresh token.
async fn node_signed_in_browser(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    user: usize,
) -> (Browser, String) {
    let (verifier, challenge) = pkce();
    let mut browser = Browser {
        cookie: String::new(),
        verifier,
        challenge,
    };
    let login = format!("bench{user}@example.com");
    let mut url = authorization_url(
        endpoints,
        &browser,
        "openid offline_access api.read",
        &[("prompt", "consent"), ("login_hint", &login)],
    );
    let mut cookies = std::collections::BTreeMap::<String, String>::new();
    let code = loop {
        let header: Vec<String> = cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let response = http
            .get(url.clone())
            .header("cookie", header.join("; "))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{url}: {response:?}");
        for set_cookie in response.headers().get_all("set-cookie") {
            let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let location = response.headers()["location"].to_str().unwrap();
        let next = url.join(location).unwrap();
        if next.as_str().starts_with(REDIRECT) {
            break code_in(&next);
        }
        url = next;
    };
    let tokens = redeem(http, endpoints, &browser, &code).await;
    browser.cookie = cookies
        .iter()
        .filter(|(name, _)| name.starts_with("_session"))
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    assert!(!browser.cookie.is_empty(), "a session cookie");
    let refresh_token = tokens["refresh_token"].as_str().expect("a refresh token");
    (browser, refresh_token.to_owned())
}

fn node_oidc_provider_version(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("node_modules/oidc-provider/package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|package| package["version"].as_str().map(str::to_owned))
        .unwrap_or_default()
}
