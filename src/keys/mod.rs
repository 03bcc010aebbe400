//! Signing keys: generation, sealing at rest, rotation, and a server's keys opened for use
//! (the active signer, the pre-serialized JWKS and the verifiers), which the engine's
//! directory holds.
//!
//! Depends on `model`, `store` (the trait) and `config` settings; knows nothing of HTTP.

pub mod generate;
pub mod rotation;
pub mod seal;
pub mod sign;

use std::sync::Arc;

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
    pub loaded_at: crate::model::Timestamp,
}

impl ServerKeys {
    /// The published key with this `kid` for this algorithm.
    pub fn verifier(&self, kid: &str, algorithm: jsonwebtoken::Algorithm) -> Option<&Verifier> {
        self.verifiers
            .iter()
            .find(|verifier| verifier.kid == kid && verifier.algorithm == algorithm)
    }
}

/// What one pass of key maintenance did to a server's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Maintenance {
    /// Some key was added, activated or removed.
    pub changed: bool,
    /// A key began to sign: the server's first, or a rotation.
    pub activated: bool,
}

/// A published public key, ready to verify signatures.
pub struct Verifier {
    /// Its `kid`.
    pub kid: String,
    /// The algorithm it verifies.
    pub algorithm: jsonwebtoken::Algorithm,
    /// The key.
    pub key: jsonwebtoken::DecodingKey,
}

/// Every server's keys: read and opened for signing and verifying, and the operations that
/// change them. Nothing is held here: the engine's directory holds each server's keys with the
/// server, and drops them with it after a change.
pub struct KeyRing {
    store: Arc<dyn Store>,
    sealer: Sealer,
    clock: Arc<dyn Clock>,
    settings: KeySettings,
    source: Arc<dyn KeySource>,
}

impl KeyRing {
    /// A key ring over the store's keys.
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

    /// Reads the server's keys from the store: the signer, the JWKS and the verifiers.
    pub async fn load(&self, id: &AuthServerId) -> Result<Arc<ServerKeys>> {
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
        Ok(Arc::new(ServerKeys {
            signer,
            jwks: Document::json(&json!({ "keys": jwks })),
            verifiers,
            loaded_at: now,
        }))
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
    /// creates missing ones, rotates when due. What it changed, so that what holds them reads
    /// them again. Safe to run on every replica at once.
    pub async fn maintain(&self, server: &AuthServer) -> Result<Maintenance> {
        let now = self.clock.now();
        let purged = self.store.purge_retired_keys(&server.id, now).await?;
        if purged > 0 {
            tracing::info!(as.id = %server.id, count = purged, "removed retired signing keys from the JWKS");
        }
        let keys = self.store.list_keys(&server.id).await?;
        let due = rotation::scheduled(&keys, now, &self.settings);
        let activates = matches!(due, Due::Bootstrap | Due::Rotate);
        let outcome = match due {
            Due::Nothing => RotationOutcome::Superseded,
            Due::Bootstrap => {
                self.apply(&keys, server, self.bootstrap(server).await?)
                    .await?
            }
            Due::AddNext => {
                let next = self.new_key(server).await?;
                self.apply(&keys, server, KeyChange::AddNext { next })
                    .await?
            }
            Due::Rotate => self.rotate_from(&keys, server).await?,
        };
        let applied = outcome == RotationOutcome::Applied;
        Ok(Maintenance {
            changed: purged > 0 || applied,
            activated: activates && applied,
        })
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
