//! The flow of one head into its environment as a pure function: [`decide`] says what happens
//! next from what the store shows and what just happened; executors carry the actions out.
//!
//! The stages: the steps before the deploy → the deploy → the steps after it → the outcome.
//! A newer head supersedes the runs of the older; a closed pull request cancels all of them; a
//! head whose code needs an approval (a fork's) waits for it; `/retest` adds attempts.

use super::gate::Gate;

/// Where the head's deploy stands, as its environment's record shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deploy {
    /// On its way: queued for a slot, awaiting an approval, or deploying.
    Coming,
    /// Parked until the steps before it are done.
    WaitingForSteps,
    /// This head is deployed.
    Deployed { url: Option<String> },
    /// A step before the deploy did not pass.
    Blocked,
    /// The deploy failed.
    Failed,
    /// This head is not going to be deployed, and why.
    Never(&'static str),
}

/// The head as the store shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// Whether the head's code may run: a fork's waits for a maintainer (approvals bind to
    /// one commit, so a newer push needs one again).
    pub approved: bool,
    /// The steps before the deploy.
    pub gate: Gate,
    pub deploy: Deploy,
    /// The steps after the deploy: whether they verified it.
    pub verification: Gate,
}

/// What just happened to the head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A rollback's head: a commit whose tree is an earlier verified release's, so the steps
    /// before the deploy count as passed (that tree passed them) and only the steps after the
    /// deploy run.
    RolledBack,
    /// A new head. On its way into an environment (a pull request's, a branch-bound
    /// environment's release) it `supersedes` the runs of the older heads; a plain branch
    /// run does not (its runs all finish: they are the base pull requests compare with).
    Pushed { supersedes: bool },
    /// The pull request was closed: nothing of it runs any more.
    Closed,
    /// The environment's worker took the head up to deploy it.
    DeployDue,
    /// One of the head's steps finished.
    StepFinished { before_deploy: bool },
    /// The deploy succeeded.
    Deployed { url: Option<String> },
    /// The head will not be deployed (the deploy failed, or there is nothing to deploy to).
    NotDeployed { reason: String },
    /// `/retest` or a check run's Re-run: a new attempt of every step, or of one.
    Retest { all: bool },
}

/// What the steps after the deploy do when they are created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterDeploy {
    /// The head is deployed: they run now, against this URL.
    Now { url: Option<String> },
    /// They wait for the head's deploy.
    Wait,
    /// They are skipped, and say why.
    Skip(&'static str),
}

/// What to do. The executor in `flow` carries out the step actions; the deploy actions
/// (`WaitForApproval`, `WaitForSteps`, `Deploy`, `Block`) go back to the environment's worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Cancel the runs of the head's older commits.
    CancelOlderRuns,
    /// Cancel every run the pull request still has.
    CancelAllRuns,
    /// Record the steps before the deploy as passed (their tree passed them before).
    PassBeforeSteps(&'static str),
    /// Create the runs the head lacks (replays create nothing).
    EnsureSteps(AfterDeploy),
    /// A new attempt of the selected steps.
    AddAttempts(AfterDeploy),
    WaitForApproval,
    WaitForSteps(Vec<String>),
    Deploy,
    /// Not deployed: these steps before it did not pass.
    Block(Vec<String>),
    /// The deploy may go now: wake its worker.
    WakeDeploy,
    /// The steps after the deploy may run, against this URL.
    StartAfterSteps {
        url: Option<String>,
    },
    /// The steps after the deploy will have nothing to test.
    SkipAfterSteps(String),
    /// Every step after the deploy is done: the deploy is verified (`failed` is empty) or
    /// these steps failed it.
    Conclude {
        failed: Vec<String>,
    },
}

/// What happens next.
pub fn decide(state: &State, event: &Event) -> Vec<Action> {
    match event {
        Event::Pushed { supersedes } => {
            // The new head's runs first: a branch's older runs are found as those of the
            // branch the new runs are on.
            let mut actions = Vec::new();
            if state.approved {
                actions.push(Action::EnsureSteps(after_deploy(&state.deploy)));
            }
            if *supersedes {
                actions.push(Action::CancelOlderRuns);
            }
            actions
        }
        Event::Closed => vec![Action::CancelAllRuns],
        Event::RolledBack => vec![
            Action::PassBeforeSteps("this tree passed it in the release rolled back to"),
            Action::EnsureSteps(AfterDeploy::Wait),
            Action::CancelOlderRuns,
        ],
        Event::DeployDue if !state.approved => vec![Action::WaitForApproval],
        Event::DeployDue => match &state.gate {
            Gate::Open => vec![Action::EnsureSteps(AfterDeploy::Wait), Action::Deploy],
            Gate::Waiting(steps) => vec![
                Action::EnsureSteps(AfterDeploy::Wait),
                Action::WaitForSteps(steps.clone()),
            ],
            Gate::Blocked(steps) => vec![
                Action::Block(steps.clone()),
                Action::SkipAfterSteps(format!(
                    "not run: the preview was not deployed ({})",
                    Gate::blocked_reason(steps)
                )),
            ],
        },
        Event::StepFinished {
            before_deploy: true,
        } => {
            let parked = matches!(state.deploy, Deploy::WaitingForSteps | Deploy::Blocked);
            if parked && state.gate.is_settled() {
                vec![Action::WakeDeploy]
            } else {
                Vec::new()
            }
        }
        Event::StepFinished {
            before_deploy: false,
        } => match (&state.deploy, &state.verification) {
            (Deploy::Deployed { .. }, Gate::Open) => vec![Action::Conclude { failed: vec![] }],
            (Deploy::Deployed { .. }, Gate::Blocked(steps)) => vec![Action::Conclude {
                failed: steps.clone(),
            }],
            _ => Vec::new(),
        },
        Event::Deployed { url } => {
            let mut actions = vec![Action::StartAfterSteps { url: url.clone() }];
            // Nothing runs after the deploy: it is verified as it stands.
            if state.verification == Gate::Open {
                actions.push(Action::Conclude { failed: vec![] });
            }
            actions
        }
        Event::NotDeployed { reason } => vec![Action::SkipAfterSteps(reason.clone())],
        // Running every step again may unblock the deploy: the deploy skips the waiting
        // steps again if it stays blocked.
        Event::Retest { all: true } if state.deploy == Deploy::Blocked => {
            vec![Action::AddAttempts(AfterDeploy::Wait)]
        }
        Event::Retest { .. } => vec![Action::AddAttempts(after_deploy(&state.deploy))],
    }
}

/// What the steps after the deploy do, given where the deploy stands.
fn after_deploy(deploy: &Deploy) -> AfterDeploy {
    match deploy {
        Deploy::Coming | Deploy::WaitingForSteps => AfterDeploy::Wait,
        Deploy::Deployed { url } => AfterDeploy::Now { url: url.clone() },
        Deploy::Blocked | Deploy::Failed => {
            AfterDeploy::Skip("the preview of this head is not deployed")
        }
        Deploy::Never(reason) => AfterDeploy::Skip(reason),
    }
}

#[cfg(test)]
mod tests;
