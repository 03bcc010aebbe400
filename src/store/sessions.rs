//! Okta sessions (the `sid` cookie), and purging what has expired.

use async_trait::async_trait;

use crate::model::{Session, SessionId, Timestamp, TokenHash, User};

use super::query::{json_list, parse_id};
use super::users::UserRow;
use super::{Error, Result};

/// Browser sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a session with the hash of its `sid` cookie.
    async fn insert_session(&self, session: &Session, cookie: &TokenHash) -> Result<()>;
    /// The unexpired session with this id.
    async fn get_session(&self, id: &SessionId, now: Timestamp) -> Result<Option<Session>>;
    /// The unexpired session whose `sid` cookie has this hash, with its user, in one read.
    async fn get_session_by_cookie(
        &self,
        cookie: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<(Session, User)>>;
    /// Moves an unexpired session's end to `expires_at`, capped by its absolute limit.
    async fn refresh_session(
        &self,
        id: &SessionId,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Option<Session>>;
    /// Ends an unexpired session; whether there was one.
    async fn delete_session(&self, id: &SessionId, now: Timestamp) -> Result<bool>;
    /// Deletes expired session tokens, transactions, sessions, codes, refresh tokens,
    /// revocations and assertion ids; how many rows.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64>;
}

pub(super) const INSERT_SESSION: &str =
    "INSERT INTO sessions (id, cookie_hash, user_id, created_at, \
     expires_at, max_expires_at, last_password_verification, amr) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(super) const GET_SESSION: &str =
    "SELECT s.id, s.user_id, u.login, s.created_at, s.expires_at, \
     s.max_expires_at, s.last_password_verification, s.amr \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.expires_at > $2";
// The session's columns are renamed where the user's have the same names.
pub(super) const GET_SESSION_BY_COOKIE: &str = concat!(
    "SELECT s.id AS session_id, s.created_at AS session_created_at, \
     s.expires_at AS session_expires_at, s.max_expires_at, s.last_password_verification, s.amr, ",
    super::users::joined_user_columns!(),
    " FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.cookie_hash = $1 AND s.expires_at > $2"
);
pub(super) const REFRESH_SESSION: &str = "UPDATE sessions SET expires_at = \
     CASE WHEN $3 < max_expires_at THEN $3 ELSE max_expires_at END \
     WHERE id = $1 AND expires_at > $2";
pub(super) const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id = $1 AND expires_at > $2";
pub(super) const PURGE_SESSION_TOKENS: &str = "DELETE FROM session_tokens WHERE expires_at <= $1";
pub(super) const PURGE_TRANSACTIONS: &str = "DELETE FROM authn_transactions WHERE expires_at <= $1";
pub(super) const PURGE_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";
pub(super) const PURGE_CODES: &str = "DELETE FROM authorization_codes WHERE expires_at <= $1";
pub(super) const PURGE_REFRESH_TOKENS: &str =
    "DELETE FROM refresh_tokens WHERE family_expires_at <= $1";
pub(super) const PURGE_REVOKED_GRANTS: &str = "DELETE FROM revoked_grants WHERE expires_at <= $1";
pub(super) const PURGE_REVOKED_ACCESS_TOKENS: &str =
    "DELETE FROM revoked_access_tokens WHERE expires_at <= $1";
pub(super) const PURGE_CLIENT_ASSERTIONS: &str =
    "DELETE FROM client_assertions WHERE expires_at <= $1";
pub(super) const PURGE_SIGN_IN_ATTEMPTS: &str =
    "DELETE FROM sign_in_attempts WHERE window_start + 60 <= $1";

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    id: String,
    user_id: String,
    login: String,
    created_at: i64,
    expires_at: i64,
    max_expires_at: i64,
    last_password_verification: i64,
    amr: String,
}

impl TryFrom<SessionRow> for Session {
    type Error = Error;

    fn try_from(row: SessionRow) -> Result<Self, Error> {
        Ok(Session {
            id: parse_id(row.id)?,
            user_id: parse_id(row.user_id)?,
            login: row.login,
            created_at: Timestamp::from_unix(row.created_at),
            expires_at: Timestamp::from_unix(row.expires_at),
            max_expires_at: Timestamp::from_unix(row.max_expires_at),
            last_password_verification: Timestamp::from_unix(row.last_password_verification),
            amr: json_list(&row.amr)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionUserRow {
    session_id: String,
    session_created_at: i64,
    session_expires_at: i64,
    max_expires_at: i64,
    last_password_verification: i64,
    amr: String,
    #[sqlx(flatten)]
    user: UserRow,
}

/// A session read with its user.
pub(super) struct SessionOfUser {
    pub(super) session: Session,
    pub(super) user: User,
}

impl TryFrom<SessionUserRow> for SessionOfUser {
    type Error = Error;

    fn try_from(row: SessionUserRow) -> Result<Self, Error> {
        let user = User::try_from(row.user)?;
        Ok(SessionOfUser {
            session: Session {
                id: parse_id(row.session_id)?,
                user_id: user.id.clone(),
                login: user.login.clone(),
                created_at: Timestamp::from_unix(row.session_created_at),
                expires_at: Timestamp::from_unix(row.session_expires_at),
                max_expires_at: Timestamp::from_unix(row.max_expires_at),
                last_password_verification: Timestamp::from_unix(row.last_password_verification),
                amr: json_list(&row.amr)?,
            },
            user,
        })
    }
}

/// Implements [`SessionStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::{Session, SessionId, Timestamp, TokenHash, User};
        use $crate::store::query::{json, Fetch, Run};
        use $crate::store::sessions::{
            self as sql, SessionOfUser, SessionRow, SessionStore, SessionUserRow,
        };
        use $crate::store::Result;

        #[async_trait::async_trait]
        impl SessionStore for $store {
            async fn insert_session(&self, session: &Session, cookie: &TokenHash) -> Result<()> {
                sqlx::query(sql::INSERT_SESSION)
                    .bind(session.id.as_str())
                    .bind(cookie.as_str())
                    .bind(session.user_id.as_str())
                    .bind(session.created_at.unix())
                    .bind(session.expires_at.unix())
                    .bind(session.max_expires_at.unix())
                    .bind(session.last_password_verification.unix())
                    .bind(json(&session.amr))
                    .run(&self.pool)
                    .await?;
                Ok(())
            }

            async fn get_session(&self, id: &SessionId, now: Timestamp) -> Result<Option<Session>> {
                sqlx::query_as::<_, SessionRow>(sql::GET_SESSION)
                    .bind(id.as_str())
                    .bind(now.unix())
                    .optional(&self.pool)
                    .await
            }

            async fn get_session_by_cookie(
                &self,
                cookie: &TokenHash,
                now: Timestamp,
            ) -> Result<Option<(Session, User)>> {
                let found: Option<SessionOfUser> =
                    sqlx::query_as::<_, SessionUserRow>(sql::GET_SESSION_BY_COOKIE)
                        .bind(cookie.as_str())
                        .bind(now.unix())
                        .optional(&self.pool)
                        .await?;
                Ok(found.map(|found| (found.session, found.user)))
            }

            async fn refresh_session(
                &self,
                id: &SessionId,
                now: Timestamp,
                expires_at: Timestamp,
            ) -> Result<Option<Session>> {
                sqlx::query(sql::REFRESH_SESSION)
                    .bind(id.as_str())
                    .bind(now.unix())
                    .bind(expires_at.unix())
                    .run(&self.pool)
                    .await?;
                self.get_session(id, now).await
            }

            async fn delete_session(&self, id: &SessionId, now: Timestamp) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_SESSION)
                    .bind(id.as_str())
                    .bind(now.unix())
                    .run(&self.pool)
                    .await?;
                Ok(deleted > 0)
            }

            async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
                let mut purged = 0;
                for statement in [
                    sql::PURGE_SESSION_TOKENS,
                    sql::PURGE_TRANSACTIONS,
                    sql::PURGE_SESSIONS,
                    sql::PURGE_CODES,
                    sql::PURGE_REFRESH_TOKENS,
                    sql::PURGE_REVOKED_GRANTS,
                    sql::PURGE_REVOKED_ACCESS_TOKENS,
                    sql::PURGE_CLIENT_ASSERTIONS,
                    sql::PURGE_SIGN_IN_ATTEMPTS,
                ] {
                    purged += sqlx::query(statement)
                        .bind(now.unix())
                        .run(&self.pool)
                        .await?;
                }
                Ok(purged)
            }
        }
    };
}

pub(super) use implement;
