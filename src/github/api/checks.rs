//! Check runs.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::created;
use crate::github::{GithubError, InstallationClient};

/// Where one check run is, as a gate reads it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CheckRunState {
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    pub conclusion: Option<String>,
}

impl InstallationClient {
    /// Every run named `name` on commit `sha` (`filter=all`: earlier attempts too, not only
    /// GitHub's `latest`).
    pub async fn check_runs_named<T: DeserializeOwned>(
        &self,
        repo: &str,
        sha: &str,
        name: &str,
    ) -> Result<Vec<T>, GithubError> {
        let name = utf8_percent_encode(name, NON_ALPHANUMERIC);
        let path = format!("/repos/{repo}/commits/{sha}/check-runs?check_name={name}&filter=all");
        self.paginate(&path, Some("check_runs")).await
    }

    /// The latest run of each name on commit `sha`, whichever app reported it (required
    /// checks of a promotion are other apps' runs).
    pub async fn check_runs_on(
        &self,
        repo: &str,
        sha: &str,
    ) -> Result<Vec<CheckRunState>, GithubError> {
        let path = format!("/repos/{repo}/commits/{sha}/check-runs?filter=latest");
        self.paginate(&path, Some("check_runs")).await
    }

    /// The annotations check run `id` holds (all pages).
    pub async fn check_run_annotations<T: DeserializeOwned>(
        &self,
        repo: &str,
        id: u64,
    ) -> Result<Vec<T>, GithubError> {
        self.paginate(&format!("/repos/{repo}/check-runs/{id}/annotations"), None)
            .await
    }

    /// Creates a check run; what GitHub answered, or `None` in dry run.
    pub async fn create_check_run<T: DeserializeOwned>(
        &self,
        repo: &str,
        body: &Value,
    ) -> Result<Option<T>, GithubError> {
        let answer: Value = self
            .post(&format!("/repos/{repo}/check-runs"), body)
            .await?;
        created(self, "/repos/{owner}/{repo}/check-runs", answer)
    }

    pub async fn update_check_run(
        &self,
        repo: &str,
        id: u64,
        body: &Value,
    ) -> Result<(), GithubError> {
        let _: Value = self
            .patch(&format!("/repos/{repo}/check-runs/{id}"), body)
            .await?;
        Ok(())
    }
}
