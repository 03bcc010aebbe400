use crate::common::TestApp;

#[tokio::test]
async fn liveness_and_readiness_answer_when_the_database_does() {
    let app = TestApp::spawn().await;
    let live = app.get_json("/health/live").await;
    assert_eq!(live["status"], "UP");
    let ready = app.get_json("/health/ready").await;
    assert_eq!(ready["status"], "UP");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_given_one_is_kept() {
    let app = TestApp::spawn().await;
    let response = app.get("/health/live").await;
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36, "{generated}");

    let response = app
        .http
        .get(format!("{}/oauth2/nope/v1/keys", app.base_url))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn graceful_stop_returns_cleanly_and_the_port_closes() {
    let app = TestApp::spawn().await;
    let base_url = app.base_url.clone();
    let http = app.http.clone();
    assert_eq!(app.get("/health/live").await.status(), 200);
    app.stop().await;
    assert!(http
        .get(format!("{base_url}/health/live"))
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn the_healthcheck_command_reports_a_ready_server_and_fails_without_one() {
    let app = TestApp::spawn().await;
    let listen = app.base_url.trim_start_matches("http://").to_owned();
    let run = |listen: String| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_authd"))
                .env_clear()
                .env("AUTHD_DATABASE_URL", "sqlite::memory:")
                .env("AUTHD_LISTEN", listen)
                .arg("healthcheck")
                .output()
                .unwrap()
        })
    };
    let output = run(listen.clone()).await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    app.stop().await;
    let output = run(listen).await.unwrap();
    assert_eq!(output.status.code(), Some(1));
}
