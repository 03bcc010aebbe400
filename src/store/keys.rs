//! Signing keys and their rotation, one rotation at a time across replicas.

use async_trait::async_trait;

use crate::model::{AuthServerId, Kid, SigningKey, Timestamp};

use super::query::{parse, parse_id};
use super::{Error, Result};

/// What a key rotation should do, and what the caller saw when it planned it.
///
/// The backend applies the plan only if the server's ACTIVE and NEXT keys are still the ones
/// named here: of several replicas racing to rotate, exactly one succeeds.
#[derive(Debug, Clone)]
pub struct RotationPlan {
    /// The server whose keys change.
    pub auth_server_id: AuthServerId,
    /// The ACTIVE key's kid when the plan was made.
    pub expected_active: Option<Kid>,
    /// The NEXT key's kid when the plan was made.
    pub expected_next: Option<Kid>,
    /// What to do.
    pub change: KeyChange,
    /// When it happens.
    pub now: Timestamp,
}

/// The key changes a rotation can make.
#[derive(Debug, Clone)]
pub enum KeyChange {
    /// A server without keys gets an ACTIVE key and a NEXT key.
    Bootstrap {
        /// Becomes ACTIVE at once.
        active: SigningKey,
        /// Becomes NEXT.
        next: SigningKey,
    },
    /// ACTIVE becomes RETIRED (kept until `retired_remove_after`), NEXT becomes ACTIVE (or
    /// `fallback_active` if there is no NEXT), and `next` becomes NEXT.
    Rotate {
        /// When the retired key may leave the JWKS.
        retired_remove_after: Timestamp,
        /// Signs at once if the server has no NEXT key to promote.
        fallback_active: Option<SigningKey>,
        /// The new NEXT key.
        next: SigningKey,
    },
    /// A server with an ACTIVE key but no NEXT key gets one.
    AddNext {
        /// The new NEXT key.
        next: SigningKey,
    },
}

/// Whether a rotation plan was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The keys changed as planned.
    Applied,
    /// Someone else changed the keys first; nothing was written.
    Superseded,
}

/// Signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// A server's keys (all states), newest first.
    async fn list_keys(&self, auth_server_id: &AuthServerId) -> Result<Vec<SigningKey>>;
    /// Applies a rotation plan atomically, under a lock that serialises rotations of one server
    /// across connections and replicas.
    async fn rotate_keys_locked(&self, plan: RotationPlan) -> Result<RotationOutcome>;
    /// Deletes RETIRED keys whose `remove_after` has passed; returns how many.
    async fn purge_retired_keys(
        &self,
        auth_server_id: &AuthServerId,
        now: Timestamp,
    ) -> Result<u64>;
}

pub(super) const LIST_KEYS: &str = "SELECT kid, auth_server_id, alg, state, public_jwk, \
     sealed_private_key, created_at, activated_at, retired_at, remove_after \
     FROM signing_keys WHERE auth_server_id = $1 ORDER BY created_at DESC, kid";
pub(super) const CURRENT_KEY_KIDS: &str =
    "SELECT kid, state FROM signing_keys WHERE auth_server_id = $1 AND state <> 'RETIRED'";
pub(super) const INSERT_KEY: &str = "INSERT INTO signing_keys (kid, auth_server_id, alg, state, \
     public_jwk, sealed_private_key, created_at, activated_at, retired_at, remove_after) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
pub(super) const RETIRE_ACTIVE_KEY: &str =
    "UPDATE signing_keys SET state = 'RETIRED', retired_at = $2, \
     remove_after = $3 WHERE auth_server_id = $1 AND state = 'ACTIVE'";
pub(super) const ACTIVATE_NEXT_KEY: &str =
    "UPDATE signing_keys SET state = 'ACTIVE', activated_at = $2 \
     WHERE auth_server_id = $1 AND state = 'NEXT'";
pub(super) const PURGE_RETIRED_KEYS: &str = "DELETE FROM signing_keys \
     WHERE auth_server_id = $1 AND state = 'RETIRED' AND remove_after <= $2";

#[derive(sqlx::FromRow)]
pub(super) struct SigningKeyRow {
    kid: String,
    auth_server_id: String,
    alg: String,
    state: String,
    public_jwk: String,
    sealed_private_key: Vec<u8>,
    created_at: i64,
    activated_at: Option<i64>,
    retired_at: Option<i64>,
    remove_after: Option<i64>,
}

impl TryFrom<SigningKeyRow> for SigningKey {
    type Error = Error;

    fn try_from(row: SigningKeyRow) -> Result<Self, Error> {
        Ok(SigningKey {
            kid: parse_id(row.kid)?,
            auth_server_id: parse_id(row.auth_server_id)?,
            alg: parse(&row.alg)?,
            state: parse(&row.state)?,
            public_jwk: row.public_jwk,
            sealed_private_key: row.sealed_private_key,
            created_at: Timestamp::from_unix(row.created_at),
            activated_at: row.activated_at.map(Timestamp::from_unix),
            retired_at: row.retired_at.map(Timestamp::from_unix),
            remove_after: row.remove_after.map(Timestamp::from_unix),
        })
    }
}

/// Implements [`KeyStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty, lock_keys = $lock_keys:expr) => {
        use $crate::model::{AuthServerId, KeyState, Kid, SigningKey, Timestamp};
        use $crate::store::keys::{
            self as sql, KeyChange, KeyStore, RotationOutcome, RotationPlan, SigningKeyRow,
        };
        use $crate::store::query::{found, Fetch, Run};
        use $crate::store::{Error, Result};

        #[async_trait::async_trait]
        impl KeyStore for $store {
            async fn list_keys(&self, auth_server_id: &AuthServerId) -> Result<Vec<SigningKey>> {
                sqlx::query_as::<_, SigningKeyRow>(sql::LIST_KEYS)
                    .bind(auth_server_id.as_str())
                    .all(&self.pool)
                    .await
            }

            async fn rotate_keys_locked(&self, plan: RotationPlan) -> Result<RotationOutcome> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                let locked = sqlx::query($lock_keys)
                    .bind(plan.auth_server_id.as_str())
                    .run(&mut *tx)
                    .await?;
                found(locked)?;

                let current: Vec<(String, String)> = sqlx::query_as(sql::CURRENT_KEY_KIDS)
                    .bind(plan.auth_server_id.as_str())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let kid_in = |state: KeyState| {
                    current
                        .iter()
                        .find(|(_, s)| s == state.as_str())
                        .map(|(kid, _)| kid.as_str())
                };
                if kid_in(KeyState::Active) != plan.expected_active.as_ref().map(Kid::as_str)
                    || kid_in(KeyState::Next) != plan.expected_next.as_ref().map(Kid::as_str)
                {
                    return Ok(RotationOutcome::Superseded);
                }

                let server = plan.auth_server_id.as_str();
                match &plan.change {
                    KeyChange::Bootstrap { active, next } => {
                        insert_key(&mut tx, active, KeyState::Active, Some(plan.now)).await?;
                        insert_key(&mut tx, next, KeyState::Next, None).await?;
                    }
                    KeyChange::Rotate {
                        retired_remove_after,
                        fallback_active,
                        next,
                    } => {
                        sqlx::query(sql::RETIRE_ACTIVE_KEY)
                            .bind(server)
                            .bind(plan.now.unix())
                            .bind(retired_remove_after.unix())
                            .run(&mut *tx)
                            .await?;
                        match (&plan.expected_next, fallback_active) {
                            (Some(_), _) => {
                                sqlx::query(sql::ACTIVATE_NEXT_KEY)
                                    .bind(server)
                                    .bind(plan.now.unix())
                                    .run(&mut *tx)
                                    .await?;
                            }
                            (None, Some(active)) => {
                                insert_key(&mut tx, active, KeyState::Active, Some(plan.now))
                                    .await?;
                            }
                            (None, None) => {
                                return Err(Error::Corrupt(
                                    "rotation without a key to activate".to_owned(),
                                ))
                            }
                        }
                        insert_key(&mut tx, next, KeyState::Next, None).await?;
                    }
                    KeyChange::AddNext { next } => {
                        insert_key(&mut tx, next, KeyState::Next, None).await?;
                    }
                }
                tx.commit().await.map_err(map_err)?;
                Ok(RotationOutcome::Applied)
            }

            async fn purge_retired_keys(
                &self,
                auth_server_id: &AuthServerId,
                now: Timestamp,
            ) -> Result<u64> {
                let purged = sqlx::query(sql::PURGE_RETIRED_KEYS)
                    .bind(auth_server_id.as_str())
                    .bind(now.unix())
                    .run(&self.pool)
                    .await?;
                Ok(purged)
            }
        }

        pub(super) async fn insert_key(
            tx: &mut sqlx::Transaction<'_, Db>,
            key: &SigningKey,
            state: KeyState,
            activated_at: Option<Timestamp>,
        ) -> Result<()> {
            sqlx::query(sql::INSERT_KEY)
                .bind(key.kid.as_str())
                .bind(key.auth_server_id.as_str())
                .bind(key.alg.as_str())
                .bind(state.as_str())
                .bind(&key.public_jwk)
                .bind(&key.sealed_private_key)
                .bind(key.created_at.unix())
                .bind(activated_at.map(Timestamp::unix))
                .bind(None::<i64>)
                .bind(None::<i64>)
                .run(&mut **tx)
                .await?;
            Ok(())
        }
    };
}

pub(super) use implement;
