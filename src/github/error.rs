//! The errors of the GitHub gateway.
//!
//! Callers (mostly the inbox worker) match on these to choose between "retry the whole delivery
//! later" ([`GithubError::is_transient`], [`GithubError::retry_after`]), "this resource is not
//! there" ([`GithubError::is_not_found`]) and "give up and report".

use std::time::{Duration, SystemTime};

use super::ids::InstallationId;

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// The App is not registered yet (no App id / private key), so nothing can be authenticated.
    #[error("no GitHub App credentials are configured")]
    NoCredentials,

    /// The private key could not be read as an RSA PEM.
    #[error("invalid GitHub App private key: {reason}")]
    InvalidKey { reason: String },

    /// Authenticating failed: signing the JWT, GitHub refusing the token exchange (4xx: e.g. the
    /// App was uninstalled), or a 401 that persisted after a fresh token. Transient failures of
    /// the exchange surface as `RateLimited`/`Transport`/`Status` instead.
    #[error("GitHub authentication failed{}: {message}", for_installation(*installation))]
    Auth {
        installation: Option<InstallationId>,
        status: Option<u16>,
        message: String,
    },

    /// GitHub asked us to slow down for longer than the retry policy is willing to wait (or the
    /// attempts ran out while rate limited). `reset_at` comes from `x-ratelimit-reset`,
    /// `retry_after` from `Retry-After`; the caller should not call GitHub before then.
    #[error("GitHub rate limit on {route}{}", describe_wait(*retry_after, *reset_at))]
    RateLimited {
        route: String,
        retry_after: Option<Duration>,
        reset_at: Option<SystemTime>,
    },

    /// A final non-success answer (4xx other than rate limits, or 5xx after the last attempt).
    #[error("GitHub answered {status} to {method} {route}: {message}")]
    Status {
        status: u16,
        method: String,
        route: String,
        /// GitHub's `message` field, or the start of the body.
        message: String,
    },

    /// No HTTP answer at all (connect/read timeout, reset, TLS…) after the last attempt.
    #[error("transport error calling {method} {route}: {message}")]
    Transport {
        method: String,
        route: String,
        message: String,
    },

    /// The answer was not the JSON we expected.
    #[error("could not decode GitHub's answer to {route}: {source}")]
    Decode {
        route: String,
        #[source]
        source: serde_json::Error,
    },

    /// Pagination stopped at the configured page cap instead of holding an unbounded list.
    #[error("{route} has more than {max_pages} pages")]
    TooManyPages { route: String, max_pages: usize },

    /// The request itself is malformed (a path that is not a path, a URL on another host, a
    /// body that does not serialise); a bug in the caller, never retried.
    #[error("invalid GitHub request: {0}")]
    InvalidRequest(String),
}

impl GithubError {
    /// Whether doing the same thing later can succeed: rate limits, transport errors and 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            GithubError::RateLimited { .. } | GithubError::Transport { .. } => true,
            GithubError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// How long to wait before trying again, when GitHub said so.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after_at(SystemTime::now())
    }

    /// [`GithubError::retry_after`] relative to `now`.
    pub fn retry_after_at(&self, now: SystemTime) -> Option<Duration> {
        match self {
            GithubError::RateLimited {
                retry_after,
                reset_at,
                ..
            } => {
                retry_after.or_else(|| reset_at.map(|r| r.duration_since(now).unwrap_or_default()))
            }
            _ => None,
        }
    }

    /// The HTTP status of a final non-success answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            GithubError::Status { status, .. } => Some(*status),
            GithubError::Auth { status, .. } => *status,
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

fn for_installation(installation: Option<InstallationId>) -> String {
    installation
        .map(|i| format!(" for installation {i}"))
        .unwrap_or_default()
}

fn describe_wait(retry_after: Option<Duration>, reset_at: Option<SystemTime>) -> String {
    match (retry_after, reset_at) {
        (Some(d), _) => format!(" (retry after {} s)", d.as_secs()),
        (None, Some(at)) => match at.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(epoch) => format!(" (resets at unix time {})", epoch.as_secs()),
            Err(_) => String::new(),
        },
        (None, None) => String::new(),
    }
}
