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

use tokio::sync::OnceCell;

use crate::app::AppContext;
use crate::config_source::Loaded;
use crate::github::events::{
    CheckRunEvent, GitHubEvent, InstallationEvent, InstallationRepositoriesEvent,
    IssueCommentEvent, MergeGroupEvent, PullRequestEvent, PullRequestReviewEvent, PushEvent,
    Repository, StatusEvent,
};

/// One delivery as handlers see it: its payload parsed once, when the worker takes it, and
/// its repository's config loaded at most once, by the first handler that asks; every handler
/// of the delivery shares both.
pub struct Event {
    pub delivery_id: String,
    pub name: String,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository: Option<String>,
    /// The typed payload, or why it lacks what its event type needs: kept rather than
    /// returned, so only the handlers that read the payload fail (a handler may need nothing
    /// but the event's name).
    payload: Result<GitHubEvent, serde_json::Error>,
    /// The default branch's config, filled by [`Event::config`].
    config: OnceCell<Arc<Loaded>>,
}

/// By hand: the config is shown only as loaded or not (`Loaded` has no `Debug`).
impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("delivery_id", &self.delivery_id)
            .field("name", &self.name)
            .field("action", &self.action)
            .field("installation_id", &self.installation_id)
            .field("repository", &self.repository)
            .field("payload", &self.payload)
            .field("config_loaded", &self.config.initialized())
            .finish()
    }
}

impl Event {
    /// Parses the delivery's `payload` as its event `name` says. Malformed JSON is the error
    /// (nothing can be done with it); a payload that is JSON but lacks what its type needs
    /// becomes an event whose handlers fail permanently when they read it.
    pub fn new(
        delivery_id: String,
        name: String,
        action: Option<String>,
        installation_id: Option<i64>,
        repository: Option<String>,
        payload: &[u8],
    ) -> Result<Self, serde_json::Error> {
        let payload = match GitHubEvent::parse(&name, payload) {
            Ok(parsed) => Ok(parsed),
            Err(err) if err.is_data() => Err(err),
            Err(malformed) => return Err(malformed),
        };
        Ok(Self {
            delivery_id,
            name,
            action,
            installation_id,
            repository,
            payload,
            config: OnceCell::new(),
        })
    }

    /// The typed payload. A payload without the fields its handlers need will never have
    /// them: that is a permanent failure, not one to retry.
    pub fn payload(&self) -> Result<&GitHubEvent, HandlerError> {
        self.payload.as_ref().map_err(|err| {
            HandlerError::permanent(anyhow::anyhow!(
                "{} payload lacks what its handler needs: {err}",
                self.key()
            ))
        })
    }

    /// The payload as one event type; a handler registered for another event type is a
    /// mistake no retry fixes.
    fn typed<'a, T>(
        &'a self,
        wanted: &str,
        pick: impl FnOnce(&'a GitHubEvent) -> Option<&'a T>,
    ) -> Result<&'a T, HandlerError> {
        pick(self.payload()?).ok_or_else(|| {
            HandlerError::permanent(anyhow::anyhow!(
                "{} delivery reached a handler of {wanted} events",
                self.key()
            ))
        })
    }

    pub fn pull_request(&self) -> Result<&PullRequestEvent, HandlerError> {
        self.typed("pull_request", |e| match e {
            GitHubEvent::PullRequest(e) => Some(e),
            _ => None,
        })
    }

    pub fn push(&self) -> Result<&PushEvent, HandlerError> {
        self.typed("push", |e| match e {
            GitHubEvent::Push(e) => Some(e),
            _ => None,
        })
    }

    pub fn issue_comment(&self) -> Result<&IssueCommentEvent, HandlerError> {
        self.typed("issue_comment", |e| match e {
            GitHubEvent::IssueComment(e) => Some(e),
            _ => None,
        })
    }

    pub fn check_run(&self) -> Result<&CheckRunEvent, HandlerError> {
        self.typed("check_run", |e| match e {
            GitHubEvent::CheckRun(e) => Some(e),
            _ => None,
        })
    }

    /// The `installation` payload ([`Event::installation`] is the id any event came through).
    pub fn installation_event(&self) -> Result<&InstallationEvent, HandlerError> {
        self.typed("installation", |e| match e {
            GitHubEvent::Installation(e) => Some(e),
            _ => None,
        })
    }

    pub fn installation_repositories(
        &self,
    ) -> Result<&InstallationRepositoriesEvent, HandlerError> {
        self.typed("installation_repositories", |e| match e {
            GitHubEvent::InstallationRepositories(e) => Some(e),
            _ => None,
        })
    }

    pub fn pull_request_review(&self) -> Result<&PullRequestReviewEvent, HandlerError> {
        self.typed("pull_request_review", |e| match e {
            GitHubEvent::PullRequestReview(e) => Some(e),
            _ => None,
        })
    }

    pub fn status(&self) -> Result<&StatusEvent, HandlerError> {
        self.typed("status", |e| match e {
            GitHubEvent::Status(e) => Some(e),
            _ => None,
        })
    }

    pub fn merge_group(&self) -> Result<&MergeGroupEvent, HandlerError> {
        self.typed("merge_group", |e| match e {
            GitHubEvent::MergeGroup(e) => Some(e),
            _ => None,
        })
    }

    /// The payload's repository (with its default branch), for event types that carry one.
    pub fn payload_repository(&self) -> Result<&Repository, HandlerError> {
        self.payload()?.repository().ok_or_else(|| {
            HandlerError::permanent(anyhow::anyhow!(
                "{} payload names no repository",
                self.key()
            ))
        })
    }

    /// The sender's login, if the payload names one.
    pub fn sender(&self) -> Option<&str> {
        let sender = self.payload.as_ref().ok()?.sender()?;
        Some(&sender.login)
    }

    /// The repository's config as its default branch has it, loaded by the first handler of
    /// this delivery that asks and shared with the others: one delivery reads it at most once,
    /// and all its handlers act on the same config. Failing to load it is worth a retry.
    ///
    /// A push that changes the config must act on the new one: the config check forgets the
    /// cached config before any handler of that push loads it here (it is registered before
    /// them, see `app::router`), so the first load of the push reads the new file.
    pub async fn config(&self, ctx: &AppContext) -> Result<&Loaded, HandlerError> {
        let loaded = self
            .config
            .get_or_try_init(|| async {
                let repository = self.payload_repository()?;
                let gh = ctx.github.installation(self.installation()?);
                ctx.configs
                    .get(
                        &gh,
                        &ctx.store,
                        &repository.full_name,
                        &repository.default_branch,
                    )
                    .await
                    .map_err(HandlerError::retry)
            })
            .await?;
        Ok(loaded.as_ref())
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
