//! `GET /oauth2[/{as}]/v1/keys`: the JWKS, from the key ring's pre-serialized copy.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::app::AppState;

use super::super::document::respond;
use super::super::error::OktaError;
use super::Server;

/// The server's JWKS.
pub async fn keys(
    State(app): State<AppState>,
    Server(id): Server,
    headers: HeaderMap,
) -> Result<Response, OktaError> {
    let jwks = app.engine.oauth().jwks(&id).await?;
    Ok(respond(
        &jwks,
        app.config.keys.jwks_cache_lifetime,
        &headers,
    ))
}
