//! Operations endpoints for orchestrators: liveness and readiness on the public port, and
//! Prometheus metrics on a port of their own.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::AppState;

/// `GET /health/live`: the process is serving.
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "UP" }))
}

/// `GET /health/ready`: the database answers and takes writes, so requests can be served.
pub async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    // Its own bound, so that an orchestrator's probe gets an answer while the database hangs.
    let answered = tokio::time::timeout(app.config.database_timeout, async {
        app.engine.ping().await?;
        app.engine.check_writable().await
    })
    .await
    .unwrap_or(Err(crate::engine::Error::Unavailable));
    match answered {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "UP" }))),
        Err(crate::engine::Error::Unwritable) => {
            tracing::warn!("readiness check failed: the database cannot be written");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "DOWN", "database": "read-only or full" })),
            )
        }
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "DOWN", "database": "unreachable" })),
            )
        }
    }
}

/// Counts every request by method, matched route and status, and times it by route. The route,
/// never the URI: a path can carry a token (DESIGN §6), and series must stay few.
pub async fn record_request(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if !app.engine.metrics().is_recording() {
        return next.run(request).await;
    }
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |path| path.as_str().to_owned());
    // Only the methods routes answer: any other word is a method to hyper, and would make a
    // series of its own for every caller who invents one.
    let method = known_method(request.method());
    let response = next.run(request).await;
    let metrics = app.engine.metrics();
    metrics.count(
        "authd_http_requests_total",
        &[
            ("method", method),
            ("route", &route),
            ("status", response.status().as_str()),
        ],
    );
    metrics.time(
        "authd_http_request_duration_seconds",
        &[("route", &route)],
        started.elapsed(),
    );
    response
}

/// The method as a label. Only the methods routes answer are their own: any other word is a
/// method to hyper, and would make a series for every caller who invents one.
fn known_method(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "HEAD" => "HEAD",
        "PATCH" => "PATCH",
        _ => "other",
    }
}

/// The router of `AUTHD_METRICS_LISTEN`: `GET /metrics` and nothing else.
pub fn metrics_router(app: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(app)
}

/// `GET /metrics`: every series in Prometheus's text format.
async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.engine.render_metrics().await,
    )
}
