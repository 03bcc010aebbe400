//! Okta's Groups API: groups of users, their members, and `Everyone`, the built-in group of
//! every user, which cannot be changed.

use crate::engine::{Change, Error, Result};
use crate::model::{new_okta_id, Group, GroupType, User, UserQuery};
use crate::store;

use super::Admin;

/// The most characters Okta allows in a group's name.
const MAX_NAME: usize = 255;
/// The most characters Okta allows in a group's description.
const MAX_DESCRIPTION: usize = 1024;

/// A group's profile as an administrator or the seed file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    /// `profile.name`, unique among groups.
    pub name: String,
    /// `profile.description`.
    pub description: Option<String>,
}

/// A page of a group's members.
#[derive(Debug)]
pub struct MemberPage {
    /// The members, by id.
    pub members: Vec<User>,
    /// Whether more follow the last.
    pub more: bool,
}

impl Admin {
    /// Every group, by id, `Everyone` included.
    pub async fn groups(&self) -> Result<Vec<Group>> {
        let mut groups = self.store.list_groups().await?;
        // Paging compares ids byte by byte; a database collation may order them otherwise.
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(groups)
    }

    /// One group by id.
    pub async fn group(&self, id: &str) -> Result<Group> {
        match self.store.get_group(id).await {
            Err(store::Error::NotFound) => Err(group_not_found(id)),
            other => Ok(other?),
        }
    }

    /// Makes a group (`OKTA_GROUP`).
    #[tracing::instrument(skip_all)]
    pub async fn create_group(&self, spec: GroupSpec) -> Result<Group> {
        validate(&spec)?;
        let now = self.now();
        let group = Group {
            id: new_okta_id("00g"),
            kind: GroupType::OktaGroup,
            name: spec.name,
            description: spec.description,
            created_at: now,
            updated_at: now,
            membership_updated_at: now,
        };
        self.store.insert_group(&group).await.map_err(name_taken)?;
        tracing::info!(group.id = %group.id, "group created");
        Ok(group)
    }

    /// Replaces a group's profile.
    #[tracing::instrument(skip_all, fields(group.id = %id))]
    pub async fn replace_group(&self, id: &str, spec: GroupSpec) -> Result<Group> {
        let mut group = self.changeable_group(id).await?;
        validate(&spec)?;
        group.name = spec.name;
        group.description = spec.description;
        group.updated_at = self.now();
        match self.store.update_group(&group).await {
            Err(store::Error::NotFound) => Err(group_not_found(id)),
            other => other.map_err(name_taken),
        }?;
        Ok(group)
    }

    /// Deletes a group, its memberships and its app assignments.
    #[tracing::instrument(skip_all, fields(group.id = %id))]
    pub async fn delete_group(&self, id: &str) -> Result<()> {
        self.changeable_group(id).await?;
        if !self.store.delete_group(id).await? {
            return Err(group_not_found(id));
        }
        tracing::info!("group deleted");
        Ok(())
    }

    /// Makes the user (by id or login) a member; nothing if they are one.
    #[tracing::instrument(skip_all, fields(group.id = %group_id))]
    pub async fn add_group_member(&self, group_id: &str, user: &str) -> Result<()> {
        self.group_with_stored_members(group_id).await?;
        let user = self.find_user(user).await?;
        match self
            .store
            .add_group_member(group_id, user.id.as_str(), self.now())
            .await
        {
            // The group or the user went meanwhile.
            Err(store::Error::NotFound) => Err(group_not_found(group_id)),
            other => Ok(other?),
        }
    }

    /// Ends a user's membership; nothing if they were not a member, as in Okta.
    #[tracing::instrument(skip_all, fields(group.id = %group_id))]
    pub async fn remove_group_member(&self, group_id: &str, user: &str) -> Result<()> {
        self.group_with_stored_members(group_id).await?;
        let user = self.find_user(user).await?;
        self.store
            .remove_group_member(group_id, user.id.as_str(), self.now())
            .await?;
        Ok(())
    }

    /// A group's members by id, after the cursor: for `Everyone`, every user.
    pub async fn group_members(
        &self,
        group_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<MemberPage> {
        let group = self.group(group_id).await?;
        // One more than asked shows whether a next page exists.
        let asked = limit.saturating_add(1);
        let mut members = if group.is_built_in() {
            self.store
                .list_users(&UserQuery {
                    after: after.map(str::to_owned),
                    limit: asked,
                    ..UserQuery::default()
                })
                .await?
        } else {
            self.store
                .list_group_members(group_id, after, asked)
                .await?
        };
        let more = members.len() > limit as usize;
        members.truncate(limit as usize);
        Ok(MemberPage { members, more })
    }

    /// The groups a user (by id or login) is in, `Everyone` first among equals: by id.
    pub async fn user_groups(&self, user: &str) -> Result<Vec<Group>> {
        let user = self.find_user(user).await?;
        let mut groups = self.store.list_user_groups(user.id.as_str()).await?;
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(groups)
    }

    /// The group with the spec's name, made or (with `update`) brought in line with the spec,
    /// and then holding exactly `members` (logins), the seed file's way. `Everyone` cannot be
    /// named.
    pub async fn put_group(
        &self,
        spec: GroupSpec,
        members: &[String],
        update: bool,
    ) -> Result<Change> {
        validate(&spec)?;
        let existing = self
            .store
            .list_groups()
            .await?
            .into_iter()
            .find(|group| group.name.to_lowercase() == spec.name.to_lowercase());
        let (group, change) = match existing {
            Some(group) if group.is_built_in() => {
                return Err(Error::Validation(vec![format!(
                    "groups: {:?} is the built-in group of every user and cannot be seeded",
                    group.name
                )]))
            }
            Some(_) if !update => return Ok(Change::Unchanged),
            Some(group) if group.description == spec.description && group.name == spec.name => {
                (group, Change::Unchanged)
            }
            Some(group) => (self.replace_group(&group.id, spec).await?, Change::Updated),
            None => match self.create_group(spec.clone()).await {
                Ok(group) => (group, Change::Created),
                // Another replica applying the same seed file made it meanwhile.
                Err(err) => {
                    let made = self.store.list_groups().await?;
                    match made
                        .into_iter()
                        .find(|group| group.name.to_lowercase() == spec.name.to_lowercase())
                    {
                        Some(group) => (group, Change::Unchanged),
                        None => return Err(err),
                    }
                }
            },
        };
        let mut wanted = Vec::with_capacity(members.len());
        for login in members {
            match self.find_user(login).await {
                Ok(user) => wanted.push(user.id),
                Err(Error::NotFound { .. }) => {
                    return Err(Error::Validation(vec![format!(
                        "groups.members: no user {login:?} in group {:?}",
                        group.name
                    )]))
                }
                Err(err) => return Err(err),
            }
        }
        let mut changed = change;
        let current: Vec<String> = self
            .every_member(&group.id)
            .await?
            .into_iter()
            .map(|user| user.id.as_str().to_owned())
            .collect();
        for user in &wanted {
            if !current.iter().any(|member| member == user.as_str()) {
                self.store
                    .add_group_member(&group.id, user.as_str(), self.now())
                    .await?;
                if changed == Change::Unchanged {
                    changed = Change::Updated;
                }
            }
        }
        for member in &current {
            if !wanted.iter().any(|user| user.as_str() == member) {
                self.store
                    .remove_group_member(&group.id, member, self.now())
                    .await?;
                if changed == Change::Unchanged {
                    changed = Change::Updated;
                }
            }
        }
        Ok(changed)
    }

    /// A group an administrator may change: not `Everyone` (`403 E0000006`, as Okta refuses
    /// a change to a group it manages).
    async fn changeable_group(&self, id: &str) -> Result<Group> {
        let group = self.group(id).await?;
        if group.is_built_in() {
            return Err(Error::Refused {
                code: "E0000006",
                summary: "You do not have permission to perform the requested action".to_owned(),
                cause: Some("The built-in group Everyone cannot be changed".to_owned()),
            });
        }
        Ok(group)
    }

    /// A group whose members are stored: not `Everyone`, of which every user is a member
    /// (`501 E0000060`, as Okta answers).
    async fn group_with_stored_members(&self, id: &str) -> Result<Group> {
        let group = self.group(id).await?;
        if group.is_built_in() {
            return Err(Error::Refused {
                code: "E0000060",
                summary: "Unsupported operation.".to_owned(),
                cause: Some("Every user is a member of Everyone".to_owned()),
            });
        }
        Ok(group)
    }
}

/// Okta's rules for a group's profile, each failure a cause naming its field.
fn validate(spec: &GroupSpec) -> Result<()> {
    let mut causes = Vec::new();
    if spec.name.trim().is_empty() || spec.name.chars().count() > MAX_NAME {
        causes.push(format!("name: The name must be 1 to {MAX_NAME} characters"));
    }
    if spec.name.chars().any(char::is_control) {
        causes.push("name: The name cannot hold control characters".to_owned());
    }
    if spec
        .description
        .as_deref()
        .is_some_and(|description| description.chars().count() > MAX_DESCRIPTION)
    {
        causes.push(format!(
            "description: The description must be at most {MAX_DESCRIPTION} characters"
        ));
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(causes))
    }
}

/// A taken group name, in Okta's words.
fn name_taken(err: store::Error) -> Error {
    match err {
        store::Error::Conflict { .. } => Error::Validation(vec![
            "name: An object with this field already exists in the current organization".to_owned(),
        ]),
        other => other.into(),
    }
}

pub(super) fn group_not_found(id: &str) -> Error {
    Error::NotFound {
        kind: "UserGroup",
        id: id.to_owned(),
    }
}
