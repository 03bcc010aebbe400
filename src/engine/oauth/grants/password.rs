//! RFC 6749 §4.3: a trusted first-party client sends the user's password. The same checks as
//! every sign-in apply: the per-IP and per-username limits, lockout, inactive users, expired
//! passwords.

use secrecy::SecretString;

use crate::model::{AuthServer, Client, GrantContext, GrantType, ScopeSet};

use super::super::mint::new_grant_id;
use super::super::scope;
use super::super::token::TokenSet;
use super::super::OAuth;
use super::Issue;
use crate::engine::sign_in::authn::Credentials;
use crate::engine::{Error, Result};

impl OAuth {
    pub(crate) async fn password_grant(
        &self,
        server: &AuthServer,
        client: &Client,
        client_ip: Option<std::net::IpAddr>,
        username: &str,
        password: SecretString,
        requested: &ScopeSet,
    ) -> Result<TokenSet> {
        let scopes = scope::check(server, requested, GrantType::Password)?;
        // The same limits as every sign-in: per IP and per username.
        let permit = self
            .sign_in
            .check_sign_in_rate(client_ip, Some(username))
            .await?;
        let now = self.now();
        let failed = || Error::InvalidGrant("The credentials provided were invalid.".to_owned());
        let user = match self
            .sign_in
            .verify_credentials(permit, username, password, now)
            .await
        {
            Ok(Credentials::Valid(user)) => *user,
            Ok(Credentials::LockedOut) | Err(Error::AuthenticationFailed) => return Err(failed()),
            Err(err) => return Err(err),
        };
        if self.sign_in.password_has_expired(&user, now) {
            return Err(Error::InvalidGrant(
                "The user's password has expired and must be changed.".to_owned(),
            ));
        }
        let grant = GrantContext {
            grant_id: new_grant_id(),
            auth_server_id: server.id.clone(),
            client_id: client.id.clone(),
            user_id: user.id.clone(),
            scopes,
            auth_time: now,
            amr: vec!["pwd".to_owned()],
            session_id: None,
        };
        let issued = self
            .issue(Issue {
                server,
                grant_type: GrantType::Password,
                client,
                user: &user,
                grant: &grant,
                nonce: None,
                family: None,
            })
            .await?;
        if let Some((hash, record)) = issued.refresh_token() {
            self.store.insert_refresh_token(hash, record).await?;
        }
        Ok(issued.tokens)
    }
}
