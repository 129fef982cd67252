//! Creating or updating a check run through `github::Client`: find the run, plan, send.

use serde::Deserialize;

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
    let id = match plan.first {
        FirstWrite::Create(body) => {
            // In dry run GitHub was not asked; the run is then called 0.
            let created: Option<Created> = gh.create_check_run(repo.as_str(), &body).await?;
            created.map_or(CheckRunId(0), |created| created.id)
        }
        FirstWrite::Update(id, body) => {
            gh.update_check_run(repo.as_str(), id.0, &body).await?;
            id
        }
    };
    for body in plan.appends {
        gh.update_check_run(repo.as_str(), id.0, &body).await?;
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
    let runs: Vec<ListedRun> = gh
        .check_runs_named(repo.as_str(), &spec.head_sha, &spec.name)
        .await?;
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
        gh.check_run_annotations::<Annotation>(repo.as_str(), run.id.0)
            .await?
    };
    Ok(Some(ExistingRun {
        id: run.id,
        annotations,
    }))
}
