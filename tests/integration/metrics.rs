//! `GET /metrics` on `AUTHD_METRICS_LISTEN`, scraped from the `authd` process as Prometheus
//! would and parsed: what the server did shows in the series, and the public port has none.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

const SEED: &str = r#"
[[authorization_servers]]
id = "default"
scopes = ["api.read"]

[[apps]]
client_id = "0oametricsservice001"
client_secret = "metrics-service-secret-0"
label = "Service"
application_type = "service"
grant_types = ["client_credentials"]

[[users]]
login = "alice@example.com"
password = "Metrics-passw0rd-1"
[users.profile]
firstName = "Alice"
lastName = "Example"
email = "alice@example.com"
"#;

/// Samples by series (`name{labels}` as written), checking that every line is a comment or a
/// sample with a number.
fn parse(exposition: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in exposition.lines() {
        if line.is_empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a sample: {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number in {line:?}"));
        let name_end = series.find('{').unwrap_or(series.len());
        assert!(
            series[..name_end]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "not a metric name: {line:?}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "unterminated labels: {line:?}");
        }
        samples.insert(series.to_owned(), value);
    }
    samples
}

fn free_address() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test]
async fn metrics_are_served_apart_and_count_requests_tokens_sign_ins_lockouts_limits_and_queries() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.toml");
    std::fs::write(&seed, SEED).unwrap();
    let (address, metrics_address) = (free_address(), free_address());
    let base_url = format!("http://{address}");
    let database = crate::common::TestDatabase::create().await;
    let _server = tokio::process::Command::new(env!("CARGO_BIN_EXE_authd"))
        .current_dir(dir.path())
        .env_clear()
        .env("AUTHD_LISTEN", address.to_string())
        .env("AUTHD_METRICS_LISTEN", metrics_address.to_string())
        .env("AUTHD_DATABASE_URL", database.url())
        .env("AUTHD_SECRET_KEY", "33".repeat(32))
        .env("AUTHD_SEED_FILE", &seed)
        .env("AUTHD_LOCKOUT_THRESHOLD", "2")
        .env("AUTHD_AUTHN_RATE_LIMIT_PER_USERNAME", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    assert!(
        crate::common::answers_ok_within(
            &format!("{base_url}/health/ready"),
            Duration::from_secs(60)
        )
        .await,
        "authd did not become ready"
    );
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let response = http
            .post(format!("{base_url}/oauth2/default/v1/token"))
            .basic_auth("0oametricsservice001", Some("metrics-service-secret-0"))
            .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    // Two wrong passwords lock Alice out; the third attempt finds her locked; the fourth is
    // over the per-username limit.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = http
            .post(format!("{base_url}/api/v1/authn"))
            .json(&json!({ "username": "alice@example.com", "password": "Wrong-passw0rd-1" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);

    assert_eq!(
        http.get(format!("{base_url}/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "the public port serves no metrics"
    );
    // A made-up method and a token in a path become no series of their own.
    let invented = reqwest::Method::from_bytes(b"BREW").unwrap();
    http.request(invented, format!("{base_url}/api/v1/users"))
        .send()
        .await
        .unwrap();
    http.get(format!(
        "{base_url}/reset_password/secret-reset-token-in-path"
    ))
    .send()
    .await
    .unwrap();
    let response = http
        .get(format!("http://{metrics_address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let exposition = response.text().await.unwrap();
    assert!(
        exposition.contains("# HELP authd_tokens_issued_total "),
        "{exposition}"
    );
    let samples = parse(&exposition);
    let sample = |series: &str| {
        *samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{exposition}"))
    };
    assert_eq!(
        sample(r#"authd_tokens_issued_total{grant="client_credentials",server="default"}"#),
        2.0
    );
    assert_eq!(
        sample(
            r#"authd_http_requests_total{method="POST",route="/oauth2/{as}/v1/token",status="200"}"#
        ),
        2.0
    );
    assert_eq!(
        sample(r#"authd_http_requests_total{method="POST",route="/api/v1/authn",status="401"}"#),
        3.0
    );
    assert_eq!(
        sample(r#"authd_http_request_duration_seconds_count{route="/oauth2/{as}/v1/token"}"#),
        2.0
    );
    assert_eq!(
        sample(r#"authd_sign_ins_total{outcome="invalid_credentials"}"#),
        1.0
    );
    assert_eq!(sample(r#"authd_sign_ins_total{outcome="locked_out"}"#), 2.0);
    assert_eq!(sample("authd_lockouts_total"), 1.0);
    assert_eq!(sample(r#"authd_rate_limited_total{limit="username"}"#), 1.0);
    // The second token found the server and the app held.
    assert!(sample(r#"authd_directory_lookups_total{cache="servers",result="hit"}"#) >= 1.0);
    assert!(sample(r#"authd_directory_lookups_total{cache="apps",result="hit"}"#) >= 1.0);
    assert!(sample(r#"authd_key_rotations_total{server="default"}"#) >= 1.0);
    let key_age = sample(r#"authd_signing_key_age_seconds{server="default"}"#);
    assert!((0.0..60.0).contains(&key_age), "{key_age}");
    assert_eq!(
        sample(r#"authd_http_requests_total{method="GET",route="(unmatched)",status="404"}"#),
        1.0
    );
    assert!(!exposition.contains("BREW"), "{exposition}");
    assert!(
        !exposition.contains("secret-reset-token-in-path"),
        "{exposition}"
    );
    assert!(exposition.contains(r#"route="/reset_password/{token}""#));
    // Each store operation is timed under its own name: the two wrong passwords were counted
    // against Alice, the third attempt found her locked and counted nothing.
    let failures =
        r#"authd_database_query_duration_seconds_count{operation="record_failed_sign_in"}"#;
    assert_eq!(sample(failures), 2.0);
    assert_eq!(
        sample(
            r#"authd_database_query_duration_seconds_bucket{operation="record_failed_sign_in",le="+Inf"}"#
        ),
        2.0
    );
    assert!(
        sample(r#"authd_database_query_duration_seconds_sum{operation="record_failed_sign_in"}"#)
            > 0.0
    );
    assert!(
        sample(r#"authd_database_query_duration_seconds_count{operation="get_client"}"#) >= 1.0
    );
    let open = sample(r#"authd_database_connections{state="idle"}"#)
        + sample(r#"authd_database_connections{state="in_use"}"#);
    assert!(open >= 1.0, "{open}");
}
