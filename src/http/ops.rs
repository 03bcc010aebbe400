//! Operations endpoints for orchestrators: liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
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
