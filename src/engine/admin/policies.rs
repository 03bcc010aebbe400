//! Administration of custom authorization servers' access policies
//! (`/authorizationServers/{id}/policies` and their `/rules`). `engine::oauth::governance`
//! enforces them.

use crate::engine::{find, find_mut, Error, Result};
use crate::model::{
    AccessPolicy, AuthServer, GrantType, People, PolicyRule, Status, UserId, ALL_CLIENTS,
    ALL_SCOPES, EVERYONE_GROUP, OIDC_SCOPES,
};
use crate::store;

use super::Admin;

/// An access policy as an administrator describes it.
#[derive(Debug, Clone)]
pub struct PolicySpec {
    /// Display name, unique per server.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Inactive policies are skipped.
    pub status: Status,
    /// 1 is evaluated first; unset puts it last.
    pub priority: Option<u32>,
    /// Client ids, or [`ALL_CLIENTS`].
    pub clients: Vec<String>,
}

/// A policy rule as an administrator describes it.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    /// Display name, unique per policy.
    pub name: String,
    /// Inactive rules are skipped.
    pub status: Status,
    /// 1 is evaluated first; unset puts it last.
    pub priority: Option<u32>,
    /// Grant types it allows.
    pub grant_types: Vec<GrantType>,
    /// Scopes it allows, or [`ALL_SCOPES`].
    pub scopes: Vec<String>,
    /// Whom it applies to.
    pub people: People,
    /// Access-token lifetime.
    pub access_token_lifetime_minutes: Option<u64>,
    /// Refresh-token family lifetime; 0 is unlimited.
    pub refresh_token_lifetime_minutes: Option<u64>,
    /// Refresh-token idle window.
    pub refresh_token_window_minutes: Option<u64>,
}

/// Administration of policies and rules.
impl Admin {
    /// A server's policies, by priority.
    pub async fn policies(&self, server_id: &str) -> Result<Vec<AccessPolicy>> {
        let mut policies = self.admin_auth_server(server_id).await?.policies;
        policies.sort_by_key(|policy| policy.priority);
        Ok(policies)
    }

    /// One policy.
    pub async fn policy(&self, server_id: &str, policy_id: &str) -> Result<AccessPolicy> {
        let server = self.admin_auth_server(server_id).await?;
        Ok(find(&server.policies, policy_id)?.clone())
    }

    /// Adds a policy, without rules.
    pub async fn create_policy(&self, server_id: &str, spec: PolicySpec) -> Result<AccessPolicy> {
        check_policy(&spec)?;
        let (_, policy) = self
            .modify_auth_server(server_id, |server, now| {
                refuse_taken_policy(&server.policies, &spec.name, None)?;
                let policy = AccessPolicy {
                    id: crate::model::new_okta_id("00p"),
                    name: spec.name.clone(),
                    description: spec.description.clone(),
                    status: spec.status,
                    priority: spec.priority.unwrap_or_else(|| {
                        next_priority(server.policies.iter().map(|p| p.priority))
                    }),
                    clients: spec.clients.clone(),
                    rules: vec![],
                    created_at: now,
                    updated_at: now,
                };
                server.policies.push(policy.clone());
                Ok(policy)
            })
            .await?;
        Ok(policy)
    }

    /// Replaces a policy's settings; its rules stay.
    pub async fn replace_policy(
        &self,
        server_id: &str,
        policy_id: &str,
        spec: PolicySpec,
    ) -> Result<AccessPolicy> {
        check_policy(&spec)?;
        self.change_policy(server_id, policy_id, |policies, now| {
            refuse_taken_policy(policies, &spec.name, Some(policy_id))?;
            let policy = find_mut(policies, policy_id)?;
            policy.name.clone_from(&spec.name);
            policy.description.clone_from(&spec.description);
            policy.status = spec.status;
            policy.priority = spec.priority.unwrap_or(policy.priority);
            policy.clients.clone_from(&spec.clients);
            policy.updated_at = now;
            Ok(())
        })
        .await
    }

    /// Activates or deactivates a policy.
    pub async fn set_policy_status(
        &self,
        server_id: &str,
        policy_id: &str,
        status: Status,
    ) -> Result<AccessPolicy> {
        self.change_policy(server_id, policy_id, |policies, now| {
            let policy = find_mut(policies, policy_id)?;
            policy.status = status;
            policy.updated_at = now;
            Ok(())
        })
        .await
    }

    /// Removes a policy with its rules.
    pub async fn delete_policy(&self, server_id: &str, policy_id: &str) -> Result<()> {
        self.modify_auth_server(server_id, |server, _| {
            find(&server.policies, policy_id)?;
            server.policies.retain(|policy| policy.id != policy_id);
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// A policy's rules, by priority.
    pub async fn rules(&self, server_id: &str, policy_id: &str) -> Result<Vec<PolicyRule>> {
        let mut rules = self.policy(server_id, policy_id).await?.rules;
        rules.sort_by_key(|rule| rule.priority);
        Ok(rules)
    }

    /// One rule.
    pub async fn rule(
        &self,
        server_id: &str,
        policy_id: &str,
        rule_id: &str,
    ) -> Result<PolicyRule> {
        let policy = self.policy(server_id, policy_id).await?;
        Ok(find(&policy.rules, rule_id)?.clone())
    }

    /// Adds a rule to a policy.
    pub async fn create_rule(
        &self,
        server_id: &str,
        policy_id: &str,
        spec: RuleSpec,
    ) -> Result<PolicyRule> {
        self.check_people(&spec.people).await?;
        let (_, rule) = self
            .modify_auth_server(server_id, |server, now| {
                check_rule(server, &spec)?;
                let policy = find_mut(&mut server.policies, policy_id)?;
                refuse_taken_rule(&policy.rules, &spec.name, None)?;
                let rule = PolicyRule {
                    id: crate::model::new_okta_id("0pr"),
                    name: spec.name.clone(),
                    status: spec.status,
                    priority: spec.priority.unwrap_or_else(|| {
                        next_priority(policy.rules.iter().map(|rule| rule.priority))
                    }),
                    grant_types: spec.grant_types.clone(),
                    scopes: spec.scopes.clone(),
                    people: spec.people.clone(),
                    access_token_lifetime_minutes: spec.access_token_lifetime_minutes,
                    refresh_token_lifetime_minutes: spec.refresh_token_lifetime_minutes,
                    refresh_token_window_minutes: spec.refresh_token_window_minutes,
                    created_at: now,
                    updated_at: now,
                };
                policy.rules.push(rule.clone());
                policy.updated_at = now;
                Ok(rule)
            })
            .await?;
        Ok(rule)
    }

    /// Replaces a rule.
    pub async fn replace_rule(
        &self,
        server_id: &str,
        policy_id: &str,
        rule_id: &str,
        spec: RuleSpec,
    ) -> Result<PolicyRule> {
        self.check_people(&spec.people).await?;
        let (_, rule) = self
            .modify_auth_server(server_id, |server, now| {
                check_rule(server, &spec)?;
                let policy = find_mut(&mut server.policies, policy_id)?;
                refuse_taken_rule(&policy.rules, &spec.name, Some(rule_id))?;
                let rule = find_mut(&mut policy.rules, rule_id)?;
                *rule = PolicyRule {
                    id: rule.id.clone(),
                    name: spec.name.clone(),
                    status: spec.status,
                    priority: spec.priority.unwrap_or(rule.priority),
                    grant_types: spec.grant_types.clone(),
                    scopes: spec.scopes.clone(),
                    people: spec.people.clone(),
                    access_token_lifetime_minutes: spec.access_token_lifetime_minutes,
                    refresh_token_lifetime_minutes: spec.refresh_token_lifetime_minutes,
                    refresh_token_window_minutes: spec.refresh_token_window_minutes,
                    created_at: rule.created_at,
                    updated_at: now,
                };
                Ok(rule.clone())
            })
            .await?;
        Ok(rule)
    }

    /// Activates or deactivates a rule.
    pub async fn set_rule_status(
        &self,
        server_id: &str,
        policy_id: &str,
        rule_id: &str,
        status: Status,
    ) -> Result<PolicyRule> {
        let (_, rule) = self
            .modify_auth_server(server_id, |server, now| {
                let policy = find_mut(&mut server.policies, policy_id)?;
                let rule = find_mut(&mut policy.rules, rule_id)?;
                rule.status = status;
                rule.updated_at = now;
                Ok(rule.clone())
            })
            .await?;
        Ok(rule)
    }

    /// Removes a rule.
    pub async fn delete_rule(&self, server_id: &str, policy_id: &str, rule_id: &str) -> Result<()> {
        self.modify_auth_server(server_id, |server, _| {
            let policy = find_mut(&mut server.policies, policy_id)?;
            find(&policy.rules, rule_id)?;
            policy.rules.retain(|rule| rule.id != rule_id);
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn change_policy(
        &self,
        server_id: &str,
        policy_id: &str,
        mut change: impl FnMut(&mut Vec<AccessPolicy>, crate::model::Timestamp) -> Result<()>,
    ) -> Result<AccessPolicy> {
        let (server, ()) = self
            .modify_auth_server(server_id, |server, now| change(&mut server.policies, now))
            .await?;
        Ok(find(&server.policies, policy_id)?.clone())
    }
}

fn next_priority(taken: impl Iterator<Item = u32>) -> u32 {
    taken.max().unwrap_or(0) + 1
}

fn refuse_taken_policy(policies: &[AccessPolicy], name: &str, except: Option<&str>) -> Result<()> {
    if policies
        .iter()
        .any(|policy| policy.name == name && Some(policy.id.as_str()) != except)
    {
        return Err(Error::Validation(vec![format!(
            "name: A policy named {name:?} already exists on this authorization server"
        )]));
    }
    Ok(())
}

fn refuse_taken_rule(rules: &[PolicyRule], name: &str, except: Option<&str>) -> Result<()> {
    if rules
        .iter()
        .any(|rule| rule.name == name && Some(rule.id.as_str()) != except)
    {
        return Err(Error::Validation(vec![format!(
            "name: A rule named {name:?} already exists in this policy"
        )]));
    }
    Ok(())
}

fn check_policy(spec: &PolicySpec) -> Result<()> {
    let mut causes = Vec::new();
    if spec.name.trim().is_empty() {
        causes.push("name: The field cannot be left blank".to_owned());
    }
    if spec.priority == Some(0) {
        causes.push("priority: must be 1 or more".to_owned());
    }
    if spec.clients.is_empty() {
        causes.push(format!(
            "conditions.clients.include: name {ALL_CLIENTS} or at least one client id"
        ));
    }
    for client in &spec.clients {
        if client != ALL_CLIENTS && crate::model::ClientId::parse(client.as_str()).is_err() {
            causes.push(format!(
                "conditions.clients.include: {client:?} is not a client id"
            ));
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(causes))
    }
}

/// Okta's limits: access tokens live 5 minutes to a day; the refresh window is 10 minutes to 5
/// years and no longer than the refresh lifetime, which is at least the access-token lifetime.
impl Admin {
    /// Okta's check of a rule's people: every group and user it names exists.
    async fn check_people(&self, people: &People) -> Result<()> {
        let mut causes = Vec::new();
        let groups = [
            ("groups.include", &people.groups_include),
            ("groups.exclude", &people.groups_exclude),
        ];
        for (field, ids) in groups {
            for id in ids.iter().filter(|id| *id != EVERYONE_GROUP) {
                match self.store.get_group(id).await {
                    Ok(_) => {}
                    Err(store::Error::NotFound) => causes.push(format!(
                        "conditions.people.{field}: there is no group {id:?}"
                    )),
                    Err(err) => return Err(err.into()),
                }
            }
        }
        let users = [
            ("users.include", &people.users_include),
            ("users.exclude", &people.users_exclude),
        ];
        for (field, ids) in users {
            for id in ids {
                let found = match UserId::parse(id) {
                    Ok(user_id) => match self.store.get_user(&user_id).await {
                        Ok(_) => true,
                        Err(store::Error::NotFound) => false,
                        Err(err) => return Err(err.into()),
                    },
                    Err(_) => false,
                };
                if !found {
                    causes.push(format!(
                        "conditions.people.{field}: there is no user {id:?}"
                    ));
                }
            }
        }
        Error::refuse(causes)
    }
}

fn check_rule(server: &AuthServer, spec: &RuleSpec) -> Result<()> {
    const DAY: u64 = 24 * 60;
    let mut causes = Vec::new();
    if spec.name.trim().is_empty() {
        causes.push("name: The field cannot be left blank".to_owned());
    }
    if spec.priority == Some(0) {
        causes.push("priority: must be 1 or more".to_owned());
    }
    if spec.grant_types.is_empty() {
        causes.push("conditions.grantTypes.include: The field cannot be left blank".to_owned());
    }
    if spec.scopes.is_empty() {
        causes.push(format!(
            "conditions.scopes.include: name {ALL_SCOPES} or at least one scope"
        ));
    }
    for scope in &spec.scopes {
        let known = scope == ALL_SCOPES
            || OIDC_SCOPES.contains(&scope.as_str())
            || server.scope(scope).is_some();
        if !known {
            causes.push(format!(
                "conditions.scopes.include: {scope:?} is not a scope of this authorization server"
            ));
        }
    }
    let access = spec.access_token_lifetime_minutes;
    if access.is_some_and(|minutes| !(5..=DAY).contains(&minutes)) {
        causes.push(
            "actions.token.accessTokenLifetimeMinutes: must be between 5 and 1440".to_owned(),
        );
    }
    let lifetime = spec
        .refresh_token_lifetime_minutes
        .filter(|minutes| *minutes > 0);
    if lifetime.is_some_and(|minutes| minutes > 5 * 365 * DAY) {
        causes.push(
            "actions.token.refreshTokenLifetimeMinutes: must be 0 (unlimited) or at most 5 years"
                .to_owned(),
        );
    }
    if let (Some(lifetime), Some(access)) = (lifetime, access) {
        if lifetime < access {
            causes.push(
                "actions.token.refreshTokenLifetimeMinutes: must be at least the access token \
                 lifetime"
                    .to_owned(),
            );
        }
    }
    if let Some(window) = spec.refresh_token_window_minutes {
        if !(10..=5 * 365 * DAY).contains(&window) {
            causes.push(
                "actions.token.refreshTokenWindowMinutes: must be between 10 minutes and 5 years"
                    .to_owned(),
            );
        } else if lifetime.is_some_and(|lifetime| window > lifetime) {
            causes.push(
                "actions.token.refreshTokenWindowMinutes: must not exceed the refresh token \
                 lifetime"
                    .to_owned(),
            );
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(causes))
    }
}
