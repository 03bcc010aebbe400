//! Okta's Trusted Origins, and the one decision they feed: which browser origins the server
//! trusts for CORS and for redirects after sign-in.
//!
//! An origin is trusted for both when an active app registered a redirect URI (or a post-logout
//! redirect URI) on it, as Okta does for its apps; an administrator adds others through the
//! Trusted Origins API with scope `CORS`, `REDIRECT` or both.

use std::collections::HashSet;
use std::sync::Arc;

use crate::model::{new_okta_id, normalize_origin, Actor, OriginScope, Status, TrustedOrigin};
use crate::store;

use super::{Change, Engine, Error, Result};

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

/// The origins trusted for each purpose, as browsers spell them in `Origin`.
#[derive(Debug, Default)]
pub(super) struct OriginTrust {
    cors: HashSet<String>,
    redirect: HashSet<String>,
}

impl Engine {
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
        self.directory_changed();
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
        self.directory_changed();
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
        self.directory_changed();
        Ok(origin)
    }

    /// Whether a page on `origin` (an `Origin` header) may call the browser endpoints
    /// cross-origin with credentials (DESIGN §8).
    pub async fn cors_origin_allowed(&self, origin: &str) -> bool {
        if origin == "null" {
            return false;
        }
        match self.origin_trust().await {
            Ok(trust) => trust.cors.contains(origin) || self.is_own_origin(origin),
            Err(err) => {
                tracing::error!(error = %err, "cannot read the trusted origins; CORS refused");
                false
            }
        }
    }

    /// Where the browser may be sent after sign-in, if `url` is allowed: this server itself,
    /// or an origin trusted for redirects (DESIGN §6: no open redirect). The URL comes back as
    /// parsed and re-serialized, so what goes into `Location` is what was checked.
    pub async fn trusted_redirect(&self, url: &str) -> Result<Option<url::Url>> {
        let Ok(target) = url::Url::parse(url) else {
            return Ok(None);
        };
        if !matches!(target.scheme(), "http" | "https") {
            return Ok(None);
        }
        let origin = target.origin().ascii_serialization();
        if self.is_own_origin(&origin) || self.origin_trust().await?.redirect.contains(&origin) {
            Ok(Some(target))
        } else {
            Ok(None)
        }
    }

    fn is_own_origin(&self, origin: &str) -> bool {
        url::Url::parse(&self.base_url)
            .is_ok_and(|base| base.origin().ascii_serialization() == origin)
    }

    /// The trusted origins, from the directory, so that CORS checks do not each read every
    /// app.
    async fn origin_trust(&self) -> Result<Arc<OriginTrust>> {
        if self.directory.is_followed() {
            if let Some(trust) = self.directory.origin_trust.get(&()) {
                return Ok(trust);
            }
        }
        let reading = self.directory.reading();
        let (clients, origins) =
            tokio::try_join!(self.store.list_clients(), self.store.list_trusted_origins())?;
        let mut trust = OriginTrust::default();
        let registered = clients
            .iter()
            .filter(|client| client.status == Status::Active)
            .flat_map(|client| {
                client
                    .redirect_uris
                    .iter()
                    .chain(&client.post_logout_redirect_uris)
            })
            .filter_map(|registered| url::Url::parse(registered).ok())
            // A private-use redirect URI (`com.example.app:/cb`) has an opaque origin, which
            // serializes as `null`: the `Origin` of sandboxed frames and `data:` pages, never
            // to be trusted.
            .map(|registered| registered.origin())
            .filter(url::Origin::is_tuple)
            .map(|origin| origin.ascii_serialization());
        for origin in registered {
            trust.cors.insert(origin.clone());
            trust.redirect.insert(origin);
        }
        for origin in &origins {
            let Some(normalized) = origin.normalized_origin() else {
                continue;
            };
            if origin.trusts(OriginScope::Cors) {
                trust.cors.insert(normalized.clone());
            }
            if origin.trusts(OriginScope::Redirect) {
                trust.redirect.insert(normalized);
            }
        }
        let trust = Arc::new(trust);
        self.directory
            .keep(&self.directory.origin_trust, reading, (), trust.clone());
        Ok(trust)
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
