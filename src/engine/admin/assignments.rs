//! Okta's app assignments: users assigned to an app directly (`scope` `USER`) or through a
//! group assigned to it (`GROUP`). Only an assigned user signs in to an app
//! ([`crate::engine::oauth`] asks [`crate::store::AssignmentStore::is_assigned`]).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::engine::{Error, Result};
use crate::model::{
    AppGroupAssignment, AppUserAssignment, AssignmentScope, Client, Group, User, UserQuery,
};

use super::Admin;

/// Okta's highest group assignment priority.
const MAX_PRIORITY: u32 = 100;

/// A user as assigned to an app, directly or through a group.
#[derive(Debug, Clone)]
pub struct AppUser {
    /// The assignment: the direct one, or, for `GROUP`, one made from the group's.
    pub assignment: AppUserAssignment,
    /// How the user is assigned.
    pub scope: AssignmentScope,
    /// The group that assigns them, for `GROUP`.
    pub group_id: Option<String>,
    /// The user.
    pub user: User,
}

/// A direct assignment as an administrator or the seed file asks for it.
#[derive(Debug, Clone, Default)]
pub struct AppUserSpec {
    /// `credentials.userName`.
    pub user_name: Option<String>,
    /// The app user profile.
    pub profile: Map<String, Value>,
}

/// A page of an app's users.
#[derive(Debug)]
pub struct AppUserPage {
    /// The users, by id.
    pub users: Vec<AppUser>,
    /// Whether more follow the last.
    pub more: bool,
}

impl Admin {
    /// Assigns a user (by id or login) to an app directly, or replaces the assignment's name
    /// and profile.
    #[tracing::instrument(skip_all, fields(app.id = %app_id))]
    pub async fn assign_user_to_app(
        &self,
        app_id: &str,
        user: &str,
        spec: AppUserSpec,
    ) -> Result<AppUser> {
        self.app(app_id).await?;
        let user = self.find_user(user).await?;
        let now = self.now();
        let created_at = self
            .store
            .get_app_user(app_id, user.id.as_str())
            .await?
            .map_or(now, |existing| existing.created_at);
        let assignment = AppUserAssignment {
            app_id: app_id.to_owned(),
            user_id: user.id.as_str().to_owned(),
            profile: spec.profile,
            user_name: spec.user_name,
            created_at,
            updated_at: now,
        };
        match self.store.put_app_user(&assignment).await {
            Err(crate::store::Error::NotFound) => return Err(super::apps::app_not_found(app_id)),
            other => other?,
        }
        Ok(AppUser {
            assignment,
            scope: AssignmentScope::User,
            group_id: None,
            user,
        })
    }

    /// A user as assigned to an app; `404` if they are not.
    pub async fn app_user(&self, app_id: &str, user: &str) -> Result<AppUser> {
        self.app(app_id).await?;
        let user = self.find_user(user).await?;
        if let Some(assignment) = self.store.get_app_user(app_id, user.id.as_str()).await? {
            return Ok(AppUser {
                assignment,
                scope: AssignmentScope::User,
                group_id: None,
                user,
            });
        }
        let groups = self.store.list_app_groups(app_id).await?;
        let member_of = self.store.list_user_groups(user.id.as_str()).await?;
        groups
            .into_iter()
            .find(|assigned| member_of.iter().any(|group| group.id == assigned.group_id))
            .map(|assigned| through_group(&assigned, user.clone()))
            .ok_or_else(|| app_user_not_found(user.id.as_str()))
    }

    /// The users assigned to an app, directly or through its groups, by id, after the
    /// cursor.
    pub async fn app_users(
        &self,
        app_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<AppUserPage> {
        self.app(app_id).await?;
        let mut assigned: BTreeMap<String, AppUser> = BTreeMap::new();
        // The lowest priority number wins where a user is in several assigned groups.
        for group_assignment in self.store.list_app_groups(app_id).await?.iter().rev() {
            for user in self.every_member(&group_assignment.group_id).await? {
                assigned.insert(
                    user.id.as_str().to_owned(),
                    through_group(group_assignment, user),
                );
            }
        }
        for assignment in self.store.list_app_users(app_id).await? {
            let user = match self.find_user(&assignment.user_id).await {
                Ok(user) => user,
                // Deleted meanwhile.
                Err(Error::NotFound { .. }) => continue,
                Err(err) => return Err(err),
            };
            assigned.insert(
                assignment.user_id.clone(),
                AppUser {
                    assignment,
                    scope: AssignmentScope::User,
                    group_id: None,
                    user,
                },
            );
        }
        let mut users: Vec<AppUser> = assigned
            .into_values()
            .filter(|user| after.is_none_or(|after| user.user.id.as_str() > after))
            .take(limit.saturating_add(1))
            .collect();
        let more = users.len() > limit;
        users.truncate(limit);
        Ok(AppUserPage { users, more })
    }

    /// Ends a user's direct assignment. A user assigned through a group cannot be unassigned
    /// alone, as in Okta.
    #[tracing::instrument(skip_all, fields(app.id = %app_id))]
    pub async fn unassign_user_from_app(&self, app_id: &str, user: &str) -> Result<()> {
        let app_user = self.app_user(app_id, user).await?;
        // Assigned directly and through a group too, the user would stay assigned: refused,
        // as Okta refuses it.
        let member_of = self
            .store
            .list_user_groups(app_user.user.id.as_str())
            .await?;
        let through_group = self
            .store
            .list_app_groups(app_id)
            .await?
            .iter()
            .any(|assigned| member_of.iter().any(|group| group.id == assigned.group_id));
        if through_group {
            return Err(Error::Refused {
                code: "E0000046",
                summary: "Deactivate application for user forbidden.".to_owned(),
                cause: Some(
                    "The application cannot be unassigned from the user while their group \
                     memberships grant them access"
                        .to_owned(),
                ),
            });
        }
        self.store
            .delete_app_user(app_id, app_user.user.id.as_str())
            .await?;
        Ok(())
    }

    /// Assigns a group to an app, or replaces its priority and profile. Without a priority, a
    /// new assignment comes after the app's others, as in Okta.
    #[tracing::instrument(skip_all, fields(app.id = %app_id, group.id = %group_id))]
    pub async fn assign_group_to_app(
        &self,
        app_id: &str,
        group_id: &str,
        priority: Option<u32>,
        profile: Option<Map<String, Value>>,
    ) -> Result<AppGroupAssignment> {
        self.app(app_id).await?;
        self.group(group_id).await?;
        if priority.is_some_and(|priority| priority > MAX_PRIORITY) {
            return Err(Error::Validation(vec![format!(
                "priority: must be a number from 0 to {MAX_PRIORITY}"
            )]));
        }
        let existing = self.store.list_app_groups(app_id).await?;
        let current = existing
            .iter()
            .find(|assignment| assignment.group_id == group_id);
        let priority = priority
            .or_else(|| current.map(|assignment| assignment.priority))
            .unwrap_or_else(|| {
                existing
                    .iter()
                    .map(|assignment| assignment.priority.saturating_add(1))
                    .max()
                    .unwrap_or(0)
                    .min(MAX_PRIORITY)
            });
        let assignment = AppGroupAssignment {
            app_id: app_id.to_owned(),
            group_id: group_id.to_owned(),
            priority,
            profile: profile
                .or_else(|| current.map(|assignment| assignment.profile.clone()))
                .unwrap_or_default(),
            updated_at: self.now(),
        };
        match self.store.put_app_group(&assignment).await {
            Err(crate::store::Error::NotFound) => Err(super::groups::group_not_found(group_id)),
            other => Ok(other?),
        }?;
        Ok(assignment)
    }

    /// A group's assignment to an app.
    pub async fn app_group(&self, app_id: &str, group_id: &str) -> Result<AppGroupAssignment> {
        self.app(app_id).await?;
        self.store
            .get_app_group(app_id, group_id)
            .await?
            .ok_or_else(|| super::groups::group_not_found(group_id))
    }

    /// The groups assigned to an app, by priority.
    pub async fn app_groups(&self, app_id: &str) -> Result<Vec<(AppGroupAssignment, Group)>> {
        self.app(app_id).await?;
        let mut groups = Vec::new();
        for assignment in self.store.list_app_groups(app_id).await? {
            match self.group(&assignment.group_id).await {
                Ok(group) => groups.push((assignment, group)),
                Err(Error::NotFound { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(groups)
    }

    /// Ends a group's assignment to an app.
    #[tracing::instrument(skip_all, fields(app.id = %app_id, group.id = %group_id))]
    pub async fn unassign_group_from_app(&self, app_id: &str, group_id: &str) -> Result<()> {
        self.app(app_id).await?;
        if !self.store.delete_app_group(app_id, group_id).await? {
            return Err(super::groups::group_not_found(group_id));
        }
        Ok(())
    }

    /// The apps a group is assigned to.
    pub async fn group_apps(&self, group_id: &str) -> Result<Vec<Client>> {
        self.group(group_id).await?;
        let mut apps = Vec::new();
        for app in self.apps().await? {
            if self
                .store
                .get_app_group(app.id.as_str(), group_id)
                .await?
                .is_some()
            {
                apps.push(app);
            }
        }
        Ok(apps)
    }

    /// Makes the app's assignments exactly these users (logins) and groups (names), the seed
    /// file's way.
    pub async fn set_app_assignments(
        &self,
        app_id: &str,
        logins: &[String],
        group_names: &[String],
    ) -> Result<()> {
        let unknown = |what: &str, name: &str| {
            Error::Validation(vec![format!("apps.{app_id}: no {what} {name:?} to assign")])
        };
        let mut user_ids = Vec::with_capacity(logins.len());
        for login in logins {
            match self.find_user(login).await {
                Ok(user) => user_ids.push(user.id.as_str().to_owned()),
                Err(Error::NotFound { .. }) => return Err(unknown("user", login)),
                Err(err) => return Err(err),
            }
        }
        let groups = self.store.list_groups().await?;
        let mut group_ids = Vec::with_capacity(group_names.len());
        for name in group_names {
            let group = groups
                .iter()
                .find(|group| group.name.to_lowercase() == name.to_lowercase())
                .ok_or_else(|| unknown("group", name))?;
            group_ids.push(group.id.clone());
        }
        for assignment in self.store.list_app_users(app_id).await? {
            if !user_ids.contains(&assignment.user_id) {
                self.store
                    .delete_app_user(app_id, &assignment.user_id)
                    .await?;
            }
        }
        for assignment in self.store.list_app_groups(app_id).await? {
            if !group_ids.contains(&assignment.group_id) {
                self.store
                    .delete_app_group(app_id, &assignment.group_id)
                    .await?;
            }
        }
        for user_id in &user_ids {
            if self.store.get_app_user(app_id, user_id).await?.is_none() {
                self.assign_user_to_app(app_id, user_id, AppUserSpec::default())
                    .await?;
            }
        }
        for (priority, group_id) in group_ids.iter().enumerate() {
            let priority = u32::try_from(priority)
                .unwrap_or(MAX_PRIORITY)
                .min(MAX_PRIORITY);
            self.assign_group_to_app(app_id, group_id, Some(priority), None)
                .await?;
        }
        Ok(())
    }

    /// Every member of a group: for `Everyone`, every user.
    pub(super) async fn every_member(&self, group_id: &str) -> Result<Vec<User>> {
        let group = self.group(group_id).await?;
        let mut members = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = if group.is_built_in() {
                self.store
                    .list_users(&UserQuery {
                        after: after.clone(),
                        limit: 1000,
                        ..UserQuery::default()
                    })
                    .await?
            } else {
                self.store
                    .list_group_members(group_id, after.as_deref(), 1000)
                    .await?
            };
            let done = page.len() < 1000;
            after = page.last().map(|user| user.id.as_str().to_owned());
            members.extend(page);
            if done {
                return Ok(members);
            }
        }
    }
}

fn through_group(group_assignment: &AppGroupAssignment, user: User) -> AppUser {
    AppUser {
        assignment: AppUserAssignment {
            app_id: group_assignment.app_id.clone(),
            user_id: user.id.as_str().to_owned(),
            profile: group_assignment.profile.clone(),
            user_name: None,
            created_at: group_assignment.updated_at,
            updated_at: group_assignment.updated_at,
        },
        scope: AssignmentScope::Group,
        group_id: Some(group_assignment.group_id.clone()),
        user,
    }
}

fn app_user_not_found(user_id: &str) -> Error {
    Error::NotFound {
        kind: "AppUser",
        id: user_id.to_owned(),
    }
}
