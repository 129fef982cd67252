//! gitferry's merge of an approved promotion, where **what ships is exactly what was
//! verified**:
//!
//! - the target branch is an ancestor of the candidate: it is fast-forwarded to the candidate,
//!   so the deployed sha is the tested sha;
//! - the only commits the target has beyond the candidate's history are gitferry's own
//!   (rollbacks, earlier promotion commits): a commit whose tree is exactly the candidate's,
//!   with the target's head and the candidate as parents. A three-way merge would keep a
//!   rollback's reverts and ship something nobody tested;
//! - the target has commits of its own (a hotfix pushed straight to it): refused, naming
//!   them. They go upstream first, get verified there, and come back with the next promotion.
//!
//! The branch only ever moves forward (no force): if someone pushed meanwhile, nothing moves.

use crate::github::api::{CompareStatus, FastForward, NewCommit};
use crate::github::{GithubError, InstallationClient, short_sha};

/// How the target reaches the candidate (pure, from the comparison).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The target already is the candidate.
    AlreadyThere,
    FastForward,
    /// The target has only gitferry's own commits beyond the candidate's history.
    TreeCommit,
    /// The target has commits of its own: `(sha, first line)`, oldest first.
    Refuse {
        own: Vec<(String, String)>,
    },
}

/// A commit on the target that the candidate's history lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extra {
    pub sha: String,
    pub message: String,
}

/// `status` is the comparison of the candidate (base) with the target (head): `behind` or
/// `identical` means the target is in the candidate's history; `extra` lists what the target
/// has beyond it. `ours` says whether a commit is gitferry's own (a rollback or a promotion
/// commit it made on this environment's branch).
pub fn plan(status: CompareStatus, extra: &[Extra], ours: impl Fn(&str) -> bool) -> Plan {
    match status {
        CompareStatus::Identical => Plan::AlreadyThere,
        CompareStatus::Behind => Plan::FastForward,
        _ => {
            let own: Vec<(String, String)> = extra
                .iter()
                .filter(|c| !ours(&c.sha))
                .map(|c| {
                    let first = c.message.lines().next().unwrap_or_default().to_owned();
                    (c.sha.clone(), first)
                })
                .collect();
            if own.is_empty() {
                Plan::TreeCommit
            } else {
                Plan::Refuse { own }
            }
        }
    }
}

/// What happened to the target branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Landed {
    /// The branch is at `sha` now.
    Moved { sha: String },
    /// Someone pushed to the branch meanwhile: it stayed where it was.
    BranchMoved,
    /// GitHub refused to move it (branch protection, a missing permission): its words.
    Refused { status: u16, message: String },
}

/// Moves `branch` from `head` to the candidate as `plan` says (`FastForward` or
/// `TreeCommit`; any other plan moves nothing).
pub async fn land(
    gh: &InstallationClient,
    repo: &str,
    branch: &str,
    head: &str,
    candidate: &str,
    plan: &Plan,
    message: &str,
) -> Result<Landed, GithubError> {
    let sha = match plan {
        Plan::FastForward => candidate.to_owned(),
        Plan::TreeCommit => {
            let tree = gh.git_commit(repo, candidate).await?.tree_sha;
            let parents = [head, candidate];
            let commit = NewCommit {
                message,
                tree: &tree,
                parents: &parents,
            };
            match gh.create_commit(repo, &commit).await {
                Ok(Some(created)) => created.sha,
                Ok(None) => return Ok(Landed::BranchMoved),
                Err(e) => return refused(e),
            }
        }
        Plan::AlreadyThere | Plan::Refuse { .. } => return Ok(Landed::BranchMoved),
    };
    match gh.fast_forward_branch(repo, branch, &sha).await {
        Ok(Some(FastForward::Moved(_))) => Ok(Landed::Moved { sha }),
        Ok(Some(FastForward::NotFastForward) | None) => Ok(Landed::BranchMoved),
        Err(e) => refused(e),
    }
}

/// A 403 or 422 is GitHub refusing the move (protection, permissions): an answer for the
/// people, not a fault to retry. Anything else is.
fn refused(e: GithubError) -> Result<Landed, GithubError> {
    match e {
        GithubError::Status {
            status: status @ (403 | 422),
            message,
            ..
        } => Ok(Landed::Refused { status, message }),
        other => Err(other),
    }
}

/// What to change when GitHub refused, in words.
pub fn what_to_change(branch: &str, status: u16, message: &str) -> String {
    format!(
        "GitHub refused to move `{branch}` ({status}: {message}). gitferry moves it itself: \
         let the gitferry app push to `{branch}` (Settings → Branches → the rule for \
         `{branch}` → allow the app to bypass or to push), and check the app has `contents: \
         write` on this repository. Then `/approve` again or re-run this check."
    )
}

/// The refusal's words: which commits are only on the target.
pub fn refusal(target: &str, upstream: &str, own: &[(String, String)]) -> String {
    let list = own
        .iter()
        .map(|(sha, line)| {
            format!(
                "- `{}` {}",
                short_sha(sha),
                crate::report::markdown::escape(line)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "Not merged: **{target}**'s branch has commits that never went through **{upstream}**:\n\n\
         {list}\n\nPromoting over them would drop them, merging would ship a state nobody \
         verified. Bring them to **{upstream}** first; the next verified release there \
         carries them here."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extra(sha: &str, message: &str) -> Extra {
        Extra {
            sha: sha.into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_target_in_the_candidates_history_is_fast_forwarded() {
        assert_eq!(
            plan(CompareStatus::Behind, &[], |_| false),
            Plan::FastForward
        );
        assert_eq!(
            plan(CompareStatus::Identical, &[], |_| false),
            Plan::AlreadyThere
        );
    }

    #[test]
    fn only_gitferrys_own_commits_beyond_the_candidate_get_a_tree_exact_commit() {
        let extras = [extra("r1", "Roll production back"), extra("p1", "Promote")];
        assert_eq!(
            plan(CompareStatus::Diverged, &extras, |sha| ["r1", "p1"]
                .contains(&sha)),
            Plan::TreeCommit
        );
    }

    #[test]
    fn a_hotfix_on_the_target_is_refused_by_name() {
        let extras = [
            extra("r1", "Roll production back"),
            extra("h1234567890", "Hotfix the price\n\nbody"),
        ];
        let planned = plan(CompareStatus::Diverged, &extras, |sha| sha == "r1");
        assert_eq!(
            planned,
            Plan::Refuse {
                own: vec![("h1234567890".into(), "Hotfix the price".into())]
            }
        );
        let Plan::Refuse { own } = planned else {
            unreachable!()
        };
        let text = refusal("production", "staging", &own);
        assert!(text.contains("`h123456` Hotfix the price"), "{text}");
        assert!(text.contains("Bring them to **staging** first"), "{text}");
    }
}
