//! The System Log: every admin call, recorded, and read back by Okta's System Log API.

use crate::engine::Result;
use crate::model::{Actor, AuditEvent, AuditTarget, Timestamp};

use super::Admin;

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

impl Admin {
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
