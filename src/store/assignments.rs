//! Who is assigned to which app: users directly, and groups whose members are.

use async_trait::async_trait;

use crate::model::{AppGroupAssignment, AppUserAssignment, Timestamp};

use super::{Error, Result};

/// Okta's app assignments.
#[async_trait]
pub trait AssignmentStore: Send + Sync {
    /// Assigns a user to an app, or replaces the assignment's name and profile (keeping when
    /// it was made). [`Error::NotFound`] if the app or the user is gone.
    async fn put_app_user(&self, assignment: &AppUserAssignment) -> Result<()>;
    /// A user's direct assignment to an app.
    async fn get_app_user(&self, app_id: &str, user_id: &str) -> Result<Option<AppUserAssignment>>;
    /// Every direct assignment to an app, by user id.
    async fn list_app_users(&self, app_id: &str) -> Result<Vec<AppUserAssignment>>;
    /// Ends a direct assignment; whether there was one.
    async fn delete_app_user(&self, app_id: &str, user_id: &str) -> Result<bool>;
    /// Assigns a group to an app, or replaces its priority and profile.
    /// [`Error::NotFound`] if the app or the group is gone.
    async fn put_app_group(&self, assignment: &AppGroupAssignment) -> Result<()>;
    /// A group's assignment to an app.
    async fn get_app_group(
        &self,
        app_id: &str,
        group_id: &str,
    ) -> Result<Option<AppGroupAssignment>>;
    /// Every group assigned to an app, by priority, then group id.
    async fn list_app_groups(&self, app_id: &str) -> Result<Vec<AppGroupAssignment>>;
    /// Ends a group's assignment; whether there was one.
    async fn delete_app_group(&self, app_id: &str, group_id: &str) -> Result<bool>;
    /// Whether the user is assigned to the app: directly, through a group they are in, or
    /// through `Everyone`. One statement, so that a membership removed is seen at once.
    async fn is_assigned(&self, app_id: &str, user_id: &str) -> Result<bool>;
}

pub(super) const PUT_APP_USER: &str = "INSERT INTO app_user_assignments (app_id, user_id, \
     user_name, profile, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (app_id, user_id) DO UPDATE SET user_name = excluded.user_name, \
     profile = excluded.profile, updated_at = excluded.updated_at";
macro_rules! app_user_columns {
    () => {
        "app_id, user_id, user_name, profile, created_at, updated_at"
    };
}
pub(super) const GET_APP_USER: &str = concat!(
    "SELECT ",
    app_user_columns!(),
    " FROM app_user_assignments WHERE app_id = $1 AND user_id = $2"
);
pub(super) const LIST_APP_USERS: &str = concat!(
    "SELECT ",
    app_user_columns!(),
    " FROM app_user_assignments WHERE app_id = $1 ORDER BY user_id"
);
pub(super) const DELETE_APP_USER: &str =
    "DELETE FROM app_user_assignments WHERE app_id = $1 AND user_id = $2";
pub(super) const PUT_APP_GROUP: &str = "INSERT INTO app_group_assignments (app_id, group_id, \
     priority, profile, updated_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (app_id, group_id) DO UPDATE SET priority = excluded.priority, \
     profile = excluded.profile, updated_at = excluded.updated_at";
macro_rules! app_group_columns {
    () => {
        "app_id, group_id, priority, profile, updated_at"
    };
}
pub(super) const GET_APP_GROUP: &str = concat!(
    "SELECT ",
    app_group_columns!(),
    " FROM app_group_assignments WHERE app_id = $1 AND group_id = $2"
);
pub(super) const LIST_APP_GROUPS: &str = concat!(
    "SELECT ",
    app_group_columns!(),
    " FROM app_group_assignments WHERE app_id = $1 ORDER BY priority, group_id"
);
pub(super) const DELETE_APP_GROUP: &str =
    "DELETE FROM app_group_assignments WHERE app_id = $1 AND group_id = $2";
pub(super) const IS_ASSIGNED: &str = "SELECT 1 AS assigned WHERE \
     EXISTS (SELECT 1 FROM app_user_assignments WHERE app_id = $1 AND user_id = $2) \
     OR EXISTS (SELECT 1 FROM app_group_assignments a JOIN groups g ON g.id = a.group_id \
       WHERE a.app_id = $1 AND (g.kind = 'BUILT_IN' OR EXISTS (SELECT 1 FROM group_members m \
       WHERE m.group_id = a.group_id AND m.user_id = $2)))";

#[derive(sqlx::FromRow)]
pub(super) struct AppUserRow {
    app_id: String,
    user_id: String,
    user_name: Option<String>,
    profile: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AppUserRow> for AppUserAssignment {
    type Error = Error;

    fn try_from(row: AppUserRow) -> Result<Self, Error> {
        Ok(AppUserAssignment {
            app_id: row.app_id,
            user_id: row.user_id,
            user_name: row.user_name,
            profile: serde_json::from_str(&row.profile).map_err(Error::corrupt)?,
            created_at: Timestamp::from_unix(row.created_at),
            updated_at: Timestamp::from_unix(row.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AppGroupRow {
    app_id: String,
    group_id: String,
    priority: i64,
    profile: String,
    updated_at: i64,
}

impl TryFrom<AppGroupRow> for AppGroupAssignment {
    type Error = Error;

    fn try_from(row: AppGroupRow) -> Result<Self, Error> {
        Ok(AppGroupAssignment {
            app_id: row.app_id,
            group_id: row.group_id,
            priority: u32::try_from(row.priority).map_err(Error::corrupt)?,
            profile: serde_json::from_str(&row.profile).map_err(Error::corrupt)?,
            updated_at: Timestamp::from_unix(row.updated_at),
        })
    }
}

/// Implements [`AssignmentStore`] for a backend, in [`super::portable::portable_stores`].
macro_rules! implement {
    ($store:ty) => {
        use $crate::model::{AppGroupAssignment, AppUserAssignment};
        use $crate::store::assignments::{self as sql, AppGroupRow, AppUserRow, AssignmentStore};
        use $crate::store::query::{json, missing_reference, Fetch, Run};
        use $crate::store::Result;

        #[async_trait::async_trait]
        impl AssignmentStore for $store {
            async fn put_app_user(&self, assignment: &AppUserAssignment) -> Result<()> {
                sqlx::query(sql::PUT_APP_USER)
                    .bind(assignment.app_id.as_str())
                    .bind(assignment.user_id.as_str())
                    .bind(assignment.user_name.as_deref())
                    .bind(json(&assignment.profile))
                    .bind(assignment.created_at.unix())
                    .bind(assignment.updated_at.unix())
                    .run(&self.pool)
                    .await
                    .map_err(missing_reference)?;
                Ok(())
            }

            async fn get_app_user(
                &self,
                app_id: &str,
                user_id: &str,
            ) -> Result<Option<AppUserAssignment>> {
                sqlx::query_as::<_, AppUserRow>(sql::GET_APP_USER)
                    .bind(app_id)
                    .bind(user_id)
                    .optional(&self.pool)
                    .await
            }

            async fn list_app_users(&self, app_id: &str) -> Result<Vec<AppUserAssignment>> {
                sqlx::query_as::<_, AppUserRow>(sql::LIST_APP_USERS)
                    .bind(app_id)
                    .all(&self.pool)
                    .await
            }

            async fn delete_app_user(&self, app_id: &str, user_id: &str) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_APP_USER)
                    .bind(app_id)
                    .bind(user_id)
                    .run(&self.pool)
                    .await?;
                Ok(deleted > 0)
            }

            async fn put_app_group(&self, assignment: &AppGroupAssignment) -> Result<()> {
                sqlx::query(sql::PUT_APP_GROUP)
                    .bind(assignment.app_id.as_str())
                    .bind(assignment.group_id.as_str())
                    .bind(i64::from(assignment.priority))
                    .bind(json(&assignment.profile))
                    .bind(assignment.updated_at.unix())
                    .run(&self.pool)
                    .await
                    .map_err(missing_reference)?;
                Ok(())
            }

            async fn get_app_group(
                &self,
                app_id: &str,
                group_id: &str,
            ) -> Result<Option<AppGroupAssignment>> {
                sqlx::query_as::<_, AppGroupRow>(sql::GET_APP_GROUP)
                    .bind(app_id)
                    .bind(group_id)
                    .optional(&self.pool)
                    .await
            }

            async fn list_app_groups(&self, app_id: &str) -> Result<Vec<AppGroupAssignment>> {
                sqlx::query_as::<_, AppGroupRow>(sql::LIST_APP_GROUPS)
                    .bind(app_id)
                    .all(&self.pool)
                    .await
            }

            async fn delete_app_group(&self, app_id: &str, group_id: &str) -> Result<bool> {
                let deleted = sqlx::query(sql::DELETE_APP_GROUP)
                    .bind(app_id)
                    .bind(group_id)
                    .run(&self.pool)
                    .await?;
                Ok(deleted > 0)
            }

            async fn is_assigned(&self, app_id: &str, user_id: &str) -> Result<bool> {
                let found: Option<(i32,)> = sqlx::query_as(sql::IS_ASSIGNED)
                    .bind(app_id)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(found.is_some())
            }
        }
    };
}

pub(super) use implement;
