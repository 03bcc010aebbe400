//! The HTTP surface: one module per API family, each parsing the request, calling the engine
//! and rendering the result. No business rules and no SQL in here.
//!
//! Depends on `engine`, `model` and `config`; never on a store backend.

pub mod discovery;
pub mod document;
pub mod error;
pub mod extract;
pub mod keys;
pub mod ops;

use axum::routing::get;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::app::AppState;
use crate::telemetry;

/// Every route, with request ids and request logging.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::org_openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::org_oauth_authorization_server),
        )
        .route("/oauth2/v1/keys", get(keys::org_keys))
        .route(
            "/oauth2/{as}/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/oauth2/{as}/.well-known/oauth-authorization-server",
            get(discovery::oauth_authorization_server),
        )
        .route("/oauth2/{as}/v1/keys", get(keys::keys))
        .route("/health/live", get(ops::live))
        .route("/health/ready", get(ops::ready))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(telemetry::set_request_id_layer())
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(telemetry::request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(telemetry::propagate_request_id_layer()),
        )
}
