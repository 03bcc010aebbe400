//! Grants: authorization codes, refresh token families, revocations and client assertion ids.

use async_trait::async_trait;

use crate::model::{
    AuthorizationCode, ClientId, GrantContext, Presented, RefreshTokenRecord, ScopeSet, Timestamp,
    TokenHash, User, UserId,
};

use super::query::{json_list, parse, parse_id};
use super::users::UserRow;
use super::{Error, Result};

/// A rotated refresh token's successor, kept for the rotation leeway.
#[derive(Debug, Clone)]
pub struct RotatedSuccessor {
    /// When the token was rotated.
    pub rotated_at: Timestamp,
    /// The successor's hash.
    pub successor: TokenHash,
    /// The successor itself, sealed (base64).
    pub sealed: String,
}

/// Authorization codes, refresh tokens and revocations: every single-use or revocable
/// artefact of the OAuth flows.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a new authorization code by its hash.
    async fn insert_authorization_code(
        &self,
        code: &TokenHash,
        grant: &AuthorizationCode,
    ) -> Result<()>;
    /// A code as presented, with its user, in one read; nothing spent: [`Presented::Used`] once
    /// redeemed.
    async fn find_authorization_code(
        &self,
        code: &TokenHash,
        now: Timestamp,
    ) -> Result<Presented<(AuthorizationCode, User)>>;
    /// Uses up a code and stores the refresh token its redemption issued, in one transaction:
    /// exactly one of any number of concurrent redemptions gets `true`; the others get `false`
    /// and write nothing, and a failure writes nothing either (the code stays usable).
    async fn consume_authorization_code(
        &self,
        code: &TokenHash,
        now: Timestamp,
        issued: Option<(&TokenHash, &RefreshTokenRecord)>,
    ) -> Result<bool>;
    /// Stores the first refresh token of a new family by its hash.
    async fn insert_refresh_token(
        &self,
        token: &TokenHash,
        record: &RefreshTokenRecord,
    ) -> Result<()>;
    /// A refresh token as presented, nothing spent: [`Presented::Used`] once rotated, revoked,
    /// or when its family is revoked (whenever the token was stored).
    async fn find_refresh_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> Result<Presented<RefreshTokenRecord>>;
    /// Marks a usable refresh token rotated and stores its successor, in one transaction:
    /// exactly one of any number of concurrent rotations gets `true`; the others get `false`
    /// and write nothing, and a failure writes nothing either (the token stays usable). With
    /// `sealed_successor`, the rotated token keeps it, for [`GrantStore::rotated_successor`].
    async fn rotate_refresh_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
        successor: Option<(&TokenHash, &RefreshTokenRecord)>,
        sealed_successor: Option<&str>,
    ) -> Result<bool>;
    /// What a rotated (not revoked) token was replaced with, if it kept its successor.
    async fn rotated_successor(&self, token: &TokenHash) -> Result<Option<RotatedSuccessor>>;
    /// Moves a usable refresh token's idle expiry (a `STATIC` token in use); whether it was
    /// still usable.
    async fn extend_refresh_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool>;
    /// Revokes every refresh token of the grant, and its access tokens until `until`.
    async fn revoke_grant(&self, grant_id: &str, until: Timestamp) -> Result<()>;
    /// Revokes one access token until it expires.
    async fn revoke_access_token(&self, jti: &str, until: Timestamp) -> Result<()>;
    /// Whether the access token, or the grant it came from, is revoked.
    async fn is_access_token_revoked(&self, jti: &str, grant_id: &str) -> Result<bool>;
    /// The user an access token was issued to, and whether the token (or its grant) is
    /// revoked, in one read; `None` if there is no such user.
    async fn access_token_user(
        &self,
        jti: &str,
        grant_id: &str,
        user: &UserId,
    ) -> Result<Option<(User, bool)>>;
    /// Records a client assertion's `jti`; `false` if it was seen before (a replay).
    async fn record_client_assertion(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: Timestamp,
    ) -> Result<bool>;
}

pub(super) const INSERT_CODE: &str = "INSERT INTO authorization_codes (code_hash, grant_id, \
     auth_server_id, client_id, user_id, scopes, auth_time, amr, session_id, redirect_uri, \
     nonce, code_challenge, code_challenge_method, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
pub(super) const FIND_CODE: &str = concat!(
    "SELECT c.grant_id, c.auth_server_id, c.client_id, c.user_id, c.scopes, c.auth_time, c.amr, \
     c.session_id, c.redirect_uri, c.nonce, c.code_challenge, c.code_challenge_method, \
     c.expires_at, ",
    super::users::joined_user_columns!(),
    " FROM authorization_codes c JOIN users u ON u.id = c.user_id \
     WHERE c.code_hash = $1 AND c.consumed_at IS NULL AND c.expires_at > $2"
);
pub(super) const CONSUME_CODE: &str = "UPDATE authorization_codes SET consumed_at = $2 \
     WHERE code_hash = $1 AND consumed_at IS NULL AND expires_at > $2";
pub(super) const USED_CODE: &str = "SELECT grant_id FROM authorization_codes \
     WHERE code_hash = $1 AND consumed_at IS NOT NULL";
pub(super) const INSERT_REFRESH_TOKEN: &str = "INSERT INTO refresh_tokens (token_hash, grant_id, \
     auth_server_id, client_id, user_id, scopes, auth_time, amr, session_id, created_at, \
     expires_at, family_expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
// A family is revoked by its grant id in `revoked_grants`, so that a token of the family stored
// after the revocation (by a rotation racing it, on any replica) is dead too; the `revoked`
// column alone only reaches the rows that existed.
macro_rules! family_not_revoked {
    () => {
        " AND NOT EXISTS (SELECT 1 FROM revoked_grants \
          WHERE revoked_grants.grant_id = refresh_tokens.grant_id)"
    };
}
pub(super) const ROTATE_REFRESH_TOKEN: &str = concat!(
    "UPDATE refresh_tokens SET rotated_at = $2, successor_hash = $3, successor_sealed = $4 \
     WHERE token_hash = $1 AND rotated_at IS NULL AND revoked = 0 \
     AND expires_at > $2 AND family_expires_at > $2",
    family_not_revoked!()
);
pub(super) const ROTATED_SUCCESSOR: &str = concat!(
    "SELECT rotated_at, successor_hash, successor_sealed FROM refresh_tokens \
     WHERE token_hash = $1 AND rotated_at IS NOT NULL AND revoked = 0 \
     AND successor_hash IS NOT NULL AND successor_sealed IS NOT NULL",
    family_not_revoked!()
);
pub(super) const EXTEND_REFRESH_TOKEN: &str = concat!(
    "UPDATE refresh_tokens SET expires_at = $3 \
     WHERE token_hash = $1 AND rotated_at IS NULL AND revoked = 0 \
     AND expires_at > $2 AND family_expires_at > $2",
    family_not_revoked!()
);
pub(super) const ROTATED_REFRESH_TOKEN: &str = "SELECT grant_id FROM refresh_tokens \
     WHERE token_hash = $1 AND (rotated_at IS NOT NULL OR revoked <> 0 OR EXISTS \
     (SELECT 1 FROM revoked_grants WHERE revoked_grants.grant_id = refresh_tokens.grant_id))";
pub(super) const FIND_REFRESH_TOKEN: &str = concat!(
    "SELECT grant_id, auth_server_id, client_id, user_id, \
     scopes, auth_time, amr, session_id, created_at, expires_at, family_expires_at \
     FROM refresh_tokens WHERE token_hash = $1 AND rotated_at IS NULL AND revoked = 0 \
     AND expires_at > $2 AND family_expires_at > $2",
    family_not_revoked!()
);
pub(super) const REVOKE_REFRESH_FAMILY: &str =
    "UPDATE refresh_tokens SET revoked = 1 WHERE grant_id = $1";
pub(super) const REVOKE_GRANT: &str = "INSERT INTO revoked_grants (grant_id, expires_at) \
     VALUES ($1, $2) ON CONFLICT (grant_id) DO UPDATE SET expires_at = \
     CASE WHEN excluded.expires_at > revoked_grants.expires_at THEN excluded.expires_at \
     ELSE revoked_grants.expires_at END";
pub(super) const REVOKE_ACCESS_TOKEN: &str = "INSERT INTO revoked_access_tokens (jti, expires_at) \
     VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING";
// Whether the access token `$1`, or the grant `$2` it came from, is revoked.
macro_rules! access_token_revoked {
    () => {
        "(EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $1) \
         OR EXISTS (SELECT 1 FROM revoked_grants WHERE grant_id = $2))"
    };
}
pub(super) const IS_ACCESS_TOKEN_REVOKED: &str = concat!("SELECT ", access_token_revoked!());
pub(super) const ACCESS_TOKEN_USER: &str = concat!(
    "SELECT ",
    super::users::joined_user_columns!(),
    ", ",
    access_token_revoked!(),
    " AS revoked FROM users u WHERE u.id = $3"
);
pub(super) const RECORD_CLIENT_ASSERTION: &str = "INSERT INTO client_assertions (client_id, jti, \
     expires_at) VALUES ($1, $2, $3) ON CONFLICT (client_id, jti) DO NOTHING";

#[derive(sqlx::FromRow)]
pub(super) struct GrantRow {
    grant_id: String,
    auth_server_id: String,
    client_id: String,
    user_id: String,
    scopes: String,
    auth_time: i64,
    amr: String,
    session_id: Option<String>,
}

impl TryFrom<GrantRow> for GrantContext {
    type Error = Error;

    fn try_from(row: GrantRow) -> Result<Self, Error> {
        Ok(GrantContext {
            grant_id: row.grant_id,
            auth_server_id: parse_id(row.auth_server_id)?,
            client_id: parse_id(row.client_id)?,
            user_id: parse_id(row.user_id)?,
            scopes: ScopeSet::from_scopes(json_list::<String>(&row.scopes)?),
            auth_time: Timestamp::from_unix(row.auth_time),
            amr: json_list(&row.amr)?,
            session_id: row.session_id.map(parse_id).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CodeRow {
    #[sqlx(flatten)]
    grant: GrantRow,
    redirect_uri: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    expires_at: i64,
}

impl TryFrom<CodeRow> for AuthorizationCode {
    type Error = Error;

    fn try_from(row: CodeRow) -> Result<Self, Error> {
        let code_challenge = match (row.code_challenge, row.code_challenge_method) {
            (Some(challenge), Some(method)) => Some((challenge, parse(&method)?)),
            _ => None,
        };
        Ok(AuthorizationCode {
            grant: row.grant.try_into()?,
            redirect_uri: row.redirect_uri,
            nonce: row.nonce,
            code_challenge,
            expires_at: Timestamp::from_unix(row.expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RefreshRow {
    #[sqlx(flatten)]
    grant: GrantRow,
    created_at: i64,
    expires_at: i64,
    family_expires_at: i64,
}

impl TryFrom<RefreshRow> for RefreshTokenRecord {
    type Error = Error;

    fn try_from(row: RefreshRow) -> Result<Self, Error> {
        Ok(RefreshTokenRecord {
            grant: row.grant.try_into()?,
            created_at: Timestamp::from_unix(row.created_at),
            expires_at: Timestamp::from_unix(row.expires_at),
            family_expires_at: Timestamp::from_unix(row.family_expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CodeUserRow {
    #[sqlx(flatten)]
    code: CodeRow,
    #[sqlx(flatten)]
    user: UserRow,
}

/// A code read with its user.
pub(super) struct CodeOfUser {
    pub(super) code: AuthorizationCode,
    pub(super) user: User,
}

impl TryFrom<CodeUserRow> for CodeOfUser {
    type Error = Error;

    fn try_from(row: CodeUserRow) -> Result<Self, Error> {
        Ok(CodeOfUser {
            code: row.code.try_into()?,
            user: row.user.try_into()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct TokenUserRow {
    #[sqlx(flatten)]
    user: UserRow,
    revoked: bool,
}

/// An access token's user, and whether the token is revoked.
pub(super) struct UserOfToken {
    pub(super) user: User,
    pub(super) revoked: bool,
}

impl TryFrom<TokenUserRow> for UserOfToken {
    type Error = Error;

    fn try_from(row: TokenUserRow) -> Result<Self, Error> {
        Ok(UserOfToken {
            user: row.user.try_into()?,
            revoked: row.revoked,
        })
    }
}

/// Implements [`GrantStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::{
            AuthorizationCode, ClientId, GrantContext, Presented, RefreshTokenRecord, SessionId,
            Timestamp, TokenHash, User, UserId,
        };
        use $crate::store::grants::{
            self as sql, CodeOfUser, CodeUserRow, GrantStore, RefreshRow, RotatedSuccessor,
            TokenUserRow, UserOfToken,
        };
        use $crate::store::query::{json, Fetch, Run};
        use $crate::store::{Error, Result};

        fn bind_grant<'q, O>(
            query: sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments<'q>>,
            grant: &'q GrantContext,
        ) -> sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments<'q>> {
            query
                .bind(grant.grant_id.as_str())
                .bind(grant.auth_server_id.as_str())
                .bind(grant.client_id.as_str())
                .bind(grant.user_id.as_str())
                .bind(json(&grant.scopes.to_vec()))
                .bind(grant.auth_time.unix())
                .bind(json(&grant.amr))
                .bind(grant.session_id.as_ref().map(SessionId::as_str))
        }

        /// A single-use artefact as presented: `usable` selects it while it may be used, `used`
        /// its grant id once it has been (both `$1` = hash, `usable` `$2` = now).
        async fn look_up<R, T>(
            pool: &Pool,
            usable: &'static str,
            used: &'static str,
            hash: &TokenHash,
            now: Timestamp,
        ) -> Result<Presented<T>>
        where
            R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
            T: TryFrom<R, Error = Error>,
        {
            if let Some(found) = sqlx::query_as::<_, R>(usable)
                .bind(hash.as_str())
                .bind(now.unix())
                .optional(pool)
                .await?
            {
                return Ok(Presented::Usable(found));
            }
            let replayed: Option<(String,)> = sqlx::query_as(used)
                .bind(hash.as_str())
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
            Ok(match replayed {
                Some((grant_id,)) => Presented::Used { grant_id },
                None => Presented::Invalid,
            })
        }

        /// Spends a single-use artefact with `spend` (an `UPDATE` that matches it only while it
        /// is usable) and stores the refresh token it issued, in one transaction. Of concurrent
        /// spenders exactly one matches; the rest write nothing.
        async fn spend<'q>(
            pool: &Pool,
            spend: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>,
            issued: Option<(&TokenHash, &RefreshTokenRecord)>,
        ) -> Result<bool> {
            let mut tx = pool.begin().await.map_err(map_err)?;
            let spent = spend.run(&mut *tx).await? == 1;
            if !spent {
                tx.rollback().await.map_err(map_err)?;
                return Ok(false);
            }
            if let Some((token, record)) = issued {
                insert_refresh_token(&mut *tx, token, record).await?;
            }
            tx.commit().await.map_err(map_err)?;
            Ok(true)
        }

        async fn insert_refresh_token<'e>(
            executor: impl sqlx::Executor<'e, Database = Db>,
            token: &TokenHash,
            record: &RefreshTokenRecord,
        ) -> Result<()> {
            let query = sqlx::query_as::<_, (i64,)>(sql::INSERT_REFRESH_TOKEN).bind(token.as_str());
            bind_grant(query, &record.grant)
                .bind(record.created_at.unix())
                .bind(record.expires_at.unix())
                .bind(record.family_expires_at.unix())
                .fetch_optional(executor)
                .await
                .map_err(map_err)?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl GrantStore for $store {
            async fn insert_authorization_code(
                &self,
                code: &TokenHash,
                grant: &AuthorizationCode,
            ) -> Result<()> {
                let (challenge, method) = match &grant.code_challenge {
                    Some((challenge, method)) => (Some(challenge.as_str()), Some(method.as_str())),
                    None => (None, None),
                };
                let query = sqlx::query_as::<_, (i64,)>(sql::INSERT_CODE).bind(code.as_str());
                bind_grant(query, &grant.grant)
                    .bind(grant.redirect_uri.as_str())
                    .bind(grant.nonce.as_deref())
                    .bind(challenge)
                    .bind(method)
                    .bind(grant.expires_at.unix())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn find_authorization_code(
                &self,
                code: &TokenHash,
                now: Timestamp,
            ) -> Result<Presented<(AuthorizationCode, User)>> {
                let found = look_up::<CodeUserRow, CodeOfUser>(
                    &self.pool,
                    sql::FIND_CODE,
                    sql::USED_CODE,
                    code,
                    now,
                )
                .await?;
                Ok(match found {
                    Presented::Usable(found) => Presented::Usable((found.code, found.user)),
                    Presented::Used { grant_id } => Presented::Used { grant_id },
                    Presented::Invalid => Presented::Invalid,
                })
            }

            async fn consume_authorization_code(
                &self,
                code: &TokenHash,
                now: Timestamp,
                issued: Option<(&TokenHash, &RefreshTokenRecord)>,
            ) -> Result<bool> {
                let consume = sqlx::query(sql::CONSUME_CODE)
                    .bind(code.as_str())
                    .bind(now.unix());
                spend(&self.pool, consume, issued).await
            }

            async fn insert_refresh_token(
                &self,
                token: &TokenHash,
                record: &RefreshTokenRecord,
            ) -> Result<()> {
                insert_refresh_token(&self.pool, token, record).await
            }

            async fn find_refresh_token(
                &self,
                token: &TokenHash,
                now: Timestamp,
            ) -> Result<Presented<RefreshTokenRecord>> {
                look_up::<RefreshRow, RefreshTokenRecord>(
                    &self.pool,
                    sql::FIND_REFRESH_TOKEN,
                    sql::ROTATED_REFRESH_TOKEN,
                    token,
                    now,
                )
                .await
            }

            async fn rotate_refresh_token(
                &self,
                token: &TokenHash,
                now: Timestamp,
                successor: Option<(&TokenHash, &RefreshTokenRecord)>,
                sealed_successor: Option<&str>,
            ) -> Result<bool> {
                let rotate = sqlx::query(sql::ROTATE_REFRESH_TOKEN)
                    .bind(token.as_str())
                    .bind(now.unix())
                    .bind(successor.map(|(hash, _)| hash.as_str()))
                    .bind(sealed_successor);
                spend(&self.pool, rotate, successor).await
            }

            async fn rotated_successor(
                &self,
                token: &TokenHash,
            ) -> Result<Option<RotatedSuccessor>> {
                let found: Option<(i64, String, String)> = sqlx::query_as(sql::ROTATED_SUCCESSOR)
                    .bind(token.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(
                    found.map(|(rotated_at, successor, sealed)| RotatedSuccessor {
                        rotated_at: Timestamp::from_unix(rotated_at),
                        successor: TokenHash::from_stored(successor),
                        sealed,
                    }),
                )
            }

            async fn extend_refresh_token(
                &self,
                token: &TokenHash,
                now: Timestamp,
                expires_at: Timestamp,
            ) -> Result<bool> {
                let extended = sqlx::query(sql::EXTEND_REFRESH_TOKEN)
                    .bind(token.as_str())
                    .bind(now.unix())
                    .bind(expires_at.unix())
                    .run(&self.pool)
                    .await?;
                Ok(extended == 1)
            }

            async fn revoke_grant(&self, grant_id: &str, until: Timestamp) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                sqlx::query(sql::REVOKE_REFRESH_FAMILY)
                    .bind(grant_id)
                    .run(&mut *tx)
                    .await?;
                sqlx::query(sql::REVOKE_GRANT)
                    .bind(grant_id)
                    .bind(until.unix())
                    .run(&mut *tx)
                    .await?;
                tx.commit().await.map_err(map_err)
            }

            async fn revoke_access_token(&self, jti: &str, until: Timestamp) -> Result<()> {
                sqlx::query(sql::REVOKE_ACCESS_TOKEN)
                    .bind(jti)
                    .bind(until.unix())
                    .run(&self.pool)
                    .await?;
                Ok(())
            }

            async fn access_token_user(
                &self,
                jti: &str,
                grant_id: &str,
                user: &UserId,
            ) -> Result<Option<(User, bool)>> {
                let found: Option<UserOfToken> =
                    sqlx::query_as::<_, TokenUserRow>(sql::ACCESS_TOKEN_USER)
                        .bind(jti)
                        .bind(grant_id)
                        .bind(user.as_str())
                        .optional(&self.pool)
                        .await?;
                Ok(found.map(|found| (found.user, found.revoked)))
            }

            async fn is_access_token_revoked(&self, jti: &str, grant_id: &str) -> Result<bool> {
                sqlx::query_scalar(sql::IS_ACCESS_TOKEN_REVOKED)
                    .bind(jti)
                    .bind(grant_id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn record_client_assertion(
                &self,
                client_id: &ClientId,
                jti: &str,
                expires_at: Timestamp,
            ) -> Result<bool> {
                let written = sqlx::query(sql::RECORD_CLIENT_ASSERTION)
                    .bind(client_id.as_str())
                    .bind(jti)
                    .bind(expires_at.unix())
                    .run(&self.pool)
                    .await?;
                Ok(written > 0)
            }
        }
    };
}

pub(super) use implement;
