//! Okta's Authorization Servers API: create, read, update, activate/deactivate, delete, and
//! the signing keys of each server.

use crate::model::{
    new_okta_id, AuthServer, AuthServerId, IssuerMode, SigningAlg, SigningKey, Status,
    TokenLifetimes,
};
use crate::store::{self, RotationOutcome};

use super::{taken, Engine, Error, Result};

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

impl Engine {
    /// Creates a custom authorization server (`aus…`), with its first signing keys.
    pub async fn create_auth_server(&self, spec: AuthServerSpec) -> Result<AuthServer> {
        check(&spec)?;
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
            created_at: now,
            updated_at: now,
        };
        self.store
            .insert_auth_server(&server)
            .await
            .map_err(taken(NAME_TAKEN))?;
        self.keys.maintain(&server).await?;
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
        check(&spec)?;
        let existing = self.admin_auth_server(id).await?;
        let server = AuthServer {
            name: spec.name,
            description: spec.description,
            audiences: spec.audiences,
            updated_at: self.now(),
            ..existing
        };
        self.store
            .update_auth_server(&server)
            .await
            .map_err(taken(NAME_TAKEN))?;
        Ok(server)
    }

    /// Activates or deactivates a server; an inactive one answers nothing but the admin API.
    pub async fn set_auth_server_status(&self, id: &str, status: Status) -> Result<AuthServer> {
        let existing = self.admin_auth_server(id).await?;
        let server = AuthServer {
            status,
            updated_at: self.now(),
            ..existing
        };
        self.store.update_auth_server(&server).await?;
        if status == Status::Active {
            self.keys.maintain(&server).await?;
        } else {
            self.keys.forget(&server.id);
        }
        Ok(server)
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
        self.keys.forget(&server.id);
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
        Ok(self.keys.rotate_now(&server).await?)
    }
}

fn check(spec: &AuthServerSpec) -> Result<()> {
    let mut causes = Vec::new();
    if spec.name.trim().is_empty() {
        causes.push("name: The field cannot be left blank".to_owned());
    }
    if spec.audiences.is_empty() || spec.audiences.iter().any(|a| a.trim().is_empty()) {
        causes.push("audiences: at least one non-empty audience is required".to_owned());
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(causes))
    }
}
