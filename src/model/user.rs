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
    /// Consecutive failed sign-ins; kept by the store, never written through user updates.
    pub failed_sign_ins: u32,
    /// While in the future, sign-in is refused (lockout); kept by the store like the counter.
    pub locked_until: Option<Timestamp>,
    /// Tokens issued (and grants authenticated) before this time are invalid for good: set
    /// when the user is deactivated or suspended or their password changes; kept by the store.
    pub tokens_valid_after: Option<Timestamp>,
    /// Changes whenever the user's groups do (a membership added or ended, one of their groups
    /// renamed or deleted): groups read at one revision stay right until it changes. Kept by
    /// the database; 0 for a user not yet stored.
    pub groups_revision: i64,
}

impl User {
    /// Whether something issued or authenticated at `at` predates the end of the user's
    /// earlier access (deactivation, suspension, password change) and so stays invalid.
    pub fn predates_revocation(&self, at: Timestamp) -> bool {
        self.tokens_valid_after.is_some_and(|after| at < after)
    }

    /// Whether a lockout is in force at `now`.
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// Whether the user may sign in at all at `now` (their password still decides).
    pub fn may_sign_in(&self, now: Timestamp) -> bool {
        match self.status {
            UserStatus::Active | UserStatus::PasswordExpired => !self.is_locked(now),
            // An administrator reset the password: only the reset link signs in (as Okta).
            UserStatus::Recovery => false,
            // A lockout whose time has passed ends at the next successful sign-in; one without
            // a time (set by an administrator) lasts until unlocked.
            UserStatus::LockedOut => self.locked_until.is_some() && !self.is_locked(now),
            UserStatus::Staged
            | UserStatus::Provisioned
            | UserStatus::Suspended
            | UserStatus::Deprovisioned => false,
        }
    }

    /// The profile attribute as text, if set.
    pub fn profile_text(&self, key: &str) -> Option<&str> {
        self.profile.get(key).and_then(serde_json::Value::as_str)
    }
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

/// Which users to list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Only this status.
    pub status: Option<String>,
    /// Only this login (case-insensitive).
    pub login: Option<String>,
    /// Login, first name, last name or email starting with this text (case-insensitive).
    pub q: Option<String>,
    /// Only ids after this one.
    pub after: Option<String>,
    /// At most this many.
    pub limit: u32,
}
