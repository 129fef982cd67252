//! The request core: one octocrab service, our headers, retries, metrics and tracing.
//!
//! Authentication is decided above this layer (the caller passes the bearer token, or none), so
//! the token exchange itself goes through the same retries and counters as every other call.
//!
//! Non-GET requests are retried like GETs. That is deliberate: every gitferry effect is
//! idempotent by design (sticky comments found by marker, check runs by `external_id`,
//! deployments by environment and SHA, merges check the head first), so repeating a write whose
//! answer was lost is safe, and giving up on the first 502 would only defer the same write to a
//! whole-delivery retry.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use http_body_util::BodyExt;
use octocrab::{OctoBody, Octocrab};
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument;

use super::base::ApiBase;
use super::error::GithubError;
use super::request::{ApiRequest, ApiResponse};
use super::retry::{self, GiveUp, Outcome, Retry, RetryPolicy};
use super::route::route_template;
use crate::metrics::Metrics;

const DEFAULT_ACCEPT: &str = "application/vnd.github+json";
const API_VERSION: &str = "2022-11-28";
const USER_AGENT_VALUE: &str = concat!("gitferry/", env!("CARGO_PKG_VERSION"));

/// One HTTP answer, body read.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

pub(crate) struct Transport {
    octocrab: Octocrab,
    base: ApiBase,
    policy: RetryPolicy,
    metrics: Arc<Metrics>,
}

impl Transport {
    /// One octocrab client for the process: no auth state (we set `Authorization` per request)
    /// and no octocrab retries (see `retry.rs`). octocrab's retry layer only exists with its
    /// `retry` feature, which Cargo.toml does not enable, so there is no `RetryConfig` to turn
    /// off; should someone enable the feature, add `.add_retry_config(RetryConfig::None)` here.
    ///
    /// octocrab also adds `User-Agent: octocrab` to every request; ours is set on the request
    /// first, so it is the first (and, for servers that read one value, the effective) one.
    pub(crate) fn new(
        base: ApiBase,
        policy: RetryPolicy,
        connect_timeout: Duration,
        read_timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<Self, GithubError> {
        let octocrab = Octocrab::builder()
            .base_uri(base.url())
            .map_err(|e| GithubError::InvalidRequest(format!("API URL: {e}")))?
            .set_connect_timeout(Some(connect_timeout))
            .set_read_timeout(Some(read_timeout))
            .build()
            .map_err(|e| GithubError::InvalidRequest(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            octocrab,
            base,
            policy,
            metrics,
        })
    }

    pub(crate) fn base(&self) -> &ApiBase {
        &self.base
    }

    /// Sends `req`, retrying per the policy. Returns the final answer whatever its status
    /// (callers map non-success to errors, and look at 401s), or an error when no usable answer
    /// came: transport failure on the last attempt, or a rate limit we will not wait out.
    pub(crate) async fn execute(
        &self,
        req: &ApiRequest,
        bearer: Option<&SecretString>,
    ) -> Result<ApiResponse, GithubError> {
        let relative = self.base.relative_path(&req.path_and_query)?;
        let route = route_template(&relative);
        let uri = self.base.uri(&relative)?;
        let body = match &req.body {
            Some(json) => Some(
                serde_json::to_vec(json)
                    .map_err(|e| GithubError::InvalidRequest(format!("body for {route}: {e}")))?,
            ),
            None => None,
        };
        let span = tracing::debug_span!("github_request", method = %req.method, route = %route);
        self.attempts(req, &uri, route, bearer, body.as_deref())
            .instrument(span)
            .await
    }

    /// GETs a URL GitHub redirected us to (a pre-signed codeload link), without a token: such
    /// links carry their own authorisation and may be on another host, where our token must
    /// never go. Only `https` is followed, or the API's own origin (GitHub Enterprise over
    /// plain HTTP, and tests).
    pub(crate) async fn fetch_redirect_target(&self, url: &str) -> Result<Vec<u8>, GithubError> {
        let invalid =
            |why: &str| GithubError::InvalidRequest(format!("redirect to {url:?}: {why}"));
        let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        let same_origin = url.starts_with(&format!("{}/", self.base.origin()));
        if uri.scheme_str() != Some("https") && !same_origin {
            return Err(invalid("only https links are followed"));
        }
        let route = "redirect:codeload".to_owned();
        let req = ApiRequest::get(url.to_owned());
        let answer = self.attempts(&req, &uri, route.clone(), None, None).await?;
        if answer.status.is_success() {
            Ok(answer.body)
        } else {
            Err(GithubError::Status {
                status: answer.status.as_u16(),
                method: "GET".into(),
                route,
                message: answer.error_message(),
            })
        }
    }

    async fn attempts(
        &self,
        req: &ApiRequest,
        uri: &Uri,
        route: String,
        bearer: Option<&SecretString>,
        body: Option<&[u8]>,
    ) -> Result<ApiResponse, GithubError> {
        let mut attempt = 1u32;
        loop {
            let request = build_request(req, uri, bearer, body)?;
            let started = Instant::now();
            let result = self.round_trip(request).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let decision = self.judge(&req.method, &route, attempt, elapsed_ms, &result);
            match (decision, result) {
                (Retry::After(wait), _) => {
                    let wait_ms = wait.as_millis() as u64;
                    tracing::debug!(attempt, wait_ms, "retrying GitHub request");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                (
                    Retry::GiveUp(GiveUp::RateLimited {
                        retry_after,
                        reset_at,
                    }),
                    _,
                ) => {
                    tracing::warn!(%route, ?retry_after, ?reset_at, "GitHub rate limit: giving up");
                    return Err(GithubError::RateLimited {
                        route,
                        retry_after,
                        reset_at,
                    });
                }
                (_, Ok(answer)) => {
                    return Ok(ApiResponse {
                        status: answer.status,
                        headers: answer.headers,
                        body: answer.body,
                        route,
                    });
                }
                (_, Err(message)) => {
                    return Err(GithubError::Transport {
                        method: req.method.to_string(),
                        route,
                        message,
                    });
                }
            }
        }
    }

    /// Counts and logs one attempt, and decides whether to try again.
    fn judge(
        &self,
        method: &Method,
        route: &str,
        attempt: u32,
        elapsed_ms: u64,
        result: &Result<Answer, String>,
    ) -> Retry {
        let outcome = match result {
            Ok(answer) => {
                self.observe(method, route, answer.status, &answer.headers);
                let status = answer.status.as_u16();
                tracing::debug!(attempt, status, elapsed_ms, "GitHub answered");
                Outcome::Response {
                    status: answer.status,
                    headers: &answer.headers,
                    body: &answer.body,
                }
            }
            Err(message) => {
                self.metrics.github_call(method.as_str(), route, "error");
                tracing::debug!(attempt, elapsed_ms, error = %message, "GitHub request failed");
                Outcome::Transport
            }
        };
        retry::decide(&outcome, attempt, &self.policy, SystemTime::now(), jitter())
    }

    /// One HTTP exchange, body read completely (a failure while reading it is a transport
    /// failure too).
    async fn round_trip(&self, request: http::Request<OctoBody>) -> Result<Answer, String> {
        let response = self
            .octocrab
            .send(request)
            .await
            .map_err(|e| error_chain(&e))?;
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|e| error_chain(&e))?
            .to_bytes();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body: Vec::from(bytes),
        })
    }

    fn observe(&self, method: &Method, route: &str, status: StatusCode, headers: &HeaderMap) {
        self.metrics
            .github_call(method.as_str(), route, status.as_str());
        if let Some(remaining) = retry::header_u64(headers, "x-ratelimit-remaining") {
            self.metrics
                .github_rate_limit_remaining
                .set(i64::try_from(remaining).unwrap_or(i64::MAX));
        }
    }
}

fn build_request(
    req: &ApiRequest,
    uri: &Uri,
    bearer: Option<&SecretString>,
    body: Option<&[u8]>,
) -> Result<http::Request<OctoBody>, GithubError> {
    let mut builder = http::Request::builder()
        .method(req.method.clone())
        .uri(uri.clone())
        .header(ACCEPT, req.accept.unwrap_or(DEFAULT_ACCEPT))
        .header("x-github-api-version", API_VERSION)
        .header(USER_AGENT, USER_AGENT_VALUE);
    if let Some(etag) = req.if_none_match.as_deref()
        && let Ok(value) = HeaderValue::from_str(etag)
    {
        builder = builder.header(http::header::IF_NONE_MATCH, value);
    }
    if let Some(token) = bearer {
        // The error of `from_str` does not echo the value, so the token cannot leak through it.
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| GithubError::Auth {
                installation: None,
                status: None,
                message: "the access token is not a valid header value".into(),
            })?;
        value.set_sensitive(true);
        builder = builder.header(AUTHORIZATION, value);
    }
    let body = match body {
        Some(bytes) => {
            builder = builder.header(CONTENT_TYPE, "application/json");
            OctoBody::from(bytes.to_vec())
        }
        None => OctoBody::empty(),
    };
    builder
        .body(body)
        .map_err(|e| GithubError::InvalidRequest(e.to_string()))
}

/// The error and its sources on one line: octocrab's top-level message ("Service Error") says
/// little; the cause (connection refused, timeout) is in the chain.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// A sample from `[0, 1]` for backoff jitter. It needs no statistical quality, only to differ
/// between workers; std's randomly keyed hasher provides that without another dependency.
fn jitter() -> f64 {
    let bits = RandomState::new().hash_one(Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}
