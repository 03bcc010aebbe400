//! `GET /oauth2/{as}/v1/keys`: the JWKS, from the key ring's pre-serialized copy.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::app::AppState;
use crate::model::AuthServerId;

use super::document::respond;
use super::error::OktaError;
use super::extract::AuthServerPath;

/// A custom server's JWKS.
pub async fn keys(
    State(app): State<AppState>,
    AuthServerPath(id): AuthServerPath,
    headers: HeaderMap,
) -> Result<Response, OktaError> {
    serve(&app, &id, &headers).await
}

/// The org server's JWKS, at `/oauth2/v1/keys`.
pub async fn org_keys(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, OktaError> {
    serve(&app, &AuthServerId::org(), &headers).await
}

async fn serve(
    app: &AppState,
    id: &AuthServerId,
    headers: &HeaderMap,
) -> Result<Response, OktaError> {
    let jwks = app.engine.jwks(id).await?;
    Ok(respond(&jwks, app.config.keys.jwks_cache_lifetime, headers))
}
