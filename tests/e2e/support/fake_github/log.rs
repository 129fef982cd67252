//! The request log: every request the fake answered (or dropped), for tests to assert on.

use serde_json::Value;

use super::faults::Fault;

/// Which credentials a request carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthUsed {
    None,
    /// A valid App JWT.
    Jwt,
    /// A valid installation token of this installation.
    Installation(u64),
    /// Credentials that were rejected (bad JWT, unknown or expired token).
    Invalid,
}

#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub auth: AuthUsed,
    /// Response status; 0 when the connection was dropped without an answer.
    pub status: u16,
    pub body: Vec<u8>,
    /// The scripted fault that answered this request, if any.
    pub fault: Option<Fault>,
}

impl RequestRecord {
    /// The request body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn is(&self, method: &str, path_prefix: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.path.starts_with(path_prefix)
    }
}

impl super::FakeGitHub {
    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.model().requests.clone()
    }

    /// How many requests had this method and a path starting with `path_prefix`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.model()
            .requests
            .iter()
            .filter(|r| r.is(method, path_prefix))
            .count()
    }

    /// The requests with this method and path prefix.
    pub fn requests_to(&self, method: &str, path_prefix: &str) -> Vec<RequestRecord> {
        self.model()
            .requests
            .iter()
            .filter(|r| r.is(method, path_prefix))
            .cloned()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.model().requests.clear();
    }
}
