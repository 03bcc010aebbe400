//! Administration: API tokens and the System Log.

use async_trait::async_trait;

use crate::model::{ApiToken, LogRange, StoredLogEvent, Timestamp, TokenHash};

use super::{Error, Result};

/// API tokens and the System Log.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Stores a new API token by its hash.
    async fn insert_api_token(&self, token: &ApiToken, hash: &TokenHash) -> Result<()>;
    /// The token with this hash, marking it used at `now`, unless it has not been used since
    /// `unused_since` (expired).
    async fn use_api_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
        unused_since: Timestamp,
    ) -> Result<Option<ApiToken>>;
    /// Every API token, oldest first.
    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>>;
    /// Deletes an API token; whether there was one.
    async fn delete_api_token(&self, id: &str) -> Result<bool>;
    /// Appends a System Log event (its `sequence` is given by the store).
    async fn append_log_event(&self, published_ms: i64, event_type: &str, json: &str)
        -> Result<()>;
    /// System Log events in `range`, in the order they were written (or its reverse).
    async fn log_events(&self, range: &LogRange) -> Result<Vec<StoredLogEvent>>;
    /// Deletes the events published before `before_ms`; how many.
    async fn prune_log_events(&self, before_ms: i64) -> Result<u64>;
}

pub(super) const INSERT_API_TOKEN: &str =
    "INSERT INTO api_tokens (id, name, token_hash, created_at) \
     VALUES ($1, $2, $3, $4)";
// A token unused since `$3` has expired: it is refused, and left for an administrator to see.
pub(super) const USE_API_TOKEN: &str =
    "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 \
     AND COALESCE(last_used_at, created_at) > $3 \
     RETURNING id, name, created_at, last_used_at";
pub(super) const LIST_API_TOKENS: &str =
    "SELECT id, name, created_at, last_used_at FROM api_tokens ORDER BY created_at, id";
pub(super) const DELETE_API_TOKEN: &str = "DELETE FROM api_tokens WHERE id = $1";
pub(super) const APPEND_LOG_EVENT: &str =
    "INSERT INTO system_log (published_ms, event_type, event) VALUES ($1, $2, $3)";
pub(super) const LOG_EVENTS_ASCENDING: &str = "SELECT seq, published_ms, event_type, event \
     FROM system_log WHERE published_ms >= $1 AND published_ms < $2 \
     AND ($3 IS NULL OR event_type = $3) AND seq > COALESCE($4, -1) ORDER BY seq LIMIT $5";
pub(super) const LOG_EVENTS_DESCENDING: &str = "SELECT seq, published_ms, event_type, event \
     FROM system_log WHERE published_ms >= $1 AND published_ms < $2 \
     AND ($3 IS NULL OR event_type = $3) AND seq < COALESCE($4, 9223372036854775807) \
     ORDER BY seq DESC LIMIT $5";
pub(super) const PRUNE_LOG_EVENTS: &str = "DELETE FROM system_log WHERE published_ms < $1";

#[derive(sqlx::FromRow)]
pub(super) struct ApiTokenRow {
    id: String,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl TryFrom<ApiTokenRow> for ApiToken {
    type Error = Error;

    fn try_from(row: ApiTokenRow) -> Result<Self, Error> {
        Ok(ApiToken {
            id: row.id,
            name: row.name,
            created_at: Timestamp::from_unix(row.created_at),
            last_used_at: row.last_used_at.map(Timestamp::from_unix),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct LogEventRow {
    seq: i64,
    published_ms: i64,
    event_type: String,
    event: String,
}

impl TryFrom<LogEventRow> for StoredLogEvent {
    type Error = Error;

    fn try_from(row: LogEventRow) -> Result<Self, Error> {
        Ok(StoredLogEvent {
            sequence: row.seq,
            published_ms: row.published_ms,
            event_type: row.event_type,
            json: row.event,
        })
    }
}

/// Implements [`AdminStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::{ApiToken, LogRange, StoredLogEvent, Timestamp, TokenHash};
        use $crate::store::admin::{self as sql, AdminStore, ApiTokenRow, LogEventRow};
        use $crate::store::query::{Fetch, Run};
        use $crate::store::Result;

        #[async_trait::async_trait]
        impl AdminStore for $store {
            async fn insert_api_token(&self, token: &ApiToken, hash: &TokenHash) -> Result<()> {
                sqlx::query(sql::INSERT_API_TOKEN)
                    .bind(&token.id)
                    .bind(&token.name)
                    .bind(hash.as_str())
                    .bind(token.created_at.unix())
                    .run(&self.pool)
                    .await?;
                Ok(())
            }

            async fn use_api_token(
                &self,
                hash: &TokenHash,
                now: Timestamp,
                unused_since: Timestamp,
            ) -> Result<Option<ApiToken>> {
                sqlx::query_as::<_, ApiTokenRow>(sql::USE_API_TOKEN)
                    .bind(hash.as_str())
                    .bind(now.unix())
                    .bind(unused_since.unix())
                    .optional(&self.pool)
                    .await
            }

            async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
                sqlx::query_as::<_, ApiTokenRow>(sql::LIST_API_TOKENS)
                    .all(&self.pool)
                    .await
            }

            async fn delete_api_token(&self, id: &str) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_API_TOKEN)
                    .bind(id)
                    .run(&self.pool)
                    .await?;
                Ok(deleted > 0)
            }

            async fn append_log_event(
                &self,
                published_ms: i64,
                event_type: &str,
                json: &str,
            ) -> Result<()> {
                sqlx::query(sql::APPEND_LOG_EVENT)
                    .bind(published_ms)
                    .bind(event_type)
                    .bind(json)
                    .run(&self.pool)
                    .await?;
                Ok(())
            }

            async fn log_events(&self, range: &LogRange) -> Result<Vec<StoredLogEvent>> {
                let query = if range.descending {
                    sql::LOG_EVENTS_DESCENDING
                } else {
                    sql::LOG_EVENTS_ASCENDING
                };
                sqlx::query_as::<_, LogEventRow>(query)
                    .bind(range.since_ms)
                    .bind(range.until_ms)
                    .bind(range.event_type.as_deref())
                    .bind(range.after)
                    .bind(i64::from(range.limit))
                    .all(&self.pool)
                    .await
            }

            async fn prune_log_events(&self, before_ms: i64) -> Result<u64> {
                sqlx::query(sql::PRUNE_LOG_EVENTS)
                    .bind(before_ms)
                    .run(&self.pool)
                    .await
            }
        }
    };
}

pub(super) use implement;
