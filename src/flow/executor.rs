//! Carrying out the flow: each function reads what the store shows of the head, asks
//! [`decide`] what happens next, does the step actions (queue, cancel, release, skip, wake)
//! and returns the deploy action to the environment's worker that asked.

use super::decide::{Action, Deploy, Event, State, decide};
use super::gate::Gate;
use super::steps::{self, Mode, QueueError, Selection};
use super::{AfterDeploy, Head};
use crate::app::AppContext;
use crate::github::short_sha;
use crate::repo_config::RepoConfig;
use crate::router::HandlerError;
use crate::store::StoreError;
use crate::store::now_ms;
use crate::store::pipeline::PipelineStep;
use crate::store::previews::{Preview, PreviewStatus};
use crate::store::releases::{Release, ReleaseState};

/// What the environment's worker does with its head now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    Deploy,
    WaitForApproval,
    WaitForSteps(Vec<String>),
    /// These steps before the deploy did not pass.
    Block(Vec<String>),
}

/// Why the flow could not move on (all passing faults: the caller retries).
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl From<FlowError> for HandlerError {
    fn from(err: FlowError) -> Self {
        HandlerError::retry(err)
    }
}

/// One head's flow, for the feature that tells it what happened.
pub struct Flow<'a> {
    ctx: &'a AppContext,
    head: Head<'a>,
}

/// What carrying out the actions did.
#[derive(Default)]
struct Carried {
    next: Option<Next>,
    created: Vec<PipelineStep>,
}

impl<'a> Flow<'a> {
    pub fn new(ctx: &'a AppContext, head: Head<'a>) -> Self {
        Flow { ctx, head }
    }

    /// A new head: its steps are queued (if its code may run) and, on a pull request, the
    /// older heads' runs stop. `deploy` says whether an environment will deploy it.
    pub async fn pushed(
        &self,
        config: &RepoConfig,
        approved: bool,
        deploy: Deploy,
    ) -> Result<(), FlowError> {
        let deploy_awaits = deploy == Deploy::Coming;
        let state = State {
            approved,
            gate: Gate::Open,
            deploy,
            verification: Gate::Open,
        };
        let event = Event::Pushed {
            // A head a deploy awaits (a pull request's, a release's) replaces the older.
            supersedes: self.head.pr > 0 || deploy_awaits,
        };
        let runs = self.runs().await?;
        self.carry_out(Some(config), Selection::All, &runs, decide(&state, &event))
            .await?;
        Ok(())
    }

    /// A rollback's head (see [`Event::RolledBack`]).
    pub async fn rolled_back(&self, config: &RepoConfig) -> Result<(), FlowError> {
        let state = State {
            approved: true,
            gate: Gate::Open,
            deploy: Deploy::Coming,
            verification: Gate::Open,
        };
        let runs = self.runs().await?;
        self.carry_out(
            Some(config),
            Selection::All,
            &runs,
            decide(&state, &Event::RolledBack),
        )
        .await?;
        Ok(())
    }

    /// The pull request was closed: every run it still has stops.
    pub async fn closed(&self) -> Result<(), FlowError> {
        // What the store shows does not matter to a close.
        let state = State {
            approved: true,
            gate: Gate::Open,
            deploy: Deploy::Coming,
            verification: Gate::Open,
        };
        self.carry_out(None, Selection::All, &[], decide(&state, &Event::Closed))
            .await?;
        Ok(())
    }

    /// The environment's worker is about to deploy the head: may it?
    pub async fn deploy_due(&self, config: &RepoConfig, approved: bool) -> Result<Next, FlowError> {
        let runs = self.runs().await?;
        let state = State {
            approved,
            gate: Gate::of(config, &runs),
            deploy: Deploy::Coming,
            verification: Gate::after_deploy(config, &runs),
        };
        let carried = self
            .carry_out(
                Some(config),
                Selection::All,
                &runs,
                decide(&state, &Event::DeployDue),
            )
            .await?;
        Ok(carried.next.unwrap_or(Next::Deploy))
    }

    /// The worker parked the deploy to wait for steps: if they finished meanwhile (their
    /// wake-up came before it parked), the deploy is made due again rather than left waiting.
    pub async fn parked(&self, config: &RepoConfig) -> Result<(), FlowError> {
        let runs = self.runs().await?;
        let state = State {
            approved: true,
            gate: Gate::of(config, &runs),
            deploy: Deploy::WaitingForSteps,
            verification: Gate::after_deploy(config, &runs),
        };
        let event = Event::StepFinished {
            before_deploy: true,
        };
        self.carry_out(Some(config), Selection::All, &runs, decide(&state, &event))
            .await?;
        Ok(())
    }

    /// One of the head's steps is done (and recorded so): a deploy waiting for it may go.
    pub async fn step_finished(
        &self,
        config: &RepoConfig,
        after_deploy: bool,
    ) -> Result<(), FlowError> {
        let runs = self.runs().await?;
        let state = State {
            approved: true,
            gate: Gate::of(config, &runs),
            deploy: self.deploy().await?,
            verification: Gate::after_deploy(config, &runs),
        };
        let event = Event::StepFinished {
            before_deploy: !after_deploy,
        };
        self.carry_out(Some(config), Selection::All, &runs, decide(&state, &event))
            .await?;
        Ok(())
    }

    /// The head is deployed: the steps after the deploy run against `url` (and with none,
    /// the deploy is verified as it stands).
    pub async fn deployed(&self, config: &RepoConfig, url: Option<&str>) -> Result<(), FlowError> {
        let runs = self.runs().await?;
        let state = State {
            verification: Gate::after_deploy(config, &runs),
            ..self.settled()
        };
        let event = Event::Deployed {
            url: url.map(str::to_owned),
        };
        self.carry_out(Some(config), Selection::All, &runs, decide(&state, &event))
            .await?;
        Ok(())
    }

    /// The head will not be deployed: the steps after the deploy end as skipped, saying why.
    pub async fn not_deployed(&self, reason: &str) -> Result<(), FlowError> {
        let event = Event::NotDeployed {
            reason: reason.to_owned(),
        };
        self.carry_out(None, Selection::All, &[], decide(&self.settled(), &event))
            .await?;
        Ok(())
    }

    /// New attempts of the selected steps (`/retest`, Re-run); returns the runs created.
    pub(super) async fn add_attempts(
        &self,
        config: &RepoConfig,
        selection: Selection<'_>,
    ) -> Result<Vec<PipelineStep>, FlowError> {
        let state = State {
            approved: true,
            gate: Gate::Open,
            deploy: self.deploy().await?,
            verification: Gate::Open,
        };
        let event = Event::Retest {
            all: matches!(selection, Selection::All),
        };
        let carried = self
            .carry_out(Some(config), selection, &[], decide(&state, &event))
            .await?;
        Ok(carried.created)
    }

    /// The state of a deploy that is over (its outcome is the event).
    fn settled(&self) -> State {
        State {
            approved: true,
            gate: Gate::Open,
            deploy: Deploy::Coming,
            verification: Gate::Waiting(Vec::new()),
        }
    }

    async fn runs(&self) -> Result<Vec<PipelineStep>, StoreError> {
        let head = &self.head;
        self.ctx
            .store
            .pipeline_steps_of(head.repository, head.pr, head.branch, head.sha)
            .await
    }

    /// Where the head's deploy stands: a pull request's is its preview's, a branch's is its
    /// release's (if the branch is an environment's).
    async fn deploy(&self) -> Result<Deploy, StoreError> {
        let head = &self.head;
        if head.pr > 0 {
            let preview = self.ctx.store.preview(head.repository, head.pr).await?;
            return Ok(deploy_of(preview.as_ref(), head.sha));
        }
        let release = self
            .ctx
            .store
            .release_at(head.repository, head.branch, head.sha)
            .await?;
        Ok(deploy_of_release(release.as_ref()))
    }

    async fn carry_out(
        &self,
        config: Option<&RepoConfig>,
        selection: Selection<'_>,
        runs: &[PipelineStep],
        actions: Vec<Action>,
    ) -> Result<Carried, FlowError> {
        let (ctx, head) = (self.ctx, &self.head);
        let mut carried = Carried::default();
        let mut wake_pipeline = false;
        // The runs as they stand, with those an earlier action of this list created.
        let mut runs = runs.to_vec();
        for action in actions {
            match action {
                Action::PassBeforeSteps(reason) => {
                    let Some(config) = config else { continue };
                    let planned = steps::plan_passed_before(config, &runs, reason);
                    let after = AfterDeploy::Wait;
                    let created =
                        steps::create(&ctx.store, config, head, &planned, &after, now_ms()).await?;
                    wake_pipeline |= !created.is_empty();
                    runs.extend(created);
                }
                Action::CancelOlderRuns => {
                    let reason = format!("superseded by a newer push ({})", short_sha(head.sha));
                    wake_pipeline |= self.cancel(head.sha, &reason).await?;
                }
                Action::CancelAllRuns => {
                    wake_pipeline |= self.cancel("", "the pull request was closed").await?;
                }
                Action::EnsureSteps(after) => {
                    let Some(config) = config else { continue };
                    let planned =
                        steps::plan(config, head, Selection::All, &after, &runs, Mode::Ensure);
                    let created =
                        steps::create(&ctx.store, config, head, &planned, &after, now_ms()).await?;
                    wake_pipeline |= !created.is_empty();
                }
                Action::AddAttempts(after) => {
                    let Some(config) = config else { continue };
                    let planned = steps::plan(config, head, selection, &after, &[], Mode::Again);
                    carried.created =
                        steps::create(&ctx.store, config, head, &planned, &after, now_ms()).await?;
                    wake_pipeline |= !carried.created.is_empty();
                }
                Action::StartAfterSteps { url } => {
                    let released = ctx
                        .store
                        .release_after_deploy_steps(
                            head.repository,
                            head.pr,
                            head.branch,
                            head.sha,
                            url.as_deref(),
                            now_ms(),
                        )
                        .await?;
                    wake_pipeline |= released > 0;
                }
                Action::SkipAfterSteps(reason) => {
                    let skipped = ctx
                        .store
                        .skip_waiting_steps(
                            head.repository,
                            head.pr,
                            head.branch,
                            head.sha,
                            &reason,
                            now_ms(),
                        )
                        .await?;
                    wake_pipeline |= skipped > 0;
                }
                Action::WakeDeploy if head.pr > 0 => {
                    ctx.store.make_preview_due(head.repository, head.pr).await?;
                    ctx.previews.wake();
                }
                Action::WakeDeploy => {
                    ctx.store
                        .make_release_due(head.repository, head.branch, head.sha, now_ms())
                        .await?;
                    ctx.releases.wake();
                }
                // A preview has no verified state: its steps' check runs say it.
                Action::Conclude { .. } if head.pr > 0 => {}
                Action::Conclude { failed } => {
                    let reason = (!failed.is_empty()).then(|| Gate::blocked_reason(&failed));
                    ctx.store
                        .conclude_release(
                            head.repository,
                            head.branch,
                            head.sha,
                            reason.as_deref(),
                            now_ms(),
                        )
                        .await?;
                    ctx.releases.wake();
                }
                Action::WaitForApproval => carried.next = Some(Next::WaitForApproval),
                Action::WaitForSteps(steps) => carried.next = Some(Next::WaitForSteps(steps)),
                Action::Deploy => carried.next = Some(Next::Deploy),
                Action::Block(steps) => carried.next = Some(Next::Block(steps)),
            }
        }
        if wake_pipeline {
            ctx.pipeline.wake();
        }
        Ok(carried)
    }

    /// Cancels the pull request's runs on commits other than `keep` ("" keeps none); returns
    /// whether the pipeline has something to do about it.
    async fn cancel(&self, keep: &str, reason: &str) -> Result<bool, StoreError> {
        let head = &self.head;
        let running = self
            .ctx
            .store
            .supersede_pipeline_steps(
                head.repository,
                head.pr,
                head.branch,
                keep,
                reason,
                now_ms(),
            )
            .await?;
        self.ctx.pipeline.cancel(&running);
        Ok(true)
    }
}

/// Where a branch head's deploy stands, from its release (pure).
pub fn deploy_of_release(release: Option<&Release>) -> Deploy {
    let Some(release) = release else {
        return Deploy::Never("branch runs have no deploy");
    };
    match release.state() {
        Some(ReleaseState::Queued | ReleaseState::Deploying) => Deploy::Coming,
        Some(ReleaseState::AwaitingSteps) => Deploy::WaitingForSteps,
        Some(ReleaseState::Blocked) => Deploy::Blocked,
        Some(ReleaseState::Failed) => Deploy::Failed,
        Some(ReleaseState::Verifying | ReleaseState::Verified) => Deploy::Deployed {
            url: release.url.clone(),
        },
        Some(ReleaseState::Superseded | ReleaseState::RolledBack) | None => {
            Deploy::Never("this release was superseded")
        }
    }
}

/// Where `sha`'s deploy stands, from its pull request's preview (pure).
pub fn deploy_of(preview: Option<&Preview>, sha: &str) -> Deploy {
    let Some(preview) = preview.filter(|p| p.wants_up() && p.head_sha == sha) else {
        return Deploy::Never("this head has no preview to test");
    };
    match preview.status() {
        PreviewStatus::AwaitingSteps => Deploy::WaitingForSteps,
        PreviewStatus::Blocked => Deploy::Blocked,
        PreviewStatus::Failed => Deploy::Failed,
        PreviewStatus::Ready if preview.deployed_sha.as_deref() == Some(sha) => Deploy::Deployed {
            url: preview.url.clone(),
        },
        _ => Deploy::Coming,
    }
}
