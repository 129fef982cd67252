//! The event router: which feature handles which webhook event.
//!
//! The surface is Probot's: `router.on("pull_request.opened", handler)` or
//! `router.on("installation", handler)` for every action of an event. An event no handler is
//! registered for is stored as `ignored` when it arrives and never reaches a worker.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::app::AppContext;

/// One delivery as handlers see it: parsed once by the worker.
#[derive(Debug)]
pub struct Event {
    pub delivery_id: String,
    pub name: String,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository: Option<String>,
    pub payload: serde_json::Value,
}

impl Event {
    /// The payload as the handler's own struct. A payload without the fields a handler needs
    /// will never have them: that is a permanent failure, not one to retry.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, HandlerError> {
        T::deserialize(&self.payload).map_err(|err| {
            HandlerError::permanent(anyhow::anyhow!(
                "{} payload lacks what its handler needs: {err}",
                self.key()
            ))
        })
    }

    /// The installation the delivery came through (permanent failure if it has none).
    pub fn installation(&self) -> Result<crate::github::InstallationId, HandlerError> {
        self.installation_id
            .map(crate::github::InstallationId::from_stored)
            .ok_or_else(|| {
                HandlerError::permanent(anyhow::anyhow!(
                    "{} delivery without an installation",
                    self.key()
                ))
            })
    }

    /// `event.action`, or just `event` when the payload has no action.
    pub fn key(&self) -> String {
        match &self.action {
            Some(action) => format!("{}.{action}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Why a handler failed, which decides what the inbox does with the delivery.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// A passing fault (GitHub 5xx or rate limit, database hiccup): try the delivery again
    /// later, no sooner than `after` when the cause says when.
    #[error("{source:#}")]
    Retry {
        source: anyhow::Error,
        after: Option<Duration>,
    },
    /// Trying again cannot help (the payload lacks what the handler needs): dead-letter it.
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

impl HandlerError {
    pub fn retry(source: impl Into<anyhow::Error>) -> Self {
        Self::Retry {
            source: source.into(),
            after: None,
        }
    }

    pub fn permanent(source: impl Into<anyhow::Error>) -> Self {
        Self::Permanent(source.into())
    }
}

impl From<crate::store::StoreError> for HandlerError {
    fn from(err: crate::store::StoreError) -> Self {
        Self::retry(err)
    }
}

impl From<crate::github::GithubError> for HandlerError {
    fn from(err: crate::github::GithubError) -> Self {
        let after = err.retry_after();
        Self::Retry {
            source: err.into(),
            after,
        }
    }
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send>>;
pub type Handler = Arc<dyn Fn(Arc<AppContext>, Arc<Event>) -> HandlerFuture + Send + Sync>;

#[derive(Default, Clone)]
pub struct Router {
    routes: HashMap<String, Vec<Handler>>,
}

impl Router {
    /// Registers `handler` for `event` (every action) or `event.action`.
    pub fn on<F, Fut>(&mut self, key: &str, handler: F) -> &mut Self
    where
        F: Fn(Arc<AppContext>, Arc<Event>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |ctx, event| Box::pin(handler(ctx, event)));
        self.routes.entry(key.to_owned()).or_default().push(handler);
        self
    }

    /// Whether any handler wants this event; decided when the delivery arrives.
    pub fn handles(&self, event: &str, action: Option<&str>) -> bool {
        self.routes.contains_key(event)
            || action.is_some_and(|action| self.routes.contains_key(&format!("{event}.{action}")))
    }

    /// Runs every matching handler in registration order (event-wide ones first).
    /// Stops at the first error: the delivery is retried whole, and effects are idempotent.
    pub async fn dispatch(
        &self,
        ctx: Arc<AppContext>,
        event: Arc<Event>,
    ) -> Result<(), HandlerError> {
        let mut handlers: Vec<Handler> = self.routes.get(&event.name).cloned().unwrap_or_default();
        if let Some(action) = &event.action
            && let Some(specific) = self.routes.get(&format!("{}.{action}", event.name))
        {
            handlers.extend(specific.iter().cloned());
        }
        for handler in handlers {
            handler(Arc::clone(&ctx), Arc::clone(&event)).await?;
        }
        Ok(())
    }
}
