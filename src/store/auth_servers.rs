//! Authorization servers: their settings, scopes, claims and access policies.

use async_trait::async_trait;

use crate::model::{AuthServer, AuthServerId, CustomClaim, SigningKey, Timestamp};

use super::query::{json_list, parse, parse_id};
use super::{Error, Result};

/// Authorization servers.
#[async_trait]
pub trait AuthServerStore: Send + Sync {
    /// One server; [`Error::NotFound`] if there is none.
    async fn get_auth_server(&self, id: &AuthServerId) -> Result<AuthServer>;
    /// Every server, org first, then by id.
    async fn list_auth_servers(&self) -> Result<Vec<AuthServer>>;
    /// Adds a server; [`Error::Conflict`] if the id or name is taken.
    async fn insert_auth_server(&self, server: &AuthServer) -> Result<()>;
    /// Adds a server with its first ACTIVE and NEXT keys, in one transaction.
    async fn insert_auth_server_with_keys(
        &self,
        server: &AuthServer,
        active: &SigningKey,
        next: &SigningKey,
    ) -> Result<()>;
    /// Replaces a server's fields if its revision is still `server.revision`, and bumps it;
    /// [`Error::Superseded`] if it changed since, [`Error::NotFound`] if there is none.
    async fn update_auth_server(&self, server: &AuthServer) -> Result<()>;
    /// Deletes a server and its keys; whether there was one.
    async fn delete_auth_server(&self, id: &AuthServerId) -> Result<bool>;
}

pub(super) const GET_AUTH_SERVER: &str =
    "SELECT id, name, description, audiences, issuer_mode, status, \
     signing_alg, scopes, claims, token_lifetimes, policies, revision, created_at, updated_at \
     FROM authorization_servers WHERE id = $1";
pub(super) const LIST_AUTH_SERVERS: &str = "SELECT id, name, description, audiences, issuer_mode, \
     status, signing_alg, scopes, claims, token_lifetimes, policies, revision, created_at, \
     updated_at FROM authorization_servers ORDER BY id <> 'org', id";
pub(super) const INSERT_AUTH_SERVER: &str =
    "INSERT INTO authorization_servers (id, name, description, \
     audiences, issuer_mode, status, signing_alg, scopes, claims, created_at, updated_at, \
     token_lifetimes, policies, revision) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
// Applies only to the revision the change was made from ($14), and bumps it.
pub(super) const UPDATE_AUTH_SERVER: &str = "UPDATE authorization_servers SET name = $2, \
     description = $3, audiences = $4, issuer_mode = $5, status = $6, signing_alg = $7, \
     scopes = $8, claims = $9, created_at = $10, updated_at = $11, token_lifetimes = $12, \
     policies = $13, revision = revision + 1 WHERE id = $1 AND revision = $14";
// Servers stored before policies existed (migration 0008) have none: they are given Okta's
// default policy once, after migrating, so that nothing reading a server has to.
pub(super) const SERVERS_WITHOUT_POLICIES: &str =
    "SELECT id, created_at FROM authorization_servers WHERE policies IS NULL";
pub(super) const MATERIALISE_POLICIES: &str =
    "UPDATE authorization_servers SET policies = $2 WHERE id = $1 AND policies IS NULL";
pub(super) const AUTH_SERVER_EXISTS: &str = "SELECT 1 FROM authorization_servers WHERE id = $1";
pub(super) const DELETE_AUTH_SERVER: &str = "DELETE FROM authorization_servers WHERE id = $1";

#[derive(sqlx::FromRow)]
pub(super) struct AuthServerRow {
    id: String,
    name: String,
    description: String,
    audiences: String,
    issuer_mode: String,
    status: String,
    signing_alg: String,
    scopes: String,
    claims: String,
    token_lifetimes: String,
    /// Never NULL once migrated: [`crate::store::Store::migrate`] materialises old servers'.
    policies: String,
    revision: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AuthServerRow> for AuthServer {
    type Error = Error;

    fn try_from(row: AuthServerRow) -> Result<Self, Error> {
        let policies = json_list(&row.policies)?;
        Ok(AuthServer {
            id: parse_id(row.id)?,
            name: row.name,
            description: row.description,
            audiences: json_list(&row.audiences)?,
            issuer_mode: parse(&row.issuer_mode)?,
            status: parse(&row.status)?,
            signing_alg: parse(&row.signing_alg)?,
            scopes: json_list(&row.scopes)?,
            claims: json_list::<CustomClaim>(&row.claims)?
                .into_iter()
                .map(CustomClaim::with_id)
                .collect(),
            policies,
            revision: row.revision,
            token_lifetimes: serde_json::from_str(&row.token_lifetimes).map_err(Error::corrupt)?,
            created_at: Timestamp::from_unix(row.created_at),
            updated_at: Timestamp::from_unix(row.updated_at),
        })
    }
}

/// Implements [`AuthServerStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::{AuthServer, AuthServerId, KeyState, SigningKey, Timestamp};
        use $crate::store::auth_servers::{self as sql, AuthServerRow, AuthServerStore};
        use $crate::store::query::{found, json, Fetch, Run};
        use $crate::store::{Error, Result};

        /// Gives every server stored before policies existed Okta's default policy (the org
        /// server none), as it was governed by until then.
        pub(super) async fn materialise_default_policies(pool: &Pool) -> Result<()> {
            let servers: Vec<(String, i64)> = sqlx::query_as(sql::SERVERS_WITHOUT_POLICIES)
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
            for (id, created_at) in servers {
                let policies = if id == "org" {
                    vec![]
                } else {
                    vec![$crate::model::AccessPolicy::okta_default(
                        Some(&id),
                        Timestamp::from_unix(created_at),
                    )]
                };
                sqlx::query(sql::MATERIALISE_POLICIES)
                    .bind(&id)
                    .bind(json(&policies))
                    .run(pool)
                    .await?;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl AuthServerStore for $store {
            async fn get_auth_server(&self, id: &AuthServerId) -> Result<AuthServer> {
                sqlx::query_as::<_, AuthServerRow>(sql::GET_AUTH_SERVER)
                    .bind(id.as_str())
                    .one(&self.pool)
                    .await
            }

            async fn list_auth_servers(&self) -> Result<Vec<AuthServer>> {
                sqlx::query_as::<_, AuthServerRow>(sql::LIST_AUTH_SERVERS)
                    .all(&self.pool)
                    .await
            }

            async fn insert_auth_server(&self, server: &AuthServer) -> Result<()> {
                write_auth_server(&self.pool, sql::INSERT_AUTH_SERVER, server).await
            }

            async fn insert_auth_server_with_keys(
                &self,
                server: &AuthServer,
                active: &SigningKey,
                next: &SigningKey,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                write_auth_server(&mut *tx, sql::INSERT_AUTH_SERVER, server).await?;
                super::keys::insert_key(&mut tx, active, KeyState::Active, Some(server.created_at))
                    .await?;
                super::keys::insert_key(&mut tx, next, KeyState::Next, None).await?;
                tx.commit().await.map_err(map_err)
            }

            async fn update_auth_server(&self, server: &AuthServer) -> Result<()> {
                match write_auth_server(&self.pool, sql::UPDATE_AUTH_SERVER, server).await {
                    Err(Error::NotFound) => {
                        let exists: Option<(i32,)> = sqlx::query_as(sql::AUTH_SERVER_EXISTS)
                            .bind(server.id.as_str())
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(map_err)?;
                        Err(if exists.is_some() {
                            Error::Superseded
                        } else {
                            Error::NotFound
                        })
                    }
                    other => other,
                }
            }

            async fn delete_auth_server(&self, id: &AuthServerId) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_AUTH_SERVER)
                    .bind(id.as_str())
                    .run(&self.pool)
                    .await?;
                Ok(deleted > 0)
            }
        }

        async fn write_auth_server<'e>(
            executor: impl sqlx::Executor<'e, Database = Db>,
            statement: &'static str,
            server: &AuthServer,
        ) -> Result<()> {
            let written = sqlx::query(statement)
                .bind(server.id.as_str())
                .bind(&server.name)
                .bind(&server.description)
                .bind(json(&server.audiences))
                .bind(server.issuer_mode.as_str())
                .bind(server.status.as_str())
                .bind(server.signing_alg.as_str())
                .bind(json(&server.scopes))
                .bind(json(&server.claims))
                .bind(server.created_at.unix())
                .bind(server.updated_at.unix())
                .bind(json(&server.token_lifetimes))
                .bind(json(&server.policies))
                .bind(server.revision)
                .run(executor)
                .await?;
            found(written)
        }
    };
}

pub(super) use implement;
