//! Error responses in the shape each API family uses.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::engine;
use crate::engine::sign_in::rate_limit::RateInfo;
use crate::model::new_okta_id;

/// An error on `/api/v1` or another Okta-shaped surface: `errorCode`, `errorSummary`,
/// `errorLink`, `errorId`, `errorCauses`.
#[derive(Debug)]
pub struct OktaError {
    status: StatusCode,
    code: &'static str,
    summary: String,
    causes: Vec<String>,
    rate: Option<RateInfo>,
}

impl OktaError {
    fn new(status: StatusCode, code: &'static str, summary: impl Into<String>) -> Self {
        Self {
            status,
            code,
            summary: summary.into(),
            causes: vec![],
            rate: None,
        }
    }

    /// Adds `X-Rate-Limit-*` headers, as Okta sends them on every answer of a limited API.
    pub fn with_rate(mut self, rate: RateInfo) -> Self {
        self.rate.get_or_insert(rate);
        self
    }

    fn with_causes(mut self, causes: Vec<String>) -> Self {
        self.causes = causes;
        self
    }

    /// `E0000007`: the resource does not exist.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "E0000007",
            format!("Not found: Resource not found: {id} ({kind})"),
        )
    }

    /// `E0000001`: the request failed validation; each cause names a field.
    pub fn validation(causes: Vec<String>) -> Self {
        let summary = match causes.first() {
            Some(first) => format!(
                "Api validation failed: {}",
                first.split(':').next().unwrap_or(first)
            ),
            None => "Api validation failed".to_owned(),
        };
        Self::new(StatusCode::BAD_REQUEST, "E0000001", summary).with_causes(causes)
    }

    /// `E0000003`: the body is not JSON (or too large to read).
    pub fn malformed_body(cause: Option<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000003",
            "The request body was not well-formed.",
        )
        .with_causes(cause.into_iter().collect())
    }

    /// `E0000011`: a missing or invalid token (state token, API token).
    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        )
    }

    /// `E0000005`: the request needs a browser session and has none (or an ended one).
    pub fn invalid_session() -> Self {
        Self::new(StatusCode::FORBIDDEN, "E0000005", "Invalid session")
    }

    /// `E0000004`: authentication failed, whatever the reason.
    pub fn authentication_failed() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "E0000004",
            "Authentication failed",
        )
    }

    /// `E0000009`: something failed on our side.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "E0000009",
            "Internal Server Error",
        )
    }
}

impl From<engine::Error> for OktaError {
    fn from(err: engine::Error) -> Self {
        match err {
            engine::Error::NotFound { kind, id } => OktaError::not_found(kind, &id),
            engine::Error::Validation(causes) => OktaError::validation(causes),
            engine::Error::AuthenticationFailed => OktaError::authentication_failed(),
            engine::Error::InvalidToken => OktaError::invalid_token(),
            engine::Error::OperationNotAllowed => {
                let summary = "This operation is not allowed in the current authentication state.";
                OktaError::new(StatusCode::FORBIDDEN, "E0000079", summary)
                    .with_causes(vec![summary.to_owned()])
            }
            engine::Error::Refused {
                code,
                summary,
                cause,
            } => {
                // Okta answers an operation it does not support with 501, a refused one 403.
                let status = if code == "E0000060" {
                    StatusCode::NOT_IMPLEMENTED
                } else {
                    StatusCode::FORBIDDEN
                };
                OktaError::new(status, code, summary).with_causes(cause.into_iter().collect())
            }
            engine::Error::CredentialsUpdateFailed(causes) => OktaError::new(
                StatusCode::FORBIDDEN,
                "E0000014",
                "Update of credentials failed",
            )
            .with_causes(causes),
            engine::Error::RateLimited(rate) => OktaError {
                rate: Some(rate),
                ..OktaError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "E0000047",
                    "API call exceeded rate limit due to too many requests.",
                )
            },
            engine::Error::Internal(source) => {
                // Logged once, here at the edge, with its chain; the client sees only the id.
                tracing::error!(error = %error_chain(source.as_ref()), "internal error");
                OktaError::internal()
            }
            engine::Error::Unavailable => {
                tracing::warn!("request failed: the database does not answer");
                OktaError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "E0000009",
                    "The service is temporarily unavailable. Try again later.",
                )
            }
            engine::Error::Unwritable => {
                tracing::warn!("request failed: the database cannot be written");
                OktaError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "E0000009",
                    "The service cannot save changes right now (its database is read-only or \
                     full). Try again later.",
                )
            }
            // OAuth outcomes reach Okta-shaped endpoints only as request problems.
            other => OktaError::validation(vec![other.to_string()]),
        }
    }
}

/// An OAuth 2.0 error (RFC 6749 §5.2, RFC 6750 §3) as JSON with `error` and
/// `error_description` — okta-auth-js recognises an OAuth error only with both.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// `WWW-Authenticate` value, for Basic client authentication and bearer tokens.
    challenge: Option<String>,
    /// Okta's `X-Rate-Limit-*` standing, on a 429.
    rate: Option<RateInfo>,
}

impl OAuthError {
    /// `invalid_request` with a description.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: description.into(),
            challenge: None,
            rate: None,
        }
    }

    /// The `error` code.
    pub fn code(&self) -> &'static str {
        self.error
    }

    /// The `error_description`.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl From<engine::Error> for OAuthError {
    fn from(err: engine::Error) -> Self {
        use engine::Error as E;
        let rate = match &err {
            E::RateLimited(rate) => Some(*rate),
            _ => None,
        };
        let (status, challenge) = match &err {
            E::InvalidClient { used_basic, .. } => (
                StatusCode::UNAUTHORIZED,
                // RFC 6749 §5.2: a client that tried Basic is told which scheme to use.
                used_basic.then(|| "Basic realm=\"authd\"".to_owned()),
            ),
            E::InvalidAccessToken(description) => (
                StatusCode::UNAUTHORIZED,
                Some(format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    description.replace('"', "'")
                )),
            ),
            E::InsufficientScope(description) => (
                StatusCode::FORBIDDEN,
                Some(format!(
                    "Bearer error=\"insufficient_scope\", error_description=\"{}\"",
                    description.replace('"', "'")
                )),
            ),
            E::AccessDenied(_) => (StatusCode::FORBIDDEN, None),
            E::NotFound { .. } => (StatusCode::NOT_FOUND, None),
            E::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, None),
            E::Unavailable => {
                tracing::warn!("request failed: the database does not answer");
                (StatusCode::SERVICE_UNAVAILABLE, None)
            }
            E::Unwritable => {
                tracing::warn!("request failed: the database cannot be written");
                (StatusCode::SERVICE_UNAVAILABLE, None)
            }
            E::Internal(source) => {
                tracing::error!(error = %error_chain(source.as_ref()), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, None)
            }
            _ => (StatusCode::BAD_REQUEST, None),
        };
        let (error, description) = err.oauth_error();
        Self {
            status,
            error,
            description,
            challenge,
            rate,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [
                (axum::http::header::CACHE_CONTROL, "no-store"),
                (axum::http::header::PRAGMA, "no-cache"),
            ],
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        if let Some(challenge) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(rate) = self.rate {
            add_rate_limit_headers(&mut response, rate);
        }
        response
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
        let mut response = (self.status, Json(body)).into_response();
        if let Some(rate) = self.rate {
            add_rate_limit_headers(&mut response, rate);
        }
        response
    }
}

/// Okta's `X-Rate-Limit-Limit`, `-Remaining` and `-Reset` (epoch seconds).
pub fn add_rate_limit_headers(response: &mut Response, rate: RateInfo) {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-rate-limit-limit", rate.limit.to_string()),
        ("x-rate-limit-remaining", rate.remaining.to_string()),
        ("x-rate-limit-reset", rate.reset.unix().to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
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

/// The largest plain-text rejection body that is carried over into the shaped error.
const MAX_REJECTION_TEXT: usize = 1024;

/// Gives axum's own rejections (a body over the size limit, a wrong content type, a repeated
/// or malformed query parameter, a method a route does not take), which are plain text, the
/// error shape of the API they happened on: RFC 6749 JSON on `/oauth2`, Okta's on `/api/v1`,
/// an HTML page on the browser pages. Responses the handlers made are left alone.
pub async fn shape_rejections(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // A shared handle, not a copy: this runs on every request.
    let uri = request.uri().clone();
    let path = uri.path();
    let response = next.run(request).await;
    let status = response.status();
    // axum's rejections are plain text, or empty for a method a route does not take or a path
    // no route matches. A handler's own empty answer (a bare `401` with `WWW-Authenticate`,
    // RFC 6750 §3.1) is left alone.
    let framework_made = match response.headers().get(axum::http::header::CONTENT_TYPE) {
        None => matches!(
            status,
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND
        ),
        Some(value) => value
            .to_str()
            .is_ok_and(|value| value.starts_with("text/plain")),
    };
    if !(status.is_client_error() || status.is_server_error())
        || !framework_made
        || response
            .headers()
            .contains_key(axum::http::header::WWW_AUTHENTICATE)
    {
        return response;
    }
    // Browsers land on these, so they get a page even under /oauth2.
    let browser_page = path.ends_with("/v1/authorize") || path.ends_with("/v1/logout");
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REJECTION_TEXT)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .ok()
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
    let mut shaped = if path.starts_with("/oauth2/") && !browser_page {
        OAuthError {
            status,
            error: if status.is_server_error() {
                "server_error"
            } else {
                "invalid_request"
            },
            description: text,
            challenge: None,
            rate: None,
        }
        .into_response()
    } else if path.starts_with("/api/") {
        let (code, summary) = match status {
            StatusCode::NOT_FOUND => ("E0000007", format!("Not found: Resource not found: {path}")),
            StatusCode::METHOD_NOT_ALLOWED => (
                "E0000022",
                "The endpoint does not support the provided HTTP method".to_owned(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "E0000003",
                "The request body was not well-formed.".to_owned(),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "E0000003",
                "The request body was not well-formed.".to_owned(),
            ),
            status if status.is_server_error() => ("E0000009", "Internal Server Error".to_owned()),
            _ => ("E0000001", "Api validation failed".to_owned()),
        };
        OktaError::new(status, code, summary)
            .with_causes(vec![text])
            .into_response()
    } else {
        super::login::error_page(status, &text)
    };
    // Headers the handler or a layer set (request id, rate limits, CORS) stay.
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    shaped
}
