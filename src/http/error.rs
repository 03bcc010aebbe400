//! Error responses in the shape each API family uses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::engine;
use crate::model::new_okta_id;

/// An error on `/api/v1` or another Okta-shaped surface: `errorCode`, `errorSummary`,
/// `errorLink`, `errorId`, `errorCauses`.
#[derive(Debug)]
pub struct OktaError {
    status: StatusCode,
    code: &'static str,
    summary: String,
    causes: Vec<String>,
}

impl OktaError {
    /// `E0000007`: the resource does not exist.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "E0000007",
            summary: format!("Not found: Resource not found: {id} ({kind})"),
            causes: vec![],
        }
    }

    /// `E0000001`: the request failed validation; each cause names a field.
    pub fn validation(causes: Vec<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "E0000001",
            summary: "Api validation failed".to_owned(),
            causes,
        }
    }

    /// `E0000009`: something failed on our side.
    pub fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "E0000009",
            summary: "Internal Server Error".to_owned(),
            causes: vec![],
        }
    }
}

impl From<engine::Error> for OktaError {
    fn from(err: engine::Error) -> Self {
        match err {
            engine::Error::NotFound { kind, id } => OktaError::not_found(kind, &id),
            engine::Error::Validation(causes) => OktaError::validation(causes),
            engine::Error::Internal(source) => {
                // Logged once, here at the edge, with its chain; the client sees only the id.
                let error = OktaError::internal();
                tracing::error!(error = %error_chain(source.as_ref()), "internal error");
                error
            }
        }
    }
}

impl IntoResponse for OktaError {
    fn into_response(self) -> Response {
        let error_id = new_okta_id("oae");
        let body = json!({
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": error_id,
            "errorCauses": self
                .causes
                .iter()
                .map(|cause| json!({ "errorSummary": cause }))
                .collect::<Vec<_>>(),
        });
        (self.status, Json(body)).into_response()
    }
}

/// An error and its sources on one line.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        text.push_str(": ");
        text.push_str(&next.to_string());
        source = next.source();
    }
    text
}
