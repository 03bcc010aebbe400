//! Prometheus metrics: one registry per server (no global recorder, so that two servers in one
//! process count apart), written through the `metrics` crate's handles and rendered by
//! `metrics-exporter-prometheus` for `GET /metrics` on `AUTHD_METRICS_LISTEN`.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Key, Label, Metadata, Recorder as _};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Seconds: from a fast token (under a millisecond) to a sign-in's password hash (a second).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Every series authd writes, with what it counts: the `# HELP` lines of `/metrics`.
const DESCRIPTIONS: &[(&str, &str)] = &[
    ("authd_http_requests_total", "HTTP requests answered, by method, matched route and status"),
    ("authd_http_request_duration_seconds", "Time to answer an HTTP request, by matched route"),
    ("authd_tokens_issued_total", "Token responses issued, by grant and authorization server"),
    ("authd_sign_ins_total", "Password checks, by outcome: success, invalid_credentials, locked_out, error"),
    ("authd_lockouts_total", "Users locked out by repeated failed passwords"),
    ("authd_rate_limited_total", "Sign-in attempts refused by a rate limit, by limit: ip or username"),
    ("authd_key_rotations_total", "Signing keys brought into use (a server's first, then each rotation), by server"),
    ("authd_signing_key_age_seconds", "How long each active server's signing key has been signing"),
    ("authd_database_connections", "Database pool connections, by state: in_use or idle"),
    ("authd_database_query_duration_seconds", "Time the database took for each store operation (a statement, or one transaction), by operation"),
    ("authd_directory_lookups_total", "Lookups of servers and apps, by cache and result: hit (held) or miss (read from the database)"),
];

/// Where the series are kept; cheap to clone. A server without a metrics listener keeps
/// none, and counting costs it nothing.
#[derive(Clone)]
pub struct Metrics {
    registry: Option<Registry>,
}

#[derive(Clone)]
struct Registry {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    Key::from_parts(
        name,
        labels
            .iter()
            .map(|(label, value)| Label::new(*label, (*value).to_owned()))
            .collect::<Vec<_>>(),
    )
}

const METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

impl Registry {
    fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .map_or_else(
                |_| PrometheusBuilder::new().build_recorder(),
                PrometheusBuilder::build_recorder,
            );
        for (name, description) in DESCRIPTIONS {
            let name = metrics::KeyName::from_const_str(name);
            let description = metrics::SharedString::const_str(description);
            if name.as_str().ends_with("_total") {
                recorder.describe_counter(name, None, description);
            } else if name.as_str().ends_with("_duration_seconds") {
                recorder.describe_histogram(name, Some(metrics::Unit::Seconds), description);
            } else {
                recorder.describe_gauge(name, None, description);
            }
        }
        let handle = recorder.handle();
        Self {
            recorder: Arc::new(recorder),
            handle,
        }
    }
}

impl Metrics {
    /// An empty registry that keeps what is counted.
    pub fn recording() -> Self {
        Self {
            registry: Some(Registry::new()),
        }
    }

    /// Counts nothing: for a server that serves no metrics.
    pub fn disabled() -> Self {
        Self { registry: None }
    }

    /// Whether anything is kept: callers skip work that only feeds metrics when not.
    pub fn is_recording(&self) -> bool {
        self.registry.is_some()
    }

    /// A counter's handle, for a series counted often enough to keep.
    pub fn counter(&self, name: &'static str, labels: &[(&'static str, &str)]) -> metrics::Counter {
        match &self.registry {
            Some(registry) => registry
                .recorder
                .register_counter(&key(name, labels), &METADATA),
            None => metrics::Counter::noop(),
        }
    }

    /// Adds one to a counter.
    pub fn count(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        if let Some(registry) = &self.registry {
            registry
                .recorder
                .register_counter(&key(name, labels), &METADATA)
                .increment(1);
        }
    }

    /// Sets a gauge.
    pub fn set(&self, name: &'static str, labels: &[(&'static str, &str)], value: f64) {
        if let Some(registry) = &self.registry {
            registry
                .recorder
                .register_gauge(&key(name, labels), &METADATA)
                .set(value);
        }
    }

    /// Records a duration in a histogram, in seconds.
    pub fn time(&self, name: &'static str, labels: &[(&'static str, &str)], took: Duration) {
        if let Some(registry) = &self.registry {
            registry
                .recorder
                .register_histogram(&key(name, labels), &METADATA)
                .record(took.as_secs_f64());
        }
    }

    /// Records a duration in a histogram whose labels are all known at compile time, without
    /// copying them: for a series written several times in every request.
    pub fn time_static(
        &self,
        name: &'static str,
        labels: &[(&'static str, &'static str)],
        took: Duration,
    ) {
        if let Some(registry) = &self.registry {
            let labels = labels
                .iter()
                .map(|(label, value)| Label::from_static_parts(label, value))
                .collect::<Vec<_>>();
            registry
                .recorder
                .register_histogram(&Key::from_parts(name, labels), &METADATA)
                .record(took.as_secs_f64());
        }
    }

    /// Folds recorded samples into the histograms, so that memory does not grow between
    /// scrapes; run every few seconds.
    pub fn upkeep(&self) {
        if let Some(registry) = &self.registry {
            registry.handle.run_upkeep();
        }
    }

    /// Every series in Prometheus's text format; empty when nothing is kept.
    pub fn render(&self) -> String {
        self.registry
            .as_ref()
            .map(|registry| registry.handle.render())
            .unwrap_or_default()
    }
}
