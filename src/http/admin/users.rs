//! `/api/v1/users`: Okta's Users API.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::engine::admin::users::Lifecycle;
use crate::model::User;
use crate::model::UserQuery;

use super::super::error::OktaError;
use super::super::extract::OktaJson;

/// `POST /api/v1/users` body.
#[derive(Debug, Deserialize)]
pub struct CreateUserRequest {
    profile: Map<String, Value>,
    #[serde(default)]
    credentials: Option<Credentials>,
}

#[derive(Debug, Deserialize)]
struct Credentials {
    password: Option<PasswordValue>,
}

#[derive(Debug, Deserialize)]
struct PasswordValue {
    value: String,
}

/// `POST /api/v1/users` query.
#[derive(Debug, Deserialize)]
pub struct CreateUserQuery {
    activate: Option<bool>,
}

/// `POST /api/v1/users?activate=true|false`.
pub async fn create_user(
    State(app): State<AppState>,
    Query(query): Query<CreateUserQuery>,
    OktaJson(request): OktaJson<CreateUserRequest>,
) -> Result<Json<Value>, OktaError> {
    let password = request
        .credentials
        .and_then(|credentials| credentials.password)
        .map(|password| password.value.into());
    let user = app
        .engine
        .admin()
        .create_user(request.profile, password, query.activate.unwrap_or(true))
        .await?;
    Ok(Json(render(&app, &user)))
}

/// `GET /api/v1/users/{idOrLogin}`.
pub async fn get_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let user = app.engine.admin().find_user(&id).await?;
    Ok(Json(render(&app, &user)))
}

/// `GET /api/v1/users` query.
#[derive(Debug, Deserialize)]
pub struct ListUsersQuery {
    q: Option<String>,
    filter: Option<String>,
    /// Okta's newer `search` takes the same expressions as `filter` here, and wins over it.
    search: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

const MAX_PAGE: usize = 200;

/// `GET /api/v1/users?q=&filter=&search=&limit=&after=`, with Okta's `Link` headers for paging.
pub async fn list_users(
    State(app): State<AppState>,
    Query(query): Query<ListUsersQuery>,
) -> Result<Response, OktaError> {
    let limit = super::page_limit(query.limit.as_deref(), MAX_PAGE)?;
    let (expression_name, expression) = match (&query.search, &query.filter) {
        (Some(search), _) => ("search", Some(search)),
        (None, filter) => ("filter", filter.as_ref()),
    };
    let (status, login) = match expression.map(String::as_str) {
        None => (None, None),
        Some(expression) => parse_filter(expression_name, expression)?,
    };
    let users = app
        .engine
        .admin()
        .list_users(&UserQuery {
            status,
            login,
            q: query.q.clone().filter(|q| !q.is_empty()),
            after: query.after.clone(),
            // One more than asked shows whether a next page exists.
            limit: u32::try_from(limit + 1).unwrap_or(u32::MAX),
        })
        .await?;
    let has_next = users.len() > limit;
    let page: Vec<&User> = users.iter().take(limit).collect();
    let next_after = page
        .last()
        .filter(|_| has_next)
        .map(|user| user.id.as_str());
    let body: Vec<Value> = page.iter().map(|user| render(&app, user)).collect();
    Ok(super::paged(
        body,
        &format!("{}/api/v1/users", app.config.base_url),
        &[
            ("q", query.q.as_deref()),
            (expression_name, expression.map(String::as_str)),
        ],
        limit,
        next_after,
    ))
}

/// Okta's filter subset: `status eq "X"`, `profile.login eq "x"`, joined by `and`.
fn parse_filter(
    parameter: &str,
    filter: &str,
) -> Result<(Option<String>, Option<String>), OktaError> {
    let invalid = || {
        OktaError::validation(vec![format!(
            "{parameter}: {filter:?} is not supported; use status eq \"ACTIVE\" or profile.login eq \"x\", joined by and"
        )])
    };
    let mut status = None;
    let mut login = None;
    for (field, value) in super::eq_clauses(filter).ok_or_else(invalid)? {
        match field {
            "status" => status = Some(value.to_owned()),
            "profile.login" => login = Some(value.to_owned()),
            _ => return Err(invalid()),
        }
    }
    Ok((status, login))
}

/// `PUT /api/v1/users/{id}` body (the whole profile).
#[derive(Debug, Deserialize)]
pub struct UpdateUserRequest {
    profile: Map<String, Value>,
}

/// `POST /api/v1/users/{id}` body: profile attributes to merge and/or a password to set.
#[derive(Debug, Deserialize)]
pub struct PartialUserRequest {
    #[serde(default)]
    profile: Option<Map<String, Value>>,
    #[serde(default)]
    credentials: Option<Credentials>,
}

/// `POST /api/v1/users/{id}`: merges profile attributes; sets the password if given (as an
/// administrator, without the old one).
pub async fn update_user_partial(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OktaJson(request): OktaJson<PartialUserRequest>,
) -> Result<Json<Value>, OktaError> {
    let password = request
        .credentials
        .and_then(|credentials| credentials.password)
        .map(|password| password.value);
    if request.profile.is_none() && password.is_none() {
        return Err(OktaError::validation(vec![
            "profile: give profile attributes or credentials.password".to_owned(),
        ]));
    }
    let mut user = app.engine.admin().find_user(&id).await?;
    if let Some(profile) = request.profile {
        user = app
            .engine
            .admin()
            .update_user_profile(user.id.as_str(), profile, true)
            .await?;
    }
    if let Some(password) = password {
        user = app
            .engine
            .admin()
            .set_user_password(user.id.as_str(), password.into())
            .await?;
    }
    Ok(Json(render(&app, &user)))
}

/// `POST /api/v1/users/{id}/credentials/change_password` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    old_password: PasswordValue,
    new_password: PasswordValue,
}

/// `POST /api/v1/users/{id}/credentials/change_password`: the old password proves the change.
pub async fn change_password(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OktaJson(request): OktaJson<ChangePasswordRequest>,
) -> Result<Json<Value>, OktaError> {
    app.engine
        .admin()
        .change_user_password(
            &id,
            request.old_password.value.into(),
            request.new_password.value.into(),
        )
        .await?;
    Ok(Json(json!({
        "password": {},
        "provider": { "type": "OKTA", "name": "OKTA" }
    })))
}

/// `PUT /api/v1/users/{id}`: replaces the profile.
pub async fn replace_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OktaJson(request): OktaJson<UpdateUserRequest>,
) -> Result<Json<Value>, OktaError> {
    let user = app
        .engine
        .admin()
        .update_user_profile(&id, request.profile, false)
        .await?;
    Ok(Json(render(&app, &user)))
}

/// `POST /api/v1/users/{id}/lifecycle/{operation}`.
pub async fn user_lifecycle(
    State(app): State<AppState>,
    Path((id, operation)): Path<(String, String)>,
    Query(query): Query<LifecycleQuery>,
) -> Result<Json<Value>, OktaError> {
    if operation == "reset_password" {
        // Okta e-mails the link unless told not to; authd sends no e-mail.
        let send_email = match query.send_email.as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(OktaError::validation(vec![format!(
                    "sendEmail: must be true or false, not {other:?}"
                )]))
            }
        };
        if send_email {
            return Err(OktaError::validation(vec![
                "sendEmail: authd sends no e-mail; ask for the link with sendEmail=false"
                    .to_owned(),
            ]));
        }
        let token = app.engine.admin().issue_password_reset(&id).await?;
        return Ok(Json(json!({
            "resetPasswordUrl": format!("{}/reset_password/{}", app.config.base_url, token.expose())
        })));
    }
    let operation = Lifecycle::parse(&operation)
        .ok_or_else(|| OktaError::not_found("Lifecycle", &operation))?;
    let user = app.engine.admin().user_lifecycle(&id, operation).await?;
    Ok(Json(render(&app, &user)))
}

/// Query parameters of lifecycle operations.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleQuery {
    #[serde(default)]
    send_email: Option<String>,
}

/// `DELETE /api/v1/users/{id}`: deactivates, or deletes a deactivated user (as Okta).
pub async fn delete_user(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, OktaError> {
    app.engine.admin().delete_user(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Okta's User object; `profile.login` is always there, as Okta's is.
pub(crate) fn render(app: &AppState, user: &User) -> Value {
    let time = |at: Option<crate::model::Timestamp>| at.map(|at| at.to_okta_string());
    let mut profile = user.profile.clone();
    profile
        .entry("login")
        .or_insert_with(|| Value::String(user.login.clone()));
    json!({
        "id": user.id,
        "status": user.status,
        "created": user.created_at.to_okta_string(),
        "activated": time(user.activated_at),
        "statusChanged": time(user.status_changed_at),
        "lastLogin": time(user.last_login_at),
        "lastUpdated": user.updated_at.to_okta_string(),
        "passwordChanged": time(user.password_changed_at),
        "type": { "id": "otyauthddefault00000" },
        "profile": profile,
        "credentials": {
            "password": {},
            "provider": { "type": "OKTA", "name": "OKTA" }
        },
        "_links": {
            "self": { "href": format!("{}/api/v1/users/{}", app.config.base_url, user.id) }
        }
    })
}
