//! `/promote <env>`: opens, or updates, the **one** promotion pull request of a target
//! environment. Its head is a branch gitferry owns, `gitferry/promote/<env>`, pinned to the
//! upstream environment's last verified release (not the upstream branch's moving tip), so the
//! sha that passed upstream is the sha that ships. Its body says what is promoted and what
//! changes since the target's current state. (Approvals and gitferry's merge come next.)

use crate::app::AppContext;
use crate::github::api::BranchCreation;
use crate::github::{InstallationClient, short_sha};
use crate::repo_config::RepoConfig;
use crate::router::HandlerError;
use crate::store::audit::AuditEntry;
use crate::store::now_ms;
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
        }
    }
}

/// A release of `upstream` was just verified: the open promotion pull requests of the
/// environments promoted from it move to it (a promotion always proposes the newest verified
/// release; approvals given before the move no longer count). None is opened here: that is
/// `/promote`'s (or, later, the config's) call.
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
        let asked = Asked {
            repository: &upstream.repository,
            environment: name,
            actor: "gitferry",
            delivery_id: &upstream.id,
            only_if_open: true,
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
    let moved = pin(gh, repository, &branch, &candidate.sha).await?;
    if let (Some(pull), false) = (&existing, moved) {
        return Ok(Promoted::Unchanged {
            number: pull.number,
            url: pull.html_url.clone(),
            version: candidate.version(),
        });
    }
    let changelog = match &target_head {
        Some(head) => gh
            .compare(repository, &head.sha, &candidate.sha)
            .await?
            .commits
            .into_iter()
            .map(|c| (c.sha, c.message))
            .collect(),
        None => Vec::new(),
    };
    let title = format!("Promote {} to {environment}", candidate.version());
    let body = body(&candidate, environment, &changelog);
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
    Ok(promoted)
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

/// The promotion pull request's body (pure).
pub fn body(candidate: &Release, environment: &str, changelog: &[(String, String)]) -> String {
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
        let text = body(&candidate, "production", &changes);
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
