//! `/api/v1/apps`: Okta's Apps API for OpenID Connect apps (`signOnMode: OPENID_CONNECT`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::engine::admin::apps::AppSpec;
use crate::model::{
    AppGroupsClaim, ApplicationType, Client, ClientSecret, GrantType, PlainToken,
    RefreshTokenSettings, ResponseType, RotationType, Status, TokenEndpointAuthMethod,
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
    /// authd's own settings of an app, which Okta's Apps API does not carry.
    #[serde(default)]
    authd: Option<AuthdSettings>,
}

/// `authd` of an app: `groupsClaim` is Okta's "Groups claim" app setting (the org server's ID
/// token claim for the `groups` scope). Left out, a replace keeps it; `null` removes it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthdSettings {
    #[serde(default, deserialize_with = "present")]
    groups_claim: Option<Option<AppGroupsClaim>>,
}

/// A field that is present, `null` or not: `Some(None)` for `null`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
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
    /// Where earlier versions of authd read an app's keys; `settings.oauthClient.jwks` wins.
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
    #[serde(default)]
    refresh_token: Option<RefreshTokenRequest>,
    /// The public keys of a `private_key_jwt` app, where Okta's API and SDKs put them.
    #[serde(default)]
    jwks: Option<Value>,
}

/// Okta's `settings.oauthClient.refresh_token`; what is left out takes Okta's default.
#[derive(Debug, Deserialize)]
struct RefreshTokenRequest {
    rotation_type: Option<RotationType>,
    leeway: Option<u32>,
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
            .unwrap_or(settings.application_type.default_auth_method());
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
            jwks: settings.jwks.or(oauth.jwks).map(|jwks| jwks.to_string()),
            groups_claim: self.authd.and_then(|authd| authd.groups_claim),
            refresh_token: settings.refresh_token.map(|given| {
                let defaults = RefreshTokenSettings::default();
                RefreshTokenSettings {
                    rotation_type: given.rotation_type.unwrap_or(defaults.rotation_type),
                    leeway_seconds: given.leeway.unwrap_or(defaults.leeway_seconds),
                }
            }),
        })
    }
}

/// `POST /api/v1/apps`: the client secret is in this response only.
pub async fn create_app(
    State(app): State<AppState>,
    OktaJson(request): OktaJson<AppRequest>,
) -> Result<Json<Value>, OktaError> {
    let (client, secret) = app.engine.admin().create_app(request.into_spec()?).await?;
    Ok(Json(render(&app, &client, secret.as_ref())))
}

/// `GET /api/v1/apps` query.
#[derive(Debug, Deserialize)]
pub struct ListAppsQuery {
    q: Option<String>,
    filter: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

const MAX_PAGE: usize = 200;

/// `GET /api/v1/apps?q=&filter=&limit=&after=`: `q` matches the start of a label (any case);
/// `filter` takes `status eq "…"` and `name eq "oidc_client"`, joined by `and`.
pub async fn list_apps(
    State(app): State<AppState>,
    Query(query): Query<ListAppsQuery>,
) -> Result<Response, OktaError> {
    let limit = super::page_limit(query.limit.as_deref(), MAX_PAGE)?;
    let (status, oidc) = match query.filter.as_deref() {
        None => (None, true),
        Some(filter) => parse_filter(filter)?,
    };
    let prefix = query.q.as_deref().map(str::to_lowercase);
    let mut matching = app
        .engine
        .admin()
        .apps()
        .await?
        .into_iter()
        .filter(|client| {
            oidc && status.is_none_or(|status| client.status == status)
                && prefix
                    .as_deref()
                    .is_none_or(|prefix| client.label.to_lowercase().starts_with(prefix))
                && query
                    .after
                    .as_deref()
                    .is_none_or(|after| client.id.as_str() > after)
        });
    let page: Vec<Client> = matching.by_ref().take(limit).collect();
    let has_next = matching.next().is_some();
    let next_after = page
        .last()
        .filter(|_| has_next)
        .map(|client| client.id.as_str());
    let body = page
        .iter()
        .map(|client| render(&app, client, None))
        .collect();
    Ok(super::paged(
        body,
        &format!("{}/api/v1/apps", app.config.base_url),
        &[
            ("q", query.q.as_deref()),
            ("filter", query.filter.as_deref()),
        ],
        limit,
        next_after,
    ))
}

/// The status an app filter asks for, if any, and whether it can match an OIDC app at all.
fn parse_filter(filter: &str) -> Result<(Option<Status>, bool), OktaError> {
    let invalid = || {
        OktaError::validation(vec![format!(
            "filter: {filter:?} is not supported; use status eq \"ACTIVE\" or name eq \"oidc_client\", joined by and"
        )])
    };
    let mut status = None;
    let mut oidc = true;
    for (field, value) in super::eq_clauses(filter).ok_or_else(invalid)? {
        match field {
            "status" => status = Some(value.parse().map_err(|_| invalid())?),
            // Every app here is an OpenID Connect app.
            "name" => oidc &= value == "oidc_client",
            _ => return Err(invalid()),
        }
    }
    Ok((status, oidc))
}

/// `GET /api/v1/apps/{id}`.
pub async fn get_app(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let client = app.engine.admin().app(&id).await?;
    Ok(Json(render(&app, &client, None)))
}

/// `PUT /api/v1/apps/{id}`.
pub async fn replace_app(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OktaJson(request): OktaJson<AppRequest>,
) -> Result<Json<Value>, OktaError> {
    let client = app
        .engine
        .admin()
        .replace_app(&id, request.into_spec()?)
        .await?;
    Ok(Json(render(&app, &client, None)))
}

/// `POST /api/v1/apps/{id}/lifecycle/{activate|deactivate}`.
pub async fn app_lifecycle(
    State(app): State<AppState>,
    Path((id, operation)): Path<(String, String)>,
) -> Result<Json<Value>, OktaError> {
    let status = super::lifecycle_status(&operation)?;
    app.engine.admin().set_app_status(&id, status).await?;
    Ok(Json(json!({})))
}

/// `DELETE /api/v1/apps/{id}`: only inactive apps.
pub async fn delete_app(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, OktaError> {
    app.engine.admin().delete_app(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new client secret as Okta's API takes it; both fields are optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRequest {
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    status: Option<Status>,
}

/// `GET /api/v1/apps/{id}/credentials/secrets`.
pub async fn list_secrets(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let secrets = app.engine.admin().client_secrets(&id).await?;
    Ok(Json(Value::Array(
        secrets
            .iter()
            .map(|secret| render_secret(&app, secret, None))
            .collect(),
    )))
}

/// `POST /api/v1/apps/{id}/credentials/secrets`: the secret is in this response only. An
/// empty body generates one.
pub async fn add_secret(
    State(app): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), OktaError> {
    let request: SecretRequest = if body.iter().all(u8::is_ascii_whitespace) {
        SecretRequest::default()
    } else {
        super::super::extract::parse_okta_json(&body)?
    };
    let (secret, plain) = app
        .engine
        .admin()
        .add_client_secret(
            &id,
            request.client_secret,
            request.status.unwrap_or(Status::Active),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(render_secret(&app, &secret, Some(&plain))),
    ))
}

/// `GET /api/v1/apps/{id}/credentials/secrets/{secretId}`.
pub async fn get_secret(
    State(app): State<AppState>,
    Path((id, secret_id)): Path<(String, String)>,
) -> Result<Json<Value>, OktaError> {
    let secret = app.engine.admin().client_secret(&id, &secret_id).await?;
    Ok(Json(render_secret(&app, &secret, None)))
}

/// `POST /api/v1/apps/{id}/credentials/secrets/{secretId}/lifecycle/{activate|deactivate}`.
pub async fn secret_lifecycle(
    State(app): State<AppState>,
    Path((id, secret_id, operation)): Path<(String, String, String)>,
) -> Result<Json<Value>, OktaError> {
    let status = super::lifecycle_status(&operation)?;
    let secret = app
        .engine
        .admin()
        .set_client_secret_status(&id, &secret_id, status)
        .await?;
    Ok(Json(render_secret(&app, &secret, None)))
}

/// `DELETE /api/v1/apps/{id}/credentials/secrets/{secretId}`: only inactive secrets.
pub async fn delete_secret(
    State(app): State<AppState>,
    Path((id, secret_id)): Path<(String, String)>,
) -> Result<StatusCode, OktaError> {
    app.engine
        .admin()
        .delete_client_secret(&id, &secret_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Okta's client secret object; the secret itself only when it was just made.
fn render_secret(app: &AppState, secret: &ClientSecret, plain: Option<&PlainToken>) -> Value {
    let mut rendered = json!({
        "id": secret.id,
        "status": secret.status,
        "secret_hash": app.engine.admin().secret_fingerprint(secret),
        "created": secret.created_at.to_okta_string(),
        "lastUpdated": secret.updated_at.to_okta_string(),
        "_links": {
            "self": { "href": format!(
                "{}/api/v1/apps/{}/credentials/secrets/{}",
                app.config.base_url, secret.client_id, secret.id
            ) }
        }
    });
    if let Some(plain) = plain {
        rendered["client_secret"] = plain.expose().into();
    }
    rendered
}

/// Okta's app object; the secret only when it was just made.
pub(crate) fn render(app: &AppState, client: &Client, secret: Option<&PlainToken>) -> Value {
    let mut credentials = json!({
        "client_id": client.id,
        "autoKeyRotation": true,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
    });
    if let Some(secret) = secret {
        credentials["client_secret"] = secret.expose().into();
    }
    let mut settings = json!({
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "response_types": client.response_types,
        "grant_types": client.grant_types,
        "application_type": client.application_type,
    });
    if let Some(jwks) = client
        .jwks
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
    {
        settings["jwks"] = jwks;
    }
    if client.grant_types.contains(&GrantType::RefreshToken) {
        settings["refresh_token"] = json!({
            "rotation_type": client.refresh_token.rotation_type,
            "leeway": client.refresh_token.leeway_seconds,
        });
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
        "settings": { "oauthClient": settings },
        "authd": { "groupsClaim": client.groups_claim },
        "_links": {
            "self": { "href": format!("{}/api/v1/apps/{}", app.config.base_url, client.id) }
        }
    })
}
