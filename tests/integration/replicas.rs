//! Two replicas on one database: a change made through one is in force on the other within a
//! second, although each serves the directory from memory.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Options, TestApp};
use crate::oauth::{post_form, SERVICE, SERVICE_SECRET};

/// DESIGN §4 and the directory's promise: another replica's change is in force here within this.
const BOUND: Duration = Duration::from_secs(1);

async fn replicas() -> (TestApp, TestApp) {
    let first = TestApp::spawn_with(Options {
        seed: Some(crate::oauth::seed()),
        ..Default::default()
    })
    .await;
    let second = another_replica(&first).await;
    (first, second)
}

/// A second server on the first's database and clock, behind the same issuer as replicas
/// behind one load balancer.
pub async fn another_replica(first: &TestApp) -> TestApp {
    let issuer = first.base_url.clone();
    TestApp::spawn_with(Options {
        database: Some(first.database.clone()),
        clock: Some(first.clock.clone()),
        settings: Some(Box::new(move |settings| {
            settings.base_url = Some(issuer);
        })),
        ..Default::default()
    })
    .await
}

async fn service_token(app: &TestApp) -> (u16, Value) {
    post_form(
        app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", "api.read"),
            ("client_id", SERVICE),
            ("client_secret", SERVICE_SECRET),
        ],
    )
    .await
}

fn kid_of(token: &Value) -> String {
    let header = token["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// How long until `holds` is true, asked every few milliseconds; fails after five bounds.
async fn until<F: Future<Output = bool>>(what: &str, mut holds: impl FnMut() -> F) -> Duration {
    let started = Instant::now();
    loop {
        if holds().await {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < 5 * BOUND,
            "{what}: not in force on the other replica after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn admin(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, body) = app.admin_call(method, path, body).await;
    assert!((200..300).contains(&status), "{path}: {status} {body}");
    body
}

#[tokio::test]
#[expect(
    clippy::print_stderr,
    reason = "the measured times are this test's report"
)]
async fn a_change_on_one_replica_is_in_force_on_the_other_within_a_second() {
    let (first, second) = replicas().await;
    let discovery = "/oauth2/default/.well-known/openid-configuration";
    // The second replica holds the server, the app and the keys.
    let (status, body) = service_token(&second).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(second.get(discovery).await.status(), 200);
    assert_eq!(second.get("/oauth2/default/v1/keys").await.status(), 200);

    let mut took: Vec<(&str, Duration)> = Vec::new();
    for _ in 0..5 {
        let keys = admin(
            &first,
            Method::POST,
            "/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate",
            Some(json!({ "use": "sig" })),
        )
        .await;
        let active = keys
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["status"] == "ACTIVE")
            .unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_owned();
        let next = keys
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["status"] == "NEXT")
            .unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_owned();
        took.push((
            "key rotation: the other replica signs with the new key",
            until("rotation", || async {
                kid_of(&service_token(&second).await.1) == active
            })
            .await,
        ));
        took.push((
            "key rotation: the other replica publishes the new NEXT key",
            until("rotation", || async {
                second.get_json("/oauth2/default/v1/keys").await["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|key| key["kid"] == next.as_str())
            })
            .await,
        ));
    }

    // The default policy's rule, given a seven-minute access token lifetime.
    let policies = "/api/v1/authorizationServers/default/policies";
    let policy = admin(&first, Method::GET, policies, None).await[0].clone();
    let rules = format!("{policies}/{}/rules", policy["id"].as_str().unwrap());
    let mut rule = admin(&first, Method::GET, &rules, None).await[0].clone();
    rule["actions"]["token"]["accessTokenLifetimeMinutes"] = json!(7);
    admin(
        &first,
        Method::PUT,
        &format!("{rules}/{}", rule["id"].as_str().unwrap()),
        Some(rule),
    )
    .await;
    let (_, on_first) = service_token(&first).await;
    assert_eq!(on_first["expires_in"], 420, "{on_first}");
    took.push((
        "policy rule: the other replica issues tokens by it",
        until("policy", || async {
            service_token(&second).await.1["expires_in"] == 420
        })
        .await,
    ));

    admin(
        &first,
        Method::POST,
        "/api/v1/authorizationServers/default/scopes",
        Some(json!({ "name": "orders.read", "metadataPublish": "ALL_CLIENTS" })),
    )
    .await;
    took.push((
        "scope: the other replica lists it in discovery",
        until("scope", || async {
            second.get_json(discovery).await["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&json!("orders.read"))
        })
        .await,
    ));

    admin(
        &first,
        Method::POST,
        &format!("/api/v1/apps/{SERVICE}/lifecycle/deactivate"),
        None,
    )
    .await;
    took.push((
        "app deactivated: the other replica refuses it",
        until("app", || async { service_token(&second).await.0 == 401 }).await,
    ));

    admin(
        &first,
        Method::POST,
        "/api/v1/authorizationServers/default/lifecycle/deactivate",
        None,
    )
    .await;
    took.push((
        "server deactivated: the other replica serves no discovery",
        until("server", || async {
            second.get(discovery).await.status() == 404
        })
        .await,
    ));
    took.push((
        "server deactivated: the other replica serves no JWKS",
        until("server", || async {
            second.get("/oauth2/default/v1/keys").await.status() == 404
        })
        .await,
    ));

    let backend = if first.database.url().starts_with("postgres") {
        "PostgreSQL (LISTEN/NOTIFY)"
    } else {
        "SQLite (revision poll)"
    };
    eprintln!("changes made on one replica, in force on the other, {backend}:");
    for (what, elapsed) in &took {
        eprintln!("  {:>8.1} ms  {what}", elapsed.as_secs_f64() * 1000.0);
    }
    for (what, elapsed) in took {
        assert!(elapsed <= BOUND, "{what}: {elapsed:?}");
    }
}
