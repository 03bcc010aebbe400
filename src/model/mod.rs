//! Plain domain data shared by every layer: ids, protocol enums and records.
//!
//! Depends on nothing else in the crate: no I/O, no axum, no sqlx.

#[macro_use]
mod wire_enum;
mod admin;
mod auth_server;
mod authn;
mod client;
mod document;
mod grant;
mod group;
mod ids;
mod key;
mod log_event;
mod policy;
mod scope;
mod session;
mod time;
mod token;
mod trusted_origin;
mod user;

pub use admin::{Actor, ApiToken};
pub use auth_server::{
    issuer_url, AuthServer, ClaimType, ClaimValueType, Consent, CustomClaim, IssuerMode,
    MetadataPublish, Scope, TokenLifetimes,
};
pub use authn::{LockoutPolicy, PendingAuthn, SessionTokenGrant, TransactionState};
pub use client::{
    redirect_uri_problem, ApplicationType, Client, ClientSecret, GrantType, RefreshTokenSettings,
    ResponseMode, ResponseType, RotationType, TokenEndpointAuthMethod, MAX_CLIENT_SECRETS,
    MIN_CLIENT_SECRET_LENGTH,
};
pub use document::Document;
pub use grant::{
    AuthorizationCode, CodeChallengeMethod, GrantContext, Presented, RefreshTokenRecord,
};
pub use group::{
    whole_name_regex, AppGroupAssignment, AppGroupsClaim, AppUserAssignment, AssignmentScope,
    Group, GroupFilter, GroupFilterType, GroupType, Membership, Memberships, EVERYONE,
    MAX_GROUPS_IN_CLAIM,
};
pub use ids::{
    derived_okta_id, new_okta_id, AuthServerId, ClientId, InvalidId, Kid, SessionId, UserId,
};
pub use key::{KeyState, SigningAlg, SigningKey};
pub use log_event::{
    AuthenticationContext, DebugContext, LogActor, LogClient, LogEvent, LogOutcome, LogRange,
    LogTarget, LogTransaction, RequestContext, StoredLogEvent, UserAgent,
};
pub use policy::{
    governing_rule, AccessPolicy, People, PolicyRule, PolicyUser, ALL_CLIENTS, ALL_SCOPES,
    EVERYONE_GROUP,
};
pub use scope::{InvalidScope, ScopeSet, OIDC_SCOPES, ORG_GROUPS_SCOPE};
pub use session::Session;
pub use time::{okta_time_millis, Timestamp};
pub use token::{PlainToken, TokenHash};
pub use trusted_origin::{normalize_origin, OriginScope, TrustedOrigin};
pub use user::{User, UserQuery, UserStatus};
pub use wire_enum::UnknownValue;

wire_enum!(
    /// Whether an object may be used, as Okta reports it.
    Status, "status" {
        /// In use.
        Active = "ACTIVE",
        /// Kept, but refused everywhere.
        Inactive = "INACTIVE",
    }
);
