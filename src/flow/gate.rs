//! The gate before the deploy: "steps before deploy, then the deploy, then `after: deploy`
//! steps", and a failed step stops what depends on it. Pure: it reads the head's step runs.

use crate::repo_config::RepoConfig;
use crate::store::pipeline::{PipelineStep, StepConclusion, StepState};

/// May the head deploy?
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// No step runs before the deploy, or all of them passed.
    Open,
    /// These steps have not finished yet (or have no run yet).
    Waiting(Vec<String>),
    /// These steps did not pass: the deploy (and what tests it) does not happen.
    Blocked(Vec<String>),
}

impl Gate {
    /// The gate from the head's runs: each step before deploy counts by its latest attempt.
    pub fn of(config: &RepoConfig, runs: &[PipelineStep]) -> Gate {
        Self::over(config, runs, false)
    }

    /// The same over the steps after the deploy: whether they verified it (`Open`), failed
    /// it (`Blocked`) or are still at it (`Waiting`).
    pub fn after_deploy(config: &RepoConfig, runs: &[PipelineStep]) -> Gate {
        Self::over(config, runs, true)
    }

    fn over(config: &RepoConfig, runs: &[PipelineStep], after_deploy: bool) -> Gate {
        let mut waiting = Vec::new();
        let mut failed = Vec::new();
        for step in config
            .pipeline
            .iter()
            .filter(|s| s.after.is_some() == after_deploy)
        {
            let name = step.name.as_str();
            let latest = runs
                .iter()
                .filter(|run| run.step == name)
                .max_by_key(|run| run.attempt);
            match latest {
                Some(run) if run.state() == StepState::Done => {
                    if run.conclusion() != Some(StepConclusion::Success) {
                        failed.push(name.to_owned());
                    }
                }
                _ => waiting.push(name.to_owned()),
            }
        }
        if !failed.is_empty() {
            Gate::Blocked(failed)
        } else if !waiting.is_empty() {
            Gate::Waiting(waiting)
        } else {
            Gate::Open
        }
    }

    /// Whether every step before the deploy is done, one way or the other.
    pub fn is_settled(&self) -> bool {
        !matches!(self, Gate::Waiting(_))
    }

    /// Why the head was not deployed, for the PR.
    pub fn blocked_reason(steps: &[String]) -> String {
        // Plain words: the reason is shown escaped, in titles and in Markdown alike.
        match steps {
            [one] => format!("step {one} did not pass"),
            many => format!("steps {} did not pass", many.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RepoConfig {
        crate::repo_config::parse(
            "pipeline:\n  - name: unit\n    run: [make, test]\n  - name: lint\n    run: [make, lint]\n  - name: functional\n    run: [make, e2e]\n    after: deploy\nenvironments:\n  preview:\n    pull_requests: { base: [main] }\n    deploy:\n      provider: command\n      deploy: [sh, deploy.sh]\n      destroy: [sh, destroy.sh]\n",
        )
        .expect("valid config")
    }

    fn run(step: &str, attempt: i64, state: StepState, conclusion: Option<&str>) -> PipelineStep {
        PipelineStep {
            step: step.to_owned(),
            attempt,
            state: state.as_str().to_owned(),
            conclusion: conclusion.map(str::to_owned),
            ..PipelineStep::default()
        }
    }

    #[test]
    fn steps_without_runs_and_running_steps_keep_the_gate_shut() {
        let config = config();
        assert_eq!(
            Gate::of(&config, &[]),
            Gate::Waiting(vec!["unit".into(), "lint".into()])
        );
        let runs = [
            run("unit", 1, StepState::Done, Some("success")),
            run("lint", 1, StepState::Running, None),
        ];
        assert_eq!(Gate::of(&config, &runs), Gate::Waiting(vec!["lint".into()]));
    }

    #[test]
    fn a_failed_step_blocks_and_a_passing_retest_opens() {
        let config = config();
        let mut runs = vec![
            run("unit", 1, StepState::Done, Some("failure")),
            run("lint", 1, StepState::Done, Some("success")),
        ];
        assert_eq!(Gate::of(&config, &runs), Gate::Blocked(vec!["unit".into()]));
        assert!(Gate::of(&config, &runs).is_settled());
        runs.push(run("unit", 2, StepState::Done, Some("success")));
        assert_eq!(Gate::of(&config, &runs), Gate::Open);
    }

    #[test]
    fn after_deploy_steps_do_not_count() {
        let config = config();
        let runs = [
            run("unit", 1, StepState::Done, Some("success")),
            run("lint", 1, StepState::Done, Some("success")),
            run("functional", 1, StepState::Waiting, None),
        ];
        assert_eq!(Gate::of(&config, &runs), Gate::Open);
    }

    #[test]
    fn the_steps_after_the_deploy_verify_it_or_fail_it() {
        let config = config();
        let mut runs = vec![run("functional", 1, StepState::Running, None)];
        assert_eq!(
            Gate::after_deploy(&config, &runs),
            Gate::Waiting(vec!["functional".into()])
        );
        runs.push(run("functional", 2, StepState::Done, Some("failure")));
        assert_eq!(
            Gate::after_deploy(&config, &runs),
            Gate::Blocked(vec!["functional".into()])
        );
        runs.push(run("functional", 3, StepState::Done, Some("success")));
        assert_eq!(Gate::after_deploy(&config, &runs), Gate::Open);
    }

    #[test]
    fn the_reason_names_the_steps() {
        assert_eq!(
            Gate::blocked_reason(&["unit".into()]),
            "step unit did not pass"
        );
        assert_eq!(
            Gate::blocked_reason(&["unit".into(), "lint".into()]),
            "steps unit, lint did not pass"
        );
    }
}
