//! Creating or updating a check run through `github::Client`: find the run, plan, send.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;

use super::plan::{ExistingRun, FirstWrite, plan_check_run};
use super::spec::{Annotation, CheckRunId, CheckRunSpec};
use crate::github::{AppId, GithubError, InstallationClient, RepoFullName};
use crate::report::sticky_sync::repo_name;

#[derive(Deserialize)]
struct ListedRun {
    id: CheckRunId,
    name: String,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    app: Option<ListedApp>,
    #[serde(default)]
    output: Option<ListedOutput>,
}

#[derive(Deserialize)]
struct ListedApp {
    id: AppId,
}

#[derive(Deserialize)]
struct ListedOutput {
    #[serde(default)]
    annotations_count: usize,
}

#[derive(Deserialize)]
struct Created {
    id: CheckRunId,
}

/// Makes the check run described by `spec` exist on its commit, looking as `spec` says, and
/// returns its id. Calling it again with the same spec updates the same run in place and sends
/// no annotation twice. `repo` is `owner/name`.
///
/// A spec GitHub would refuse comes back as [`GithubError::InvalidRequest`] before any request.
pub async fn upsert_check_run(
    gh: &InstallationClient,
    repo: &str,
    spec: &CheckRunSpec,
) -> Result<CheckRunId, GithubError> {
    let repo = repo_name(repo)?;
    let invalid = |e: super::spec::InvalidCheckRun| GithubError::InvalidRequest(e.to_string());
    let checked = spec.checked().map_err(invalid)?;
    let existing = find_run(gh, &repo, &checked).await?;
    let plan = plan_check_run(existing.as_ref(), &checked).map_err(invalid)?;
    let runs = format!("/repos/{repo}/check-runs");
    let id = match plan.first {
        FirstWrite::Create(body) => {
            let answer: Value = gh.post(&runs, &body).await?;
            created_id(gh, answer)?
        }
        FirstWrite::Update(id, body) => {
            let _: Value = gh.patch(&format!("{runs}/{id}"), &body).await?;
            id
        }
    };
    for body in plan.appends {
        let _: Value = gh.patch(&format!("{runs}/{id}"), &body).await?;
    }
    Ok(id)
}

/// The newest run of this App on the spec's commit with its name and `external_id`, and the
/// annotations it holds. Every run of that name is listed (`filter=all`, not GitHub's default
/// `latest`): a replayed delivery for an earlier attempt must find its own run, not create a
/// duplicate because a later attempt's run is now the latest.
async fn find_run(
    gh: &InstallationClient,
    repo: &RepoFullName,
    spec: &CheckRunSpec,
) -> Result<Option<ExistingRun>, GithubError> {
    let name = utf8_percent_encode(&spec.name, NON_ALPHANUMERIC);
    let path = format!(
        "/repos/{repo}/commits/{}/check-runs?check_name={name}&filter=all",
        spec.head_sha
    );
    let runs: Vec<ListedRun> = gh.paginate(&path, Some("check_runs")).await?;
    let app = gh.client().app_id();
    let Some(run) = runs
        .into_iter()
        .filter(|r| r.name == spec.name)
        .filter(|r| r.external_id.as_deref() == Some(spec.external_id.as_str()))
        .filter(|r| app.is_none() || r.app.as_ref().map(|a| a.id) == app)
        .max_by_key(|r| r.id)
    else {
        return Ok(None);
    };
    let held = run.output.map_or(0, |o| o.annotations_count);
    let annotations = if held == 0 {
        Vec::new()
    } else {
        gh.paginate::<Annotation>(
            &format!("/repos/{repo}/check-runs/{}/annotations", run.id),
            None,
        )
        .await?
    };
    Ok(Some(ExistingRun {
        id: run.id,
        annotations,
    }))
}

/// The id in a create answer. In dry run GitHub was not asked; the run is then called 0.
fn created_id(gh: &InstallationClient, answer: Value) -> Result<CheckRunId, GithubError> {
    if gh.client().is_dry_run() {
        return Ok(CheckRunId(0));
    }
    serde_json::from_value::<Created>(answer)
        .map(|c| c.id)
        .map_err(|source| GithubError::Decode {
            route: "/repos/{owner}/{repo}/check-runs".into(),
            source,
        })
}
