//! What the seed file last applied, entry by entry.

use async_trait::async_trait;

use super::Result;

/// What the seed file last applied, per object.
#[async_trait]
pub trait SeedStore: Send + Sync {
    /// The digest recorded for a seed entry.
    async fn seed_digest(&self, kind: &str, key: &str) -> Result<Option<String>>;
    /// Records (or replaces) the digest of a seed entry.
    async fn record_seed_digest(&self, kind: &str, key: &str, digest: &str) -> Result<()>;
}

pub(super) const GET_SEED_DIGEST: &str =
    "SELECT digest FROM seed_entries WHERE kind = $1 AND key = $2";
pub(super) const RECORD_SEED_DIGEST: &str = "INSERT INTO seed_entries (kind, key, digest) \
     VALUES ($1, $2, $3) ON CONFLICT (kind, key) DO UPDATE SET digest = excluded.digest";

/// Implements [`SeedStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::store::query::Run;
        use $crate::store::seed_entries::{self as sql, SeedStore};
        use $crate::store::Result;

        #[async_trait::async_trait]
        impl SeedStore for $store {
            async fn seed_digest(&self, kind: &str, key: &str) -> Result<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as(sql::GET_SEED_DIGEST)
                    .bind(kind)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(row.map(|(digest,)| digest))
            }

            async fn record_seed_digest(&self, kind: &str, key: &str, digest: &str) -> Result<()> {
                sqlx::query(sql::RECORD_SEED_DIGEST)
                    .bind(kind)
                    .bind(key)
                    .bind(digest)
                    .run(&self.pool)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(super) use implement;
