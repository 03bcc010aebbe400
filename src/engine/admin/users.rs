//! Okta's Users API: create, read, list, update, lifecycle, delete. Deactivating a user ends
//! their sessions and revokes their grants.

use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::engine::{taken, Error, Result};
use crate::model::{
    PendingAuthn, PlainToken, TransactionState, User, UserId, UserQuery, UserStatus,
};
use crate::store;

use super::Admin;

const LOGIN_TAKEN: &str =
    "login: An object with this field already exists in the current organization";

/// The profile attributes Okta's default user profile requires.
const REQUIRED_PROFILE: [&str; 4] = ["login", "email", "firstName", "lastName"];

/// A lifecycle operation (`/api/v1/users/{id}/lifecycle/{op}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// STAGED or DEPROVISIONED → ACTIVE (with a password) or PROVISIONED.
    Activate,
    /// Anything but DEPROVISIONED → DEPROVISIONED; ends sessions and grants.
    Deactivate,
    /// ACTIVE → SUSPENDED.
    Suspend,
    /// SUSPENDED → ACTIVE.
    Unsuspend,
    /// LOCKED_OUT → ACTIVE.
    Unlock,
    /// ACTIVE → PASSWORD_EXPIRED.
    ExpirePassword,
}

impl Lifecycle {
    /// The operation named in the URL.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "activate" => Lifecycle::Activate,
            "deactivate" => Lifecycle::Deactivate,
            "suspend" => Lifecycle::Suspend,
            "unsuspend" => Lifecycle::Unsuspend,
            "unlock" => Lifecycle::Unlock,
            "expire_password" => Lifecycle::ExpirePassword,
            _ => return None,
        })
    }
}

impl Admin {
    /// Creates a user; `activate` makes them ACTIVE (with a password) or PROVISIONED,
    /// otherwise STAGED.
    pub async fn create_user(
        &self,
        profile: Map<String, Value>,
        password: Option<SecretString>,
        activate: bool,
    ) -> Result<User> {
        check_profile(&profile)?;
        let login = profile
            .get("login")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let now = self.now();
        let status = match (activate, password.is_some()) {
            (false, _) => UserStatus::Staged,
            (true, true) => UserStatus::Active,
            (true, false) => UserStatus::Provisioned,
        };
        let mut user = User {
            id: UserId::generate(),
            status,
            login,
            profile,
            password_changed_at: None,
            password_hash: None,
            created_at: now,
            activated_at: activate.then_some(now),
            status_changed_at: Some(now),
            last_login_at: None,
            updated_at: now,
            failed_sign_ins: 0,
            locked_until: None,
            tokens_valid_after: None,
            groups_revision: 0,
        };
        if let Some(password) = password {
            check_password(&user, &password)?;
            user.password_hash = Some(self.passwords.hash(password).await?);
            user.password_changed_at = Some(now);
        }
        self.store
            .insert_user(&user)
            .await
            .map_err(taken(LOGIN_TAKEN))?;
        Ok(user)
    }

    /// A user by id or login.
    pub async fn find_user(&self, id_or_login: &str) -> Result<User> {
        let by_id = match UserId::parse(id_or_login) {
            Ok(id) => match self.store.get_user(&id).await {
                Ok(user) => Some(user),
                Err(store::Error::NotFound) => None,
                Err(err) => return Err(err.into()),
            },
            Err(_) => None,
        };
        match by_id {
            Some(user) => Ok(user),
            None => self.sign_in.user_by_login(id_or_login).await,
        }
    }

    /// Users, ordered by id.
    pub async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>> {
        Ok(self.store.list_users(query).await?)
    }

    /// Replaces the profile (`PUT`) or merges attributes into it (`POST`).
    pub async fn update_user_profile(
        &self,
        id_or_login: &str,
        profile: Map<String, Value>,
        merge: bool,
    ) -> Result<User> {
        let mut user = self.find_user(id_or_login).await?;
        let mut updated = if merge {
            let mut profile = user.profile.clone();
            // Users seeded before the seed file wrote `profile.login` have it only in their
            // login column.
            profile
                .entry("login")
                .or_insert_with(|| Value::String(user.login.clone()));
            profile
        } else {
            Map::new()
        };
        updated.extend(profile);
        check_profile(&updated)?;
        user.login = updated
            .get("login")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        user.profile = updated;
        user.updated_at = self.now();
        self.store
            .update_user(&user)
            .await
            .map_err(taken(LOGIN_TAKEN))?;
        Ok(user)
    }

    /// Runs a lifecycle operation; refused (`400 E0000001`) from a status it does not apply to.
    pub async fn user_lifecycle(&self, id_or_login: &str, operation: Lifecycle) -> Result<User> {
        let mut user = self.find_user(id_or_login).await?;
        let now = self.now();
        let from = user.status;
        let to = match (operation, from) {
            (Lifecycle::Activate, UserStatus::Staged | UserStatus::Deprovisioned) => {
                if user.password_hash.is_some() {
                    UserStatus::Active
                } else {
                    UserStatus::Provisioned
                }
            }
            (Lifecycle::Deactivate, status) if status != UserStatus::Deprovisioned => {
                UserStatus::Deprovisioned
            }
            (Lifecycle::Suspend, UserStatus::Active) => UserStatus::Suspended,
            (Lifecycle::Unsuspend, UserStatus::Suspended) => UserStatus::Active,
            (Lifecycle::Unlock, UserStatus::LockedOut) => {
                self.store.unlock_user(&user.id, now).await?;
                return Ok(self.store.get_user(&user.id).await?);
            }
            (Lifecycle::ExpirePassword, UserStatus::Active) => UserStatus::PasswordExpired,
            _ => {
                return Err(Error::Validation(vec![format!(
                    "status: This operation is not allowed in the user's current status ({from})"
                )]))
            }
        };
        user.status = to;
        user.status_changed_at = Some(now);
        user.updated_at = now;
        if to == UserStatus::Active && user.activated_at.is_none() {
            user.activated_at = Some(now);
        }
        // Okta: deactivation and suspension end sessions and tokens, and reactivation starts
        // clean.
        if matches!(to, UserStatus::Deprovisioned | UserStatus::Suspended) {
            self.store
                .update_user_ending_access(&user, now.plus(self.lifetimes.longest_token().await?))
                .await?;
        } else {
            self.store.update_user(&user).await?;
        }
        tracing::info!(user.id = %user.id, from = %from, to = %to, "user status changed");
        Ok(user)
    }

    /// Okta's `reset_password`: the user goes to RECOVERY, their password stops working, and
    /// the returned one-time recovery token (for the reset link, or
    /// `/api/v1/authn/recovery/token`) lets them set a new one within
    /// [`RECOVERY_TOKEN_LIFETIME`](crate::engine::sign_in::authn::RECOVERY_TOKEN_LIFETIME).
    pub async fn issue_password_reset(&self, id_or_login: &str) -> Result<PlainToken> {
        let mut user = self.find_user(id_or_login).await?;
        if !matches!(
            user.status,
            UserStatus::Active
                | UserStatus::PasswordExpired
                | UserStatus::LockedOut
                | UserStatus::Recovery
        ) {
            return Err(Error::Validation(vec![format!(
                "status: This operation is not allowed in the user's current status ({})",
                user.status
            )]));
        }
        let now = self.now();
        // The token first: it works only once the user is in RECOVERY, so a failure between the
        // two writes leaves nothing usable behind.
        let token = PlainToken::generate();
        self.store
            .replace_recovery_token(
                &token.hash(),
                &PendingAuthn {
                    user_id: user.id.clone(),
                    state: TransactionState::Recovery,
                    relay_state: None,
                    auth_time: now,
                    expires_at: now.plus(crate::engine::sign_in::authn::RECOVERY_TOKEN_LIFETIME),
                },
            )
            .await?;
        if user.status != UserStatus::Recovery {
            user.status = UserStatus::Recovery;
            user.status_changed_at = Some(now);
            user.updated_at = now;
            self.store.update_user(&user).await?;
        }
        tracing::info!(user.id = %user.id, "password reset issued");
        Ok(token)
    }

    /// Sets a user's password as an administrator (no old password needed); an expired or
    /// provisioned user becomes active.
    pub async fn set_user_password(
        &self,
        id_or_login: &str,
        password: SecretString,
    ) -> Result<User> {
        let mut user = self.find_user(id_or_login).await?;
        check_password(&user, &password)?;
        let now = self.now();
        user.password_hash = Some(self.passwords.hash(password).await?);
        user.password_changed_at = Some(now);
        user.updated_at = now;
        if matches!(
            user.status,
            UserStatus::PasswordExpired | UserStatus::Provisioned
        ) {
            user.status = UserStatus::Active;
            user.status_changed_at = Some(now);
            user.activated_at.get_or_insert(now);
        }
        self.store.update_user(&user).await?;
        self.sign_in
            .end_access_after_password_change(&user.id, now)
            .await?;
        tracing::info!(user.id = %user.id, "password set by an administrator");
        Ok(user)
    }

    /// The user changes their own password, proving the old one (counts towards lockout).
    pub async fn change_user_password(
        &self,
        id_or_login: &str,
        old_password: SecretString,
        new_password: SecretString,
    ) -> Result<User> {
        let user = self.find_user(id_or_login).await?;
        let now = self.now();
        if !user.may_sign_in(now) {
            return Err(Error::CredentialsUpdateFailed(vec![
                "oldPassword: The credentials provided were incorrect.".to_owned(),
            ]));
        }
        let stored = user.password_hash.clone().unwrap_or_default();
        if !self
            .passwords
            .verify(stored.clone(), old_password)
            .await?
            .matches
        {
            self.sign_in.count_failed_password(&user.id, now).await?;
            return Err(Error::CredentialsUpdateFailed(vec![
                "oldPassword: The credentials provided were incorrect.".to_owned(),
            ]));
        }
        check_password(&user, &new_password)?;
        let new_hash = self.passwords.hash(new_password).await?;
        if !self
            .store
            .replace_password(&user.id, &stored, &new_hash, now)
            .await?
        {
            return Err(Error::CredentialsUpdateFailed(vec![
                "oldPassword: The password changed meanwhile.".to_owned(),
            ]));
        }
        self.sign_in
            .end_access_after_password_change(&user.id, now)
            .await?;
        Ok(self.store.get_user(&user.id).await?)
    }

    /// Okta's delete: a user not yet deactivated is deactivated; a deactivated one is deleted.
    pub async fn delete_user(&self, id_or_login: &str) -> Result<()> {
        let user = self.find_user(id_or_login).await?;
        if user.status != UserStatus::Deprovisioned {
            self.user_lifecycle(user.id.as_str(), Lifecycle::Deactivate)
                .await?;
            return Ok(());
        }
        self.store.delete_user(&user.id).await?;
        tracing::info!(user.id = %user.id, "user deleted");
        Ok(())
    }
}

/// The password policy every new password meets (Okta's default complexity).
fn check_password(user: &User, password: &SecretString) -> Result<()> {
    Error::refuse(password_problems(&user.login, password))
}

fn check_profile(profile: &Map<String, Value>) -> Result<()> {
    Error::refuse(profile_problems(profile))
}

/// Okta's rules for a password a user is given (its default password policy), as the Users API,
/// the seed file and the command line apply them.
pub fn password_problems(login: &str, password: &SecretString) -> Vec<String> {
    let unmet = crate::engine::sign_in::authn::unmet_complexity(login, password);
    if unmet.is_empty() {
        vec![]
    } else {
        vec![format!(
            "password: Password requirements were not met. Passwords must have {}",
            unmet.join(", ")
        )]
    }
}

/// Okta's rules for a user's profile: the attributes its default profile requires, and an
/// email that looks like one.
pub fn profile_problems(profile: &Map<String, Value>) -> Vec<String> {
    REQUIRED_PROFILE
        .iter()
        .filter(|key| {
            profile
                .get(**key)
                .and_then(Value::as_str)
                .is_none_or(|value| value.trim().is_empty())
        })
        .map(|key| format!("{key}: The field cannot be left blank"))
        .chain(
            profile
                .get("email")
                .and_then(Value::as_str)
                .filter(|email| !email.trim().is_empty() && !email.contains('@'))
                .map(|_| "email: Does not match required pattern".to_owned()),
        )
        .collect()
}
