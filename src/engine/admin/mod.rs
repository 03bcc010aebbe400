//! Administration through Okta's management API: users, apps and their secrets,
//! authorization servers with their scopes, claims, policies and keys, trusted origins, API
//! tokens and the System Log. Each change to what the directory holds drops it here, once the
//! change is stored.

pub mod api_tokens;
pub mod apps;
pub mod assignments;
pub mod auth_servers;
pub mod groups;
pub mod policies;
pub mod trusted_origins;
pub mod users;

pub use api_tokens::BOOTSTRAP_ACTOR;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::keys::KeyRing;
use crate::model::{Timestamp, TokenHash};
use crate::store::Store;

use super::client_secrets::SecretHasher;
use super::directory::Directory;
use super::lifetimes::Lifetimes;
use super::sign_in::passwords::Passwords;
use super::sign_in::rate_limit::RateLimiter;
use super::sign_in::SignIn;

/// Failed API token attempts an IP may make in a minute before its attempts are refused.
const API_TOKEN_FAILURES_PER_MINUTE: u32 = 10;

/// The administration service.
#[derive(Clone)]
pub struct Admin {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    directory: Arc<Directory>,
    keys: Arc<KeyRing>,
    passwords: Passwords,
    sign_in: SignIn,
    lifetimes: Lifetimes,
    secret_hasher: Arc<SecretHasher>,
    fingerprint_key: Arc<ring::hmac::Key>,
    /// Failed `SSWS` attempts per IP: past the limit, the IP's attempts are refused unchecked.
    api_token_failures: Arc<RateLimiter>,
    api_token_window: Duration,
    bootstrap_token: Option<TokenHash>,
}

/// What the administration service is built from.
pub struct AdminParts {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// What requests read.
    pub directory: Arc<Directory>,
    /// Signing keys.
    pub keys: Arc<KeyRing>,
    /// Password hashing.
    pub passwords: Passwords,
    /// Sign-in, for what a password change ends and a lockout undoes.
    pub sign_in: SignIn,
    /// Token lifetimes, for how long a revocation lasts.
    pub lifetimes: Lifetimes,
    /// Hashes client secrets.
    pub secret_hasher: Arc<SecretHasher>,
    /// Keys the fingerprints of client secrets shown to administrators.
    pub fingerprint_key: ring::hmac::Key,
    /// How long an unused API token lasts.
    pub api_token_window: Duration,
    /// The hash of `AUTHD_ADMIN_TOKEN`, if set.
    pub bootstrap_token: Option<TokenHash>,
}

impl Admin {
    /// The service over its parts.
    pub fn new(parts: AdminParts) -> Self {
        Self {
            store: parts.store,
            clock: parts.clock,
            directory: parts.directory,
            keys: parts.keys,
            passwords: parts.passwords,
            sign_in: parts.sign_in,
            lifetimes: parts.lifetimes,
            secret_hasher: parts.secret_hasher,
            fingerprint_key: Arc::new(parts.fingerprint_key),
            api_token_failures: Arc::new(RateLimiter::new(API_TOKEN_FAILURES_PER_MINUTE)),
            api_token_window: parts.api_token_window,
            bootstrap_token: parts.bootstrap_token,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
