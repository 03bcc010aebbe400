//! `/api/v1/groups` and `/api/v1/users/{id}/groups`: Okta's Groups API.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::engine::admin::groups::GroupSpec;
use crate::engine::scim_filter::Filter;
use crate::model::Group;

use super::super::error::OktaError;
use super::super::extract::OktaJson;

/// A group as sent to create or replace one: only its profile counts, as in Okta.
#[derive(Debug, Deserialize)]
pub struct GroupRequest {
    #[serde(default)]
    profile: ProfileRequest,
}

#[derive(Debug, Default, Deserialize)]
struct ProfileRequest {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: Option<String>,
}

impl From<GroupRequest> for GroupSpec {
    fn from(request: GroupRequest) -> Self {
        GroupSpec {
            name: request.profile.name,
            description: request.profile.description,
        }
    }
}

/// `POST /api/v1/groups`: 200 with the new group.
pub async fn create_group(
    State(app): State<AppState>,
    OktaJson(request): OktaJson<GroupRequest>,
) -> Result<Json<Value>, OktaError> {
    let group = app.engine.admin().create_group(request.into()).await?;
    Ok(Json(render(&app, &group)))
}

/// `GET /api/v1/groups` query.
#[derive(Debug, Deserialize)]
pub struct ListGroupsQuery {
    q: Option<String>,
    filter: Option<String>,
    search: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

/// Okta's most groups in a page.
const MAX_PAGE: usize = 10_000;

/// `GET /api/v1/groups?q=&filter=&search=&limit=&after=`: `q` matches the start of a name in
/// any case, exact names first; `filter` and `search` are SCIM expressions over the group as
/// rendered (`type eq "OKTA_GROUP"`, `profile.name sw "app-"`, `lastUpdated gt "…"`).
pub async fn list_groups(
    State(app): State<AppState>,
    Query(query): Query<ListGroupsQuery>,
) -> Result<Response, OktaError> {
    let limit = super::page_limit(query.limit.as_deref(), MAX_PAGE)?;
    let mut expressions = Vec::new();
    for (parameter, text) in [("filter", &query.filter), ("search", &query.search)] {
        if let Some(text) = text {
            let filter = Filter::parse(text)
                .map_err(|err| OktaError::validation(vec![format!("{parameter}: {err}")]))?;
            expressions.push(filter);
        }
    }
    let prefix = query.q.as_deref().map(str::to_lowercase);
    let mut groups: Vec<(Group, Value)> = app
        .engine
        .admin()
        .groups()
        .await?
        .into_iter()
        .filter(|group| {
            prefix
                .as_deref()
                .is_none_or(|prefix| group.name.to_lowercase().starts_with(prefix))
                && query
                    .after
                    .as_deref()
                    .is_none_or(|after| group.id.as_str() > after)
        })
        .map(|group| {
            let rendered = render(&app, &group);
            (group, rendered)
        })
        .filter(|(_, rendered)| expressions.iter().all(|filter| filter.matches(rendered)))
        .collect();
    if let Some(prefix) = prefix.as_deref() {
        // Okta answers a query with the exact names first.
        groups.sort_by_key(|(group, _)| group.name.to_lowercase() != prefix);
    }
    let has_next = groups.len() > limit;
    groups.truncate(limit);
    let next_after = groups
        .last()
        .filter(|_| has_next && prefix.is_none())
        .map(|(group, _)| group.id.clone());
    Ok(super::paged(
        groups.into_iter().map(|(_, rendered)| rendered).collect(),
        &format!("{}/api/v1/groups", app.config.base_url),
        &[
            ("q", query.q.as_deref()),
            ("filter", query.filter.as_deref()),
            ("search", query.search.as_deref()),
        ],
        limit,
        next_after.as_deref(),
    ))
}

/// `GET /api/v1/groups/{id}`.
pub async fn get_group(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let group = app.engine.admin().group(&id).await?;
    Ok(Json(render(&app, &group)))
}

/// `PUT /api/v1/groups/{id}`: the whole profile, as Okta takes it.
pub async fn replace_group(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OktaJson(request): OktaJson<GroupRequest>,
) -> Result<Json<Value>, OktaError> {
    let group = app
        .engine
        .admin()
        .replace_group(&id, request.into())
        .await?;
    Ok(Json(render(&app, &group)))
}

/// `DELETE /api/v1/groups/{id}`: its memberships and app assignments go with it.
pub async fn delete_group(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, OktaError> {
    app.engine.admin().delete_group(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/groups/{id}/users` query.
#[derive(Debug, Deserialize)]
pub struct ListMembersQuery {
    limit: Option<String>,
    after: Option<String>,
}

/// Okta's default and largest page of members.
const MAX_MEMBERS_PAGE: usize = 1000;

/// `GET /api/v1/groups/{id}/users?limit=&after=`: Users, by id; for `Everyone`, every user.
pub async fn list_group_members(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ListMembersQuery>,
) -> Result<Response, OktaError> {
    let limit = super::page_limit(query.limit.as_deref(), MAX_MEMBERS_PAGE)?;
    let page = app
        .engine
        .admin()
        .group_members(
            &id,
            query.after.as_deref(),
            u32::try_from(limit).unwrap_or(u32::MAX),
        )
        .await?;
    let next_after = page
        .members
        .last()
        .filter(|_| page.more)
        .map(|user| user.id.as_str().to_owned());
    Ok(super::paged(
        page.members
            .iter()
            .map(|user| super::users::render(&app, user))
            .collect(),
        &format!("{}/api/v1/groups/{id}/users", app.config.base_url),
        &[],
        limit,
        next_after.as_deref(),
    ))
}

/// `PUT /api/v1/groups/{id}/users/{userId}`: 204, with no body to read (okta-sdk-nodejs sends
/// none, and no content type).
pub async fn add_group_member(
    State(app): State<AppState>,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, OktaError> {
    app.engine.admin().add_group_member(&id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/groups/{id}/users/{userId}`: 204.
pub async fn remove_group_member(
    State(app): State<AppState>,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, OktaError> {
    app.engine.admin().remove_group_member(&id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/users/{id}/groups`: every group the user is in, `Everyone` included.
pub async fn list_user_groups(
    State(app): State<AppState>,
    Path(user): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let groups = app.engine.admin().user_groups(&user).await?;
    Ok(Json(
        groups.iter().map(|group| render(&app, group)).collect(),
    ))
}

/// Okta's Group object. Like Okta's, it has no `self` link: okta-sdk-nodejs caches a read
/// under its `self` link, and a membership change would not clear it.
pub(crate) fn render(app: &AppState, group: &Group) -> Value {
    let href = format!("{}/api/v1/groups/{}", app.config.base_url, group.id);
    let logo = |size: &str| {
        json!({
            "name": size,
            "href": format!("{}/img/logos/groups/okta-{size}.png", app.config.base_url),
            "type": "image/png"
        })
    };
    json!({
        "id": group.id,
        "created": group.created_at.to_okta_string(),
        "lastUpdated": group.updated_at.to_okta_string(),
        "lastMembershipUpdated": group.membership_updated_at.to_okta_string(),
        "objectClass": ["okta:user_group"],
        "type": group.kind,
        "profile": {
            "name": group.name,
            "description": group.description,
        },
        "_links": {
            "logo": [logo("medium"), logo("large")],
            "users": { "href": format!("{href}/users") },
            "apps": { "href": format!("{href}/apps") },
        }
    })
}
