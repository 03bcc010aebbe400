//! Custom claims: an authorization server's claims (Okta Expression Language, or the user's
//! groups picked by a filter), and on the org server the app's groups claim in ID tokens for
//! the `groups` scope. What they read beyond the user and the app (the user's groups, the app
//! user's profile) is loaded once per token response, and only when a claim needs it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::engine::expression::{Context, Expression};
use crate::engine::{Error, Result};
use crate::model::{
    AppGroupsClaim, AuthServer, ClaimType, ClaimValueType, Client, CustomClaim, GroupFilter,
    GroupFilterType, Membership, ScopeSet, Status, User, MAX_GROUPS_IN_CLAIM, ORG_GROUPS_SCOPE,
};

use super::mint::Subject;
use super::OAuth;

/// Claims a custom claim cannot set: this server gives them their values.
pub const RESERVED_CLAIMS: [&str; 17] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "ver",
    "cid",
    "uid",
    "scp",
    "auth_time",
    "amr",
    "nonce",
    "at_hash",
    "c_hash",
    "idp",
];

/// Expressions kept parsed, by their text, and groups filters kept compiled: a claim's
/// expression or regular expression is checked when it is saved (which refuses a bad one) and
/// then made once per server process, not once per token.
#[derive(Default)]
pub(crate) struct ParsedExpressions {
    parsed: Mutex<HashMap<String, Arc<Expression>>>,
    /// By kind, then value: a lookup borrows the value rather than copy it for a key.
    filters: Mutex<HashMap<GroupFilterType, HashMap<String, Arc<GroupFilter>>>>,
}

/// More distinct expressions than any set of servers holds; past it, the cache starts over.
const MAX_PARSED_EXPRESSIONS: usize = 4096;

impl ParsedExpressions {
    /// The expression parsed; `None` if it does not parse (saved before the language grew
    /// stricter), which leaves its claim out.
    fn get(&self, text: &str) -> Option<Arc<Expression>> {
        let mut parsed = self
            .parsed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(expression) = parsed.get(text) {
            return Some(expression.clone());
        }
        let expression = Arc::new(Expression::parse(text).ok()?);
        if parsed.len() >= MAX_PARSED_EXPRESSIONS {
            parsed.clear();
        }
        parsed.insert(text.to_owned(), expression.clone());
        Some(expression)
    }

    /// The filter compiled; `None` if it does not compile (saved before the rules grew
    /// stricter), which leaves its claim out.
    fn filter(&self, kind: GroupFilterType, value: &str) -> Option<Arc<GroupFilter>> {
        let mut filters = self
            .filters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let of_kind = filters.entry(kind).or_default();
        if let Some(filter) = of_kind.get(value) {
            return Some(filter.clone());
        }
        let filter = Arc::new(GroupFilter::new(kind, value).ok()?);
        if of_kind.len() >= MAX_PARSED_EXPRESSIONS {
            of_kind.clear();
        }
        of_kind.insert(value.to_owned(), filter.clone());
        Some(filter)
    }
}

/// What a token's custom claims read beyond the user and the app.
#[derive(Debug, Default)]
pub struct ClaimInputs {
    /// The user's groups, `Everyone` included, when a claim reads them.
    groups: Arc<[Membership]>,
    /// The app user's profile (`appuser.*`), when a claim reads it.
    app_user: Option<Map<String, Value>>,
}

impl ClaimInputs {
    /// The ids of the user's groups, as loaded (none when nothing needed them).
    pub(crate) fn group_ids(&self) -> Vec<&str> {
        self.groups.iter().map(|group| group.id.as_str()).collect()
    }
}

/// The claims of a server that go into a token of this type with these scopes.
fn claims_for<'s>(
    server: &'s AuthServer,
    claim_type: ClaimType,
    scopes: &'s ScopeSet,
) -> impl Iterator<Item = &'s CustomClaim> {
    server.claims.iter().filter(move |claim| {
        claim.claim_type == claim_type
            && claim.status == Status::Active
            && !RESERVED_CLAIMS.contains(&claim.name.as_str())
            && (claim.scopes.is_empty() || claim.scopes.iter().any(|scope| scopes.contains(scope)))
    })
}

/// The app's groups claim, when the org server issues an ID token with the `groups` scope.
fn org_groups_claim<'c>(
    server: &AuthServer,
    client: &'c Client,
    scopes: &ScopeSet,
) -> Option<&'c AppGroupsClaim> {
    client.groups_claim.as_ref().filter(|claim| {
        server.id.is_org()
            && scopes.contains(ORG_GROUPS_SCOPE)
            && !RESERVED_CLAIMS.contains(&claim.name.as_str())
    })
}

impl OAuth {
    /// Loads what the claims of tokens for this user, app and scopes read, and the groups the
    /// server's policy rules ask about: nothing for a client without a user, or when nothing
    /// reads groups or the app user.
    pub(crate) async fn claim_inputs(
        &self,
        server: &AuthServer,
        client: &Client,
        user: Option<&User>,
        scopes: &ScopeSet,
    ) -> Result<ClaimInputs> {
        let Some(user) = user else {
            return Ok(ClaimInputs::default());
        };
        let mut needs_groups = false;
        let mut needs_app_user = false;
        let claims = claims_for(server, ClaimType::Resource, scopes).chain(claims_for(
            server,
            ClaimType::Identity,
            scopes,
        ));
        let expressions = claims
            .map(|claim| (claim.value_type, claim.value.as_str()))
            .chain(
                org_groups_claim(server, client, scopes)
                    .map(|claim| (claim.value_type, claim.value.as_str())),
            );
        for (value_type, value) in expressions {
            match value_type {
                ClaimValueType::Groups => needs_groups = true,
                ClaimValueType::Expression => {
                    if let Some(expression) = self.expressions.get(value) {
                        needs_groups |= expression.needs_groups();
                        needs_app_user |= expression.needs_app_user();
                    }
                }
            }
        }
        let mut inputs = ClaimInputs::default();
        needs_groups |= super::governance::policies_read_groups(server);
        if needs_groups || needs_app_user {
            inputs.groups = self.memberships_of(user).await?;
        }
        if needs_app_user {
            inputs.app_user = self.app_user_profile(client, user, &inputs.groups).await?;
        }
        Ok(inputs)
    }

    /// The user's groups: as held, if read at the revision the user row shows, or else read
    /// and held.
    async fn memberships_of(&self, user: &User) -> Result<Arc<[Membership]>> {
        if let Some(groups) = self.memberships.get(user) {
            return Ok(groups);
        }
        let read = self.store.user_memberships(user.id.as_str()).await?;
        Ok(self.memberships.put(user.id.as_str(), read))
    }

    /// The user's profile for this app: their direct assignment's, or else that of the
    /// first-priority assigned group they are in.
    async fn app_user_profile(
        &self,
        client: &Client,
        user: &User,
        groups: &[Membership],
    ) -> Result<Option<Map<String, Value>>> {
        let app_id = client.id.as_str();
        if let Some(assignment) = self.store.get_app_user(app_id, user.id.as_str()).await? {
            return Ok(Some(assignment.profile));
        }
        Ok(self
            .store
            .list_app_groups(app_id)
            .await?
            .into_iter()
            .find(|assigned| groups.iter().any(|group| group.id == assigned.group_id))
            .map(|assigned| assigned.profile))
    }

    /// Adds the custom claims of a token of this type; `server_error` if a groups claim
    /// matches more than Okta's 100 groups.
    pub(crate) fn add_custom_claims(
        &self,
        claims: &mut Map<String, Value>,
        claim_type: ClaimType,
        subject: &Subject<'_>,
    ) -> Result<()> {
        let server_claims = claims_for(subject.server, claim_type, subject.scopes).map(|claim| {
            (
                &claim.name,
                claim.value_type,
                claim.group_filter_type,
                &claim.value,
            )
        });
        let org_claim = org_groups_claim(subject.server, subject.client, subject.scopes)
            .filter(|_| claim_type == ClaimType::Identity)
            .map(|claim| {
                (
                    &claim.name,
                    claim.value_type,
                    claim.group_filter_type,
                    &claim.value,
                )
            });
        for (name, value_type, filter_type, value) in server_claims.chain(org_claim) {
            let value = match value_type {
                ClaimValueType::Groups => {
                    let filter = filter_type.and_then(|kind| self.expressions.filter(kind, value));
                    groups_claim(filter.as_deref(), subject)?
                }
                ClaimValueType::Expression => self.expression_claim(name, value, subject),
            };
            if let Some(value) = value {
                claims.insert(name.clone(), value);
            }
        }
        Ok(())
    }

    /// An expression's value; none when it is null or an empty array (Okta leaves such a
    /// claim out) or cannot be evaluated for this user.
    fn expression_claim(&self, name: &str, text: &str, subject: &Subject<'_>) -> Option<Value> {
        let expression = self.expressions.get(text)?;
        let scopes: Vec<String> = subject.scopes.iter().map(str::to_owned).collect();
        let context = Context {
            user: subject.user,
            app: subject.client,
            app_user: subject.inputs.app_user.as_ref(),
            groups: &subject.inputs.groups,
            scopes: &scopes,
        };
        match expression.evaluate(&context) {
            Ok(Value::Null) => None,
            Ok(Value::Array(items)) if items.is_empty() => None,
            Ok(value) => Some(value),
            // The error may quote the user's attributes: only the claim is named.
            Err(_) => {
                tracing::debug!(
                    claim = name,
                    "a claim's expression has no value for this user"
                );
                None
            }
        }
    }
}

/// The names of the user's groups a filter picks, in name order; none for a client without a
/// user or when none match. More than Okta's 100 fail the request, as Okta's do.
fn groups_claim(filter: Option<&GroupFilter>, subject: &Subject<'_>) -> Result<Option<Value>> {
    if subject.user.is_none() {
        return Ok(None);
    }
    let Some(filter) = filter else {
        return Ok(None);
    };
    let mut names: Vec<&str> = subject
        .inputs
        .groups
        .iter()
        .filter(|group| filter.matches(&group.name))
        .map(|group| group.name.as_str())
        .collect();
    if names.len() > MAX_GROUPS_IN_CLAIM {
        return Err(Error::TooManyGroups);
    }
    if names.is_empty() {
        return Ok(None);
    }
    names.sort_unstable();
    Ok(Some(Value::from(names)))
}
