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
use crate::model::{AuthServer, AuthServerId, Document, MetadataPublish, OIDC_SCOPES};

use super::document::respond;
use super::error::OktaError;
use super::oauth2::Server;

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
        let mut scopes: Vec<&str> = OIDC_SCOPES.to_vec();
        scopes.extend(
            server
                .scopes
                .iter()
                .filter(|scope| scope.metadata_publish == MetadataPublish::AllClients)
                .map(|scope| scope.name.as_str()),
        );
        let auth_methods = [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ];
        // RFC 8414 §2: what the server does, nothing it does not.
        let mut metadata = json!({
            "issuer": server.issuer(base_url),
            "authorization_endpoint": format!("{endpoints}/v1/authorize"),
            "token_endpoint": format!("{endpoints}/v1/token"),
            "jwks_uri": format!("{endpoints}/v1/keys"),
            "response_types_supported": [
                "code", "token", "id_token", "id_token token", "code id_token", "code token",
                "code id_token token"
            ],
            "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
            "grant_types_supported": [
                "authorization_code", "implicit", "refresh_token", "password", "client_credentials"
            ],
            "subject_types_supported": ["public"],
            "scopes_supported": scopes,
            "token_endpoint_auth_methods_supported": auth_methods,
            "token_endpoint_auth_signing_alg_values_supported": CLIENT_ASSERTION_ALGS,
            "code_challenge_methods_supported": ["S256"],
            "introspection_endpoint": format!("{endpoints}/v1/introspect"),
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint": format!("{endpoints}/v1/revoke"),
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "end_session_endpoint": format!("{endpoints}/v1/logout"),
            // RFC 9207: authorization responses carry `iss`.
            "authorization_response_iss_parameter_supported": true,
            "request_parameter_supported": false,
            "claims_parameter_supported": false,
        });
        let oauth_authorization_server = Document::json(&metadata);
        // OpenID Connect Discovery §3 adds the ID token and userinfo.
        metadata["userinfo_endpoint"] = format!("{endpoints}/v1/userinfo").into();
        metadata["id_token_signing_alg_values_supported"] = json!([server.signing_alg.as_str()]);
        metadata["claims_supported"] = json!([
            "iss",
            "ver",
            "sub",
            "aud",
            "iat",
            "exp",
            "jti",
            "auth_time",
            "amr",
            "idp",
            "nonce",
            "name",
            "nickname",
            "preferred_username",
            "given_name",
            "middle_name",
            "family_name",
            "profile",
            "zoneinfo",
            "locale",
            "updated_at",
            "email",
            "email_verified",
            "address",
            "phone_number",
            "at_hash",
            "c_hash"
        ]);
        Self {
            openid_configuration: Document::json(&metadata),
            oauth_authorization_server,
        }
    }
}

/// Signature algorithms accepted on `private_key_jwt` client assertions.
const CLIENT_ASSERTION_ALGS: [&str; 6] = ["RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"];

/// Every server's documents, built on first request.
#[derive(Default)]
pub struct DiscoveryCache {
    servers: RwLock<HashMap<AuthServerId, Arc<ServerDocuments>>>,
}

impl DiscoveryCache {
    /// Drops a server's documents; the next request rebuilds them from the store.
    pub fn invalidate(&self, id: &AuthServerId) {
        self.servers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
    }

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
