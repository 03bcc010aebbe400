//! Access policies in force: which rule of a custom authorization server lets a request
//! through, wherever a token is issued (the token endpoint for every grant, and the
//! authorization endpoint before a code or implicit token is issued).

use std::borrow::Cow;

use crate::model::{
    governing_rule, AuthServer, Client, GrantType, PolicyUser, ScopeSet, TokenLifetimes,
};

use crate::engine::{Error, Result};

/// The server as a policy rule governs one request.
#[derive(Debug)]
pub(crate) struct Governed<'a> {
    /// The server with the rule's token lifetimes in place of its own; borrowed when the rule
    /// sets none, as the default policy's rule does, to spare the token endpoint a copy.
    pub server: Cow<'a, AuthServer>,
}

/// Okta's words when no rule lets a request through.
const POLICY_FAILED: &str =
    "Policy evaluation failed for this request, please check the policy configurations.";

/// The rule of `server`'s policies that lets `client` use `grant` for `scopes` (for `user`, once
/// known), applied to the server; `access_denied` if none does. The org server has no policies
/// and allows whatever the app's grant types allow.
pub(crate) fn govern<'a>(
    server: &'a AuthServer,
    client: &Client,
    grant: GrantType,
    scopes: &ScopeSet,
    user: Option<PolicyUser<'_>>,
) -> Result<Governed<'a>> {
    if server.id.is_org() {
        return Ok(Governed {
            server: Cow::Borrowed(server),
        });
    }
    let requested: Vec<&str> = scopes.iter().collect();
    let rule = governing_rule(
        &server.policies,
        client.id.as_str(),
        grant,
        &requested,
        user,
    )
    .ok_or_else(|| Error::AccessDenied(POLICY_FAILED.to_owned()))?;
    let minutes = |value: Option<u64>| value.filter(|m| *m > 0).map(|m| m.saturating_mul(60));
    let own = server.token_lifetimes;
    let token_lifetimes = TokenLifetimes {
        access_token: minutes(rule.access_token_lifetime_minutes).or(own.access_token),
        id_token: own.id_token,
        refresh_token_idle: minutes(rule.refresh_token_window_minutes).or(own.refresh_token_idle),
        refresh_token_max: minutes(rule.refresh_token_lifetime_minutes).or(own.refresh_token_max),
    };
    if token_lifetimes == own {
        return Ok(Governed {
            server: Cow::Borrowed(server),
        });
    }
    Ok(Governed {
        server: Cow::Owned(AuthServer {
            token_lifetimes,
            ..server.clone()
        }),
    })
}

/// Whether a rule of the server's policies names users' groups, so that evaluating them needs
/// the user's groups.
pub(crate) fn policies_read_groups(server: &AuthServer) -> bool {
    server
        .policies
        .iter()
        .flat_map(|policy| &policy.rules)
        .any(|rule| rule.people.reads_groups())
}
