//! Trusted origins (CORS and redirects for sign-in from other origins).

use async_trait::async_trait;

use crate::model::{Timestamp, TrustedOrigin};

use super::query::{json_list, parse};
use super::{Error, Result};

/// Okta's Trusted Origins.
#[async_trait]
pub trait TrustedOriginStore: Send + Sync {
    /// Every trusted origin, by id.
    async fn list_trusted_origins(&self) -> Result<Vec<TrustedOrigin>>;
    /// One by id.
    async fn get_trusted_origin(&self, id: &str) -> Result<TrustedOrigin>;
    /// Stores a new one; [`Error::Conflict`] if its name or origin is taken.
    async fn insert_trusted_origin(&self, origin: &TrustedOrigin) -> Result<()>;
    /// Replaces one's name, origin, scopes and status; [`Error::NotFound`] if it is gone.
    async fn update_trusted_origin(&self, origin: &TrustedOrigin) -> Result<()>;
    /// Deletes one; whether there was one.
    async fn delete_trusted_origin(&self, id: &str) -> Result<bool>;
}

macro_rules! trusted_origin_columns {
    () => {
        "id, name, origin, scopes, status, created_at, created_by, updated_at, updated_by"
    };
}
pub(super) const LIST_TRUSTED_ORIGINS: &str = concat!(
    "SELECT ",
    trusted_origin_columns!(),
    " FROM trusted_origins ORDER BY id"
);
pub(super) const GET_TRUSTED_ORIGIN: &str = concat!(
    "SELECT ",
    trusted_origin_columns!(),
    " FROM trusted_origins WHERE id = $1"
);
pub(super) const INSERT_TRUSTED_ORIGIN: &str = "INSERT INTO trusted_origins (id, name, origin, \
     normalized, scopes, status, updated_at, updated_by, created_at, created_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
pub(super) const UPDATE_TRUSTED_ORIGIN: &str =
    "UPDATE trusted_origins SET name = $2, origin = $3, \
     normalized = $4, scopes = $5, status = $6, updated_at = $7, updated_by = $8 WHERE id = $1";
pub(super) const DELETE_TRUSTED_ORIGIN: &str = "DELETE FROM trusted_origins WHERE id = $1";

#[derive(sqlx::FromRow)]
pub(super) struct TrustedOriginRow {
    id: String,
    name: String,
    origin: String,
    scopes: String,
    status: String,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl TryFrom<TrustedOriginRow> for TrustedOrigin {
    type Error = Error;

    fn try_from(row: TrustedOriginRow) -> Result<Self, Error> {
        Ok(TrustedOrigin {
            id: row.id,
            name: row.name,
            origin: row.origin,
            scopes: json_list(&row.scopes)?,
            status: parse(&row.status)?,
            created_at: Timestamp::from_unix(row.created_at),
            created_by: row.created_by,
            updated_at: Timestamp::from_unix(row.updated_at),
            updated_by: row.updated_by,
        })
    }
}

/// Implements [`TrustedOriginStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::TrustedOrigin;
        use $crate::store::query::{found, json, Fetch, Run};
        use $crate::store::trusted_origins::{self as sql, TrustedOriginRow, TrustedOriginStore};
        use $crate::store::Result;

        #[async_trait::async_trait]
        impl TrustedOriginStore for $store {
            async fn list_trusted_origins(&self) -> Result<Vec<TrustedOrigin>> {
                sqlx::query_as::<_, TrustedOriginRow>(sql::LIST_TRUSTED_ORIGINS)
                    .all(&self.pool)
                    .await
            }

            async fn get_trusted_origin(&self, id: &str) -> Result<TrustedOrigin> {
                sqlx::query_as::<_, TrustedOriginRow>(sql::GET_TRUSTED_ORIGIN)
                    .bind(id)
                    .one(&self.pool)
                    .await
            }

            async fn insert_trusted_origin(&self, origin: &TrustedOrigin) -> Result<()> {
                bind_trusted_origin(sql::INSERT_TRUSTED_ORIGIN, origin)
                    .bind(origin.created_at.unix())
                    .bind(&origin.created_by)
                    .run(&self.pool)
                    .await?;
                Ok(())
            }

            async fn update_trusted_origin(&self, origin: &TrustedOrigin) -> Result<()> {
                let updated = bind_trusted_origin(sql::UPDATE_TRUSTED_ORIGIN, origin)
                    .run(&self.pool)
                    .await?;
                found(updated)
            }

            async fn delete_trusted_origin(&self, id: &str) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_TRUSTED_ORIGIN)
                    .bind(id)
                    .run(&self.pool)
                    .await?;
                Ok(deleted > 0)
            }
        }

        /// The columns an insert and an update of a trusted origin share, as `$1`–`$8`.
        fn bind_trusted_origin<'q>(
            statement: &'q str,
            origin: &'q TrustedOrigin,
        ) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>> {
            sqlx::query(statement)
                .bind(origin.id.as_str())
                .bind(origin.name.as_str())
                .bind(origin.origin.as_str())
                .bind(
                    origin
                        .normalized_origin()
                        .unwrap_or_else(|| origin.origin.clone()),
                )
                .bind(json(&origin.scopes))
                .bind(origin.status.as_str())
                .bind(origin.updated_at.unix())
                .bind(origin.updated_by.as_str())
        }
    };
}

pub(super) use implement;
