//! Pull requests.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::github::{ApiRequest, GithubError, InstallationClient, StatusCode};

/// The answer to a conditional request.
#[derive(Debug)]
pub enum Conditional<T> {
    /// `304 Not Modified`: nothing changed since the `ETag` sent (and it cost no rate limit).
    Unchanged,
    Changed {
        value: T,
        etag: Option<String>,
    },
}

/// A pull request as the REST API returns it: the few fields decisions read, and the whole
/// document, which has the same shape as a `pull_request` webhook's `pull_request` (so a
/// reconciler can hand it to the same handlers a webhook reaches).
#[derive(Debug, Clone)]
pub struct PullSnapshot {
    pub state: String,
    pub merged: bool,
    pub head_sha: String,
    pub raw: serde_json::Value,
}

#[derive(Deserialize)]
struct Fields {
    state: String,
    #[serde(default)]
    merged: bool,
    head: Head,
}

#[derive(Deserialize)]
struct Head {
    sha: String,
}

impl PullSnapshot {
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
}

impl InstallationClient {
    /// `GET /repos/{repo}/pulls/{number}`, decoded into the caller's shape.
    pub async fn pull<T: DeserializeOwned>(
        &self,
        repo: &str,
        number: i64,
    ) -> Result<T, GithubError> {
        self.get(&format!("/repos/{repo}/pulls/{number}")).await
    }

    /// `GET /repos/{repo}/pulls/{number}`, conditional on `etag` (from the last answer).
    pub async fn pull_if_changed(
        &self,
        repo: &str,
        number: i64,
        etag: Option<&str>,
    ) -> Result<Conditional<PullSnapshot>, GithubError> {
        let request =
            ApiRequest::get(format!("/repos/{repo}/pulls/{number}")).with_if_none_match(etag);
        let response = self.send(request).await?;
        if response.status == StatusCode::NOT_MODIFIED {
            return Ok(Conditional::Unchanged);
        }
        let raw: serde_json::Value = response.json()?;
        let fields: Fields =
            serde_json::from_value(raw.clone()).map_err(|source| GithubError::Decode {
                route: response.route().to_owned(),
                source,
            })?;
        Ok(Conditional::Changed {
            value: PullSnapshot {
                state: fields.state,
                merged: fields.merged,
                head_sha: fields.head.sha,
                raw,
            },
            etag: response.etag().map(str::to_owned),
        })
    }
}

/// A pull request GitHub associates with a commit (`GET /commits/{sha}/pulls`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AssociatedPull {
    pub number: u64,
    pub state: String,
    /// Set once merged: only merged pull requests have a change in a release.
    #[serde(default)]
    pub merged_at: Option<String>,
}

impl InstallationClient {
    /// `GET /repos/{repo}/commits/{sha}/pulls`: the merged pull request that brought `sha`
    /// in (and open ones carrying it, while it is not on the default branch).
    pub async fn associated_pulls(
        &self,
        repo: &str,
        sha: &str,
    ) -> Result<Vec<AssociatedPull>, GithubError> {
        self.get(&format!(
            "/repos/{repo}/commits/{}/pulls",
            super::segment(sha)
        ))
        .await
    }
}
