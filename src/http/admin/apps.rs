//! `/api/v1/apps`: Okta's Apps API for OpenID Connect apps (`signOnMode: OPENID_CONNECT`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::engine::apps::AppSpec;
use crate::model::{
    ApplicationType, Client, GrantType, PlainToken, ResponseType, Status, TokenEndpointAuthMethod,
};

use super::super::error::OktaError;
use super::super::extract::OktaJson;

/// An Okta app object as sent to create or replace one.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRequest {
    label: String,
    #[serde(default)]
    sign_on_mode: Option<String>,
    #[serde(default)]
    credentials: Option<AppCredentials>,
    settings: AppSettings,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppCredentials {
    #[serde(default)]
    oauth_client: Option<OAuthCredentials>,
}

#[derive(Debug, Default, Deserialize)]
struct OAuthCredentials {
    client_id: Option<String>,
    client_secret: Option<String>,
    token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    jwks: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppSettings {
    oauth_client: OAuthSettings,
}

#[derive(Debug, Deserialize)]
struct OAuthSettings {
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    response_types: Vec<ResponseType>,
    #[serde(default)]
    grant_types: Vec<GrantType>,
    application_type: ApplicationType,
}

impl AppRequest {
    fn into_spec(self) -> Result<AppSpec, OktaError> {
        if let Some(mode) = self.sign_on_mode.as_deref() {
            if mode != "OPENID_CONNECT" {
                return Err(OktaError::validation(vec![format!(
                    "signOnMode: only OPENID_CONNECT apps are supported, not {mode}"
                )]));
            }
        }
        let oauth = self
            .credentials
            .unwrap_or_default()
            .oauth_client
            .unwrap_or_default();
        let settings = self.settings.oauth_client;
        let method = oauth
            .token_endpoint_auth_method
            .unwrap_or(match settings.application_type {
                ApplicationType::Native | ApplicationType::Browser => TokenEndpointAuthMethod::None,
                ApplicationType::Web | ApplicationType::Service => {
                    TokenEndpointAuthMethod::ClientSecretBasic
                }
            });
        Ok(AppSpec {
            client_id: oauth.client_id,
            client_secret: oauth.client_secret,
            label: self.label,
            application_type: settings.application_type,
            redirect_uris: settings.redirect_uris,
            post_logout_redirect_uris: settings.post_logout_redirect_uris,
            grant_types: settings.grant_types,
            response_types: settings.response_types,
            token_endpoint_auth_method: method,
            jwks: oauth.jwks.map(|jwks| jwks.to_string()),
        })
    }
}

/// `POST /api/v1/apps`: the client secret is in this response only.
pub async fn create_app(
    State(app): State<AppState>,
    OktaJson(request): OktaJson<AppRequest>,
) -> Result<Json<Value>, OktaError> {
    let (client, secret) = app.engine.create_app(request.into_spec()?).await?;
    Ok(Json(render(&app, &client, secret.as_ref())))
}

/// `GET /api/v1/apps`.
pub async fn list_apps(State(app): State<AppState>) -> Result<Json<Value>, OktaError> {
    let clients = app.engine.apps().await?;
    Ok(Json(Value::Array(
        clients
            .iter()
            .map(|client| render(&app, client, None))
            .collect(),
    )))
}

/// `GET /api/v1/apps/{id}`.
pub async fn get_app(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let client = app.engine.app(&id).await?;
    Ok(Json(render(&app, &client, None)))
}

/// `PUT /api/v1/apps/{id}`.
pub async fn replace_app(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OktaJson(request): OktaJson<AppRequest>,
) -> Result<Json<Value>, OktaError> {
    let client = app.engine.replace_app(&id, request.into_spec()?).await?;
    Ok(Json(render(&app, &client, None)))
}

/// `POST /api/v1/apps/{id}/lifecycle/{activate|deactivate}`.
pub async fn app_lifecycle(
    State(app): State<AppState>,
    Path((id, operation)): Path<(String, String)>,
) -> Result<Json<Value>, OktaError> {
    let status = match operation.as_str() {
        "activate" => Status::Active,
        "deactivate" => Status::Inactive,
        other => return Err(OktaError::not_found("Lifecycle", other)),
    };
    app.engine.set_app_status(&id, status).await?;
    Ok(Json(json!({})))
}

/// `DELETE /api/v1/apps/{id}`: only inactive apps.
pub async fn delete_app(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, OktaError> {
    app.engine.delete_app(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Okta's app object; the secret only when it was just made.
fn render(app: &AppState, client: &Client, secret: Option<&PlainToken>) -> Value {
    let mut credentials = json!({
        "client_id": client.id,
        "autoKeyRotation": true,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
    });
    if let Some(secret) = secret {
        credentials["client_secret"] = secret.expose().into();
    }
    if let Some(jwks) = client
        .jwks
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
    {
        credentials["jwks"] = jwks;
    }
    json!({
        "id": client.id,
        "name": "oidc_client",
        "label": client.label,
        "status": client.status,
        "created": client.created_at.to_okta_string(),
        "lastUpdated": client.updated_at.to_okta_string(),
        "signOnMode": "OPENID_CONNECT",
        "credentials": { "oauthClient": credentials },
        "settings": {
            "oauthClient": {
                "redirect_uris": client.redirect_uris,
                "post_logout_redirect_uris": client.post_logout_redirect_uris,
                "response_types": client.response_types,
                "grant_types": client.grant_types,
                "application_type": client.application_type,
            }
        },
        "_links": {
            "self": { "href": format!("{}/api/v1/apps/{}", app.config.base_url, client.id) }
        }
    })
}
