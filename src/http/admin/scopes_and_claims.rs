//! `/api/v1/authorizationServers/{id}/scopes` and `/claims`: custom scopes and claims of a
//! custom authorization server, in Okta's shapes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::engine::admin::auth_servers::{ClaimSpec, ScopeSpec};
use crate::model::{
    ClaimType, ClaimValueType, Consent, CustomClaim, GroupFilterType, MetadataPublish, Scope,
    Status,
};

use super::super::error::OktaError;
use super::super::extract::OktaJson;

/// A scope as sent to create or replace one; read-only fields (`id`, `system`) are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeRequest {
    name: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    consent: Option<Consent>,
    #[serde(default)]
    default: Option<bool>,
    #[serde(default)]
    metadata_publish: Option<MetadataPublish>,
}

impl From<ScopeRequest> for ScopeSpec {
    fn from(request: ScopeRequest) -> Self {
        ScopeSpec {
            name: request.name,
            display_name: request.display_name,
            description: request.description.unwrap_or_default(),
            consent: request.consent.unwrap_or(Consent::Implicit),
            default: request.default.unwrap_or(false),
            // Okta's default: not listed in discovery.
            metadata_publish: request
                .metadata_publish
                .unwrap_or(MetadataPublish::NoClients),
        }
    }
}

/// A claim as sent to create or replace one.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRequest {
    name: String,
    #[serde(default)]
    status: Option<Status>,
    claim_type: ClaimType,
    #[serde(default)]
    value_type: Option<ClaimValueType>,
    /// Okta's one snake-case field.
    #[serde(default, rename = "group_filter_type")]
    group_filter_type: Option<GroupFilterType>,
    value: String,
    #[serde(default)]
    conditions: Option<ClaimConditions>,
    #[serde(default)]
    always_include_in_token: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct ClaimConditions {
    #[serde(default)]
    scopes: Vec<String>,
}

impl ClaimRequest {
    fn into_spec(self) -> Result<ClaimSpec, OktaError> {
        Ok(ClaimSpec {
            name: self.name,
            status: self.status.unwrap_or(Status::Active),
            claim_type: self.claim_type,
            value: self.value,
            value_type: self.value_type.unwrap_or(ClaimValueType::Expression),
            group_filter_type: self.group_filter_type,
            scopes: self.conditions.unwrap_or_default().scopes,
            always_include_in_token: self.always_include_in_token.unwrap_or(true),
        })
    }
}

/// `GET …/scopes`.
pub async fn list_scopes(
    State(app): State<AppState>,
    Path(server_id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let scopes = app.engine.admin().scopes(&server_id).await?;
    Ok(Json(
        scopes
            .iter()
            .map(|scope| render_scope(&app, &server_id, scope))
            .collect(),
    ))
}

/// `POST …/scopes`.
pub async fn create_scope(
    State(app): State<AppState>,
    Path(server_id): Path<String>,
    OktaJson(request): OktaJson<ScopeRequest>,
) -> Result<(StatusCode, Json<Value>), OktaError> {
    let scope = app
        .engine
        .admin()
        .create_scope(&server_id, request.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(render_scope(&app, &server_id, &scope)),
    ))
}

/// `GET …/scopes/{scopeId}`.
pub async fn get_scope(
    State(app): State<AppState>,
    Path((server_id, scope_id)): Path<(String, String)>,
) -> Result<Json<Value>, OktaError> {
    let scope = app.engine.admin().scope(&server_id, &scope_id).await?;
    Ok(Json(render_scope(&app, &server_id, &scope)))
}

/// `PUT …/scopes/{scopeId}`.
pub async fn replace_scope(
    State(app): State<AppState>,
    Path((server_id, scope_id)): Path<(String, String)>,
    OktaJson(request): OktaJson<ScopeRequest>,
) -> Result<Json<Value>, OktaError> {
    let scope = app
        .engine
        .admin()
        .replace_scope(&server_id, &scope_id, request.into())
        .await?;
    Ok(Json(render_scope(&app, &server_id, &scope)))
}

/// `DELETE …/scopes/{scopeId}`.
pub async fn delete_scope(
    State(app): State<AppState>,
    Path((server_id, scope_id)): Path<(String, String)>,
) -> Result<StatusCode, OktaError> {
    app.engine
        .admin()
        .delete_scope(&server_id, &scope_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET …/claims`.
pub async fn list_claims(
    State(app): State<AppState>,
    Path(server_id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let claims = app.engine.admin().claims(&server_id).await?;
    Ok(Json(
        claims
            .iter()
            .map(|claim| render_claim(&app, &server_id, claim))
            .collect(),
    ))
}

/// `POST …/claims`.
pub async fn create_claim(
    State(app): State<AppState>,
    Path(server_id): Path<String>,
    OktaJson(request): OktaJson<ClaimRequest>,
) -> Result<(StatusCode, Json<Value>), OktaError> {
    let claim = app
        .engine
        .admin()
        .create_claim(&server_id, request.into_spec()?)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(render_claim(&app, &server_id, &claim)),
    ))
}

/// `GET …/claims/{claimId}`.
pub async fn get_claim(
    State(app): State<AppState>,
    Path((server_id, claim_id)): Path<(String, String)>,
) -> Result<Json<Value>, OktaError> {
    let claim = app.engine.admin().claim(&server_id, &claim_id).await?;
    Ok(Json(render_claim(&app, &server_id, &claim)))
}

/// `PUT …/claims/{claimId}`.
pub async fn replace_claim(
    State(app): State<AppState>,
    Path((server_id, claim_id)): Path<(String, String)>,
    OktaJson(request): OktaJson<ClaimRequest>,
) -> Result<Json<Value>, OktaError> {
    let claim = app
        .engine
        .admin()
        .replace_claim(&server_id, &claim_id, request.into_spec()?)
        .await?;
    Ok(Json(render_claim(&app, &server_id, &claim)))
}

/// `DELETE …/claims/{claimId}`.
pub async fn delete_claim(
    State(app): State<AppState>,
    Path((server_id, claim_id)): Path<(String, String)>,
) -> Result<StatusCode, OktaError> {
    app.engine
        .admin()
        .delete_claim(&server_id, &claim_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn render_scope(app: &AppState, server_id: &str, scope: &Scope) -> Value {
    json!({
        "id": scope.id,
        "name": scope.name,
        "displayName": scope.display_name,
        "description": scope.description,
        "system": false,
        "default": scope.default,
        "optional": false,
        "consent": scope.consent,
        "metadataPublish": scope.metadata_publish,
        "_links": { "self": { "href": format!(
            "{}/api/v1/authorizationServers/{server_id}/scopes/{}",
            app.config.base_url, scope.id
        ) } }
    })
}

fn render_claim(app: &AppState, server_id: &str, claim: &CustomClaim) -> Value {
    json!({
        "id": claim.id,
        "name": claim.name,
        "status": claim.status,
        "claimType": claim.claim_type,
        "valueType": claim.value_type,
        "group_filter_type": claim.group_filter_type,
        "value": claim.value,
        "alwaysIncludeInToken": claim.always_include_in_token,
        "conditions": { "scopes": claim.scopes },
        "system": false,
        "_links": { "self": { "href": format!(
            "{}/api/v1/authorizationServers/{server_id}/claims/{}",
            app.config.base_url, claim.id
        ) } }
    })
}
