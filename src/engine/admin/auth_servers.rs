//! Okta's Authorization Servers API: create, read, update, activate/deactivate, delete, and
//! the signing keys of each server.

use crate::engine::expression::Expression;
use crate::engine::{find, taken, Error, Result};
use crate::model::{
    new_okta_id, AuthServer, AuthServerId, ClaimType, ClaimValueType, Consent, CustomClaim,
    GroupFilter, GroupFilterType, IssuerMode, MetadataPublish, Scope, SigningAlg, SigningKey,
    Status, Timestamp, TokenLifetimes, OIDC_SCOPES,
};
use crate::store::{self, RotationOutcome};

use super::Admin;

const NAME_TAKEN: &str = "name: An authorization server with this name already exists";

/// An authorization server as an administrator describes it.
#[derive(Debug, Clone)]
pub struct AuthServerSpec {
    /// Display name, unique.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Access-token audiences (at least one).
    pub audiences: Vec<String>,
}

impl Admin {
    /// Creates a custom authorization server (`aus…`), with its first signing keys.
    pub async fn create_auth_server(&self, spec: AuthServerSpec) -> Result<AuthServer> {
        Error::refuse(spec.problems())?;
        let now = self.now();
        let server = AuthServer {
            id: AuthServerId::parse(new_okta_id("aus"))
                .map_err(|err| Error::Internal(Box::new(err)))?,
            name: spec.name,
            description: spec.description,
            audiences: spec.audiences,
            issuer_mode: IssuerMode::OrgUrl,
            status: Status::Active,
            signing_alg: SigningAlg::RS256,
            scopes: vec![],
            claims: vec![],
            token_lifetimes: TokenLifetimes::default(),
            // As Okta: a new server issues nothing until a policy allows it.
            policies: vec![],
            revision: 0,
            created_at: now,
            updated_at: now,
        };
        let (active, next) = self.keys.first_keys(&server).await?;
        self.store
            .insert_auth_server_with_keys(&server, &active, &next)
            .await
            .map_err(taken(NAME_TAKEN))?;
        self.directory.drop_all();
        tracing::info!(as.id = %server.id, "authorization server created");
        Ok(server)
    }

    /// A custom authorization server, active or not (the org server is not administered).
    pub async fn admin_auth_server(&self, id: &str) -> Result<AuthServer> {
        let not_found = || Error::NotFound {
            kind: "AuthorizationServer",
            id: id.to_owned(),
        };
        let id = AuthServerId::parse(id).map_err(|_| not_found())?;
        if id.is_org() {
            return Err(not_found());
        }
        match self.store.get_auth_server(&id).await {
            Ok(server) => Ok(server),
            Err(store::Error::NotFound) => Err(not_found()),
            Err(err) => Err(err.into()),
        }
    }

    /// Every custom authorization server.
    pub async fn admin_auth_servers(&self) -> Result<Vec<AuthServer>> {
        Ok(self
            .store
            .list_auth_servers()
            .await?
            .into_iter()
            .filter(|server| !server.id.is_org())
            .collect())
    }

    /// Replaces name, description and audiences.
    pub async fn replace_auth_server(&self, id: &str, spec: AuthServerSpec) -> Result<AuthServer> {
        Error::refuse(spec.problems())?;
        let (server, ()) = self
            .modify_auth_server(id, |server, _| {
                server.name.clone_from(&spec.name);
                server.description.clone_from(&spec.description);
                server.audiences.clone_from(&spec.audiences);
                Ok(())
            })
            .await?;
        Ok(server)
    }

    /// Activates or deactivates a server; an inactive one answers nothing but the admin API.
    pub async fn set_auth_server_status(&self, id: &str, status: Status) -> Result<AuthServer> {
        let (server, ()) = self
            .modify_auth_server(id, |server, _| {
                server.status = status;
                Ok(())
            })
            .await?;
        if status == Status::Active && self.keys.maintain(&server).await?.changed {
            self.directory.drop_all();
        }
        Ok(server)
    }

    /// Applies `change` to a custom server and writes it, unless it changed nothing. If another
    /// change was written since the server was read, it starts again from a fresh copy, so no
    /// change is lost.
    pub(crate) async fn modify_auth_server<T>(
        &self,
        id: &str,
        mut change: impl FnMut(&mut AuthServer, Timestamp) -> Result<T>,
    ) -> Result<(AuthServer, T)> {
        const ATTEMPTS: usize = 50;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                // Jitter, so that writers that collided do not collide again in step.
                let pause = rand::RngExt::random_range(&mut rand::rng(), 1..=5 * attempt as u64);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            let mut server = self.admin_auth_server(id).await?;
            let before = server.clone();
            let now = self.now();
            let outcome = change(&mut server, now)?;
            if server == before {
                return Ok((server, outcome));
            }
            server.updated_at = now;
            match self.store.update_auth_server(&server).await {
                Ok(()) => {
                    self.directory.drop_all();
                    server.revision += 1;
                    return Ok((server, outcome));
                }
                Err(store::Error::Superseded | store::Error::Busy) => {}
                // Deleted since it was read.
                Err(store::Error::NotFound) => {
                    return Err(Error::NotFound {
                        kind: "AuthorizationServer",
                        id: id.to_owned(),
                    })
                }
                Err(err) => return Err(taken(NAME_TAKEN)(err)),
            }
        }
        Err(Error::Internal(
            format!("authorization server {id} changed {ATTEMPTS} times while being changed")
                .into(),
        ))
    }

    /// Deletes an inactive server with its keys.
    pub async fn delete_auth_server(&self, id: &str) -> Result<()> {
        let server = self.admin_auth_server(id).await?;
        if server.status == Status::Active {
            return Err(Error::Validation(vec![
                "status: An authorization server must be deactivated before it is deleted"
                    .to_owned(),
            ]));
        }
        self.store.delete_auth_server(&server.id).await?;
        self.directory.drop_all();
        Ok(())
    }

    /// The server's stored keys, newest first.
    pub async fn auth_server_keys(&self, id: &str) -> Result<(AuthServer, Vec<SigningKey>)> {
        let server = self.admin_auth_server(id).await?;
        let keys = self.keys.stored_keys(&server.id).await?;
        Ok((server, keys))
    }

    /// Rotates the server's keys now (Okta's `keyRotate`): NEXT signs at once.
    pub async fn rotate_auth_server_keys(&self, id: &str) -> Result<RotationOutcome> {
        let server = self.admin_auth_server(id).await?;
        if server.status != Status::Active {
            return Err(Error::Validation(vec![
                "status: An inactive authorization server has no keys to rotate".to_owned(),
            ]));
        }
        let outcome = self.keys.rotate_now(&server).await?;
        self.directory.drop_all();
        Ok(outcome)
    }
}

/// A custom scope as an administrator describes it.
#[derive(Debug, Clone)]
pub struct ScopeSpec {
    /// What clients ask for.
    pub name: String,
    /// Shown to people.
    pub display_name: Option<String>,
    /// Free text.
    pub description: String,
    /// Whether the user is asked.
    pub consent: Consent,
    /// Granted to client credentials requests that ask for no scope.
    pub default: bool,
    /// Whether discovery lists it.
    pub metadata_publish: MetadataPublish,
}

/// A custom claim as an administrator describes it.
#[derive(Debug, Clone)]
pub struct ClaimSpec {
    /// The claim's name in the token.
    pub name: String,
    /// Inactive claims are not added.
    pub status: Status,
    /// Which token it goes into.
    pub claim_type: ClaimType,
    /// The expression, or for `GROUPS` the filter's value.
    pub value: String,
    /// What `value` is.
    pub value_type: ClaimValueType,
    /// For `GROUPS`: how `value` picks groups.
    pub group_filter_type: Option<GroupFilterType>,
    /// Added only with one of these scopes; always when empty.
    pub scopes: Vec<String>,
    /// Okta's flag, kept as given: authd adds an active claim whenever its scopes allow.
    pub always_include_in_token: bool,
}

/// Scopes and claims of custom servers (`/authorizationServers/{id}/scopes` and `/claims`).
impl Admin {
    /// A server's custom scopes.
    pub async fn scopes(&self, server_id: &str) -> Result<Vec<Scope>> {
        Ok(self.admin_auth_server(server_id).await?.scopes)
    }

    /// One custom scope.
    pub async fn scope(&self, server_id: &str, scope_id: &str) -> Result<Scope> {
        let server = self.admin_auth_server(server_id).await?;
        find(&server.scopes, scope_id).cloned()
    }

    /// Adds a custom scope; names are unique per server.
    pub async fn create_scope(&self, server_id: &str, spec: ScopeSpec) -> Result<Scope> {
        Error::refuse(spec.problems())?;
        let (_, scope) = self
            .modify_auth_server(server_id, |server, _| {
                refuse_taken_scope(server, &spec.name, None)?;
                let scope = Scope {
                    id: new_okta_id("scp"),
                    ..scope_from(&spec)
                };
                server.scopes.push(scope.clone());
                Ok(scope)
            })
            .await?;
        Ok(scope)
    }

    /// Replaces a custom scope.
    pub async fn replace_scope(
        &self,
        server_id: &str,
        scope_id: &str,
        spec: ScopeSpec,
    ) -> Result<Scope> {
        Error::refuse(spec.problems())?;
        let (_, scope) = self
            .modify_auth_server(server_id, |server, _| {
                refuse_taken_scope(server, &spec.name, Some(scope_id))?;
                find(&server.scopes, scope_id)?;
                let scope = Scope {
                    id: scope_id.to_owned(),
                    ..scope_from(&spec)
                };
                for existing in &mut server.scopes {
                    if existing.id == scope_id {
                        *existing = scope.clone();
                    }
                }
                Ok(scope)
            })
            .await?;
        Ok(scope)
    }

    /// Removes a custom scope. Tokens already issued with it keep it until they expire.
    pub async fn delete_scope(&self, server_id: &str, scope_id: &str) -> Result<()> {
        self.modify_auth_server(server_id, |server, _| {
            find(&server.scopes, scope_id)?;
            server.scopes.retain(|scope| scope.id != scope_id);
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// A server's custom claims.
    pub async fn claims(&self, server_id: &str) -> Result<Vec<CustomClaim>> {
        Ok(self.admin_auth_server(server_id).await?.claims)
    }

    /// One custom claim.
    pub async fn claim(&self, server_id: &str, claim_id: &str) -> Result<CustomClaim> {
        let server = self.admin_auth_server(server_id).await?;
        find(&server.claims, claim_id).cloned()
    }

    /// Adds a custom claim.
    pub async fn create_claim(&self, server_id: &str, spec: ClaimSpec) -> Result<CustomClaim> {
        Error::refuse(spec.problems())?;
        let (_, claim) = self
            .modify_auth_server(server_id, |server, _| {
                refuse_taken_claim(server, &spec, None)?;
                let claim = CustomClaim {
                    id: new_okta_id("ocl"),
                    ..claim_from(&spec)
                };
                server.claims.push(claim.clone());
                Ok(claim)
            })
            .await?;
        Ok(claim)
    }

    /// Replaces a custom claim.
    pub async fn replace_claim(
        &self,
        server_id: &str,
        claim_id: &str,
        spec: ClaimSpec,
    ) -> Result<CustomClaim> {
        Error::refuse(spec.problems())?;
        let (_, claim) = self
            .modify_auth_server(server_id, |server, _| {
                refuse_taken_claim(server, &spec, Some(claim_id))?;
                find(&server.claims, claim_id)?;
                let claim = CustomClaim {
                    id: claim_id.to_owned(),
                    ..claim_from(&spec)
                };
                for existing in &mut server.claims {
                    if existing.id == claim_id {
                        *existing = claim.clone();
                    }
                }
                Ok(claim)
            })
            .await?;
        Ok(claim)
    }

    /// Removes a custom claim.
    pub async fn delete_claim(&self, server_id: &str, claim_id: &str) -> Result<()> {
        self.modify_auth_server(server_id, |server, _| {
            find(&server.claims, claim_id)?;
            server.claims.retain(|claim| claim.id != claim_id);
            Ok(())
        })
        .await?;
        Ok(())
    }
}

fn scope_from(spec: &ScopeSpec) -> Scope {
    Scope {
        id: String::new(),
        name: spec.name.clone(),
        display_name: spec.display_name.clone(),
        description: spec.description.clone(),
        consent: spec.consent,
        default: spec.default,
        metadata_publish: spec.metadata_publish,
    }
}

fn claim_from(spec: &ClaimSpec) -> CustomClaim {
    CustomClaim {
        id: String::new(),
        status: spec.status,
        name: spec.name.clone(),
        value: spec.value.clone(),
        value_type: spec.value_type,
        group_filter_type: spec.group_filter_type,
        claim_type: spec.claim_type,
        scopes: spec.scopes.clone(),
        always_include_in_token: spec.always_include_in_token,
    }
}

/// What is wrong with a claim's value, naming the claim: an expression that does not parse,
/// a `GROUPS` claim without a filter type or with a regular expression that does not compile.
pub fn claim_value_problems(
    name: &str,
    value_type: ClaimValueType,
    group_filter_type: Option<GroupFilterType>,
    value: &str,
) -> Vec<String> {
    match (value_type, group_filter_type) {
        (ClaimValueType::Expression, _) => match Expression::parse(value) {
            Ok(_) => Vec::new(),
            Err(err) => vec![format!(
                "value: the expression of claim {name:?} is invalid: {err}"
            )],
        },
        (ClaimValueType::Groups, None) => vec![format!(
            "group_filter_type: claim {name:?} has valueType GROUPS and needs one of \
             STARTS_WITH, EQUALS, CONTAINS or REGEX"
        )],
        (ClaimValueType::Groups, Some(kind)) => match GroupFilter::new(kind, value) {
            Ok(_) => Vec::new(),
            Err(err) => vec![format!(
                "value: the group filter of claim {name:?} is invalid: {err}"
            )],
        },
    }
}

fn refuse_taken_scope(server: &AuthServer, name: &str, except: Option<&str>) -> Result<()> {
    let taken = server
        .scopes
        .iter()
        .any(|scope| scope.name == name && Some(scope.id.as_str()) != except);
    if taken {
        return Err(Error::Validation(vec![format!(
            "name: The scope {name:?} already exists on this authorization server"
        )]));
    }
    Ok(())
}

fn refuse_taken_claim(server: &AuthServer, spec: &ClaimSpec, except: Option<&str>) -> Result<()> {
    let taken = server.claims.iter().any(|claim| {
        claim.name == spec.name
            && claim.claim_type == spec.claim_type
            && Some(claim.id.as_str()) != except
    });
    if taken {
        return Err(Error::Validation(vec![format!(
            "name: A {} claim named {:?} already exists on this authorization server",
            spec.claim_type, spec.name
        )]));
    }
    Ok(())
}

impl AuthServerSpec {
    /// Okta's rules for a server's fields, as the API, the seed file and the command line
    /// apply them; each problem names its field.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push("name: The field cannot be left blank".to_owned());
        }
        if self.audiences.is_empty() || self.audiences.iter().any(|a| a.trim().is_empty()) {
            problems.push("audiences: at least one non-empty audience is required".to_owned());
        }
        problems
    }
}

impl ScopeSpec {
    /// Okta's rules for scope names.
    pub fn problems(&self) -> Vec<String> {
        scope_name_problems(&self.name)
    }
}

/// Okta's rules for a scope's name, which is all the seed file gives of a scope.
pub fn scope_name_problems(name: &str) -> Vec<String> {
    let printable = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
    let reserved = name == "okta"
        || name == "*"
        || name.starts_with("okta.")
        || name.starts_with("okta:")
        || OIDC_SCOPES.contains(&name);
    if !printable {
        vec!["name: A scope name is printable ASCII without spaces, '\"' or '\\'".to_owned()]
    } else if reserved {
        vec![format!("name: {name:?} is reserved")]
    } else {
        vec![]
    }
}

impl From<&CustomClaim> for ClaimSpec {
    fn from(claim: &CustomClaim) -> Self {
        ClaimSpec {
            name: claim.name.clone(),
            status: claim.status,
            claim_type: claim.claim_type,
            value: claim.value.clone(),
            value_type: claim.value_type,
            group_filter_type: claim.group_filter_type,
            scopes: claim.scopes.clone(),
            always_include_in_token: claim.always_include_in_token,
        }
    }
}

impl ClaimSpec {
    /// Okta's rules for a claim's name and value.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push("name: The field cannot be left blank".to_owned());
        }
        problems.extend(claim_value_problems(
            &self.name,
            self.value_type,
            self.group_filter_type,
            &self.value,
        ));
        problems
    }
}
