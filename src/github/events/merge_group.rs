//! The `merge_group` webhook: GitHub's merge queue asking for checks on a group it built.
//!
//! GitHub creates a branch `gh-readonly-queue/<base>/pr-<number>-<sha>` holding the base plus
//! the queued pull requests, and sends `checks_requested`; required checks must then report on
//! `head_sha` (check runs or statuses, through the usual calls), or the group never merges.
//! `destroyed` says the group is over: merged, invalidated (the base moved or a group ahead
//! failed) or dequeued.

use serde::Deserialize;

use super::{Repository, User};

/// `merge_group.*` (the `X-GitHub-Event: merge_group` body). Repository and sender are the
/// shapes every event shares.
#[derive(Debug, Deserialize)]
pub struct MergeGroupEvent {
    pub action: MergeGroupAction,
    /// Why a group was destroyed; only on `destroyed`.
    #[serde(default)]
    pub reason: Option<MergeGroupReason>,
    pub merge_group: MergeGroup,
    pub repository: Repository,
    #[serde(default)]
    pub installation: Option<MergeGroupInstallation>,
    #[serde(default)]
    pub sender: Option<User>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeGroupAction {
    ChecksRequested,
    Destroyed,
    /// An action GitHub added after this was written: acknowledge and ignore.
    #[serde(other)]
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeGroupReason {
    Merged,
    Invalidated,
    Dequeued,
    #[serde(other)]
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MergeGroupInstallation {
    pub id: u64,
}

/// The group: what to test (`head_sha`) and what it goes onto (`base_sha`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MergeGroup {
    /// The commit the checks must report on.
    pub head_sha: String,
    /// `refs/heads/gh-readonly-queue/<base>/pr-<number>-<sha>`.
    pub head_ref: String,
    pub base_sha: String,
    /// `refs/heads/<base>`.
    pub base_ref: String,
    pub head_commit: HeadCommit,
}

/// The group's head commit as webhooks show commits (`id`, not `sha`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct HeadCommit {
    pub id: String,
    pub tree_id: String,
    pub message: String,
}

/// The pull request whose entry into the queue made this group (the last one in it; groups
/// ahead of it are in `base_sha`'s side of the queue, not named here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedPull {
    pub number: u64,
    /// Its head when it was queued.
    pub head_sha: String,
}

const QUEUE_PREFIX: &str = "refs/heads/gh-readonly-queue/";

impl MergeGroup {
    /// The base branch's short name (`main`), as branch calls take it.
    pub fn base_branch(&self) -> &str {
        self.base_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&self.base_ref)
    }

    /// The queue branch's short name, as branch calls take it.
    pub fn head_branch(&self) -> &str {
        self.head_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&self.head_ref)
    }

    /// The pull request read from `head_ref`; `None` if GitHub's naming is not what it was
    /// when this was written (the caller then looks the group up another way).
    pub fn queued_pull(&self) -> Option<QueuedPull> {
        let rest = self.head_ref.strip_prefix(QUEUE_PREFIX)?;
        let (_base, entry) = rest.rsplit_once('/')?;
        let (number, sha) = entry.strip_prefix("pr-")?.split_once('-')?;
        let is_sha = !sha.is_empty() && sha.bytes().all(|b| b.is_ascii_hexdigit());
        Some(QueuedPull {
            number: number.parse().ok()?,
            head_sha: is_sha.then(|| sha.to_owned())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECKS_REQUESTED: &str = include_str!(
        "../../../tests/fixtures/github/webhooks/merge_group/checks_requested.payload.json"
    );

    #[test]
    fn githubs_checks_requested_payload_decodes() {
        let event: MergeGroupEvent = serde_json::from_str(CHECKS_REQUESTED).unwrap();
        assert_eq!(event.action, MergeGroupAction::ChecksRequested);
        assert_eq!(event.reason, None);
        let group = &event.merge_group;
        assert_eq!(group.head_sha, "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d");
        assert_eq!(group.base_sha, "380387fbc80638b734a49e1be1c4dfec1c01b33c");
        assert_eq!(group.base_branch(), "main");
        assert_eq!(
            group.head_branch(),
            "gh-readonly-queue/main/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64"
        );
        assert_eq!(
            group.head_commit.tree_id,
            "31b122c26a97cf9af023e9ddab94a82c6e77b0ea"
        );
        assert_eq!(
            group.queued_pull(),
            Some(QueuedPull {
                number: 104,
                head_sha: "929f8209d40f77f4abc622a499c93a83babdbe64".into(),
            })
        );
        assert_eq!(event.repository.full_name, "octo-org/octo-repo");
        assert!(event.installation.is_some());
    }

    #[test]
    fn destroyed_groups_say_why_and_unknown_words_do_not_fail() {
        let mut payload: serde_json::Value = serde_json::from_str(CHECKS_REQUESTED).unwrap();
        payload["action"] = "destroyed".into();
        payload["reason"] = "invalidated".into();
        let event: MergeGroupEvent = serde_json::from_value(payload.clone()).unwrap();
        assert_eq!(event.action, MergeGroupAction::Destroyed);
        assert_eq!(event.reason, Some(MergeGroupReason::Invalidated));
        payload["action"] = "reticulated".into();
        payload["reason"] = "splined".into();
        let event: MergeGroupEvent = serde_json::from_value(payload).unwrap();
        assert_eq!(event.action, MergeGroupAction::Other);
        assert_eq!(event.reason, Some(MergeGroupReason::Other));
    }

    #[test]
    fn queue_branches_of_bases_with_slashes_name_their_pull() {
        let group = |head_ref: &str| MergeGroup {
            head_sha: "h".into(),
            head_ref: head_ref.into(),
            base_sha: "b".into(),
            base_ref: "refs/heads/release/1.x".into(),
            head_commit: HeadCommit {
                id: "h".into(),
                tree_id: "t".into(),
                message: "m".into(),
            },
        };
        assert_eq!(
            group("refs/heads/gh-readonly-queue/release/1.x/pr-7-abc123").queued_pull(),
            Some(QueuedPull {
                number: 7,
                head_sha: "abc123".into()
            })
        );
        assert_eq!(
            group("refs/heads/gh-readonly-queue/release/1.x/pr-7-").queued_pull(),
            None
        );
        assert_eq!(
            group("refs/heads/gh-readonly-queue/main/pr-x-abc").queued_pull(),
            None
        );
        assert_eq!(group("refs/heads/feature/pr-7-abc").queued_pull(), None);
        assert_eq!(group("x").base_branch(), "release/1.x");
    }
}
