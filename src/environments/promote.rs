//! `/promote <env>`: opens, or updates, the **one** promotion pull request of a target
//! environment. Its head is a branch gitferry owns, `gitferry/promote/<env>`, pinned to the
//! upstream environment's last verified release (not the upstream branch's moving tip), so the
//! sha that passed upstream is the sha that ships. Its body says what is promoted and what
//! changes since the target's current state. (Approvals and gitferry's merge come next.)

use super::approvals::Policy;
use super::promotion::Settle;
use crate::app::AppContext;
use crate::github::api::BranchCreation;
use crate::github::{InstallationClient, repository_owner, short_sha};
use crate::repo_config::{Deploy, Environment, RepoConfig};
use crate::router::HandlerError;
use crate::store::audit::AuditEntry;
use crate::store::now_ms;
use crate::store::pipeline::PipelineStep;
use crate::store::promotions::Promotion;
use crate::store::releases::Release;

/// The branch a target environment's promotion pull request comes from.
pub fn promotion_branch(environment: &str) -> String {
    format!("gitferry/promote/{environment}")
}

/// At most this many commits are listed in the body.
const CHANGELOG_LINES: usize = 50;

/// What `/promote` did, for the command's answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Promoted {
    Opened {
        number: u64,
        url: String,
        version: String,
    },
    Updated {
        number: u64,
        url: String,
        version: String,
    },
    /// The open promotion pull request proposes that release already.
    Unchanged {
        number: u64,
        url: String,
        version: String,
    },
    /// No branch-bound environment by that name; these are.
    NoSuchEnvironment { known: Vec<String> },
    /// The environment has no `promote_from`.
    NotPromotable,
    /// The upstream environment has no verified release yet.
    NothingVerified { upstream: String },
    /// Asked only to move an open promotion pull request, and none is open.
    NothingOpen,
    /// The target's branch already holds the candidate.
    AlreadyThere { version: String },
    /// gitferry is merging the open promotion right now; it is not moved under it.
    Merging { number: u64, url: String },
}

impl Promoted {
    pub fn reply(&self, environment: &str) -> String {
        match self {
            Self::Opened {
                number,
                url,
                version,
            } => format!(
                "Opened [#{number}]({url}) to promote {version} to **{environment}**; it \
                 merges once approved."
            ),
            Self::Updated {
                number,
                url,
                version,
            } => format!(
                "Updated [#{number}]({url}): it now promotes {version} to **{environment}**. \
                 Approvals given before this need giving again."
            ),
            Self::Unchanged {
                number,
                url,
                version,
            } => format!(
                "[#{number}]({url}) already promotes {version}, the newest verified release, to \
                 **{environment}**."
            ),
            Self::NoSuchEnvironment { known } => format!(
                "There is no branch-bound environment `{environment}`; there are {}.",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::NotPromotable => {
                format!("**{environment}** is not promoted into: its config has no `promote_from`.")
            }
            Self::NothingVerified { upstream } => format!(
                "**{upstream}** has no verified release to promote to **{environment}** yet."
            ),
            Self::NothingOpen => format!("No promotion to **{environment}** is open."),
            Self::AlreadyThere { version } => {
                format!("**{environment}** already runs {version}: nothing to promote.")
            }
            Self::Merging { number, url } => format!(
                "gitferry is merging [#{number}]({url}) into **{environment}** right now; ask \
                 again once its release has started."
            ),
        }
    }
}

/// A release of `upstream` was just verified: the open promotion pull requests of the
/// environments promoted from it move to it (a promotion always proposes the newest verified
/// release; approvals given before the move no longer count). One is opened only for an
/// environment with `auto_promote` that no rollback holds.
pub async fn follow_upstream(
    ctx: &AppContext,
    gh: &InstallationClient,
    config: &RepoConfig,
    upstream: &Release,
) -> Result<(), HandlerError> {
    for (name, env) in &config.environments {
        if env.promote_from.as_deref() != Some(upstream.environment.as_str()) {
            continue;
        }
        let held = ctx
            .store
            .environment_hold(&upstream.repository, name)
            .await?
            .is_some();
        let asked = Asked {
            repository: &upstream.repository,
            environment: name,
            actor: "gitferry",
            delivery_id: &upstream.id,
            only_if_open: !env.auto_promote || held,
            lifts_hold: false,
        };
        promote(ctx, gh, config, &asked).await?;
    }
    Ok(())
}

/// Who asks to promote into which environment.
#[derive(Clone, Copy, Debug)]
pub struct Asked<'a> {
    pub repository: &'a str,
    pub environment: &'a str,
    pub actor: &'a str,
    pub delivery_id: &'a str,
    /// Only move an open promotion pull request; open none.
    pub only_if_open: bool,
    /// A person who may promote asked: a rollback's hold on the environment is lifted.
    pub lifts_hold: bool,
}

pub async fn promote(
    ctx: &AppContext,
    gh: &InstallationClient,
    config: &RepoConfig,
    asked: &Asked<'_>,
) -> Result<Promoted, HandlerError> {
    let Asked {
        repository,
        environment,
        actor,
        delivery_id,
        only_if_open,
        lifts_hold,
    } = *asked;
    let Some(target) = config
        .environments
        .get(environment)
        .filter(|env| env.branch().is_some())
    else {
        return Ok(Promoted::NoSuchEnvironment {
            known: config.branch_environment_names(),
        });
    };
    let (Some(upstream), Some(target_branch)) = (target.promote_from.as_deref(), target.branch())
    else {
        return Ok(Promoted::NotPromotable);
    };
    if lifts_hold && ctx.store.release_hold(repository, environment).await? {
        ctx.store
            .record_audit(&AuditEntry {
                at: now_ms(),
                actor: actor.to_owned(),
                action: "hold".to_owned(),
                repository: repository.to_owned(),
                pr: None,
                environment: Some(environment.to_owned()),
                sha: None,
                outcome: "lifted".to_owned(),
                detail: Some("by /promote".to_owned()),
                delivery_id: Some(delivery_id.to_owned()),
                source_id: Some(format!("hold-lifted:{delivery_id}:{environment}")),
            })
            .await?;
    }
    let Some(candidate) = ctx.store.last_good_release(repository, upstream).await? else {
        return Ok(Promoted::NothingVerified {
            upstream: upstream.to_owned(),
        });
    };
    let target_head = gh.branch_ref(repository, target_branch).await?;
    if target_head.as_ref().is_some_and(|h| h.sha == candidate.sha) {
        return Ok(Promoted::AlreadyThere {
            version: candidate.version(),
        });
    }
    let branch = promotion_branch(environment);
    let existing = gh
        .open_pull_from(repository, &branch, target_branch)
        .await?;
    if existing.is_none() && only_if_open {
        return Ok(Promoted::NothingOpen);
    }
    // Moved by gitferry after a newer upstream release, a promotion is still the one its
    // proposer asked for: their approval must not start counting.
    let stored = ctx.store.promotion(repository, environment).await?;
    let proposer = match (&existing, &stored) {
        (Some(pull), Some(stored)) if stored.pr == pull.number as i64 && actor == "gitferry" => {
            stored.proposed_by.clone()
        }
        _ => actor.to_owned(),
    };
    let proposal = |pr: u64| Promotion {
        repository: repository.to_owned(),
        environment: environment.to_owned(),
        pr: i64::try_from(pr).unwrap_or_default(),
        sha: candidate.sha.clone(),
        candidate_id: candidate.id.clone(),
        proposed_by: proposer.clone(),
        ..Promotion::default()
    };
    // Recorded before the branch moves: a merge in hand must not see its candidate change.
    if let Some(pull) = &existing
        && !ctx
            .store
            .propose_promotion(&proposal(pull.number), now_ms())
            .await?
    {
        return Ok(Promoted::Merging {
            number: pull.number,
            url: pull.html_url.clone(),
        });
    }
    let moved = pin(gh, repository, &branch, &candidate.sha).await?;
    if let (Some(pull), false) = (&existing, moved) {
        settle(ctx, gh, config, &proposal(pull.number), delivery_id).await?;
        return Ok(Promoted::Unchanged {
            number: pull.number,
            url: pull.html_url.clone(),
            version: candidate.version(),
        });
    }
    let (changelog, files) = match &target_head {
        Some(head) => {
            let comparison = gh.compare(repository, &head.sha, &candidate.sha).await?;
            let commits = comparison
                .commits
                .into_iter()
                .map(|c| (c.sha, c.message))
                .collect();
            let files = comparison.files.into_iter().map(|f| f.filename).collect();
            (commits, files)
        }
        None => (Vec::new(), Vec::new()),
    };
    let steps = ctx
        .store
        .pipeline_steps_of(repository, 0, &candidate.branch, &candidate.sha)
        .await?;
    let shas: Vec<String> = changelog.iter().map(|(sha, _)| sha.clone()).collect();
    let pulls = ctx
        .store
        .pulls_released_at(repository, upstream, &shas)
        .await?;
    let title = format!("Promote {} to {environment}", candidate.version());
    let facts = Facts {
        changelog: &changelog,
        pulls: &pulls,
        files: &files,
        manifests: manifests_of(target),
        steps: &results(&steps),
        needs: &needs(target, repository_owner(repository)),
    };
    let body = body(&candidate, environment, &facts);
    let promoted = match existing {
        Some(pull) => {
            gh.update_pull(repository, pull.number, &title, &body)
                .await?;
            Promoted::Updated {
                number: pull.number,
                url: pull.html_url,
                version: candidate.version(),
            }
        }
        None => {
            let Some(pull) = gh
                .create_pull(repository, &branch, target_branch, &title, &body)
                .await?
            else {
                // Dry run: GitHub was not asked.
                return Ok(Promoted::NothingVerified {
                    upstream: upstream.to_owned(),
                });
            };
            ctx.store
                .propose_promotion(&proposal(pull.number), now_ms())
                .await?;
            Promoted::Opened {
                number: pull.number,
                url: pull.html_url,
                version: candidate.version(),
            }
        }
    };
    ctx.store
        .record_audit(&AuditEntry {
            at: now_ms(),
            actor: actor.to_owned(),
            action: "promotion".to_owned(),
            repository: repository.to_owned(),
            pr: match &promoted {
                Promoted::Opened { number, .. } | Promoted::Updated { number, .. } => {
                    i64::try_from(*number).ok()
                }
                _ => None,
            },
            environment: Some(environment.to_owned()),
            sha: Some(candidate.sha.clone()),
            outcome: "proposed".to_owned(),
            detail: Some(format!("{} from {upstream}", candidate.version())),
            delivery_id: Some(delivery_id.to_owned()),
            source_id: Some(format!("promotion:{delivery_id}:{environment}")),
        })
        .await?;
    if let Promoted::Opened { number, .. } | Promoted::Updated { number, .. } = &promoted {
        settle(ctx, gh, config, &proposal(*number), delivery_id).await?;
        // What production would get, and whether it has drifted, on the promotion itself
        // (its `pull_request` webhook may come later, or not at all for an update).
        if let Some(head) = &target_head {
            let at = crate::drift::ask::PullAt {
                repository,
                installation_id: gh.id().stored(),
                pr: i64::try_from(*number).unwrap_or_default(),
                head_sha: &candidate.sha,
                base_ref: target_branch,
                base_sha: &head.sha,
                default_branch: &candidate.default_branch,
                requested_by: Some(actor),
            };
            crate::drift::ask::pull_request(ctx, config, &at).await?;
        }
    }
    Ok(promoted)
}

/// Shows the gate on the promotion's head (and merges it if it is open already).
async fn settle(
    ctx: &AppContext,
    gh: &InstallationClient,
    config: &RepoConfig,
    proposal: &Promotion,
    delivery_id: &str,
) -> Result<(), HandlerError> {
    let Some(promotion) = ctx
        .store
        .promotion(&proposal.repository, &proposal.environment)
        .await?
    else {
        return Ok(());
    };
    Settle {
        ctx,
        gh,
        config,
        promotion: &promotion,
        delivery_id: Some(delivery_id),
    }
    .run()
    .await?;
    Ok(())
}

/// Where the target's manifests live, when it deploys them.
fn manifests_of(target: &Environment) -> Option<&str> {
    match &target.deploy {
        Deploy::Kubernetes(k) => Some(k.manifests.as_str()),
        _ => None,
    }
}

/// Each step's latest attempt on the candidate: `(step, conclusion)`.
fn results(steps: &[PipelineStep]) -> Vec<(String, String)> {
    let mut latest: Vec<(String, String)> = Vec::new();
    for step in steps {
        let conclusion = step
            .conclusion
            .clone()
            .unwrap_or_else(|| step.state.clone());
        match latest.iter_mut().find(|(name, _)| *name == step.step) {
            Some(slot) => slot.1 = conclusion,
            None => latest.push((step.step.clone(), conclusion)),
        }
    }
    latest
}

/// What approvals the target needs, in words.
fn needs(target: &Environment, org: &str) -> String {
    let policy = Policy::of(target);
    let mut text = format!(
        "{} approval{} from {}, by a review or `/approve`, of this exact commit",
        policy.min,
        if policy.min == 1 { "" } else { "s" },
        policy.rule.describe(org)
    );
    if !target.required_checks.is_empty() {
        text.push_str(&format!(
            "; and the required checks {} green on it",
            target
                .required_checks
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    text
}

/// Points the promotion branch at `sha`, creating it if needed; whether it moved.
async fn pin(
    gh: &InstallationClient,
    repository: &str,
    branch: &str,
    sha: &str,
) -> Result<bool, HandlerError> {
    match gh.branch_ref(repository, branch).await? {
        Some(current) if current.sha == sha => Ok(false),
        Some(_) => {
            gh.force_branch(repository, branch, sha).await?;
            Ok(true)
        }
        None => {
            if let Some(BranchCreation::AlreadyExists) =
                gh.create_branch(repository, branch, sha).await?
            {
                gh.force_branch(repository, branch, sha).await?;
            }
            Ok(true)
        }
    }
}

/// What the body says besides the candidate.
pub struct Facts<'a> {
    /// `(sha, message)` of the commits since the target's current state, oldest first.
    pub changelog: &'a [(String, String)],
    /// The pull requests those commits came from (as the upstream's releases recorded them).
    pub pulls: &'a [i64],
    /// The files those commits change.
    pub files: &'a [String],
    /// The target's manifests folder, when it has one.
    pub manifests: Option<&'a str>,
    /// `(step, conclusion)` of the candidate's steps upstream.
    pub steps: &'a [(String, String)],
    /// What approvals it needs, in words.
    pub needs: &'a str,
}

/// The promotion pull request's body (pure).
pub fn body(candidate: &Release, environment: &str, facts: &Facts<'_>) -> String {
    let verified = candidate
        .finished_at
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".to_owned());
    let mut text = format!(
        "Promotes **{}** (`{}`, verified in {} at {verified}) to **{environment}**: the \
         commit that passed there is the commit that ships.\n\n",
        candidate.version(),
        short_sha(&candidate.sha),
        candidate.environment,
    );
    text.push_str(&format!(
        "**Merges when** it has {}. gitferry merges it itself; merging by hand bypasses \
         the approvals and is recorded as such.\n\n",
        facts.needs
    ));
    if !facts.steps.is_empty() {
        text.push_str(&format!("### Tests in {}\n\n", candidate.environment));
        for (step, conclusion) in facts.steps {
            text.push_str(&format!("- `{step}`: {conclusion}\n"));
        }
        text.push('\n');
    }
    let changelog = facts.changelog;
    if changelog.is_empty() {
        text.push_str("### Changes\n\nThe first release of this environment.\n");
    } else {
        text.push_str(&format!(
            "### Changes since {environment}'s current release ({})\n\n",
            changelog.len()
        ));
        for (sha, message) in changelog.iter().rev().take(CHANGELOG_LINES) {
            let first = message.lines().next().unwrap_or_default();
            text.push_str(&format!(
                "- `{}` {}\n",
                short_sha(sha),
                crate::report::markdown::escape(first)
            ));
        }
        if changelog.len() > CHANGELOG_LINES {
            text.push_str(&format!(
                "- … and {} older\n",
                changelog.len() - CHANGELOG_LINES
            ));
        }
        if !facts.pulls.is_empty() {
            let pulls: Vec<String> = facts.pulls.iter().map(|pr| format!("#{pr}")).collect();
            text.push_str(&format!("\nFrom pull requests {}.\n", pulls.join(", ")));
        }
    }
    if let Some(manifests) = facts.manifests {
        let prefix = format!("{}/", manifests.trim_end_matches('/'));
        let touched: Vec<&String> = facts
            .files
            .iter()
            .filter(|f| f.starts_with(&prefix))
            .collect();
        text.push_str(&format!("\n### Manifests changed under `{prefix}`\n\n"));
        if touched.is_empty() {
            text.push_str("None: the same manifests, a new build.\n");
        }
        for file in touched.iter().take(CHANGELOG_LINES) {
            text.push_str(&format!("- `{file}`\n"));
        }
    } else if !facts.files.is_empty() {
        text.push_str(&format!("\n{} files changed.\n", facts.files.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_the_candidate_and_the_changes_newest_first() {
        let candidate = Release {
            environment: "staging".into(),
            seq: 3,
            sha: "abcdef1234".into(),
            finished_at: Some(1_796_680_800_000),
            ..Release::default()
        };
        let changes = vec![
            (
                "1111111aaaa".to_owned(),
                "Add the cart\n\ndetails".to_owned(),
            ),
            ("2222222bbbb".to_owned(), "Fix *the* total".to_owned()),
        ];
        let files = vec!["k8s/app.yaml".to_owned(), "src/main.rs".to_owned()];
        let steps = vec![("unit".to_owned(), "success".to_owned())];
        let facts = Facts {
            changelog: &changes,
            pulls: &[12, 15],
            files: &files,
            manifests: Some("k8s"),
            steps: &steps,
            needs: "1 approval from admin permission",
        };
        let text = body(&candidate, "production", &facts);
        assert!(text.contains("- `unit`: success"), "{text}");
        assert!(text.contains("From pull requests #12, #15."), "{text}");
        assert!(text.contains("- `k8s/app.yaml`"), "{text}");
        assert!(!text.contains("src/main.rs"), "{text}");
        assert!(text.contains("**Merges when** it has 1 approval"), "{text}");
        assert!(
            text.starts_with(
                "Promotes **staging-3** (`abcdef1`, verified in staging at 2026-12-07 22:00 UTC) \
                 to **production**"
            ),
            "{text}"
        );
        let two = text.find("`2222222`").expect("newest");
        let one = text.find("`1111111`").expect("oldest");
        assert!(two < one, "newest first: {text}");
        assert!(!text.contains("*the*"), "escaped: {text}");
        assert!(!text.contains("details"), "first lines only: {text}");
        assert_eq!(
            promotion_branch("production"),
            "gitferry/promote/production"
        );
    }
}
