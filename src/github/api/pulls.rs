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

/// A pull request as gitferry opens or finds its own (promotion pull requests).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PullRef {
    pub number: u64,
    pub html_url: String,
}

impl InstallationClient {
    /// `GET /repos/{repo}/pulls?state=open&head=owner:branch&base=…`: the open pull request
    /// from `branch` (of the repository itself) into `base`, if there is one.
    pub async fn open_pull_from(
        &self,
        repo: &str,
        branch: &str,
        base: &str,
    ) -> Result<Option<PullRef>, GithubError> {
        let owner = repo.split('/').next().unwrap_or_default();
        let query: String = url_query(&[
            ("state", "open"),
            ("head", &format!("{owner}:{branch}")),
            ("base", base),
        ]);
        let pulls: Vec<PullRef> = self.get(&format!("/repos/{repo}/pulls?{query}")).await?;
        Ok(pulls.into_iter().next())
    }

    /// `POST /repos/{repo}/pulls`: opens a pull request from `head` into `base`.
    pub async fn create_pull(
        &self,
        repo: &str,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<Option<PullRef>, GithubError> {
        let answer: serde_json::Value = self
            .post(
                &format!("/repos/{repo}/pulls"),
                &serde_json::json!({ "title": title, "head": head, "base": base, "body": body }),
            )
            .await?;
        super::created(self, "/repos/{owner}/{repo}/pulls", answer)
    }

    /// `PATCH /repos/{repo}/pulls/{number}`: a new title and body.
    pub async fn update_pull(
        &self,
        repo: &str,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<(), GithubError> {
        let _: serde_json::Value = self
            .patch(
                &format!("/repos/{repo}/pulls/{number}"),
                &serde_json::json!({ "title": title, "body": body }),
            )
            .await?;
        Ok(())
    }
}

/// `a=b&c=d`, each value percent-encoded.
fn url_query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}
