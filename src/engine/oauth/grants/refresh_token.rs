//! RFC 6749 §6 with Okta's rotation settings per app. `ROTATE` (RFC 9700 §4.14.2): every use
//! returns a new refresh token and retires the old one; presenting a retired one revokes the
//! whole family, except within the app's leeway, when it returns the same successor again (a
//! client retrying after a lost response). `STATIC`: the same token on every use, its idle
//! window starting anew.
//!
//! The token is checked before it is spent: presented by another client, at another server,
//! for a wider scope, for a user who may no longer sign in, or refused by the policies, it is
//! refused and stays usable. Retiring it and storing its successor is one transaction, so a
//! failure in between leaves the old token working for the client's retry.

use base64::Engine as _;

use crate::model::{
    AuthServer, Client, GrantContext, GrantType, PlainToken, Presented, RefreshTokenRecord,
    RotationType, ScopeSet, TokenHash,
};

use super::super::token::TokenSet;
use super::super::OAuth;
use super::{Issue, Issued};
use crate::engine::{Error, Result};

fn invalid() -> Error {
    Error::InvalidGrant("The refresh token is invalid or expired.".to_owned())
}

impl OAuth {
    pub(crate) async fn refresh_token_grant(
        &self,
        server: &AuthServer,
        client: &Client,
        refresh_token: &str,
        scope: Option<ScopeSet>,
    ) -> Result<TokenSet> {
        let now = self.now();
        let hash = PlainToken::from_presented(refresh_token).hash();
        let record = match self.store.find_refresh_token(&hash, now).await? {
            Presented::Usable(record) => record,
            Presented::Used { grant_id } => {
                return self
                    .answer_spent(server, client, &hash, &grant_id, scope)
                    .await
            }
            Presented::Invalid => return Err(invalid()),
        };
        let issued = self
            .issue_from_refresh_token(server, client, &record, scope.clone())
            .await?;
        match client.refresh_token.rotation_type {
            RotationType::Static => {
                let expires_at = issued
                    .refresh_token()
                    .map_or(record.expires_at, |(_, successor)| successor.expires_at);
                if !self
                    .store
                    .extend_refresh_token(&hash, now, expires_at)
                    .await?
                {
                    return Err(invalid());
                }
                Ok(issued.keeping_refresh_token(refresh_token.to_owned()))
            }
            RotationType::Rotate => {
                let sealed = self.seal_successor(client, &hash, &issued)?;
                if !self
                    .store
                    .rotate_refresh_token(&hash, now, issued.refresh_token(), sealed.as_deref())
                    .await?
                {
                    // Spent since it was read: a concurrent rotation won (within the leeway this
                    // request gets the winner's successor too), or the family was revoked.
                    return match self.store.find_refresh_token(&hash, now).await? {
                        Presented::Used { grant_id } => {
                            self.answer_spent(server, client, &hash, &grant_id, scope)
                                .await
                        }
                        Presented::Usable(_) | Presented::Invalid => Err(invalid()),
                    };
                }
                Ok(issued.tokens)
            }
        }
    }

    /// Checks a usable refresh token against the request and mints what it buys, spending
    /// nothing.
    async fn issue_from_refresh_token(
        &self,
        server: &AuthServer,
        client: &Client,
        record: &RefreshTokenRecord,
        scope: Option<ScopeSet>,
    ) -> Result<Issued> {
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
        if !user.may_sign_in(self.now()) || super::outlived(&record.grant, &user) {
            return Err(invalid());
        }
        let grant = GrantContext {
            scopes,
            ..record.grant.clone()
        };
        // The policies are asked here, before the token is spent, so that a refusal leaves it
        // usable once they allow it again.
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

    /// With a leeway, the new refresh token is kept sealed beside the one it replaces, so that
    /// a retry within the leeway gets the same one back.
    fn seal_successor(
        &self,
        client: &Client,
        presented: &TokenHash,
        issued: &Issued,
    ) -> Result<Option<String>> {
        let Some(successor) = issued
            .tokens
            .refresh_token
            .as_deref()
            .filter(|_| client.refresh_token.leeway_seconds > 0)
        else {
            return Ok(None);
        };
        let sealed = self
            .successor_sealer
            .seal(presented.as_str(), successor.as_bytes())?;
        Ok(Some(
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(sealed),
        ))
    }

    /// A rotated token presented again within its app's leeway, while its successor is still
    /// unused: the same successor again, with new access and ID tokens.
    /// A rotated token presented again: within the leeway, the successor it was rotated to;
    /// otherwise a reuse, which revokes its family.
    async fn answer_spent(
        &self,
        server: &AuthServer,
        client: &Client,
        presented: &TokenHash,
        grant_id: &str,
        scope: Option<ScopeSet>,
    ) -> Result<TokenSet> {
        if let Some(tokens) = self
            .successor_within_leeway(server, client, presented, scope)
            .await?
        {
            return Ok(tokens);
        }
        self.replayed(server, client, grant_id, "rotated refresh token")
            .await?;
        Err(invalid())
    }

    async fn successor_within_leeway(
        &self,
        server: &AuthServer,
        client: &Client,
        presented: &TokenHash,
        scope: Option<ScopeSet>,
    ) -> Result<Option<TokenSet>> {
        let leeway = client.refresh_token.leeway_seconds;
        if client.refresh_token.rotation_type != RotationType::Rotate || leeway == 0 {
            return Ok(None);
        }
        let now = self.now();
        let Some(rotated) = self.store.rotated_successor(presented).await? else {
            return Ok(None);
        };
        if now.unix() - rotated.rotated_at.unix() > i64::from(leeway) {
            return Ok(None);
        }
        let Presented::Usable(successor) = self
            .store
            .find_refresh_token(&rotated.successor, now)
            .await?
        else {
            return Ok(None);
        };
        let Some(plain) = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&rotated.sealed)
            .ok()
            .and_then(|sealed| self.successor_sealer.open(presented.as_str(), &sealed).ok())
            .and_then(|plain| String::from_utf8(plain).ok())
            .filter(|plain| TokenHash::of(plain) == rotated.successor)
        else {
            return Ok(None);
        };
        let issued = self
            .issue_from_refresh_token(server, client, &successor, scope)
            .await?;
        tracing::info!(client.id = %client.id, "rotated refresh token used within the leeway; same successor returned");
        Ok(Some(issued.keeping_refresh_token(plain)))
    }
}
