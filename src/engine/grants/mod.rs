//! One module per grant, each citing its RFC section. They share [`Engine::issue`]: the
//! access token, and the ID and refresh tokens where the grant and scopes call for them.

mod authorization_code;
mod client_credentials;
mod password;
mod refresh_token;

use crate::model::{
    AuthServer, Client, GrantContext, GrantType, PlainToken, RefreshTokenRecord, Timestamp, User,
};

use super::mint::Subject;
use super::token::TokenSet;
use super::{Engine, Result};

/// What [`Engine::issue`] needs beyond the grant.
pub(crate) struct Issue<'a> {
    pub server: &'a AuthServer,
    /// The grant the client used, which the server's policies must allow.
    pub grant_type: GrantType,
    pub client: &'a Client,
    pub user: &'a User,
    pub grant: &'a GrantContext,
    pub nonce: Option<&'a str>,
    /// When refreshing: the family's grant (its full scope) and absolute end. A new family
    /// starts otherwise.
    pub family: Option<(&'a GrantContext, Timestamp)>,
}

impl Engine {
    /// Access token; ID token when `openid` is granted; refresh token when `offline_access`
    /// is granted and the client may use the refresh grant (never for implicit flows).
    pub(crate) async fn issue(&self, issue: Issue<'_>) -> Result<TokenSet> {
        let governed = self.govern(
            issue.server,
            issue.client,
            issue.grant_type,
            &issue.grant.scopes,
        )?;
        let server = &governed.server;
        let subject = Subject {
            server,
            client: issue.client,
            user: Some(issue.user),
            scopes: &issue.grant.scopes,
            auth_time: Some(issue.grant.auth_time),
            grant_id: &issue.grant.grant_id,
        };
        let access = self.mint_access_token(&subject).await?;
        let id_token = if issue.grant.scopes.contains("openid") {
            Some(
                self.mint_id_token(
                    &subject,
                    &issue.grant.amr,
                    issue.nonce,
                    Some(&access.token),
                    None,
                )
                .await?,
            )
        } else {
            None
        };
        let now = self.now();
        let lifetimes = self.lifetimes(server);
        let (family_grant, family_expires_at) = issue
            .family
            .unwrap_or((issue.grant, now.plus(lifetimes.refresh_token_max_lifetime)));
        let refresh_token = if family_grant.scopes.contains("offline_access")
            && issue.client.grant_types.contains(&GrantType::RefreshToken)
        {
            let token = PlainToken::generate();
            self.store
                .insert_refresh_token(
                    &token.hash(),
                    &RefreshTokenRecord {
                        grant: family_grant.clone(),
                        created_at: now,
                        expires_at: now
                            .plus(lifetimes.refresh_token_idle_lifetime)
                            .min(family_expires_at),
                        family_expires_at,
                    },
                )
                .await?;
            Some(token.expose().to_owned())
        } else {
            None
        };
        Ok(TokenSet {
            access_token: access.token,
            expires_in: access.expires_in,
            scope: issue.grant.scopes.clone(),
            id_token,
            refresh_token,
        })
    }

    /// Revokes everything a grant issued, until the longest-lived token could expire.
    pub(crate) async fn revoke_grant(&self, server: &AuthServer, grant_id: &str) -> Result<()> {
        let lifetimes = self.lifetimes(server);
        let until = self.now().plus(
            lifetimes
                .refresh_token_max_lifetime
                .max(lifetimes.access_token_lifetime),
        );
        Ok(self.store.revoke_grant(grant_id, until).await?)
    }
}
