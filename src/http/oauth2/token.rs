//! `POST /v1/token`, `/v1/introspect` and `/v1/revoke`: the client-authenticated endpoints.

use crate::http::extract::ClientIp;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::app::AppState;
use crate::engine::oauth::token::TokenGrant;
use crate::model::ScopeSet;

use super::super::error::OAuthError;
use super::{endpoint_url, Params, Server};

const NO_STORE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::PRAGMA, "no-cache"),
];

/// `POST /v1/token` (RFC 6749 §3.2).
pub async fn token(
    State(app): State<AppState>,
    Server(id): Server,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let params = Params::from_form(&headers, &body)?;
    let credentials = params.client_credentials(&headers)?;
    let scope = |params: &Params| {
        ScopeSet::parse(&params.get("scope").unwrap_or_default())
            .map_err(|err| OAuthError::from(crate::engine::Error::InvalidScope(err.to_string())))
    };
    let grant = match params.require("grant_type")?.as_str() {
        "authorization_code" => TokenGrant::AuthorizationCode {
            code: params.require("code")?,
            redirect_uri: params.get("redirect_uri"),
            code_verifier: params.get("code_verifier"),
        },
        "refresh_token" => TokenGrant::RefreshToken {
            refresh_token: params.require("refresh_token")?,
            scope: params.get("scope").map(|_| scope(&params)).transpose()?,
        },
        "password" => TokenGrant::Password {
            client_ip,
            username: params.require("username")?,
            password: params.require("password")?.into(),
            scope: scope(&params)?,
        },
        "client_credentials" => TokenGrant::ClientCredentials {
            scope: scope(&params)?,
        },
        other => {
            return Err(crate::engine::Error::UnsupportedGrantType(format!(
                "The grant type '{other}' is not supported."
            ))
            .into())
        }
    };
    let endpoint = endpoint_url(&app.config.base_url, &id, "/v1/token");
    let tokens = app
        .engine
        .oauth()
        .token(&id, credentials, &endpoint, grant)
        .await?;
    let mut body = json!({
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "access_token": tokens.access_token,
        "scope": tokens.scope.to_string(),
    });
    if let Some(refresh_token) = tokens.refresh_token {
        body["refresh_token"] = refresh_token.into();
    }
    if let Some(id_token) = tokens.id_token {
        body["id_token"] = id_token.into();
    }
    Ok((NO_STORE, Json(body)).into_response())
}

/// `POST /v1/introspect` (RFC 7662).
pub async fn introspect(
    State(app): State<AppState>,
    Server(id): Server,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let params = Params::from_form(&headers, &body)?;
    let credentials = params.client_credentials(&headers)?;
    let token = params.require("token")?;
    let endpoint = endpoint_url(&app.config.base_url, &id, "/v1/introspect");
    let answer = app
        .engine
        .oauth()
        .introspect(&id, credentials, &endpoint, &token)
        .await?;
    Ok((NO_STORE, Json(answer)).into_response())
}

/// `POST /v1/revoke` (RFC 7009).
pub async fn revoke(
    State(app): State<AppState>,
    Server(id): Server,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let params = Params::from_form(&headers, &body)?;
    let credentials = params.client_credentials(&headers)?;
    let token = params.require("token")?;
    if let Some(hint) = params.get("token_type_hint") {
        // RFC 7009 §2.2.1.
        if !matches!(hint.as_str(), "access_token" | "refresh_token") {
            return Err(OAuthError::from(crate::engine::Error::InvalidRequest(
                format!("The token_type_hint '{hint}' is not supported."),
            )));
        }
    }
    let endpoint = endpoint_url(&app.config.base_url, &id, "/v1/revoke");
    app.engine
        .oauth()
        .revoke(&id, credentials, &endpoint, &token)
        .await?;
    Ok((NO_STORE, ()).into_response())
}
