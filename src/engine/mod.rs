//! The rules of authd, as four services: [`oauth::OAuth`] (authorize, token and its grants,
//! introspect, revoke, userinfo, logout, keys), [`sign_in::SignIn`] (the Authentication API,
//! sessions, passwords, lockout and rate limits), [`admin::Admin`] (the management API) and
//! [`provisioning::Provisioning`] (the built-in servers and the seed file). Each holds only
//! what it uses; what several read is shared: the [`directory::Directory`] of servers, apps and
//! trusted origins, the key ring, the store and the clock. HTTP handlers and the CLI call the
//! services and the directory's lookups, never the store.
//!
//! Depends on `model`, `store` (the trait only), `keys` and `config` settings. No axum or http
//! types in here: the engine is testable without a socket.

pub mod admin;
pub mod client_secrets;
pub mod directory;
pub mod discovery;
mod error;
pub mod expression;
pub mod lifetimes;
pub mod memberships;
pub mod oauth;
pub mod provisioning;
pub mod scim_filter;
pub mod sign_in;
pub mod system_log;
mod timed_store;

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::model::{AuthServer, KeyState, Status, Timestamp};
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

/// The engine: its services, and what the server as a whole does (health, maintenance).
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    lifetimes: Lifetimes,
    sign_in: SignIn,
    admin: admin::Admin,
    provisioning: provisioning::Provisioning,
    directory: Arc<directory::Directory>,
    oauth: oauth::OAuth,
    metrics: Metrics,
    system_log: system_log::SystemLog,
}

impl Engine {
    /// An engine over the given parts, with the configuration's rules.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        config: &Config,
    ) -> Result<Self> {
        let metrics = if config.metrics_listen.is_some() {
            Metrics::recording()
        } else {
            Metrics::disabled()
        };
        let store = timed_store::TimedStore::wrap(store, &metrics);
        let passwords = Passwords::new(config.passwords)?;
        let system_log = system_log::SystemLog::new(store.clone(), clock.clone());
        let lifetimes = Lifetimes::new(store.clone(), config.tokens);
        let directory = Arc::new(directory::Directory::new(
            keys.clone(),
            store.clone(),
            clock.clone(),
            config.base_url.clone(),
            &metrics,
        ));
        let secret = config.secret_key.expose();
        let secret_hasher = Arc::new(client_secrets::SecretHasher::new(derived_key(
            secret,
            b"authd client secret hash v1",
        )));
        let sign_in = SignIn::new(sign_in::SignInParts {
            store: store.clone(),
            clock: clock.clone(),
            passwords: passwords.clone(),
            settings: config.sign_in,
            lifetimes: lifetimes.clone(),
            attempt_key: derived_key(secret, b"authd sign-in attempt key v1"),
            metrics: metrics.clone(),
            log: system_log.clone(),
        });
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
        let provisioning = provisioning::Provisioning::new(provisioning::ProvisioningParts {
            store: store.clone(),
            clock: clock.clone(),
            directory: directory.clone(),
            passwords: passwords.clone(),
            sign_in: sign_in.clone(),
            admin: admin.clone(),
            lifetimes: lifetimes.clone(),
            // Keyed, so that the digests of seed entries (which hold passwords) reveal nothing
            // to someone who reads the database.
            seed_key: derived_key(secret, b"authd seed entry digest v1"),
        });
        let oauth = oauth::OAuth::new(oauth::OAuthParts {
            store: store.clone(),
            clock: clock.clone(),
            directory: directory.clone(),
            sign_in: sign_in.clone(),
            lifetimes: lifetimes.clone(),
            secret_hasher,
            // Its own key, so that nothing sealed for one purpose opens for another.
            successor_sealer: crate::keys::seal::Sealer::new(&derived_secret(
                secret,
                b"authd refresh token successor v1",
            ))?,
            base_url: config.base_url.clone(),
            metrics: metrics.clone(),
            system_log: system_log.clone(),
        });
        Ok(Self {
            system_log,
            metrics,
            directory,
            oauth,
            sign_in,
            admin,
            provisioning,
            store,
            keys,
            clock,
            lifetimes,
        })
    }

    /// The System Log.
    pub fn system_log(&self) -> &system_log::SystemLog {
        &self.system_log
    }

    /// What this server counts, for `/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Every series in Prometheus's text format, with the gauges read now: the database
    /// pool's use and the age of each active server's signing key.
    pub async fn render_metrics(&self) -> String {
        let pool = self.store.pool_use();
        self.metrics.set(
            "authd_database_connections",
            &[("state", "idle")],
            f64::from(pool.idle),
        );
        self.metrics.set(
            "authd_database_connections",
            &[("state", "in_use")],
            f64::from(pool.open.saturating_sub(pool.idle)),
        );
        let now = self.now();
        match self.store.list_auth_servers().await {
            Ok(servers) => {
                for server in servers
                    .iter()
                    .filter(|server| server.status == Status::Active)
                {
                    let keys = match self.store.list_keys(&server.id).await {
                        Ok(keys) => keys,
                        Err(err) => {
                            tracing::warn!(error = %err, "cannot read signing keys for metrics");
                            continue;
                        }
                    };
                    if let Some(active) = keys.iter().find(|key| key.state == KeyState::Active) {
                        let since = active.activated_at.unwrap_or(active.created_at);
                        self.metrics.set(
                            "authd_signing_key_age_seconds",
                            &[("server", server.id.as_str())],
                            (now.unix() - since.unix()) as f64,
                        );
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot read the servers for metrics"),
        }
        self.metrics.render()
    }

    /// OAuth and OpenID Connect: authorize, token, introspect, revoke, userinfo, logout, keys.
    pub fn oauth(&self) -> &oauth::OAuth {
        &self.oauth
    }

    /// Administration: the management API.
    pub fn admin(&self) -> &admin::Admin {
        &self.admin
    }

    /// Provisioning: the built-in servers and the seed file.
    pub fn provisioning(&self) -> &provisioning::Provisioning {
        &self.provisioning
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
        Ok(self.directory.start_at_current_revision().await?)
    }

    /// Keeps this process's directory in step with changes that other processes commit, for
    /// as long as the returned future runs.
    pub fn follow_directory_changes(
        &self,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.directory.clone().follow()
    }

    /// Brings a server's keys up to date with the schedule (see [`KeyRing::maintain`]); what
    /// the directory holds of them is dropped if they changed.
    pub async fn maintain_keys(&self, server: &AuthServer) -> Result<()> {
        let maintained = self.keys.maintain(server).await?;
        if maintained.changed {
            self.directory.drop_all();
        }
        if maintained.activated {
            self.metrics.count(
                "authd_key_rotations_total",
                &[("server", server.id.as_str())],
            );
        }
        Ok(())
    }

    /// Rotates a server's keys now (see [`KeyRing::rotate_now`]), dropping what the directory
    /// holds of them.
    pub async fn rotate_keys(&self, server: &AuthServer) -> Result<crate::store::RotationOutcome> {
        let outcome = self.keys.rotate_now(server).await?;
        self.directory.drop_all();
        if outcome == crate::store::RotationOutcome::Applied {
            self.metrics.count(
                "authd_key_rotations_total",
                &[("server", server.id.as_str())],
            );
        }
        Ok(outcome)
    }

    /// Every authorization server, active or not, the org server first.
    pub async fn auth_servers(&self) -> Result<Vec<AuthServer>> {
        Ok(self.store.list_auth_servers().await?)
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
