//! Prometheus metrics, one registry per running app.
//!
//! A registry per app (instead of a process-global one) keeps end-to-end tests that run several
//! servers in one process from reading each other's counters.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of delivery counters: the `X-GitHub-Event` name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub event: String,
}

/// Labels of GitHub API call counters. `route` is the templated path (`/repos/{owner}/{repo}/…`),
/// never the concrete one, so the label set stays bounded.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GithubCallLabels {
    pub method: String,
    pub route: String,
    pub status: String,
}

/// Labels of preview run counters: `deploy` or `destroy`, and how it ended (`success`,
/// `failure`, `superseded`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PreviewRunLabels {
    pub operation: String,
    pub outcome: String,
}

/// Labels of notification counters: the channel kind and `sent`, `failed` or `dead`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NotificationLabels {
    pub channel: String,
    pub outcome: String,
}

/// One environment of one repository.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EnvironmentLabels {
    pub repository: String,
    pub environment: String,
}

pub struct Metrics {
    registry: Registry,
    pub deliveries_received: Family<EventLabels, Counter>,
    pub deliveries_duplicate: Counter,
    pub deliveries_processed: Family<EventLabels, Counter>,
    pub deliveries_failed: Family<EventLabels, Counter>,
    pub deliveries_dead: Family<EventLabels, Counter>,
    pub processing_seconds: Family<EventLabels, Histogram>,
    pub github_calls: Family<GithubCallLabels, Counter>,
    pub github_rate_limit_remaining: Gauge,
    pub preview_runs: Family<PreviewRunLabels, Counter>,
    pub preview_run_seconds: Family<PreviewRunLabels, Histogram>,
    pub notifications: Family<NotificationLabels, Counter>,
    pub pipeline_steps: Family<PreviewRunLabels, Counter>,
    pub pipeline_step_seconds: Family<PreviewRunLabels, Histogram>,
    /// Bytes of webhook bodies reserved from the body budget right now.
    pub webhook_body_bytes_reserved: Gauge,
    /// Objects that differ from Git in each environment, as its last drift sweep found.
    pub drift_objects: Family<EnvironmentLabels, Gauge>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("gitferry");
        let deliveries_received = Family::<EventLabels, Counter>::default();
        let deliveries_duplicate = Counter::default();
        let deliveries_processed = Family::<EventLabels, Counter>::default();
        let deliveries_failed = Family::<EventLabels, Counter>::default();
        let deliveries_dead = Family::<EventLabels, Counter>::default();
        let processing_seconds =
            Family::<EventLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        let github_calls = Family::<GithubCallLabels, Counter>::default();
        let github_rate_limit_remaining = Gauge::default();
        let preview_runs = Family::<PreviewRunLabels, Counter>::default();
        let notifications = Family::<NotificationLabels, Counter>::default();
        let pipeline_steps = Family::<PreviewRunLabels, Counter>::default();
        let pipeline_step_seconds =
            Family::<PreviewRunLabels, Histogram>::new_with_constructor(run_histogram as fn() -> _);
        let preview_run_seconds =
            Family::<PreviewRunLabels, Histogram>::new_with_constructor(run_histogram as fn() -> _);
        registry.register(
            "deliveries_received",
            "Webhook deliveries accepted and stored",
            deliveries_received.clone(),
        );
        registry.register(
            "deliveries_duplicate",
            "Webhook deliveries answered 200 because their X-GitHub-Delivery was already stored",
            deliveries_duplicate.clone(),
        );
        registry.register(
            "deliveries_processed",
            "Deliveries processed successfully by a worker",
            deliveries_processed.clone(),
        );
        registry.register(
            "deliveries_failed",
            "Delivery processing attempts that failed (each is retried or dead-lettered)",
            deliveries_failed.clone(),
        );
        registry.register(
            "deliveries_dead",
            "Deliveries moved to the dead-letter state after their last attempt",
            deliveries_dead.clone(),
        );
        registry.register(
            "delivery_processing_seconds",
            "Time a worker spent processing one delivery",
            processing_seconds.clone(),
        );
        registry.register(
            "github_api_calls",
            "GitHub API requests by templated route and response status",
            github_calls.clone(),
        );
        registry.register(
            "github_rate_limit_remaining",
            "x-ratelimit-remaining from the latest GitHub API response",
            github_rate_limit_remaining.clone(),
        );
        registry.register(
            "preview_runs",
            "Preview deploys and destroys by how they ended",
            preview_runs.clone(),
        );
        registry.register(
            "preview_run_seconds",
            "How long preview deploys and destroys took",
            preview_run_seconds.clone(),
        );
        registry.register(
            "notifications",
            "Notification delivery attempts by channel and outcome (sent, failed, dead)",
            notifications.clone(),
        );
        registry.register(
            "pipeline_steps",
            "Pipeline step runs by runner (`operation`) and conclusion (`outcome`)",
            pipeline_steps.clone(),
        );
        registry.register(
            "pipeline_step_seconds",
            "How long pipeline steps ran, by runner and conclusion",
            pipeline_step_seconds.clone(),
        );
        let webhook_body_bytes_reserved = Gauge::default();
        registry.register(
            "webhook_body_bytes_reserved",
            "Bytes of webhook bodies being received, reserved from GITFERRY_BODY_BUDGET",
            webhook_body_bytes_reserved.clone(),
        );
        let drift_objects = Family::<EnvironmentLabels, Gauge>::default();
        registry.register(
            "drift_objects",
            "Objects of each environment that differ from Git, as the last drift sweep found",
            drift_objects.clone(),
        );
        Arc::new(Self {
            registry,
            deliveries_received,
            deliveries_duplicate,
            deliveries_processed,
            deliveries_failed,
            deliveries_dead,
            processing_seconds,
            github_calls,
            github_rate_limit_remaining,
            preview_runs,
            preview_run_seconds,
            notifications,
            pipeline_steps,
            pipeline_step_seconds,
            webhook_body_bytes_reserved,
            drift_objects,
        })
    }

    pub fn event(event: &str) -> EventLabels {
        EventLabels {
            event: event.to_owned(),
        }
    }

    /// Counts one GitHub API response (or `status = "error"` for a transport failure).
    pub fn github_call(&self, method: &str, route: &str, status: &str) {
        self.github_calls
            .get_or_create(&GithubCallLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: status.to_owned(),
            })
            .inc();
    }

    /// What the last drift sweep of an environment found.
    pub fn drift(&self, repository: &str, environment: &str, drifted: i64) {
        self.drift_objects
            .get_or_create(&EnvironmentLabels {
                repository: repository.to_owned(),
                environment: environment.to_owned(),
            })
            .set(drifted);
    }

    /// Counts one finished preview run and its duration.
    pub fn preview_run(&self, operation: &str, outcome: &str, seconds: f64) {
        let labels = PreviewRunLabels {
            operation: operation.to_owned(),
            outcome: outcome.to_owned(),
        };
        self.preview_runs.get_or_create(&labels).inc();
        self.preview_run_seconds
            .get_or_create(&labels)
            .observe(seconds);
    }

    /// Counts one finished pipeline step and its duration.
    pub fn pipeline_step(&self, runner: &str, conclusion: &str, seconds: f64) {
        let labels = PreviewRunLabels {
            operation: runner.to_owned(),
            outcome: conclusion.to_owned(),
        };
        self.pipeline_steps.get_or_create(&labels).inc();
        self.pipeline_step_seconds
            .get_or_create(&labels)
            .observe(seconds);
    }

    /// Counts one notification delivery attempt.
    pub fn notification(&self, channel: &str, outcome: &str) {
        self.notifications
            .get_or_create(&NotificationLabels {
                channel: channel.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The registry in Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an error here would be a bug in the encoder.
        if let Err(err) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(%err, "encoding metrics failed");
        }
        out
    }
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~33 s: webhook handling is mostly milliseconds, deploys can take seconds.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.001, 2.0, 16,
    ))
}

fn run_histogram() -> Histogram {
    // 0.1 s .. ~55 min: a deploy is seconds to many minutes.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.1, 2.0, 16,
    ))
}
