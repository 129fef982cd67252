//! Merging: a branch into another (promotion staging → production, the merge queue's test
//! merges) and a pull request through GitHub's merge button.
//!
//! The answers a caller must act on (a conflict, nothing to merge, a head that moved) are
//! outcomes, not errors: they are how these features decide what to do next.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::commits::Commit;
use super::{created, refusal};
use crate::github::{ApiRequest, GithubError, InstallationClient, StatusCode};

/// What `POST /repos/{repo}/merges` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BranchMerge {
    /// 201: a new merge commit on the base branch, which now points to it.
    Merged(Commit),
    /// 204: the base already contains the head. After a retry this can also mean that our own
    /// first attempt merged and its answer was lost.
    NothingToMerge,
    /// 409: the branches conflict; the base was not touched.
    Conflict { message: String },
}

/// How GitHub combines a pull request into its base.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeMethod {
    Merge,
    Squash,
    Rebase,
}

/// `PUT /repos/{repo}/pulls/{number}/merge`'s body.
#[derive(Clone, Debug, Serialize)]
pub struct PullMerge<'a> {
    /// The head the caller's decision was about (approvals, checks): GitHub refuses with 409
    /// when the pull request moved since, so nothing unreviewed is merged. Not optional.
    pub sha: &'a str,
    pub merge_method: MergeMethod,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_message: Option<&'a str>,
}

impl<'a> PullMerge<'a> {
    /// GitHub's default title and message.
    pub fn new(sha: &'a str, merge_method: MergeMethod) -> Self {
        Self {
            sha,
            merge_method,
            commit_title: None,
            commit_message: None,
        }
    }
}

/// What merging a pull request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PullMergeOutcome {
    /// The base branch now points at `sha` (the merge, squash or last rebased commit).
    Merged { sha: String },
    /// 405: GitHub will not merge it (conflicts, a draft, closed, required checks or reviews
    /// missing under branch protection); `message` says which.
    NotMergeable { message: String },
    /// 409: the head is no longer the `sha` the caller checked.
    HeadChanged { message: String },
}

#[derive(Deserialize)]
struct PullMergeAnswer {
    sha: String,
}

impl InstallationClient {
    /// `POST /repos/{repo}/merges`: merges `head` (a branch or a sha) into branch `base` with a
    /// merge commit, never a fast-forward. `None` in dry run. A missing base or head is an
    /// error (404).
    pub async fn merge_branches(
        &self,
        repo: &str,
        base: &str,
        head: &str,
        commit_message: &str,
    ) -> Result<Option<BranchMerge>, GithubError> {
        let request = ApiRequest::post(format!("/repos/{repo}/merges")).with_body(json!({
            "base": base,
            "head": head,
            "commit_message": commit_message,
        }));
        let response = match self.send(request).await {
            Ok(response) => response,
            Err(e) => {
                let (_, message) = refusal(e, &[409], "")?;
                return Ok(Some(BranchMerge::Conflict { message }));
            }
        };
        if response.status == StatusCode::NO_CONTENT {
            return Ok(Some(BranchMerge::NothingToMerge));
        }
        let answer: serde_json::Value = response.json()?;
        Ok(created(self, response.route(), answer)?.map(BranchMerge::Merged))
    }

    /// `PUT /repos/{repo}/pulls/{number}/merge`. `None` in dry run.
    pub async fn merge_pull(
        &self,
        repo: &str,
        number: u64,
        merge: &PullMerge<'_>,
    ) -> Result<Option<PullMergeOutcome>, GithubError> {
        let route = "/repos/{owner}/{repo}/pulls/{number}/merge";
        match self
            .put(&format!("/repos/{repo}/pulls/{number}/merge"), merge)
            .await
        {
            Ok(answer) => Ok(created::<PullMergeAnswer>(self, route, answer)?
                .map(|merged| PullMergeOutcome::Merged { sha: merged.sha })),
            Err(e) => match refusal(e, &[405, 409], "")? {
                (405, message) => Ok(Some(PullMergeOutcome::NotMergeable { message })),
                (_, message) => Ok(Some(PullMergeOutcome::HeadChanged { message })),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merge_body_always_carries_the_sha_guard() {
        let body = serde_json::to_value(PullMerge::new("abc", MergeMethod::Squash)).unwrap();
        assert_eq!(body, json!({ "sha": "abc", "merge_method": "squash" }));
        let body = serde_json::to_value(PullMerge {
            commit_title: Some("Release"),
            ..PullMerge::new("abc", MergeMethod::Merge)
        })
        .unwrap();
        assert_eq!(
            body,
            json!({ "sha": "abc", "merge_method": "merge", "commit_title": "Release" })
        );
    }
}
