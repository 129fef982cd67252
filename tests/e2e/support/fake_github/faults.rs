//! Scripted faults: `fail_next(method, pattern, n, fault)` makes the next `n` matching requests
//! fail this way before any normal handling.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and a GitHub-style JSON body.
    Status(u16),
    /// 429 with `Retry-After`.
    RateLimited { retry_after_secs: u64 },
    /// 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` = now + n.
    PrimaryRateLimit { reset_in_secs: u64 },
    /// 403 with `Retry-After` (GitHub's secondary / abuse limit).
    SecondaryRateLimit { retry_after_secs: u64 },
    /// Close the connection without answering.
    DropConnection,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
}

#[derive(Clone, Debug)]
pub struct FaultRule {
    /// Upper-case method, or "*" for any.
    pub method: String,
    pub pattern: String,
    pub remaining: usize,
    pub fault: Fault,
}

impl FaultRule {
    /// A pattern is a path prefix; a `*` segment matches any one path segment
    /// (`/repos/*/*/check-runs`).
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if self.method != "*" && !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        if !self.pattern.contains('*') {
            return path.starts_with(&self.pattern);
        }
        let pattern: Vec<&str> = self.pattern.split('/').collect();
        let path: Vec<&str> = path.split('/').collect();
        if pattern.len() > path.len() {
            return false;
        }
        pattern
            .iter()
            .zip(&path)
            .enumerate()
            .all(|(i, (p, s))| *p == "*" || p == s || (i == pattern.len() - 1 && s.starts_with(p)))
    }
}

/// Consumes one use of the first rule matching this request.
pub fn take(rules: &mut Vec<FaultRule>, method: &str, path: &str) -> Option<Fault> {
    let idx = rules.iter().position(|r| r.matches(method, path))?;
    let fault = rules[idx].fault.clone();
    rules[idx].remaining -= 1;
    if rules[idx].remaining == 0 {
        rules.remove(idx);
    }
    Some(fault)
}

const RATE_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";

/// The answer for a fault that answers (not for `DropConnection` or `Delay`).
pub fn response(fault: &Fault, limit: u32) -> Response {
    let now = chrono::Utc::now().timestamp();
    let secondary = json!({
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
        "documentation_url": RATE_DOCS,
    });
    let (status, body, headers): (u16, _, Vec<(&str, String)>) = match fault {
        Fault::Status(code) => {
            let reason = StatusCode::from_u16(*code)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            (*code, json!({ "message": reason }), vec![])
        }
        Fault::RateLimited { retry_after_secs } => (
            429,
            secondary,
            vec![("retry-after", retry_after_secs.to_string())],
        ),
        Fault::SecondaryRateLimit { retry_after_secs } => (
            403,
            secondary,
            vec![("retry-after", retry_after_secs.to_string())],
        ),
        Fault::PrimaryRateLimit { reset_in_secs } => (
            403,
            json!({
                "message": "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.",
                "documentation_url": RATE_DOCS,
            }),
            vec![
                ("x-ratelimit-limit", limit.to_string()),
                ("x-ratelimit-remaining", "0".to_string()),
                ("x-ratelimit-used", limit.to_string()),
                (
                    "x-ratelimit-reset",
                    (now + *reset_in_secs as i64).to_string(),
                ),
                ("x-ratelimit-resource", "core".to_string()),
            ],
        ),
        Fault::DropConnection | Fault::Delay(_) => (500, json!({ "message": "fault" }), vec![]),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, axum::Json(body)).into_response();
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

impl super::FakeGitHub {
    /// The next `n` requests with this method ("*" for any) whose path matches `pattern`
    /// (a prefix; `*` stands for one segment) get `fault` instead of their normal answer.
    pub fn fail_next(&self, method: &str, pattern: &str, n: usize, fault: Fault) {
        if n == 0 {
            return;
        }
        self.model().faults.push(FaultRule {
            method: method.to_uppercase(),
            pattern: pattern.to_string(),
            remaining: n,
            fault,
        });
    }

    /// Forgets faults not yet used.
    pub fn clear_faults(&self) {
        self.model().faults.clear();
    }
}
