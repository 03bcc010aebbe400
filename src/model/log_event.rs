//! System Log events in the shape of Okta's LogEvent, as `/api/v1/logs` returns them. An event
//! never holds a secret: no password, token, cookie or client secret, only ids and names.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// One System Log event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    /// Unique id.
    pub uuid: String,
    /// When, in ISO 8601 with milliseconds (`2026-12-02T05:00:00.123Z`).
    pub published: String,
    /// Okta's event type, e.g. `user.session.start`.
    pub event_type: String,
    /// Always `"0"`, as Okta's.
    pub version: String,
    /// `INFO` for what worked, `WARN` for what failed or was refused.
    pub severity: String,
    /// What happened, for people.
    pub display_message: String,
    /// Who did it.
    pub actor: LogActor,
    /// From where.
    pub client: LogClient,
    /// Whether it worked, and why not.
    pub outcome: LogOutcome,
    /// What it was done to.
    pub target: Vec<LogTarget>,
    /// The request it happened in.
    pub transaction: LogTransaction,
    /// How the actor was authenticated.
    pub authentication_context: AuthenticationContext,
    /// Event-specific details.
    pub debug_context: DebugContext,
}

/// An event's actor or target: a user, an app, an API token, a server…
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogActor {
    /// The object's id; `unknown` for a login that names no user.
    pub id: String,
    /// Okta's type: `User`, `PublicClientApp`, `SystemPrincipal`…
    #[serde(rename = "type")]
    pub kind: String,
    /// The login, client id or name by which people know it.
    pub alternate_id: String,
    /// Its display name.
    pub display_name: String,
}

/// What an event was done to.
pub type LogTarget = LogActor;

impl LogActor {
    /// An object of `kind`.
    pub fn new(
        id: impl Into<String>,
        kind: &str,
        alternate_id: impl Into<String>,
        display_name: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            kind: kind.to_owned(),
            alternate_id: alternate_id.into(),
            display_name: display_name.into(),
        }
    }

    /// A user.
    pub fn user(user: &crate::model::User) -> Self {
        let name = [
            user.profile_text("firstName"),
            user.profile_text("lastName"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        Self::new(user.id.as_str(), "User", user.login.as_str(), name)
    }

    /// A sign-in name that matched no user (or one that may not sign in): Okta's `unknown`.
    pub fn unknown_user(login: &str) -> Self {
        Self::new("unknown", "User", login, "unknown")
    }

    /// An OAuth client (as an actor, at the token endpoint).
    pub fn client(client: &crate::model::Client) -> Self {
        Self::new(
            client.id.as_str(),
            "PublicClientApp",
            client.id.as_str(),
            client.label.as_str(),
        )
    }

    /// A client id that named no usable client.
    pub fn unknown_client(client_id: &str) -> Self {
        Self::new(client_id, "PublicClientApp", client_id, "unknown")
    }

    /// An app (as a target).
    pub fn app(client: &crate::model::Client) -> Self {
        Self::new(
            client.id.as_str(),
            "AppInstance",
            client.id.as_str(),
            client.label.as_str(),
        )
    }

    /// An authorization server.
    pub fn auth_server(server: &crate::model::AuthServer) -> Self {
        Self::new(
            server.id.as_str(),
            "AuthorizationServer",
            server.id.as_str(),
            server.name.as_str(),
        )
    }
}

/// Where a request came from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogClient {
    /// The client's IP (through trusted proxies).
    pub ip_address: Option<String>,
    /// Its `User-Agent`.
    pub user_agent: Option<UserAgent>,
    /// Okta's network zone; authd has none.
    pub zone: String,
}

/// A `User-Agent` as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAgent {
    /// The header's value.
    pub raw_user_agent: String,
}

/// Whether something worked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogOutcome {
    /// `SUCCESS`, `FAILURE`, `ALLOW`, `DENY`…
    pub result: String,
    /// Why, when it did not: `INVALID_CREDENTIALS`, `LOCKED_OUT`, `invalid_grant`…
    pub reason: Option<String>,
}

/// The request an event happened in.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LogTransaction {
    /// `WEB`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The request id (`X-Request-Id`).
    pub id: Option<String>,
}

/// How the actor authenticated.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationContext {
    /// `OKTA_AUTHENTICATION_PROVIDER` for authd's own sign-in.
    pub authentication_provider: Option<String>,
    /// `PASSWORD`, `API_TOKEN`, `OAUTH_CLIENT_SECRET`…
    pub credential_type: Option<String>,
    /// The session's id, where there is one.
    pub external_session_id: Option<String>,
}

/// Event-specific details, as strings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugContext {
    /// Name → value.
    pub debug_data: BTreeMap<String, String>,
}

/// Who is calling, as the HTTP layer saw it: what every event of the request records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The client's IP (through trusted proxies).
    pub ip: Option<IpAddr>,
    /// Its `User-Agent`.
    pub user_agent: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

/// An event as the store keeps it: the rendered event and what queries select it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogEvent {
    /// Order of insertion: events published in the same millisecond come back in this order.
    pub sequence: i64,
    /// `published`, in milliseconds since the Unix epoch.
    pub published_ms: i64,
    /// The event type.
    pub event_type: String,
    /// The [`LogEvent`] as JSON.
    pub json: String,
}

/// Which events a System Log query reads from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRange {
    /// From this time on (milliseconds, inclusive).
    pub since_ms: i64,
    /// Before this time (milliseconds, exclusive).
    pub until_ms: i64,
    /// Only after (or, newest first, before) this sequence number: the page's cursor.
    pub after: Option<i64>,
    /// Newest first.
    pub descending: bool,
    /// Only of this type.
    pub event_type: Option<String>,
    /// At most this many.
    pub limit: u32,
}
