//! OpenID Connect discovery and RFC 8414 metadata, per authorization server.
//!
//! The documents list only what the server implements; each is serialized once per server and
//! served from memory with an ETag.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use crate::app::AppState;
use crate::model::{AuthServer, AuthServerId, Document};

use super::document::respond;
use super::error::OktaError;
use super::extract::AuthServerPath;

/// One server's metadata documents.
pub struct ServerDocuments {
    /// `/.well-known/openid-configuration`.
    pub openid_configuration: Document,
    /// `/.well-known/oauth-authorization-server`.
    pub oauth_authorization_server: Document,
}

impl ServerDocuments {
    /// Builds the documents for a server under the given base URL.
    pub fn build(server: &AuthServer, base_url: &str) -> Self {
        let endpoints = server.endpoint_base(base_url);
        // RFC 8414 §2 and OpenID Connect Discovery §3, restricted to what is served today.
        let metadata = json!({
            "issuer": server.issuer(base_url),
            "jwks_uri": format!("{endpoints}/v1/keys"),
        });
        Self {
            openid_configuration: Document::json(&metadata),
            oauth_authorization_server: Document::json(&metadata),
        }
    }
}

/// Every server's documents, built on first request.
#[derive(Default)]
pub struct DiscoveryCache {
    servers: RwLock<HashMap<AuthServerId, Arc<ServerDocuments>>>,
}

impl DiscoveryCache {
    async fn get(
        &self,
        app: &AppState,
        id: &AuthServerId,
    ) -> Result<Arc<ServerDocuments>, OktaError> {
        let cached = self
            .servers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned();
        if let Some(documents) = cached {
            return Ok(documents);
        }
        let server = app.engine.auth_server(id).await?;
        let documents = Arc::new(ServerDocuments::build(&server, &app.config.base_url));
        self.servers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.clone(), documents.clone());
        Ok(documents)
    }
}

async fn serve(
    app: &AppState,
    id: &AuthServerId,
    headers: &HeaderMap,
    pick: fn(&ServerDocuments) -> &Document,
) -> Result<Response, OktaError> {
    let documents = app.discovery.get(app, id).await?;
    Ok(respond(
        pick(&documents),
        app.config.keys.jwks_cache_lifetime,
        headers,
    ))
}

/// `GET /oauth2/{as}/.well-known/openid-configuration`.
pub async fn openid_configuration(
    State(app): State<AppState>,
    AuthServerPath(id): AuthServerPath,
    headers: HeaderMap,
) -> Result<Response, OktaError> {
    serve(&app, &id, &headers, |d| &d.openid_configuration).await
}

/// `GET /oauth2/{as}/.well-known/oauth-authorization-server`.
pub async fn oauth_authorization_server(
    State(app): State<AppState>,
    AuthServerPath(id): AuthServerPath,
    headers: HeaderMap,
) -> Result<Response, OktaError> {
    serve(&app, &id, &headers, |d| &d.oauth_authorization_server).await
}

/// `GET /.well-known/openid-configuration`: the org server's.
pub async fn org_openid_configuration(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, OktaError> {
    serve(&app, &AuthServerId::org(), &headers, |d| {
        &d.openid_configuration
    })
    .await
}

/// `GET /.well-known/oauth-authorization-server`: the org server's.
pub async fn org_oauth_authorization_server(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, OktaError> {
    serve(&app, &AuthServerId::org(), &headers, |d| {
        &d.oauth_authorization_server
    })
    .await
}
