//! The one gateway to the GitHub API (see DESIGN.md principle 5).
//!
//! Every call gitferry makes to GitHub goes through [`Client`]: it signs the App JWT, mints and
//! caches installation tokens, retries with backoff while honouring `Retry-After` and the
//! rate-limit headers, counts each response by route template, and in dry-run mode shows writes
//! instead of sending them. No other module builds an HTTP client for GitHub.
//!
//! | file | responsibility |
//! |---|---|
//! | `ids.rs` | `AppId`, `InstallationId`, `RepoFullName` |
//! | `error.rs` | `GithubError`, what callers match on |
//! | `events.rs` | typed webhook payloads: `GitHubEvent`, parsed once per delivery |
//! | `auth.rs` | App credentials and the JWT |
//! | `token_cache.rs` | installation tokens, single-flight refresh |
//! | `client.rs` | `Client`, `ClientConfig`, `InstallationClient` |
//! | `transport.rs` | the request core: headers, retries, metrics, tracing |
//! | `retry.rs` | the retry decision, a pure function |
//! | `route.rs` | concrete path → bounded route template |
//! | `base.rs` | API URL joining (incl. GitHub Enterprise `/api/v3`) |
//! | `pagination.rs` | `Link` parsing and `paginate` |
//! | `request.rs` | `Auth`, `ApiRequest`, `ApiResponse` |
//! | `dry_run.rs` | recording suppressed writes |
//! | `manifest.rs` | the App-manifest code conversion |
//! | `tarball.rs` | commit tarballs (following the codeload redirect without our token) |
//! | `api/` | typed calls, one per endpoint: the only place REST paths are written |

pub mod api;
mod auth;
mod base;
mod client;
mod dry_run;
mod error;
pub mod events;
mod ids;
mod manifest;
mod pagination;
pub mod permissions;
mod request;
mod retry;
mod route;
mod tarball;
mod tarball_cache;
mod token_cache;
mod transport;

#[cfg(test)]
mod tests;

pub use auth::AppCredentials;
pub use client::{Client, ClientConfig, InstallationClient};
pub use dry_run::RecordedCall;
pub use error::GithubError;
pub use http::{HeaderMap, Method, StatusCode};
pub use ids::{
    AppId, InstallationId, InvalidRepoFullName, RepoFullName, repository_owner, short_sha,
};
pub use manifest::ManifestConversion;
pub use pagination::next_link;
pub use request::{ApiRequest, ApiResponse, Auth};
pub use retry::{GiveUp, Outcome, Retry, RetryPolicy, decide};
pub use route::route_template;
pub use tarball_cache::TarballCache;
