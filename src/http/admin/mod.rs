//! Okta's management API (`Authorization: SSWS <token>`): API tokens, the System Log, and the
//! session administration of the Sessions API. One middleware authenticates every call and
//! records it in the audit log.

use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::request_id::RequestId;

use crate::app::AppState;
use crate::engine::admin::AuditEntry;
use crate::model::{Actor, ApiToken, AuditEvent, AuditTarget, Timestamp};

use super::error::OktaError;

pub mod apps;
pub mod authorization_servers;
pub mod policies;
pub mod scopes_and_claims;
pub mod trusted_origins;
pub mod users;

/// Authenticates `SSWS` (`401 E0000011` otherwise), then records the call in the audit log:
/// who, what (method, route, path ids), when, and whether it succeeded. Never a secret: the
/// route is recorded, not the URI, and no body. A wrong token is recorded too, and an IP that
/// keeps presenting wrong ones is refused for the rest of the minute (`429 E0000047`).
pub async fn authenticate_and_audit(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(super::extract::ClientIp(ip)) = <super::extract::ClientIp as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &app).await;
    let mut request = Request::from_parts(parts, body);
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("SSWS "))
        .map(|token| token.trim().to_owned());
    let Some(presented) = presented else {
        return OktaError::invalid_token().into_response();
    };
    let actor = match app
        .engine
        .admin()
        .authenticate_api_token(&presented, ip)
        .await
    {
        Ok(actor) => actor,
        Err(crate::engine::Error::InvalidToken) => {
            let route = request
                .extensions()
                .get::<MatchedPath>()
                .map_or_else(|| "(unmatched)".to_owned(), |path| path.as_str().to_owned());
            let entry = AuditEntry {
                event_type: "system.api_token.authenticate".to_owned(),
                display_message: format!(
                    "{} {route}: an invalid or expired API token was presented",
                    request.method()
                ),
                success: false,
                actor: Actor {
                    id: "unknown".to_owned(),
                    name: "unknown".to_owned(),
                },
                targets: vec![],
                client_ip: ip.map(|ip| ip.to_string()),
                request_id: request
                    .extensions()
                    .get::<RequestId>()
                    .and_then(|id| id.header_value().to_str().ok())
                    .map(str::to_owned),
            };
            if let Err(err) = app.engine.admin().audit(entry).await {
                tracing::error!(error = %super::error::error_chain(&err), "cannot record an audit event");
            }
            return OktaError::invalid_token().into_response();
        }
        Err(err) => return OktaError::from(err).into_response(),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .map(str::to_owned);
    let client_ip = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let request_path = request.uri().path().to_owned();
    let targets = target_of(&route, &request_path);
    request.extensions_mut().insert(actor.clone());
    let response = next.run(request).await;
    let status = response.status();
    let entry = AuditEntry {
        event_type: event_type(&method, &route, request_path.as_str()),
        display_message: format!("{method} {route} → {}", status.as_u16()),
        success: status.is_success(),
        actor,
        targets,
        client_ip,
        request_id,
    };
    if let Err(err) = app.engine.admin().audit(entry).await {
        // The call itself is done; a lost audit entry is logged, not turned into a failure.
        tracing::error!(error = %super::error::error_chain(&err), "cannot record an audit event");
    }
    response
}

/// Okta-like event types: `system.api_token.revoke`, `user.session.end`, … by route and method.
fn event_type(method: &axum::http::Method, route: &str, path: &str) -> String {
    let action = match *method {
        axum::http::Method::GET => "read",
        // The operation is the path's last segment (`…/lifecycle/deactivate`), not the route's
        // `{operation}` placeholder.
        axum::http::Method::POST if route.contains("/lifecycle/") => {
            path.rsplit('/').next().unwrap_or("lifecycle")
        }
        axum::http::Method::POST => "create",
        axum::http::Method::PUT => "update",
        axum::http::Method::DELETE => "delete",
        _ => "call",
    };
    let resource = if route.starts_with("/api/v1/api-tokens") {
        "system.api_token"
    } else if route.starts_with("/api/v1/users") {
        "user.lifecycle"
    } else if route.starts_with("/api/v1/apps") {
        "application.lifecycle"
    } else if route.starts_with("/api/v1/authorizationServers") {
        "oauth2.as"
    } else if route.starts_with("/api/v1/sessions") {
        "user.session"
    } else if route.starts_with("/api/v1/trustedOrigins") {
        "trusted_origins"
    } else if route.starts_with("/api/v1/logs") {
        "system.log"
    } else {
        "system.api"
    };
    format!("{resource}.{action}")
}

/// The object a call names by the id segment of its route.
fn target_of(route: &str, path: &str) -> Vec<AuditTarget> {
    let kind = if route.starts_with("/api/v1/api-tokens") {
        "ApiToken"
    } else if route.starts_with("/api/v1/sessions") {
        "Session"
    } else if route.starts_with("/api/v1/users") {
        "User"
    } else if route.starts_with("/api/v1/apps") {
        "AppInstance"
    } else if route.starts_with("/api/v1/authorizationServers") {
        "AuthorizationServer"
    } else if route.starts_with("/api/v1/trustedOrigins") {
        "TrustedOrigin"
    } else {
        return vec![];
    };
    route
        .split('/')
        .zip(path.split('/'))
        .find(|(pattern, _)| *pattern == "{id}")
        .map(|(_, id)| AuditTarget {
            id: id.to_owned(),
            kind: kind.to_owned(),
            display_name: id.to_owned(),
        })
        .into_iter()
        .collect()
}

/// The status an `activate` or `deactivate` lifecycle operation sets; any other is unknown.
fn lifecycle_status(operation: &str) -> Result<crate::model::Status, OktaError> {
    match operation {
        "activate" => Ok(crate::model::Status::Active),
        "deactivate" => Ok(crate::model::Status::Inactive),
        other => Err(OktaError::not_found("Lifecycle", other)),
    }
}

/// A list's `limit`: 1 to `max`, and `max` when absent.
fn page_limit(given: Option<&str>, max: usize) -> Result<usize, OktaError> {
    let Some(text) = given else {
        return Ok(max);
    };
    text.parse::<usize>()
        .ok()
        .filter(|limit| (1..=max).contains(limit))
        .ok_or_else(|| {
            OktaError::validation(vec![format!("limit: must be a number from 1 to {max}")])
        })
}

/// The `field eq "value"` clauses of an Okta filter expression joined by `and`; `None` if the
/// expression has any other shape.
fn eq_clauses(expression: &str) -> Option<Vec<(&str, &str)>> {
    expression
        .split(" and ")
        .map(|clause| {
            let mut parts = clause.trim().splitn(3, ' ');
            let (Some(field), Some("eq"), Some(value)) = (parts.next(), parts.next(), parts.next())
            else {
                return None;
            };
            let value = value.strip_prefix('"')?.strip_suffix('"')?;
            Some((field, value))
        })
        .collect()
}

/// A page of a list with Okta's `Link` headers: `self`, and `next` (absolute, carrying the
/// query, as okta-sdk-nodejs follows it verbatim) when `next_after` names the last item shown.
/// `query` is the list's own parameters, those given; `limit` is added to it.
fn paged(
    page: Vec<Value>,
    base: &str,
    query: &[(&str, Option<&str>)],
    limit: usize,
    next_after: Option<&str>,
) -> Response {
    let mut params = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in query {
        if let Some(value) = value {
            params.append_pair(name, value);
        }
    }
    params.append_pair("limit", &limit.to_string());
    let query = params.finish();
    let mut links = vec![format!("<{base}?{query}>; rel=\"self\"")];
    if let Some(after) = next_after {
        let after: String = url::form_urlencoded::byte_serialize(after.as_bytes()).collect();
        links.push(format!("<{base}?{query}&after={after}>; rel=\"next\""));
    }
    let mut response = Json(Value::Array(page)).into_response();
    for link in links {
        if let Ok(value) = axum::http::HeaderValue::from_str(&link) {
            response.headers_mut().append(header::LINK, value);
        }
    }
    response
}

/// `GET /api/v1/api-tokens`.
pub async fn list_api_tokens(State(app): State<AppState>) -> Result<Json<Value>, OktaError> {
    let tokens = app.engine.admin().api_tokens().await?;
    Ok(Json(Value::Array(
        tokens
            .iter()
            .map(|token| render_token(&app, token))
            .collect(),
    )))
}

/// `GET /api/v1/api-tokens/{id}`.
pub async fn get_api_token(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let tokens = app.engine.admin().api_tokens().await?;
    let token = tokens
        .iter()
        .find(|token| token.id == id)
        .ok_or_else(|| OktaError::not_found("ApiToken", &id))?;
    Ok(Json(render_token(&app, token)))
}

/// `DELETE /api/v1/api-tokens/{id}`.
pub async fn revoke_api_token(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, OktaError> {
    app.engine.admin().revoke_api_token(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/api-tokens/current`: the caller revokes its own token.
pub async fn revoke_current_api_token(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<StatusCode, OktaError> {
    if actor.id == crate::engine::admin::BOOTSTRAP_ACTOR {
        return Err(OktaError::validation(vec![
            "The bootstrap token is configuration (AUTHD_ADMIN_TOKEN) and cannot be revoked here."
                .to_owned(),
        ]));
    }
    app.engine.admin().revoke_api_token(&actor.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An ISO 8601 duration as Okta writes `tokenWindow`: whole days as `P30D`.
fn iso_duration(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    if seconds.is_multiple_of(86_400) {
        format!("P{}D", seconds / 86_400)
    } else {
        format!("PT{seconds}S")
    }
}

fn render_token(app: &AppState, token: &ApiToken) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "created": token.created_at.to_okta_string(),
        "lastUpdated": token.last_used_at.unwrap_or(token.created_at).to_okta_string(),
        "tokenWindow": iso_duration(app.engine.admin().api_token_window()),
        "_links": {
            "self": {
                "href": format!("{}/api/v1/api-tokens/{}", app.config.base_url, token.id),
                "hints": { "allow": ["GET", "DELETE"] }
            }
        }
    })
}

/// `GET /api/v1/logs` query (Okta's System Log basics).
#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    q: Option<String>,
}

/// `GET /api/v1/logs`: audit events in Okta's LogEvent shape, oldest first.
pub async fn get_logs(
    State(app): State<AppState>,
    Query(query): Query<LogsQuery>,
) -> Result<Response, OktaError> {
    let mut causes = Vec::new();
    let mut time = |name: &str, value: &Option<String>| {
        value
            .as_deref()
            .and_then(|text| match humantime::parse_rfc3339_weak(text) {
                Ok(at) => at
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .map(|since_epoch| Timestamp::from_unix(since_epoch.as_secs() as i64)),
                Err(_) => {
                    causes.push(format!("{name}: {text:?} is not an ISO 8601 time"));
                    None
                }
            })
    };
    let since = time("since", &query.since);
    let until = time("until", &query.until);
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(text) => match text.parse::<u32>() {
            Ok(limit) if (1..=1000).contains(&limit) => limit,
            _ => {
                causes.push(format!("limit: {text:?} is not a number from 1 to 1000"));
                100
            }
        },
    };
    if !causes.is_empty() {
        return Err(OktaError::validation(causes));
    }
    let events = app
        .engine
        .admin()
        .audit_events(since, until, limit, query.q.as_deref())
        .await?;
    let body: Vec<Value> = events.iter().map(render_event).collect();
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Json(Value::Array(body)),
    )
        .into_response())
}

fn render_event(event: &AuditEvent) -> Value {
    json!({
        "uuid": event.uuid,
        "published": event.published.to_okta_string(),
        "eventType": event.event_type,
        "version": "0",
        "severity": if event.outcome == "SUCCESS" { "INFO" } else { "WARN" },
        "displayMessage": event.display_message,
        "actor": {
            "id": event.actor.id,
            "type": "PublicClientApp",
            "alternateId": event.actor.name,
            "displayName": event.actor.name,
        },
        "client": { "ipAddress": event.client_ip },
        "outcome": { "result": event.outcome },
        "target": event.targets,
        "transaction": { "type": "WEB", "id": event.request_id },
    })
}
