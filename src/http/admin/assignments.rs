//! `/api/v1/apps/{id}/users`, `/api/v1/apps/{id}/groups` and `/api/v1/groups/{id}/apps`:
//! Okta's app assignments.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::engine::admin::assignments::{AppUser, AppUserSpec};
use crate::model::{AppGroupAssignment, Group};

use super::super::error::OktaError;
use super::super::extract::{parse_okta_json, OktaJson};

/// `POST /api/v1/apps/{id}/users` body: Okta's AppUser with the user's `id`.
#[derive(Debug, Deserialize)]
pub struct AssignUserRequest {
    #[serde(default)]
    id: String,
    #[serde(default)]
    credentials: Option<AppUserCredentials>,
    #[serde(default)]
    profile: Map<String, Value>,
}

/// `POST /api/v1/apps/{id}/users/{userId}` body: the name and profile to keep.
#[derive(Debug, Deserialize)]
pub struct UpdateAppUserRequest {
    #[serde(default)]
    credentials: Option<AppUserCredentials>,
    #[serde(default)]
    profile: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct AppUserCredentials {
    #[serde(rename = "userName")]
    user_name: Option<String>,
}

/// `POST /api/v1/apps/{id}/users`: 200 with the AppUser.
pub async fn assign_user(
    State(app): State<AppState>,
    Path(app_id): Path<String>,
    OktaJson(request): OktaJson<AssignUserRequest>,
) -> Result<Json<Value>, OktaError> {
    if request.id.is_empty() {
        return Err(OktaError::validation(vec![
            "id: The id of the user to assign is required".to_owned(),
        ]));
    }
    let spec = AppUserSpec {
        user_name: request
            .credentials
            .and_then(|credentials| credentials.user_name),
        profile: request.profile,
    };
    let assigned = app
        .engine
        .admin()
        .assign_user_to_app(&app_id, &request.id, spec)
        .await?;
    Ok(Json(render_app_user(&app, &assigned)))
}

/// `POST /api/v1/apps/{id}/users/{userId}`: replaces the user name and profile of a direct
/// assignment (and makes one for a user assigned through a group).
pub async fn update_app_user(
    State(app): State<AppState>,
    Path((app_id, user)): Path<(String, String)>,
    OktaJson(request): OktaJson<UpdateAppUserRequest>,
) -> Result<Json<Value>, OktaError> {
    let admin = app.engine.admin();
    let current = admin.app_user(&app_id, &user).await?;
    let spec = AppUserSpec {
        user_name: request
            .credentials
            .and_then(|credentials| credentials.user_name)
            .or(current.assignment.user_name),
        profile: request.profile.unwrap_or(current.assignment.profile),
    };
    let assigned = admin.assign_user_to_app(&app_id, &user, spec).await?;
    Ok(Json(render_app_user(&app, &assigned)))
}

/// `GET /api/v1/apps/{id}/users/{userId}`.
pub async fn get_app_user(
    State(app): State<AppState>,
    Path((app_id, user)): Path<(String, String)>,
) -> Result<Json<Value>, OktaError> {
    let assigned = app.engine.admin().app_user(&app_id, &user).await?;
    Ok(Json(render_app_user(&app, &assigned)))
}

/// A list's `limit` and `after`.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    limit: Option<String>,
    after: Option<String>,
}

/// Okta's largest page of app users.
const MAX_APP_USERS_PAGE: usize = 500;

/// `GET /api/v1/apps/{id}/users?limit=&after=`: users assigned directly and through groups.
pub async fn list_app_users(
    State(app): State<AppState>,
    Path(app_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, OktaError> {
    let limit = super::page_limit(query.limit.as_deref(), MAX_APP_USERS_PAGE)?;
    let page = app
        .engine
        .admin()
        .app_users(&app_id, query.after.as_deref(), limit)
        .await?;
    let next_after = page
        .users
        .last()
        .filter(|_| page.more)
        .map(|user| user.user.id.as_str().to_owned());
    Ok(super::paged(
        page.users
            .iter()
            .map(|user| render_app_user(&app, user))
            .collect(),
        &format!("{}/api/v1/apps/{app_id}/users", app.config.base_url),
        &[],
        limit,
        next_after.as_deref(),
    ))
}

/// `DELETE /api/v1/apps/{id}/users/{userId}`: 204; `403 E0000046` for a user a group assigns.
pub async fn unassign_user(
    State(app): State<AppState>,
    Path((app_id, user)): Path<(String, String)>,
) -> Result<StatusCode, OktaError> {
    app.engine
        .admin()
        .unassign_user_from_app(&app_id, &user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/apps/{id}/groups/{groupId}` body, which may be absent or empty:
/// okta-sdk-nodejs sends an empty body with `Content-Type: application/json`.
#[derive(Debug, Default, Deserialize)]
struct AssignGroupRequest {
    #[serde(default)]
    priority: Option<u32>,
    #[serde(default)]
    profile: Option<Map<String, Value>>,
}

/// `PUT /api/v1/apps/{id}/groups/{groupId}`: 200 with the assignment.
pub async fn assign_group(
    State(app): State<AppState>,
    Path((app_id, group_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, OktaError> {
    let request: AssignGroupRequest = if body.iter().all(u8::is_ascii_whitespace) {
        AssignGroupRequest::default()
    } else {
        parse_okta_json(&body)?
    };
    let assignment = app
        .engine
        .admin()
        .assign_group_to_app(&app_id, &group_id, request.priority, request.profile)
        .await?;
    Ok(Json(render_app_group(&app, &assignment, None)))
}

/// `GET /api/v1/apps/{id}/groups/{groupId}`.
pub async fn get_app_group(
    State(app): State<AppState>,
    Path((app_id, group_id)): Path<(String, String)>,
) -> Result<Json<Value>, OktaError> {
    let assignment = app.engine.admin().app_group(&app_id, &group_id).await?;
    Ok(Json(render_app_group(&app, &assignment, None)))
}

/// `GET /api/v1/apps/{id}/groups` query.
#[derive(Debug, Deserialize)]
pub struct ListAppGroupsQuery {
    q: Option<String>,
    limit: Option<String>,
    after: Option<String>,
    expand: Option<String>,
}

/// Okta's largest page of group assignments.
const MAX_APP_GROUPS_PAGE: usize = 200;

/// `GET /api/v1/apps/{id}/groups?q=&limit=&after=&expand=group`: by priority; `q` matches the
/// start of a group's name.
pub async fn list_app_groups(
    State(app): State<AppState>,
    Path(app_id): Path<String>,
    Query(query): Query<ListAppGroupsQuery>,
) -> Result<Response, OktaError> {
    let limit = super::page_limit(query.limit.as_deref(), MAX_APP_GROUPS_PAGE)?;
    let prefix = query.q.as_deref().map(str::to_lowercase);
    let expand = query.expand.as_deref() == Some("group");
    let assignments = app.engine.admin().app_groups(&app_id).await?;
    let mut matching = assignments
        .iter()
        .filter(|(_, group)| {
            prefix
                .as_deref()
                .is_none_or(|prefix| group.name.to_lowercase().starts_with(prefix))
        })
        // The cursor is the last group shown; the order is the app's.
        .skip_while(|(assignment, _)| {
            query
                .after
                .as_deref()
                .is_some_and(|after| assignment.group_id != after)
        })
        .skip(usize::from(query.after.is_some()));
    let page: Vec<&(AppGroupAssignment, Group)> = matching.by_ref().take(limit).collect();
    let has_next = matching.next().is_some();
    let next_after = page
        .last()
        .filter(|_| has_next)
        .map(|(assignment, _)| assignment.group_id.as_str());
    Ok(super::paged(
        page.iter()
            .map(|(assignment, group)| render_app_group(&app, assignment, expand.then_some(group)))
            .collect(),
        &format!("{}/api/v1/apps/{app_id}/groups", app.config.base_url),
        &[
            ("q", query.q.as_deref()),
            ("expand", query.expand.as_deref()),
        ],
        limit,
        next_after,
    ))
}

/// `DELETE /api/v1/apps/{id}/groups/{groupId}`: 204.
pub async fn unassign_group(
    State(app): State<AppState>,
    Path((app_id, group_id)): Path<(String, String)>,
) -> Result<StatusCode, OktaError> {
    app.engine
        .admin()
        .unassign_group_from_app(&app_id, &group_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/groups/{id}/apps`: the apps a group is assigned to.
pub async fn list_group_apps(
    State(app): State<AppState>,
    Path(group_id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let apps = app.engine.admin().group_apps(&group_id).await?;
    Ok(Json(
        apps.iter()
            .map(|client| super::apps::render(&app, client, None))
            .collect(),
    ))
}

/// Okta's AppUser. Like Okta's, it has no `self` link (okta-sdk-nodejs would serve it from
/// its cache after a group assignment changed it).
fn render_app_user(app: &AppState, assigned: &AppUser) -> Value {
    let base = &app.config.base_url;
    let assignment = &assigned.assignment;
    let user = &assigned.user;
    let mut links = json!({
        "app": { "href": format!("{base}/api/v1/apps/{}", assignment.app_id) },
        "user": { "href": format!("{base}/api/v1/users/{}", user.id) },
    });
    if let Some(group_id) = &assigned.group_id {
        links["group"] = json!({ "href": format!("{base}/api/v1/groups/{group_id}") });
    }
    json!({
        "id": user.id,
        "externalId": null,
        "created": assignment.created_at.to_okta_string(),
        "lastUpdated": assignment.updated_at.to_okta_string(),
        "scope": assigned.scope,
        "status": "ACTIVE",
        "statusChanged": assignment.created_at.to_okta_string(),
        "passwordChanged": null,
        "syncState": "DISABLED",
        "lastSync": null,
        "credentials": {
            "userName": assignment.user_name.clone().unwrap_or_else(|| user.login.clone()),
        },
        "profile": assignment.profile,
        "_links": links,
    })
}

/// Okta's ApplicationGroupAssignment; `_embedded.group` when the group is given.
fn render_app_group(
    app: &AppState,
    assignment: &AppGroupAssignment,
    group: Option<&Group>,
) -> Value {
    let base = &app.config.base_url;
    let mut rendered = json!({
        "id": assignment.group_id,
        "priority": assignment.priority,
        "lastUpdated": assignment.updated_at.to_okta_string(),
        "profile": assignment.profile,
        "_links": {
            "app": { "href": format!("{base}/api/v1/apps/{}", assignment.app_id) },
            "self": {
                "href": format!(
                    "{base}/api/v1/apps/{}/groups/{}",
                    assignment.app_id, assignment.group_id
                )
            },
            "group": { "href": format!("{base}/api/v1/groups/{}", assignment.group_id) },
        }
    });
    if let Some(group) = group {
        rendered["_embedded"] = json!({ "group": super::groups::render(app, group) });
    }
    rendered
}
