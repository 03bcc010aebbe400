//! Okta's management API (`Authorization: SSWS <token>`): API tokens, the System Log, and the
//! session administration of the Sessions API. One middleware authenticates every call and
//! records it in the audit log.

use axum::extract::{MatchedPath, Path, Query, RawPathParams, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::engine::system_log::{Event, Filter, LogQuery};
use crate::model::{Actor, ApiToken, LogActor};

use super::error::OktaError;

pub mod apps;
pub mod assignments;
pub mod authorization_servers;
pub mod groups;
pub mod policies;
pub mod scopes_and_claims;
pub mod trusted_origins;
pub mod users;

/// Authenticates `SSWS` (`401 E0000011` otherwise), then records each change in the System Log
/// as Okta names it (`user.lifecycle.create`, `application.lifecycle.update`,
/// `oauth2.scope.created`…): who, on what (the path's ids, decoded; a created object's id and
/// name from the response), and whether it worked (with the error's summary when not). Reads
/// are not recorded, as in Okta. Never a secret: no body is recorded. A wrong token is recorded
/// too, and an IP that keeps presenting wrong ones is refused for the rest of the minute
/// (`429 E0000047`).
pub async fn authenticate_and_audit(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(super::extract::ClientIp(ip)) = <super::extract::ClientIp as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &app).await;
    let params: Vec<(String, String)> = match <RawPathParams as axum::extract::FromRequestParts<
        AppState,
    >>::from_request_parts(&mut parts, &app)
    .await
    {
        Ok(params) => params
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        Err(_) => Vec::new(),
    };
    let request = Request::from_parts(parts, body);
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("SSWS "))
        .map(|token| token.trim().to_owned());
    let Some(presented) = presented else {
        return OktaError::invalid_token().into_response();
    };
    let mut request = request;
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
            app.engine
                .system_log()
                .record(
                    Event::new(
                        "system.api_token.authenticate",
                        format!(
                            "{} {route}: an invalid or expired API token was presented",
                            request.method()
                        ),
                        LogActor::new("unknown", "SystemPrincipal", "unknown", "unknown"),
                    )
                    .failed("INVALID_CREDENTIALS")
                    .credential("API_TOKEN"),
                )
                .await;
            return OktaError::invalid_token().into_response();
        }
        Err(err) => return OktaError::from(err).into_response(),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(String::new, |path| path.as_str().to_owned());
    let change = change_of(request.method(), &route, &params);
    request.extensions_mut().insert(actor.clone());
    let response = next.run(request).await;
    let Some(change) = change else {
        return response;
    };
    let status = response.status();
    // A created object is known by the response; an error by its summary. Both are small
    // JSON bodies.
    let read_body = change.creates || !status.is_success();
    let (response, body) = if read_body {
        let (parts, body) = response.into_parts();
        match axum::body::to_bytes(body, 1 << 20).await {
            Ok(bytes) => {
                let json = serde_json::from_slice::<Value>(&bytes).ok();
                (
                    Response::from_parts(parts, axum::body::Body::from(bytes)),
                    json,
                )
            }
            Err(_) => (Response::from_parts(parts, axum::body::Body::empty()), None),
        }
    } else {
        (response, None)
    };
    let mut targets = change.targets;
    if change.creates {
        if let Some(body) = body.as_ref().filter(|_| status.is_success()) {
            let id = body["id"].as_str().unwrap_or_default();
            let name = ["label", "name", "origin"]
                .iter()
                .find_map(|key| body[*key].as_str())
                .or_else(|| body["profile"]["login"].as_str())
                .unwrap_or(id);
            let alternate_id = body["profile"]["login"].as_str().unwrap_or(name);
            targets.push(LogActor::new(id, change.created_kind, alternate_id, name));
        }
    }
    let display_message = format!(
        "{} {}",
        change.summary,
        targets.last().map_or("", |t| t.display_name.as_str())
    );
    let mut event = Event::new(
        change.event_type,
        display_message.trim_end(),
        LogActor::new(
            actor.id.as_str(),
            "SystemPrincipal",
            actor.name.as_str(),
            actor.name.as_str(),
        ),
    )
    .credential("API_TOKEN")
    .debug("requestUri", route.as_str())
    .debug("status", status.as_u16().to_string());
    for target in targets {
        event = event.target(target);
    }
    if !status.is_success() {
        let reason = body
            .as_ref()
            .and_then(|body| body["errorSummary"].as_str().map(str::to_owned))
            .unwrap_or_else(|| status.to_string());
        event = event.failed(reason);
    }
    app.engine.system_log().record(event).await;
    response
}

/// What an admin call changes, as the System Log records it.
struct Change {
    event_type: &'static str,
    summary: &'static str,
    /// The objects the path names.
    targets: Vec<LogActor>,
    /// It creates an object, of this type, named by the response.
    creates: bool,
    created_kind: &'static str,
}

/// The change a call makes, by method and route; `None` for reads and for what the engine
/// records itself (sessions).
fn change_of(
    method: &axum::http::Method,
    route: &str,
    params: &[(String, String)],
) -> Option<Change> {
    use axum::http::Method;
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let target = |name: &str, kind: &str| param(name).map(|id| LogActor::new(id, kind, id, id));
    let operation = param("operation").unwrap_or_default();
    let segments: Vec<&str> = route.trim_start_matches("/api/v1/").split('/').collect();
    let (event_type, summary, kind, created_kind): (&'static str, &'static str, _, &'static str) =
        match (method.clone(), segments.as_slice()) {
            (Method::GET, _) => return None,
            (_, ["sessions", ..]) => return None,
            (Method::DELETE, ["api-tokens", ..]) => (
                "system.api_token.revoke",
                "Revoke API token",
                Some(("id", "ApiToken")),
                "",
            ),
            (Method::POST, ["users"]) => {
                ("user.lifecycle.create", "Create Okta user", None, "User")
            }
            (Method::POST | Method::PUT, ["users", "{id}"]) => (
                "user.account.update_profile",
                "Update user profile for Okta",
                Some(("id", "User")),
                "",
            ),
            (Method::DELETE, ["users", "{id}"]) => (
                "user.lifecycle.delete.initiated",
                "Delete Okta user",
                Some(("id", "User")),
                "",
            ),
            (Method::POST, ["users", "{id}", "lifecycle", "{operation}"]) => {
                let (event_type, summary) = match operation {
                    "activate" => ("user.lifecycle.activate", "Activate Okta user"),
                    "reactivate" => ("user.lifecycle.reactivate", "Reactivate Okta user"),
                    "deactivate" => ("user.lifecycle.deactivate", "Deactivate Okta user"),
                    "suspend" => ("user.lifecycle.suspend", "Suspend Okta user"),
                    "unsuspend" => ("user.lifecycle.unsuspend", "Unsuspend Okta user"),
                    "unlock" => ("user.account.unlock", "Unlock user account"),
                    "reset_password" => (
                        "user.account.reset_password",
                        "Reset password for Okta user",
                    ),
                    "expire_password" => (
                        "user.account.expire_password",
                        "Expire password for Okta user",
                    ),
                    _ => ("user.lifecycle.update", "Change Okta user"),
                };
                (event_type, summary, Some(("id", "User")), "")
            }
            (Method::POST, ["users", "{id}", "credentials", "change_password"]) => (
                "user.account.update_password",
                "Update password for Okta user",
                Some(("id", "User")),
                "",
            ),
            (Method::POST, ["authorizationServers"]) => (
                "oauth2.as.created",
                "Create authorization server",
                None,
                "AuthorizationServer",
            ),
            (Method::POST | Method::PUT, ["authorizationServers", "{id}"]) => (
                "oauth2.as.updated",
                "Update authorization server",
                Some(("id", "AuthorizationServer")),
                "",
            ),
            (Method::DELETE, ["authorizationServers", "{id}"]) => (
                "oauth2.as.deleted",
                "Delete authorization server",
                Some(("id", "AuthorizationServer")),
                "",
            ),
            (Method::POST, ["authorizationServers", "{id}", "lifecycle", "{operation}"]) => {
                let (event_type, summary) = if operation == "activate" {
                    ("oauth2.as.activated", "Activate authorization server")
                } else {
                    ("oauth2.as.deactivated", "Deactivate authorization server")
                };
                (event_type, summary, Some(("id", "AuthorizationServer")), "")
            }
            (
                Method::POST,
                ["authorizationServers", "{id}", "credentials", "lifecycle", "keyRotate"],
            ) => (
                "oauth2.as.key.rollover",
                "Rotate authorization server signing key",
                Some(("id", "AuthorizationServer")),
                "",
            ),
            (method, ["authorizationServers", "{id}", "scopes", rest @ ..]) => {
                let (event_type, summary) = match (method, rest.is_empty()) {
                    (Method::POST, true) => ("oauth2.scope.created", "Create OAuth2 scope"),
                    (Method::DELETE, _) => ("oauth2.scope.deleted", "Delete OAuth2 scope"),
                    _ => ("oauth2.scope.updated", "Update OAuth2 scope"),
                };
                (
                    event_type,
                    summary,
                    Some(("scope_id", "OAuth2Scope")),
                    if rest.is_empty() { "OAuth2Scope" } else { "" },
                )
            }
            (method, ["authorizationServers", "{id}", "claims", rest @ ..]) => {
                let (event_type, summary) = match (method, rest.is_empty()) {
                    (Method::POST, true) => ("oauth2.claim.created", "Create OAuth2 claim"),
                    (Method::DELETE, _) => ("oauth2.claim.deleted", "Delete OAuth2 claim"),
                    _ => ("oauth2.claim.updated", "Update OAuth2 claim"),
                };
                (
                    event_type,
                    summary,
                    Some(("claim_id", "OAuth2Claim")),
                    if rest.is_empty() { "OAuth2Claim" } else { "" },
                )
            }
            (
                method,
                ["authorizationServers", "{id}", "policies", "{policy_id}", "rules", rest @ ..],
            ) => {
                let (event_type, summary) = match (method, rest) {
                    (Method::POST, []) => ("policy.rule.add", "Add policy rule"),
                    (Method::DELETE, _) => ("policy.rule.delete", "Delete policy rule"),
                    (_, [_, "lifecycle", _]) if operation == "activate" => {
                        ("policy.rule.activate", "Activate policy rule")
                    }
                    (_, [_, "lifecycle", _]) => {
                        ("policy.rule.deactivate", "Deactivate policy rule")
                    }
                    _ => ("policy.rule.update", "Update policy rule"),
                };
                (
                    event_type,
                    summary,
                    Some(("rule_id", "PolicyRule")),
                    if rest.is_empty() { "PolicyRule" } else { "" },
                )
            }
            (method, ["authorizationServers", "{id}", "policies", rest @ ..]) => {
                let (event_type, summary) = match (method, rest) {
                    (Method::POST, []) => ("policy.lifecycle.create", "Create policy"),
                    (Method::DELETE, _) => ("policy.lifecycle.delete", "Delete policy"),
                    (_, [_, "lifecycle", _]) if operation == "activate" => {
                        ("policy.lifecycle.activate", "Activate policy")
                    }
                    (_, [_, "lifecycle", _]) => {
                        ("policy.lifecycle.deactivate", "Deactivate policy")
                    }
                    _ => ("policy.lifecycle.update", "Update policy"),
                };
                (
                    event_type,
                    summary,
                    Some(("policy_id", "Policy")),
                    if rest.is_empty() { "Policy" } else { "" },
                )
            }
            (Method::POST, ["apps"]) => (
                "application.lifecycle.create",
                "Add application",
                None,
                "AppInstance",
            ),
            (Method::POST | Method::PUT, ["apps", "{id}"]) => (
                "application.lifecycle.update",
                "Update application",
                Some(("id", "AppInstance")),
                "",
            ),
            (Method::DELETE, ["apps", "{id}"]) => (
                "application.lifecycle.delete",
                "Delete application",
                Some(("id", "AppInstance")),
                "",
            ),
            (Method::POST, ["apps", "{id}", "lifecycle", "{operation}"]) => {
                let (event_type, summary) = if operation == "activate" {
                    ("application.lifecycle.activate", "Activate application")
                } else {
                    ("application.lifecycle.deactivate", "Deactivate application")
                };
                (event_type, summary, Some(("id", "AppInstance")), "")
            }
            (method, ["apps", "{id}", "credentials", "secrets", rest @ ..]) => {
                let (event_type, summary) = match (method, rest) {
                    (Method::POST, []) => {
                        ("app.oauth2.client_secret.create", "Create client secret")
                    }
                    (Method::DELETE, _) => {
                        ("app.oauth2.client_secret.delete", "Delete client secret")
                    }
                    (_, [_, "lifecycle", _]) if operation == "activate" => (
                        "app.oauth2.client_secret.activate",
                        "Activate client secret",
                    ),
                    _ => (
                        "app.oauth2.client_secret.deactivate",
                        "Deactivate client secret",
                    ),
                };
                (
                    event_type,
                    summary,
                    Some(("id", "AppInstance")),
                    if rest.is_empty() { "ClientSecret" } else { "" },
                )
            }
            (Method::POST, ["groups"]) => (
                "group.lifecycle.create",
                "Create Okta group",
                None,
                "UserGroup",
            ),
            (Method::PUT, ["groups", "{id}"]) => (
                "group.profile.update",
                "Update group profile",
                Some(("id", "UserGroup")),
                "",
            ),
            (Method::DELETE, ["groups", "{id}"]) => (
                "group.lifecycle.delete",
                "Delete Okta group",
                Some(("id", "UserGroup")),
                "",
            ),
            (Method::PUT, ["groups", "{id}", "users", "{user_id}"]) => (
                "group.user_membership.add",
                "Add user to group membership",
                Some(("user_id", "User")),
                "",
            ),
            (Method::DELETE, ["groups", "{id}", "users", "{user_id}"]) => (
                "group.user_membership.remove",
                "Remove user from group membership",
                Some(("user_id", "User")),
                "",
            ),
            // The assigned user is named by the body, not the path.
            (Method::POST, ["apps", "{id}", "users"]) => (
                "application.user_membership.add",
                "Add user to application membership",
                Some(("id", "AppInstance")),
                "",
            ),
            (Method::POST, ["apps", "{id}", "users", "{user_id}"]) => (
                "application.user_membership.update",
                "Update user's application membership",
                Some(("user_id", "User")),
                "",
            ),
            (Method::DELETE, ["apps", "{id}", "users", "{user_id}"]) => (
                "application.user_membership.remove",
                "Remove user from application membership",
                Some(("user_id", "User")),
                "",
            ),
            (Method::PUT, ["apps", "{id}", "groups", "{group_id}"]) => (
                "group.application_assignment.add",
                "Assign group to application",
                Some(("group_id", "UserGroup")),
                "",
            ),
            (Method::DELETE, ["apps", "{id}", "groups", "{group_id}"]) => (
                "group.application_assignment.remove",
                "Remove group from application",
                Some(("group_id", "UserGroup")),
                "",
            ),
            (Method::POST, ["trustedOrigins"]) => (
                "trusted_origin.create",
                "Create trusted origin",
                None,
                "TrustedOrigin",
            ),
            (Method::POST | Method::PUT, ["trustedOrigins", "{id}"]) => (
                "trusted_origin.update",
                "Update trusted origin",
                Some(("id", "TrustedOrigin")),
                "",
            ),
            (Method::DELETE, ["trustedOrigins", "{id}"]) => (
                "trusted_origin.delete",
                "Delete trusted origin",
                Some(("id", "TrustedOrigin")),
                "",
            ),
            (Method::POST, ["trustedOrigins", "{id}", "lifecycle", "{operation}"]) => {
                let (event_type, summary) = if operation == "activate" {
                    ("trusted_origin.activate", "Activate trusted origin")
                } else {
                    ("trusted_origin.deactivate", "Deactivate trusted origin")
                };
                (event_type, summary, Some(("id", "TrustedOrigin")), "")
            }
            _ => ("system.api.call", "Management API call", None, ""),
        };
    // The resource a nested object belongs to comes first, as Okta lists targets.
    let mut targets = Vec::new();
    if let Some(server) = target("id", "AuthorizationServer")
        .filter(|_| route.starts_with("/api/v1/authorizationServers/"))
    {
        if kind.is_some_and(|(name, _)| name != "id") {
            targets.push(server);
        }
    }
    let nested = kind.is_some_and(|(name, _)| name != "id");
    if let Some(group) =
        target("id", "UserGroup").filter(|_| nested && route.starts_with("/api/v1/groups/"))
    {
        targets.push(group);
    }
    if let Some(app) =
        target("id", "AppInstance").filter(|_| nested && route.starts_with("/api/v1/apps/"))
    {
        targets.push(app);
    }
    if let Some(policy) =
        target("policy_id", "Policy").filter(|_| kind.is_some_and(|(name, _)| name == "rule_id"))
    {
        targets.push(policy);
    }
    if let Some((name, kind)) = kind {
        targets.extend(target(name, kind));
    }
    Some(Change {
        event_type,
        summary,
        targets,
        creates: !created_kind.is_empty(),
        created_kind,
    })
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

/// `GET /api/v1/logs` query, as Okta's System Log API takes it.
#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    q: Option<String>,
    filter: Option<String>,
    #[serde(rename = "sortOrder")]
    sort_order: Option<String>,
    after: Option<String>,
}

/// `GET /api/v1/logs`: System Log events in Okta's LogEvent shape, oldest first (or newest
/// first with `sortOrder=DESCENDING`), `filter`ed, with a `next` link while pages are full.
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
                    .and_then(|since_epoch| i64::try_from(since_epoch.as_millis()).ok()),
                Err(_) => {
                    causes.push(format!("{name}: {text:?} is not an ISO 8601 time"));
                    None
                }
            })
    };
    let since_ms = time("since", &query.since);
    let until_ms = time("until", &query.until);
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
    let descending = match query.sort_order.as_deref() {
        None | Some("ASCENDING") => false,
        Some("DESCENDING") => true,
        Some(other) => {
            causes.push(format!(
                "sortOrder: {other:?} is neither \"ASCENDING\" nor \"DESCENDING\""
            ));
            false
        }
    };
    let filter = match query
        .filter
        .as_deref()
        .filter(|text| !text.trim().is_empty())
    {
        None => None,
        Some(text) => match Filter::parse(text) {
            Ok(filter) => Some(filter),
            Err(err) => {
                causes.push(format!("filter: {err}"));
                None
            }
        },
    };
    let after = match query.after.as_deref() {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(after) => Some(after),
            Err(_) => {
                causes.push(format!("after: {text:?} is not a cursor from a next link"));
                None
            }
        },
    };
    if !causes.is_empty() {
        return Err(OktaError::validation(causes));
    }
    let page = app
        .engine
        .system_log()
        .query(LogQuery {
            since_ms,
            until_ms,
            filter,
            q: query.q.clone(),
            descending,
            limit,
            after,
        })
        .await?;
    let next_after = page.next_after.map(|after| after.to_string());
    Ok(paged(
        page.events,
        &format!("{}/api/v1/logs", app.config.base_url),
        &[
            ("since", query.since.as_deref()),
            ("until", query.until.as_deref()),
            ("filter", query.filter.as_deref()),
            ("q", query.q.as_deref()),
            ("sortOrder", query.sort_order.as_deref()),
        ],
        limit as usize,
        next_after.as_deref(),
    ))
}
