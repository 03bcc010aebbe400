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

/// A rule of an access policy (`RESOURCE_ACCESS`). Its people condition is always everyone.
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
    fn allows(&self, grant: GrantType, scopes: &[&str]) -> bool {
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
            && (self.scopes.iter().any(|scope| scope == ALL_SCOPES)
                || scopes
                    .iter()
                    .all(|scope| self.scopes.iter().any(|allowed| allowed == scope)))
    }
}

/// The rule that governs a request, by Okta's order of evaluation; `None` if no policy lets it
/// through.
pub fn governing_rule<'p>(
    policies: &'p [AccessPolicy],
    client_id: &str,
    grant: GrantType,
    scopes: &[&str],
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
    rules.into_iter().find(|rule| rule.allows(grant, scopes))
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
            governing_rule(&policies, client, GrantType::ClientCredentials, scopes)
                .and_then(|rule| rule.access_token_lifetime_minutes)
        };
        assert_eq!(governing("billing", &["api.read"]), Some(20));
        assert_eq!(governing("billing", &["api.read", "api.write"]), Some(10));
        // The billing policy matched first, so the catch-all policy is not consulted.
        assert_eq!(governing("billing", &["api.admin"]), None);
        assert_eq!(governing("other", &["api.admin"]), Some(5));
        assert_eq!(
            governing_rule(&policies, "other", GrantType::Password, &[]),
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
        let found = governing_rule(&policies, "c", GrantType::Password, &["openid"]);
        assert_eq!(
            found.and_then(|rule| rule.access_token_lifetime_minutes),
            Some(7)
        );
        assert!(governing_rule(&[], "c", GrantType::Password, &[]).is_none());
    }
}
