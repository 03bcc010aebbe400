//! OAuth 2.0 and OpenID Connect: the authorization endpoint and logout, the token endpoint
//! with its grants, client authentication, token minting, introspection, revocation,
//! userinfo and the published keys.

pub mod access;
pub mod authorize;
pub mod claims;
pub mod client_auth;
pub(crate) mod governance;
mod grants;
pub mod mint;
pub mod pkce;
pub mod scope;
pub mod token;

use std::sync::Arc;

use crate::clock::Clock;
use crate::keys::seal::Sealer;
use crate::metrics::Metrics;
use crate::model::{AuthServerId, Client, Document, Timestamp, User};
use crate::store::Store;

use super::client_secrets::SecretHasher;
use super::directory::Directory;
use super::lifetimes::Lifetimes;
use super::sign_in::SignIn;
use super::system_log::SystemLog;
use super::Result;

/// The OAuth service.
#[derive(Clone)]
pub struct OAuth {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    directory: Arc<Directory>,
    sign_in: SignIn,
    lifetimes: Lifetimes,
    secret_hasher: Arc<SecretHasher>,
    /// Seals a rotated refresh token's successor, kept for the rotation leeway.
    successor_sealer: Arc<Sealer>,
    expressions: Arc<claims::ParsedExpressions>,
    memberships: Arc<crate::engine::memberships::MembershipCache>,
    base_url: String,
    metrics: Metrics,
    log: SystemLog,
}

/// Okta's words for a user who is neither assigned to the app nor in a group assigned to it.
const NOT_ASSIGNED: &str = "User is not assigned to the client application.";

/// What the OAuth service is built from.
pub struct OAuthParts {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Servers and apps as requests read them.
    pub directory: Arc<Directory>,
    /// Sessions, and the password grant's sign-in.
    pub sign_in: SignIn,
    /// Token lifetimes.
    pub lifetimes: Lifetimes,
    /// Checks client secrets.
    pub secret_hasher: Arc<SecretHasher>,
    /// Seals rotated refresh tokens' successors.
    pub successor_sealer: Sealer,
    /// The issuer's base URL.
    pub base_url: String,
    /// Counts the tokens issued.
    pub metrics: Metrics,
    /// Records failed token requests and policy denials.
    pub system_log: SystemLog,
}

impl OAuth {
    /// The service over its parts.
    pub fn new(parts: OAuthParts) -> Self {
        Self {
            store: parts.store,
            clock: parts.clock,
            directory: parts.directory,
            sign_in: parts.sign_in,
            lifetimes: parts.lifetimes,
            secret_hasher: parts.secret_hasher,
            successor_sealer: Arc::new(parts.successor_sealer),
            expressions: Arc::default(),
            memberships: Arc::default(),
            base_url: parts.base_url,
            metrics: parts.metrics,
            log: parts.system_log,
        }
    }

    /// The published JWKS of an active server, from the directory: only the first request after
    /// start or a change touches the database.
    pub async fn jwks(&self, id: &AuthServerId) -> Result<Document> {
        self.directory.jwks(id).await
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

impl OAuth {
    /// Whether the user may sign in to the app: assigned directly, through a group, or
    /// through `Everyone`. (Client credentials have no user, and are never asked about.)
    pub(crate) async fn is_assigned(&self, client: &Client, user: &User) -> Result<bool> {
        Ok(self
            .store
            .is_assigned(client.id.as_str(), user.id.as_str())
            .await?)
    }
}
