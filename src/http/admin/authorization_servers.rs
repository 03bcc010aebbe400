//! `/api/v1/authorizationServers`: Okta's Authorization Servers API (servers, their keys).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::engine::admin::auth_servers::AuthServerSpec;
use crate::model::{AuthServer, KeyState, SigningKey};

use super::super::error::OktaError;
use super::super::extract::OktaJson;

/// An authorization server as sent to create or replace one.
#[derive(Debug, Deserialize)]
pub struct AuthServerRequest {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    audiences: Vec<String>,
}

impl From<AuthServerRequest> for AuthServerSpec {
    fn from(request: AuthServerRequest) -> Self {
        AuthServerSpec {
            name: request.name,
            description: request.description,
            audiences: request.audiences,
        }
    }
}

/// `POST /api/v1/authorizationServers`.
pub async fn create_authorization_server(
    State(app): State<AppState>,
    OktaJson(request): OktaJson<AuthServerRequest>,
) -> Result<(StatusCode, Json<Value>), OktaError> {
    let server = app
        .engine
        .admin()
        .create_auth_server(request.into())
        .await?;
    Ok((StatusCode::CREATED, Json(render(&app, &server).await)))
}

/// `GET /api/v1/authorizationServers`.
pub async fn list_authorization_servers(
    State(app): State<AppState>,
) -> Result<Json<Value>, OktaError> {
    let mut listed = Vec::new();
    for server in app.engine.admin().admin_auth_servers().await? {
        listed.push(render(&app, &server).await);
    }
    Ok(Json(Value::Array(listed)))
}

/// `GET /api/v1/authorizationServers/{id}`.
pub async fn get_authorization_server(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let server = app.engine.admin().admin_auth_server(&id).await?;
    Ok(Json(render(&app, &server).await))
}

/// `PUT /api/v1/authorizationServers/{id}`.
pub async fn replace_authorization_server(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OktaJson(request): OktaJson<AuthServerRequest>,
) -> Result<Json<Value>, OktaError> {
    let server = app
        .engine
        .admin()
        .replace_auth_server(&id, request.into())
        .await?;
    Ok(Json(render(&app, &server).await))
}

/// `POST /api/v1/authorizationServers/{id}/lifecycle/{activate|deactivate}`.
pub async fn authorization_server_lifecycle(
    State(app): State<AppState>,
    Path((id, operation)): Path<(String, String)>,
) -> Result<StatusCode, OktaError> {
    let status = super::lifecycle_status(&operation)?;
    app.engine
        .admin()
        .set_auth_server_status(&id, status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/authorizationServers/{id}`: only inactive servers.
pub async fn delete_authorization_server(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, OktaError> {
    app.engine.admin().delete_auth_server(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/authorizationServers/{id}/credentials/keys`.
pub async fn list_authorization_server_keys(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let (server, keys) = app.engine.admin().auth_server_keys(&id).await?;
    Ok(Json(render_keys(&app, &server, &keys)))
}

/// `POST /api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate`.
pub async fn rotate_authorization_server_keys(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    app.engine.admin().rotate_auth_server_keys(&id).await?;
    let (server, keys) = app.engine.admin().auth_server_keys(&id).await?;
    Ok(Json(render_keys(&app, &server, &keys)))
}

fn render_keys(app: &AppState, server: &AuthServer, keys: &[SigningKey]) -> Value {
    let now = app.engine.now();
    Value::Array(
        keys.iter()
            .filter(|key| {
                key.state != KeyState::Retired || key.remove_after.is_some_and(|at| now < at)
            })
            .map(|key| {
                let mut jwk: Value = serde_json::from_str(&key.public_jwk).unwrap_or(json!({}));
                // Okta's names for the states: a retired key is EXPIRED.
                jwk["status"] = match key.state {
                    KeyState::Active => "ACTIVE",
                    KeyState::Next => "NEXT",
                    KeyState::Retired => "EXPIRED",
                }
                .into();
                jwk["_links"] = json!({
                    "self": { "href": format!(
                        "{}/api/v1/authorizationServers/{}/credentials/keys/{}",
                        app.config.base_url, server.id, key.kid
                    ) }
                });
                jwk
            })
            .collect(),
    )
}

async fn render(app: &AppState, server: &AuthServer) -> Value {
    let keys = app
        .engine
        .keys()
        .stored_keys(&server.id)
        .await
        .unwrap_or_default();
    let active = keys.iter().find(|key| key.state == KeyState::Active);
    let last_rotated = active.and_then(|key| key.activated_at);
    json!({
        "id": server.id,
        "name": server.name,
        "description": server.description,
        "audiences": server.audiences,
        "issuer": server.issuer(&app.config.base_url),
        "issuerMode": server.issuer_mode,
        "status": server.status,
        "created": server.created_at.to_okta_string(),
        "lastUpdated": server.updated_at.to_okta_string(),
        "credentials": {
            "signing": {
                "rotationMode": "AUTO",
                "use": "sig",
                "kid": active.map(|key| key.kid.to_string()),
                "lastRotated": last_rotated.map(|at| at.to_okta_string()),
                "nextRotation": last_rotated
                    .map(|at| at.plus(app.config.keys.rotation_interval).to_okta_string()),
            }
        },
        "_links": {
            "self": { "href": format!("{}/api/v1/authorizationServers/{}", app.config.base_url, server.id) },
            "keys": { "href": format!("{}/api/v1/authorizationServers/{}/credentials/keys", app.config.base_url, server.id) }
        }
    })
}
