//! The HTTP surface: one module per API family, each parsing the request, calling the engine
//! and rendering the result. No business rules and no SQL in here.
//!
//! Depends on `engine`, `model` and `config`; never on a store backend.

pub mod admin;
pub mod authn;
pub mod cookies;
pub mod discovery;
pub mod document;
pub mod error;
pub mod extract;
pub mod login;
pub mod oauth2;
pub mod ops;
pub mod server;
pub mod sessions;

use std::time::Duration;

use axum::http::{header, HeaderName, Method};
use axum::routing::{get, post, put};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::app::AppState;
use crate::telemetry;

/// Every route, with request ids and request logging.
pub fn router(state: AppState) -> Router {
    let request_body_timeout = state.config.server_limits.request_body;
    Router::new()
        .route(
            "/oauth2/v1/authorize",
            get(oauth2::authorize::authorize_get).post(oauth2::authorize::authorize_post),
        )
        .route(
            "/oauth2/{as}/v1/authorize",
            get(oauth2::authorize::authorize_get).post(oauth2::authorize::authorize_post),
        )
        .route("/health/live", get(ops::live))
        .route("/health/ready", get(ops::ready))
        .route("/api/v1/sessions", post(sessions::create_session))
        .route(
            "/login/sessionCookieRedirect",
            get(sessions::session_cookie_redirect),
        )
        .route("/login", get(login::show).post(login::submit))
        .route(
            "/reset_password/{token}",
            get(login::show_reset_password).post(login::submit_reset_password),
        )
        .merge(browser_api(state.clone()))
        .merge(admin_api(state.clone()))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            within_request_context,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            ops::record_request,
        ))
        .layer(axum::middleware::from_fn_with_state(
            request_body_timeout,
            server::request_body_deadline,
        ))
        .layer(axum::middleware::from_fn(error::shape_rejections))
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

/// The endpoints Okta's JS SDK and Sign-In Widget call from a browser on an app's origin:
/// they answer CORS preflights for the origins the server trusts for CORS, echo the exact
/// origin and allow credentials; other origins get no CORS headers (DESIGN §8). Every response
/// varies by `Origin`, so a shared cache never hands one origin's answer to another.
fn browser_api(state: AppState) -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::async_predicate(move |origin, _| {
            let state = state.clone();
            async move {
                match origin.to_str() {
                    Ok(origin) => state.engine.directory().cors_origin_allowed(origin).await,
                    Err(_) => false,
                }
            }
        }))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::ACCEPT,
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("x-okta-user-agent-extended"),
            HeaderName::from_static("x-device-fingerprint"),
            HeaderName::from_static("dpop"),
            HeaderName::from_static("x-requested-with"),
        ])
        .expose_headers([
            header::WWW_AUTHENTICATE,
            HeaderName::from_static("x-rate-limit-limit"),
            HeaderName::from_static("x-rate-limit-remaining"),
            HeaderName::from_static("x-rate-limit-reset"),
        ])
        .max_age(Duration::from_secs(3600));
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::oauth_authorization_server),
        )
        .route(
            "/.well-known/okta-organization",
            get(discovery::okta_organization),
        )
        .route(
            "/oauth2/{as}/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/oauth2/{as}/.well-known/oauth-authorization-server",
            get(discovery::oauth_authorization_server),
        )
        .route("/oauth2/v1/introspect", post(oauth2::token::introspect))
        .route(
            "/oauth2/{as}/v1/introspect",
            post(oauth2::token::introspect),
        )
        .route("/oauth2/v1/logout", get(oauth2::logout::logout))
        .route("/oauth2/{as}/v1/logout", get(oauth2::logout::logout))
        .route("/api/v1/users/me", get(sessions::get_current_user))
        .route("/oauth2/v1/token", post(oauth2::token::token))
        .route("/oauth2/{as}/v1/token", post(oauth2::token::token))
        .route("/oauth2/v1/revoke", post(oauth2::token::revoke))
        .route("/oauth2/{as}/v1/revoke", post(oauth2::token::revoke))
        .route(
            "/oauth2/v1/userinfo",
            get(oauth2::userinfo::userinfo).post(oauth2::userinfo::userinfo),
        )
        .route(
            "/oauth2/{as}/v1/userinfo",
            get(oauth2::userinfo::userinfo).post(oauth2::userinfo::userinfo),
        )
        .route("/oauth2/v1/keys", get(oauth2::keys::keys))
        .route("/oauth2/{as}/v1/keys", get(oauth2::keys::keys))
        .route("/api/v1/authn", post(authn::authn))
        .route("/api/v1/authn/cancel", post(authn::cancel))
        .route(
            "/api/v1/authn/credentials/change_password",
            post(authn::change_password),
        )
        .route("/api/v1/authn/skip", post(authn::skip))
        .route("/api/v1/authn/recovery/token", post(authn::recovery_token))
        .route(
            "/api/v1/authn/credentials/reset_password",
            post(authn::reset_password),
        )
        .route(
            "/api/v1/sessions/me",
            get(sessions::get_current_session).delete(sessions::close_current_session),
        )
        .route(
            "/api/v1/sessions/me/lifecycle/refresh",
            post(sessions::refresh_current_session),
        )
        .layer(cors)
        .layer(axum::middleware::map_response(no_cors_for_refused_origins))
}

/// tower-http's CORS layer adds its fixed headers (credentials, methods, headers, max age)
/// whatever the origin; an origin it refused gets no CORS header at all.
async fn no_cors_for_refused_origins(
    mut response: axum::response::Response,
) -> axum::response::Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        for name in [
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            header::ACCESS_CONTROL_ALLOW_METHODS,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            header::ACCESS_CONTROL_MAX_AGE,
        ] {
            headers.remove(name);
        }
    }
    response
}

/// Okta's management API: every route authenticated with `SSWS` and audited.
fn admin_api(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/sessions/{id}",
            get(sessions::get_session).delete(sessions::close_session),
        )
        .route(
            "/api/v1/sessions/{id}/lifecycle/refresh",
            post(sessions::refresh_session),
        )
        .route("/api/v1/api-tokens", get(admin::list_api_tokens))
        .route(
            "/api/v1/api-tokens/current",
            axum::routing::delete(admin::revoke_current_api_token),
        )
        .route(
            "/api/v1/api-tokens/{id}",
            get(admin::get_api_token).delete(admin::revoke_api_token),
        )
        .route("/api/v1/logs", get(admin::get_logs))
        .route(
            "/api/v1/users",
            get(admin::users::list_users).post(admin::users::create_user),
        )
        .route(
            "/api/v1/users/{id}",
            get(admin::users::get_user)
                .post(admin::users::update_user_partial)
                .put(admin::users::replace_user)
                .delete(admin::users::delete_user),
        )
        .route(
            "/api/v1/users/{id}/lifecycle/{operation}",
            post(admin::users::user_lifecycle),
        )
        .route(
            "/api/v1/authorizationServers",
            get(admin::authorization_servers::list_authorization_servers)
                .post(admin::authorization_servers::create_authorization_server),
        )
        .route(
            "/api/v1/authorizationServers/{id}",
            get(admin::authorization_servers::get_authorization_server)
                .put(admin::authorization_servers::replace_authorization_server)
                .delete(admin::authorization_servers::delete_authorization_server),
        )
        .route(
            "/api/v1/authorizationServers/{id}/lifecycle/{operation}",
            post(admin::authorization_servers::authorization_server_lifecycle),
        )
        .route(
            "/api/v1/authorizationServers/{id}/credentials/keys",
            get(admin::authorization_servers::list_authorization_server_keys),
        )
        .route(
            "/api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate",
            post(admin::authorization_servers::rotate_authorization_server_keys),
        )
        .route(
            "/api/v1/authorizationServers/{id}/scopes",
            get(admin::scopes_and_claims::list_scopes).post(admin::scopes_and_claims::create_scope),
        )
        .route(
            "/api/v1/authorizationServers/{id}/scopes/{scope_id}",
            get(admin::scopes_and_claims::get_scope)
                .put(admin::scopes_and_claims::replace_scope)
                .delete(admin::scopes_and_claims::delete_scope),
        )
        .route(
            "/api/v1/authorizationServers/{id}/claims",
            get(admin::scopes_and_claims::list_claims).post(admin::scopes_and_claims::create_claim),
        )
        .route(
            "/api/v1/authorizationServers/{id}/claims/{claim_id}",
            get(admin::scopes_and_claims::get_claim)
                .put(admin::scopes_and_claims::replace_claim)
                .delete(admin::scopes_and_claims::delete_claim),
        )
        .route(
            "/api/v1/authorizationServers/{id}/policies",
            get(admin::policies::list_policies).post(admin::policies::create_policy),
        )
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}",
            get(admin::policies::get_policy)
                .put(admin::policies::replace_policy)
                .delete(admin::policies::delete_policy),
        )
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}/lifecycle/{operation}",
            post(admin::policies::policy_lifecycle),
        )
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}/rules",
            get(admin::policies::list_rules).post(admin::policies::create_rule),
        )
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}/rules/{rule_id}",
            get(admin::policies::get_rule)
                .put(admin::policies::replace_rule)
                .delete(admin::policies::delete_rule),
        )
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}/rules/{rule_id}/lifecycle/{operation}",
            post(admin::policies::rule_lifecycle),
        )
        .route(
            "/api/v1/groups",
            get(admin::groups::list_groups).post(admin::groups::create_group),
        )
        .route(
            "/api/v1/groups/{id}",
            get(admin::groups::get_group)
                .put(admin::groups::replace_group)
                .delete(admin::groups::delete_group),
        )
        .route(
            "/api/v1/groups/{id}/users",
            get(admin::groups::list_group_members),
        )
        .route(
            "/api/v1/groups/{id}/users/{user_id}",
            put(admin::groups::add_group_member).delete(admin::groups::remove_group_member),
        )
        .route(
            "/api/v1/groups/{id}/apps",
            get(admin::assignments::list_group_apps),
        )
        .route(
            "/api/v1/users/{id}/groups",
            get(admin::groups::list_user_groups),
        )
        .route(
            "/api/v1/apps/{id}/users",
            get(admin::assignments::list_app_users).post(admin::assignments::assign_user),
        )
        .route(
            "/api/v1/apps/{id}/users/{user_id}",
            get(admin::assignments::get_app_user)
                .post(admin::assignments::update_app_user)
                .delete(admin::assignments::unassign_user),
        )
        .route(
            "/api/v1/apps/{id}/groups",
            get(admin::assignments::list_app_groups),
        )
        .route(
            "/api/v1/apps/{id}/groups/{group_id}",
            get(admin::assignments::get_app_group)
                .put(admin::assignments::assign_group)
                .delete(admin::assignments::unassign_group),
        )
        .route(
            "/api/v1/apps",
            get(admin::apps::list_apps).post(admin::apps::create_app),
        )
        .route(
            "/api/v1/apps/{id}",
            get(admin::apps::get_app)
                .put(admin::apps::replace_app)
                .delete(admin::apps::delete_app),
        )
        .route(
            "/api/v1/apps/{id}/lifecycle/{operation}",
            post(admin::apps::app_lifecycle),
        )
        .route(
            "/api/v1/apps/{id}/credentials/secrets",
            get(admin::apps::list_secrets).post(admin::apps::add_secret),
        )
        .route(
            "/api/v1/apps/{id}/credentials/secrets/{secret_id}",
            get(admin::apps::get_secret).delete(admin::apps::delete_secret),
        )
        .route(
            "/api/v1/apps/{id}/credentials/secrets/{secret_id}/lifecycle/{operation}",
            post(admin::apps::secret_lifecycle),
        )
        .route(
            "/api/v1/trustedOrigins",
            get(admin::trusted_origins::list_trusted_origins)
                .post(admin::trusted_origins::create_trusted_origin),
        )
        .route(
            "/api/v1/trustedOrigins/{id}",
            get(admin::trusted_origins::get_trusted_origin)
                .put(admin::trusted_origins::replace_trusted_origin)
                .delete(admin::trusted_origins::delete_trusted_origin),
        )
        .route(
            "/api/v1/trustedOrigins/{id}/lifecycle/{operation}",
            post(admin::trusted_origins::trusted_origin_lifecycle),
        )
        .route(
            "/api/v1/users/{id}/credentials/change_password",
            post(admin::users::change_password),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            admin::authenticate_and_audit,
        ))
}

/// Middleware: whatever the request records in the System Log names its client (IP through
/// trusted proxies, user agent) and its request id.
async fn within_request_context(
    axum::extract::State(app): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (mut parts, body) = request.into_parts();
    let Ok(extract::ClientIp(ip)) = <extract::ClientIp as axum::extract::FromRequestParts<
        AppState,
    >>::from_request_parts(&mut parts, &app)
    .await;
    let context = crate::model::RequestContext {
        ip,
        user_agent: parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(512).collect()),
        request_id: parts
            .extensions
            .get::<tower_http::request_id::RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .map(str::to_owned),
    };
    let request = axum::extract::Request::from_parts(parts, body);
    crate::engine::system_log::in_request(context, next.run(request)).await
}
