//! The HTTP surface: webhook intake, first-run setup, deploy logs, health and metrics.

pub mod health;
pub mod runs;
pub mod setup;
pub mod signature;
pub mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::app::AppContext;
use crate::inbox::Ingest;

#[derive(Clone)]
pub struct HttpState {
    pub ctx: Arc<AppContext>,
    pub ingest: Ingest,
    pub setup: Arc<setup::SetupState>,
}

pub fn routes(state: HttpState) -> Router {
    Router::new()
        .route(
            "/api/github/webhooks",
            post(webhook::receive).layer(DefaultBodyLimit::max(webhook::MAX_BODY_BYTES)),
        )
        .route("/", get(setup::home))
        .route("/setup/callback", get(setup::callback))
        .route("/runs/{id}", get(runs::show))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state(state)
}
