//! Okta's management API (`Authorization: SSWS <token>`). Today: the API-token check that the
//! admin session endpoints use, against the bootstrap token `AUTHD_ADMIN_TOKEN`.

use axum::http::{header, HeaderMap};
use secrecy::ExposeSecret;

use crate::app::AppState;
use crate::model::TokenHash;

use super::error::OktaError;

/// Accepts only `Authorization: SSWS <token>` with a configured token; `401 E0000011`
/// otherwise.
pub fn require_api_token(app: &AppState, headers: &HeaderMap) -> Result<(), OktaError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("SSWS "))
        .map(str::trim);
    let (Some(presented), Some(expected)) = (presented, app.config.admin_token.as_ref()) else {
        return Err(OktaError::invalid_token());
    };
    // Comparing digests keeps the comparison's timing independent of the token's bytes.
    if TokenHash::of(presented) == TokenHash::of(expected.expose_secret()) {
        Ok(())
    } else {
        Err(OktaError::invalid_token())
    }
}
