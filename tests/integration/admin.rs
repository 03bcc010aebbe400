//! Okta's management API basics: SSWS API tokens and the System Log of admin calls.

use std::process::Command;

use serde_json::{json, Value};

use crate::common::{TestApp, TEST_ADMIN_TOKEN, TEST_SECRET};

async fn create_token_with_cli(app: &TestApp, name: &str) -> Value {
    let url = app.database.url().to_owned();
    let name = name.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_authd"))
            .env_clear()
            .env("AUTHD_DATABASE_URL", url)
            .env("AUTHD_SECRET_KEY", TEST_SECRET)
            .args(["tokens", "create", "--name", &name, "--json"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn with_token(request: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
    request.header("authorization", format!("SSWS {token}"))
}

#[tokio::test]
async fn api_tokens_from_the_cli_authenticate_and_can_be_revoked() {
    let app = TestApp::spawn().await;
    let created = create_token_with_cli(&app, "ci pipeline").await;
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(id.starts_with("00T") && id.len() == 20, "{id}");

    let url = format!("{}/api/v1/api-tokens", app.base_url);
    let listed = with_token(app.http.get(&url), &token).send().await.unwrap();
    assert_eq!(listed.status(), 200);
    let text = listed.text().await.unwrap();
    assert!(!text.contains(&token), "a token is never shown again");
    let listed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["name"], "ci pipeline");

    let revoked = with_token(app.http.delete(format!("{url}/{id}")), TEST_ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let refused = with_token(app.http.get(&url), &token).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000011");
    let again = with_token(app.http.delete(format!("{url}/{id}")), TEST_ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn a_token_can_revoke_itself() {
    let app = TestApp::spawn().await;
    let created = create_token_with_cli(&app, "short-lived").await;
    let token = created["token"].as_str().unwrap();
    let url = format!("{}/api/v1/api-tokens/current", app.base_url);
    let revoked = with_token(app.http.delete(&url), token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let after = with_token(app.http.delete(&url), token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn admin_calls_without_a_valid_token_are_401_e0000011() {
    let app = TestApp::spawn().await;
    let url = format!("{}/api/v1/api-tokens", app.base_url);
    for authorization in [
        None,
        Some("SSWS wrong-token"),
        Some(&*format!("Bearer {TEST_ADMIN_TOKEN}")),
    ] {
        let mut request = app.http.get(&url);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], "E0000011");
        assert_eq!(body["errorSummary"], "Invalid token provided");
    }
}

#[tokio::test]
async fn every_admin_change_is_in_the_system_log_as_okta_names_it_without_secrets() {
    let app = TestApp::spawn().await;
    let created = create_token_with_cli(&app, "auditor").await;
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let request = with_token(
            app.http.request(method, format!("{}{path}", app.base_url)),
            &token,
        );
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let user = json!({
        "profile": {
            "firstName": "Eve", "lastName": "Audit",
            "email": "eve@example.com", "login": "eve@example.com",
        },
        "credentials": { "password": { "value": "Audit-passw0rd-1" } },
    });
    let (status, eve) = call(reqwest::Method::POST, "/api/v1/users", Some(user)).await;
    assert_eq!(status, 200, "{eve}");
    let eve_id = eve["id"].as_str().unwrap().to_owned();
    // A read is not an event; a refused change is one, with the reason.
    call(
        reqwest::Method::GET,
        &format!("/api/v1/users/{eve_id}"),
        None,
    )
    .await;
    let (status, _) = call(
        reqwest::Method::POST,
        "/api/v1/users",
        Some(json!({ "profile": { "login": "incomplete@example.com" } })),
    )
    .await;
    assert_eq!(status, 400);
    // An id written percent-encoded in the path is recorded as the id it names.
    let (status, _) = call(
        reqwest::Method::POST,
        "/api/v1/users/eve%40example.com/lifecycle/deactivate",
        None,
    )
    .await;
    assert_eq!(status, 200);

    let logs = |query: &'static str| {
        let app = &app;
        async move {
            let response = with_token(
                app.http.get(format!("{}/api/v1/logs{query}", app.base_url)),
                TEST_ADMIN_TOKEN,
            )
            .send()
            .await
            .unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, text)
        }
    };
    let (status, text) = logs("").await;
    assert_eq!(status, 200);
    assert!(
        !text.contains(&token)
            && !text.contains(TEST_ADMIN_TOKEN)
            && !text.contains("Audit-passw0rd-1"),
        "no secret is logged"
    );
    let events: Value = serde_json::from_str(&text).unwrap();
    let events = events.as_array().unwrap();
    let types: Vec<&str> = events
        .iter()
        .filter_map(|event| event["eventType"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "user.lifecycle.create",
            "user.lifecycle.create",
            "user.lifecycle.deactivate"
        ],
        "in order, reads left out"
    );
    let create = &events[0];
    assert_eq!(create["actor"]["id"], id.as_str());
    assert_eq!(create["actor"]["displayName"], "auditor");
    assert_eq!(create["outcome"]["result"], "SUCCESS");
    assert_eq!(create["target"][0]["id"], eve_id.as_str());
    assert_eq!(create["target"][0]["type"], "User");
    assert_eq!(create["target"][0]["alternateId"], "eve@example.com");
    assert_eq!(
        create["authenticationContext"]["credentialType"],
        "API_TOKEN"
    );
    let published = create["published"].as_str().unwrap();
    assert_eq!(
        published.len(),
        "2026-12-02T05:00:00.123Z".len(),
        "{published}"
    );
    assert!(published.ends_with('Z'));
    assert!(create["transaction"]["id"].as_str().is_some());
    assert!(create["client"]["ipAddress"].as_str().is_some());
    let refused = &events[1];
    assert_eq!(refused["outcome"]["result"], "FAILURE");
    assert!(
        refused["outcome"]["reason"]
            .as_str()
            .unwrap()
            .contains("Api validation failed"),
        "{refused}"
    );
    assert_eq!(refused["severity"], "WARN");
    assert_eq!(events[2]["target"][0]["id"], "eve@example.com");

    let (_, text) = logs("?q=deactivate").await;
    let filtered: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(filtered.as_array().unwrap().len(), 1, "{filtered}");
    let (_, text) = logs("?limit=1").await;
    assert_eq!(
        serde_json::from_str::<Value>(&text)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, text) = logs("?since=2999-01-01T00:00:00Z").await;
    assert_eq!(text, "[]");
    let (status, text) = logs("?since=yesterday").await;
    assert_eq!(status, 400);
    assert!(text.contains("E0000001"));
}
