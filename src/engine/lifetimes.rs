//! Token lifetimes: the configured defaults, what a server sets for itself, and how long a
//! revocation must be remembered.

use std::sync::Arc;
use std::time::Duration;

use crate::config::TokenSettings;
use crate::model::AuthServer;
use crate::store::Store;

use super::Result;

/// Token lifetimes in force.
#[derive(Clone)]
pub struct Lifetimes {
    store: Arc<dyn Store>,
    defaults: TokenSettings,
}

impl Lifetimes {
    /// The configured defaults, with servers' own read from `store`.
    pub fn new(store: Arc<dyn Store>, defaults: TokenSettings) -> Self {
        Self { store, defaults }
    }

    /// The configured defaults.
    pub fn defaults(&self) -> TokenSettings {
        self.defaults
    }

    /// The token lifetimes of a server: its own where it sets them, the configuration's
    /// otherwise.
    pub fn of(&self, server: &AuthServer) -> TokenSettings {
        let own = server.token_lifetimes;
        let pick = |own: Option<u64>, default: Duration| own.map_or(default, Duration::from_secs);
        TokenSettings {
            access_token_lifetime: pick(own.access_token, self.defaults.access_token_lifetime),
            id_token_lifetime: pick(own.id_token, self.defaults.id_token_lifetime),
            refresh_token_idle_lifetime: pick(
                own.refresh_token_idle,
                self.defaults.refresh_token_idle_lifetime,
            ),
            refresh_token_max_lifetime: pick(
                own.refresh_token_max,
                self.defaults.refresh_token_max_lifetime,
            ),
        }
    }

    /// How long any token issued now could live, refresh token families included: how long a
    /// revocation must be remembered.
    pub async fn longest_token(&self) -> Result<Duration> {
        let servers = self.store.list_auth_servers().await?;
        let minutes = |m: Option<u64>| m.map(|m| Duration::from_secs(m.saturating_mul(60)));
        let longest_own = servers
            .iter()
            .filter_map(|server| server.token_lifetimes.refresh_token_max)
            .map(Duration::from_secs);
        let longest_rule = servers
            .iter()
            .flat_map(|server| &server.policies)
            .flat_map(|policy| &policy.rules)
            .filter_map(|rule| minutes(rule.refresh_token_lifetime_minutes));
        let longest_access = Self::longest_access_token_of(&servers, self.defaults);
        Ok(longest_own
            .chain(longest_rule)
            .chain([self.defaults.refresh_token_max_lifetime])
            .max()
            .unwrap_or(self.defaults.refresh_token_max_lifetime)
            .max(longest_access))
    }

    /// How long an access token issued now could live: the configuration's lifetime, a
    /// server's own, or a policy rule's, which is at most a day (as Okta).
    fn longest_access_token_of(servers: &[AuthServer], defaults: TokenSettings) -> Duration {
        let longest_own = servers
            .iter()
            .filter_map(|server| server.token_lifetimes.access_token)
            .max()
            .map_or(Duration::ZERO, Duration::from_secs);
        defaults
            .access_token_lifetime
            .max(longest_own)
            .max(Duration::from_secs(24 * 3600))
    }
}
