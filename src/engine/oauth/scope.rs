//! Which scopes a request may have: RFC 6749 §3.3, with Okta's rules per grant.

use crate::model::{AuthServer, GrantType, ScopeSet, OIDC_SCOPES, ORG_GROUPS_SCOPE};

use crate::engine::{Error, Result};

/// The requested scopes if the server knows every one and the grant may ask for them.
pub fn check(server: &AuthServer, requested: &ScopeSet, grant: GrantType) -> Result<ScopeSet> {
    let unknown: Vec<&str> = requested
        .iter()
        .filter(|scope| {
            let built_in =
                OIDC_SCOPES.contains(scope) || (server.id.is_org() && *scope == ORG_GROUPS_SCOPE);
            !built_in && server.scope(scope).is_none()
        })
        .collect();
    if !unknown.is_empty() {
        return Err(Error::InvalidScope(format!(
            "One or more scopes are not configured for the authorization server resource: {}",
            unknown.join(" ")
        )));
    }
    if grant == GrantType::ClientCredentials {
        // No user: nothing for OpenID scopes to describe, no refresh token (Okta).
        if requested.iter().any(|scope| {
            OIDC_SCOPES.contains(&scope) || (server.id.is_org() && scope == ORG_GROUPS_SCOPE)
        }) {
            return Err(Error::InvalidScope(
                "Client Credentials requests cannot contain OpenID scopes.".to_owned(),
            ));
        }
        if requested.is_empty() {
            let defaults: Vec<&str> = server
                .scopes
                .iter()
                .filter(|scope| scope.default)
                .map(|scope| scope.name.as_str())
                .collect();
            if !defaults.is_empty() {
                return Ok(ScopeSet::from_scopes(defaults));
            }
            return Err(Error::InvalidScope(
                "The authorization server resource does not have any configured default scopes, \
                 'scope' must be provided."
                    .to_owned(),
            ));
        }
    }
    if grant == GrantType::Implicit && requested.contains("offline_access") {
        return Err(Error::InvalidScope(
            "The 'offline_access' scope is not allowed for implicit flows: they never get a \
             refresh token."
                .to_owned(),
        ));
    }
    Ok(requested.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthServerId, IssuerMode, SigningAlg, Status, Timestamp};

    fn server() -> AuthServer {
        AuthServer {
            id: AuthServerId::default_server(),
            name: "default".into(),
            description: String::new(),
            audiences: vec!["api://default".into()],
            issuer_mode: IssuerMode::OrgUrl,
            status: Status::Active,
            signing_alg: SigningAlg::RS256,
            scopes: vec![crate::model::Scope::named("api.read")],
            claims: vec![],
            token_lifetimes: Default::default(),
            policies: vec![],
            revision: 0,
            created_at: Timestamp::from_unix(0),
            updated_at: Timestamp::from_unix(0),
        }
    }

    #[test]
    fn unknown_scopes_are_refused_and_known_ones_pass() {
        let s = server();
        let ok = ScopeSet::parse("openid api.read").unwrap();
        assert_eq!(check(&s, &ok, GrantType::AuthorizationCode).unwrap(), ok);
        let unknown = ScopeSet::parse("openid api.delete").unwrap();
        assert!(matches!(
            check(&s, &unknown, GrantType::AuthorizationCode),
            Err(Error::InvalidScope(_))
        ));
    }

    #[test]
    fn client_credentials_need_custom_scopes_only() {
        let s = server();
        let cc = GrantType::ClientCredentials;
        assert!(check(&s, &ScopeSet::parse("api.read").unwrap(), cc).is_ok());
        assert!(check(&s, &ScopeSet::parse("openid api.read").unwrap(), cc).is_err());
        assert!(check(&s, &ScopeSet::default(), cc).is_err());
    }
}
