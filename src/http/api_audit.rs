//! `GET /api/audit?repo=&env=&since=&limit=`: the audit log as JSON, for dashboards and
//! scripts; the same entries as `gitferry audit --json`.
//!
//! Until the dashboard has a sign-in, a bearer token (`GITFERRY_API_TOKEN`) is the only lock:
//! without it configured the route does not exist (404), so an operator who never set a
//! token exposes nothing. The token is compared in constant time (as SHA-256 digests, so its
//! length does not leak either) and never logged. A request is authenticated before its
//! query is looked at, so an unauthenticated client learns nothing from the answers.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::HttpState;
use crate::store::audit::{AuditEntry, AuditFilter, AuditJson, parse_since};
use crate::store::now_ms;

/// The query parameters. Unknown ones are refused: a misspelt filter (`environment=`) would
/// otherwise widen the answer silently. Strings, so the handler, not the extractor, says what
/// is wrong with a value; empty values count as absent, as HTML forms send them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    repo: Option<String>,
    env: Option<String>,
    since: Option<String>,
    limit: Option<String>,
}

pub async fn list(
    State(state): State<HttpState>,
    headers: HeaderMap,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Response {
    let Some(token) = &state.ctx.settings.api_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Err(refusal) = authenticate(&headers, token) {
        tracing::debug!(reason = ?refusal, "audit API request refused");
        return unauthorized(refusal);
    }
    let filter = match params
        .map_err(|rejection| rejection.body_text())
        .and_then(|Query(params)| filter(params, now_ms()))
    {
        Ok(filter) => filter,
        Err(reason) => return bad_request(&reason),
    };
    match state.ctx.store.audit_query(&filter).await {
        Ok(entries) => {
            let body: Vec<AuditJson<'_>> = entries.iter().map(AuditEntry::as_json).collect();
            let mut response = axum::Json(body).into_response();
            // Who did what where: not for shared caches.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "reading the audit log failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable\n",
            )
                .into_response()
        }
    }
}

/// Why a request was not let in; safe to log (it holds nothing the client sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer <token>`.
    Malformed,
    /// A bearer token, not the configured one.
    Wrong,
}

/// `Ok` when the request carries `Authorization: Bearer <the token>`.
fn authenticate(headers: &HeaderMap, token: &SecretString) -> Result<(), Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Refusal::Missing);
    };
    let presented = value
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, credentials)| credentials.trim());
    let Some(presented) = presented else {
        return Err(Refusal::Malformed);
    };
    let expected = Sha256::digest(token.expose_secret().as_bytes());
    let presented = Sha256::digest(presented.as_bytes());
    if bool::from(expected.ct_eq(&presented)) {
        Ok(())
    } else {
        Err(Refusal::Wrong)
    }
}

/// The filter a request asks for, or a one-line reason it is malformed.
fn filter(params: AuditParams, now: i64) -> Result<AuditFilter, String> {
    let given = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let since_ms = match given(params.since) {
        Some(since) => Some(parse_since(&since, now)?),
        None => None,
    };
    let limit = match given(params.limit) {
        Some(limit) => limit
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=AuditFilter::MAX_API_LIMIT).contains(n))
            .ok_or_else(|| {
                format!(
                    "limit {limit:?}: give a number from 1 to {}",
                    AuditFilter::MAX_API_LIMIT
                )
            })?,
        None => AuditFilter::DEFAULT_LIMIT,
    };
    Ok(AuditFilter {
        repository: given(params.repo),
        environment: given(params.env),
        since_ms,
        limit,
    })
}

/// `401` with the challenge RFC 6750 prescribes; `invalid_token` when a token was presented.
fn unauthorized(refusal: Refusal) -> Response {
    let (challenge, text) = match refusal {
        Refusal::Wrong => (
            r#"Bearer realm="gitferry", error="invalid_token""#,
            "the bearer token is not valid\n",
        ),
        Refusal::Missing | Refusal::Malformed => (
            r#"Bearer realm="gitferry""#,
            "send Authorization: Bearer <GITFERRY_API_TOKEN>\n",
        ),
    };
    let mut response = (StatusCode::UNAUTHORIZED, text).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

fn bad_request(reason: &str) -> Response {
    let line = reason.lines().next().unwrap_or("bad request");
    (StatusCode::BAD_REQUEST, format!("{line}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Result<AuditParams, String> {
        let uri: axum::http::Uri = format!("/api/audit?{query}").parse().expect("uri");
        Query::<AuditParams>::try_from_uri(&uri)
            .map(|Query(p)| p)
            .map_err(|e| e.body_text())
    }

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(authorization).expect("header"),
        );
        headers
    }

    #[test]
    fn only_the_configured_bearer_token_passes() {
        let token = SecretString::from("s".repeat(40));
        let right = format!("Bearer {}", "s".repeat(40));
        assert_eq!(authenticate(&headers(&right), &token), Ok(()));
        let lower = format!("bearer {}", "s".repeat(40));
        assert_eq!(authenticate(&headers(&lower), &token), Ok(()));
        assert_eq!(
            authenticate(&HeaderMap::new(), &token),
            Err(Refusal::Missing)
        );
        let basic = format!("Basic {}", "s".repeat(40));
        assert_eq!(
            authenticate(&headers(&basic), &token),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            authenticate(&headers("Bearer"), &token),
            Err(Refusal::Malformed)
        );
        let prefix = format!("Bearer {}", "s".repeat(39));
        assert_eq!(authenticate(&headers(&prefix), &token), Err(Refusal::Wrong));
        assert_eq!(
            authenticate(&headers("Bearer "), &token),
            Err(Refusal::Wrong)
        );
    }

    #[test]
    fn the_query_becomes_a_filter_or_a_reason() {
        let now = 10_000_000_000;
        let filter = |query: &str| params(query).and_then(|p| super::filter(p, now));
        assert_eq!(filter(""), Ok(AuditFilter::default()));
        assert_eq!(
            filter("repo=octocat%2Fshop&env=production&since=2h&limit=5"),
            Ok(AuditFilter {
                repository: Some("octocat/shop".into()),
                environment: Some("production".into()),
                since_ms: Some(now - 7_200_000),
                limit: 5,
            })
        );
        assert_eq!(filter("repo=&env="), Ok(AuditFilter::default()));
        assert!(filter("since=yesterday").is_err_and(|e| e.contains("RFC 3339")));
        assert!(filter("limit=0").is_err_and(|e| e.contains("1 to 1000")));
        assert!(filter("limit=1001").is_err());
        assert!(filter("limit=ten").is_err());
        assert!(filter("environment=production").is_err_and(|e| e.contains("environment")));
    }
}
