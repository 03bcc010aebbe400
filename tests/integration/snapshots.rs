//! Whole documents and error bodies compared with the copies kept in `tests/snapshots/`: any
//! change to what a client reads (a field added to discovery, an error reworded) shows in review.
//! `AUTHD_UPDATE_SNAPSHOTS=1 cargo test snapshots` rewrites the copies after an intended change.

use std::path::PathBuf;

use serde_json::Value;

use crate::common::TestApp;
use crate::oauth::{post_form, SERVICE, SERVICE_SECRET};

/// Compares `value`, with this server's base URL written `{base}`, to the named snapshot.
fn assert_snapshot(app: &TestApp, name: &str, value: &Value) {
    let text = serde_json::to_string_pretty(value)
        .unwrap()
        .replace(&app.base_url, "{base}")
        + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"));
    if std::env::var("AUTHD_UPDATE_SNAPSHOTS").is_ok_and(|value| value == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}; write it with AUTHD_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        kept,
        text,
        "{name} differs from {}; if the change is intended, AUTHD_UPDATE_SNAPSHOTS=1 rewrites it",
        path.display()
    );
}

/// Replaces values that differ on every run (key material, ids) with their kind.
fn masked(mut value: Value, fields: &[&str]) -> Value {
    match &mut value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if fields.contains(&key.as_str()) {
                    *field = Value::String(format!("<{key}>"));
                } else {
                    *field = masked(field.take(), fields);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                *item = masked(item.take(), fields);
            }
        }
        _ => {}
    }
    value
}

#[tokio::test]
async fn discovery_documents_are_as_kept() {
    let app = crate::oauth::spawn().await;
    for (name, path) in [
        (
            "default-openid-configuration",
            "/oauth2/default/.well-known/openid-configuration",
        ),
        (
            "default-oauth-authorization-server",
            "/oauth2/default/.well-known/oauth-authorization-server",
        ),
        (
            "org-openid-configuration",
            "/.well-known/openid-configuration",
        ),
    ] {
        assert_snapshot(&app, name, &app.get_json(path).await);
    }
}

#[tokio::test]
async fn the_jwks_is_as_kept_but_for_the_keys_themselves() {
    let app = crate::oauth::spawn().await;
    let jwks = app.get_json("/oauth2/default/v1/keys").await;
    assert_snapshot(&app, "default-jwks", &masked(jwks, &["kid", "n"]));
}

#[tokio::test]
async fn error_bodies_are_as_kept() {
    let app = crate::oauth::spawn().await;
    let mut errors = serde_json::Map::new();
    let (status, body) = post_form(
        &app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", "api.read"),
            ("client_id", SERVICE),
            ("client_secret", "wrong-secret-0123456789"),
        ],
    )
    .await;
    errors.insert(format!("token, wrong secret: {status}"), body);
    let (status, body) = post_form(
        &app,
        "/oauth2/default/v1/token",
        &[("grant_type", "urn:example:unknown")],
    )
    .await;
    errors.insert(format!("token, unknown grant type: {status}"), body);
    let (status, body) = post_form(
        &app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", "api.nonexistent"),
            ("client_id", SERVICE),
            ("client_secret", SERVICE_SECRET),
        ],
    )
    .await;
    errors.insert(format!("token, unknown scope: {status}"), body);
    let response = app
        .get("/oauth2/nosuchserver/.well-known/openid-configuration")
        .await;
    let status = response.status().as_u16();
    errors.insert(
        format!("discovery, unknown server: {status}"),
        response.json().await.unwrap(),
    );
    let (status, body) = app
        .admin_call(
            reqwest::Method::GET,
            "/api/v1/users/nobody@example.com",
            None,
        )
        .await;
    errors.insert(format!("users API, unknown user: {status}"), body);
    assert_snapshot(
        &app,
        "error-bodies",
        &masked(Value::Object(errors), &["errorId"]),
    );
}
