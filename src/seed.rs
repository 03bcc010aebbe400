//! The seed file: authorization servers, apps and users declared in TOML, applied idempotently
//! through the engine. Applying a file twice changes nothing; changing it updates the objects it
//! names. Objects it does not name are left alone. `config/seed.example.toml` documents it.

use std::path::Path;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::engine::admin::apps::{AppField, AppSpec};
use crate::engine::admin::auth_servers::{scope_name_problems, AuthServerSpec, ClaimSpec};
use crate::engine::admin::groups::GroupSpec;
use crate::engine::admin::trusted_origins::OriginSpec;
use crate::engine::provisioning::UserSpec;
use crate::engine::{self, Change, Engine};
use crate::model::{
    AppGroupsClaim, ApplicationType, AuthServer, AuthServerId, Client, ClientId, CustomClaim,
    GrantType, IssuerMode, OriginScope, RefreshTokenSettings, ResponseType, RotationType,
    SigningAlg, Status, Timestamp, TokenEndpointAuthMethod, TokenLifetimes, UserStatus, EVERYONE,
};

/// Why a seed file cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read.
    #[error("seed file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid seed.
    #[error("seed file {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, naming the entry and field.
        message: String,
    },
    /// The engine refused or failed.
    #[error("seed file {path}: {source}")]
    Apply {
        /// The file.
        path: String,
        /// The engine's error.
        #[source]
        source: engine::Error,
    },
}

/// A parsed seed file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    authorization_servers: Vec<SeedAuthServer>,
    #[serde(default)]
    apps: Vec<SeedApp>,
    #[serde(default)]
    users: Vec<SeedUser>,
    #[serde(default)]
    trusted_origins: Vec<SeedTrustedOrigin>,
    #[serde(default)]
    groups: Vec<SeedGroup>,
}

/// A group (Okta's `OKTA_GROUP`), keyed by name, with exactly these members.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SeedGroup {
    name: String,
    description: Option<String>,
    /// Logins of its members.
    #[serde(default)]
    members: Vec<String>,
}

/// Who is assigned to an app: the seed file's `assigned_users` and `assigned_groups`.
#[derive(Debug, Serialize)]
struct SeedAssignments {
    users: Vec<String>,
    groups: Vec<String>,
}

/// An origin trusted beyond the apps' redirect URIs (Okta's Trusted Origins), keyed by name.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SeedTrustedOrigin {
    name: String,
    origin: String,
    scopes: Vec<OriginScope>,
    #[serde(default = "active")]
    status: Status,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SeedAuthServer {
    id: AuthServerId,
    name: Option<String>,
    #[serde(default)]
    description: String,
    audiences: Option<Vec<String>>,
    #[serde(default)]
    signing_alg: SigningAlg,
    #[serde(default = "active")]
    status: Status,
    /// Custom scopes, besides the OpenID Connect ones.
    #[serde(default)]
    scopes: Vec<String>,
    /// Custom claims.
    #[serde(default)]
    claims: Vec<CustomClaim>,
    /// Token lifetimes of this server, as durations (`"2h"`); unset ones follow the
    /// configuration.
    #[serde(default)]
    token_lifetimes: SeedLifetimes,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SeedLifetimes {
    access_token: Option<String>,
    id_token: Option<String>,
    refresh_token_idle: Option<String>,
    refresh_token_max: Option<String>,
}

impl SeedLifetimes {
    /// Seconds, checked against the ranges Okta's policies allow.
    fn parse(&self, server: &AuthServerId) -> Result<TokenLifetimes, String> {
        let field = |name: &str, value: &Option<String>, min: u64, max: u64| {
            value
                .as_deref()
                .map(|text| {
                    let seconds = humantime::parse_duration(text)
                        .map_err(|err| {
                            format!("authorization_servers.{server}.token_lifetimes.{name}: {err}")
                        })?
                        .as_secs();
                    if (min..=max).contains(&seconds) {
                        Ok(seconds)
                    } else {
                        Err(format!(
                            "authorization_servers.{server}.token_lifetimes.{name}: must be from \
                             {} to {}",
                            crate::config::written(std::time::Duration::from_secs(min)),
                            crate::config::written(std::time::Duration::from_secs(max))
                        ))
                    }
                })
                .transpose()
        };
        const MINUTE: u64 = 60;
        const DAY: u64 = 86_400;
        let lifetimes = TokenLifetimes {
            access_token: field("access_token", &self.access_token, 5 * MINUTE, DAY)?,
            id_token: field("id_token", &self.id_token, 5 * MINUTE, DAY)?,
            refresh_token_idle: field(
                "refresh_token_idle",
                &self.refresh_token_idle,
                5 * MINUTE,
                5 * 365 * DAY,
            )?,
            refresh_token_max: field(
                "refresh_token_max",
                &self.refresh_token_max,
                5 * MINUTE,
                5 * 365 * DAY,
            )?,
        };
        Ok(lifetimes)
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SeedApp {
    client_id: ClientId,
    client_secret: Option<String>,
    label: String,
    application_type: ApplicationType,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    grant_types: Vec<GrantType>,
    #[serde(default)]
    response_types: Vec<ResponseType>,
    token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    #[serde(default = "active")]
    status: Status,
    /// Accept PKCE `plain` as well as S256.
    #[serde(default)]
    allow_plain_pkce: bool,
    /// The JWKS (JSON text) for `private_key_jwt`.
    jwks: Option<String>,
    /// Okta's `rotation_type`: ROTATE (default) or STATIC.
    refresh_token_rotation: Option<RotationType>,
    /// Okta's `leeway`, seconds (0 to 60, default 30).
    refresh_token_leeway: Option<u32>,
    /// The groups claim in the org server's ID tokens, for the `groups` scope. Left out of
    /// the entry's digest when unset, so that apps seeded before it existed are not re-applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups_claim: Option<AppGroupsClaim>,
    /// Logins of the users assigned to the app directly. Assignments have a digest of their
    /// own: a change to them does not re-apply the app.
    #[serde(default, skip_serializing)]
    assigned_users: Option<Vec<String>>,
    /// Names of the groups assigned to the app (`Everyone` for every user). With neither
    /// this nor `assigned_users`, the app is assigned to `Everyone`.
    #[serde(default, skip_serializing)]
    assigned_groups: Option<Vec<String>>,
}

impl SeedApp {
    /// The app as the Apps API describes one, to be checked by the same rules.
    fn spec(&self) -> AppSpec {
        AppSpec {
            client_id: Some(self.client_id.to_string()),
            client_secret: self.client_secret.clone(),
            label: self.label.clone(),
            application_type: self.application_type,
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            grant_types: self.grant_types.clone(),
            response_types: self.response_types.clone(),
            token_endpoint_auth_method: app_auth_method(self),
            jwks: self.jwks.clone(),
            refresh_token: Some(self.refresh_token()),
            groups_claim: Some(self.groups_claim.clone()),
        }
    }

    fn refresh_token(&self) -> RefreshTokenSettings {
        let defaults = RefreshTokenSettings::default();
        RefreshTokenSettings {
            rotation_type: self
                .refresh_token_rotation
                .unwrap_or(defaults.rotation_type),
            leeway_seconds: self.refresh_token_leeway.unwrap_or(defaults.leeway_seconds),
        }
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SeedUser {
    login: String,
    password: Option<String>,
    /// An existing hash to import: bcrypt (`$2b$…`, upgraded to argon2id at the next
    /// sign-in) or an argon2 PHC string.
    password_hash: Option<String>,
    #[serde(default = "active_user")]
    status: UserStatus,
    #[serde(default)]
    profile: serde_json::Map<String, serde_json::Value>,
}

impl SeedAuthServer {
    /// The server as the Authorization Servers API describes one, with the seed file's defaults.
    fn spec(&self) -> AuthServerSpec {
        AuthServerSpec {
            name: self.name.clone().unwrap_or_else(|| self.id.to_string()),
            description: self.description.clone(),
            audiences: self
                .audiences
                .clone()
                .unwrap_or_else(|| vec![format!("api://{}", self.id)]),
        }
    }
}

impl SeedUser {
    /// The user as the Users API describes one, to be checked by the same rules.
    fn spec(&self) -> UserSpec {
        UserSpec {
            login: self.login.clone(),
            status: self.status,
            profile: self.profile.clone(),
            password: self.password.clone().map(SecretString::from),
            password_hash: self.password_hash.clone(),
        }
    }
}

fn active() -> Status {
    Status::Active
}

fn active_user() -> UserStatus {
    UserStatus::Active
}

/// How many objects each outcome touched.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Objects created.
    pub created: usize,
    /// Objects updated.
    pub updated: usize,
    /// Objects that already matched.
    pub unchanged: usize,
}

impl Report {
    fn count(&mut self, change: Change) {
        match change {
            Change::Created => self.created += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

impl Seed {
    /// Reads and validates a seed file.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text).map_err(|message| Error::Invalid {
            path: shown,
            message,
        })
    }

    /// Parses and validates seed TOML.
    pub fn parse(text: &str) -> Result<Self, String> {
        let seed: Seed = toml::from_str(text).map_err(|err| err.to_string())?;
        seed.validate()?;
        Ok(seed)
    }

    fn validate(&self) -> Result<(), String> {
        for server in &self.authorization_servers {
            server.token_lifetimes.parse(&server.id)?;
            if let Some(problem) = server.spec().problems().into_iter().next() {
                return Err(format!("authorization_servers.{}: {problem}", server.id));
            }
            for (index, scope) in server.scopes.iter().enumerate() {
                let mut problems = scope_name_problems(scope);
                // As the API refuses a second scope of one name on a server.
                if server.scopes[..index].contains(scope) {
                    problems.push(format!(
                        "name: The scope {scope:?} already exists on this authorization server"
                    ));
                }
                if let Some(problem) = problems.into_iter().next() {
                    return Err(format!(
                        "authorization_servers.{}.scopes.{scope}: {problem}",
                        server.id
                    ));
                }
            }
            for (index, claim) in server.claims.iter().enumerate() {
                let mut problems = ClaimSpec::from(claim).problems();
                // As the API refuses a second claim of one name and type on a server.
                if server.claims[..index].iter().any(|earlier| {
                    earlier.name == claim.name && earlier.claim_type == claim.claim_type
                }) {
                    problems.push(format!(
                        "name: A {} claim named {:?} already exists on this authorization server",
                        claim.claim_type, claim.name
                    ));
                }
                if let Some(problem) = problems.into_iter().next() {
                    return Err(format!(
                        "authorization_servers.{}.claims.{}: {problem}",
                        server.id, claim.name
                    ));
                }
            }
            if server.id.is_org() {
                return Err(
                    "authorization_servers: \"org\" is built in and cannot be seeded".into(),
                );
            }
        }
        for app in &self.apps {
            let method = app_auth_method(app);
            let public = method == TokenEndpointAuthMethod::None;
            if public && app.client_secret.is_some() {
                return Err(format!(
                    "apps.{}: a client with token_endpoint_auth_method \"none\" has no client_secret",
                    app.client_id
                ));
            }
            // Where the Apps API would generate a secret, the seed file must give one: it has
            // nowhere to show a generated one.
            if !public
                && method != TokenEndpointAuthMethod::PrivateKeyJwt
                && app.client_secret.is_none()
            {
                return Err(format!(
                    "apps.{}: client_secret is required for {method}",
                    app.client_id
                ));
            }
            if let Some((field, problem)) = app.spec().problems().into_iter().next() {
                let field = match field {
                    AppField::Label => "label",
                    AppField::RedirectUris => "redirect_uris",
                    AppField::PostLogoutRedirectUris => "post_logout_redirect_uris",
                    AppField::GrantTypes => "grant_types",
                    AppField::Jwks => "jwks",
                    AppField::ClientSecret => "client_secret",
                    AppField::RefreshTokenLeeway => "refresh_token_leeway",
                    AppField::GroupsClaim => "groups_claim",
                };
                return Err(format!("apps.{}: {field}: {problem}", app.client_id));
            }
        }
        for user in &self.users {
            if user.login.trim().is_empty() {
                return Err("users: login must not be empty".into());
            }
            if let Some(problem) = user.spec().problems().into_iter().next() {
                return Err(format!("users.{}: {problem}", user.login));
            }
            if user.password.is_some() && user.password_hash.is_some() {
                return Err(format!(
                    "users.{}: give password or password_hash, not both",
                    user.login
                ));
            }
            if let Some(hash) = &user.password_hash {
                let known = [
                    "$2a$",
                    "$2b$",
                    "$2y$",
                    "$argon2id$",
                    "$argon2i$",
                    "$argon2d$",
                ];
                if !known.iter().any(|prefix| hash.starts_with(prefix)) {
                    return Err(format!(
                        "users.{}: password_hash must be a bcrypt or argon2 hash",
                        user.login
                    ));
                }
            }
        }
        Ok(())
    }

    /// Applies the seed through the engine. An entry unchanged since it was last applied
    /// leaves its object as it is now (a password the user changed stays changed); a changed
    /// entry updates the object; a missing object is created either way.
    pub async fn apply(self, engine: &Engine, source: &Path) -> Result<Report, Error> {
        let apply_error = |source_err| Error::Apply {
            path: source.display().to_string(),
            source: source_err,
        };
        let mut report = Report::default();
        let placeholder = Timestamp::from_unix(0);
        for server in self.authorization_servers {
            let key = server.id.to_string();
            let digest = changed(engine, "authorization_server", &key, &server)
                .await
                .map_err(apply_error)?;
            let spec = server.spec();
            let token_lifetimes = server
                .token_lifetimes
                .parse(&server.id)
                .map_err(|message| Error::Invalid {
                    path: source.display().to_string(),
                    message,
                })?;
            let desired = AuthServer {
                name: spec.name,
                id: server.id,
                description: spec.description,
                audiences: spec.audiences,
                issuer_mode: IssuerMode::OrgUrl,
                status: server.status,
                signing_alg: server.signing_alg,
                token_lifetimes,
                scopes: server
                    .scopes
                    .iter()
                    .map(|name| crate::model::Scope::named(name))
                    .collect(),
                policies: vec![],
                revision: 0,
                claims: server.claims,
                created_at: placeholder,
                updated_at: placeholder,
            };
            let change = engine
                .provisioning()
                .put_auth_server(desired, digest.is_some())
                .await
                .map_err(apply_error)?;
            record(engine, "authorization_server", &key, digest)
                .await
                .map_err(apply_error)?;
            report.count(change);
        }
        let mut assignments = Vec::new();
        for app in self.apps {
            let key = app.client_id.to_string();
            assignments.push((
                key.clone(),
                match (&app.assigned_users, &app.assigned_groups) {
                    // An app the seed file says nothing about is open to every user, as apps
                    // were before assignments existed.
                    (None, None) => SeedAssignments {
                        users: Vec::new(),
                        groups: vec![EVERYONE.to_owned()],
                    },
                    (users, groups) => SeedAssignments {
                        users: users.clone().unwrap_or_default(),
                        groups: groups.clone().unwrap_or_default(),
                    },
                },
            ));
            let digest = changed(engine, "app", &key, &app)
                .await
                .map_err(apply_error)?;
            let method = app_auth_method(&app);
            let refresh_token = app.refresh_token();
            let desired = Client {
                id: app.client_id,
                label: app.label,
                application_type: app.application_type,
                redirect_uris: app.redirect_uris,
                post_logout_redirect_uris: app.post_logout_redirect_uris,
                grant_types: app.grant_types,
                response_types: app.response_types,
                token_endpoint_auth_method: method,
                secret_hashes: app
                    .client_secret
                    .as_deref()
                    .map(|secret| engine.admin().client_secret_hash(secret))
                    .into_iter()
                    .collect(),
                status: app.status,
                allow_plain_pkce: app.allow_plain_pkce,
                jwks: app.jwks,
                created_at: placeholder,
                updated_at: placeholder,
                tokens_valid_after: None,
                refresh_token,
                groups_claim: app.groups_claim,
            };
            let change = engine
                .provisioning()
                .put_client(desired, digest.is_some())
                .await
                .map_err(apply_error)?;
            record(engine, "app", &key, digest)
                .await
                .map_err(apply_error)?;
            report.count(change);
        }
        for user in self.users {
            let key = user.login.to_lowercase();
            let digest = changed(engine, "user", &key, &user)
                .await
                .map_err(apply_error)?;
            let spec = user.spec();
            let change = engine
                .provisioning()
                .put_user(spec, digest.is_some())
                .await
                .map_err(apply_error)?;
            record(engine, "user", &key, digest)
                .await
                .map_err(apply_error)?;
            report.count(change);
        }
        for origin in self.trusted_origins {
            let key = origin.name.clone();
            let digest = changed(engine, "trusted_origin", &key, &origin)
                .await
                .map_err(apply_error)?;
            let spec = OriginSpec {
                name: origin.name,
                origin: origin.origin,
                scopes: origin.scopes,
            };
            let change = engine
                .admin()
                .put_trusted_origin(spec, origin.status, digest.is_some())
                .await
                .map_err(apply_error)?;
            record(engine, "trusted_origin", &key, digest)
                .await
                .map_err(apply_error)?;
            report.count(change);
        }
        // After the users, whom memberships name.
        for group in self.groups {
            let key = group.name.to_lowercase();
            let digest = changed(engine, "group", &key, &group)
                .await
                .map_err(apply_error)?;
            let spec = GroupSpec {
                name: group.name,
                description: group.description,
            };
            let change = engine
                .admin()
                .put_group(spec, &group.members, digest.is_some())
                .await
                .map_err(apply_error)?;
            record(engine, "group", &key, digest)
                .await
                .map_err(apply_error)?;
            report.count(change);
        }
        // After the apps, users and groups they name.
        for (app_id, assigned) in assignments {
            let digest = changed(engine, "app_assignments", &app_id, &assigned)
                .await
                .map_err(apply_error)?;
            if digest.is_some() {
                engine
                    .admin()
                    .set_app_assignments(&app_id, &assigned.users, &assigned.groups)
                    .await
                    .map_err(apply_error)?;
            }
            record(engine, "app_assignments", &app_id, digest)
                .await
                .map_err(apply_error)?;
        }
        Ok(report)
    }
}

async fn changed(
    engine: &Engine,
    kind: &str,
    key: &str,
    entry: &impl Serialize,
) -> Result<Option<String>, engine::Error> {
    let entry = serde_json::to_value(entry).map_err(|err| engine::Error::Internal(err.into()))?;
    engine
        .provisioning()
        .changed_seed_entry(kind, key, &entry)
        .await
}

async fn record(
    engine: &Engine,
    kind: &str,
    key: &str,
    digest: Option<String>,
) -> Result<(), engine::Error> {
    match digest {
        Some(digest) => {
            engine
                .provisioning()
                .record_seed_entry(kind, key, &digest)
                .await
        }
        None => Ok(()),
    }
}

fn app_auth_method(app: &SeedApp) -> TokenEndpointAuthMethod {
    app.token_endpoint_auth_method
        .unwrap_or(app.application_type.default_auth_method())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_seed_parses() {
        let text = include_str!("../config/seed.example.toml");
        let seed = Seed::parse(text).unwrap();
        assert!(!seed.apps.is_empty());
        assert!(!seed.users.is_empty());
    }

    #[test]
    fn a_confidential_app_without_a_secret_is_refused() {
        let err = Seed::parse(
            r#"
            [[apps]]
            client_id = "web"
            label = "Web"
            application_type = "web"
            grant_types = ["authorization_code"]
            "#,
        )
        .unwrap_err();
        assert!(err.contains("apps.web: client_secret"), "{err}");
    }

    #[test]
    fn apps_are_checked_by_the_apps_api_rules_named_as_the_seed_file_names_fields() {
        let err = Seed::parse(
            r#"
            [[apps]]
            client_id = "spa"
            label = "SPA"
            application_type = "browser"
            grant_types = ["authorization_code"]
            "#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "apps.spa: redirect_uris: required for the authorization_code and implicit grants"
        );
        let err = Seed::parse(
            r#"
            [[apps]]
            client_id = "spa"
            label = "SPA"
            application_type = "browser"
            grant_types = ["client_credentials"]
            "#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "apps.spa: grant_types: client_credentials needs a confidential client"
        );
    }

    #[test]
    fn unknown_fields_and_values_are_named() {
        let err = Seed::parse("[[users]]\nlogin = \"a\"\ncolour = \"red\"\n").unwrap_err();
        assert!(err.contains("colour"), "{err}");
        let err = Seed::parse("[[authorization_servers]]\nid = \"x\"\nsigning_alg = \"HS256\"\n")
            .unwrap_err();
        assert!(err.contains("HS256"), "{err}");
    }
}
