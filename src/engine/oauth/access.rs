//! What resource servers ask of authd about tokens: validation of its own access tokens
//! (userinfo), introspection (RFC 7662) and revocation (RFC 7009).

use serde_json::{json, Map, Value};

use crate::model::{AuthServer, AuthServerId, PlainToken, ScopeSet, Timestamp, User, UserId};

use super::client_auth::ClientCredentials;
use super::mint::{grant_id_of, user_claims};
use super::OAuth;
use crate::engine::{Error, Result};

/// A valid access token's facts.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// All its claims.
    pub claims: Map<String, Value>,
    /// Its `jti`.
    pub jti: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The user, if any.
    pub user_id: Option<UserId>,
    /// The user as read to check the token, if any.
    pub user: Option<User>,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// When it expires.
    pub expires_at: Timestamp,
}

impl OAuth {
    /// Verifies an access token this server issued: signature by a published key, issuer,
    /// audience, expiry by the engine's clock, and not revoked.
    pub async fn validate_access_token(
        &self,
        server: &AuthServer,
        token: &str,
    ) -> Result<AccessToken> {
        let invalid = |why: &str| Error::InvalidAccessToken(why.to_owned());
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid("The access token is malformed."))?;
        let kid = header.kid.unwrap_or_default();
        let not_ours = || invalid("The access token was not signed by this server.");
        let keys = self
            .directory
            .keys_verifying(&server.id, &kid, header.alg)
            .await?
            .ok_or_else(not_ours)?;
        let verifier = keys.verifier(&kid, header.alg).ok_or_else(not_ours)?;
        let mut validation = jsonwebtoken::Validation::new(verifier.algorithm);
        validation.set_issuer(&[server.issuer(&self.base_url)]);
        match self.audience(server) {
            Value::Array(audiences) => validation.set_audience(
                &audiences
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>(),
            ),
            Value::String(audience) => validation.set_audience(&[audience]),
            _ => {}
        }
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &verifier.key, &validation)
            .map_err(|_| invalid("The access token is invalid."))?
            .claims;
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        if exp <= self.now().unix() {
            return Err(invalid("The access token is expired."));
        }
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let grant_id = grant_id_of(&jti).ok_or_else(|| invalid("The access token is invalid."))?;
        let uid = claims
            .get("uid")
            .and_then(Value::as_str)
            .and_then(|uid| UserId::parse(uid).ok());
        // A user's token: its user and its revocation in one read.
        let (revoked, user) = match &uid {
            Some(uid) => match self.store.access_token_user(&jti, grant_id, uid).await? {
                Some((user, revoked)) => (revoked, Some(user)),
                None => (false, None),
            },
            None => (
                self.store.is_access_token_revoked(&jti, grant_id).await?,
                None,
            ),
        };
        if revoked {
            return Err(invalid("The access token has been revoked."));
        }
        let issued_at =
            Timestamp::from_unix(claims.get("iat").and_then(Value::as_i64).unwrap_or(0));
        // A deactivated app's tokens stop working at once (as Okta documents), and stay
        // invalid when it is activated again.
        let client_valid = match claims.get("cid").and_then(Value::as_str) {
            Some(cid) => self
                .active_client(cid, false)
                .await
                .is_ok_and(|client| !client.predates_revocation(issued_at)),
            None => false,
        };
        if !client_valid {
            return Err(invalid("The client of this access token is not active."));
        }
        // A deactivated, suspended or locked user's tokens stop working at once; a
        // deactivation, suspension or password change ends them for good.
        if uid.is_some() {
            let valid = user.as_ref().is_some_and(|user| {
                user.may_sign_in(self.now()) && !user.predates_revocation(issued_at)
            });
            if !valid {
                return Err(invalid("The user of this access token is not active."));
            }
        }
        let scopes = ScopeSet::from_scopes(
            claims
                .get("scp")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
        Ok(AccessToken {
            jti,
            client_id: claims
                .get("cid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            user_id: uid,
            user,
            scopes,
            expires_at: Timestamp::from_unix(exp),
            claims,
        })
    }

    /// OIDC Core §5.3: the user's claims for the scopes of a valid access token with `openid`.
    pub async fn userinfo(&self, server_id: &AuthServerId, token: &str) -> Result<Value> {
        let server = self.directory.auth_server(server_id).await?;
        let access = self.validate_access_token(&server, token).await?;
        if !access.scopes.contains("openid") {
            return Err(Error::InsufficientScope(
                "The access token must provide access to at least one of these scopes: openid"
                    .to_owned(),
            ));
        }
        // Checked as the token was: active, and not ended since it was issued.
        let Some(user) = access.user else {
            return Err(Error::InvalidAccessToken(
                "The access token has no user.".to_owned(),
            ));
        };
        let mut claims = user_claims(&user, &access.scopes);
        claims.insert("sub".into(), user.id.as_str().into());
        Ok(Value::Object(claims))
    }

    /// RFC 7662: whether a token is active and, if so, what it is. Any client of the server may
    /// introspect an access token; a refresh token only by the client it was issued to.
    #[tracing::instrument(skip_all, fields(as.id = %server_id))]
    pub async fn introspect(
        &self,
        server_id: &AuthServerId,
        credentials: ClientCredentials,
        endpoint: &str,
        token: &str,
    ) -> Result<Value> {
        let server = self.directory.auth_server(server_id).await?;
        let client = self
            .authenticate_client(credentials, server_id, endpoint)
            .await?;
        let inactive = json!({ "active": false });
        let looks_like_jwt = token.split('.').count() == 3;
        // Access tokens are JWTs and refresh tokens are not, so the shape decides and the
        // client's `token_type_hint` (RFC 7662 §2.1, optional) is not needed.
        if looks_like_jwt {
            let Ok(access) = self.validate_access_token(&server, token).await else {
                return Ok(inactive);
            };
            let claims = &access.claims;
            let mut response = json!({
                "active": true,
                "scope": access.scopes.to_string(),
                "username": claims.get("sub"),
                "exp": claims.get("exp"),
                "iat": claims.get("iat"),
                "sub": claims.get("sub"),
                "aud": claims.get("aud"),
                "iss": claims.get("iss"),
                "jti": access.jti,
                "token_type": "Bearer",
                "client_id": access.client_id,
            });
            if let Some(uid) = &access.user_id {
                response["uid"] = uid.as_str().into();
            }
            return Ok(response);
        }
        let hash = PlainToken::from_presented(token).hash();
        let Some(record) = self
            .store
            .find_refresh_token(&hash, self.now())
            .await?
            .usable()
        else {
            return Ok(inactive);
        };
        if record.grant.client_id != client.id || record.grant.auth_server_id != server.id {
            return Ok(inactive);
        }
        let user = self.store.get_user(&record.grant.user_id).await?;
        Ok(json!({
            "active": true,
            "scope": record.grant.scopes.to_string(),
            "username": user.login,
            "exp": record.expires_at.unix(),
            "iat": record.created_at.unix(),
            "sub": user.login,
            "aud": self.audience(&server),
            "iss": server.issuer(&self.base_url),
            "token_type": "refresh_token",
            "client_id": client.id,
            "uid": user.id,
        }))
    }

    /// RFC 7009: revokes a token the client holds. Revoking a refresh token revokes its whole
    /// family and the access tokens it issued. Unknown tokens are not an error (§2.2).
    #[tracing::instrument(skip_all, fields(as.id = %server_id))]
    pub async fn revoke(
        &self,
        server_id: &AuthServerId,
        credentials: ClientCredentials,
        endpoint: &str,
        token: &str,
    ) -> Result<()> {
        let server = self.directory.auth_server(server_id).await?;
        let client = self
            .authenticate_client(credentials, server_id, endpoint)
            .await?;
        if token.split('.').count() == 3 {
            if let Ok(access) = self.validate_access_token(&server, token).await {
                if access.client_id == client.id.as_str() {
                    self.store
                        .revoke_access_token(&access.jti, access.expires_at)
                        .await?;
                    tracing::info!(client.id = %client.id, token.jti = %access.jti, "access token revoked");
                }
            }
            return Ok(());
        }
        let hash = PlainToken::from_presented(token).hash();
        if let Some(record) = self
            .store
            .find_refresh_token(&hash, self.now())
            .await?
            .usable()
        {
            if record.grant.client_id == client.id {
                self.revoke_grant(&server, &record.grant.grant_id).await?;
                tracing::info!(client.id = %client.id, "refresh token family revoked");
            }
        }
        Ok(())
    }
}
