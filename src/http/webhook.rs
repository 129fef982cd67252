//! `POST /api/github/webhooks`: verify, store, answer. No work happens here.
//!
//! The answer goes back only after the delivery is in the store, so a 2xx always means "kept"
//! (GitHub does not retry by itself). The order of checks matters: nothing about an unsigned
//! request is looked at, logged or stored beyond the fact that it was rejected.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use tracing::{Instrument, error, info_span, warn};

use super::HttpState;
use super::signature;
use crate::inbox::{IngestError, IngestOutcome};

/// GitHub caps webhook payloads at 25 MB; larger bodies are refused before they are read.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// A delivery whose signature checked out and whose required headers are present.
pub struct VerifiedDelivery {
    pub event: String,
    pub delivery_id: String,
    pub body: Bytes,
}

/// Why a request is not a delivery: the status code and a one-line reason.
pub struct Rejection(StatusCode, String);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        (self.0, format!("{}\n", self.1)).into_response()
    }
}

impl FromRequest<HttpState> for VerifiedDelivery {
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &HttpState) -> Result<Self, Self::Rejection> {
        let Some(secret) = state.ctx.webhook_secret() else {
            return Err(Rejection(
                StatusCode::SERVICE_UNAVAILABLE,
                "gitferry has no webhook secret yet: finish the setup at /".into(),
            ));
        };
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| Rejection(rejection.status(), rejection.body_text()))?;
        let Some(signature) = header(&headers, "x-hub-signature-256") else {
            return Err(Rejection(
                StatusCode::UNAUTHORIZED,
                "missing X-Hub-Signature-256".into(),
            ));
        };
        if !signature::is_valid(secret.expose_secret().as_bytes(), &body, signature) {
            warn!(bytes = body.len(), "webhook with a bad signature rejected");
            return Err(Rejection(
                StatusCode::UNAUTHORIZED,
                "X-Hub-Signature-256 does not match the body and the webhook secret".into(),
            ));
        }
        let required = |name: &str| {
            header(&headers, name)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| Rejection(StatusCode::BAD_REQUEST, format!("missing {name} header")))
        };
        Ok(Self {
            event: required("X-GitHub-Event")?,
            delivery_id: required("X-GitHub-Delivery")?,
            body,
        })
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

pub async fn receive(State(state): State<HttpState>, delivery: VerifiedDelivery) -> Response {
    let span = info_span!("webhook", delivery_id = %delivery.delivery_id, event = %delivery.event);
    let result = state
        .ingest
        .accept(
            &delivery.event,
            &delivery.delivery_id,
            delivery.body.to_vec(),
        )
        .instrument(span.clone())
        .await;
    match result {
        Ok(IngestOutcome::Queued) => (StatusCode::ACCEPTED, "queued\n").into_response(),
        Ok(IngestOutcome::Ignored) => (
            StatusCode::ACCEPTED,
            format!(
                "ignored: gitferry does not handle {} events\n",
                delivery.event
            ),
        )
            .into_response(),
        Ok(IngestOutcome::Duplicate) => {
            (StatusCode::OK, "duplicate delivery: already received\n").into_response()
        }
        Ok(IngestOutcome::Pong) => (StatusCode::OK, "pong\n").into_response(),
        Err(err @ (IngestError::Malformed(_) | IngestError::NotUtf8)) => {
            Rejection(StatusCode::BAD_REQUEST, err.to_string()).into_response()
        }
        Err(IngestError::Store(err)) => {
            error!(parent: &span, error = %err, "delivery not stored");
            Rejection(
                StatusCode::SERVICE_UNAVAILABLE,
                "the delivery could not be stored; redeliver it later".into(),
            )
            .into_response()
        }
    }
}
