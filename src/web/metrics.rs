//! `/metrics` from `prometheus-client` (the Prometheus project's Rust client),
//! in the OpenMetrics text format. Chosen over `metrics` +
//! `metrics-exporter-prometheus` because its registry is a value, not a global
//! recorder: each listener (and each test's server in one process) counts its
//! own traffic, and it pulls in a handful of small crates.
//!
//! Labels are fixed, small sets (command names from [`COMMANDS`], outcomes,
//! routes, reasons), never user data: a command name Discord sends that is not
//! one of hallpass's is counted as `other`.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::audit::Outcome as AuditOutcome;
use crate::commands::Route;
use crate::discord::Hooks;
use crate::discord::gateway::GatewayState;

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    kind: &'static str,
    command: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    command: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HowLabels {
    how: &'static str,
}

type Histograms = Family<CommandLabels, Histogram, fn() -> Histogram>;

/// What an interaction came to, by the audit log's account of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Refused,
    Failed,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    interactions: Family<CommandLabels, Counter>,
    latency: Histograms,
    outcomes: Family<OutcomeLabels, Counter>,
    rejected: Family<ReasonLabels, Counter>,
    rate_limited: Family<KindLabels, Counter>,
    dm_fallbacks: Counter,
    roll_backs: Counter,
    outbox_depth: Gauge,
    outbox_oldest: Gauge<f64, AtomicU64>,
    gateway: Family<StateLabels, Gauge>,
    gateway_sessions: Family<HowLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    // 5 ms to about 20 s: autocomplete at the low end, a reset's hash and DM at the top.
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let interactions = Family::<CommandLabels, Counter>::default();
        registry.register(
            "hallpass_interactions",
            "Interactions answered, by kind and command",
            interactions.clone(),
        );
        let latency: Histograms = Family::new_with_constructor(latency_histogram);
        registry.register(
            "hallpass_interaction_seconds",
            "Time spent answering, by kind and command",
            latency.clone(),
        );
        let outcomes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "hallpass_interaction_outcomes",
            "Commands and forms by outcome (allowed, refused, failed), as audited",
            outcomes.clone(),
        );
        let rejected = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "hallpass_requests_rejected",
            "Requests refused before any handler ran",
            rejected.clone(),
        );
        let rate_limited = Family::<KindLabels, Counter>::default();
        registry.register(
            "hallpass_rate_limited",
            "Interactions refused by the per-account rate limit",
            rate_limited.clone(),
        );
        let dm_fallbacks = Counter::default();
        registry.register(
            "hallpass_dm_fallbacks",
            "Secrets delivered in a private reply because the DM failed",
            dm_fallbacks.clone(),
        );
        let roll_backs = Counter::default();
        registry.register(
            "hallpass_roll_backs",
            "Password resets undone because nobody received the password",
            roll_backs.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register(
            "hallpass_outbox_depth",
            "Promotion tickets waiting for delivery to Zendesk",
            outbox_depth.clone(),
        );
        let outbox_oldest = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "hallpass_outbox_oldest_age_seconds",
            "Age of the oldest ticket waiting for delivery (0 when none waits)",
            outbox_oldest.clone(),
        );
        let gateway = Family::<StateLabels, Gauge>::default();
        registry.register(
            "hallpass_gateway_state",
            "1 for the Discord gateway client's state (connected, connecting, failed), 0 for the others; absent without DISCORD_TOKEN",
            gateway.clone(),
        );
        let gateway_sessions = Family::<HowLabels, Counter>::default();
        registry.register(
            "hallpass_gateway_sessions",
            "Discord gateway sessions begun, by how (identified: a new one; resumed: after a drop, nothing missed)",
            gateway_sessions.clone(),
        );
        Self {
            registry,
            interactions,
            latency,
            outcomes,
            rejected,
            rate_limited,
            dm_fallbacks,
            roll_backs,
            outbox_depth,
            outbox_oldest,
            gateway,
            gateway_sessions,
        }
    }
}

/// `name` if hallpass has such a command, else `other`.
fn command_label(name: &str) -> &'static str {
    crate::commands::command(name).map_or("other", |c| c.name)
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "command" => "command",
        "autocomplete" => "autocomplete",
        "modal_submit" => "modal_submit",
        "button" => "button",
        _ => "other",
    }
}

impl Metrics {
    pub fn interaction(&self, kind: &str, command: &str, took: Duration) {
        let labels = CommandLabels {
            kind: kind_label(kind),
            command: command_label(command),
        };
        self.interactions.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    pub fn outcome(&self, command: &str, outcome: Outcome) {
        self.outcomes
            .get_or_create(&OutcomeLabels {
                command: command_label(command),
                outcome: outcome.label(),
            })
            .inc();
    }

    pub fn rejected(&self, reason: &'static str) {
        self.rejected.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn rate_limited(&self, kind: &str) {
        self.rate_limited
            .get_or_create(&KindLabels {
                kind: kind_label(kind),
            })
            .inc();
    }

    pub fn dm_fallback(&self) {
        self.dm_fallbacks.inc();
    }

    pub fn roll_back(&self) {
        self.roll_backs.inc();
    }

    /// Sets the outbox gauges (read from the store at scrape time).
    pub fn outbox(&self, depth: u64, oldest: Option<Duration>) {
        self.outbox_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
        self.outbox_oldest
            .set(oldest.map_or(0.0, |age| age.as_secs_f64()));
    }

    /// Sets the gateway state gauges (read from the client's health at
    /// scrape time): `state` is one of the client's state labels.
    pub fn gateway(&self, state: &str) {
        for label in GatewayState::LABELS {
            self.gateway
                .get_or_create(&StateLabels { state: label })
                .set(i64::from(label == state));
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            tracing::error!("could not encode the metrics");
        }
        out
    }
}

/// What the HTTP endpoint and the gateway count of each interaction they
/// answer (`discord::answer`).
impl Hooks for Metrics {
    fn answered(&self, kind: &'static str, command: &'static str, took: Duration) {
        self.interaction(kind, command, took);
    }

    fn rate_limited(&self, kind: &'static str) {
        Metrics::rate_limited(self, kind);
    }

    fn route(&self, route: Option<Route>) {
        match route {
            Some(Route::PrivateReply) => self.dm_fallback(),
            Some(Route::Undone) => self.roll_back(),
            Some(Route::DirectMessage) | None => {}
        }
    }

    /// The outcome as audited for this interaction (gathered as its entries
    /// were written, see `store::AuditedOutcomes`): a command that wrote no
    /// entry (a lookup) counts as allowed.
    fn outcome(&self, command: &'static str, audited: Option<AuditOutcome>) {
        let outcome = match audited {
            Some(AuditOutcome::Failed) => Outcome::Failed,
            Some(AuditOutcome::Refused) => Outcome::Refused,
            Some(AuditOutcome::Applied) | None => Outcome::Allowed,
        };
        Metrics::outcome(self, command, outcome);
    }

    fn gateway_session(&self, how: &'static str) {
        let how = match how {
            "identified" | "resumed" => how,
            _ => "other",
        };
        self.gateway_sessions
            .get_or_create(&HowLabels { how })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_command_name_is_counted_as_other() {
        let metrics = Metrics::default();
        metrics.interaction("command", "ana.lopez", Duration::from_millis(3));
        metrics.interaction("command", "whois", Duration::from_millis(3));
        let text = metrics.render();
        assert!(!text.contains("ana.lopez"), "{text}");
        assert!(
            text.contains("hallpass_interactions_total{kind=\"command\",command=\"other\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "hallpass_interaction_seconds_count{kind=\"command\",command=\"whois\"} 1"
            ),
            "{text}"
        );
    }
}
