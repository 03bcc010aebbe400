//! RFC 6749 §6, rotated (RFC 9700 §4.14.2): every use returns a new refresh token and retires
//! the old one; presenting a retired one revokes the whole family.
//!
//! The token is checked before it is spent: presented by another client, at another server,
//! for a wider scope, for a user who may no longer sign in, or refused by the policies, it is
//! refused and stays usable. Retiring it and storing its successor is one transaction, so a
//! failure in between leaves the old token working for the client's retry.

use crate::model::{AuthServer, Client, GrantContext, GrantType, PlainToken, Presented, ScopeSet};

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
        let record = match self.store.find_refresh_token(&hash, now).await? {
            Presented::Usable(record) => record,
            Presented::Used { grant_id } => {
                self.replayed(server, client, &grant_id, "rotated refresh token")
                    .await?;
                return Err(invalid());
            }
            Presented::Invalid => return Err(invalid()),
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
        if !user.may_sign_in(now) || super::outlived(&record.grant, &user) {
            return Err(invalid());
        }
        let grant = GrantContext {
            scopes,
            ..record.grant.clone()
        };
        // The policies are asked here, before the token is spent, so that a refusal leaves it
        // usable once they allow it again.
        let issued = self
            .issue(Issue {
                server,
                grant_type: GrantType::RefreshToken,
                client,
                user: &user,
                grant: &grant,
                nonce: None,
                // RFC 6749 §6: the new refresh token keeps the family's whole scope.
                family: Some((&record.grant, record.family_expires_at)),
            })
            .await?;
        if !self
            .store
            .rotate_refresh_token(&hash, now, issued.refresh_token())
            .await?
        {
            // Spent since it was read: a concurrent rotation won, or the family was revoked.
            if let Presented::Used { grant_id } = self.store.find_refresh_token(&hash, now).await? {
                self.replayed(server, client, &grant_id, "rotated refresh token")
                    .await?;
            }
            return Err(invalid());
        }
        Ok(issued.tokens)
    }
}
