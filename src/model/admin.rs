use super::Timestamp;

/// An Okta API token (`SSWS`), as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Okta id (`00T…`).
    pub id: String,
    /// What the operator called it.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
}

/// Who made an admin call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The API token's id, or `bootstrap` for `AUTHD_ADMIN_TOKEN`, or `cli`.
    pub id: String,
    /// Its name.
    pub name: String,
}
