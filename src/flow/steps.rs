//! Which step runs to create for a head, and creating them: for a pull request's new head,
//! a `/retest`, a check run's Re-run, or a push to a branch (whose results are the base PR
//! failures are compared with).
//!
//! Automatic triggers *ensure* runs (a step that already has a run on the commit gets none,
//! so a replayed delivery queues nothing); `/retest` and Re-run always add an attempt.

use super::{AfterDeploy, Head};
use crate::repo_config::{RepoConfig, Step};
use crate::store::pipeline::{NewStep, PipelineStep, StepConclusion, StepState};
use crate::store::{Store, StoreError};

/// Which steps: all of them, or the one a `/retest <step>` names.
#[derive(Clone, Copy, Debug)]
pub enum Selection<'a> {
    All,
    Only(&'a str),
}

/// How runs are added when some exist already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Only steps with no run on the commit yet (automatic triggers; replays are no-ops).
    Ensure,
    /// A new attempt of each selected step (`/retest`, Re-run).
    Again,
}

/// One run to create, before ids are chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned<'c> {
    pub step: &'c Step,
    pub state: StepState,
    pub settled: Option<(StepConclusion, &'static str)>,
}

/// The runs to create (pure). Branch runs have no preview, so their after-deploy steps are
/// left out rather than shown as skipped on every push.
pub fn plan<'c>(
    config: &'c RepoConfig,
    head: &Head<'_>,
    selection: Selection<'_>,
    after: &AfterDeploy,
    existing: &[PipelineStep],
    mode: Mode,
) -> Vec<Planned<'c>> {
    config
        .pipeline
        .iter()
        .filter(|step| match selection {
            Selection::All => true,
            Selection::Only(name) => step.name.as_str() == name,
        })
        // A branch's steps after the deploy run only when the branch is an environment's.
        .filter(|step| {
            head.pr > 0 || step.after.is_none() || !matches!(after, AfterDeploy::Skip(_))
        })
        .filter(|step| {
            mode == Mode::Again || !existing.iter().any(|run| run.step == step.name.as_str())
        })
        .map(|step| match (step.after.is_some(), after) {
            (false, _) | (true, AfterDeploy::Now { .. }) => Planned {
                step,
                state: StepState::Due,
                settled: None,
            },
            (true, AfterDeploy::Wait) => Planned {
                step,
                state: StepState::Waiting,
                settled: None,
            },
            (true, AfterDeploy::Skip(reason)) => Planned {
                step,
                state: StepState::Reporting,
                settled: Some((StepConclusion::Skipped, reason)),
            },
        })
        .collect()
}

/// The steps before the deploy that have no run on the head, planned as passed with `reason`
/// (pure): a rollback's tree passed them already.
pub fn plan_passed_before<'c>(
    config: &'c RepoConfig,
    existing: &[PipelineStep],
    reason: &'static str,
) -> Vec<Planned<'c>> {
    config
        .pipeline
        .iter()
        .filter(|step| step.after.is_none())
        .filter(|step| !existing.iter().any(|run| run.step == step.name.as_str()))
        .map(|step| Planned {
            step,
            state: StepState::Reporting,
            settled: Some((StepConclusion::Success, reason)),
        })
        .collect()
}

/// Creates the planned runs; returns what was created.
pub async fn create(
    store: &Store,
    config: &RepoConfig,
    head: &Head<'_>,
    planned: &[Planned<'_>],
    after: &AfterDeploy,
    now: i64,
) -> Result<Vec<PipelineStep>, QueueError> {
    if planned.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::with_capacity(planned.len());
    for _ in planned {
        let id = crate::runs::new_id()?;
        ids.push(id);
    }
    let concurrency = i64::from(config.runner.concurrency);
    let deployed_url = match after {
        AfterDeploy::Now { url } => url.as_deref(),
        _ => None,
    };
    let new: Vec<NewStep<'_>> = planned
        .iter()
        .zip(&ids)
        .map(|(planned, id)| NewStep {
            id,
            // The log link's token is issued when the step starts (see `work`).
            token_hash: "",
            repository: head.repository,
            pr: head.pr,
            installation_id: head.installation_id,
            sha: head.sha,
            branch: head.branch,
            base_ref: head.base_ref,
            default_branch: head.default_branch,
            step: planned.step.name.as_str(),
            after_deploy: planned.step.after.is_some(),
            concurrency,
            actor: head.actor,
            state: planned.state,
            preview_url: if planned.state == StepState::Due && planned.step.after.is_some() {
                deployed_url
            } else {
                None
            },
            conclusion: planned.settled.map(|(c, _)| c),
            reason: planned.settled.map(|(_, r)| r),
        })
        .collect();
    Ok(store.queue_pipeline_steps(&new, now).await?)
}

/// Why runs could not be created.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no randomness for run ids: {0}")]
    Random(#[from] getrandom::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RepoConfig {
        crate::repo_config::parse(
            "pipeline:\n  - name: unit\n    run: [make, test]\n  - name: functional\n    run: [make, e2e]\n    after: deploy\nenvironments:\n  preview:\n    pull_requests: { base: [main] }\n    deploy:\n      provider: command\n      deploy: [sh, deploy.sh]\n      destroy: [sh, destroy.sh]\n",
        )
        .expect("valid config")
    }

    fn head(pr: i64) -> Head<'static> {
        Head {
            repository: "octo/shop",
            pr,
            installation_id: 1,
            sha: "abc",
            branch: "feature",
            base_ref: "main",
            default_branch: "main",
            actor: None,
        }
    }

    fn names(planned: &[Planned<'_>]) -> Vec<(String, StepState)> {
        planned
            .iter()
            .map(|p| (p.step.name.as_str().to_owned(), p.state))
            .collect()
    }

    #[test]
    fn a_new_head_runs_steps_before_deploy_and_holds_the_others_for_the_preview() {
        let config = config();
        let planned = plan(
            &config,
            &head(7),
            Selection::All,
            &AfterDeploy::Wait,
            &[],
            Mode::Ensure,
        );
        assert_eq!(
            names(&planned),
            vec![
                ("unit".to_owned(), StepState::Due),
                ("functional".to_owned(), StepState::Waiting)
            ]
        );
    }

    #[test]
    fn without_a_preview_after_deploy_steps_are_skipped_with_the_reason() {
        let config = config();
        let planned = plan(
            &config,
            &head(7),
            Selection::All,
            &AfterDeploy::Skip("this pull request gets no preview"),
            &[],
            Mode::Ensure,
        );
        assert_eq!(
            planned[1].settled,
            Some((StepConclusion::Skipped, "this pull request gets no preview"))
        );
        assert_eq!(planned[1].state, StepState::Reporting);
    }

    #[test]
    fn a_branch_run_has_only_the_steps_before_deploy() {
        let config = config();
        let planned = plan(
            &config,
            &head(0),
            Selection::All,
            &AfterDeploy::Skip("branch"),
            &[],
            Mode::Ensure,
        );
        assert_eq!(names(&planned), vec![("unit".to_owned(), StepState::Due)]);
    }

    #[test]
    fn retest_of_one_step_adds_an_attempt_and_ensure_adds_nothing_twice() {
        let config = config();
        let existing = vec![PipelineStep {
            step: "unit".to_owned(),
            ..PipelineStep::default()
        }];
        let ensured = plan(
            &config,
            &head(7),
            Selection::All,
            &AfterDeploy::Wait,
            &existing,
            Mode::Ensure,
        );
        assert_eq!(names(&ensured).len(), 1, "only functional is new");
        let again = plan(
            &config,
            &head(7),
            Selection::Only("unit"),
            &AfterDeploy::Wait,
            &existing,
            Mode::Again,
        );
        assert_eq!(names(&again), vec![("unit".to_owned(), StepState::Due)]);
    }
}
