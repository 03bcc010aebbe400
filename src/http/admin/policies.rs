//! `/api/v1/authorizationServers/{id}/policies` and `…/policies/{policyId}/rules`: access
//! policies of a custom authorization server, in Okta's shapes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::engine::admin::policies::{PolicySpec, RuleSpec};
use crate::model::{
    AccessPolicy, GrantType, People as PeopleCondition, PolicyRule, Status, EVERYONE_GROUP,
};

use super::super::error::OktaError;
use super::super::extract::OktaJson;

/// A policy as sent to create or replace one; read-only fields are ignored.
#[derive(Debug, Deserialize)]
pub struct PolicyRequest {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    priority: Option<u32>,
    conditions: PolicyConditions,
}

#[derive(Debug, Deserialize)]
struct PolicyConditions {
    clients: Include<String>,
}

#[derive(Debug, Deserialize)]
struct Include<T> {
    include: Vec<T>,
}

impl PolicyRequest {
    fn into_spec(self) -> Result<PolicySpec, OktaError> {
        expect_type(self.kind.as_deref(), "OAUTH_AUTHORIZATION_POLICY")?;
        Ok(PolicySpec {
            name: self.name,
            description: self.description.unwrap_or_default(),
            status: self.status.unwrap_or(Status::Active),
            priority: self.priority,
            clients: self.conditions.clients.include,
        })
    }
}

/// A rule as sent to create or replace one.
#[derive(Debug, Deserialize)]
pub struct RuleRequest {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    name: String,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    priority: Option<u32>,
    conditions: RuleConditions,
    #[serde(default)]
    actions: Option<RuleActions>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleConditions {
    #[serde(default)]
    people: Option<People>,
    grant_types: Include<GrantType>,
    scopes: Include<String>,
}

#[derive(Debug, Deserialize)]
struct People {
    #[serde(default)]
    users: Option<IncludeExclude>,
    #[serde(default)]
    groups: Option<IncludeExclude>,
}

/// Ids a people condition includes and excludes.
#[derive(Debug, Default, Deserialize)]
struct IncludeExclude {
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RuleActions {
    #[serde(default)]
    token: Option<TokenActions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenActions {
    #[serde(default)]
    access_token_lifetime_minutes: Option<u64>,
    #[serde(default)]
    refresh_token_lifetime_minutes: Option<u64>,
    #[serde(default)]
    refresh_token_window_minutes: Option<u64>,
}

impl RuleRequest {
    fn into_spec(self) -> Result<RuleSpec, OktaError> {
        expect_type(self.kind.as_deref(), "RESOURCE_ACCESS")?;
        let people = self
            .conditions
            .people
            .map_or_else(PeopleCondition::default, |people| {
                let (users, groups) = (
                    people.users.unwrap_or_default(),
                    people.groups.unwrap_or_default(),
                );
                PeopleCondition {
                    users_include: users.include,
                    users_exclude: users.exclude,
                    groups_include: groups.include,
                    groups_exclude: groups.exclude,
                }
            });
        let token = self.actions.unwrap_or_default().token.unwrap_or_default();
        Ok(RuleSpec {
            name: self.name,
            status: self.status.unwrap_or(Status::Active),
            priority: self.priority,
            grant_types: self.conditions.grant_types.include,
            scopes: self.conditions.scopes.include,
            people,
            access_token_lifetime_minutes: token.access_token_lifetime_minutes,
            refresh_token_lifetime_minutes: token.refresh_token_lifetime_minutes,
            refresh_token_window_minutes: token.refresh_token_window_minutes,
        })
    }
}

fn expect_type(given: Option<&str>, expected: &str) -> Result<(), OktaError> {
    match given {
        Some(kind) if kind != expected => Err(OktaError::validation(vec![format!(
            "type: must be {expected}, not {kind}"
        )])),
        _ => Ok(()),
    }
}

/// `GET …/policies`.
pub async fn list_policies(
    State(app): State<AppState>,
    Path(server_id): Path<String>,
) -> Result<Json<Value>, OktaError> {
    let policies = app.engine.admin().policies(&server_id).await?;
    Ok(Json(
        policies
            .iter()
            .map(|policy| render_policy(&app, &server_id, policy))
            .collect(),
    ))
}

/// `POST …/policies`.
pub async fn create_policy(
    State(app): State<AppState>,
    Path(server_id): Path<String>,
    OktaJson(request): OktaJson<PolicyRequest>,
) -> Result<(StatusCode, Json<Value>), OktaError> {
    let policy = app
        .engine
        .admin()
        .create_policy(&server_id, request.into_spec()?)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(render_policy(&app, &server_id, &policy)),
    ))
}

/// `GET …/policies/{policyId}`.
pub async fn get_policy(
    State(app): State<AppState>,
    Path((server_id, policy_id)): Path<(String, String)>,
) -> Result<Json<Value>, OktaError> {
    let policy = app.engine.admin().policy(&server_id, &policy_id).await?;
    Ok(Json(render_policy(&app, &server_id, &policy)))
}

/// `PUT …/policies/{policyId}`.
pub async fn replace_policy(
    State(app): State<AppState>,
    Path((server_id, policy_id)): Path<(String, String)>,
    OktaJson(request): OktaJson<PolicyRequest>,
) -> Result<Json<Value>, OktaError> {
    let policy = app
        .engine
        .admin()
        .replace_policy(&server_id, &policy_id, request.into_spec()?)
        .await?;
    Ok(Json(render_policy(&app, &server_id, &policy)))
}

/// `POST …/policies/{policyId}/lifecycle/{activate|deactivate}`.
pub async fn policy_lifecycle(
    State(app): State<AppState>,
    Path((server_id, policy_id, operation)): Path<(String, String, String)>,
) -> Result<StatusCode, OktaError> {
    let status = super::lifecycle_status(&operation)?;
    app.engine
        .admin()
        .set_policy_status(&server_id, &policy_id, status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE …/policies/{policyId}`.
pub async fn delete_policy(
    State(app): State<AppState>,
    Path((server_id, policy_id)): Path<(String, String)>,
) -> Result<StatusCode, OktaError> {
    app.engine
        .admin()
        .delete_policy(&server_id, &policy_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET …/policies/{policyId}/rules`.
pub async fn list_rules(
    State(app): State<AppState>,
    Path((server_id, policy_id)): Path<(String, String)>,
) -> Result<Json<Value>, OktaError> {
    let rules = app.engine.admin().rules(&server_id, &policy_id).await?;
    let defaults = Defaults::of(&app, &server_id).await?;
    Ok(Json(
        rules
            .iter()
            .map(|rule| render_rule(&app, &server_id, &policy_id, rule, defaults))
            .collect(),
    ))
}

/// `POST …/policies/{policyId}/rules`.
pub async fn create_rule(
    State(app): State<AppState>,
    Path((server_id, policy_id)): Path<(String, String)>,
    OktaJson(request): OktaJson<RuleRequest>,
) -> Result<(StatusCode, Json<Value>), OktaError> {
    let rule = app
        .engine
        .admin()
        .create_rule(&server_id, &policy_id, request.into_spec()?)
        .await?;
    let defaults = Defaults::of(&app, &server_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(render_rule(&app, &server_id, &policy_id, &rule, defaults)),
    ))
}

/// `GET …/rules/{ruleId}`.
pub async fn get_rule(
    State(app): State<AppState>,
    Path((server_id, policy_id, rule_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, OktaError> {
    let rule = app
        .engine
        .admin()
        .rule(&server_id, &policy_id, &rule_id)
        .await?;
    let defaults = Defaults::of(&app, &server_id).await?;
    Ok(Json(render_rule(
        &app, &server_id, &policy_id, &rule, defaults,
    )))
}

/// `PUT …/rules/{ruleId}`.
pub async fn replace_rule(
    State(app): State<AppState>,
    Path((server_id, policy_id, rule_id)): Path<(String, String, String)>,
    OktaJson(request): OktaJson<RuleRequest>,
) -> Result<Json<Value>, OktaError> {
    let rule = app
        .engine
        .admin()
        .replace_rule(&server_id, &policy_id, &rule_id, request.into_spec()?)
        .await?;
    let defaults = Defaults::of(&app, &server_id).await?;
    Ok(Json(render_rule(
        &app, &server_id, &policy_id, &rule, defaults,
    )))
}

/// `POST …/rules/{ruleId}/lifecycle/{activate|deactivate}`.
pub async fn rule_lifecycle(
    State(app): State<AppState>,
    Path((server_id, policy_id, rule_id, operation)): Path<(String, String, String, String)>,
) -> Result<StatusCode, OktaError> {
    let status = super::lifecycle_status(&operation)?;
    app.engine
        .admin()
        .set_rule_status(&server_id, &policy_id, &rule_id, status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE …/rules/{ruleId}`.
pub async fn delete_rule(
    State(app): State<AppState>,
    Path((server_id, policy_id, rule_id)): Path<(String, String, String)>,
) -> Result<StatusCode, OktaError> {
    app.engine
        .admin()
        .delete_rule(&server_id, &policy_id, &rule_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The lifetimes a rule that sets none follows: the server's, shown in minutes.
#[derive(Debug, Clone, Copy)]
struct Defaults {
    access_token_minutes: u64,
    refresh_token_minutes: u64,
    refresh_window_minutes: u64,
}

impl Defaults {
    async fn of(app: &AppState, server_id: &str) -> Result<Self, OktaError> {
        let server = app.engine.admin().admin_auth_server(server_id).await?;
        let lifetimes = app.engine.lifetimes().of(&server);
        let minutes = |duration: std::time::Duration| duration.as_secs() / 60;
        Ok(Defaults {
            access_token_minutes: minutes(lifetimes.access_token_lifetime),
            refresh_token_minutes: minutes(lifetimes.refresh_token_max_lifetime),
            refresh_window_minutes: minutes(lifetimes.refresh_token_idle_lifetime),
        })
    }
}

fn render_policy(app: &AppState, server_id: &str, policy: &AccessPolicy) -> Value {
    let href = format!(
        "{}/api/v1/authorizationServers/{server_id}/policies/{}",
        app.config.base_url, policy.id
    );
    json!({
        "type": "OAUTH_AUTHORIZATION_POLICY",
        "id": policy.id,
        "status": policy.status,
        "name": policy.name,
        "description": policy.description,
        "priority": policy.priority,
        "system": false,
        "conditions": { "clients": { "include": policy.clients } },
        "created": policy.created_at.to_okta_string(),
        "lastUpdated": policy.updated_at.to_okta_string(),
        "_links": {
            "self": { "href": href },
            "rules": { "href": format!("{href}/rules") },
        }
    })
}

fn render_rule(
    app: &AppState,
    server_id: &str,
    policy_id: &str,
    rule: &PolicyRule,
    defaults: Defaults,
) -> Value {
    // 0 is Okta's "unlimited", shown as given so that a read-then-replace keeps it.
    let refresh_lifetime = rule
        .refresh_token_lifetime_minutes
        .unwrap_or(defaults.refresh_token_minutes);
    json!({
        "type": "RESOURCE_ACCESS",
        "id": rule.id,
        "status": rule.status,
        "name": rule.name,
        "priority": rule.priority,
        "system": false,
        "conditions": {
            "people": {
                "users": { "include": rule.people.users_include, "exclude": rule.people.users_exclude },
                "groups": {
                    // A rule that names no one applies to everyone, as Okta shows it.
                    "include": if rule.people.users_include.is_empty() && rule.people.groups_include.is_empty() {
                        vec![EVERYONE_GROUP.to_owned()]
                    } else {
                        rule.people.groups_include.clone()
                    },
                    "exclude": rule.people.groups_exclude,
                },
            },
            "grantTypes": { "include": rule.grant_types },
            "scopes": { "include": rule.scopes },
        },
        "actions": { "token": {
            "accessTokenLifetimeMinutes": rule
                .access_token_lifetime_minutes
                .unwrap_or(defaults.access_token_minutes),
            "refreshTokenLifetimeMinutes": refresh_lifetime,
            "refreshTokenWindowMinutes": rule
                .refresh_token_window_minutes
                .unwrap_or(defaults.refresh_window_minutes),
        } },
        "created": rule.created_at.to_okta_string(),
        "lastUpdated": rule.updated_at.to_okta_string(),
        "_links": { "self": { "href": format!(
            "{}/api/v1/authorizationServers/{server_id}/policies/{policy_id}/rules/{}",
            app.config.base_url, rule.id
        ) } }
    })
}
