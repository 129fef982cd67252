//! The HTTP surface: webhook intake, first-run setup, deploy logs, the audit API, health and
//! metrics.

pub mod api_audit;
pub mod body;
pub mod delivery_headers;
pub mod health;
pub mod runs;
pub mod serve;
pub mod setup;
pub mod setup_guard;
pub mod signature;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppContext;
use crate::inbox::Ingest;

#[derive(Clone)]
pub struct HttpState {
    pub ctx: Arc<AppContext>,
    pub ingest: Ingest,
    pub setup: Arc<setup_guard::SetupGuard>,
    pub edge: EdgeLimits,
    pub metrics: MetricsRoute,
}

/// What one webhook body may cost: its share of the memory budget and its time to arrive.
#[derive(Clone, Debug)]
pub struct EdgeLimits {
    pub budget: body::BodyBudget,
    pub body_timeout: Duration,
}

/// Where `/metrics` is served: with everything else, or only on its own listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsRoute {
    Included,
    Separate,
}

pub fn routes(state: HttpState) -> Router {
    let metrics = state.metrics;
    let router = Router::new()
        .route("/api/github/webhooks", post(webhook::receive))
        .route("/", get(setup::home))
        .route("/setup/callback", get(setup::callback))
        .route("/runs/{id}", get(runs::show))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    let router = match metrics {
        MetricsRoute::Included => router.route("/metrics", get(health::metrics)),
        MetricsRoute::Separate => router,
    };
    // The API exists only with its token configured (it has no other lock yet).
    let router = match state.ctx.settings.api_token {
        Some(_) => router.route("/api/audit", get(api_audit::list)),
        None => router,
    };
    router.with_state(state)
}

/// The router of the separate metrics listener (`GITFERRY_METRICS_LISTEN`): `/metrics` only.
pub fn metrics_routes(state: HttpState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state)
}
