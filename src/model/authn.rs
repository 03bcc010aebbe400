use super::{Timestamp, UserId};

wire_enum!(
    /// A step an authentication transaction waits at (Okta's transaction states that need a
    /// `stateToken`). MFA states join here.
    TransactionState, "transaction state" {
        /// The password has expired and must be changed before sign-in completes.
        PasswordExpired = "PASSWORD_EXPIRED",
        /// The password expires soon; the user may change it or skip.
        PasswordWarn = "PASSWORD_WARN",
        /// A recovery token from an administrator's `reset_password`, not yet presented.
        Recovery = "RECOVERY",
        /// The recovery token was presented; a new password may be set without the old one.
        PasswordReset = "PASSWORD_RESET",
    }
);

/// An authentication transaction waiting for the user, named by a state token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthn {
    /// Who is signing in (the password is already proven).
    pub user_id: UserId,
    /// What it waits for.
    pub state: TransactionState,
    /// Echoed to the client in every response.
    pub relay_state: Option<String>,
    /// When the password was proven.
    pub auth_time: Timestamp,
    /// When the state token stops working.
    pub expires_at: Timestamp,
}

/// What a one-time session token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTokenGrant {
    /// Who signed in.
    pub user_id: UserId,
    /// When.
    pub auth_time: Timestamp,
    /// How (RFC 8176 values).
    pub amr: Vec<String>,
    /// When the token stops working.
    pub expires_at: Timestamp,
}

/// How many failed sign-ins lock a user out, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock.
    pub threshold: u32,
    /// How long the lock lasts.
    pub duration: std::time::Duration,
}
