//! `GET/POST /v1/userinfo` (OIDC Core §5.3), with RFC 6750 errors.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::app::AppState;

use super::super::error::OAuthError;
use super::{Params, Server};

/// The user's claims for a bearer access token: in `Authorization: Bearer`, or (POST) the
/// `access_token` form parameter (RFC 6750 §2.2).
pub async fn userinfo(
    State(app): State<AppState>,
    Server(id): Server,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim().to_owned())
        });
    let from_body = if body.is_empty() {
        None
    } else {
        Params::from_form(&headers, &body)
            .ok()
            .and_then(|params| params.get("access_token"))
    };
    let Some(token) = from_header.or(from_body) else {
        // RFC 6750 §3.1: no token, no error code.
        return Ok((
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response());
    };
    let claims = app.engine.oauth().userinfo(&id, &token).await?;
    Ok(Json(claims).into_response())
}
