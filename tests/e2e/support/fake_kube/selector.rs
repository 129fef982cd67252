//! `labelSelector` as the API server reads it, for the forms gitferry and the tests use:
//! `a=b`, `a==b`, `a!=b`, `a` (exists) and `!a` (does not exist), joined by commas. Set-based
//! terms (`in`, `notin`) are refused with 400 rather than silently matching everything.

use serde_json::Value;

use super::status::KubeError;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Term {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector(Vec<Term>);

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, KubeError> {
        let mut terms = Vec::new();
        for raw in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let bad = || {
                KubeError::bad_request(format!(
                    "unable to parse requirement: the fake only understands =, ==, != and \
                     existence terms, not {raw:?}"
                ))
            };
            if raw.contains(['(', ')', ' ']) {
                return Err(bad());
            }
            let term = if let Some((k, v)) = raw.split_once("!=") {
                Term::NotEquals(k.to_string(), v.to_string())
            } else if let Some((k, v)) = raw.split_once("==").or_else(|| raw.split_once('=')) {
                Term::Equals(k.to_string(), v.to_string())
            } else if let Some(k) = raw.strip_prefix('!') {
                Term::Absent(k.to_string())
            } else {
                Term::Exists(raw.to_string())
            };
            terms.push(term);
        }
        Ok(Selector(terms))
    }

    /// Whether an object's `metadata.labels` satisfy every term.
    pub fn matches(&self, object: &Value) -> bool {
        let label = |key: &str| {
            object
                .pointer("/metadata/labels")
                .and_then(|l| l.get(key))
                .and_then(Value::as_str)
        };
        self.0.iter().all(|term| match term {
            Term::Equals(k, v) => label(k) == Some(v.as_str()),
            Term::NotEquals(k, v) => label(k) != Some(v.as_str()),
            Term::Exists(k) => label(k).is_some(),
            Term::Absent(k) => label(k).is_none(),
        })
    }
}
