//! Users: profile, status and password; lockout is counted by the sign-in statements in `authn`.

use async_trait::async_trait;

use crate::model::{Timestamp, User, UserId, UserQuery};

use super::query::{parse, parse_id};
use super::{Error, Result};

/// Users.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// The user with this login (case-insensitive); [`Error::NotFound`] if there is none.
    async fn get_user_by_login(&self, login: &str) -> Result<User>;
    /// The user with this id; [`Error::NotFound`] if there is none.
    async fn get_user(&self, id: &UserId) -> Result<User>;
    /// Adds a user; [`Error::Conflict`] if the id or login is taken.
    async fn insert_user(&self, user: &User) -> Result<()>;
    /// Replaces a user's fields except the lockout counters; [`Error::NotFound`] if none.
    async fn update_user(&self, user: &User) -> Result<()>;
    /// Users matching the query, ordered by id, after the cursor, at most `limit`.
    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>>;
    /// Clears a lockout and the failure count.
    async fn unlock_user(&self, id: &UserId, now: Timestamp) -> Result<()>;
    /// Deletes a user and everything of theirs; whether there was one.
    async fn delete_user(&self, id: &UserId) -> Result<bool>;
    /// Writes the user (deactivated or suspended) and, in the same transaction, ends their
    /// authn transactions and everything [`UserStore::end_user_access`] ends, as of
    /// `user.updated_at`.
    async fn update_user_ending_access(&self, user: &User, until: Timestamp) -> Result<()>;
    /// In one transaction: ends every session of the user, revokes every refresh token family
    /// of theirs (their access tokens until `until`), and makes every token issued before `now`
    /// invalid for good.
    async fn end_user_access(&self, id: &UserId, now: Timestamp, until: Timestamp) -> Result<()>;
}

pub(super) const GET_USER_BY_LOGIN: &str = "SELECT id, status, login, profile, password_hash, \
     created_at, activated_at, status_changed_at, last_login_at, updated_at, password_changed_at, \
     failed_sign_ins, locked_until, tokens_valid_after, groups_revision FROM users WHERE login_lower = $1";
/// A user's columns as [`UserRow`] reads them, from a join where the users table is `u`.
macro_rules! joined_user_columns {
    () => {
        "u.id, u.status, u.login, u.profile, u.password_hash, u.created_at, u.activated_at, \
         u.status_changed_at, u.last_login_at, u.updated_at, u.password_changed_at, \
         u.failed_sign_ins, u.locked_until, u.tokens_valid_after, u.groups_revision"
    };
}
pub(super) use joined_user_columns;

pub(super) const GET_USER: &str = "SELECT id, status, login, profile, password_hash, \
     created_at, activated_at, status_changed_at, last_login_at, updated_at, password_changed_at, \
     failed_sign_ins, locked_until, tokens_valid_after, groups_revision FROM users WHERE id = $1";
pub(super) const LIST_USERS: &str = "SELECT id, status, login, profile, password_hash, \
     created_at, activated_at, status_changed_at, last_login_at, updated_at, password_changed_at, \
     failed_sign_ins, locked_until, tokens_valid_after, groups_revision FROM users \
     WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR login_lower = $2) \
     AND ($3 IS NULL OR search_terms LIKE $3 ESCAPE '\\') \
     AND ($4 IS NULL OR id > $4) ORDER BY id LIMIT $5";
pub(super) const UNLOCK_USER: &str = "UPDATE users SET failed_sign_ins = 0, locked_until = NULL, \
     status = CASE WHEN status = 'LOCKED_OUT' THEN 'ACTIVE' ELSE status END, \
     status_changed_at = CASE WHEN status = 'LOCKED_OUT' THEN $2 ELSE status_changed_at END \
     WHERE id = $1";
pub(super) const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";
pub(super) const DELETE_USER_MEMBERSHIPS: &str = "DELETE FROM group_members WHERE user_id = $1";
pub(super) const INSERT_USER: &str = "INSERT INTO users (id, status, login, login_lower, profile, \
     password_hash, created_at, activated_at, status_changed_at, last_login_at, updated_at, \
     password_changed_at, search_terms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
pub(super) const USERS_WITHOUT_SEARCH_TERMS: &str =
    "SELECT id, login, profile FROM users WHERE search_terms IS NULL";
// Only where still unset: another replica may have written newer terms meanwhile.
pub(super) const SET_SEARCH_TERMS: &str =
    "UPDATE users SET search_terms = $2 WHERE id = $1 AND search_terms IS NULL";
// Lockout columns are left to the sign-in statements, so an update never undoes a failure
// counted meanwhile.
macro_rules! update_user {
    () => {
        "UPDATE users SET status = $2, login = $3, login_lower = $4, profile = $5, \
         password_hash = $6, created_at = $7, activated_at = $8, status_changed_at = $9, \
         last_login_at = $10, updated_at = $11, password_changed_at = $12, search_terms = $13"
    };
}
pub(super) const UPDATE_USER: &str = concat!(update_user!(), " WHERE id = $1");
// Ends a recovery only if the user is still in it: an administrator's deactivation in between
// wins. A lockout ends with it.
pub(super) const UPDATE_USER_IN_RECOVERY: &str = concat!(
    update_user!(),
    ", failed_sign_ins = 0, locked_until = NULL WHERE id = $1 AND status = 'RECOVERY'"
);
pub(super) const DELETE_USER_TRANSACTIONS: &str =
    "DELETE FROM authn_transactions WHERE user_id = $1";

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: String,
    status: String,
    login: String,
    profile: String,
    password_hash: Option<String>,
    created_at: i64,
    activated_at: Option<i64>,
    status_changed_at: Option<i64>,
    last_login_at: Option<i64>,
    updated_at: i64,
    password_changed_at: Option<i64>,
    failed_sign_ins: i64,
    locked_until: Option<i64>,
    tokens_valid_after: Option<i64>,
    groups_revision: i64,
}

impl TryFrom<UserRow> for User {
    type Error = Error;

    fn try_from(row: UserRow) -> Result<Self, Error> {
        Ok(User {
            id: parse_id(row.id)?,
            status: parse(&row.status)?,
            login: row.login,
            profile: serde_json::from_str(&row.profile).map_err(Error::corrupt)?,
            password_hash: row.password_hash,
            created_at: Timestamp::from_unix(row.created_at),
            activated_at: row.activated_at.map(Timestamp::from_unix),
            status_changed_at: row.status_changed_at.map(Timestamp::from_unix),
            last_login_at: row.last_login_at.map(Timestamp::from_unix),
            updated_at: Timestamp::from_unix(row.updated_at),
            password_changed_at: row.password_changed_at.map(Timestamp::from_unix),
            failed_sign_ins: u32::try_from(row.failed_sign_ins).unwrap_or(u32::MAX),
            locked_until: row.locked_until.map(Timestamp::from_unix),
            tokens_valid_after: row.tokens_valid_after.map(Timestamp::from_unix),
            groups_revision: row.groups_revision,
        })
    }
}

/// What user search matches, one term per line, each lowercased here (Unicode, so both
/// backends agree): the login, and the profile's first and last name and email, which `q`
/// matches by prefix in Okta.
pub(super) fn search_terms(
    login: &str,
    profile: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let mut terms = String::from("\n");
    let profile_terms = ["firstName", "lastName", "email"]
        .iter()
        .filter_map(|name| profile.get(*name)?.as_str());
    for term in std::iter::once(login).chain(profile_terms) {
        // A line break inside a value would start a term of its own.
        terms.push_str(&term.to_lowercase().replace('\n', " "));
        terms.push('\n');
    }
    terms
}

/// The `LIKE` pattern (escape `\\`) that finds `q` at the start of a search term.
pub(super) fn search_pattern(q: &str) -> String {
    let mut pattern = String::from("%\n");
    // Terms hold no line break: one in `q` matches as a space does.
    for c in q.to_lowercase().replace('\n', " ").chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Implements [`UserStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::{Timestamp, User, UserId};
        use $crate::store::query::{found, json, Fetch, Run};
        use $crate::store::users::{self as sql, UserRow, UserStore};
        use $crate::store::{Error, Result};

        /// Fills in what user search matches for users stored before it was kept.
        pub(super) async fn materialise_search_terms(pool: &Pool) -> Result<()> {
            let users: Vec<(String, String, String)> =
                sqlx::query_as(sql::USERS_WITHOUT_SEARCH_TERMS)
                    .fetch_all(pool)
                    .await
                    .map_err(map_err)?;
            for (id, login, profile) in users {
                let profile: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&profile).map_err(Error::corrupt)?;
                sqlx::query(sql::SET_SEARCH_TERMS)
                    .bind(&id)
                    .bind(sql::search_terms(&login, &profile))
                    .run(pool)
                    .await?;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl UserStore for $store {
            async fn get_user_by_login(&self, login: &str) -> Result<User> {
                sqlx::query_as::<_, UserRow>(sql::GET_USER_BY_LOGIN)
                    .bind(login.to_lowercase())
                    .one(&self.pool)
                    .await
            }

            async fn get_user(&self, id: &UserId) -> Result<User> {
                sqlx::query_as::<_, UserRow>(sql::GET_USER)
                    .bind(id.as_str())
                    .one(&self.pool)
                    .await
            }

            async fn list_users(&self, query: &$crate::model::UserQuery) -> Result<Vec<User>> {
                sqlx::query_as::<_, UserRow>(sql::LIST_USERS)
                    .bind(query.status.as_deref())
                    .bind(query.login.as_ref().map(|login| login.to_lowercase()))
                    .bind(query.q.as_deref().map(sql::search_pattern))
                    .bind(query.after.as_deref())
                    .bind(i64::from(query.limit))
                    .all(&self.pool)
                    .await
            }

            async fn unlock_user(&self, id: &UserId, now: Timestamp) -> Result<()> {
                let written = sqlx::query(sql::UNLOCK_USER)
                    .bind(id.as_str())
                    .bind(now.unix())
                    .run(&self.pool)
                    .await?;
                found(written)
            }

            async fn delete_user(&self, id: &UserId) -> Result<bool> {
                // The memberships before the user's row, in the order a change to a group's
                // members takes them (membership, then user), so that the two cannot deadlock
                // on PostgreSQL.
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                sqlx::query(sql::DELETE_USER_MEMBERSHIPS)
                    .bind(id.as_str())
                    .run(&mut *tx)
                    .await?;
                let deleted = sqlx::query(sql::DELETE_USER)
                    .bind(id.as_str())
                    .run(&mut *tx)
                    .await?;
                tx.commit().await.map_err(map_err)?;
                Ok(deleted > 0)
            }

            async fn update_user_ending_access(&self, user: &User, until: Timestamp) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                write_user(&mut *tx, sql::UPDATE_USER, user).await?;
                sqlx::query(sql::DELETE_USER_TRANSACTIONS)
                    .bind(user.id.as_str())
                    .run(&mut *tx)
                    .await?;
                super::access::end_access(
                    &mut tx,
                    &$crate::store::access::USER_ACCESS,
                    user.id.as_str(),
                    user.updated_at,
                    until,
                )
                .await?;
                tx.commit().await.map_err(map_err)
            }

            async fn end_user_access(
                &self,
                id: &UserId,
                now: Timestamp,
                until: Timestamp,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                super::access::end_access(
                    &mut tx,
                    &$crate::store::access::USER_ACCESS,
                    id.as_str(),
                    now,
                    until,
                )
                .await?;
                tx.commit().await.map_err(map_err)
            }

            async fn insert_user(&self, user: &User) -> Result<()> {
                write_user(&self.pool, sql::INSERT_USER, user).await
            }

            async fn update_user(&self, user: &User) -> Result<()> {
                write_user(&self.pool, sql::UPDATE_USER, user).await
            }
        }

        pub(super) async fn write_user<'e>(
            executor: impl sqlx::Executor<'e, Database = Db>,
            statement: &'static str,
            user: &User,
        ) -> Result<()> {
            let written = sqlx::query(statement)
                .bind(user.id.as_str())
                .bind(user.status.as_str())
                .bind(&user.login)
                .bind(user.login.to_lowercase())
                .bind(json(&user.profile))
                .bind(user.password_hash.as_deref())
                .bind(user.created_at.unix())
                .bind(user.activated_at.map(Timestamp::unix))
                .bind(user.status_changed_at.map(Timestamp::unix))
                .bind(user.last_login_at.map(Timestamp::unix))
                .bind(user.updated_at.unix())
                .bind(user.password_changed_at.map(Timestamp::unix))
                .bind(sql::search_terms(&user.login, &user.profile))
                .run(executor)
                .await?;
            found(written)
        }
    };
}

pub(super) use implement;
