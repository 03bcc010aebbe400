//! OIDC clients (Okta apps) and their secrets.

use async_trait::async_trait;

use crate::model::{Client, ClientId, ClientSecret, RefreshTokenSettings, Status, Timestamp};

use super::query::{json_list, parse, parse_id};
use super::{Error, Result};

/// OIDC clients (Okta apps).
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// One client; [`Error::NotFound`] if there is none.
    async fn get_client(&self, id: &ClientId) -> Result<Client>;
    /// Every client.
    async fn list_clients(&self) -> Result<Vec<Client>>;
    /// Adds a client and, for a confidential one, its first secret, in one transaction;
    /// [`Error::Conflict`] if the id is taken.
    async fn insert_client(&self, client: &Client, secret: Option<&ClientSecret>) -> Result<()>;
    /// Replaces a client's fields; [`Error::NotFound`] if there is none.
    async fn update_client(&self, client: &Client) -> Result<()>;
    /// Deletes a client; whether there was one.
    async fn delete_client(&self, id: &ClientId) -> Result<bool>;
    /// Writes the client (deactivated) and, in the same transaction, spends its pending codes,
    /// revokes every refresh token family of it (their access tokens until `until`) and makes
    /// every token issued to it before `client.updated_at` invalid for good.
    async fn update_client_ending_access(&self, client: &Client, until: Timestamp) -> Result<()>;
    /// A client's secrets, active or not, oldest first.
    async fn list_client_secrets(&self, id: &ClientId) -> Result<Vec<ClientSecret>>;
    /// Adds a secret unless its client already holds
    /// [`MAX_CLIENT_SECRETS`](crate::model::MAX_CLIENT_SECRETS): whether it was added.
    /// [`Error::NotFound`] if there is no such client.
    async fn add_client_secret(&self, secret: &ClientSecret) -> Result<bool>;
    /// Replaces a client's fields and makes `secret` its only secret (or leaves it none), in
    /// one transaction.
    async fn replace_client_and_secrets(
        &self,
        client: &Client,
        secret: Option<&ClientSecret>,
    ) -> Result<()>;
    /// Activates or deactivates a secret. Deactivating the client's last active secret is
    /// refused: whether the secret changed.
    async fn set_client_secret_status(
        &self,
        id: &ClientId,
        secret_id: &str,
        status: Status,
        now: Timestamp,
    ) -> Result<bool>;
    /// Deletes an inactive secret: whether one was deleted.
    async fn delete_client_secret(&self, id: &ClientId, secret_id: &str) -> Result<bool>;
    /// Stored secret hashes that start with `prefix`: those of an earlier scheme.
    async fn client_secret_hashes_like(&self, prefix: &str) -> Result<Vec<String>>;
    /// Replaces one stored secret hash with another for the same secret: whether it was there.
    async fn replace_client_secret_hash(&self, old: &str, new: &str) -> Result<bool>;
}

// An app holds at most two active secrets (MAX_CLIENT_SECRETS), read with the app in the
// same statement because the token endpoint needs both on every request.
macro_rules! client_columns {
    () => {
        "id, label, application_type, redirect_uris, post_logout_redirect_uris, grant_types, \
         response_types, token_endpoint_auth_method, allow_plain_pkce, jwks, status, created_at, \
         updated_at, tokens_valid_after, refresh_rotation_type, refresh_leeway_seconds, \
         groups_claim, \
         (SELECT MIN(secret_hash) FROM client_secrets s WHERE s.client_id = clients.id \
             AND s.status = 'ACTIVE') AS secret_hash, \
         (SELECT CASE WHEN COUNT(*) > 1 THEN MAX(secret_hash) END FROM client_secrets s \
             WHERE s.client_id = clients.id AND s.status = 'ACTIVE') AS second_secret_hash"
    };
}
pub(super) const GET_CLIENT: &str =
    concat!("SELECT ", client_columns!(), " FROM clients WHERE id = $1");
pub(super) const LIST_CLIENTS: &str =
    concat!("SELECT ", client_columns!(), " FROM clients ORDER BY id");
pub(super) const DELETE_CLIENT: &str = "DELETE FROM clients WHERE id = $1";
pub(super) const INSERT_CLIENT: &str = "INSERT INTO clients (id, label, application_type, \
     redirect_uris, post_logout_redirect_uris, grant_types, response_types, \
     token_endpoint_auth_method, status, created_at, updated_at, allow_plain_pkce, jwks, \
     refresh_rotation_type, refresh_leeway_seconds, groups_claim) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
pub(super) const UPDATE_CLIENT: &str = "UPDATE clients SET label = $2, application_type = $3, \
     redirect_uris = $4, post_logout_redirect_uris = $5, grant_types = $6, response_types = $7, \
     token_endpoint_auth_method = $8, status = $9, created_at = $10, updated_at = $11, \
     allow_plain_pkce = $12, jwks = $13, refresh_rotation_type = $14, \
     refresh_leeway_seconds = $15, groups_claim = $16 WHERE id = $1";
// Taken first in a secret-changing transaction: it serialises changes to one app's secrets.
pub(super) const TOUCH_CLIENT: &str = "UPDATE clients SET updated_at = $2 WHERE id = $1";
pub(super) const LIST_CLIENT_SECRETS: &str =
    "SELECT id, client_id, secret_hash, status, created_at, \
     updated_at FROM client_secrets WHERE client_id = $1 ORDER BY created_at, id";
pub(super) const INSERT_CLIENT_SECRET: &str =
    "INSERT INTO client_secrets (id, client_id, secret_hash, \
     status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub(super) const COUNT_CLIENT_SECRETS: &str =
    "SELECT COUNT(*) FROM client_secrets WHERE client_id = $1";
pub(super) const DELETE_CLIENT_SECRETS: &str = "DELETE FROM client_secrets WHERE client_id = $1";
// Deactivation leaves at least one active secret, so that an app is never locked out by one call.
pub(super) const SET_CLIENT_SECRET_STATUS: &str = "UPDATE client_secrets SET status = $3, \
     updated_at = $4 WHERE client_id = $1 AND id = $2 AND ($3 = 'ACTIVE' OR \
     EXISTS (SELECT 1 FROM client_secrets o WHERE o.client_id = $1 AND o.id <> $2 \
         AND o.status = 'ACTIVE'))";
pub(super) const CLIENT_SECRET_HASHES_LIKE: &str =
    "SELECT secret_hash FROM client_secrets WHERE secret_hash LIKE $1";
pub(super) const REPLACE_CLIENT_SECRET_HASH: &str =
    "UPDATE client_secrets SET secret_hash = $2 WHERE secret_hash = $1";
pub(super) const DELETE_INACTIVE_CLIENT_SECRET: &str =
    "DELETE FROM client_secrets WHERE client_id = $1 AND id = $2 AND status = 'INACTIVE'";

#[derive(sqlx::FromRow)]
pub(super) struct ClientSecretRow {
    id: String,
    client_id: String,
    secret_hash: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ClientSecretRow> for ClientSecret {
    type Error = Error;

    fn try_from(row: ClientSecretRow) -> Result<Self, Error> {
        Ok(ClientSecret {
            id: row.id,
            client_id: parse_id(row.client_id)?,
            secret_hash: row.secret_hash,
            status: parse(&row.status)?,
            created_at: Timestamp::from_unix(row.created_at),
            updated_at: Timestamp::from_unix(row.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    id: String,
    label: String,
    application_type: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grant_types: String,
    response_types: String,
    token_endpoint_auth_method: String,
    allow_plain_pkce: i64,
    jwks: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
    tokens_valid_after: Option<i64>,
    refresh_rotation_type: String,
    refresh_leeway_seconds: i64,
    groups_claim: Option<String>,
    secret_hash: Option<String>,
    second_secret_hash: Option<String>,
}

impl TryFrom<ClientRow> for Client {
    type Error = Error;

    fn try_from(row: ClientRow) -> Result<Self, Error> {
        Ok(Client {
            id: parse_id(row.id)?,
            label: row.label,
            application_type: parse(&row.application_type)?,
            redirect_uris: json_list(&row.redirect_uris)?,
            post_logout_redirect_uris: json_list(&row.post_logout_redirect_uris)?,
            grant_types: json_list(&row.grant_types)?,
            response_types: json_list(&row.response_types)?,
            token_endpoint_auth_method: parse(&row.token_endpoint_auth_method)?,
            secret_hashes: row
                .secret_hash
                .into_iter()
                .chain(row.second_secret_hash)
                .collect(),
            allow_plain_pkce: row.allow_plain_pkce != 0,
            jwks: row.jwks,
            status: parse(&row.status)?,
            created_at: Timestamp::from_unix(row.created_at),
            updated_at: Timestamp::from_unix(row.updated_at),
            tokens_valid_after: row.tokens_valid_after.map(Timestamp::from_unix),
            refresh_token: RefreshTokenSettings {
                rotation_type: parse(&row.refresh_rotation_type)?,
                leeway_seconds: u32::try_from(row.refresh_leeway_seconds)
                    .map_err(Error::corrupt)?,
            },
            groups_claim: row
                .groups_claim
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .map_err(Error::corrupt)?,
        })
    }
}

/// Implements [`ClientStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::{Client, ClientId, ClientSecret, Timestamp};
        use $crate::store::clients::{self as sql, ClientRow, ClientSecretRow, ClientStore};
        use $crate::store::query::{found, json, Fetch, Run};
        use $crate::store::Result;

        #[async_trait::async_trait]
        impl ClientStore for $store {
            async fn get_client(&self, id: &ClientId) -> Result<Client> {
                sqlx::query_as::<_, ClientRow>(sql::GET_CLIENT)
                    .bind(id.as_str())
                    .one(&self.pool)
                    .await
            }

            async fn list_clients(&self) -> Result<Vec<Client>> {
                sqlx::query_as::<_, ClientRow>(sql::LIST_CLIENTS)
                    .all(&self.pool)
                    .await
            }

            async fn insert_client(
                &self,
                client: &Client,
                secret: Option<&ClientSecret>,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                write_client(&mut *tx, sql::INSERT_CLIENT, client).await?;
                if let Some(secret) = secret {
                    insert_client_secret(&mut tx, secret).await?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn update_client(&self, client: &Client) -> Result<()> {
                write_client(&self.pool, sql::UPDATE_CLIENT, client).await
            }

            async fn list_client_secrets(&self, id: &ClientId) -> Result<Vec<ClientSecret>> {
                sqlx::query_as::<_, ClientSecretRow>(sql::LIST_CLIENT_SECRETS)
                    .bind(id.as_str())
                    .all(&self.pool)
                    .await
            }

            async fn add_client_secret(&self, secret: &ClientSecret) -> Result<bool> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                touch_client(&mut tx, &secret.client_id, secret.created_at).await?;
                let (held,): (i64,) = sqlx::query_as(sql::COUNT_CLIENT_SECRETS)
                    .bind(secret.client_id.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if usize::try_from(held).unwrap_or(usize::MAX) >= $crate::model::MAX_CLIENT_SECRETS
                {
                    return Ok(false);
                }
                insert_client_secret(&mut tx, secret).await?;
                tx.commit().await.map_err(map_err)?;
                Ok(true)
            }

            async fn replace_client_and_secrets(
                &self,
                client: &Client,
                secret: Option<&ClientSecret>,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                write_client(&mut *tx, sql::UPDATE_CLIENT, client).await?;
                sqlx::query(sql::DELETE_CLIENT_SECRETS)
                    .bind(client.id.as_str())
                    .run(&mut *tx)
                    .await?;
                if let Some(secret) = secret {
                    insert_client_secret(&mut tx, secret).await?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn set_client_secret_status(
                &self,
                id: &ClientId,
                secret_id: &str,
                status: $crate::model::Status,
                now: Timestamp,
            ) -> Result<bool> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                touch_client(&mut tx, id, now).await?;
                let changed = sqlx::query(sql::SET_CLIENT_SECRET_STATUS)
                    .bind(id.as_str())
                    .bind(secret_id)
                    .bind(status.as_str())
                    .bind(now.unix())
                    .run(&mut *tx)
                    .await?;
                tx.commit().await.map_err(map_err)?;
                Ok(changed > 0)
            }

            async fn delete_client_secret(&self, id: &ClientId, secret_id: &str) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_INACTIVE_CLIENT_SECRET)
                    .bind(id.as_str())
                    .bind(secret_id)
                    .run(&self.pool)
                    .await?;
                Ok(deleted > 0)
            }

            async fn client_secret_hashes_like(&self, prefix: &str) -> Result<Vec<String>> {
                let pattern = format!("{}%", prefix.replace('%', "").replace('_', ""));
                sqlx::query_scalar(sql::CLIENT_SECRET_HASHES_LIKE)
                    .bind(pattern)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn replace_client_secret_hash(&self, old: &str, new: &str) -> Result<bool> {
                let replaced = sqlx::query(sql::REPLACE_CLIENT_SECRET_HASH)
                    .bind(old)
                    .bind(new)
                    .run(&self.pool)
                    .await?;
                Ok(replaced > 0)
            }

            async fn update_client_ending_access(
                &self,
                client: &Client,
                until: Timestamp,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                write_client(&mut *tx, sql::UPDATE_CLIENT, client).await?;
                super::access::end_access(
                    &mut tx,
                    &$crate::store::access::CLIENT_ACCESS,
                    client.id.as_str(),
                    client.updated_at,
                    until,
                )
                .await?;
                tx.commit().await.map_err(map_err)
            }

            async fn delete_client(&self, id: &ClientId) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_CLIENT)
                    .bind(id.as_str())
                    .run(&self.pool)
                    .await?;
                Ok(deleted > 0)
            }
        }

        /// Locks the client's row for the rest of the transaction; [`Error::NotFound`] if there
        /// is no such client.
        async fn touch_client(
            tx: &mut sqlx::Transaction<'static, Db>,
            id: &ClientId,
            now: Timestamp,
        ) -> Result<()> {
            let touched = sqlx::query(sql::TOUCH_CLIENT)
                .bind(id.as_str())
                .bind(now.unix())
                .run(&mut **tx)
                .await?;
            found(touched)
        }

        async fn insert_client_secret(
            tx: &mut sqlx::Transaction<'static, Db>,
            secret: &ClientSecret,
        ) -> Result<()> {
            sqlx::query(sql::INSERT_CLIENT_SECRET)
                .bind(&secret.id)
                .bind(secret.client_id.as_str())
                .bind(&secret.secret_hash)
                .bind(secret.status.as_str())
                .bind(secret.created_at.unix())
                .bind(secret.updated_at.unix())
                .run(&mut **tx)
                .await?;
            Ok(())
        }

        async fn write_client<'e>(
            executor: impl sqlx::Executor<'e, Database = Db>,
            statement: &'static str,
            client: &Client,
        ) -> Result<()> {
            let written = sqlx::query(statement)
                .bind(client.id.as_str())
                .bind(&client.label)
                .bind(client.application_type.as_str())
                .bind(json(&client.redirect_uris))
                .bind(json(&client.post_logout_redirect_uris))
                .bind(json(&client.grant_types))
                .bind(json(&client.response_types))
                .bind(client.token_endpoint_auth_method.as_str())
                .bind(client.status.as_str())
                .bind(client.created_at.unix())
                .bind(client.updated_at.unix())
                .bind(i64::from(client.allow_plain_pkce))
                .bind(client.jwks.as_deref())
                .bind(client.refresh_token.rotation_type.as_str())
                .bind(i64::from(client.refresh_token.leeway_seconds))
                .bind(client.groups_claim.as_ref().map(|claim| json(claim)))
                .run(executor)
                .await?;
            found(written)
        }
    };
}

pub(super) use implement;
