//! `/rollback <env> [<version|sha>]`: the environment goes back to a verified release, by a
//! commit on its branch whose tree is exactly that release's (parent: the branch's head), so
//! history stays linear and what runs equals the good release. The rollback is a release of
//! its own (cause `rollback`): the steps before the deploy count as passed (that tree passed
//! them), the steps after it verify it again. The releases it returns past are marked
//! `rolled_back`.

use tracing::info;

use crate::app::AppContext;
use crate::flow::{Head, executor::Flow};
use crate::github::api::{FastForward, NewCommit};
use crate::github::{InstallationClient, short_sha};
use crate::repo_config::{NotifyEvent, RepoConfig, RollbackMode};
use crate::router::HandlerError;
use crate::store::audit::AuditEntry;
use crate::store::now_ms;
use crate::store::promotions::Hold;
use crate::store::releases::{NewRelease, Release, ReleaseCause, ReleaseState};

/// What a rollback did, for the command's answer.
#[derive(Debug, PartialEq, Eq)]
pub enum RolledBack {
    /// The branch moved to a commit with `to`'s tree: the rollback release `version` follows.
    Started {
        version: String,
        to: String,
        sha: String,
    },
    /// No branch-bound environment by that name; these are.
    NoSuchEnvironment { known: Vec<String> },
    /// No verified release to go back to.
    NothingToReturnTo,
    /// What was named is not a verified release of the environment; these are.
    NotAGoodRelease {
        named: String,
        candidates: Vec<String>,
    },
    /// The branch already holds that release's tree.
    AlreadyThere { version: String },
    /// The branch moved while the rollback was being made: nothing changed.
    BranchMoved,
}

impl RolledBack {
    /// The answer to whoever asked.
    pub fn reply(&self, environment: &str) -> String {
        match self {
            Self::Started { version, to, sha } => format!(
                "Rolling **{environment}** back to {to}: `{}` has its exact tree and becomes \
                 release {version}; the steps after the deploy check it again.",
                short_sha(sha)
            ),
            Self::NoSuchEnvironment { known } if known.is_empty() => {
                "This repository's config has no branch-bound environment to roll back.".to_owned()
            }
            Self::NoSuchEnvironment { known } => format!(
                "There is no branch-bound environment `{environment}`; there are {}.",
                list(known)
            ),
            Self::NothingToReturnTo => {
                format!("**{environment}** has no earlier verified release to go back to.")
            }
            Self::NotAGoodRelease { named, candidates } if candidates.is_empty() => format!(
                "`{named}` is not a verified release of **{environment}**, and it has none \
                 to go back to."
            ),
            Self::NotAGoodRelease { named, candidates } => format!(
                "`{named}` is not a verified release of **{environment}**. It can go back \
                 to {}.",
                list(candidates)
            ),
            Self::AlreadyThere { version } => {
                format!("**{environment}** already runs the tree of {version}: nothing to do.")
            }
            Self::BranchMoved => format!(
                "**{environment}**'s branch moved while the rollback was made; nothing \
                 changed. Ask again if it is still wanted."
            ),
        }
    }
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a release is named in answers: `staging-3` (`abc1234`).
fn named(release: &Release) -> String {
    format!("{} (`{}`)", release.version(), short_sha(&release.sha))
}

/// The release to return to (pure): the named one (a version or a sha prefix) if it is a
/// verified release of the environment, else the newest verified one before the current.
pub fn target<'r>(
    releases: &'r [Release],
    current_sha: &str,
    named_release: Option<&str>,
) -> Result<&'r Release, RolledBack> {
    let good = || {
        releases
            .iter()
            .filter(|r| r.state() == Some(ReleaseState::Verified))
    };
    match named_release {
        Some(name) => good()
            .find(|r| r.version() == name || r.sha.starts_with(&name.to_ascii_lowercase()))
            .ok_or_else(|| RolledBack::NotAGoodRelease {
                named: name.to_owned(),
                candidates: good().map(named).collect(),
            }),
        None => good()
            .find(|r| r.sha != current_sha)
            .ok_or(RolledBack::NothingToReturnTo),
    }
}

/// `rollback: commit`: a commit on top of `head` with `to`'s tree; its sha once the branch
/// moved to it, `None` if the branch moved meanwhile (or in dry run).
async fn commit_tree(
    gh: &InstallationClient,
    repository: &str,
    branch: &str,
    head: &str,
    tree: &str,
    to: &Release,
    actor: &str,
) -> Result<Option<String>, HandlerError> {
    let message = format!(
        "Roll {} back to {} ({})\n\nRequested by @{actor} through gitferry: this commit's \
         tree is exactly the tree of {}.",
        to.environment,
        to.version(),
        short_sha(&to.sha),
        to.sha
    );
    let parents = [head];
    let commit = NewCommit {
        message: &message,
        tree,
        parents: &parents,
    };
    let Some(created) = gh.create_commit(repository, &commit).await? else {
        return Ok(None);
    };
    match gh
        .fast_forward_branch(repository, branch, &created.sha)
        .await?
    {
        Some(FastForward::Moved(_)) => Ok(Some(created.sha)),
        Some(FastForward::NotFastForward) | None => Ok(None),
    }
}

/// `rollback: reset`: the branch is force-moved back to `sha`.
async fn reset(
    gh: &InstallationClient,
    repository: &str,
    branch: &str,
    sha: &str,
) -> Result<Option<String>, HandlerError> {
    Ok(gh
        .force_branch(repository, branch, sha)
        .await?
        .map(|_| sha.to_owned()))
}

/// Who asks to roll back what.
#[derive(Clone, Copy, Debug)]
pub struct Asked<'a> {
    pub repository: &'a str,
    /// Where the config is read from (and what releases record as such).
    pub default_branch: &'a str,
    pub environment: &'a str,
    /// A version or a sha prefix; `None`: the last good release before the current one.
    pub named: Option<&'a str>,
    pub actor: &'a str,
}

/// Rolls the environment back as `asked`.
pub async fn rollback(
    ctx: &AppContext,
    gh: &InstallationClient,
    config: &RepoConfig,
    asked: &Asked<'_>,
) -> Result<RolledBack, HandlerError> {
    let Asked {
        repository,
        default_branch,
        environment,
        named: named_release,
        actor,
    } = *asked;
    let Some(branch) = config
        .environments
        .get(environment)
        .and_then(|env| env.branch())
    else {
        return Ok(RolledBack::NoSuchEnvironment {
            known: config.branch_environment_names(),
        });
    };
    let Some(head) = gh.branch_ref(repository, branch).await? else {
        return Ok(RolledBack::NothingToReturnTo);
    };
    let releases = ctx
        .store
        .releases_of(repository, Some(environment), 500)
        .await?;
    let to = match target(&releases, &head.sha, named_release) {
        Ok(to) => to,
        Err(answer) => return Ok(answer),
    };
    let tree = gh.git_commit(repository, &to.sha).await?.tree_sha;
    if gh.git_commit(repository, &head.sha).await?.tree_sha == tree {
        return Ok(RolledBack::AlreadyThere {
            version: to.version(),
        });
    }
    let Some(env) = config.environments.get(environment) else {
        return Ok(RolledBack::NoSuchEnvironment {
            known: config.branch_environment_names(),
        });
    };
    let moved = match env.rollback {
        RollbackMode::Commit => {
            commit_tree(gh, repository, branch, &head.sha, &tree, to, actor).await?
        }
        RollbackMode::Reset => reset(gh, repository, branch, &to.sha).await?,
    };
    let Some(sha) = moved else {
        return Ok(RolledBack::BranchMoved);
    };
    let id = crate::runs::new_id().map_err(HandlerError::retry)?;
    let issued = ctx.run_links.issue(&id);
    let new = NewRelease {
        id: &id,
        token_hash: &issued.token_hash,
        repository,
        environment,
        sha: &sha,
        before_sha: &head.sha,
        branch,
        default_branch,
        installation_id: gh.id().stored(),
        cause: ReleaseCause::Rollback,
        actor: Some(actor),
        approvers: None,
        rollback_of: Some(&to.id),
    };
    let now = now_ms();
    // The push GitHub sends for this ref update finds the release recorded already.
    let Some(recorded) = ctx.store.record_release(&new, now).await? else {
        return Ok(RolledBack::BranchMoved);
    };
    ctx.releases.cancel(&recorded.superseded);
    if env.promote_from.is_some() {
        // What was promoted failed: no promotion lands here on its own until someone who may
        // promote says so.
        let hold = Hold {
            reason: format!("rolled back to {} by @{actor}", named(to)),
            set_by: actor.to_owned(),
            since: now,
        };
        ctx.store
            .hold_environment(repository, environment, &hold)
            .await?;
    }
    let rolled_back = ctx
        .store
        .mark_rolled_back(repository, environment, to.seq, recorded.release.seq, now)
        .await?;
    let prs = ctx
        .store
        .roll_back_release_pulls(repository, &rolled_back, now)
        .await?;
    super::where_change::tell(ctx, gh, repository, &prs)
        .await
        .map_err(HandlerError::retry)?;
    ctx.store
        .record_audit(&AuditEntry {
            at: now,
            actor: actor.to_owned(),
            action: "rollback".to_owned(),
            repository: repository.to_owned(),
            pr: None,
            environment: Some(environment.to_owned()),
            sha: Some(sha.clone()),
            outcome: "started".to_owned(),
            detail: Some(format!(
                "to {} as {}",
                named(to),
                recorded.release.version()
            )),
            delivery_id: None,
            source_id: Some(format!("release:{}", recorded.release.id)),
        })
        .await?;
    let flow_head = Head {
        repository,
        pr: 0,
        installation_id: gh.id().stored(),
        sha: &sha,
        branch,
        base_ref: "",
        default_branch,
        actor: Some(actor),
    };
    if !config.pipeline.is_empty() {
        Flow::new(ctx, flow_head).rolled_back(config).await?;
    }
    ctx.releases.wake();
    let text = format!(
        "@{actor} rolled {environment} back to {}; `{}` carries its exact tree.",
        named(to),
        short_sha(&sha)
    );
    super::announce::announce(
        ctx,
        config,
        NotifyEvent::RolledBack,
        &recorded.release,
        "rolls back",
        text,
    )
    .await?;
    info!(
        repository,
        environment,
        to = %to.version(),
        version = %recorded.release.version(),
        "rollback started"
    );
    Ok(RolledBack::Started {
        version: recorded.release.version(),
        to: named(to),
        sha,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(seq: i64, sha: &str, state: ReleaseState) -> Release {
        Release {
            id: format!("r{seq}"),
            environment: "production".into(),
            seq,
            sha: sha.into(),
            state: state.as_str().into(),
            ..Release::default()
        }
    }

    /// Newest first, as the store lists them.
    fn history() -> Vec<Release> {
        vec![
            release(4, "dddd", ReleaseState::Verified),
            release(3, "cccc", ReleaseState::Failed),
            release(2, "bbbb", ReleaseState::Verified),
            release(1, "aaaa", ReleaseState::Verified),
        ]
    }

    #[test]
    fn by_default_it_returns_to_the_last_good_release_before_the_current_one() {
        let releases = history();
        let to = target(&releases, "dddd", None).expect("a target");
        assert_eq!(to.version(), "production-2");
    }

    #[test]
    fn a_named_release_must_have_been_verified_in_this_environment() {
        let releases = history();
        assert_eq!(
            target(&releases, "dddd", Some("production-1")).map(|r| r.seq),
            Ok(1)
        );
        assert_eq!(
            target(&releases, "dddd", Some("AAAA")).map(|r| r.seq),
            Ok(1)
        );
        let refused = target(&releases, "dddd", Some("cccc")).expect_err("it failed");
        assert_eq!(
            refused,
            RolledBack::NotAGoodRelease {
                named: "cccc".into(),
                candidates: vec![
                    "production-4 (`dddd`)".into(),
                    "production-2 (`bbbb`)".into(),
                    "production-1 (`aaaa`)".into()
                ],
            }
        );
        assert!(refused.reply("production").contains("It can go back to"));
        let never = target(&releases, "dddd", Some("1234567")).expect_err("never released");
        assert!(matches!(never, RolledBack::NotAGoodRelease { .. }));
    }

    #[test]
    fn with_no_earlier_good_release_there_is_nothing_to_return_to() {
        let only = vec![release(1, "aaaa", ReleaseState::Verified)];
        assert_eq!(
            target(&only, "aaaa", None).map(|r| r.seq),
            Err(RolledBack::NothingToReturnTo)
        );
    }
}
