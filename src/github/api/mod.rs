//! Typed calls: one function per GitHub endpoint a feature uses, so that REST paths are
//! written here and nowhere else, and callers get types instead of JSON.
//!
//! This module grows as features move onto it (issue: "one typed GitHub API").

mod checks;
mod issues;
mod pulls;
mod repos;

pub use pulls::{Conditional, PullSnapshot};

/// What a create call answered, decoded; `None` in dry run, where GitHub was not asked and the
/// answer is a stand-in.
fn created<T: serde::de::DeserializeOwned>(
    gh: &crate::github::InstallationClient,
    route: &str,
    answer: serde_json::Value,
) -> Result<Option<T>, crate::github::GithubError> {
    if gh.client().is_dry_run() {
        return Ok(None);
    }
    serde_json::from_value(answer)
        .map(Some)
        .map_err(|source| crate::github::GithubError::Decode {
            route: route.to_owned(),
            source,
        })
}

/// Everything but the characters logins and team slugs are made of.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// Logins and slugs come from payloads: keep each one a single path segment.
fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}
