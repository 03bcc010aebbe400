//! Signing in: Okta's Authentication API, the hosted page's sign-in, sessions, passwords,
//! lockout and the sign-in rate limits. Every sign-in (the Authentication API, the sign-in page,
//! the password grant) goes through [`SignIn`], so all of them share the limits and the
//! lockout.

pub mod authn;
pub mod passwords;
pub mod rate_limit;
pub mod sessions;

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::SignInSettings;
use crate::metrics::Metrics;
use crate::model::{LockoutPolicy, Timestamp, User, UserId};
use crate::store::{self, Store};

use super::lifetimes::Lifetimes;
use super::system_log::SystemLog;
use super::{Error, Result};
use passwords::Passwords;
use rate_limit::RateLimiter;

/// The sign-in service.
#[derive(Clone)]
pub struct SignIn {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    passwords: Passwords,
    settings: SignInSettings,
    lifetimes: Lifetimes,
    per_ip: Arc<RateLimiter>,
    /// Keys the per-username attempt counters, so that the database holds no logins in them.
    attempt_key: Arc<ring::hmac::Key>,
    metrics: Metrics,
    log: SystemLog,
}

/// What the sign-in service is built from.
pub struct SignInParts {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Password hashing.
    pub passwords: Passwords,
    /// The configured rules.
    pub settings: SignInSettings,
    /// Session token lifetimes.
    pub lifetimes: Lifetimes,
    /// Keys the per-username attempt counters.
    pub attempt_key: ring::hmac::Key,
    /// Counts sign-ins, lockouts and rate limits.
    pub metrics: Metrics,
    /// Records sign-ins, lockouts, sessions and password changes.
    pub log: SystemLog,
}

impl SignIn {
    /// The service over its parts.
    pub fn new(parts: SignInParts) -> Self {
        Self {
            store: parts.store,
            clock: parts.clock,
            passwords: parts.passwords,
            per_ip: Arc::new(RateLimiter::new(parts.settings.rate_limit_per_ip)),
            settings: parts.settings,
            lifetimes: parts.lifetimes,
            attempt_key: Arc::new(parts.attempt_key),
            metrics: parts.metrics,
            log: parts.log,
        }
    }

    /// How many failed passwords lock a user out, and for how long.
    pub fn lockout_policy(&self) -> LockoutPolicy {
        LockoutPolicy {
            threshold: self.settings.lockout_threshold,
            duration: self.settings.lockout_duration,
        }
    }

    /// The user with this login (case-insensitive).
    pub async fn user_by_login(&self, login: &str) -> Result<User> {
        match self.store.get_user_by_login(login).await {
            Ok(user) => Ok(user),
            Err(store::Error::NotFound) => Err(Error::NotFound {
                kind: "User",
                id: login.to_owned(),
            }),
            Err(err) => Err(err.into()),
        }
    }

    /// A new password ends what the old one started (Okta's `revokeSessions`): the user's
    /// sessions, refresh token families, and every token issued before `now`.
    pub(crate) async fn end_access_after_password_change(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<()> {
        let until = now.plus(self.lifetimes.longest_token().await?);
        self.store.end_user_access(user, now, until).await?;
        tracing::info!(user.id = %user, "sessions and tokens from before the password change ended");
        Ok(())
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
