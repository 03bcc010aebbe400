use super::{SessionId, Timestamp, UserId};

/// A browser sign-in session (Okta's Session object), named by the `sid` cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Okta id (`102…`).
    pub id: SessionId,
    /// Whose session.
    pub user_id: UserId,
    /// The user's login, for Okta's session object.
    pub login: String,
    /// When it started.
    pub created_at: Timestamp,
    /// When it ends unless refreshed (idle limit, capped by `max_expires_at`).
    pub expires_at: Timestamp,
    /// When it ends however active it is (absolute limit).
    pub max_expires_at: Timestamp,
    /// When the user last proved the password.
    pub last_password_verification: Timestamp,
    /// Authentication methods references (RFC 8176), e.g. `pwd`.
    pub amr: Vec<String>,
}
