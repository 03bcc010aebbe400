//! Extractors that turn request parts into checked values, rejecting in the right error shape.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::model::AuthServerId;

use super::error::OktaError;

/// The `{as}` segment of `/oauth2/{as}/…`: a custom authorization server's id. The org server
/// is served without the segment, so `org` here is not found, as any other unknown id.
pub struct AuthServerPath(pub AuthServerId);

impl<S: Send + Sync> FromRequestParts<S> for AuthServerPath {
    type Rejection = OktaError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| OktaError::not_found("AuthorizationServer", ""))?;
        match AuthServerId::parse(raw.as_str()) {
            Ok(id) if !id.is_org() => Ok(AuthServerPath(id)),
            _ => Err(OktaError::not_found("AuthorizationServer", &raw)),
        }
    }
}
