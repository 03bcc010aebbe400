//! RFC 6749 §4.4: a confidential client gets an access token for itself. No user, no ID token,
//! no refresh token.

use crate::model::{AuthServer, Client, GrantType, ScopeSet, TokenEndpointAuthMethod};

use super::super::mint::{new_grant_id, Subject};
use super::super::scope;
use super::super::token::TokenSet;
use super::super::OAuth;
use crate::engine::{Error, Result};

impl OAuth {
    pub(crate) async fn client_credentials_grant(
        &self,
        server: &AuthServer,
        client: &Client,
        requested: &ScopeSet,
    ) -> Result<TokenSet> {
        if client.token_endpoint_auth_method == TokenEndpointAuthMethod::None {
            return Err(Error::UnauthorizedClient(
                "Public clients cannot use the client credentials grant.".to_owned(),
            ));
        }
        let scopes = scope::check(server, requested, GrantType::ClientCredentials)?;
        let governed = crate::engine::oauth::governance::govern(
            server,
            client,
            GrantType::ClientCredentials,
            &scopes,
            None,
        )?;
        let server = &governed.server;
        let grant_id = new_grant_id();
        let access = self
            .mint_access_token(&Subject {
                server,
                client,
                user: None,
                scopes: &scopes,
                auth_time: None,
                grant_id: &grant_id,
                inputs: &Default::default(),
            })
            .await?;
        Ok(TokenSet {
            access_token: access.token,
            expires_in: access.expires_in,
            scope: scopes,
            id_token: None,
            refresh_token: None,
        })
    }
}
