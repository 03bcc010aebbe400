//! Okta's Apps API for OpenID Connect apps: the clients of the OAuth flows.

use crate::engine::client_secrets::check_secret;
use crate::model::{
    AppGroupsClaim, ApplicationType, Client, ClientId, ClientSecret, GrantType, PlainToken,
    RefreshTokenSettings, ResponseType, Status, TokenEndpointAuthMethod, MAX_CLIENT_SECRETS,
};
use crate::store;

use super::Admin;
use crate::engine::{taken, Error, Result};

/// An app as an administrator describes it.
#[derive(Debug, Clone)]
pub struct AppSpec {
    /// A fixed client id, or `None` to generate one.
    pub client_id: Option<String>,
    /// A fixed client secret, or `None` to generate one (confidential apps).
    pub client_secret: Option<String>,
    /// Display name.
    pub label: String,
    /// `web`, `native`, `browser` or `service`.
    pub application_type: ApplicationType,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Registered post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Allowed grants.
    pub grant_types: Vec<GrantType>,
    /// Allowed response types.
    pub response_types: Vec<ResponseType>,
    /// How it authenticates.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// JWKS for `private_key_jwt`, as JSON text.
    pub jwks: Option<String>,
    /// How its refresh tokens rotate; `None` keeps what a replaced app had (Okta's defaults
    /// for a new one).
    pub refresh_token: Option<RefreshTokenSettings>,
    /// Its groups claim in the org server's ID tokens: `None` keeps what a replaced app had,
    /// `Some(None)` removes it.
    pub groups_claim: Option<Option<AppGroupsClaim>>,
}

/// A field of an app, as a failed check names it: the Apps API and the seed file spell their
/// fields differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppField {
    /// The display name.
    Label,
    /// Redirect URIs.
    RedirectUris,
    /// Post-logout redirect URIs.
    PostLogoutRedirectUris,
    /// Allowed grants.
    GrantTypes,
    /// The JWKS for `private_key_jwt`.
    Jwks,
    /// A chosen client secret.
    ClientSecret,
    /// The refresh token rotation leeway.
    RefreshTokenLeeway,
    /// The groups claim in the org server's ID tokens.
    GroupsClaim,
}

impl AppField {
    /// The field as Okta's Apps API names it.
    pub fn in_api(self) -> &'static str {
        match self {
            AppField::Label => "label",
            AppField::RedirectUris => "settings.oauthClient.redirect_uris",
            AppField::PostLogoutRedirectUris => "settings.oauthClient.post_logout_redirect_uris",
            AppField::GrantTypes => "settings.oauthClient.grant_types",
            AppField::Jwks => "settings.oauthClient.jwks",
            AppField::ClientSecret => "credentials.oauthClient.client_secret",
            AppField::RefreshTokenLeeway => "settings.oauthClient.refresh_token.leeway",
            AppField::GroupsClaim => "authd.groupsClaim",
        }
    }
}

impl AppSpec {
    /// Okta's rules for an app's fields: what the Apps API, the seed file and the command line
    /// all apply. Each problem names its field.
    pub fn problems(&self) -> Vec<(AppField, String)> {
        let mut problems = Vec::new();
        if self.refresh_token.is_some_and(|settings| {
            settings.leeway_seconds > RefreshTokenSettings::MAX_LEEWAY_SECONDS
        }) {
            problems.push((
                AppField::RefreshTokenLeeway,
                format!(
                    "must be from 0 to {} seconds",
                    RefreshTokenSettings::MAX_LEEWAY_SECONDS
                ),
            ));
        }
        if self.label.trim().is_empty() {
            problems.push((AppField::Label, "The field cannot be left blank".to_owned()));
        }
        let registered = [
            (AppField::RedirectUris, &self.redirect_uris),
            (
                AppField::PostLogoutRedirectUris,
                &self.post_logout_redirect_uris,
            ),
        ];
        for (field, uris) in registered {
            for uri in uris {
                if let Some(problem) = crate::model::redirect_uri_problem(uri) {
                    problems.push((field, format!("{uri:?} {problem}")));
                }
            }
        }
        if self.grant_types.is_empty() {
            problems.push((
                AppField::GrantTypes,
                "The field cannot be left blank".to_owned(),
            ));
        }
        let needs_redirect = self
            .grant_types
            .iter()
            .any(|grant| matches!(grant, GrantType::AuthorizationCode | GrantType::Implicit));
        if needs_redirect && self.redirect_uris.is_empty() {
            problems.push((
                AppField::RedirectUris,
                "required for the authorization_code and implicit grants".to_owned(),
            ));
        }
        let public = self.token_endpoint_auth_method == TokenEndpointAuthMethod::None;
        if public && self.grant_types.contains(&GrantType::ClientCredentials) {
            problems.push((
                AppField::GrantTypes,
                "client_credentials needs a confidential client".to_owned(),
            ));
        }
        if self.token_endpoint_auth_method == TokenEndpointAuthMethod::PrivateKeyJwt {
            let usable = self
                .jwks
                .as_deref()
                .and_then(|text| serde_json::from_str::<jsonwebtoken::jwk::JwkSet>(text).ok())
                .is_some_and(|set| {
                    !set.keys.is_empty()
                        && set.keys.iter().all(|key| {
                            !crate::engine::oauth::client_auth::key_algorithms(key).is_empty()
                                && jsonwebtoken::DecodingKey::from_jwk(key).is_ok()
                        })
                });
            if !usable {
                problems.push((
                    AppField::Jwks,
                    "private_key_jwt needs a JWKS of public signing keys (RSA, EC P-256 or \
                     P-384, or Ed25519)"
                        .to_owned(),
                ));
            }
        }
        if let Some(problem) = self.client_secret.as_deref().and_then(check_secret) {
            problems.push((AppField::ClientSecret, problem));
        }
        if let Some(Some(claim)) = &self.groups_claim {
            if claim.name.trim().is_empty() {
                problems.push((
                    AppField::GroupsClaim,
                    "name: The field cannot be left blank".to_owned(),
                ));
            }
            if crate::engine::oauth::claims::RESERVED_CLAIMS.contains(&claim.name.as_str()) {
                problems.push((
                    AppField::GroupsClaim,
                    format!("name: {:?} is a claim this server sets itself", claim.name),
                ));
            }
            problems.extend(
                super::auth_servers::claim_value_problems(
                    &claim.name,
                    claim.value_type,
                    claim.group_filter_type,
                    &claim.value,
                )
                .into_iter()
                .map(|problem| (AppField::GroupsClaim, problem)),
            );
        }
        problems
    }

    /// [`AppSpec::problems`] as the Apps API reports them: a validation error whose causes
    /// name the fields as the API does.
    pub fn check(&self) -> Result<()> {
        Error::refuse(
            self.problems()
                .into_iter()
                .map(|(field, problem)| format!("{}: {problem}", field.in_api()))
                .collect(),
        )
    }
}

impl Admin {
    /// Creates an app; the generated (or given) secret is returned once, stored as a hash.
    pub async fn create_app(&self, spec: AppSpec) -> Result<(Client, Option<PlainToken>)> {
        spec.check()?;
        let id = match &spec.client_id {
            Some(id) => ClientId::parse(id.as_str())
                .map_err(|err| Error::Validation(vec![format!("client_id: {err}")]))?,
            None => ClientId::generate(),
        };
        let secret = match spec.token_endpoint_auth_method {
            TokenEndpointAuthMethod::ClientSecretBasic
            | TokenEndpointAuthMethod::ClientSecretPost => Some(match &spec.client_secret {
                Some(secret) => PlainToken::from_presented(secret.as_str()),
                None => PlainToken::generate(),
            }),
            TokenEndpointAuthMethod::PrivateKeyJwt | TokenEndpointAuthMethod::None => None,
        };
        let now = self.now();
        let hash = secret
            .as_ref()
            .map(|secret| self.client_secret_hash(secret.expose()));
        let client = Client {
            id,
            label: spec.label,
            application_type: spec.application_type,
            redirect_uris: spec.redirect_uris,
            post_logout_redirect_uris: spec.post_logout_redirect_uris,
            grant_types: spec.grant_types,
            response_types: spec.response_types,
            token_endpoint_auth_method: spec.token_endpoint_auth_method,
            secret_hashes: hash.iter().cloned().collect(),
            allow_plain_pkce: false,
            jwks: spec.jwks,
            status: Status::Active,
            created_at: now,
            updated_at: now,
            tokens_valid_after: None,
            refresh_token: spec.refresh_token.unwrap_or_default(),
            groups_claim: spec.groups_claim.flatten(),
        };
        let first_secret = hash.map(|hash| ClientSecret::new(client.id.clone(), hash, now));
        self.store
            .insert_client(&client, first_secret.as_ref())
            .await
            .map_err(taken(
                "client_id: An app with this client_id already exists",
            ))?;
        self.directory.drop_all();
        tracing::info!(client.id = %client.id, "app created");
        Ok((client, secret))
    }

    /// An app by id, active or not.
    pub async fn app(&self, id: &str) -> Result<Client> {
        let not_found = || app_not_found(id);
        let id = ClientId::parse(id).map_err(|_| not_found())?;
        match self.store.get_client(&id).await {
            Ok(client) => Ok(client),
            Err(store::Error::NotFound) => Err(not_found()),
            Err(err) => Err(err.into()),
        }
    }

    /// Every app.
    pub async fn apps(&self) -> Result<Vec<Client>> {
        Ok(self.store.list_clients().await?)
    }

    /// Replaces an app's settings (its id and secret stay).
    pub async fn replace_app(&self, id: &str, spec: AppSpec) -> Result<Client> {
        spec.check()?;
        let existing = self.app(id).await?;
        let client = Client {
            label: spec.label,
            application_type: spec.application_type,
            redirect_uris: spec.redirect_uris,
            post_logout_redirect_uris: spec.post_logout_redirect_uris,
            grant_types: spec.grant_types,
            response_types: spec.response_types,
            token_endpoint_auth_method: spec.token_endpoint_auth_method,
            jwks: spec.jwks.or(existing.jwks.clone()),
            refresh_token: spec.refresh_token.unwrap_or(existing.refresh_token),
            groups_claim: spec.groups_claim.unwrap_or(existing.groups_claim.clone()),
            updated_at: self.now(),
            ..existing
        };
        self.store.update_client(&client).await?;
        self.directory.drop_all();
        Ok(client)
    }

    /// Activates or deactivates an app. A deactivated app's tokens stop working at once, and
    /// stay invalid when it is activated again (Okta's rule): its refresh token families are
    /// revoked and every token issued before the deactivation is refused for good.
    pub async fn set_app_status(&self, id: &str, status: Status) -> Result<Client> {
        let existing = self.app(id).await?;
        let deactivated = existing.status == Status::Active && status == Status::Inactive;
        let now = self.now();
        let client = Client {
            status,
            updated_at: now,
            ..existing
        };
        if deactivated {
            let until = now.plus(self.lifetimes.longest_token().await?);
            self.store
                .update_client_ending_access(&client, until)
                .await?;
        } else {
            self.store.update_client(&client).await?;
        }
        self.directory.drop_all();
        tracing::info!(client.id = %client.id, status = %status, "app status changed");
        Ok(client)
    }

    /// Deletes an inactive app; an active one must be deactivated first (as Okta).
    pub async fn delete_app(&self, id: &str) -> Result<()> {
        let client = self.app(id).await?;
        if client.status == Status::Active {
            return Err(Error::Validation(vec![
                "status: An app must be deactivated before it is deleted".to_owned(),
            ]));
        }
        self.store.delete_client(&client.id).await?;
        self.directory.drop_all();
        Ok(())
    }
}

/// Client secrets (Okta's `/apps/{id}/credentials/secrets`): a confidential app holds one or
/// two, and every active one authenticates it, so a secret is rolled over by adding the new
/// one, moving the app's deployments to it, then deactivating and deleting the old one.
impl Admin {
    /// An app's secrets, oldest first.
    pub async fn client_secrets(&self, app_id: &str) -> Result<Vec<ClientSecret>> {
        let client = self.app(app_id).await?;
        Ok(self.store.list_client_secrets(&client.id).await?)
    }

    /// One of an app's secrets.
    pub async fn client_secret(&self, app_id: &str, secret_id: &str) -> Result<ClientSecret> {
        let secrets = self.client_secrets(app_id).await?;
        Ok(crate::engine::find(&secrets, secret_id)?.clone())
    }

    /// Adds a secret, generated unless given; it is returned once and stored as a hash.
    pub async fn add_client_secret(
        &self,
        app_id: &str,
        given: Option<String>,
        status: Status,
    ) -> Result<(ClientSecret, PlainToken)> {
        let client = self.app(app_id).await?;
        if !matches!(
            client.token_endpoint_auth_method,
            TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost
        ) {
            return Err(Error::Validation(vec![format!(
                "credentials.oauthClient.token_endpoint_auth_method: an app that authenticates \
                 with {} has no client secrets",
                client.token_endpoint_auth_method
            )]));
        }
        if let Some(problem) = given.as_deref().and_then(check_secret) {
            return Err(Error::Validation(vec![format!("client_secret: {problem}")]));
        }
        let plain = given.map_or_else(PlainToken::generate, PlainToken::from_presented);
        let secret = ClientSecret {
            status,
            ..ClientSecret::new(
                client.id,
                self.client_secret_hash(plain.expose()),
                self.now(),
            )
        };
        let added = match self.store.add_client_secret(&secret).await {
            Err(store::Error::NotFound) => return Err(app_not_found(app_id)),
            other => other?,
        };
        self.directory.drop_all();
        if !added {
            return Err(Error::Validation(vec![format!(
                "client_secret: An app holds at most {MAX_CLIENT_SECRETS} secrets; delete an \
                 inactive one first"
            )]));
        }
        tracing::info!(client.id = %secret.client_id, secret.id = %secret.id, "client secret added");
        Ok((secret, plain))
    }

    /// What the store keeps for a client secret.
    pub fn client_secret_hash(&self, secret: &str) -> String {
        self.secret_hasher.hash(secret)
    }

    /// Re-keys the secret hashes that earlier versions stored unkeyed: how many. Each is
    /// replaced only if it is still there, so replicas starting together do not collide.
    pub async fn rekey_client_secrets(&self) -> Result<usize> {
        let mut rekeyed = 0;
        for legacy in self.store.client_secret_hashes_like("sha256:").await? {
            let Some(keyed) = self.secret_hasher.rekey(&legacy) else {
                continue;
            };
            if self
                .store
                .replace_client_secret_hash(&legacy, &keyed)
                .await?
            {
                rekeyed += 1;
            }
        }
        if rekeyed > 0 {
            self.directory.drop_all();
        }
        Ok(rekeyed)
    }

    /// Okta's `secret_hash`: tells secrets apart without revealing them. It is keyed with the
    /// server's secret, so it cannot be used to test guesses of a chosen secret offline.
    pub fn secret_fingerprint(&self, secret: &ClientSecret) -> String {
        use base64::Engine as _;
        let tag = ring::hmac::sign(&self.fingerprint_key, secret.secret_hash.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16])
    }

    /// Activates or deactivates a secret; the last active one cannot be deactivated.
    pub async fn set_client_secret_status(
        &self,
        app_id: &str,
        secret_id: &str,
        status: Status,
    ) -> Result<ClientSecret> {
        let secret = self.client_secret(app_id, secret_id).await?;
        if secret.status == status {
            return Ok(secret);
        }
        let now = self.now();
        let changed = match self
            .store
            .set_client_secret_status(&secret.client_id, secret_id, status, now)
            .await
        {
            Err(store::Error::NotFound) => return Err(app_not_found(app_id)),
            other => other?,
        };
        self.directory.drop_all();
        if !changed {
            return Err(Error::Validation(vec![
                "status: The last active client secret cannot be deactivated; add another first"
                    .to_owned(),
            ]));
        }
        Ok(ClientSecret {
            status,
            updated_at: now,
            ..secret
        })
    }

    /// Deletes an inactive secret; an active one must be deactivated first (as Okta).
    pub async fn delete_client_secret(&self, app_id: &str, secret_id: &str) -> Result<()> {
        let secret = self.client_secret(app_id, secret_id).await?;
        if !self
            .store
            .delete_client_secret(&secret.client_id, secret_id)
            .await?
        {
            return Err(Error::Validation(vec![
                "status: An active client secret must be deactivated before it is deleted"
                    .to_owned(),
            ]));
        }
        self.directory.drop_all();
        Ok(())
    }
}

pub(super) fn app_not_found(id: &str) -> Error {
    Error::NotFound {
        kind: "AppInstance",
        id: id.to_owned(),
    }
}
