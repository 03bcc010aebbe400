use super::{Timestamp, UserId};

wire_enum!(
    /// A user's lifecycle status, as Okta names them.
    UserStatus, "user status" {
        /// Created, not yet activated.
        Staged = "STAGED",
        /// Activated, but has not set a password yet.
        Provisioned = "PROVISIONED",
        /// Can sign in.
        Active = "ACTIVE",
        /// Is resetting a password.
        Recovery = "RECOVERY",
        /// Must change the password at the next sign-in.
        PasswordExpired = "PASSWORD_EXPIRED",
        /// Too many failed sign-ins.
        LockedOut = "LOCKED_OUT",
        /// Temporarily barred by an administrator.
        Suspended = "SUSPENDED",
        /// Deactivated.
        Deprovisioned = "DEPROVISIONED",
    }
);

/// A person who signs in, with Okta's user fields.
#[derive(Clone, PartialEq)]
pub struct User {
    /// Okta id (`00u…`).
    pub id: UserId,
    /// Lifecycle status.
    pub status: UserStatus,
    /// Sign-in name, unique (case-insensitively, as Okta).
    pub login: String,
    /// Okta profile attributes (`firstName`, `lastName`, `email`, …).
    pub profile: serde_json::Map<String, serde_json::Value>,
    /// PHC string of the password hash (argon2id; bcrypt for imported users until next sign-in).
    pub password_hash: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was first activated.
    pub activated_at: Option<Timestamp>,
    /// When the status last changed.
    pub status_changed_at: Option<Timestamp>,
    /// When the user last signed in.
    pub last_login_at: Option<Timestamp>,
    /// When anything last changed.
    pub updated_at: Timestamp,
    /// When the password last changed.
    pub password_changed_at: Option<Timestamp>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}
