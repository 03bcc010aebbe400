//! Access policies of a custom authorization server (Okta's `/policies` and their rules):
//! which clients may get tokens, with which grants and scopes, and for how long.
//!
//! Okta's order of evaluation: active policies by priority, the first whose clients include the
//! requesting client; within it, active rules by priority, the first that allows the grant type
//! and every requested scope. If none matches, no token is issued.

use super::{derived_okta_id, GrantType, Status, Timestamp};

/// Okta's `conditions.clients.include` value that matches every client.
pub const ALL_CLIENTS: &str = "ALL_CLIENTS";
/// Okta's `conditions.scopes.include` value that matches every scope.
pub const ALL_SCOPES: &str = "*";

/// An access policy (`OAUTH_AUTHORIZATION_POLICY`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessPolicy {
    /// Okta-style id (`00p…`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Inactive policies are skipped.
    pub status: Status,
    /// 1 is evaluated first.
    pub priority: u32,
    /// Client ids it applies to, or [`ALL_CLIENTS`].
    pub clients: Vec<String>,
    /// Its rules.
    #[serde(default)]
    pub rules: Vec<PolicyRule>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Okta's `conditions.people.groups.include` value for every user.
pub const EVERYONE_GROUP: &str = "EVERYONE";

/// Whom a rule applies to (Okta's `conditions.people`): users named by id, and members of
/// groups named by id (or [`EVERYONE_GROUP`]). With nothing included, everyone; an excluded
/// user or member of an excluded group never.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct People {
    /// Users it applies to.
    #[serde(default)]
    pub users_include: Vec<String>,
    /// Users it never applies to.
    #[serde(default)]
    pub users_exclude: Vec<String>,
    /// Groups whose members it applies to.
    #[serde(default)]
    pub groups_include: Vec<String>,
    /// Groups whose members it never applies to.
    #[serde(default)]
    pub groups_exclude: Vec<String>,
}

/// The user a request is for, as a rule's people condition sees them.
#[derive(Debug, Clone, Copy)]
pub struct PolicyUser<'a> {
    /// The user's id.
    pub id: &'a str,
    /// The ids of the groups they are in.
    pub group_ids: &'a [&'a str],
}

impl People {
    /// Whether it names anything but everyone, so that evaluating it needs the user's groups.
    pub fn reads_groups(&self) -> bool {
        self.groups_include
            .iter()
            .chain(&self.groups_exclude)
            .any(|group| group != EVERYONE_GROUP)
    }

    /// Whether it admits the user; a request without a user (client credentials) is not
    /// about people, and is admitted.
    pub fn admits(&self, user: Option<PolicyUser<'_>>) -> bool {
        let Some(user) = user else {
            return true;
        };
        let in_group = |groups: &[String]| {
            groups
                .iter()
                .any(|group| group == EVERYONE_GROUP || user.group_ids.contains(&group.as_str()))
        };
        let excluded =
            self.users_exclude.iter().any(|id| id == user.id) || in_group(&self.groups_exclude);
        let everyone = self.users_include.is_empty() && self.groups_include.is_empty();
        let included = everyone
            || self.users_include.iter().any(|id| id == user.id)
            || in_group(&self.groups_include);
        included && !excluded
    }
}

/// A rule of an access policy (`RESOURCE_ACCESS`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyRule {
    /// Okta-style id (`0pr…`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Inactive rules are skipped.
    pub status: Status,
    /// 1 is evaluated first.
    pub priority: u32,
    /// Grant types it allows.
    pub grant_types: Vec<GrantType>,
    /// Scopes it allows, or [`ALL_SCOPES`].
    pub scopes: Vec<String>,
    /// Whom it applies to.
    #[serde(default)]
    pub people: People,
    /// Access-token lifetime it sets; unset follows the server's settings.
    pub access_token_lifetime_minutes: Option<u64>,
    /// Refresh-token family lifetime it sets; unset, or 0 (Okta's "unlimited"), follows the
    /// server's settings.
    pub refresh_token_lifetime_minutes: Option<u64>,
    /// How long an unused refresh token stays valid; unset follows the server's settings.
    pub refresh_token_window_minutes: Option<u64>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl AccessPolicy {
    /// Okta's "Default Policy" of the `default` server: every client, one rule allowing every
    /// grant and scope, with the server's own lifetimes. `seed` makes the ids (the same seed
    /// gives the same ids); without one they are random.
    pub fn okta_default(seed: Option<&str>, now: Timestamp) -> Self {
        let id = |prefix: &str, what: &str| match seed {
            Some(seed) => derived_okta_id(prefix, &format!("{seed}/{what}")),
            None => super::new_okta_id(prefix),
        };
        AccessPolicy {
            id: id("00p", "policy"),
            name: "Default Policy".to_owned(),
            description: "Default policy description".to_owned(),
            status: Status::Active,
            priority: 1,
            clients: vec![ALL_CLIENTS.to_owned()],
            rules: vec![PolicyRule {
                id: id("0pr", "rule"),
                name: "Default Policy Rule".to_owned(),
                status: Status::Active,
                priority: 1,
                grant_types: vec![
                    GrantType::AuthorizationCode,
                    GrantType::Implicit,
                    GrantType::Password,
                    GrantType::ClientCredentials,
                    GrantType::RefreshToken,
                ],
                scopes: vec![ALL_SCOPES.to_owned()],
                people: People::default(),
                access_token_lifetime_minutes: None,
                refresh_token_lifetime_minutes: None,
                refresh_token_window_minutes: None,
                created_at: now,
                updated_at: now,
            }],
            created_at: now,
            updated_at: now,
        }
    }

    fn applies_to(&self, client_id: &str) -> bool {
        self.status == Status::Active
            && self
                .clients
                .iter()
                .any(|client| client == ALL_CLIENTS || client == client_id)
    }
}

impl PolicyRule {
    fn allows(&self, grant: GrantType, scopes: &[&str], user: Option<PolicyUser<'_>>) -> bool {
        // Okta's rules name the grant that started a token family, not `refresh_token`: a
        // refresh is allowed by a rule that allows a grant issuing refresh tokens, or by one
        // that names `refresh_token` itself.
        let allows_grant = match grant {
            GrantType::RefreshToken => self.grant_types.iter().any(|allowed| {
                matches!(
                    allowed,
                    GrantType::RefreshToken | GrantType::AuthorizationCode | GrantType::Password
                )
            }),
            other => self.grant_types.contains(&other),
        };
        self.status == Status::Active
            && allows_grant
            && self.people.admits(user)
            && (self.scopes.iter().any(|scope| scope == ALL_SCOPES)
                || scopes
                    .iter()
                    .all(|scope| self.scopes.iter().any(|allowed| allowed == scope)))
    }
}

/// The rule that governs a request, by Okta's order of evaluation; `None` if no policy lets it
/// through. `user` is who the request is for, once known: before sign-in, and for client
/// credentials, people conditions are not evaluated.
pub fn governing_rule<'p>(
    policies: &'p [AccessPolicy],
    client_id: &str,
    grant: GrantType,
    scopes: &[&str],
    user: Option<PolicyUser<'_>>,
) -> Option<&'p PolicyRule> {
    let mut applicable: Vec<&AccessPolicy> = policies
        .iter()
        .filter(|policy| policy.applies_to(client_id))
        .collect();
    applicable.sort_by_key(|policy| policy.priority);
    // Okta stops at the first policy whose clients match, whether or not a rule then matches.
    let policy = applicable.first()?;
    let mut rules: Vec<&PolicyRule> = policy.rules.iter().collect();
    rules.sort_by_key(|rule| rule.priority);
    rules
        .into_iter()
        .find(|rule| rule.allows(grant, scopes, user))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(priority: u32, grants: &[GrantType], scopes: &[&str], minutes: u64) -> PolicyRule {
        PolicyRule {
            id: format!("0pr{priority}"),
            name: format!("rule {priority}"),
            status: Status::Active,
            priority,
            grant_types: grants.to_vec(),
            scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
            people: People::default(),
            access_token_lifetime_minutes: Some(minutes),
            refresh_token_lifetime_minutes: None,
            refresh_token_window_minutes: None,
            created_at: Timestamp::from_unix(0),
            updated_at: Timestamp::from_unix(0),
        }
    }

    fn policy(priority: u32, clients: &[&str], rules: Vec<PolicyRule>) -> AccessPolicy {
        AccessPolicy {
            id: format!("00p{priority}"),
            name: format!("policy {priority}"),
            description: String::new(),
            status: Status::Active,
            priority,
            clients: clients.iter().map(|client| (*client).to_owned()).collect(),
            rules,
            created_at: Timestamp::from_unix(0),
            updated_at: Timestamp::from_unix(0),
        }
    }

    #[test]
    fn the_first_matching_policy_then_the_first_rule_allowing_every_scope_governs() {
        let policies = vec![
            policy(
                2,
                &[ALL_CLIENTS],
                vec![rule(1, &[GrantType::ClientCredentials], &["*"], 5)],
            ),
            policy(
                1,
                &["billing"],
                vec![
                    rule(
                        2,
                        &[GrantType::ClientCredentials],
                        &["api.read", "api.write"],
                        10,
                    ),
                    rule(1, &[GrantType::ClientCredentials], &["api.read"], 20),
                ],
            ),
        ];
        let governing = |client: &str, scopes: &[&str]| {
            governing_rule(
                &policies,
                client,
                GrantType::ClientCredentials,
                scopes,
                None,
            )
            .and_then(|rule| rule.access_token_lifetime_minutes)
        };
        assert_eq!(governing("billing", &["api.read"]), Some(20));
        assert_eq!(governing("billing", &["api.read", "api.write"]), Some(10));
        // The billing policy matched first, so the catch-all policy is not consulted.
        assert_eq!(governing("billing", &["api.admin"]), None);
        assert_eq!(governing("other", &["api.admin"]), Some(5));
        assert_eq!(
            governing_rule(&policies, "other", GrantType::Password, &[], None),
            None
        );
    }

    #[test]
    fn inactive_policies_and_rules_are_skipped_and_no_policy_allows_nothing() {
        let mut first = policy(
            1,
            &[ALL_CLIENTS],
            vec![rule(1, &[GrantType::Password], &["*"], 5)],
        );
        first.status = Status::Inactive;
        let mut second = policy(
            2,
            &[ALL_CLIENTS],
            vec![rule(1, &[GrantType::Password], &["*"], 7)],
        );
        second
            .rules
            .push(rule(0, &[GrantType::Password], &["*"], 9));
        second.rules[1].status = Status::Inactive;
        let policies = vec![first, second];
        let found = governing_rule(&policies, "c", GrantType::Password, &["openid"], None);
        assert_eq!(
            found.and_then(|rule| rule.access_token_lifetime_minutes),
            Some(7)
        );
        assert!(governing_rule(&[], "c", GrantType::Password, &[], None).is_none());
    }

    #[test]
    fn people_conditions_include_users_and_groups_and_exclusions_win() {
        let mut admins = rule(1, &[GrantType::Password], &["*"], 5);
        admins.people.groups_include = vec!["00gadmins".to_owned()];
        admins.people.users_exclude = vec!["00ubanned".to_owned()];
        let mut named = rule(2, &[GrantType::Password], &["*"], 7);
        named.people.users_include = vec!["00ualice".to_owned()];
        let everyone_but_contractors = {
            let mut rule = rule(3, &[GrantType::Password], &["*"], 9);
            rule.people.groups_include = vec![EVERYONE_GROUP.to_owned()];
            rule.people.groups_exclude = vec!["00gcontractors".to_owned()];
            rule
        };
        let policies = vec![policy(
            1,
            &[ALL_CLIENTS],
            vec![admins, named, everyone_but_contractors],
        )];
        let minutes = |id: &str, groups: &[&str]| {
            governing_rule(
                &policies,
                "c",
                GrantType::Password,
                &[],
                Some(PolicyUser {
                    id,
                    group_ids: groups,
                }),
            )
            .and_then(|rule| rule.access_token_lifetime_minutes)
        };
        assert_eq!(minutes("00ubob", &["00gadmins"]), Some(5));
        assert_eq!(minutes("00ubanned", &["00gadmins"]), Some(9));
        assert_eq!(minutes("00ualice", &[]), Some(7));
        assert_eq!(minutes("00ubob", &[]), Some(9));
        assert_eq!(minutes("00ubob", &["00gcontractors"]), None);
        // Before sign-in, and without a user, people are not asked about.
        assert_eq!(
            governing_rule(&policies, "c", GrantType::Password, &[], None)
                .and_then(|rule| rule.access_token_lifetime_minutes),
            Some(5)
        );
    }
}
