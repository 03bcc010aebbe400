//! The token endpoint (RFC 6749 §3.2): authenticate the client, check it may use the grant,
//! then hand over to the grant (one module per grant under `engine/grants/`).

use secrecy::SecretString;

use crate::engine::system_log::Event;
use crate::model::{AuthServerId, ClientId, GrantType, LogActor, ScopeSet};

use super::client_auth::ClientCredentials;
use super::OAuth;
use crate::engine::{Error, Result};

/// A token request, parsed.
#[derive(Debug)]
pub enum TokenGrant {
    /// RFC 6749 §4.1.3.
    AuthorizationCode {
        /// The code.
        code: String,
        /// Must equal the authorization request's.
        redirect_uri: Option<String>,
        /// RFC 7636 verifier.
        code_verifier: Option<String>,
    },
    /// RFC 6749 §6.
    RefreshToken {
        /// The refresh token.
        refresh_token: String,
        /// A narrower scope, if asked.
        scope: Option<ScopeSet>,
    },
    /// RFC 6749 §4.3.
    Password {
        /// The client's IP address, for the sign-in limits.
        client_ip: Option<std::net::IpAddr>,
        /// The user's login.
        username: String,
        /// The password.
        password: SecretString,
        /// Requested scopes.
        scope: ScopeSet,
    },
    /// RFC 6749 §4.4.
    ClientCredentials {
        /// Requested scopes.
        scope: ScopeSet,
    },
}

impl TokenGrant {
    fn grant_type(&self) -> GrantType {
        match self {
            TokenGrant::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            TokenGrant::RefreshToken { .. } => GrantType::RefreshToken,
            TokenGrant::Password { .. } => GrantType::Password,
            TokenGrant::ClientCredentials { .. } => GrantType::ClientCredentials,
        }
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug)]
pub struct TokenSet {
    /// The access token.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Granted scopes.
    pub scope: ScopeSet,
    /// An ID token, when `openid` was granted to a user.
    pub id_token: Option<String>,
    /// A refresh token, when `offline_access` was granted and the client may refresh.
    pub refresh_token: Option<String>,
}

/// The grant types the token endpoint serves.
pub const TOKEN_GRANT_TYPES: [GrantType; 4] = [
    GrantType::AuthorizationCode,
    GrantType::RefreshToken,
    GrantType::Password,
    GrantType::ClientCredentials,
];

impl OAuth {
    /// Runs a token request against an authorization server. `endpoint` is the token
    /// endpoint's URL, the audience of client assertions.
    #[tracing::instrument(skip_all, fields(as.id = %server_id, grant.type = %grant.grant_type()))]
    pub async fn token(
        &self,
        server_id: &AuthServerId,
        credentials: ClientCredentials,
        endpoint: &str,
        grant: TokenGrant,
    ) -> Result<TokenSet> {
        let grant_type = grant.grant_type();
        let claimed_client = credentials
            .basic
            .as_ref()
            .map(|(id, _)| id.clone())
            .or_else(|| credentials.client_id.clone())
            .unwrap_or_default();
        let issued = self
            .token_for_grant(server_id, credentials, endpoint, grant)
            .await;
        match &issued {
            Ok(_) => self.metrics.count(
                "authd_tokens_issued_total",
                &[
                    ("grant", grant_type.as_str()),
                    ("server", server_id.as_str()),
                ],
            ),
            // The database's failures are the operator's to see in the logs, not a client's
            // doing.
            Err(Error::Unavailable | Error::Unwritable | Error::Internal(_)) => {}
            Err(err) => {
                self.record_token_failure(server_id, &claimed_client, grant_type, err)
                    .await
            }
        }
        issued
    }

    /// A refused token request in the System Log, with its OAuth error as the reason; a
    /// refusal by the access policy is the policy denial Okta records here too.
    async fn record_token_failure(
        &self,
        server_id: &AuthServerId,
        claimed_client: &str,
        grant_type: GrantType,
        err: &Error,
    ) {
        let known = match ClientId::parse(claimed_client) {
            Ok(id) => self.directory.client(&id).await.ok().flatten(),
            Err(_) => None,
        };
        let actor = known.map_or_else(
            || LogActor::unknown_client(claimed_client),
            |client| LogActor::client(&client),
        );
        let (code, description) = err.oauth_error();
        self.log
            .record(
                Event::new(
                    "app.oauth2.as.token.grant",
                    format!("OAuth2 token request refused: {description}"),
                    actor,
                )
                .failed(code)
                .target(LogActor::new(
                    server_id.as_str(),
                    "AuthorizationServer",
                    server_id.as_str(),
                    server_id.as_str(),
                ))
                .debug("grantType", grant_type.as_str())
                .debug("errorDescription", description),
            )
            .await;
    }

    async fn token_for_grant(
        &self,
        server_id: &AuthServerId,
        credentials: ClientCredentials,
        endpoint: &str,
        grant: TokenGrant,
    ) -> Result<TokenSet> {
        // Two independent reads: side by side, they cost the request one database round trip.
        let (server, client) = tokio::join!(
            self.directory.auth_server(server_id),
            self.authenticate_client(credentials, server_id, endpoint)
        );
        let server = server?;
        let client = client?;
        let grant_type = grant.grant_type();
        if !client.grant_types.contains(&grant_type) {
            return Err(Error::UnauthorizedClient(format!(
                "The client is not authorized to use the provided grant type. Configured grant \
                 types: [{}].",
                client
                    .grant_types
                    .iter()
                    .map(|grant| grant.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        match grant {
            TokenGrant::ClientCredentials { scope } => {
                self.client_credentials_grant(&server, &client, &scope)
                    .await
            }
            TokenGrant::Password {
                client_ip,
                username,
                password,
                scope,
            } => {
                self.password_grant(&server, &client, client_ip, &username, password, &scope)
                    .await
            }
            TokenGrant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                self.authorization_code_grant(
                    &server,
                    &client,
                    &code,
                    redirect_uri.as_deref(),
                    code_verifier.as_deref(),
                )
                .await
            }
            TokenGrant::RefreshToken {
                refresh_token,
                scope,
            } => {
                self.refresh_token_grant(&server, &client, &refresh_token, scope)
                    .await
            }
        }
    }
}
