//! Shared plumbing for route handlers: errors with GitHub's body, JSON answers, pagination
//! with `Link` headers, and the repository access check.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::auth::Auth;
use super::model::{Model, repo_key};

/// What every handler gets: the model and the fake's own base URL.
#[derive(Clone)]
pub struct AppState {
    pub model: Arc<Mutex<Model>>,
    pub base: Arc<str>,
}

impl AppState {
    pub fn lock(&self) -> MutexGuard<'_, Model> {
        self.model.lock().expect("fake GitHub model lock poisoned")
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// An error answer: `{"message", "documentation_url", "status"[, "errors"]}` like GitHub.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub errors: Option<Value>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            errors: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(404, "Not Found")
    }

    /// 404 with GitHub's explanation (compare of unrelated histories, a missing merge base).
    pub fn not_found_because(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    pub fn bad_credentials() -> Self {
        Self::new(401, "Bad credentials")
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, message)
    }

    /// 422 "Validation Failed" with one entry in `errors`.
    pub fn validation(resource: &str, field: &str, code: &str, message: Option<&str>) -> Self {
        let mut error = json!({ "resource": resource, "field": field, "code": code });
        if let Some(msg) = message {
            error["message"] = json!(msg);
        }
        ApiError {
            status: 422,
            message: "Validation Failed".to_string(),
            errors: Some(json!([error])),
        }
    }

    /// 422 in the style of GitHub's JSON-schema checks ("Invalid request.\n\n…").
    pub fn invalid(detail: impl AsRef<str>) -> Self {
        Self::new(422, format!("Invalid request.\n\n{}", detail.as_ref()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "message": self.message,
            "documentation_url": "https://docs.github.com/rest",
            "status": self.status.to_string(),
        });
        if let Some(errors) = self.errors {
            body["errors"] = errors;
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(body)).into_response()
    }
}

pub fn json_status(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, Json(body)).into_response()
}

pub fn ok(body: Value) -> Response {
    json_status(200, body)
}

pub fn created(body: Value) -> Response {
    json_status(201, body)
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn opt_time(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| json!(fmt_time(t))).unwrap_or(Value::Null)
}

pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The value of one query parameter.
pub fn query_param(uri: &Uri, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://fake{uri}")).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// One page of `items` per `page`/`per_page` (default 30, at most 100) and GitHub's `Link`
/// header (prev, next, last, first) with absolute URLs on the fake.
pub fn paginate(base: &str, uri: &Uri, items: Vec<Value>) -> (Vec<Value>, Option<String>) {
    let per_page = query_param(uri, "per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query_param(uri, "page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link_to = |p: usize| -> Option<String> {
        let mut url = reqwest::Url::parse(&format!("{base}{uri}")).ok()?;
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("page", &p.to_string());
        Some(url.to_string())
    };
    let mut rels = Vec::new();
    if page > 1 {
        rels.push((page - 1, "prev"));
    }
    if page < last {
        rels.push((page + 1, "next"));
        rels.push((last, "last"));
    }
    if page > 1 {
        rels.push((1, "first"));
    }
    let parts: Vec<String> = rels
        .into_iter()
        .filter_map(|(p, rel)| link_to(p).map(|u| format!("<{u}>; rel=\"{rel}\"")))
        .collect();
    (slice, (!parts.is_empty()).then(|| parts.join(", ")))
}

/// A JSON array page with its `Link` header.
pub fn page_response(base: &str, uri: &Uri, items: Vec<Value>) -> Response {
    let (slice, link) = paginate(base, uri, items);
    with_link(ok(Value::Array(slice)), link)
}

pub fn with_link(mut resp: Response, link: Option<String>) -> Response {
    if let Some(v) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        resp.headers_mut().insert("link", v);
    }
    resp
}

/// Checks that the caller may use this repository with this method; returns its key.
///
/// Installation tokens reach their installation's repositories (or the subset the token was
/// scoped to) and may read public ones; anything else is a 404, as GitHub hides private
/// repositories. Anonymous callers may read public repositories only.
pub fn access(
    m: &Model,
    auth: &Auth,
    owner: &str,
    repo: &str,
    method: &Method,
) -> Result<String, ApiError> {
    let key = repo_key(owner, repo);
    let r = m.repos.get(&key).ok_or_else(ApiError::not_found)?;
    let read_only = matches!(*method, Method::GET | Method::HEAD);
    match auth {
        Auth::Anonymous if !r.private && read_only => Ok(key),
        Auth::Anonymous if !r.private => Err(ApiError::new(401, "Requires authentication")),
        Auth::Anonymous => Err(ApiError::not_found()),
        Auth::App => Err(ApiError::new(403, "Resource not accessible by integration")),
        Auth::Installation(t) => {
            let installed = m
                .installations
                .get(&t.installation_id)
                .is_some_and(|i| i.repos.contains(&key));
            let in_scope = installed && t.repos.as_ref().is_none_or(|s| s.contains(&key));
            if in_scope || (!r.private && read_only) {
                Ok(key)
            } else if !r.private {
                Err(ApiError::new(403, "Resource not accessible by integration"))
            } else {
                Err(ApiError::not_found())
            }
        }
    }
}

/// The login that authored a write: the App's bot for installation tokens.
pub fn actor(m: &Model, auth: &Auth) -> String {
    match auth {
        Auth::Installation(_) | Auth::App => m.bot_login(),
        Auth::Anonymous => "ghost".to_string(),
    }
}

/// Parses a JSON request body; an empty body is `{}`.
pub fn body_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    serde_json::from_slice(bytes).map_err(|_| ApiError::new(400, "Problems parsing JSON"))
}

/// A string field of a JSON body, if present and a string.
pub fn str_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}
