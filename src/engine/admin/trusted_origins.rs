//! Okta's Trusted Origins API: the origins an administrator trusts, with scope `CORS`,
//! `REDIRECT` or both, beside those of active apps' redirect URIs. The directory
//! ([`crate::engine::directory`]) decides from them which browser origins may call
//! cross-origin and be redirected to after sign-in.

use std::collections::HashSet;

use crate::engine::{Change, Error, Result};
use crate::model::{new_okta_id, normalize_origin, Actor, OriginScope, Status, TrustedOrigin};
use crate::store;

use super::Admin;

/// The most characters Okta allows in a trusted origin's name and origin.
const MAX_LENGTH: usize = 255;

/// A trusted origin as an administrator or the seed file describes it.
#[derive(Debug, Clone)]
pub struct OriginSpec {
    /// A unique name.
    pub name: String,
    /// `scheme://host[:port]`.
    pub origin: String,
    /// What it is trusted for.
    pub scopes: Vec<OriginScope>,
}

impl Admin {
    /// Every trusted origin, by id.
    pub async fn trusted_origins(&self) -> Result<Vec<TrustedOrigin>> {
        let mut origins = self.store.list_trusted_origins().await?;
        // Paging compares ids byte by byte; a database collation may order them otherwise.
        origins.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(origins)
    }

    /// One trusted origin by id.
    pub async fn trusted_origin(&self, id: &str) -> Result<TrustedOrigin> {
        match self.store.get_trusted_origin(id).await {
            Err(store::Error::NotFound) => Err(origin_not_found(id)),
            other => Ok(other?),
        }
    }

    /// Adds a trusted origin, active at once.
    #[tracing::instrument(skip_all)]
    pub async fn create_trusted_origin(
        &self,
        spec: OriginSpec,
        actor: &Actor,
    ) -> Result<TrustedOrigin> {
        validate(&spec)?;
        let now = self.now();
        let origin = TrustedOrigin {
            id: new_okta_id("tos"),
            name: spec.name,
            origin: spec.origin,
            scopes: spec.scopes,
            status: Status::Active,
            created_at: now,
            created_by: actor.id.clone(),
            updated_at: now,
            updated_by: actor.id.clone(),
        };
        self.store
            .insert_trusted_origin(&origin)
            .await
            .map_err(taken)?;
        self.directory.drop_all();
        tracing::info!(trusted_origin.id = %origin.id, "trusted origin created");
        Ok(origin)
    }

    /// Replaces a trusted origin's name, origin and scopes.
    #[tracing::instrument(skip_all, fields(trusted_origin.id = %id))]
    pub async fn replace_trusted_origin(
        &self,
        id: &str,
        spec: OriginSpec,
        actor: &Actor,
    ) -> Result<TrustedOrigin> {
        validate(&spec)?;
        let mut origin = self.trusted_origin(id).await?;
        origin.name = spec.name;
        origin.origin = spec.origin;
        origin.scopes = spec.scopes;
        self.write_trusted_origin(origin, actor).await
    }

    /// Creates the trusted origin with the spec's name, or brings it in line with the spec if
    /// `update` is set (the seed file's way).
    pub async fn put_trusted_origin(
        &self,
        spec: OriginSpec,
        status: Status,
        update: bool,
    ) -> Result<Change> {
        let actor = Actor {
            id: "seed".to_owned(),
            name: "seed file".to_owned(),
        };
        let existing = self
            .store
            .list_trusted_origins()
            .await?
            .into_iter()
            .find(|origin| origin.name == spec.name);
        let Some(mut origin) = existing else {
            let name = spec.name.clone();
            let created = match self.create_trusted_origin(spec, &actor).await {
                Ok(created) => created,
                // Another replica applying the same seed file made it meanwhile.
                Err(err) => {
                    let made = self.store.list_trusted_origins().await?;
                    if made.iter().any(|origin| origin.name == name) {
                        return Ok(Change::Unchanged);
                    }
                    return Err(err);
                }
            };
            if status != Status::Active {
                self.set_trusted_origin_status(&created.id, status, &actor)
                    .await?;
            }
            return Ok(Change::Created);
        };
        if !update
            || (origin.origin == spec.origin
                && origin.scopes == spec.scopes
                && origin.status == status)
        {
            return Ok(Change::Unchanged);
        }
        validate(&spec)?;
        origin.origin = spec.origin;
        origin.scopes = spec.scopes;
        origin.status = status;
        self.write_trusted_origin(origin, &actor).await?;
        Ok(Change::Updated)
    }

    /// Activates or deactivates a trusted origin; an inactive one is trusted for nothing.
    #[tracing::instrument(skip_all, fields(trusted_origin.id = %id))]
    pub async fn set_trusted_origin_status(
        &self,
        id: &str,
        status: Status,
        actor: &Actor,
    ) -> Result<TrustedOrigin> {
        let mut origin = self.trusted_origin(id).await?;
        origin.status = status;
        self.write_trusted_origin(origin, actor).await
    }

    /// Deletes a trusted origin.
    #[tracing::instrument(skip_all, fields(trusted_origin.id = %id))]
    pub async fn delete_trusted_origin(&self, id: &str) -> Result<()> {
        if !self.store.delete_trusted_origin(id).await? {
            return Err(origin_not_found(id));
        }
        self.directory.drop_all();
        Ok(())
    }

    async fn write_trusted_origin(
        &self,
        mut origin: TrustedOrigin,
        actor: &Actor,
    ) -> Result<TrustedOrigin> {
        origin.updated_at = self.now();
        origin.updated_by = actor.id.clone();
        match self.store.update_trusted_origin(&origin).await {
            Err(store::Error::NotFound) => return Err(origin_not_found(&origin.id)),
            other => other.map_err(taken)?,
        }
        self.directory.drop_all();
        Ok(origin)
    }
}

/// Okta's rules for a trusted origin's fields, each failure a cause naming its field.
fn validate(spec: &OriginSpec) -> Result<()> {
    let mut causes = Vec::new();
    if spec.name.trim().is_empty() || spec.name.len() > MAX_LENGTH {
        causes.push(format!(
            "name: The name must be 1 to {MAX_LENGTH} characters"
        ));
    }
    if spec.origin.len() > MAX_LENGTH || normalize_origin(&spec.origin).is_none() {
        causes.push("origin: Origin value is not valid".to_owned());
    }
    if spec.scopes.is_empty() {
        causes.push("scopes: At least one scope (CORS or REDIRECT) is required".to_owned());
    }
    let distinct: HashSet<_> = spec.scopes.iter().collect();
    if distinct.len() != spec.scopes.len() {
        causes.push("scopes: A scope type is listed twice".to_owned());
    }
    if spec.scopes.contains(&OriginScope::IframeEmbed) {
        // The hosted sign-in page cannot be framed by anyone (DESIGN §6); accepting the scope
        // would promise an embedding that never works.
        causes.push(
            "scopes: IFRAME_EMBED is not supported: the sign-in page cannot be embedded".to_owned(),
        );
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(causes))
    }
}

/// A taken name or origin, in Okta's words.
fn taken(err: store::Error) -> Error {
    match err {
        store::Error::Conflict { what } => {
            let field = if what.contains("name") {
                "name"
            } else {
                "origin"
            };
            Error::Validation(vec![format!(
                "{field}: An object with this field already exists in the current organization"
            )])
        }
        other => other.into(),
    }
}

fn origin_not_found(id: &str) -> Error {
    Error::NotFound {
        kind: "TrustedOrigin",
        id: id.to_owned(),
    }
}
