//! Groups and their members. `Everyone` is a row of its own, made by the migration, whose
//! members are not stored: every user is one.

use async_trait::async_trait;

use crate::model::{Group, Membership, Memberships, Timestamp, User};

use super::query::parse;
use super::{Error, Result};

/// Okta's groups.
#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Adds a group; [`Error::Conflict`] if its name is taken (in any case).
    async fn insert_group(&self, group: &Group) -> Result<()>;
    /// One group by id; [`Error::NotFound`] if there is none.
    async fn get_group(&self, id: &str) -> Result<Group>;
    /// Every group, by id.
    async fn list_groups(&self) -> Result<Vec<Group>>;
    /// Replaces a group's name, description and update time; [`Error::NotFound`] if it is
    /// gone, [`Error::Conflict`] if the name is taken.
    async fn update_group(&self, group: &Group) -> Result<()>;
    /// Deletes a group, its memberships and its app assignments; whether there was one.
    async fn delete_group(&self, id: &str) -> Result<bool>;
    /// Makes a user a member (nothing if they are one); [`Error::NotFound`] if the group or
    /// the user is gone.
    async fn add_group_member(&self, group_id: &str, user_id: &str, now: Timestamp) -> Result<()>;
    /// Ends a membership; whether there was one.
    async fn remove_group_member(
        &self,
        group_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<bool>;
    /// The stored members of a group, by id, after the cursor, at most `limit`.
    async fn list_group_members(
        &self,
        group_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>>;
    /// Every group the user is in, `Everyone` included, by id.
    async fn list_user_groups(&self, user_id: &str) -> Result<Vec<Group>>;
    /// The id and name of every group the user is in, `Everyone` included, in any order, with
    /// the user's groups revision they were read at (0 for no such user): what a token needs,
    /// read as one row however many groups there are.
    async fn user_memberships(&self, user_id: &str) -> Result<Memberships>;
}

macro_rules! group_columns {
    () => {
        "g.id, g.kind, g.name, g.description, g.created_at, g.updated_at, \
         g.membership_updated_at"
    };
}
pub(super) const INSERT_GROUP: &str = "INSERT INTO groups (id, kind, name, name_lower, \
     description, created_at, updated_at, membership_updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(super) const GET_GROUP: &str = concat!(
    "SELECT ",
    group_columns!(),
    " FROM groups g WHERE g.id = $1"
);
pub(super) const LIST_GROUPS: &str =
    concat!("SELECT ", group_columns!(), " FROM groups g ORDER BY g.id");
pub(super) const UPDATE_GROUP: &str = "UPDATE groups SET name = $2, name_lower = $3, \
     description = $4, updated_at = $5 WHERE id = $1 AND kind <> 'BUILT_IN'";
// Memberships and assignments go with it (ON DELETE CASCADE).
pub(super) const DELETE_GROUP: &str = "DELETE FROM groups WHERE id = $1 AND kind <> 'BUILT_IN'";
pub(super) const ADD_GROUP_MEMBER: &str = "INSERT INTO group_members (group_id, user_id, \
     added_at) VALUES ($1, $2, $3) ON CONFLICT (group_id, user_id) DO NOTHING";
pub(super) const REMOVE_GROUP_MEMBER: &str =
    "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2";
pub(super) const TOUCH_MEMBERSHIP: &str =
    "UPDATE groups SET membership_updated_at = $2 WHERE id = $1";
pub(super) const LIST_GROUP_MEMBERS: &str = concat!(
    "SELECT ",
    super::users::joined_user_columns!(),
    " FROM group_members m JOIN users u ON u.id = m.user_id \
     WHERE m.group_id = $1 AND ($2 IS NULL OR u.id > $2) ORDER BY u.id LIMIT $3"
);
pub(super) const LIST_USER_GROUPS: &str = concat!(
    "SELECT ",
    group_columns!(),
    " FROM groups g WHERE g.kind = 'BUILT_IN' \
     OR g.id IN (SELECT group_id FROM group_members WHERE user_id = $1) ORDER BY g.id"
);

/// Separates an id from its name, and one group from the next, in [`USER_MEMBERSHIPS`]: ASCII
/// control characters a group name cannot hold.
pub(super) const FIELD_SEPARATOR: char = '\u{1f}';
pub(super) const ITEM_SEPARATOR: char = '\u{1e}';
// One row, whatever the number of groups: rows cost far more than bytes to read, and a user
// in hundreds of groups signs in as fast as one in a few. Both backends have string_agg.
pub(super) const USER_MEMBERSHIPS: &str =
    "SELECT (SELECT groups_revision FROM users WHERE id = $1), \
     (SELECT string_agg(g.id || '\u{1f}' || g.name, '\u{1e}') \
     FROM groups g WHERE g.kind = 'BUILT_IN' \
     OR g.id IN (SELECT group_id FROM group_members WHERE user_id = $1))";

/// The memberships [`USER_MEMBERSHIPS`] joined into one text.
pub(super) fn split_memberships(joined: Option<String>) -> Result<Vec<Membership>> {
    let Some(joined) = joined else {
        return Ok(Vec::new());
    };
    joined
        .split(ITEM_SEPARATOR)
        .map(|item| {
            let (id, name) = item
                .split_once(FIELD_SEPARATOR)
                .ok_or_else(|| Error::corrupt("a group membership without a name"))?;
            Ok(Membership {
                id: id.to_owned(),
                name: name.to_owned(),
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
pub(super) struct GroupRow {
    id: String,
    kind: String,
    name: String,
    description: Option<String>,
    created_at: i64,
    updated_at: i64,
    membership_updated_at: i64,
}

impl TryFrom<GroupRow> for Group {
    type Error = Error;

    fn try_from(row: GroupRow) -> Result<Self, Error> {
        Ok(Group {
            id: row.id,
            kind: parse(&row.kind)?,
            name: row.name,
            description: row.description,
            created_at: Timestamp::from_unix(row.created_at),
            updated_at: Timestamp::from_unix(row.updated_at),
            membership_updated_at: Timestamp::from_unix(row.membership_updated_at),
        })
    }
}

/// Implements [`GroupStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::{Group, Timestamp, User};
        use $crate::store::groups::{self as sql, GroupRow, GroupStore};
        use $crate::store::query::{found, Fetch, Run};
        use $crate::store::users::UserRow;
        use $crate::store::Result;

        #[async_trait::async_trait]
        impl GroupStore for $store {
            async fn insert_group(&self, group: &Group) -> Result<()> {
                sqlx::query(sql::INSERT_GROUP)
                    .bind(group.id.as_str())
                    .bind(group.kind.as_str())
                    .bind(group.name.as_str())
                    .bind(group.name.to_lowercase())
                    .bind(group.description.as_deref())
                    .bind(group.created_at.unix())
                    .bind(group.updated_at.unix())
                    .bind(group.membership_updated_at.unix())
                    .run(&self.pool)
                    .await?;
                Ok(())
            }

            async fn get_group(&self, id: &str) -> Result<Group> {
                sqlx::query_as::<_, GroupRow>(sql::GET_GROUP)
                    .bind(id)
                    .one(&self.pool)
                    .await
            }

            async fn list_groups(&self) -> Result<Vec<Group>> {
                sqlx::query_as::<_, GroupRow>(sql::LIST_GROUPS)
                    .all(&self.pool)
                    .await
            }

            async fn update_group(&self, group: &Group) -> Result<()> {
                let updated = sqlx::query(sql::UPDATE_GROUP)
                    .bind(group.id.as_str())
                    .bind(group.name.as_str())
                    .bind(group.name.to_lowercase())
                    .bind(group.description.as_deref())
                    .bind(group.updated_at.unix())
                    .run(&self.pool)
                    .await?;
                found(updated)
            }

            async fn delete_group(&self, id: &str) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_GROUP)
                    .bind(id)
                    .run(&self.pool)
                    .await?;
                Ok(deleted > 0)
            }

            async fn add_group_member(
                &self,
                group_id: &str,
                user_id: &str,
                now: Timestamp,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                let added = sqlx::query(sql::ADD_GROUP_MEMBER)
                    .bind(group_id)
                    .bind(user_id)
                    .bind(now.unix())
                    .run(&mut *tx)
                    .await
                    .map_err($crate::store::query::missing_reference)?;
                if added > 0 {
                    sqlx::query(sql::TOUCH_MEMBERSHIP)
                        .bind(group_id)
                        .bind(now.unix())
                        .run(&mut *tx)
                        .await?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn remove_group_member(
                &self,
                group_id: &str,
                user_id: &str,
                now: Timestamp,
            ) -> Result<bool> {
                // The group's row before the membership's, as a rename or a deletion of the
                // group takes them; the user's row is written last, at commit (a deferred
                // trigger), so none of these can deadlock with another on PostgreSQL.
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                sqlx::query(sql::TOUCH_MEMBERSHIP)
                    .bind(group_id)
                    .bind(now.unix())
                    .run(&mut *tx)
                    .await?;
                let removed = sqlx::query(sql::REMOVE_GROUP_MEMBER)
                    .bind(group_id)
                    .bind(user_id)
                    .run(&mut *tx)
                    .await?;
                if removed == 0 {
                    tx.rollback().await.map_err(map_err)?;
                    return Ok(false);
                }
                tx.commit().await.map_err(map_err)?;
                Ok(true)
            }

            async fn list_group_members(
                &self,
                group_id: &str,
                after: Option<&str>,
                limit: u32,
            ) -> Result<Vec<User>> {
                sqlx::query_as::<_, UserRow>(sql::LIST_GROUP_MEMBERS)
                    .bind(group_id)
                    .bind(after)
                    .bind(i64::from(limit))
                    .all(&self.pool)
                    .await
            }

            async fn user_memberships(&self, user_id: &str) -> Result<$crate::model::Memberships> {
                let (revision, joined): (Option<i64>, Option<String>) =
                    sqlx::query_as(sql::USER_MEMBERSHIPS)
                        .bind(user_id)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok($crate::model::Memberships {
                    revision: revision.unwrap_or(0),
                    groups: sql::split_memberships(joined)?,
                })
            }

            async fn list_user_groups(&self, user_id: &str) -> Result<Vec<Group>> {
                sqlx::query_as::<_, GroupRow>(sql::LIST_USER_GROUPS)
                    .bind(user_id)
                    .all(&self.pool)
                    .await
            }
        }
    };
}

pub(super) use implement;
