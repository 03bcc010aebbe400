//! RFC 6749 §4.1.3 with RFC 7636: a code is redeemed once, by the client it was issued to, with
//! the same redirect URI and the PKCE verifier of its challenge. A replayed code revokes what
//! its first redemption issued (RFC 6749 §4.1.2, DESIGN §6).
//!
//! The code is checked before it is spent: presented by another client or at another server it
//! is refused and stays usable, so whoever holds a leaked code cannot burn it. Presented by its
//! own client with a wrong redirect URI or verifier it is spent all the same (single use,
//! RFC 9700 §2.1.1). A redemption spends the code and stores the refresh token it issues in one
//! transaction.

use crate::model::{AuthServer, Client, GrantType, PlainToken, Presented};

use super::super::pkce;
use super::super::token::TokenSet;
use super::super::OAuth;
use super::Issue;
use crate::engine::{Error, Result};

impl OAuth {
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
        let hash = PlainToken::from_presented(code).hash();
        let (code, user) = match self.store.find_authorization_code(&hash, now).await? {
            Presented::Usable(found) => found,
            Presented::Used { grant_id } => {
                self.replayed(server, client, &grant_id, "authorization code")
                    .await?;
                return Err(invalid());
            }
            Presented::Invalid => return Err(invalid()),
        };
        if code.grant.client_id != client.id || code.grant.auth_server_id != server.id {
            return Err(invalid());
        }
        if let Err(err) = check_binding(&code, redirect_uri, code_verifier) {
            self.store
                .consume_authorization_code(&hash, now, None)
                .await?;
            return Err(err);
        }
        if !user.may_sign_in(now) || super::outlived(&code.grant, &user) {
            return Err(invalid());
        }
        let issued = self
            .issue(Issue {
                server,
                grant_type: GrantType::AuthorizationCode,
                client,
                user: &user,
                grant: &code.grant,
                nonce: code.nonce.as_deref(),
                family: None,
            })
            .await?;
        if !self
            .store
            .consume_authorization_code(&hash, now, issued.refresh_token())
            .await?
        {
            // A concurrent redemption won: this one is the replay.
            self.replayed(server, client, &code.grant.grant_id, "authorization code")
                .await?;
            return Err(invalid());
        }
        Ok(issued.tokens)
    }
}

/// The redirect URI and PKCE verifier the code is bound to.
fn check_binding(
    code: &crate::model::AuthorizationCode,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<()> {
    if redirect_uri != Some(code.redirect_uri.as_str()) {
        return Err(Error::InvalidGrant(
            "The 'redirect_uri' does not match the redirection URI used in the authorization \
             request."
                .to_owned(),
        ));
    }
    match (&code.code_challenge, code_verifier) {
        (Some((challenge, method)), Some(verifier)) => {
            if pkce::verify(verifier, challenge, *method) {
                Ok(())
            } else {
                Err(Error::InvalidGrant("PKCE verification failed.".to_owned()))
            }
        }
        (Some(_), None) => Err(Error::InvalidGrant(
            "PKCE verification failed: the code_verifier is missing.".to_owned(),
        )),
        (None, Some(_)) => Err(Error::InvalidGrant(
            "The code was issued without a code_challenge; no code_verifier is expected."
                .to_owned(),
        )),
        (None, None) => Ok(()),
    }
}
