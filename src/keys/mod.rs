//! Signing keys: generation, sealing at rest, rotation, and the per-server cache of the
//! active signer and the pre-serialized JWKS.
//!
//! Depends on `model`, `store` (the trait) and `config` settings; knows nothing of HTTP.

pub mod generate;
pub mod rotation;
pub mod seal;
pub mod sign;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::json;

use crate::clock::Clock;
use crate::config::{KeySettings, SecretKey};
use crate::model::{AuthServer, AuthServerId, Document, KeyState, Kid, SigningKey};
use crate::store::{self, KeyChange, RotationOutcome, RotationPlan, Store};

pub use generate::{Generator, KeySource};
use rotation::Due;
use seal::Sealer;
pub use sign::Signer;

/// Key failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A sealed private key does not open with the configured secret.
    #[error(
        "AUTHD_SECRET_KEY does not open the signing keys stored in the database: it is not the \
         secret they were sealed with"
    )]
    WrongSecret,
    /// A cryptographic primitive failed.
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
    /// The server has no ACTIVE key (it has never been bootstrapped).
    #[error("authorization server {0} has no active signing key")]
    NoActiveKey(AuthServerId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Results of key operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One server's keys as served: the signer and the JWKS.
pub struct ServerKeys {
    /// Signs new tokens; `None` until the server's keys are bootstrapped.
    pub signer: Option<Arc<Signer>>,
    /// `{"keys":[…]}`: ACTIVE, NEXT and still-valid RETIRED public keys.
    pub jwks: Document,
    /// The published keys, parsed for verifying this server's own tokens.
    pub verifiers: Vec<Verifier>,
    /// When they were read from the store.
    loaded_at: crate::model::Timestamp,
}

impl ServerKeys {
    /// The published key with this `kid` for this algorithm.
    pub fn verifier(&self, kid: &str, algorithm: jsonwebtoken::Algorithm) -> Option<&Verifier> {
        self.verifiers
            .iter()
            .find(|verifier| verifier.kid == kid && verifier.algorithm == algorithm)
    }
}

/// How often a `kid` this replica does not know may make it re-read a server's keys: another
/// replica may have rotated them a moment ago, but random `kid`s must not turn every request
/// into a database read.
const UNKNOWN_KID_RELOAD_INTERVAL_SECONDS: i64 = 1;

/// A published public key, ready to verify signatures.
pub struct Verifier {
    /// Its `kid`.
    pub kid: String,
    /// The algorithm it verifies.
    pub algorithm: jsonwebtoken::Algorithm,
    /// The key.
    pub key: jsonwebtoken::DecodingKey,
}

/// Every server's keys, cached, and the operations that change them.
pub struct KeyRing {
    store: Arc<dyn Store>,
    sealer: Sealer,
    clock: Arc<dyn Clock>,
    settings: KeySettings,
    servers: RwLock<HashMap<AuthServerId, Arc<ServerKeys>>>,
    /// Bumped by every drop of the cache: keys read before a drop are not kept after it.
    generation: AtomicU64,
    source: Arc<dyn KeySource>,
}

impl KeyRing {
    /// A key ring with an empty cache.
    pub fn new(
        store: Arc<dyn Store>,
        secret: &SecretKey,
        clock: Arc<dyn Clock>,
        settings: KeySettings,
    ) -> Result<Self> {
        Ok(Self {
            store,
            sealer: Sealer::new(secret.expose())?,
            clock,
            settings,
            servers: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            source: Arc::new(Generator),
        })
    }

    /// The same key ring, taking its new key pairs from `source`.
    pub fn with_source(self, source: Arc<dyn KeySource>) -> Self {
        Self { source, ..self }
    }

    /// The lifecycle settings in force.
    pub fn settings(&self) -> &KeySettings {
        &self.settings
    }

    /// The server's keys, from the cache or else the store.
    pub async fn server_keys(&self, id: &AuthServerId) -> Result<Arc<ServerKeys>> {
        if let Some(keys) = self.cached(id) {
            return Ok(keys);
        }
        self.reload(id).await
    }

    /// The signer for new tokens of this server.
    pub async fn signer(&self, id: &AuthServerId) -> Result<Arc<Signer>> {
        self.server_keys(id)
            .await?
            .signer
            .clone()
            .ok_or_else(|| Error::NoActiveKey(id.clone()))
    }

    /// The server's keys that hold a verifier for `kid` and `algorithm`, if any is published.
    /// A `kid` missing from the cache re-reads the store first (at most once a second), so a
    /// token signed with a key that another replica has just rotated in is not rejected here.
    pub async fn keys_verifying(
        &self,
        id: &AuthServerId,
        kid: &str,
        algorithm: jsonwebtoken::Algorithm,
    ) -> Result<Option<Arc<ServerKeys>>> {
        let keys = self.server_keys(id).await?;
        if keys.verifier(kid, algorithm).is_some() {
            return Ok(Some(keys));
        }
        if self.clock.now().unix() - keys.loaded_at.unix() < UNKNOWN_KID_RELOAD_INTERVAL_SECONDS {
            return Ok(None);
        }
        let keys = self.reload(id).await?;
        Ok(keys.verifier(kid, algorithm).is_some().then_some(keys))
    }

    /// Drops every server's keys from the cache: the directory changed (here or on another
    /// replica), and the next use reads them again.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.servers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// The server's keys if they are cached.
    pub fn cached(&self, id: &AuthServerId) -> Option<Arc<ServerKeys>> {
        self.servers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// Reads the server's keys from the store and replaces the cached signer and JWKS.
    pub async fn reload(&self, id: &AuthServerId) -> Result<Arc<ServerKeys>> {
        let generation = self.generation.load(Ordering::Acquire);
        let keys = self.store.list_keys(id).await?;
        let now = self.clock.now();
        let mut published: Vec<&SigningKey> = keys
            .iter()
            .filter(|key| rotation::is_published(key, now))
            .collect();
        published.sort_by_key(|key| match key.state {
            KeyState::Active => 0,
            KeyState::Next => 1,
            KeyState::Retired => 2,
        });
        let jwks: Vec<serde_json::Value> = published
            .iter()
            .map(|key| serde_json::from_str(&key.public_jwk))
            .collect::<Result<_, _>>()
            .map_err(|_| store::Error::Corrupt(format!("public JWK of a key of {id}")))?;
        let verifiers = published
            .iter()
            .zip(&jwks)
            .filter_map(|(key, jwk)| {
                let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).ok()?;
                let algorithm = match key.alg {
                    crate::model::SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
                    crate::model::SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
                    crate::model::SigningAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
                };
                Some(Verifier {
                    kid: key.kid.to_string(),
                    algorithm,
                    key: jsonwebtoken::DecodingKey::from_jwk(&jwk).ok()?,
                })
            })
            .collect();
        let signer = match rotation::current(&keys).0 {
            Some(active) => Some(Arc::new(self.open(active)?)),
            None => None,
        };
        let server_keys = Arc::new(ServerKeys {
            signer,
            jwks: Document::json(&json!({ "keys": jwks })),
            verifiers,
            loaded_at: now,
        });
        let mut servers = self
            .servers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Checked under the lock `forget_all` clears under: keys read before a drop are either
        // refused here or cleared there.
        if self.generation.load(Ordering::Acquire) == generation {
            servers.insert(id.clone(), server_keys.clone());
        }
        Ok(server_keys)
    }

    /// Every stored key of the server (all states, newest first), private halves still sealed.
    pub async fn stored_keys(&self, id: &AuthServerId) -> Result<Vec<SigningKey>> {
        Ok(self.store.list_keys(id).await?)
    }

    /// Opens every stored key of the server, so that a wrong secret stops start-up instead of
    /// the first token request.
    pub async fn check_secret(&self, id: &AuthServerId) -> Result<()> {
        for key in self.store.list_keys(id).await? {
            self.sealer
                .open(key.kid.as_str(), &key.sealed_private_key)?;
        }
        Ok(())
    }

    /// Brings the server's keys up to date with the schedule: removes expired RETIRED keys,
    /// creates missing ones, rotates when due, then reloads the cache. Safe to run on every
    /// replica at once.
    pub async fn maintain(&self, server: &AuthServer) -> Result<()> {
        let now = self.clock.now();
        let purged = self.store.purge_retired_keys(&server.id, now).await?;
        if purged > 0 {
            self.forget_all();
            tracing::info!(as.id = %server.id, count = purged, "removed retired signing keys from the JWKS");
        }
        let keys = self.store.list_keys(&server.id).await?;
        match rotation::scheduled(&keys, now, &self.settings) {
            Due::Nothing => {}
            Due::Bootstrap => {
                self.apply(&keys, server, self.bootstrap(server).await?)
                    .await?;
            }
            Due::AddNext => {
                let next = self.new_key(server).await?;
                self.apply(&keys, server, KeyChange::AddNext { next })
                    .await?;
            }
            Due::Rotate => {
                self.rotate_from(&keys, server).await?;
            }
        }
        self.reload(&server.id).await?;
        Ok(())
    }

    /// Rotates now, whatever the schedule: NEXT signs at once (as Okta's `keyRotate`), ACTIVE
    /// retires and a new NEXT is published. Of concurrent calls, only one rotates.
    /// A server that has no keys yet gets its first ones instead.
    pub async fn rotate_now(&self, server: &AuthServer) -> Result<RotationOutcome> {
        let keys = self.store.list_keys(&server.id).await?;
        let outcome = match rotation::current(&keys) {
            (None, _) => {
                self.apply(&keys, server, self.bootstrap(server).await?)
                    .await?
            }
            (Some(_), _) => self.rotate_from(&keys, server).await?,
        };
        self.reload(&server.id).await?;
        Ok(outcome)
    }

    async fn rotate_from(
        &self,
        keys: &[SigningKey],
        server: &AuthServer,
    ) -> Result<RotationOutcome> {
        let fallback_active = match rotation::current(keys).1 {
            Some(_) => None,
            None => Some(self.new_key(server).await?),
        };
        let next = self.new_key(server).await?;
        // A server with longer-lived tokens keeps its retired keys longer.
        let own = server.token_lifetimes;
        let longest_own = own.access_token.max(own.id_token).unwrap_or(0);
        let settings = KeySettings {
            max_token_lifetime: self
                .settings
                .max_token_lifetime
                .max(std::time::Duration::from_secs(longest_own)),
            ..self.settings
        };
        let change = KeyChange::Rotate {
            retired_remove_after: rotation::remove_after(self.clock.now(), &settings),
            fallback_active,
            next,
        };
        self.apply(keys, server, change).await
    }

    async fn apply(
        &self,
        seen: &[SigningKey],
        server: &AuthServer,
        change: KeyChange,
    ) -> Result<RotationOutcome> {
        let (active, next) = rotation::current(seen);
        let plan = RotationPlan {
            auth_server_id: server.id.clone(),
            expected_active: active.map(|key| key.kid.clone()),
            expected_next: next.map(|key| key.kid.clone()),
            change,
            now: self.clock.now(),
        };
        let what = match &plan.change {
            KeyChange::Bootstrap { .. } => "created the first signing keys",
            KeyChange::Rotate { .. } => "rotated signing keys",
            KeyChange::AddNext { .. } => "published a next signing key",
        };
        let outcome = self.store.rotate_keys_locked(plan).await?;
        // A read of the keys begun before this change must not be kept after it.
        self.forget_all();
        match outcome {
            RotationOutcome::Applied => tracing::info!(as.id = %server.id, "{what}"),
            RotationOutcome::Superseded => {
                tracing::debug!(as.id = %server.id, "keys changed concurrently; nothing to do")
            }
        }
        Ok(outcome)
    }

    /// A new server's first ACTIVE and NEXT keys, to be stored with the server itself.
    pub async fn first_keys(&self, server: &AuthServer) -> Result<(SigningKey, SigningKey)> {
        Ok(tokio::try_join!(
            self.new_key(server),
            self.new_key(server)
        )?)
    }

    /// A server's first ACTIVE and NEXT keys, generated side by side: RSA generation is what
    /// a first start spends its time on.
    async fn bootstrap(&self, server: &AuthServer) -> Result<KeyChange> {
        let (active, next) = tokio::try_join!(self.new_key(server), self.new_key(server))?;
        Ok(KeyChange::Bootstrap { active, next })
    }

    async fn new_key(&self, server: &AuthServer) -> Result<SigningKey> {
        let alg = server.signing_alg;
        let source = self.source.clone();
        let generated = tokio::task::spawn_blocking(move || source.key_pair(alg))
            .await
            .map_err(|_| Error::Crypto("key generation task"))??;
        let sealed_private_key = self.sealer.seal(&generated.kid, &generated.pkcs8)?;
        Ok(SigningKey {
            kid: Kid::parse(generated.kid).map_err(|_| Error::Crypto("key id"))?,
            auth_server_id: server.id.clone(),
            alg,
            state: KeyState::Next,
            public_jwk: generated.public_jwk.to_string(),
            sealed_private_key,
            created_at: self.clock.now(),
            activated_at: None,
            retired_at: None,
            remove_after: None,
        })
    }

    fn open(&self, key: &SigningKey) -> Result<Signer> {
        let pkcs8 = self
            .sealer
            .open(key.kid.as_str(), &key.sealed_private_key)?;
        Signer::from_pkcs8(key.kid.clone(), key.alg, &pkcs8)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::TestClock;
    use crate::model::{IssuerMode, SigningAlg, Status, Timestamp, TokenLifetimes};

    #[tokio::test]
    async fn a_kid_the_ring_has_not_read_makes_it_read_the_keys_again_at_most_once_a_second() {
        let url = crate::config::DatabaseUrl::parse("sqlite::memory:").unwrap();
        let store = crate::store::connect(&url, Duration::from_secs(5))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(TestClock::new(Timestamp::from_unix(1_700_000_000)));
        let secret = SecretKey::parse(&"11".repeat(32)).unwrap();
        let settings = KeySettings {
            rotation_interval: Duration::from_secs(90 * 86_400),
            jwks_cache_lifetime: Duration::from_secs(300),
            check_interval: Duration::from_secs(3600),
            max_token_lifetime: Duration::from_secs(86_400),
        };
        // Two replicas' rings on one database; neither hears of the other's changes.
        let rotating = KeyRing::new(store.clone(), &secret, clock.clone(), settings).unwrap();
        let behind = KeyRing::new(store.clone(), &secret, clock.clone(), settings).unwrap();
        let now = clock.now();
        let server = AuthServer {
            id: AuthServerId::default_server(),
            name: "default".into(),
            description: String::new(),
            audiences: vec!["api://default".into()],
            issuer_mode: IssuerMode::OrgUrl,
            status: Status::Active,
            signing_alg: SigningAlg::ES256,
            scopes: vec![],
            claims: vec![],
            token_lifetimes: TokenLifetimes::default(),
            policies: vec![],
            revision: 0,
            created_at: now,
            updated_at: now,
        };
        store.insert_auth_server(&server).await.unwrap();
        rotating.maintain(&server).await.unwrap();
        behind.signer(&server.id).await.unwrap();
        // Two rotations: the new signing key was not even published when `behind` read.
        rotating.rotate_now(&server).await.unwrap();
        rotating.rotate_now(&server).await.unwrap();
        let kid = rotating.signer(&server.id).await.unwrap().kid().to_string();
        let es256 = jsonwebtoken::Algorithm::ES256;
        assert!(behind
            .cached(&server.id)
            .unwrap()
            .verifier(&kid, es256)
            .is_none());

        // Read this second already: an unknown kid does not make it read again.
        assert!(behind
            .keys_verifying(&server.id, &kid, es256)
            .await
            .unwrap()
            .is_none());
        clock.advance(Duration::from_secs(1));
        let keys = behind
            .keys_verifying(&server.id, &kid, es256)
            .await
            .unwrap()
            .expect("the key rotated in elsewhere is read and found");
        assert!(keys.verifier(&kid, es256).is_some());
        assert!(behind
            .keys_verifying(&server.id, "no-such-kid", es256)
            .await
            .unwrap()
            .is_none());
    }
}
