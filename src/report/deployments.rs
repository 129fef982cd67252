//! GitHub Deployments: one per deploy run (a preview's `preview/pr-<n>`, transient; a
//! release's environment by name), with statuses that follow the run and a link to its log.

use serde::Deserialize;
use serde_json::json;

use crate::github::{GithubError, InstallationClient};

/// GitHub's limit for a status description.
const DESCRIPTION_LIMIT: usize = 140;

#[derive(Deserialize)]
struct Created {
    id: i64,
}

/// The GitHub environment of a pull request's preview.
pub fn preview_environment(pr: i64) -> String {
    format!("preview/pr-{pr}")
}

/// Which deployment to create.
#[derive(Clone, Debug)]
pub struct DeploymentSpec<'a> {
    pub sha: &'a str,
    pub environment: &'a str,
    /// GitHub retires a transient environment's deployments when it is gone (previews).
    pub transient: bool,
    pub production: bool,
    pub description: &'a str,
    pub run_id: &'a str,
}

/// Creates the deployment of `spec.sha`. `auto_merge: false` (never merge the base into the
/// ref) and `required_contexts: []` (gitferry is what runs the checks; waiting for them would
/// deadlock): without those two GitHub refuses or rewrites the request.
pub async fn create(
    gh: &InstallationClient,
    repo: &str,
    spec: &DeploymentSpec<'_>,
) -> Result<i64, GithubError> {
    let created: Created = gh
        .create_deployment(
            repo,
            &json!({
                "ref": spec.sha,
                "environment": spec.environment,
                "transient_environment": spec.transient,
                "production_environment": spec.production,
                "auto_merge": false,
                "required_contexts": [],
                "description": spec.description,
                "payload": { "gitferry_run": spec.run_id },
            }),
        )
        .await?;
    Ok(created.id)
}

/// The states gitferry sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    InProgress,
    Success,
    Failure,
    Inactive,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Inactive => "inactive",
        }
    }
}

pub async fn set_status(
    gh: &InstallationClient,
    repo: &str,
    deployment: i64,
    state: State,
    environment_url: Option<&str>,
    log_url: Option<&str>,
    description: &str,
) -> Result<(), GithubError> {
    let mut body = json!({
        "state": state.as_str(),
        "description": truncate(description),
        "auto_inactive": true,
    });
    if let Some(url) = environment_url {
        body["environment_url"] = json!(url);
    }
    if let Some(url) = log_url {
        body["log_url"] = json!(url);
    }
    gh.create_deployment_status(repo, deployment, &body).await?;
    Ok(())
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= DESCRIPTION_LIMIT {
        return text.to_owned();
    }
    let kept: String = text.chars().take(DESCRIPTION_LIMIT - 1).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_fit_githubs_limit() {
        assert_eq!(truncate("short"), "short");
        let long = truncate(&"é".repeat(300));
        assert_eq!(long.chars().count(), DESCRIPTION_LIMIT);
        assert!(long.ends_with('…'));
    }
}
