//! Sign-in: attempt counting, lockout, passwords, one-time session tokens and authentication
//! transactions.

use async_trait::async_trait;

use crate::model::{
    LockoutPolicy, PendingAuthn, SessionTokenGrant, Timestamp, TokenHash, User, UserId,
};

use super::query::{json_list, parse, parse_id};
use super::{Error, Result};

/// Sign-in state that must hold across replicas: per-username attempt counts, lockout
/// counters, one-time session tokens and authentication transactions.
#[async_trait]
pub trait AuthnStore: Send + Sync {
    /// Counts one sign-in attempt for `key` in the window starting at `window_start`, in one
    /// statement: the attempts in the window so far, this one included, and the window's start
    /// (a later one if another replica's clock is ahead).
    async fn count_sign_in_attempt(
        &self,
        key: &TokenHash,
        window_start: Timestamp,
    ) -> Result<(u64, Timestamp)>;
    /// Counts a failed password in one statement; locks the user when the count reaches the
    /// policy's threshold. Returns the user as it now is.
    async fn record_failed_sign_in(
        &self,
        user: &UserId,
        now: Timestamp,
        policy: LockoutPolicy,
    ) -> Result<User>;
    /// Clears the failure count and any expired lockout, records the sign-in time, and
    /// replaces `verified_hash` with an upgraded hash if one is given. `false` (nothing
    /// written) if a lock is in force, perhaps set by a concurrent failure.
    async fn record_successful_sign_in(
        &self,
        user: &UserId,
        now: Timestamp,
        verified_hash: &str,
        rehashed_password: Option<&str>,
    ) -> Result<bool>;
    /// Sets a new password hash if the stored one is still `expected_hash`; an expired
    /// password's user becomes active. `false` if the password changed meanwhile.
    async fn replace_password(
        &self,
        user: &UserId,
        expected_hash: &str,
        new_hash: &str,
        now: Timestamp,
    ) -> Result<bool>;
    /// Stores a new one-time session token by its hash.
    async fn insert_session_token(
        &self,
        token: &TokenHash,
        grant: &SessionTokenGrant,
    ) -> Result<()>;
    /// Deletes and returns the token's grant in one statement, so it works exactly once;
    /// `None` if unknown, used or expired.
    async fn consume_session_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<SessionTokenGrant>>;
    /// Stores a transaction by its state token's hash.
    async fn insert_transaction(&self, state: &TokenHash, pending: &PendingAuthn) -> Result<()>;
    /// Stores a user's recovery token (a transaction in RECOVERY), ending any earlier one of
    /// theirs in the same transaction.
    async fn replace_recovery_token(&self, token: &TokenHash, pending: &PendingAuthn)
        -> Result<()>;
    /// Writes the user if they are still in RECOVERY: whether they were.
    async fn complete_recovery(&self, user: &User) -> Result<bool>;
    /// The unexpired transaction with this state token.
    async fn get_transaction(
        &self,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<PendingAuthn>>;
    /// Deletes and returns the unexpired transaction in one statement.
    async fn consume_transaction(
        &self,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<PendingAuthn>>;
}

// A replica whose clock is a little behind counts into the newer window instead of resetting it.
pub(super) const COUNT_SIGN_IN_ATTEMPT: &str =
    "INSERT INTO sign_in_attempts (key_hash, window_start, \
     attempts) VALUES ($1, $2, 1) ON CONFLICT (key_hash) DO UPDATE SET \
     attempts = CASE WHEN sign_in_attempts.window_start >= excluded.window_start \
         THEN sign_in_attempts.attempts + 1 ELSE 1 END, \
     window_start = CASE WHEN sign_in_attempts.window_start >= excluded.window_start \
         THEN sign_in_attempts.window_start ELSE excluded.window_start END \
     RETURNING attempts, window_start";
// In an UPDATE every expression sees the row as it was, so the new count is spelled out where
// it is needed. A lock whose time has passed starts the count again.
pub(super) const RECORD_FAILED_SIGN_IN: &str = "UPDATE users SET \
     failed_sign_ins = CASE WHEN locked_until <= $2 THEN 1 ELSE failed_sign_ins + 1 END, \
     locked_until = CASE WHEN locked_until > $2 THEN locked_until \
         WHEN (CASE WHEN locked_until <= $2 THEN 1 ELSE failed_sign_ins + 1 END) >= $3 THEN $4 \
         ELSE NULL END, \
     status = CASE WHEN locked_until > $2 THEN status \
         WHEN (CASE WHEN locked_until <= $2 THEN 1 ELSE failed_sign_ins + 1 END) >= $3 \
             THEN 'LOCKED_OUT' \
         WHEN status = 'LOCKED_OUT' THEN 'ACTIVE' ELSE status END, \
     status_changed_at = CASE WHEN locked_until > $2 THEN status_changed_at \
         WHEN (CASE WHEN locked_until <= $2 THEN 1 ELSE failed_sign_ins + 1 END) >= $3 THEN $2 \
         ELSE status_changed_at END \
     WHERE id = $1 \
     RETURNING id, status, login, profile, password_hash, created_at, activated_at, \
     status_changed_at, last_login_at, updated_at, password_changed_at, failed_sign_ins, \
     locked_until, tokens_valid_after, groups_revision";
// Refused while a lock set by a concurrent failure is in force, so a right guess cannot undo
// it; the upgraded hash replaces only the hash that was verified.
pub(super) const RECORD_SUCCESSFUL_SIGN_IN: &str = "UPDATE users SET failed_sign_ins = 0, \
     locked_until = NULL, last_login_at = $2, \
     status = CASE WHEN status = 'LOCKED_OUT' THEN 'ACTIVE' ELSE status END, \
     status_changed_at = CASE WHEN status = 'LOCKED_OUT' THEN $2 ELSE status_changed_at END, \
     password_hash = CASE WHEN password_hash = $4 THEN COALESCE($3, password_hash) \
         ELSE password_hash END \
     WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)";
pub(super) const REPLACE_PASSWORD: &str = "UPDATE users SET password_hash = $2, \
     password_changed_at = $3, updated_at = $3, \
     status = CASE WHEN status = 'PASSWORD_EXPIRED' THEN 'ACTIVE' ELSE status END, \
     status_changed_at = CASE WHEN status = 'PASSWORD_EXPIRED' THEN $3 \
         ELSE status_changed_at END \
     WHERE id = $1 AND password_hash = $4";
pub(super) const INSERT_SESSION_TOKEN: &str = "INSERT INTO session_tokens (token_hash, user_id, \
     auth_time, amr, expires_at) VALUES ($1, $2, $3, $4, $5)";
pub(super) const CONSUME_SESSION_TOKEN: &str = "DELETE FROM session_tokens WHERE token_hash = $1 \
     RETURNING user_id, auth_time, amr, expires_at";
pub(super) const INSERT_TRANSACTION: &str =
    "INSERT INTO authn_transactions (state_hash, user_id, state, \
     relay_state, auth_time, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub(super) const DELETE_RECOVERY_TOKENS: &str =
    "DELETE FROM authn_transactions WHERE user_id = $1 AND state = 'RECOVERY'";
pub(super) const GET_TRANSACTION: &str =
    "SELECT user_id, state, relay_state, auth_time, expires_at \
     FROM authn_transactions WHERE state_hash = $1 AND expires_at > $2";
pub(super) const CONSUME_TRANSACTION: &str = "DELETE FROM authn_transactions \
     WHERE state_hash = $1 AND expires_at > $2 \
     RETURNING user_id, state, relay_state, auth_time, expires_at";

#[derive(sqlx::FromRow)]
pub(super) struct SessionTokenRow {
    user_id: String,
    auth_time: i64,
    amr: String,
    expires_at: i64,
}

impl TryFrom<SessionTokenRow> for SessionTokenGrant {
    type Error = Error;

    fn try_from(row: SessionTokenRow) -> Result<Self, Error> {
        Ok(SessionTokenGrant {
            user_id: parse_id(row.user_id)?,
            auth_time: Timestamp::from_unix(row.auth_time),
            amr: json_list(&row.amr)?,
            expires_at: Timestamp::from_unix(row.expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PendingAuthnRow {
    user_id: String,
    state: String,
    relay_state: Option<String>,
    auth_time: i64,
    expires_at: i64,
}

impl TryFrom<PendingAuthnRow> for PendingAuthn {
    type Error = Error;

    fn try_from(row: PendingAuthnRow) -> Result<Self, Error> {
        Ok(PendingAuthn {
            user_id: parse_id(row.user_id)?,
            state: parse(&row.state)?,
            relay_state: row.relay_state,
            auth_time: Timestamp::from_unix(row.auth_time),
            expires_at: Timestamp::from_unix(row.expires_at),
        })
    }
}

/// Implements [`AuthnStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::{
            LockoutPolicy, PendingAuthn, SessionTokenGrant, Timestamp, TokenHash, User, UserId,
        };
        use $crate::store::authn::{self as sql, AuthnStore, PendingAuthnRow, SessionTokenRow};
        use $crate::store::query::{json, Fetch, Run};
        use $crate::store::users::UserRow;
        use $crate::store::{Error, Result};

        #[async_trait::async_trait]
        impl AuthnStore for $store {
            async fn count_sign_in_attempt(
                &self,
                key: &TokenHash,
                window_start: Timestamp,
            ) -> Result<(u64, Timestamp)> {
                let (attempts, window_start): (i64, i64) =
                    sqlx::query_as(sql::COUNT_SIGN_IN_ATTEMPT)
                        .bind(key.as_str())
                        .bind(window_start.unix())
                        .fetch_one(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok((
                    u64::try_from(attempts).unwrap_or(0),
                    Timestamp::from_unix(window_start),
                ))
            }

            async fn record_failed_sign_in(
                &self,
                user: &UserId,
                now: Timestamp,
                policy: LockoutPolicy,
            ) -> Result<User> {
                sqlx::query_as::<_, UserRow>(sql::RECORD_FAILED_SIGN_IN)
                    .bind(user.as_str())
                    .bind(now.unix())
                    .bind(i64::from(policy.threshold))
                    .bind(now.plus(policy.duration).unix())
                    .one(&self.pool)
                    .await
            }

            async fn record_successful_sign_in(
                &self,
                user: &UserId,
                now: Timestamp,
                verified_hash: &str,
                rehashed_password: Option<&str>,
            ) -> Result<bool> {
                let written = sqlx::query(sql::RECORD_SUCCESSFUL_SIGN_IN)
                    .bind(user.as_str())
                    .bind(now.unix())
                    .bind(rehashed_password)
                    .bind(verified_hash)
                    .run(&self.pool)
                    .await?;
                Ok(written > 0)
            }

            async fn replace_password(
                &self,
                user: &UserId,
                expected_hash: &str,
                new_hash: &str,
                now: Timestamp,
            ) -> Result<bool> {
                let written = sqlx::query(sql::REPLACE_PASSWORD)
                    .bind(user.as_str())
                    .bind(new_hash)
                    .bind(now.unix())
                    .bind(expected_hash)
                    .run(&self.pool)
                    .await?;
                Ok(written > 0)
            }

            async fn insert_session_token(
                &self,
                token: &TokenHash,
                grant: &SessionTokenGrant,
            ) -> Result<()> {
                sqlx::query(sql::INSERT_SESSION_TOKEN)
                    .bind(token.as_str())
                    .bind(grant.user_id.as_str())
                    .bind(grant.auth_time.unix())
                    .bind(json(&grant.amr))
                    .bind(grant.expires_at.unix())
                    .run(&self.pool)
                    .await?;
                Ok(())
            }

            async fn consume_session_token(
                &self,
                token: &TokenHash,
                now: Timestamp,
            ) -> Result<Option<SessionTokenGrant>> {
                let row = sqlx::query_as::<_, SessionTokenRow>(sql::CONSUME_SESSION_TOKEN)
                    .bind(token.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                let Some(row) = row else { return Ok(None) };
                let grant = SessionTokenGrant::try_from(row)?;
                Ok((grant.expires_at > now).then_some(grant))
            }

            async fn replace_recovery_token(
                &self,
                token: &TokenHash,
                pending: &PendingAuthn,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                sqlx::query(sql::DELETE_RECOVERY_TOKENS)
                    .bind(pending.user_id.as_str())
                    .run(&mut *tx)
                    .await?;
                insert_transaction(&mut *tx, token, pending).await?;
                tx.commit().await.map_err(map_err)
            }

            async fn complete_recovery(&self, user: &User) -> Result<bool> {
                match super::users::write_user(
                    &self.pool,
                    $crate::store::users::UPDATE_USER_IN_RECOVERY,
                    user,
                )
                .await
                {
                    Ok(()) => Ok(true),
                    Err(Error::NotFound) => Ok(false),
                    Err(err) => Err(err),
                }
            }

            async fn insert_transaction(
                &self,
                state: &TokenHash,
                pending: &PendingAuthn,
            ) -> Result<()> {
                insert_transaction(&self.pool, state, pending).await
            }

            async fn get_transaction(
                &self,
                state: &TokenHash,
                now: Timestamp,
            ) -> Result<Option<PendingAuthn>> {
                sqlx::query_as::<_, PendingAuthnRow>(sql::GET_TRANSACTION)
                    .bind(state.as_str())
                    .bind(now.unix())
                    .optional(&self.pool)
                    .await
            }

            async fn consume_transaction(
                &self,
                state: &TokenHash,
                now: Timestamp,
            ) -> Result<Option<PendingAuthn>> {
                sqlx::query_as::<_, PendingAuthnRow>(sql::CONSUME_TRANSACTION)
                    .bind(state.as_str())
                    .bind(now.unix())
                    .optional(&self.pool)
                    .await
            }
        }

        async fn insert_transaction<'e>(
            executor: impl sqlx::Executor<'e, Database = Db>,
            state: &TokenHash,
            pending: &PendingAuthn,
        ) -> Result<()> {
            sqlx::query(sql::INSERT_TRANSACTION)
                .bind(state.as_str())
                .bind(pending.user_id.as_str())
                .bind(pending.state.as_str())
                .bind(pending.relay_state.as_deref())
                .bind(pending.auth_time.unix())
                .bind(pending.expires_at.unix())
                .run(executor)
                .await?;
            Ok(())
        }
    };
}

pub(super) use implement;
