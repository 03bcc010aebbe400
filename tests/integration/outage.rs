//! A PostgreSQL outage, really injected: the test database stops accepting connections and
//! every open one is ended. Requests that need the database fail fast with 503 in their API's
//! error shape, what is cached keeps being served, and service resumes without a restart. On
//! the SQLite suite there is no database server to lose, and these tests say so and stop.
#![expect(
    clippy::print_stderr,
    reason = "the measured timings are printed with --nocapture"
)]

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Options, TestApp};
use crate::oauth::{SERVICE, SERVICE_SECRET};

async fn client_credentials(app: &TestApp) -> reqwest::Response {
    app.http
        .post(format!("{}/oauth2/default/v1/token", app.base_url))
        .basic_auth(SERVICE, Some(SERVICE_SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
        .send()
        .await
        .unwrap()
}

/// A server whose requests wait at most a second for the database.
async fn spawn_with_a_short_timeout() -> TestApp {
    TestApp::spawn_with(Options {
        seed: Some(crate::oauth::seed()),
        settings: Some(Box::new(|settings| {
            settings.database_timeout = Some("1s".into());
        })),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn a_database_outage_fails_requests_fast_serves_the_cache_and_recovers() {
    let app = spawn_with_a_short_timeout().await;
    // Warm: discovery and keys are served from memory once read.
    let discovery = "/oauth2/default/.well-known/openid-configuration";
    assert_eq!(app.get(discovery).await.status(), 200);
    assert_eq!(app.get("/oauth2/default/v1/keys").await.status(), 200);
    assert_eq!(client_credentials(&app).await.status(), 200);

    if !app.database.cut_off().await {
        eprintln!(
            "the SQLite suite has no database server to stop; the PostgreSQL suite runs this"
        );
        return;
    }

    // The replica learns at once that it lost its subscription to changes, and from then on
    // decides nothing from what it holds: tokens need the database again.
    let cut = Instant::now();
    let (refused, token_after) = loop {
        let started = Instant::now();
        let response = client_credentials(&app).await;
        if response.status() != 200 {
            break (response, started.elapsed());
        }
        assert!(
            cut.elapsed() < Duration::from_secs(1),
            "tokens still issued from memory {:?} into the outage",
            cut.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let noticed_after = cut.elapsed();
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(body["error_description"].is_string());

    let started = Instant::now();
    let (status, body) = app
        .admin_call(reqwest::Method::GET, "/api/v1/users", None)
        .await;
    let admin_after = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["errorCode"], "E0000009");

    let started = Instant::now();
    let ready = app.get("/health/ready").await;
    let ready_after = started.elapsed();
    assert_eq!(ready.status(), 503);

    // What is cached is still served.
    assert_eq!(app.get(discovery).await.status(), 200);
    assert_eq!(app.get("/oauth2/default/v1/keys").await.status(), 200);
    assert_eq!(app.get("/health/live").await.status(), 200);

    // A generous bound, only so that a regression to the old 10-second waits fails.
    for (what, took) in [
        ("token", token_after),
        ("admin", admin_after),
        ("ready", ready_after),
    ] {
        assert!(
            took < Duration::from_secs(5),
            "{what} took {took:?} with AUTHD_DATABASE_TIMEOUT=1s"
        );
    }
    eprintln!(
        "outage with AUTHD_DATABASE_TIMEOUT=1s: tokens refused {noticed_after:?} after the cut, \
         token 503 after {token_after:?}, admin 503 after {admin_after:?}, /health/ready 503 \
         after {ready_after:?}"
    );

    app.database.restore().await;
    let recovered = Instant::now();
    loop {
        let response = client_credentials(&app).await;
        if response.status() == 200 {
            break;
        }
        assert!(
            recovered.elapsed() < Duration::from_secs(10),
            "no recovery: {}",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.get("/health/ready").await.status(), 200);
    eprintln!(
        "recovered {:?} after the database came back",
        recovered.elapsed()
    );
}

#[tokio::test]
async fn a_hung_database_is_cut_off_by_the_statement_timeout() {
    let app = spawn_with_a_short_timeout().await;
    let users = || app.admin_call(reqwest::Method::GET, "/api/v1/users", None);
    assert_eq!(users().await.0, 200);
    let Some(lock) = app.database.lock_table("users").await else {
        eprintln!(
            "the SQLite suite has no database server to hang; the PostgreSQL suite runs this"
        );
        return;
    };
    let started = Instant::now();
    let (status, body) = users().await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["errorCode"], "E0000009");
    assert!(took < Duration::from_secs(5), "{took:?}");
    eprintln!("hung database with AUTHD_DATABASE_TIMEOUT=1s: 503 after {took:?}");
    drop(lock);
    assert_eq!(users().await.0, 200);
}
