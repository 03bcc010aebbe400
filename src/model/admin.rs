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

/// What an admin call was about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditTarget {
    /// The object's id.
    pub id: String,
    /// Its Okta type (`User`, `AppInstance`, `AuthorizationServer`, `ApiToken`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// A name for people.
    #[serde(rename = "displayName")]
    pub display_name: String,
}

/// One audit event (never holds a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Unique id.
    pub uuid: String,
    /// When it happened.
    pub published: Timestamp,
    /// Okta's event type, e.g. `system.api_token.revoke`.
    pub event_type: String,
    /// What happened, for people.
    pub display_message: String,
    /// `SUCCESS` or `FAILURE`.
    pub outcome: String,
    /// Who.
    pub actor: Actor,
    /// On what.
    pub targets: Vec<AuditTarget>,
    /// From where.
    pub client_ip: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}
