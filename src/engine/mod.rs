//! The rules of authd. HTTP handlers and the CLI call these entry points and nothing below them.
//!
//! Depends on `model`, `store` (the trait only), `keys` and `config` settings. No axum or http
//! types in here: the engine is testable without a socket.

pub mod access;
pub mod admin;
pub mod authorize;
pub mod client_auth;
pub mod client_secrets;
pub mod directory;
pub mod discovery;
mod error;
pub mod governance;
mod grants;
pub mod lifetimes;
pub mod mint;
pub mod pkce;
pub mod scope;
pub mod sign_in;
pub mod token;

use std::sync::Arc;

use secrecy::SecretString;

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::KeyRing;
use crate::model::{
    AccessPolicy, AuthServer, AuthServerId, Client, ClientSecret, Document, IssuerMode, SigningAlg,
    Status, Timestamp, User, UserStatus,
};
use crate::store::{self, Store};

pub use error::{Error, Result};
use lifetimes::Lifetimes;
use sign_in::passwords::Passwords;
use sign_in::SignIn;

/// What a create-or-update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The object did not exist and was created.
    Created,
    /// The object existed and differed; it was updated.
    Updated,
    /// The object already matched; nothing was written.
    Unchanged,
}

/// The engine: store, keys, clock and settings.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    passwords: Passwords,
    lifetimes: Lifetimes,
    sign_in: SignIn,
    admin: admin::Admin,
    base_url: String,
    directory: Arc<directory::Directory>,
    seed_key: Arc<ring::hmac::Key>,
    secret_hasher: Arc<client_secrets::SecretHasher>,
    successor_sealer: Arc<crate::keys::seal::Sealer>,
}

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

impl Engine {
    /// An engine over the given parts, with the configuration's rules.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        config: &Config,
    ) -> Result<Self> {
        let passwords = Passwords::new(config.passwords)?;
        let lifetimes = Lifetimes::new(store.clone(), config.tokens);
        let directory = Arc::new(directory::Directory::new(
            keys.clone(),
            store.clone(),
            config.base_url.clone(),
        ));
        let secret = config.secret_key.expose();
        let secret_hasher = Arc::new(client_secrets::SecretHasher::new(derived_key(
            secret,
            b"authd client secret hash v1",
        )));
        let sign_in = SignIn::new(
            store.clone(),
            clock.clone(),
            passwords.clone(),
            config.sign_in,
            lifetimes.clone(),
            derived_key(secret, b"authd sign-in attempt key v1"),
        );
        let admin = admin::Admin::new(admin::AdminParts {
            store: store.clone(),
            clock: clock.clone(),
            directory: directory.clone(),
            keys: keys.clone(),
            passwords: passwords.clone(),
            sign_in: sign_in.clone(),
            lifetimes: lifetimes.clone(),
            secret_hasher: secret_hasher.clone(),
            fingerprint_key: derived_key(secret, b"authd client secret fingerprint v1"),
            api_token_window: config.api_token_window,
            bootstrap_token: config.admin_token.as_ref().map(|token| {
                crate::model::TokenHash::of(secrecy::ExposeSecret::expose_secret(token))
            }),
        });
        Ok(Self {
            directory,
            sign_in,
            admin,
            store,
            keys,
            clock,
            passwords,
            lifetimes,
            base_url: config.base_url.clone(),
            // Keyed, so that the digests of seed entries (which hold passwords) reveal nothing
            // to someone who reads the database.
            seed_key: Arc::new(derived_key(secret, b"authd seed entry digest v1")),
            secret_hasher,
            // Its own key, so that nothing sealed for one purpose opens for another.
            successor_sealer: Arc::new(crate::keys::seal::Sealer::new(&derived_secret(
                secret,
                b"authd refresh token successor v1",
            ))?),
        })
    }

    /// Administration: the management API.
    pub fn admin(&self) -> &admin::Admin {
        &self.admin
    }

    /// Signing in: the Authentication API, the sign-in page, sessions and passwords.
    pub fn sign_in(&self) -> &SignIn {
        &self.sign_in
    }

    /// Whether the database takes writes: [`Error::Unwritable`] if it is read-only or full.
    pub async fn check_writable(&self) -> Result<()> {
        Ok(self.store.check_writable(self.now()).await?)
    }

    /// Deletes expired sign-in state, codes, refresh tokens and revocations.
    pub async fn purge_expired(&self) -> Result<u64> {
        Ok(self.store.purge_expired(self.now()).await?)
    }

    /// Token lifetimes in force.
    pub fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Servers, apps and trusted origins as requests read them.
    pub fn directory(&self) -> &directory::Directory {
        &self.directory
    }

    /// The key ring.
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    /// Starts the directory at the database's current revision, so that following it later
    /// drops only for what changes after: call once start-up's own writes are done.
    pub async fn start_directory(&self) -> Result<()> {
        Ok(self
            .directory
            .start_at_current_revision(&self.store)
            .await?)
    }

    /// Keeps this process's directory in step with changes that other processes commit, for
    /// as long as the returned future runs.
    pub fn follow_directory_changes(
        &self,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.directory.clone().follow(self.store.clone())
    }

    /// Every authorization server, active or not, the org server first.
    pub async fn auth_servers(&self) -> Result<Vec<AuthServer>> {
        Ok(self.store.list_auth_servers().await?)
    }

    /// The published JWKS of an active server. Served from the key ring's cache, so only the
    /// first request after start or rotation touches the database.
    pub async fn jwks(&self, id: &AuthServerId) -> Result<Document> {
        // The server first (held too): an inactive server publishes nothing, whatever keys of
        // it are held.
        self.directory.server_entry(id).await?;
        Ok(self.keys.server_keys(id).await?.jwks.clone())
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
    /// applied, then [`Engine::record_seed_entry`] called); `None` if it is unchanged.
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
                profile: spec.profile,
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
        user.profile = spec.profile;
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

/// Objects kept in a list inside another (scopes, claims, policies, rules, client secrets),
/// found by their id.
pub(crate) trait Listed {
    /// The kind an unknown id is reported as (`404 E0000007`).
    const KIND: &'static str;
    /// Its id.
    fn listed_id(&self) -> &str;
}

/// The item with this id, or [`Error::NotFound`].
pub(crate) fn find<'a, T: Listed>(items: &'a [T], id: &str) -> Result<&'a T> {
    items
        .iter()
        .find(|item| item.listed_id() == id)
        .ok_or_else(|| not_listed::<T>(id))
}

/// The item with this id, to change, or [`Error::NotFound`].
pub(crate) fn find_mut<'a, T: Listed>(items: &'a mut [T], id: &str) -> Result<&'a mut T> {
    items
        .iter_mut()
        .find(|item| item.listed_id() == id)
        .ok_or_else(|| not_listed::<T>(id))
}

fn not_listed<T: Listed>(id: &str) -> Error {
    Error::NotFound {
        kind: T::KIND,
        id: id.to_owned(),
    }
}

macro_rules! listed {
    ($($type:ty => $kind:literal),* $(,)?) => {
        $(impl Listed for $type {
            const KIND: &'static str = $kind;
            fn listed_id(&self) -> &str {
                &self.id
            }
        })*
    };
}

listed!(
    crate::model::Scope => "OAuth2Scope",
    crate::model::CustomClaim => "OAuth2Claim",
    crate::model::AccessPolicy => "Policy",
    crate::model::PolicyRule => "PolicyRule",
    crate::model::ClientSecret => "OAuth2ClientSecret",
);

/// 32 bytes for `purpose`, derived from the configured secret.
fn derived_secret(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    let root = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut derived = [0u8; 32];
    derived.copy_from_slice(ring::hmac::sign(&root, purpose).as_ref());
    derived
}

/// An HMAC key for one purpose, derived from the configured secret.
fn derived_key(secret: &[u8], purpose: &[u8]) -> ring::hmac::Key {
    let root = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        ring::hmac::sign(&root, purpose).as_ref(),
    )
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Maps a unique-value collision to a validation error with `cause`; other errors pass on.
pub(crate) fn taken(cause: &'static str) -> impl Fn(store::Error) -> Error {
    move |err| match err {
        store::Error::Conflict { .. } => Error::Validation(vec![cause.to_owned()]),
        other => other.into(),
    }
}
