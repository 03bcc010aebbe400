//! The System Log: what happened, written as Okta LogEvents where it happens (sign-ins and
//! their failures, sessions, lockouts, password changes, token failures, policy denials, admin
//! changes) and read back by `/api/v1/logs` with Okta's `filter`, `q` and `sortOrder`.
//!
//! Who is calling (IP, user agent, request id) is set once per request by the HTTP layer
//! ([`in_request`]), so that every event of the request carries it without each service
//! passing it along. An event that cannot be written is logged, never turned into a failure of
//! what it records.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::clock::Clock;
use crate::model::{
    okta_time_millis, AuthenticationContext, DebugContext, LogActor, LogClient, LogEvent,
    LogOutcome, LogRange, LogTarget, LogTransaction, RequestContext, UserAgent,
};
use crate::store::Store;

use super::Result;
pub use crate::engine::scim_filter::{Filter, FilterError};

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Runs `work` with `context` as the caller of every event it records.
pub async fn in_request<F: Future>(context: RequestContext, work: F) -> F::Output {
    REQUEST.scope(context, work).await
}

fn current_request() -> RequestContext {
    REQUEST.try_with(Clone::clone).unwrap_or_default()
}

/// An event about to be recorded.
#[derive(Debug, Clone)]
pub struct Event {
    event_type: &'static str,
    display_message: String,
    actor: LogActor,
    outcome: LogOutcome,
    targets: Vec<LogTarget>,
    authentication: AuthenticationContext,
    debug: BTreeMap<String, String>,
}

impl Event {
    /// `event_type` done by `actor`, successfully.
    pub fn new(
        event_type: &'static str,
        display_message: impl Into<String>,
        actor: LogActor,
    ) -> Self {
        Self {
            event_type,
            display_message: display_message.into(),
            actor,
            outcome: LogOutcome {
                result: "SUCCESS".to_owned(),
                reason: None,
            },
            targets: Vec::new(),
            authentication: AuthenticationContext::default(),
            debug: BTreeMap::new(),
        }
    }

    /// It failed, for `reason`.
    pub fn failed(self, reason: impl Into<String>) -> Self {
        self.outcome("FAILURE", Some(reason.into()))
    }

    /// Its outcome: `SUCCESS`, `FAILURE`, `ALLOW`, `DENY`…
    pub fn outcome(mut self, result: &str, reason: Option<String>) -> Self {
        self.outcome = LogOutcome {
            result: result.to_owned(),
            reason,
        };
        self
    }

    /// It was done to `target`.
    pub fn target(mut self, target: LogTarget) -> Self {
        self.targets.push(target);
        self
    }

    /// The actor presented this credential (`PASSWORD`, `API_TOKEN`…) to authd itself.
    pub fn credential(mut self, credential_type: &str) -> Self {
        self.authentication.authentication_provider =
            Some("OKTA_AUTHENTICATION_PROVIDER".to_owned());
        self.authentication.credential_type = Some(credential_type.to_owned());
        self
    }

    /// In this session.
    pub fn session(mut self, session_id: &str) -> Self {
        self.authentication.external_session_id = Some(session_id.to_owned());
        self
    }

    /// A detail.
    pub fn debug(mut self, name: &str, value: impl Into<String>) -> Self {
        self.debug.insert(name.to_owned(), value.into());
        self
    }

    /// The event type.
    pub fn event_type(&self) -> &'static str {
        self.event_type
    }
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// From (milliseconds); default: 7 days ago, as Okta's.
    pub since_ms: Option<i64>,
    /// Before (milliseconds); default: now.
    pub until_ms: Option<i64>,
    /// Okta's `filter`.
    pub filter: Option<Filter>,
    /// Okta's `q`: every word must appear in the event.
    pub q: Option<String>,
    /// `sortOrder=DESCENDING`.
    pub descending: bool,
    /// At most this many.
    pub limit: u32,
    /// The cursor of the previous page.
    pub after: Option<i64>,
}

/// One page of events.
#[derive(Debug, Clone)]
pub struct LogPage {
    /// The events, as Okta renders them.
    pub events: Vec<Value>,
    /// The cursor of the next page, when this one is full.
    pub next_after: Option<i64>,
}

/// Writes and reads the System Log.
#[derive(Clone)]
pub struct SystemLog {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

/// How many events are read from the store at a time while a filter is applied.
const SCAN_BATCH: u32 = 500;

impl SystemLog {
    /// A log over `store`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Records `event`, with the current request's caller.
    pub async fn record(&self, event: Event) {
        let request = current_request();
        let published_ms = self.clock.now_millis();
        let failed = !matches!(event.outcome.result.as_str(), "SUCCESS" | "ALLOW");
        let rendered = LogEvent {
            uuid: uuid::Uuid::new_v4().to_string(),
            published: okta_time_millis(published_ms),
            event_type: event.event_type.to_owned(),
            version: "0".to_owned(),
            severity: if failed { "WARN" } else { "INFO" }.to_owned(),
            display_message: event.display_message,
            actor: event.actor,
            client: LogClient {
                ip_address: request.ip.map(|ip| ip.to_string()),
                user_agent: request.user_agent.map(|raw| UserAgent {
                    raw_user_agent: raw,
                }),
                zone: "null".to_owned(),
            },
            outcome: event.outcome,
            target: event.targets,
            transaction: LogTransaction {
                kind: "WEB".to_owned(),
                id: request.request_id,
            },
            authentication_context: event.authentication,
            debug_context: DebugContext {
                debug_data: event.debug,
            },
        };
        let json = match serde_json::to_string(&rendered) {
            Ok(json) => json,
            Err(err) => {
                tracing::error!(error = %err, "cannot render a System Log event");
                return;
            }
        };
        if let Err(err) = self
            .store
            .append_log_event(published_ms, event.event_type, &json)
            .await
        {
            tracing::error!(
                error = %err,
                event_type = event.event_type,
                "cannot record a System Log event"
            );
        }
    }

    /// A page of events, in the order they were written (or newest first).
    pub async fn query(&self, mut query: LogQuery) -> Result<LogPage> {
        query.limit = query.limit.max(1);
        let now_ms = self.clock.now_millis();
        let since_ms = query
            .since_ms
            .unwrap_or(now_ms.saturating_sub(7 * 86_400_000));
        // Events of this very millisecond are included.
        let until_ms = query.until_ms.unwrap_or(now_ms.saturating_add(1));
        let words: Vec<String> = query
            .q
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let selective = query.filter.is_some() || !words.is_empty();
        let mut range = LogRange {
            since_ms,
            until_ms,
            after: query.after,
            descending: query.descending,
            event_type: query
                .filter
                .as_ref()
                .and_then(Filter::required_event_type)
                .map(str::to_lowercase),
            limit: if selective {
                SCAN_BATCH.max(query.limit)
            } else {
                query.limit
            },
        };
        let mut events = Vec::new();
        loop {
            let batch = self.store.log_events(&range).await?;
            let exhausted = batch.len() < range.limit as usize;
            for stored in batch {
                range.after = Some(stored.sequence);
                let event: Value = match serde_json::from_str(&stored.json) {
                    Ok(event) => event,
                    Err(err) => {
                        tracing::error!(error = %err, sequence = stored.sequence, "unreadable System Log event skipped");
                        continue;
                    }
                };
                if query
                    .filter
                    .as_ref()
                    .is_some_and(|filter| !filter.matches(&event))
                {
                    continue;
                }
                if !words.is_empty() {
                    let mut text = String::new();
                    values_text(&event, &mut text);
                    if !words.iter().all(|word| text.contains(word.as_str())) {
                        continue;
                    }
                }
                events.push(event);
                if events.len() == query.limit as usize {
                    return Ok(LogPage {
                        events,
                        next_after: Some(stored.sequence),
                    });
                }
            }
            if exhausted {
                return Ok(LogPage {
                    events,
                    next_after: None,
                });
            }
        }
    }

    /// Deletes the events older than `retention`; how many.
    pub async fn prune(&self, retention: Duration) -> Result<u64> {
        let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let before = self.clock.now_millis().saturating_sub(retention_ms);
        Ok(self.store.prune_log_events(before).await?)
    }
}

/// The event's values (not its field names), lower-cased, for `q`.
fn values_text(value: &Value, text: &mut String) {
    match value {
        Value::String(string) => {
            text.push_str(&string.to_lowercase());
            text.push(' ');
        }
        Value::Array(items) => items.iter().for_each(|item| values_text(item, text)),
        Value::Object(fields) => fields.values().for_each(|field| values_text(field, text)),
        Value::Number(number) => {
            text.push_str(&number.to_string());
            text.push(' ');
        }
        Value::Bool(_) | Value::Null => {}
    }
}
