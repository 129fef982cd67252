//! The promotion gate: whether an open promotion pull request may merge, said on GitHub (the
//! `gitferry/promotion` check run on its head and one status comment on it, edited in place),
//! and gitferry's merge once everything holds:
//!
//! - its head is still the candidate it proposes (gitferry owns the branch; anything else on
//!   it was never verified);
//! - approvals as the target's `approvals` demand ([`super::approvals`]);
//! - the target's `required_checks` are green on the candidate;
//! - no rollback holds the target (an authorised `/promote` lifts the hold).
//!
//! Anything that changes one of these re-settles the promotion: a review, `/approve`, a check
//! or status on the candidate, the branch moving. Merging is claimed in the store, so two
//! processes settling one promotion at once merge it once.

use std::collections::BTreeMap;

use tracing::info;

use super::approvals::{self, Policy, Tally, Vote, VoteKind};
use super::merge::{self, Extra, Landed, Plan};
use super::start::{self, Why};
use crate::app::AppContext;
use crate::commands::lookup::{self, Asker};
use crate::github::api::{ReviewState, StatusState};
use crate::github::events::PullRequest;
use crate::github::{InstallationClient, repository_owner, short_sha};
use crate::repo_config::{Environment, NotifyEvent, RepoConfig};
use crate::report::checks::{CheckStatus, Conclusion};
use crate::report::{CheckRunSpec, upsert_check_run};
use crate::router::HandlerError;
use crate::store::audit::AuditEntry;
use crate::store::now_ms;
use crate::store::promotions::{Hold, Promotion, PromotionState};
use crate::store::releases::{NewRelease, Release, ReleaseCause};

/// The check run on a promotion's head.
pub fn check_name() -> String {
    crate::report::checks::check_name("promotion")
}

/// How long one process may take to merge before another may take over.
const MERGE_LEASE_MS: i64 = 120_000;

/// One required check on the candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckState {
    Passed,
    Pending,
    Failed(String),
    Missing,
}

/// Everything the gate looked at.
#[derive(Clone, Debug)]
pub struct Gate {
    pub tally: Tally,
    /// Who may approve, in words.
    pub approvers: String,
    pub checks: Vec<(String, CheckState)>,
    pub hold: Option<Hold>,
}

impl Gate {
    pub fn open(&self) -> bool {
        self.tally.approved()
            && self.hold.is_none()
            && self.checks.iter().all(|(_, s)| *s == CheckState::Passed)
    }

    /// The gate in words (the check run's summary and the status comment).
    pub fn describe(&self, prefix: &str) -> String {
        let mut text = format!(
            "**Approvals**: {}",
            approvals::describe(&self.tally, &self.approvers)
        );
        if self.tally.missing() > 0 {
            text.push_str(&format!(
                " Approve with a review or `{prefix}approve`; an approval counts for the \
                 commit it saw only."
            ));
        }
        if !self.checks.is_empty() {
            text.push_str("\n\n**Required checks** on the candidate:\n");
            for (name, state) in &self.checks {
                let state = match state {
                    CheckState::Passed => "passed".to_owned(),
                    CheckState::Pending => "pending".to_owned(),
                    CheckState::Failed(how) => format!("**{how}**"),
                    CheckState::Missing => "not reported yet".to_owned(),
                };
                text.push_str(&format!("- `{name}`: {state}\n"));
            }
        }
        if let Some(hold) = &self.hold {
            text.push_str(&format!(
                "\n\n**On hold**: {}. It merges only after someone who may promote comments \
                 `{prefix}promote <environment>` again.",
                hold.reason
            ));
        }
        text
    }

    /// The first thing it waits for, for the check run's title.
    fn waiting_for(&self) -> String {
        if let Some(hold) = &self.hold {
            return format!("On hold: {}", hold.reason);
        }
        if !self.tally.blocking.is_empty() {
            return "Changes requested".to_owned();
        }
        if self.tally.missing() > 0 {
            let n = self.tally.missing();
            return format!(
                "Waiting for {n} more approval{}",
                if n == 1 { "" } else { "s" }
            );
        }
        match self.checks.iter().find(|(_, s)| *s != CheckState::Passed) {
            Some((name, CheckState::Failed(_))) => format!("Required check `{name}` failed"),
            Some((name, _)) => format!("Waiting for the required check `{name}`"),
            None => "Ready to merge".to_owned(),
        }
    }
}

/// What settling did.
#[derive(Clone, Debug)]
pub enum Settled {
    /// Not open any more, or not a promotion gitferry knows.
    Gone,
    /// Its head is not the candidate: someone pushed to gitferry's branch, or it is moving.
    NotTheCandidate {
        head: String,
    },
    Waiting(Gate),
    /// Another process is merging it.
    Busy,
    Merged {
        sha: String,
        version: String,
    },
    /// Not merged, and a person has to act: the words say what.
    Refused(String),
}

/// Where the gate is, and who asks (for the audit log).
pub struct Settle<'a> {
    pub ctx: &'a AppContext,
    pub gh: &'a InstallationClient,
    pub config: &'a RepoConfig,
    pub promotion: &'a Promotion,
    pub delivery_id: Option<&'a str>,
}

impl Settle<'_> {
    fn repo(&self) -> &str {
        &self.promotion.repository
    }

    /// Re-evaluates the promotion, says so on GitHub, and merges it when the gate is open.
    pub async fn run(&self) -> Result<Settled, HandlerError> {
        let p = self.promotion;
        if p.state() != Some(PromotionState::Open) {
            return Ok(Settled::Gone);
        }
        let Some(env) = self.config.environments.get(&p.environment) else {
            return Ok(Settled::Gone);
        };
        let pull: PullRequest = self.gh.pull(self.repo(), p.pr).await?;
        if pull.state != "open" {
            self.ctx
                .store
                .close_promotion(self.repo(), p.pr, now_ms())
                .await?;
            return Ok(Settled::Gone);
        }
        if pull.head.sha != p.sha {
            // Someone pushed to gitferry's branch, or it is moving right now: what it holds
            // was never verified, and nothing merges until it is the candidate again.
            let text = format!(
                "`{}` holds `{}`, which is not the verified release gitferry \
                 proposes (`{}`). Nothing merges while it does; `/promote {}` puts the \
                 candidate back.",
                super::promote::promotion_branch(&p.environment),
                short_sha(&pull.head.sha),
                short_sha(&p.sha),
                p.environment
            );
            let spec = CheckRunSpec::new(
                &check_name(),
                &pull.head.sha,
                &format!("promotion-{}-{}", p.environment, p.pr),
                CheckStatus::Completed(Conclusion::Failure),
                "Not a verified release",
                &text,
            );
            upsert_check_run(self.gh, self.repo(), &spec)
                .await
                .map_err(HandlerError::retry)?;
            return Ok(Settled::NotTheCandidate {
                head: pull.head.sha,
            });
        }
        let gate = self.gate(env).await?;
        if !gate.open() {
            self.say(&gate, CheckStatus::InProgress, &gate.waiting_for(), None)
                .await?;
            return Ok(Settled::Waiting(gate));
        }
        let owner = crate::runs::new_id().map_err(HandlerError::retry)?;
        let now = now_ms();
        if !self
            .ctx
            .store
            .claim_promotion_merge(p, &owner, now + MERGE_LEASE_MS, now)
            .await?
        {
            return Ok(Settled::Busy);
        }
        let merged = self.merge(env, &gate).await;
        let merged_sha = match &merged {
            Ok(Settled::Merged { sha, .. }) => Some(sha.as_str()),
            _ => None,
        };
        self.ctx
            .store
            .finish_promotion_merge(p, &owner, merged_sha, now_ms())
            .await?;
        merged
    }

    /// Reads the approvals, the required checks and the hold.
    async fn gate(&self, env: &Environment) -> Result<Gate, HandlerError> {
        let p = self.promotion;
        let policy = Policy::of(env);
        let votes = self.votes().await?;
        let mut allowed = BTreeMap::new();
        for vote in votes.iter().filter(|v| !v.bot) {
            let key = vote.login.to_ascii_lowercase();
            if allowed.contains_key(&key) {
                continue;
            }
            let asker = Asker {
                repo: self.repo(),
                org: repository_owner(self.repo()),
                login: &vote.login,
                is_pr_author: false,
            };
            let admitted = lookup::admits(self.ctx, self.gh, &asker, &policy.rule).await?;
            allowed.insert(key, admitted);
        }
        let tally = approvals::tally(policy.min, &p.sha, &p.proposed_by, &votes, |login| {
            allowed
                .get(&login.to_ascii_lowercase())
                .copied()
                .unwrap_or(false)
        });
        let checks = self.required_checks(&env.required_checks).await?;
        let hold = self
            .ctx
            .store
            .environment_hold(self.repo(), &p.environment)
            .await?;
        Ok(Gate {
            tally,
            approvers: policy.rule.describe(repository_owner(self.repo())),
            checks,
            hold,
        })
    }

    /// Reviews on GitHub and `/approve`s in the store.
    async fn votes(&self) -> Result<Vec<Vote>, HandlerError> {
        let p = self.promotion;
        let reviews = self.gh.pull_reviews(self.repo(), p.pr as u64).await?;
        let mut votes: Vec<Vote> = reviews
            .into_iter()
            .filter_map(|review| {
                let kind = match review.state {
                    ReviewState::Approved => VoteKind::Approve,
                    ReviewState::ChangesRequested => VoteKind::RequestChanges,
                    ReviewState::Dismissed => VoteKind::Dismissed,
                    _ => return None,
                };
                Some(Vote {
                    login: review.user?,
                    kind,
                    sha: review.commit_id,
                    at: review.submitted_at.map_or(0, |t| t.timestamp_millis()),
                    bot: review.bot,
                })
            })
            .collect();
        let commanded = self
            .ctx
            .store
            .promotion_approvals(self.repo(), p.pr)
            .await?;
        votes.extend(commanded.into_iter().map(|(login, sha, at)| Vote {
            login,
            kind: VoteKind::Approve,
            sha: Some(sha),
            at,
            bot: false,
        }));
        Ok(votes)
    }

    /// Each required check on the candidate: another app's check run, else a commit status.
    async fn required_checks(
        &self,
        names: &[String],
    ) -> Result<Vec<(String, CheckState)>, HandlerError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let sha = &self.promotion.sha;
        let runs = self.gh.check_runs_on(self.repo(), sha).await?;
        let statuses = self.gh.combined_status(self.repo(), sha).await?.statuses;
        Ok(names
            .iter()
            .map(|name| {
                let state = if let Some(run) = runs.iter().find(|r| &r.name == name) {
                    match (run.status.as_str(), run.conclusion.as_deref()) {
                        ("completed", Some("success" | "neutral" | "skipped")) => {
                            CheckState::Passed
                        }
                        ("completed", other) => {
                            CheckState::Failed(other.unwrap_or("failed").to_owned())
                        }
                        _ => CheckState::Pending,
                    }
                } else if let Some(status) = statuses.iter().find(|s| &s.context == name) {
                    match status.state {
                        StatusState::Success => CheckState::Passed,
                        StatusState::Pending => CheckState::Pending,
                        StatusState::Failure | StatusState::Error => {
                            CheckState::Failed(format!("{:?}", status.state).to_lowercase())
                        }
                    }
                } else {
                    CheckState::Missing
                };
                (name.clone(), state)
            })
            .collect())
    }

    /// Lands the candidate on the target branch, holding the merge claim.
    async fn merge(&self, env: &Environment, gate: &Gate) -> Result<Settled, HandlerError> {
        let p = self.promotion;
        let (Some(branch), Some(upstream)) = (env.branch(), env.promote_from.as_deref()) else {
            return Ok(Settled::Gone);
        };
        let Some(head) = self.gh.branch_ref(self.repo(), branch).await? else {
            return Ok(Settled::Refused(format!(
                "**{}**'s branch `{branch}` does not exist; create it first.",
                p.environment
            )));
        };
        let comparison = self.gh.compare(self.repo(), &p.sha, &head.sha).await?;
        let extra: Vec<Extra> = comparison
            .commits
            .iter()
            .map(|c| Extra {
                sha: c.sha.clone(),
                message: c.message.clone(),
            })
            .collect();
        let ours = self.gitferrys_own(&p.environment).await?;
        let plan = merge::plan(comparison.status, &extra, |sha| {
            ours.iter().any(|o| o == sha)
        });
        let candidate = self.ctx.store.release(&p.candidate_id).await?;
        let version = candidate
            .as_ref()
            .map_or_else(|| short_sha(&p.sha).to_owned(), Release::version);
        let approvers = gate.tally.counted.clone();
        let message = format!(
            "Promote {version} ({}) to {}\n\nVerified in {upstream}; approved by {} through \
             gitferry (#{}). This commit's tree is exactly the tree of {}.",
            short_sha(&p.sha),
            p.environment,
            approvers
                .iter()
                .map(|a| format!("@{a}"))
                .collect::<Vec<_>>()
                .join(", "),
            p.pr,
            p.sha
        );
        let landed = match &plan {
            Plan::AlreadyThere => Landed::Moved { sha: p.sha.clone() },
            Plan::Refuse { own } => {
                let text = merge::refusal(&p.environment, upstream, own);
                return self
                    .refuse("Commits on the target never went upstream", text)
                    .await;
            }
            _ => {
                merge::land(
                    self.gh,
                    self.repo(),
                    branch,
                    &head.sha,
                    &p.sha,
                    &plan,
                    &message,
                )
                .await?
            }
        };
        let sha = match landed {
            Landed::Moved { sha } => sha,
            Landed::BranchMoved => {
                let text = format!(
                    "Not merged: `{branch}` moved while gitferry was merging. Nothing changed; \
                     the next approval or `/promote {}` tries again.",
                    p.environment
                );
                return self.refuse("The target branch moved", text).await;
            }
            Landed::Refused { status, message } => {
                let text = merge::what_to_change(branch, status, &message);
                return self.refuse("GitHub refused the merge", text).await;
            }
        };
        self.released(branch, &head.sha, &sha, &version, &approvers, &plan)
            .await?;
        Ok(Settled::Merged { sha, version })
    }

    /// The shas of the commits gitferry itself made on the environment's branch: its
    /// rollbacks, and the promotion commits it made over them.
    async fn gitferrys_own(&self, environment: &str) -> Result<Vec<String>, HandlerError> {
        let releases = self
            .ctx
            .store
            .releases_of(self.repo(), Some(environment), 1_000)
            .await?;
        Ok(releases
            .into_iter()
            .filter(|r| {
                r.cause == ReleaseCause::Rollback.as_str()
                    || (r.cause == ReleaseCause::Promotion.as_str()
                        && r.approvers.as_deref() != Some(super::events::NOT_APPROVED))
            })
            .map(|r| r.sha)
            .collect())
    }

    /// The branch is at `sha`: the release, the audit, the answer, the notification.
    async fn released(
        &self,
        branch: &str,
        before: &str,
        sha: &str,
        version: &str,
        approvers: &[String],
        plan: &Plan,
    ) -> Result<(), HandlerError> {
        let p = self.promotion;
        for approver in approvers {
            self.audit(
                approver,
                "approval",
                "counted",
                format!("{version} into {}", p.environment),
                &format!("approval:{}:{}:{approver}", p.pr, p.sha),
            )
            .await?;
        }
        let how = match plan {
            Plan::FastForward => format!("`{branch}` fast-forwarded to `{}`", short_sha(sha)),
            Plan::TreeCommit => format!(
                "`{}` committed on `{branch}` with exactly the candidate's tree (over \
                 gitferry's own rollback)",
                short_sha(sha)
            ),
            _ => format!("`{branch}` already held `{}`", short_sha(sha)),
        };
        self.audit(
            "gitferry",
            "promotion",
            "merged",
            format!("{version}: {how}"),
            &format!("promotion-merge:{}:{}", p.pr, p.sha),
        )
        .await?;
        let approvers_json = serde_json::to_string(approvers).map_err(HandlerError::retry)?;
        let id = crate::runs::new_id().map_err(HandlerError::retry)?;
        let issued = self.ctx.run_links.issue(&id);
        let actor = approvers.first().map(String::as_str).unwrap_or("gitferry");
        let default_branch = self.default_branch().await?;
        let new = NewRelease {
            id: &id,
            token_hash: &issued.token_hash,
            repository: self.repo(),
            environment: &p.environment,
            sha,
            before_sha: before,
            branch,
            default_branch: &default_branch,
            installation_id: self.gh.id().stored(),
            cause: ReleaseCause::Promotion,
            actor: Some(actor),
            approvers: Some(&approvers_json),
            rollback_of: None,
        };
        let merge_how = format!("gitferry's merge of #{}", p.pr);
        let why = Why {
            outcome: "recorded, approved through gitferry",
            how: &merge_how,
            delivery_id: self.delivery_id,
        };
        let recorded = start::release(self.ctx, self.config, &new, &why).await?;
        let text = format!(
            "Promoted {version} to **{}**: {how}. Approved by {}. The release follows in \
             `gitferry/release/{}`.",
            p.environment,
            approvers
                .iter()
                .map(|a| format!("`@{a}`"))
                .collect::<Vec<_>>()
                .join(", "),
            p.environment
        );
        let check = CheckStatus::Completed(Conclusion::Success);
        self.say_text(check, &format!("Promoted {version}"), &text)
            .await?;
        if let Some(recorded) = recorded {
            let note = format!(
                "{version} promoted to {} by gitferry; approved by {}.",
                p.environment,
                approvers.join(", ")
            );
            super::announce::announce(
                self.ctx,
                self.config,
                NotifyEvent::Promoted,
                &recorded.release,
                "promoted",
                note,
            )
            .await?;
        }
        info!(repository = %self.repo(), environment = %p.environment, %version, sha, "promotion merged");
        Ok(())
    }

    async fn default_branch(&self) -> Result<String, HandlerError> {
        Ok(self
            .ctx
            .store
            .release(&self.promotion.candidate_id)
            .await?
            .map(|r| r.default_branch)
            .unwrap_or_else(|| "main".to_owned()))
    }

    /// Not merged: the check run asks for action, the comment and the audit log say why.
    async fn refuse(&self, title: &str, text: String) -> Result<Settled, HandlerError> {
        let p = self.promotion;
        self.say_text(
            CheckStatus::Completed(Conclusion::ActionRequired),
            title,
            &text,
        )
        .await?;
        self.audit(
            "gitferry",
            "promotion",
            "refused",
            title.to_owned(),
            &format!("promotion-refused:{}:{}:{}", p.pr, p.sha, now_ms()),
        )
        .await?;
        Ok(Settled::Refused(text))
    }

    async fn say(
        &self,
        gate: &Gate,
        status: CheckStatus,
        title: &str,
        extra: Option<&str>,
    ) -> Result<(), HandlerError> {
        let mut text = gate.describe(&self.config.commands.prefix);
        if let Some(extra) = extra {
            text = format!("{extra}\n\n{text}");
        }
        self.say_text(status, title, &text).await
    }

    /// The check run on the candidate and the status comment on the pull request.
    async fn say_text(
        &self,
        status: CheckStatus,
        title: &str,
        text: &str,
    ) -> Result<(), HandlerError> {
        let p = self.promotion;
        let spec = CheckRunSpec::new(
            &check_name(),
            &p.sha,
            &format!("promotion-{}-{}", p.environment, p.pr),
            status,
            title,
            text,
        );
        upsert_check_run(self.gh, self.repo(), &spec)
            .await
            .map_err(HandlerError::retry)?;
        let bot = self.ctx.identity().await?.bot_login();
        let marker = format!("<!-- gitferry:promotion pr={} -->", p.pr);
        let body = format!("### {title}\n\n{text}");
        crate::commands::handler::answer_once(
            self.gh,
            self.repo(),
            p.pr as u64,
            &bot,
            &marker,
            &body,
        )
        .await?;
        Ok(())
    }

    async fn audit(
        &self,
        actor: &str,
        action: &str,
        outcome: &str,
        detail: String,
        source_id: &str,
    ) -> Result<(), HandlerError> {
        let p = self.promotion;
        self.ctx
            .store
            .record_audit(&AuditEntry {
                at: now_ms(),
                actor: actor.to_owned(),
                action: action.to_owned(),
                repository: self.repo().to_owned(),
                pr: Some(p.pr),
                environment: Some(p.environment.clone()),
                sha: Some(p.sha.clone()),
                outcome: outcome.to_owned(),
                detail: Some(detail),
                delivery_id: self.delivery_id.map(str::to_owned),
                source_id: Some(source_id.to_owned()),
            })
            .await?;
        Ok(())
    }
}
