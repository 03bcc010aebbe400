//! Okta's Authorization Servers API over HTTP.

use serde_json::{json, Value};

use crate::common::TestApp;

#[tokio::test]
async fn a_server_created_through_the_api_serves_discovery_keys_and_tokens() {
    let app = crate::oauth::spawn().await;
    let (status, created) = app.admin_call(reqwest::Method::POST,
        "/api/v1/authorizationServers",
        Some(json!({ "name": "Payments", "description": "Payments API", "audiences": ["api://payments"] })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("aus") && id.len() == 20, "{id}");
    let issuer = format!("{}/oauth2/{id}", app.base_url);
    assert_eq!(created["issuer"], issuer.as_str());
    assert_eq!(created["status"], "ACTIVE");
    assert!(created["credentials"]["signing"]["kid"].as_str().is_some());

    let discovery = app
        .get_json(&format!("/oauth2/{id}/.well-known/openid-configuration"))
        .await;
    assert_eq!(discovery["issuer"], issuer.as_str());
    let jwks = app.get_json(&format!("/oauth2/{id}/v1/keys")).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);

    let (_, listed) = app
        .admin_call(reqwest::Method::GET, "/api/v1/authorizationServers", None)
        .await;
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|server| server["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id.as_str()) && ids.contains(&"default"));
    assert!(!ids.contains(&"org"), "the org server is not administered");

    let (status, replaced) = app
        .admin_call(
            reqwest::Method::PUT,
            &format!("/api/v1/authorizationServers/{id}"),
            Some(json!({ "name": "Payments v2", "audiences": ["api://payments-v2"] })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(replaced["audiences"], json!(["api://payments-v2"]));
    // As on Okta, a new server issues tokens once a policy allows them.
    let (status, policy) = app.admin_call(reqwest::Method::POST,
        &format!("/api/v1/authorizationServers/{id}/policies"),
        Some(json!({ "name": "All apps", "conditions": { "clients": { "include": ["ALL_CLIENTS"] } } })),
    )
    .await;
    assert_eq!(status, 201, "{policy}");
    let (status, rule) = app
        .admin_call(
            reqwest::Method::POST,
            &format!(
                "/api/v1/authorizationServers/{id}/policies/{}/rules",
                policy["id"].as_str().unwrap()
            ),
            Some(json!({ "name": "Password", "conditions": {
            "grantTypes": { "include": ["password"] }, "scopes": { "include": ["*"] } } })),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    let tokens: Value = app
        .http
        .post(format!("{issuer}/v1/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice@example.com"),
            ("password", crate::oauth::PASSWORD),
            ("scope", "openid"),
            ("client_id", crate::oauth::TRUSTED),
            ("client_secret", "trusted-secret-0123456789"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"]
        .as_str()
        .expect("a token from the new server");
    let payload: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            access.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["aud"], "api://payments-v2");
    assert_eq!(payload["iss"], issuer.as_str());
}

#[tokio::test]
async fn keys_are_listed_with_okta_states_and_rotated_on_demand() {
    let app = TestApp::spawn().await;
    let path = "/api/v1/authorizationServers/default/credentials";
    let (status, keys) = app
        .admin_call(reqwest::Method::GET, &format!("{path}/keys"), None)
        .await;
    assert_eq!(status, 200);
    let state_of = |keys: &Value, status: &str| {
        keys.as_array()
            .unwrap()
            .iter()
            .find(|key| key["status"] == status)
            .map(|key| key["kid"].as_str().unwrap().to_owned())
    };
    let active = state_of(&keys, "ACTIVE").unwrap();
    let next = state_of(&keys, "NEXT").unwrap();
    assert!(keys
        .as_array()
        .unwrap()
        .iter()
        .all(|key| key.get("d").is_none()));

    let (status, rotated) = app
        .admin_call(
            reqwest::Method::POST,
            &format!("{path}/lifecycle/keyRotate"),
            Some(json!({ "use": "sig" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        state_of(&rotated, "ACTIVE").unwrap(),
        next,
        "NEXT signs at once"
    );
    assert_eq!(state_of(&rotated, "EXPIRED").unwrap(), active);
    let jwks = app.get_json("/oauth2/default/v1/keys").await;
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        3,
        "visible in the JWKS"
    );
}

#[tokio::test]
async fn servers_are_validated_deactivated_and_deleted_only_when_inactive() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .admin_call(
            reqwest::Method::POST,
            "/api/v1/authorizationServers",
            Some(json!({ "name": "", "audiences": [] })),
        )
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("E0000001"))
    );
    assert_eq!(body["errorCauses"].as_array().unwrap().len(), 2);
    let (status, body) = app
        .admin_call(
            reqwest::Method::POST,
            "/api/v1/authorizationServers",
            Some(json!({ "name": "default", "audiences": ["api://x"] })),
        )
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("E0000001")),
        "name taken"
    );

    let (_, created) = app
        .admin_call(
            reqwest::Method::POST,
            "/api/v1/authorizationServers",
            Some(json!({ "name": "Temporary", "audiences": ["api://tmp"] })),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let admin = format!("/api/v1/authorizationServers/{id}");
    let discovery = format!("/oauth2/{id}/.well-known/openid-configuration");
    assert_eq!(app.get(&discovery).await.status(), 200);

    let (status, _) = app.admin_call(reqwest::Method::DELETE, &admin, None).await;
    assert_eq!(status, 400, "an active server is not deleted");
    let (status, _) = app
        .admin_call(
            reqwest::Method::POST,
            &format!("{admin}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(app.get(&discovery).await.status(), 404);
    assert_eq!(
        app.get(&format!("/oauth2/{id}/v1/keys")).await.status(),
        404
    );
    app.admin_call(
        reqwest::Method::POST,
        &format!("{admin}/lifecycle/activate"),
        None,
    )
    .await;
    assert_eq!(app.get(&discovery).await.status(), 200);
    app.admin_call(
        reqwest::Method::POST,
        &format!("{admin}/lifecycle/deactivate"),
        None,
    )
    .await;
    let (status, _) = app.admin_call(reqwest::Method::DELETE, &admin, None).await;
    assert_eq!(status, 204);
    let (status, body) = app.admin_call(reqwest::Method::GET, &admin, None).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("E0000007"))
    );
}
