//! The shapes that go in and out of the request core: who is calling, what is asked, what came
//! back.

use http::{HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;

use super::error::GithubError;
use super::ids::InstallationId;

/// Which identity a request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header (public endpoints, the manifest conversion).
    None,
    /// The App's JWT (`/app/...` endpoints).
    App,
    /// An installation access token, minted and cached on demand.
    Installation(InstallationId),
}

/// One REST call. `path_and_query` is relative to the API URL (`/repos/o/r/issues?state=open`);
/// an absolute URL under the configured API URL is accepted too.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRequest {
    pub method: Method,
    pub path_and_query: String,
    pub body: Option<serde_json::Value>,
    /// Overrides `application/vnd.github+json`, e.g. `application/vnd.github.raw+json`.
    pub accept: Option<&'static str>,
    /// An `ETag` from an earlier answer: GitHub answers `304 Not Modified` (free of rate
    /// limit) when nothing changed since.
    pub if_none_match: Option<String>,
}

impl ApiRequest {
    pub fn new(method: Method, path_and_query: impl Into<String>) -> Self {
        Self {
            method,
            path_and_query: path_and_query.into(),
            body: None,
            accept: None,
            if_none_match: None,
        }
    }

    pub fn get(path_and_query: impl Into<String>) -> Self {
        Self::new(Method::GET, path_and_query)
    }

    pub fn post(path_and_query: impl Into<String>) -> Self {
        Self::new(Method::POST, path_and_query)
    }

    pub fn patch(path_and_query: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path_and_query)
    }

    pub fn put(path_and_query: impl Into<String>) -> Self {
        Self::new(Method::PUT, path_and_query)
    }

    pub fn delete(path_and_query: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path_and_query)
    }

    pub fn with_body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn with_accept(mut self, accept: &'static str) -> Self {
        self.accept = Some(accept);
        self
    }

    /// A conditional request: see [`ApiRequest::if_none_match`].
    pub fn with_if_none_match(mut self, etag: Option<&str>) -> Self {
        self.if_none_match = etag.map(str::to_owned);
        self
    }

    /// Whether the request changes something on GitHub (and so is suppressed in dry-run mode).
    pub fn is_mutating(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }
}

/// A complete answer, body read into memory (GitHub API answers are small JSON documents; file
/// contents are capped by GitHub at 100 MB and gitferry reads only config files).
#[derive(Clone, Debug)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub(crate) route: String,
}

impl ApiResponse {
    /// Decodes the body. An empty body (204) decodes as JSON `null`, so `()` and `Option<T>`
    /// work for answers without content.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GithubError> {
        let body: &[u8] = if self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|source| GithubError::Decode {
            route: self.route.clone(),
            source,
        })
    }

    /// The body as text (lossy), for raw media types.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The answer's `ETag`, for a later conditional request.
    pub fn etag(&self) -> Option<&str> {
        self.headers
            .get(http::header::ETAG)
            .and_then(|value| value.to_str().ok())
    }

    /// The route template the request was counted under.
    pub fn route(&self) -> &str {
        &self.route
    }

    /// The answer the dry-run mode gives to a suppressed write.
    pub(crate) fn synthetic_ok(route: String) -> Self {
        Self {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: b"{}".to_vec(),
            route,
        }
    }

    /// GitHub's error message (plus validation details), or the start of the body.
    pub(crate) fn error_message(&self) -> String {
        const MAX: usize = 500;
        let text = match serde_json::from_slice::<serde_json::Value>(&self.body) {
            Ok(json) => {
                let message = json
                    .get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or_default()
                    .to_owned();
                match json.get("errors") {
                    Some(errors) => format!("{message} {errors}"),
                    None => message,
                }
            }
            Err(_) => self.text(),
        };
        truncate(text.trim(), MAX)
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
            route: "/x".into(),
        }
    }

    #[test]
    fn empty_body_decodes_as_null() {
        let r = response(204, "");
        r.json::<()>().unwrap();
        assert_eq!(r.json::<Option<u32>>().unwrap(), None);
    }

    #[test]
    fn decode_errors_name_the_route() {
        let err = response(200, "[]").json::<u32>().unwrap_err();
        assert!(matches!(err, GithubError::Decode { ref route, .. } if route == "/x"));
    }

    #[test]
    fn error_message_prefers_githubs_message() {
        let r = response(
            422,
            r#"{"message":"Validation Failed","errors":[{"code":"custom"}]}"#,
        );
        assert_eq!(
            r.error_message(),
            r#"Validation Failed [{"code":"custom"}]"#
        );
        assert_eq!(
            response(502, "<html>bad gateway</html>").error_message(),
            "<html>bad gateway</html>"
        );
        assert_eq!(
            response(500, &"x".repeat(600))
                .error_message()
                .chars()
                .count(),
            501
        );
    }
}
