//! API tokens (Okta's `SSWS`): who may call the management API.

use crate::engine::{Error, Result};
use crate::model::{new_okta_id, Actor, ApiToken, PlainToken, Timestamp};

use super::Admin;

/// The actor of calls made with `AUTHD_ADMIN_TOKEN`.
pub const BOOTSTRAP_ACTOR: &str = "bootstrap";

impl Admin {
    /// The actor an `SSWS` token stands for: the bootstrap token, or a stored one (marked used).
    pub async fn authenticate_api_token(
        &self,
        presented: &str,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<Actor> {
        let now = self.now();
        if let Some(actor) = self.check_api_token(presented, now).await? {
            // A valid token always works: wrong guesses from a shared address must not lock
            // its administrators out.
            return Ok(actor);
        }
        // Wrong tokens are counted per address (in this replica); past the limit they are
        // answered 429 for the rest of the minute.
        let ip_key = client_ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        match self.api_token_failures.hit(&ip_key, now) {
            Ok(_) => Err(Error::InvalidToken),
            Err(rate) => Err(Error::RateLimited(rate)),
        }
    }

    async fn check_api_token(&self, presented: &str, now: Timestamp) -> Result<Option<Actor>> {
        let hash = PlainToken::from_presented(presented).hash();
        if self.bootstrap_token.as_ref().is_some_and(|bootstrap| {
            crate::engine::constant_time_eq(bootstrap.as_str().as_bytes(), hash.as_str().as_bytes())
        }) {
            return Ok(Some(Actor {
                id: BOOTSTRAP_ACTOR.to_owned(),
                name: "AUTHD_ADMIN_TOKEN".to_owned(),
            }));
        }
        let unused_since = Timestamp::from_unix(
            now.unix()
                .saturating_sub(i64::try_from(self.api_token_window.as_secs()).unwrap_or(i64::MAX)),
        );
        Ok(self
            .store
            .use_api_token(&hash, now, unused_since)
            .await?
            .map(|token| Actor {
                id: token.id,
                name: token.name,
            }))
    }

    /// How long an unused API token keeps working (Okta's `tokenWindow`).
    pub fn api_token_window(&self) -> std::time::Duration {
        self.api_token_window
    }

    /// Creates an API token; the token itself is returned once and stored only as a hash.
    pub async fn create_api_token(&self, name: &str) -> Result<(ApiToken, PlainToken)> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(Error::Validation(vec![
                "name: must be 1 to 100 characters".to_owned()
            ]));
        }
        let token = PlainToken::generate();
        let record = ApiToken {
            id: new_okta_id("00T"),
            name: name.to_owned(),
            created_at: self.now(),
            last_used_at: None,
        };
        self.store.insert_api_token(&record, &token.hash()).await?;
        tracing::info!(token.id = %record.id, "API token created");
        Ok((record, token))
    }

    /// Every API token (never the tokens themselves).
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        Ok(self.store.list_api_tokens().await?)
    }

    /// Revokes an API token.
    pub async fn revoke_api_token(&self, id: &str) -> Result<()> {
        if self.store.delete_api_token(id).await? {
            tracing::info!(token.id = %id, "API token revoked");
            Ok(())
        } else {
            Err(Error::NotFound {
                kind: "ApiToken",
                id: id.to_owned(),
            })
        }
    }
}
