//! `/api/v1/trustedOrigins`: Okta's Trusted Origins API.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::engine::admin::trusted_origins::OriginSpec;
use crate::model::{Actor, OriginScope, Status, TrustedOrigin};

use super::super::error::OktaError;
use super::super::extract::OktaJson;

/// A trusted origin as sent to create or replace one; read-only fields sent back by a replace
/// (`id`, `status`, `created`, `_links`, …) are ignored, as Okta ignores them.
#[derive(Debug, Deserialize)]
pub struct TrustedOriginRequest {
    #[serde(default)]
    name: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    scopes: Vec<ScopeRequest>,
}

#[derive(Debug, Deserialize)]
struct ScopeRequest {
    #[serde(rename = "type")]
    kind: OriginScope,
}

impl From<TrustedOriginRequest> for OriginSpec {
    fn from(request: TrustedOriginRequest) -> Self {
        OriginSpec {
            name: request.name,
            origin: request.origin,
            scopes: request.scopes.into_iter().map(|scope| scope.kind).collect(),
        }
    }
}

/// `POST /api/v1/trustedOrigins`: Okta answers 200 with the new origin.
pub async fn create_trusted_origin(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    OktaJson(request): OktaJson<TrustedOriginRequest>,
) -> Result<Json<Value>, OktaError> {
    let origin = app
        .engine
        .admin()
        .create_trusted_origin(request.into(), &actor)
        .await?;
    Ok(Json(render(&app, &origin)))
}

/// `GET /api/v1/trustedOrigins` query.
#[derive(Debug, Deserialize)]
pub struct ListTrustedOriginsQuery {
    q: Option<String>,
    filter: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

const MAX_PAGE: usize = 200;

/// `GET /api/v1/trustedOrigins?q=&filter=&limit=&after=`: `q` matches the start of a name or
/// an origin (any case); `filter` takes `name`, `origin`, `status` and `type` (a scope) with
/// `eq`, joined by `and`.
pub async fn list_trusted_origins(
    State(app): State<AppState>,
    Query(query): Query<ListTrustedOriginsQuery>,
) -> Result<Response, OktaError> {
    let limit = super::page_limit(query.limit.as_deref(), MAX_PAGE)?;
    let filter = match query.filter.as_deref() {
        None => Vec::new(),
        Some(filter) => parse_filter(filter)?,
    };
    let prefix = query.q.as_deref().map(str::to_lowercase);
    let mut matching = app
        .engine
        .admin()
        .trusted_origins()
        .await?
        .into_iter()
        .filter(|origin| {
            filter.iter().all(|clause| clause.matches(origin))
                && prefix.as_deref().is_none_or(|prefix| {
                    origin.name.to_lowercase().starts_with(prefix)
                        || origin.origin.to_lowercase().starts_with(prefix)
                })
                && query
                    .after
                    .as_deref()
                    .is_none_or(|after| origin.id.as_str() > after)
        });
    let page: Vec<TrustedOrigin> = matching.by_ref().take(limit).collect();
    let has_next = matching.next().is_some();
    let next_after = page
        .last()
        .filter(|_| has_next)
        .map(|origin| origin.id.as_str());
    let body = page.iter().map(|origin| render(&app, origin)).collect();
    Ok(super::paged(
        body,
        &format!("{}/api/v1/trustedOrigins", app.config.base_url),
        &[
            ("q", query.q.as_deref()),
            ("filter", query.filter.as_deref()),
        ],
        limit,
        next_after,
    ))
}

/// One `field eq "value"` clause of a trusted-origin filter.
enum Clause {
    Name(String),
    Origin(String),
    Status(Status),
    Scope(OriginScope),
}

impl Clause {
    fn matches(&self, origin: &TrustedOrigin) -> bool {
        match self {
            Clause::Name(name) => &origin.name == name,
            Clause::Origin(value) => &origin.origin == value,
            Clause::Status(status) => origin.status == *status,
            Clause::Scope(scope) => origin.scopes.contains(scope),
        }
    }
}

fn parse_filter(filter: &str) -> Result<Vec<Clause>, OktaError> {
    let invalid = || {
        OktaError::validation(vec![format!(
            "filter: {filter:?} is not supported; use name, origin, status or type with eq, joined by and"
        )])
    };
    super::eq_clauses(filter)
        .ok_or_else(invalid)?
        .into_iter()
        .map(|(field, value)| match field {
            "name" => Ok(Clause::Name(value.to_owned())),
            "origin" => Ok(Clause::Origin(value.to_owned())),
            "status" => value.parse().map(Clause::Status).map_err(|_| invalid()),
            "type" => value.parse().map(Clause::Scope).map_err(|_| invalid()),
            _ => Err(invalid()),
        })
        .collect()
}

/// `GET /api/v1/trustedOrigins/{id}`.
pub async fn get_trusted_origin(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let origin = app.engine.admin().trusted_origin(&id).await?;
    Ok(Json(render(&app, &origin)))
}

/// `PUT /api/v1/trustedOrigins/{id}`.
pub async fn replace_trusted_origin(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    OktaJson(request): OktaJson<TrustedOriginRequest>,
) -> Result<Json<Value>, OktaError> {
    let origin = app
        .engine
        .admin()
        .replace_trusted_origin(&id, request.into(), &actor)
        .await?;
    Ok(Json(render(&app, &origin)))
}

/// `POST /api/v1/trustedOrigins/{id}/lifecycle/{activate|deactivate}`: 200 with the origin.
pub async fn trusted_origin_lifecycle(
    State(app): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((id, operation)): Path<(String, String)>,
) -> Result<Json<Value>, OktaError> {
    let status = super::lifecycle_status(&operation)?;
    let origin = app
        .engine
        .admin()
        .set_trusted_origin_status(&id, status, &actor)
        .await?;
    Ok(Json(render(&app, &origin)))
}

/// `DELETE /api/v1/trustedOrigins/{id}`.
pub async fn delete_trusted_origin(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, OktaError> {
    app.engine.admin().delete_trusted_origin(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Okta's TrustedOrigin object.
fn render(app: &AppState, origin: &TrustedOrigin) -> Value {
    let href = format!(
        "{}/api/v1/trustedOrigins/{}",
        app.config.base_url, origin.id
    );
    let operation = match origin.status {
        Status::Active => "deactivate",
        Status::Inactive => "activate",
    };
    let scopes: Vec<Value> = origin
        .scopes
        .iter()
        .map(|scope| json!({ "type": scope }))
        .collect();
    json!({
        "id": origin.id,
        "name": origin.name,
        "origin": origin.origin,
        "scopes": scopes,
        "status": origin.status,
        "created": origin.created_at.to_okta_string(),
        "createdBy": origin.created_by,
        "lastUpdated": origin.updated_at.to_okta_string(),
        "lastUpdatedBy": origin.updated_by,
        "_links": {
            "self": { "href": href, "hints": { "allow": ["GET", "PUT", "DELETE"] } },
            operation: {
                "href": format!("{href}/lifecycle/{operation}"),
                "hints": { "allow": ["POST"] }
            }
        }
    })
}
