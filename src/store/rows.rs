//! Row shapes shared by both backends (the schemas have the same columns and the same
//! Rust-side types) and their conversion into the model.

use crate::model::{
    Actor, ApiToken, AuditEvent, AuthServer, AuthorizationCode, Client, ClientSecret, CustomClaim,
    GrantContext, PendingAuthn, RefreshTokenRecord, RefreshTokenSettings, ScopeSet, Session,
    SessionTokenGrant, SigningKey, Timestamp, TrustedOrigin, User,
};

use super::columns::{json_list, parse, to_json};
use super::Error;

#[derive(sqlx::FromRow)]
pub struct AuthServerRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub audiences: String,
    pub issuer_mode: String,
    pub status: String,
    pub signing_alg: String,
    pub scopes: String,
    pub claims: String,
    pub token_lifetimes: String,
    /// Never NULL once migrated: [`crate::store::Store::migrate`] materialises old servers'.
    pub policies: String,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<AuthServerRow> for AuthServer {
    type Error = Error;

    fn try_from(row: AuthServerRow) -> Result<Self, Error> {
        let policies = json_list(&row.policies)?;
        Ok(AuthServer {
            id: parse_id(row.id)?,
            name: row.name,
            description: row.description,
            audiences: json_list(&row.audiences)?,
            issuer_mode: parse(&row.issuer_mode)?,
            status: parse(&row.status)?,
            signing_alg: parse(&row.signing_alg)?,
            scopes: json_list(&row.scopes)?,
            claims: json_list::<CustomClaim>(&row.claims)?
                .into_iter()
                .map(CustomClaim::with_id)
                .collect(),
            policies,
            revision: row.revision,
            token_lifetimes: serde_json::from_str(&row.token_lifetimes).map_err(Error::corrupt)?,
            created_at: Timestamp::from_unix(row.created_at),
            updated_at: Timestamp::from_unix(row.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ClientSecretRow {
    pub id: String,
    pub client_id: String,
    pub secret_hash: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<ClientSecretRow> for ClientSecret {
    type Error = Error;

    fn try_from(row: ClientSecretRow) -> Result<Self, Error> {
        Ok(ClientSecret {
            id: row.id,
            client_id: parse_id(row.client_id)?,
            secret_hash: row.secret_hash,
            status: parse(&row.status)?,
            created_at: Timestamp::from_unix(row.created_at),
            updated_at: Timestamp::from_unix(row.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ClientRow {
    pub id: String,
    pub label: String,
    pub application_type: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub grant_types: String,
    pub response_types: String,
    pub token_endpoint_auth_method: String,
    pub allow_plain_pkce: i64,
    pub jwks: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub tokens_valid_after: Option<i64>,
    pub refresh_rotation_type: String,
    pub refresh_leeway_seconds: i64,
    pub secret_hash: Option<String>,
    pub second_secret_hash: Option<String>,
}

impl TryFrom<ClientRow> for Client {
    type Error = Error;

    fn try_from(row: ClientRow) -> Result<Self, Error> {
        Ok(Client {
            id: parse_id(row.id)?,
            label: row.label,
            application_type: parse(&row.application_type)?,
            redirect_uris: json_list(&row.redirect_uris)?,
            post_logout_redirect_uris: json_list(&row.post_logout_redirect_uris)?,
            grant_types: json_list(&row.grant_types)?,
            response_types: json_list(&row.response_types)?,
            token_endpoint_auth_method: parse(&row.token_endpoint_auth_method)?,
            secret_hashes: row
                .secret_hash
                .into_iter()
                .chain(row.second_secret_hash)
                .collect(),
            allow_plain_pkce: row.allow_plain_pkce != 0,
            jwks: row.jwks,
            status: parse(&row.status)?,
            created_at: Timestamp::from_unix(row.created_at),
            updated_at: Timestamp::from_unix(row.updated_at),
            tokens_valid_after: row.tokens_valid_after.map(Timestamp::from_unix),
            refresh_token: RefreshTokenSettings {
                rotation_type: parse(&row.refresh_rotation_type)?,
                leeway_seconds: u32::try_from(row.refresh_leeway_seconds)
                    .map_err(Error::corrupt)?,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub status: String,
    pub login: String,
    pub profile: String,
    pub password_hash: Option<String>,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub status_changed_at: Option<i64>,
    pub last_login_at: Option<i64>,
    pub updated_at: i64,
    pub password_changed_at: Option<i64>,
    pub failed_sign_ins: i64,
    pub locked_until: Option<i64>,
    pub tokens_valid_after: Option<i64>,
}

impl TryFrom<UserRow> for User {
    type Error = Error;

    fn try_from(row: UserRow) -> Result<Self, Error> {
        Ok(User {
            id: parse_id(row.id)?,
            status: parse(&row.status)?,
            login: row.login,
            profile: serde_json::from_str(&row.profile).map_err(Error::corrupt)?,
            password_hash: row.password_hash,
            created_at: Timestamp::from_unix(row.created_at),
            activated_at: row.activated_at.map(Timestamp::from_unix),
            status_changed_at: row.status_changed_at.map(Timestamp::from_unix),
            last_login_at: row.last_login_at.map(Timestamp::from_unix),
            updated_at: Timestamp::from_unix(row.updated_at),
            password_changed_at: row.password_changed_at.map(Timestamp::from_unix),
            failed_sign_ins: u32::try_from(row.failed_sign_ins).unwrap_or(u32::MAX),
            locked_until: row.locked_until.map(Timestamp::from_unix),
            tokens_valid_after: row.tokens_valid_after.map(Timestamp::from_unix),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub auth_server_id: String,
    pub alg: String,
    pub state: String,
    pub public_jwk: String,
    pub sealed_private_key: Vec<u8>,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
    pub remove_after: Option<i64>,
}

impl TryFrom<SigningKeyRow> for SigningKey {
    type Error = Error;

    fn try_from(row: SigningKeyRow) -> Result<Self, Error> {
        Ok(SigningKey {
            kid: parse_id(row.kid)?,
            auth_server_id: parse_id(row.auth_server_id)?,
            alg: parse(&row.alg)?,
            state: parse(&row.state)?,
            public_jwk: row.public_jwk,
            sealed_private_key: row.sealed_private_key,
            created_at: Timestamp::from_unix(row.created_at),
            activated_at: row.activated_at.map(Timestamp::from_unix),
            retired_at: row.retired_at.map(Timestamp::from_unix),
            remove_after: row.remove_after.map(Timestamp::from_unix),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub login: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_expires_at: i64,
    pub last_password_verification: i64,
    pub amr: String,
}

impl TryFrom<SessionRow> for Session {
    type Error = Error;

    fn try_from(row: SessionRow) -> Result<Self, Error> {
        Ok(Session {
            id: parse_id(row.id)?,
            user_id: parse_id(row.user_id)?,
            login: row.login,
            created_at: Timestamp::from_unix(row.created_at),
            expires_at: Timestamp::from_unix(row.expires_at),
            max_expires_at: Timestamp::from_unix(row.max_expires_at),
            last_password_verification: Timestamp::from_unix(row.last_password_verification),
            amr: json_list(&row.amr)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct SessionTokenRow {
    pub user_id: String,
    pub auth_time: i64,
    pub amr: String,
    pub expires_at: i64,
}

impl TryFrom<SessionTokenRow> for SessionTokenGrant {
    type Error = Error;

    fn try_from(row: SessionTokenRow) -> Result<Self, Error> {
        Ok(SessionTokenGrant {
            user_id: parse_id(row.user_id)?,
            auth_time: Timestamp::from_unix(row.auth_time),
            amr: json_list(&row.amr)?,
            expires_at: Timestamp::from_unix(row.expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct PendingAuthnRow {
    pub user_id: String,
    pub state: String,
    pub relay_state: Option<String>,
    pub auth_time: i64,
    pub expires_at: i64,
}

impl TryFrom<PendingAuthnRow> for PendingAuthn {
    type Error = Error;

    fn try_from(row: PendingAuthnRow) -> Result<Self, Error> {
        Ok(PendingAuthn {
            user_id: parse_id(row.user_id)?,
            state: parse(&row.state)?,
            relay_state: row.relay_state,
            auth_time: Timestamp::from_unix(row.auth_time),
            expires_at: Timestamp::from_unix(row.expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct GrantRow {
    pub grant_id: String,
    pub auth_server_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scopes: String,
    pub auth_time: i64,
    pub amr: String,
    pub session_id: Option<String>,
}

impl TryFrom<GrantRow> for GrantContext {
    type Error = Error;

    fn try_from(row: GrantRow) -> Result<Self, Error> {
        Ok(GrantContext {
            grant_id: row.grant_id,
            auth_server_id: parse_id(row.auth_server_id)?,
            client_id: parse_id(row.client_id)?,
            user_id: parse_id(row.user_id)?,
            scopes: ScopeSet::from_scopes(json_list::<String>(&row.scopes)?),
            auth_time: Timestamp::from_unix(row.auth_time),
            amr: json_list(&row.amr)?,
            session_id: row.session_id.map(parse_id).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct CodeRow {
    #[sqlx(flatten)]
    pub grant: GrantRow,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub expires_at: i64,
}

impl TryFrom<CodeRow> for AuthorizationCode {
    type Error = Error;

    fn try_from(row: CodeRow) -> Result<Self, Error> {
        let code_challenge = match (row.code_challenge, row.code_challenge_method) {
            (Some(challenge), Some(method)) => Some((challenge, parse(&method)?)),
            _ => None,
        };
        Ok(AuthorizationCode {
            grant: row.grant.try_into()?,
            redirect_uri: row.redirect_uri,
            nonce: row.nonce,
            code_challenge,
            expires_at: Timestamp::from_unix(row.expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct RefreshRow {
    #[sqlx(flatten)]
    pub grant: GrantRow,
    pub created_at: i64,
    pub expires_at: i64,
    pub family_expires_at: i64,
}

impl TryFrom<RefreshRow> for RefreshTokenRecord {
    type Error = Error;

    fn try_from(row: RefreshRow) -> Result<Self, Error> {
        Ok(RefreshTokenRecord {
            grant: row.grant.try_into()?,
            created_at: Timestamp::from_unix(row.created_at),
            expires_at: Timestamp::from_unix(row.expires_at),
            family_expires_at: Timestamp::from_unix(row.family_expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ApiTokenRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl From<ApiTokenRow> for ApiToken {
    fn from(row: ApiTokenRow) -> Self {
        ApiToken {
            id: row.id,
            name: row.name,
            created_at: Timestamp::from_unix(row.created_at),
            last_used_at: row.last_used_at.map(Timestamp::from_unix),
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct TrustedOriginRow {
    pub id: String,
    pub name: String,
    pub origin: String,
    pub scopes: String,
    pub status: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl TryFrom<TrustedOriginRow> for TrustedOrigin {
    type Error = Error;

    fn try_from(row: TrustedOriginRow) -> Result<Self, Error> {
        Ok(TrustedOrigin {
            id: row.id,
            name: row.name,
            origin: row.origin,
            scopes: json_list(&row.scopes)?,
            status: parse(&row.status)?,
            created_at: Timestamp::from_unix(row.created_at),
            created_by: row.created_by,
            updated_at: Timestamp::from_unix(row.updated_at),
            updated_by: row.updated_by,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct AuditEventRow {
    pub uuid: String,
    pub published: i64,
    pub event_type: String,
    pub display_message: String,
    pub outcome: String,
    pub actor_id: String,
    pub actor_name: String,
    pub targets: String,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
}

impl TryFrom<AuditEventRow> for AuditEvent {
    type Error = Error;

    fn try_from(row: AuditEventRow) -> Result<Self, Error> {
        Ok(AuditEvent {
            uuid: row.uuid,
            published: Timestamp::from_unix(row.published),
            event_type: row.event_type,
            display_message: row.display_message,
            outcome: row.outcome,
            actor: Actor {
                id: row.actor_id,
                name: row.actor_name,
            },
            targets: json_list(&row.targets)?,
            client_ip: row.client_ip,
            request_id: row.request_id,
        })
    }
}

fn parse_id<T: TryFrom<String, Error = crate::model::InvalidId>>(text: String) -> Result<T, Error> {
    T::try_from(text).map_err(Error::corrupt)
}

/// JSON text for a list column.
/// What user search matches, one term per line, each lowercased here (Unicode, so both
/// backends agree): the login, and the profile's first and last name and email, which `q`
/// matches by prefix in Okta.
pub fn search_terms(login: &str, profile: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut terms = String::from("\n");
    let profile_terms = ["firstName", "lastName", "email"]
        .iter()
        .filter_map(|name| profile.get(*name)?.as_str());
    for term in std::iter::once(login).chain(profile_terms) {
        // A line break inside a value would start a term of its own.
        terms.push_str(&term.to_lowercase().replace('\n', " "));
        terms.push('\n');
    }
    terms
}

/// The `LIKE` pattern (escape `\\`) that finds `q` at the start of a search term.
pub fn search_pattern(q: &str) -> String {
    let mut pattern = String::from("%\n");
    // Terms hold no line break: one in `q` matches as a space does.
    for c in q.to_lowercase().replace('\n', " ").chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    to_json(value)
}
