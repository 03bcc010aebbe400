//! RFC 6749 §4.1.3 with RFC 7636: a code is redeemed once, by the client it was issued to, with
//! the same redirect URI and the PKCE verifier of its challenge. A replayed code revokes what
//! its first redemption issued (RFC 6749 §4.1.2, DESIGN §6).

use crate::model::{AuthServer, Client, GrantType, PlainToken, Redeemed};

use super::super::pkce;
use super::super::token::TokenSet;
use super::super::{Engine, Error, Result};
use super::Issue;

impl Engine {
    pub(crate) async fn authorization_code_grant(
        &self,
        server: &AuthServer,
        client: &Client,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<TokenSet> {
        let invalid =
            || Error::InvalidGrant("The authorization code is invalid or has expired.".to_owned());
        let now = self.now();
        let code = match self
            .store
            .redeem_authorization_code(&PlainToken::from_presented(code).hash(), now)
            .await?
        {
            Redeemed::Fresh(code) => code,
            Redeemed::Replayed { grant_id } => {
                tracing::warn!(client.id = %client.id, "authorization code replayed; revoking the tokens it issued");
                self.revoke_grant(server, &grant_id).await?;
                return Err(invalid());
            }
            Redeemed::Invalid => return Err(invalid()),
        };
        if code.grant.client_id != client.id || code.grant.auth_server_id != server.id {
            return Err(invalid());
        }
        if redirect_uri != Some(code.redirect_uri.as_str()) {
            return Err(Error::InvalidGrant(
                "The 'redirect_uri' does not match the redirection URI used in the authorization \
                 request."
                    .to_owned(),
            ));
        }
        match (&code.code_challenge, code_verifier) {
            (Some((challenge, method)), Some(verifier)) => {
                if !pkce::verify(verifier, challenge, *method) {
                    return Err(Error::InvalidGrant("PKCE verification failed.".to_owned()));
                }
            }
            (Some(_), None) => {
                return Err(Error::InvalidGrant(
                    "PKCE verification failed: the code_verifier is missing.".to_owned(),
                ))
            }
            (None, Some(_)) => {
                return Err(Error::InvalidGrant(
                    "The code was issued without a code_challenge; no code_verifier is expected."
                        .to_owned(),
                ))
            }
            (None, None) => {}
        }
        let user = self.store.get_user(&code.grant.user_id).await?;
        if !user.may_sign_in(now) {
            return Err(invalid());
        }
        self.issue(Issue {
            server,
            grant_type: GrantType::AuthorizationCode,
            client,
            user: &user,
            grant: &code.grant,
            nonce: code.nonce.as_deref(),
            family: None,
        })
        .await
    }
}
