//! Liveness, readiness and metrics, for Kubernetes probes and Prometheus.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::HttpState;

/// Alive: the process answers HTTP. Deliberately checks nothing else, so a database outage
/// does not make Kubernetes restart every replica.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the store answers, so deliveries can be accepted. Also says which sandbox commands
/// from repositories run in, so an operator sees at a glance whether they are confined.
pub async fn readyz(State(state): State<HttpState>) -> Response {
    match state.ctx.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            format!("ready\n{}\n", state.ctx.sandbox.describe()),
        )
            .into_response(),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store unreachable: {err}\n"),
        )
            .into_response(),
    }
}

pub async fn metrics(State(state): State<HttpState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.ctx.metrics.encode(),
    )
        .into_response()
}
