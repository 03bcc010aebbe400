//! OpenID Connect discovery and RFC 8414 metadata, per authorization server.
//!
//! The engine's directory holds each server's documents serialized; they are served from
//! memory with an ETag.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use crate::app::AppState;
use crate::engine::discovery::ServerDocuments;
use crate::model::{AuthServerId, Document};

use super::document::respond;
use super::error::OktaError;
use super::oauth2::Server;

async fn serve(
    app: &AppState,
    id: &AuthServerId,
    headers: &HeaderMap,
    pick: fn(&ServerDocuments) -> &Document,
) -> Result<Response, OktaError> {
    let entry = app.engine.directory().server_entry(id).await?;
    Ok(respond(
        pick(&entry.documents),
        app.config.keys.jwks_cache_lifetime,
        headers,
    ))
}

/// `GET /.well-known/openid-configuration` (org) and
/// `GET /oauth2/{as}/.well-known/openid-configuration`.
pub async fn openid_configuration(
    State(app): State<AppState>,
    Server(id): Server,
    headers: HeaderMap,
) -> Result<Response, OktaError> {
    serve(&app, &id, &headers, |d| &d.openid_configuration).await
}

/// `GET /.well-known/oauth-authorization-server` (org) and
/// `GET /oauth2/{as}/.well-known/oauth-authorization-server`.
pub async fn oauth_authorization_server(
    State(app): State<AppState>,
    Server(id): Server,
    headers: HeaderMap,
) -> Result<Response, OktaError> {
    serve(&app, &id, &headers, |d| &d.oauth_authorization_server).await
}

/// The org's id in Okta's format (`00o…`), as `/.well-known/okta-organization` reports it.
pub const ORG_ID: &str = "00oauthdorganization";

/// `GET /.well-known/okta-organization`: Okta's org metadata, which Okta's tooling and the
/// Sign-In Widget probe to learn the org's id and which pipeline (Classic `v1`) it runs.
pub async fn okta_organization(State(app): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(json!({
        "id": ORG_ID,
        "pipeline": "v1",
        "_links": { "organization": { "href": app.config.base_url } },
        "settings": { "analyticsCollectionEnabled": false, "bugReportingEnabled": false, "omEnabled": false }
    }))
}
