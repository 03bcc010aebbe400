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
}

impl SignIn {
    /// The service over the store, with the configured rules.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        passwords: Passwords,
        settings: SignInSettings,
        lifetimes: Lifetimes,
        attempt_key: ring::hmac::Key,
        metrics: Metrics,
    ) -> Self {
        Self {
            store,
            clock,
            passwords,
            per_ip: Arc::new(RateLimiter::new(settings.rate_limit_per_ip)),
            settings,
            lifetimes,
            attempt_key: Arc::new(attempt_key),
            metrics,
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
