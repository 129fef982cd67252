//! `POST /api/github/webhooks`: verify, store, answer. No work happens here.
//!
//! The answer goes back only after the delivery is in the store, so a 2xx always means "kept"
//! (GitHub does not retry by itself). The order of checks matters: nothing about an unsigned
//! request is looked at, logged or stored beyond the fact that it was rejected.

use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use tracing::{Instrument, error, info_span, warn};

use super::HttpState;
use super::body::{self, BodyError, Reservation};
use super::delivery_headers::DeliveryHeaders;
use super::signature;
use crate::inbox::{IngestError, IngestOutcome};

/// GitHub caps webhook payloads at 25 MB; larger bodies are refused before they are read.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// Seconds a client is asked to wait when the body budget is spent.
const RETRY_AFTER_SECONDS: &str = "5";

/// A delivery whose signature checked out and whose required headers are present.
pub struct VerifiedDelivery {
    pub event: String,
    pub delivery_id: String,
    pub body: Vec<u8>,
    /// The body's share of the memory budget, held until the delivery is stored.
    _reservation: Reservation,
}

/// Why a request is not a delivery: the status code and a one-line reason.
pub struct Rejection(StatusCode, String);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let retry_after = (self.0 == StatusCode::SERVICE_UNAVAILABLE)
            .then_some([(header::RETRY_AFTER, RETRY_AFTER_SECONDS)]);
        (self.0, retry_after, format!("{}\n", self.1)).into_response()
    }
}

impl From<BodyError> for Rejection {
    fn from(err: BodyError) -> Self {
        let status = match err {
            BodyError::BudgetSpent => StatusCode::SERVICE_UNAVAILABLE,
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            BodyError::Read(_) => StatusCode::BAD_REQUEST,
        };
        Self(status, err.to_string())
    }
}

impl FromRequest<HttpState> for VerifiedDelivery {
    type Rejection = Rejection;

    /// Everything that can be decided from the headers is decided before the body is read;
    /// the body is read within its memory reservation and deadline, and its HMAC is checked
    /// before anything parses it.
    async fn from_request(req: Request, state: &HttpState) -> Result<Self, Self::Rejection> {
        let Some(secret) = state.ctx.webhook_secret() else {
            return Err(Rejection(
                StatusCode::SERVICE_UNAVAILABLE,
                "gitferry has no webhook secret yet: finish the setup at /".into(),
            ));
        };
        let headers = DeliveryHeaders::from_headers(req.headers())
            .map_err(|err| Rejection(err.status(), err.to_string()))?;
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse().ok());
        let size = body::reservation_size(announced, MAX_BODY_BYTES)?;
        let reservation = state.edge.budget.reserve(size).inspect_err(|_| {
            warn!(
                bytes = size,
                budget = state.edge.budget.total(),
                "webhook body budget spent: delivery refused"
            );
        })?;
        let mut verifier = signature::Verifier::new(secret.expose_secret().as_bytes());
        let body = body::read(
            req.into_body(),
            &reservation,
            state.edge.body_timeout,
            |chunk| verifier.update(chunk),
        )
        .await?;
        if !verifier.verify(&headers.signature) {
            warn!(bytes = body.len(), "webhook with a bad signature rejected");
            return Err(Rejection(
                StatusCode::UNAUTHORIZED,
                "X-Hub-Signature-256 does not match the body and the webhook secret".into(),
            ));
        }
        Ok(Self {
            event: headers.event,
            delivery_id: headers.delivery_id,
            body,
            _reservation: reservation,
        })
    }
}

pub async fn receive(State(state): State<HttpState>, delivery: VerifiedDelivery) -> Response {
    let span = info_span!("webhook", delivery_id = %delivery.delivery_id, event = %delivery.event);
    let result = state
        .ingest
        .accept(&delivery.event, &delivery.delivery_id, delivery.body)
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
