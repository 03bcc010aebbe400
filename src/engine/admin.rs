//! The management API's own state: API tokens (Okta's `SSWS`) and the audit log of every admin
//! call.

use crate::model::{new_okta_id, Actor, ApiToken, AuditEvent, AuditTarget, PlainToken, Timestamp};

use super::{Engine, Error, Result};

/// The actor of calls made with `AUTHD_ADMIN_TOKEN`.
pub const BOOTSTRAP_ACTOR: &str = "bootstrap";

/// What an audit entry records of one admin call.
#[derive(Debug)]
pub struct AuditEntry {
    /// Okta-style event type.
    pub event_type: String,
    /// What happened, for people.
    pub display_message: String,
    /// Whether it worked.
    pub success: bool,
    /// Who.
    pub actor: Actor,
    /// On what.
    pub targets: Vec<AuditTarget>,
    /// From where.
    pub client_ip: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

impl Engine {
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
            super::constant_time_eq(bootstrap.as_str().as_bytes(), hash.as_str().as_bytes())
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

    /// Records an admin call in the audit log.
    pub async fn audit(&self, entry: AuditEntry) -> Result<()> {
        let random: [u8; 16] = rand::random();
        let uuid = random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        self.store
            .insert_audit_event(&AuditEvent {
                uuid,
                published: self.now(),
                event_type: entry.event_type,
                display_message: entry.display_message,
                outcome: if entry.success { "SUCCESS" } else { "FAILURE" }.to_owned(),
                actor: entry.actor,
                targets: entry.targets,
                client_ip: entry.client_ip,
                request_id: entry.request_id,
            })
            .await?;
        Ok(())
    }

    /// Audit events in `[since, until)`, at most `limit`, keeping those that mention `q`
    /// (case-insensitive) in their type, message, actor or targets.
    pub async fn audit_events(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        limit: u32,
        q: Option<&str>,
    ) -> Result<Vec<AuditEvent>> {
        let now = self.now();
        let since = since.unwrap_or(Timestamp::from_unix(now.unix() - 7 * 86_400));
        let until = until.unwrap_or(now.plus(std::time::Duration::from_secs(1)));
        let Some(q) = q.map(str::to_lowercase).filter(|q| !q.is_empty()) else {
            return Ok(self.store.list_audit_events(since, until, limit).await?);
        };
        let events = self.store.list_audit_events(since, until, u32::MAX).await?;
        Ok(events
            .into_iter()
            .filter(|event| {
                let haystack = format!(
                    "{} {} {} {} {}",
                    event.event_type,
                    event.display_message,
                    event.actor.id,
                    event.actor.name,
                    event
                        .targets
                        .iter()
                        .map(|t| format!("{} {}", t.id, t.display_name))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
                .to_lowercase();
                q.split_whitespace().all(|word| haystack.contains(word))
            })
            .take(limit as usize)
            .collect())
    }
}
