//! Provisioning: the built-in authorization servers, and the seed file's servers, apps and
//! users, created or brought up to date idempotently, so that every replica may apply the same
//! file at start-up.

use std::sync::Arc;

use secrecy::SecretString;

use crate::clock::Clock;
use crate::model::{
    AccessPolicy, AuthServer, AuthServerId, Client, ClientSecret, IssuerMode, SigningAlg, Status,
    Timestamp, User, UserStatus,
};
use crate::store::{self, Store};

use super::admin::users::{password_problems, profile_problems};
use super::admin::Admin;
use super::directory::Directory;
use super::lifetimes::Lifetimes;
use super::sign_in::passwords::Passwords;
use super::sign_in::SignIn;
use super::{Change, Result};

/// A user as the seed file or an operator describes it; the engine fills in the rest.
#[derive(Debug, Clone)]
pub struct UserSpec {
    /// Sign-in name.
    pub login: String,
    /// Lifecycle status.
    pub status: UserStatus,
    /// Okta profile attributes.
    pub profile: serde_json::Map<String, serde_json::Value>,
    /// The password to set, if any.
    pub password: Option<SecretString>,
    /// A hash to import instead of a password (bcrypt or argon2).
    pub password_hash: Option<String>,
}

impl UserSpec {
    /// The Users API's rules for this user: its profile, with `login` as `profile.login`, and
    /// its password. An imported hash is taken as it is, as Okta's import does.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.profile.get("login").is_some_and(|login| {
            login.as_str().map(str::to_lowercase) != Some(self.login.to_lowercase())
        }) {
            problems.push("profile.login: must be the same as login".to_owned());
        }
        problems.extend(profile_problems(&self.profile_with_login()));
        if let Some(password) = &self.password {
            problems.extend(password_problems(&self.login, password));
        }
        problems
    }

    fn profile_with_login(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut profile = self.profile.clone();
        profile.insert("login".to_owned(), self.login.clone().into());
        profile
    }
}

/// The provisioning service.
#[derive(Clone)]
pub struct Provisioning {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    directory: Arc<Directory>,
    passwords: Passwords,
    sign_in: SignIn,
    admin: Admin,
    lifetimes: Lifetimes,
    /// Keys the digests of applied seed entries, which hold passwords: they reveal nothing to
    /// someone who reads the database.
    seed_key: Arc<ring::hmac::Key>,
}

/// What the provisioning service is built from.
pub struct ProvisioningParts {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Dropped after each change to what it holds.
    pub directory: Arc<Directory>,
    /// Hashes seeded passwords.
    pub passwords: Passwords,
    /// What a password change ends.
    pub sign_in: SignIn,
    /// Changes servers as the management API does.
    pub admin: Admin,
    /// How long a revocation lasts.
    pub lifetimes: Lifetimes,
    /// Keys seed entry digests.
    pub seed_key: ring::hmac::Key,
}

impl Provisioning {
    /// The service over its parts.
    pub fn new(parts: ProvisioningParts) -> Self {
        Self {
            store: parts.store,
            clock: parts.clock,
            directory: parts.directory,
            passwords: parts.passwords,
            sign_in: parts.sign_in,
            admin: parts.admin,
            lifetimes: parts.lifetimes,
            seed_key: Arc::new(parts.seed_key),
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Makes sure the org server and `default` (audience `api://default`) exist.
    pub async fn ensure_builtin_servers(&self) -> Result<()> {
        for (id, name, description, audiences) in [
            (
                AuthServerId::org(),
                "Org Authorization Server",
                "The org authorization server: issuer is the base URL",
                vec![],
            ),
            (
                AuthServerId::default_server(),
                "default",
                "Default Authorization Server",
                vec!["api://default".to_owned()],
            ),
        ] {
            match self.store.get_auth_server(&id).await {
                Ok(_) => {}
                Err(store::Error::NotFound) => {
                    let now = self.now();
                    let policies = if id.is_org() {
                        vec![]
                    } else {
                        vec![AccessPolicy::okta_default(None, now)]
                    };
                    let server = AuthServer {
                        id,
                        name: name.to_owned(),
                        description: description.to_owned(),
                        audiences,
                        issuer_mode: IssuerMode::OrgUrl,
                        status: Status::Active,
                        signing_alg: SigningAlg::RS256,
                        scopes: vec![],
                        claims: vec![],
                        token_lifetimes: crate::model::TokenLifetimes::default(),
                        policies,
                        revision: 0,
                        created_at: now,
                        updated_at: now,
                    };
                    match self.store.insert_auth_server(&server).await {
                        Ok(()) => self.directory.drop_all(),
                        // Another replica created it first.
                        Err(store::Error::Conflict { .. }) => {}
                        Err(err) => return Err(err.into()),
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    /// The digest of a seed entry if it differs from the one last applied (the entry must be
    /// applied, then [`Provisioning::record_seed_entry`] called); `None` if it is unchanged.
    pub async fn changed_seed_entry(
        &self,
        kind: &str,
        key: &str,
        entry: &serde_json::Value,
    ) -> Result<Option<String>> {
        let tag = ring::hmac::sign(&self.seed_key, entry.to_string().as_bytes());
        let digest: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let recorded = self.store.seed_digest(kind, key).await?;
        Ok((recorded.as_deref() != Some(digest.as_str())).then_some(digest))
    }

    /// Remembers that a seed entry was applied.
    pub async fn record_seed_entry(&self, kind: &str, key: &str, digest: &str) -> Result<()> {
        Ok(self.store.record_seed_digest(kind, key, digest).await?)
    }

    /// Creates an authorization server, or updates it to the given fields if `update` is set.
    pub async fn put_auth_server(&self, desired: AuthServer, update: bool) -> Result<Change> {
        match self.store.get_auth_server(&desired.id).await {
            Err(store::Error::NotFound) => {
                let now = self.now();
                // A seeded server starts as `default` does, with Okta's default policy.
                let server = AuthServer {
                    created_at: now,
                    updated_at: now,
                    policies: vec![AccessPolicy::okta_default(None, now)],
                    ..desired
                };
                if let Err(err) = self.store.insert_auth_server(&server).await {
                    return created_meanwhile(err, "authorization server");
                }
                self.directory.drop_all();
                Ok(Change::Created)
            }
            Err(err) => Err(err.into()),
            Ok(_) if !update => Ok(Change::Unchanged),
            Ok(_) => {
                let (_, changed) = self
                    .admin
                    .modify_auth_server(desired.id.as_str(), |server, _| {
                        // Policies are administered through the API, not the seed file.
                        let wanted = AuthServer {
                            created_at: server.created_at,
                            updated_at: server.updated_at,
                            policies: server.policies.clone(),
                            revision: server.revision,
                            ..desired.clone()
                        };
                        let changed = wanted != *server;
                        *server = wanted;
                        Ok(changed)
                    })
                    .await?;
                Ok(if changed {
                    Change::Updated
                } else {
                    Change::Unchanged
                })
            }
        }
    }

    /// Creates a client, or updates it to the given fields if `update` is set.
    pub async fn put_client(&self, desired: Client, update: bool) -> Result<Change> {
        match self.store.get_client(&desired.id).await {
            Err(store::Error::NotFound) => {
                let now = self.now();
                let client = Client {
                    created_at: now,
                    updated_at: now,
                    ..desired
                };
                let secret = client
                    .secret_hashes
                    .first()
                    .map(|hash| ClientSecret::new(client.id.clone(), hash.clone(), now));
                if let Err(err) = self.store.insert_client(&client, secret.as_ref()).await {
                    return created_meanwhile(err, "app");
                }
                self.directory.drop_all();
                Ok(Change::Created)
            }
            Err(err) => Err(err.into()),
            Ok(_) if !update => Ok(Change::Unchanged),
            Ok(existing) => {
                let desired = Client {
                    created_at: existing.created_at,
                    updated_at: existing.updated_at,
                    tokens_valid_after: existing.tokens_valid_after,
                    ..desired
                };
                if desired == existing {
                    return Ok(Change::Unchanged);
                }
                let now = self.now();
                let client = Client {
                    updated_at: now,
                    ..desired
                };
                let deactivated =
                    existing.status == Status::Active && client.status == Status::Inactive;
                if deactivated {
                    let until = now.plus(self.lifetimes.longest_token().await?);
                    self.store
                        .update_client_ending_access(&client, until)
                        .await?;
                    // Dropped now, in case replacing the secrets below fails.
                    self.directory.drop_all();
                }
                if client.secret_hashes == existing.secret_hashes {
                    if !deactivated {
                        self.store.update_client(&client).await?;
                    }
                } else {
                    let secret = client
                        .secret_hashes
                        .first()
                        .map(|hash| ClientSecret::new(client.id.clone(), hash.clone(), now));
                    self.store
                        .replace_client_and_secrets(&client, secret.as_ref())
                        .await?;
                }
                self.directory.drop_all();
                Ok(Change::Updated)
            }
        }
    }

    /// Creates the user with the spec's login, or updates it if `update` is set. A password is
    /// re-hashed only if it differs from the stored one, so applying the same spec twice writes
    /// nothing.
    pub async fn put_user(&self, spec: UserSpec, update: bool) -> Result<Change> {
        super::Error::refuse(spec.problems())?;
        let profile = spec.profile_with_login();
        let existing = match self.store.get_user_by_login(&spec.login).await {
            Ok(user) => Some(user),
            Err(store::Error::NotFound) => None,
            Err(err) => return Err(err.into()),
        };
        let now = self.now();
        let Some(existing) = existing else {
            let password_hash = match (spec.password, spec.password_hash) {
                (Some(password), _) => Some(self.passwords.hash(password).await?),
                (None, imported) => imported,
            };
            let user = User {
                id: crate::model::UserId::generate(),
                status: spec.status,
                login: spec.login,
                profile,
                password_changed_at: password_hash.as_ref().map(|_| now),
                password_hash,
                created_at: now,
                activated_at: (spec.status == UserStatus::Active).then_some(now),
                status_changed_at: Some(now),
                last_login_at: None,
                updated_at: now,
                failed_sign_ins: 0,
                locked_until: None,
                tokens_valid_after: None,
                groups_revision: 0,
            };
            if let Err(err) = self.store.insert_user(&user).await {
                return created_meanwhile(err, "user");
            }
            return Ok(Change::Created);
        };
        if !update {
            return Ok(Change::Unchanged);
        }

        let mut user = existing.clone();
        user.login = spec.login;
        user.profile = profile;
        if user.status != spec.status {
            user.status = spec.status;
            user.status_changed_at = Some(now);
            if spec.status == UserStatus::Active && user.activated_at.is_none() {
                user.activated_at = Some(now);
            }
        }
        if let Some(password) = spec.password {
            let matches = match &user.password_hash {
                Some(hash) => {
                    self.passwords
                        .verify(hash.clone(), password.clone())
                        .await?
                        .matches
                }
                None => false,
            };
            if !matches {
                user.password_hash = Some(self.passwords.hash(password).await?);
                user.password_changed_at = Some(now);
            }
        }
        if let Some(imported) = spec.password_hash {
            // An imported hash is applied once; after the upgrade to argon2id at sign-in the
            // stored hash differs, and re-seeding must not bring the old one back.
            if user.password_hash.is_none() {
                user.password_hash = Some(imported);
                user.password_changed_at = Some(now);
            }
        }
        if user == existing {
            return Ok(Change::Unchanged);
        }
        user.updated_at = now;
        let ends_access = user.status != existing.status
            && matches!(
                user.status,
                UserStatus::Deprovisioned | UserStatus::Suspended
            );
        if ends_access {
            let until = now.plus(self.lifetimes.longest_token().await?);
            self.store.update_user_ending_access(&user, until).await?;
        } else {
            self.store.update_user(&user).await?;
        }
        if user.password_hash != existing.password_hash {
            self.sign_in
                .end_access_after_password_change(&user.id, now)
                .await?;
        }
        Ok(Change::Updated)
    }
}

/// An object the seed file creates that another replica, applying the same file at the same
/// time, created first: it is there, which is what the seed asked for.
fn created_meanwhile(err: store::Error, what: &str) -> Result<Change> {
    match err {
        store::Error::Conflict { .. } => {
            tracing::info!("seeded {what} created meanwhile by another replica");
            Ok(Change::Unchanged)
        }
        other => Err(other.into()),
    }
}
