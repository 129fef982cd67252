//! When to try a GitHub request again, as a pure function.
//!
//! octocrab's own retry layer is switched off (it retries 5xx and 429 at once, ignores
//! `Retry-After` and does not recognise 403 rate limits), so this module is the whole policy.
//! [`decide`] looks only at what came back, the attempt number, the policy and the clock, which
//! keeps every case unit-testable without I/O. The rules follow GitHub's "Rate limits for the
//! REST API" guidance:
//!
//! * 5xx and transport errors: exponential backoff with jitter, up to `max_attempts`.
//! * 429, or 403 with `Retry-After`: a secondary rate limit; wait `Retry-After` seconds.
//! * 403/429 with `x-ratelimit-remaining: 0`: the primary limit; wait until `x-ratelimit-reset`.
//! * 429, or 403 whose message mentions a rate limit, without those headers: wait a minute.
//! * Any other 4xx is an answer, not a hiccup: no retry.
//!
//! A wait longer than `max_wait` is not slept through: the request gives up with a typed
//! rate-limit error so the inbox can park the whole delivery and retry it later, instead of a
//! worker sleeping for up to an hour.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

/// GitHub's advice when a secondary rate limit comes without any header: "wait for at least
/// one minute before retrying".
const SECONDARY_LIMIT_FALLBACK: Duration = Duration::from_secs(60);

/// How persistent the gateway is. Tests use millisecond values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total tries of one request, the first included.
    pub max_attempts: u32,
    /// Backoff before the second try; doubles for each further try.
    pub base_delay: Duration,
    /// Cap of one backoff.
    pub max_delay: Duration,
    /// The longest single wait the gateway sleeps through for a rate limit; beyond it the call
    /// fails with `GithubError::RateLimited`.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// What one attempt produced.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    /// No HTTP answer (connect/read failure, timeout).
    Transport,
    Response {
        status: StatusCode,
        headers: &'a HeaderMap,
        body: &'a [u8],
    },
}

/// The decision after one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Use this outcome as the answer (success, or a final 4xx).
    No,
    /// Sleep this long, then try again.
    After(Duration),
    /// Stop trying; the caller turns this into the matching `GithubError`.
    GiveUp(GiveUp),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// Rate limited and either the wait exceeds `max_wait` or the attempts ran out.
    RateLimited {
        retry_after: Option<Duration>,
        reset_at: Option<SystemTime>,
    },
    /// A 5xx or transport error on the last attempt.
    AttemptsExhausted,
}

/// Decides what to do after attempt number `attempt` (1-based) produced `outcome`.
///
/// `jitter` is a sample from `[0, 1]`; backoffs are "equal jitter" (half fixed, half random) so
/// that workers hit by the same outage do not come back in lockstep, yet never retry sooner than
/// half the nominal delay. Server-mandated waits are never jittered.
pub fn decide(
    outcome: &Outcome<'_>,
    attempt: u32,
    policy: &RetryPolicy,
    now: SystemTime,
    jitter: f64,
) -> Retry {
    let last_attempt = attempt >= policy.max_attempts.max(1);
    let (status, headers, body) = match *outcome {
        Outcome::Transport => return backoff(attempt, last_attempt, policy, jitter),
        Outcome::Response {
            status,
            headers,
            body,
        } => (status, headers, body),
    };
    if status.is_server_error() {
        return backoff(attempt, last_attempt, policy, jitter);
    }
    let Some(limit) = rate_limit(status, headers, body) else {
        return Retry::No;
    };
    let reset_at = limit.reset_at;
    let wait = match (limit.retry_after, reset_at) {
        (Some(d), _) => d,
        (None, Some(at)) => at
            .duration_since(now)
            .unwrap_or_default()
            .max(policy.base_delay),
        (None, None) => SECONDARY_LIMIT_FALLBACK,
    };
    if last_attempt || wait > policy.max_wait {
        return Retry::GiveUp(GiveUp::RateLimited {
            retry_after: limit.retry_after.or(reset_at.is_none().then_some(wait)),
            reset_at,
        });
    }
    Retry::After(wait)
}

fn backoff(attempt: u32, last_attempt: bool, policy: &RetryPolicy, jitter: f64) -> Retry {
    if last_attempt {
        return Retry::GiveUp(GiveUp::AttemptsExhausted);
    }
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    let ceiling = policy
        .base_delay
        .saturating_mul(factor)
        .min(policy.max_delay)
        .min(policy.max_wait);
    let half = ceiling / 2;
    Retry::After(half + half.mul_f64(jitter.clamp(0.0, 1.0)))
}

/// What the rate-limit headers of a throttled answer say.
struct RateLimit {
    retry_after: Option<Duration>,
    reset_at: Option<SystemTime>,
}

/// Recognises a rate-limit answer; `None` for everything else (including a plain 403
/// "Resource not accessible by integration", which must not be retried).
fn rate_limit(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<RateLimit> {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::FORBIDDEN {
        return None;
    }
    let retry_after = header_u64(headers, "retry-after").map(Duration::from_secs);
    let exhausted = header_u64(headers, "x-ratelimit-remaining") == Some(0);
    let reset_at = header_u64(headers, "x-ratelimit-reset")
        .filter(|_| exhausted)
        .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    let limited = status == StatusCode::TOO_MANY_REQUESTS
        || retry_after.is_some()
        || exhausted
        || mentions_rate_limit(body);
    limited.then_some(RateLimit {
        retry_after,
        reset_at,
    })
}

/// GitHub's 403 for a secondary limit sometimes comes without headers; its message says
/// "You have exceeded a secondary rate limit".
fn mentions_rate_limit(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    text.contains("rate limit")
}

/// Reads a header as an unsigned integer. `Retry-After` may in theory be an HTTP date; GitHub
/// sends seconds, and a date is treated as absent (falling back to the one-minute wait).
pub(crate) fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1_000),
            max_wait: Duration::from_secs(10),
        }
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    fn decide_status(status: u16, h: &HeaderMap, body: &str, attempt: u32) -> Retry {
        let outcome = Outcome::Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: h,
            body: body.as_bytes(),
        };
        decide(&outcome, attempt, &policy(), now(), 1.0)
    }

    #[test]
    fn success_and_plain_client_errors_are_final() {
        let h = HeaderMap::new();
        for status in [200, 201, 204, 304, 401, 404, 409, 422] {
            assert_eq!(decide_status(status, &h, "{}", 1), Retry::No, "{status}");
        }
    }

    #[test]
    fn forbidden_without_rate_limit_signs_is_not_retried() {
        let h = headers(&[("x-ratelimit-remaining", "4999")]);
        let body = r#"{"message":"Resource not accessible by integration"}"#;
        assert_eq!(decide_status(403, &h, body, 1), Retry::No);
    }

    #[test]
    fn server_errors_back_off_exponentially_with_jitter() {
        let h = HeaderMap::new();
        assert_eq!(
            decide_status(500, &h, "", 1),
            Retry::After(Duration::from_millis(100))
        );
        assert_eq!(
            decide_status(502, &h, "", 2),
            Retry::After(Duration::from_millis(200))
        );
        assert_eq!(
            decide_status(503, &h, "", 3),
            Retry::After(Duration::from_millis(400))
        );
        let low = decide(&Outcome::Transport, 2, &policy(), now(), 0.0);
        assert_eq!(low, Retry::After(Duration::from_millis(100)));
    }

    #[test]
    fn backoff_is_capped_by_max_delay() {
        let mut p = policy();
        p.max_attempts = 20;
        let r = decide(&Outcome::Transport, 15, &p, now(), 1.0);
        assert_eq!(r, Retry::After(Duration::from_millis(1_000)));
    }

    #[test]
    fn attempts_run_out() {
        let h = HeaderMap::new();
        assert_eq!(
            decide_status(502, &h, "", 4),
            Retry::GiveUp(GiveUp::AttemptsExhausted)
        );
        assert_eq!(
            decide(&Outcome::Transport, 4, &policy(), now(), 0.5),
            Retry::GiveUp(GiveUp::AttemptsExhausted)
        );
    }

    #[test]
    fn too_many_requests_honours_retry_after() {
        let h = headers(&[("retry-after", "3")]);
        assert_eq!(
            decide_status(429, &h, "", 1),
            Retry::After(Duration::from_secs(3))
        );
    }

    #[test]
    fn secondary_limit_on_403_honours_retry_after() {
        let h = headers(&[("retry-after", "2")]);
        let body = r#"{"message":"You have exceeded a secondary rate limit"}"#;
        assert_eq!(
            decide_status(403, &h, body, 1),
            Retry::After(Duration::from_secs(2))
        );
    }

    #[test]
    fn secondary_limit_without_headers_waits_a_minute_or_gives_up() {
        let body = r#"{"message":"You have exceeded a secondary rate limit."}"#;
        let mut p = policy();
        p.max_wait = Duration::from_secs(120);
        let outcome = Outcome::Response {
            status: StatusCode::FORBIDDEN,
            headers: &HeaderMap::new(),
            body: body.as_bytes(),
        };
        assert_eq!(
            decide(&outcome, 1, &p, now(), 0.0),
            Retry::After(Duration::from_secs(60))
        );
        // With the test policy's 10 s max_wait the minute is too long.
        assert_eq!(
            decide_status(403, &HeaderMap::new(), body, 1),
            Retry::GiveUp(GiveUp::RateLimited {
                retry_after: Some(Duration::from_secs(60)),
                reset_at: None
            })
        );
    }

    #[test]
    fn primary_limit_waits_until_reset() {
        let reset = "1700000005"; // now + 5 s
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)]);
        assert_eq!(
            decide_status(403, &h, r#"{"message":"API rate limit exceeded"}"#, 1),
            Retry::After(Duration::from_secs(5))
        );
    }

    #[test]
    fn primary_limit_beyond_max_wait_gives_up_with_reset_time() {
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700003600"),
        ]);
        assert_eq!(
            decide_status(403, &h, "", 1),
            Retry::GiveUp(GiveUp::RateLimited {
                retry_after: None,
                reset_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_003_600)),
            })
        );
    }

    #[test]
    fn retry_after_beyond_max_wait_gives_up() {
        let h = headers(&[("retry-after", "11")]);
        assert_eq!(
            decide_status(429, &h, "", 1),
            Retry::GiveUp(GiveUp::RateLimited {
                retry_after: Some(Duration::from_secs(11)),
                reset_at: None
            })
        );
    }

    #[test]
    fn rate_limited_on_last_attempt_gives_up() {
        let h = headers(&[("retry-after", "1")]);
        assert!(matches!(
            decide_status(429, &h, "", 4),
            Retry::GiveUp(GiveUp::RateLimited { .. })
        ));
    }

    #[test]
    fn reset_in_the_past_still_waits_a_little() {
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1")]);
        assert_eq!(
            decide_status(429, &h, "", 1),
            Retry::After(Duration::from_millis(100))
        );
    }
}
