//! Administration: API tokens and the System Log.

use async_trait::async_trait;

use crate::model::{Actor, ApiToken, AuditEvent, Timestamp, TokenHash};

use super::query::json_list;
use super::{Error, Result};

/// API tokens and the audit log.
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
    /// Appends an audit event.
    async fn insert_audit_event(&self, event: &AuditEvent) -> Result<()>;
    /// Audit events published in `[since, until)`, oldest first, at most `limit`.
    async fn list_audit_events(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<AuditEvent>>;
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
pub(super) const INSERT_AUDIT_EVENT: &str =
    "INSERT INTO audit_events (uuid, published, event_type, \
     display_message, outcome, actor_id, actor_name, targets, client_ip, request_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
pub(super) const LIST_AUDIT_EVENTS: &str = "SELECT uuid, published, event_type, display_message, \
     outcome, actor_id, actor_name, targets, client_ip, request_id FROM audit_events \
     WHERE published >= $1 AND published < $2 ORDER BY published, uuid LIMIT $3";

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
pub(super) struct AuditEventRow {
    uuid: String,
    published: i64,
    event_type: String,
    display_message: String,
    outcome: String,
    actor_id: String,
    actor_name: String,
    targets: String,
    client_ip: Option<String>,
    request_id: Option<String>,
}

impl TryFrom<AuditEventRow> for AuditEvent {
    type Error = Error;

    fn try_from(row: AuditEventRow) -> Result<Self, Error> {
        Ok(AuditEvent {
            uuid: row.uuid,
            published: Timestamp::from_unix(row.published),
            event_type: row.event_type,
            display_message: row.display_message,
            outcome: row.outcome,
            actor: Actor {
                id: row.actor_id,
                name: row.actor_name,
            },
            targets: json_list(&row.targets)?,
            client_ip: row.client_ip,
            request_id: row.request_id,
        })
    }
}

/// Implements [`AdminStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::{ApiToken, AuditEvent, Timestamp, TokenHash};
        use $crate::store::admin::{self as sql, AdminStore, ApiTokenRow, AuditEventRow};
        use $crate::store::query::{json, Fetch, Run};
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

            async fn insert_audit_event(&self, event: &AuditEvent) -> Result<()> {
                sqlx::query(sql::INSERT_AUDIT_EVENT)
                    .bind(&event.uuid)
                    .bind(event.published.unix())
                    .bind(&event.event_type)
                    .bind(&event.display_message)
                    .bind(&event.outcome)
                    .bind(&event.actor.id)
                    .bind(&event.actor.name)
                    .bind(json(&event.targets))
                    .bind(event.client_ip.as_deref())
                    .bind(event.request_id.as_deref())
                    .run(&self.pool)
                    .await?;
                Ok(())
            }

            async fn list_audit_events(
                &self,
                since: Timestamp,
                until: Timestamp,
                limit: u32,
            ) -> Result<Vec<AuditEvent>> {
                sqlx::query_as::<_, AuditEventRow>(sql::LIST_AUDIT_EVENTS)
                    .bind(since.unix())
                    .bind(until.unix())
                    .bind(i64::from(limit))
                    .all(&self.pool)
                    .await
            }
        }
    };
}

pub(super) use implement;
