//! RFC 6749 §6, rotated (RFC 9700 §4.14.2): every use returns a new refresh token and retires
//! the old one; presenting a retired one revokes the whole family.

use crate::model::{AuthServer, Client, GrantContext, GrantType, PlainToken, Redeemed, ScopeSet};

use super::super::token::TokenSet;
use super::super::{Engine, Error, Result};
use super::Issue;

impl Engine {
    pub(crate) async fn refresh_token_grant(
        &self,
        server: &AuthServer,
        client: &Client,
        refresh_token: &str,
        scope: Option<ScopeSet>,
    ) -> Result<TokenSet> {
        let invalid = || Error::InvalidGrant("The refresh token is invalid or expired.".to_owned());
        let now = self.now();
        let hash = PlainToken::from_presented(refresh_token).hash();
        // The policies are asked before the token is used up, so that a refusal leaves it
        // usable once they allow it again; the issue below asks them again.
        if let Some(current) = self.store.find_refresh_token(&hash, now).await? {
            if current.grant.client_id == client.id && current.grant.auth_server_id == server.id {
                let scopes = match scope.as_ref().filter(|scope| !scope.is_empty()) {
                    Some(narrower) => narrower,
                    None => &current.grant.scopes,
                };
                self.govern(server, client, GrantType::RefreshToken, scopes)?;
            }
        }
        let record = match self.store.rotate_refresh_token(&hash, now).await? {
            Redeemed::Fresh(record) => record,
            Redeemed::Replayed { grant_id } => {
                tracing::warn!(client.id = %client.id, "rotated refresh token reused; revoking its family");
                self.revoke_grant(server, &grant_id).await?;
                return Err(invalid());
            }
            Redeemed::Invalid => return Err(invalid()),
        };
        if record.grant.client_id != client.id || record.grant.auth_server_id != server.id {
            return Err(invalid());
        }
        // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
        let scopes = match scope.filter(|scope| !scope.is_empty()) {
            Some(narrower) if narrower.is_subset(&record.grant.scopes) => narrower,
            Some(_) => {
                return Err(Error::InvalidScope(
                    "The requested scope exceeds the scope granted by the resource owner."
                        .to_owned(),
                ))
            }
            None => record.grant.scopes.clone(),
        };
        let user = self.store.get_user(&record.grant.user_id).await?;
        if !user.may_sign_in(now) {
            return Err(invalid());
        }
        let grant = GrantContext {
            scopes,
            ..record.grant.clone()
        };
        self.issue(Issue {
            server,
            grant_type: GrantType::RefreshToken,
            client,
            user: &user,
            grant: &grant,
            nonce: None,
            // RFC 6749 §6: the new refresh token keeps the family's whole scope.
            family: Some((&record.grant, record.family_expires_at)),
        })
        .await
    }
}
