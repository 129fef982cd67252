//! Commits, comparisons and commit statuses: what drift reports, promotion and the merge
//! queue read, and the statuses the queue reports on its merge commits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{created, ref_segments, segment, time};
use crate::github::{GithubError, InstallationClient};

/// A commit as `GET /repos/{repo}/commits/{ref}` (and compare, and the merges API) shows it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "CommitAnswer")]
pub struct Commit {
    pub sha: String,
    pub message: String,
    /// The git author line (`null` in GitHub's schema for malformed commits).
    pub author: Option<GitIdentity>,
    /// The GitHub account the author's email belongs to, when GitHub knows one: the git line
    /// is free text, this is who GitHub vouches for.
    pub author_login: Option<String>,
    /// First parent first: for a merge commit, the branch merged into.
    pub parents: Vec<String>,
    pub tree_sha: String,
}

/// A git author or committer line.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct GitIdentity {
    pub name: String,
    pub email: String,
    #[serde(default, deserialize_with = "time::optional")]
    pub date: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct CommitAnswer {
    sha: String,
    commit: CommitData,
    author: Option<Account>,
    parents: Vec<Sha>,
}

#[derive(Deserialize)]
struct CommitData {
    message: String,
    author: Option<GitIdentity>,
    tree: Sha,
}

#[derive(Deserialize)]
struct Account {
    login: String,
}

#[derive(Deserialize)]
struct Sha {
    sha: String,
}

impl From<CommitAnswer> for Commit {
    fn from(answer: CommitAnswer) -> Self {
        Self {
            sha: answer.sha,
            message: answer.commit.message,
            author: answer.commit.author,
            author_login: answer.author.map(|a| a.login),
            parents: answer.parents.into_iter().map(|p| p.sha).collect(),
            tree_sha: answer.commit.tree.sha,
        }
    }
}

/// How `head` relates to `base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CompareStatus {
    /// Same commit.
    Identical,
    /// `head` has commits `base` lacks, and nothing else: `base` can fast-forward to it.
    Ahead,
    /// `base` has commits `head` lacks, and nothing else.
    Behind,
    /// Both have commits the other lacks: only a merge joins them.
    Diverged,
}

/// `GET /repos/{repo}/compare/{base}...{head}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "ComparisonAnswer")]
pub struct Comparison {
    pub status: CompareStatus,
    /// Commits in `head` that `base` lacks.
    pub ahead_by: u64,
    /// Commits in `base` that `head` lacks.
    pub behind_by: u64,
    /// How many commits `commits` would hold without GitHub's cap (250 in one answer).
    pub total_commits: u64,
    pub merge_base_sha: String,
    /// The commits `head` adds, oldest first (at most 250: see [`Comparison::is_truncated`]).
    pub commits: Vec<Commit>,
    /// Files changed from the merge base to `head` (GitHub lists at most 300).
    pub files: Vec<ChangedFile>,
}

impl Comparison {
    /// Whether GitHub left commits out of `commits` (a report must not present a partial list
    /// as complete).
    pub fn is_truncated(&self) -> bool {
        (self.commits.len() as u64) < self.total_commits
    }
}

#[derive(Deserialize)]
struct ComparisonAnswer {
    status: CompareStatus,
    ahead_by: u64,
    behind_by: u64,
    total_commits: u64,
    merge_base_commit: Sha,
    commits: Vec<Commit>,
    #[serde(default)]
    files: Vec<ChangedFile>,
}

impl From<ComparisonAnswer> for Comparison {
    fn from(answer: ComparisonAnswer) -> Self {
        Self {
            status: answer.status,
            ahead_by: answer.ahead_by,
            behind_by: answer.behind_by,
            total_commits: answer.total_commits,
            merge_base_sha: answer.merge_base_commit.sha,
            commits: answer.commits,
            files: answer.files,
        }
    }
}

/// One file of a comparison.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ChangedFile {
    pub filename: String,
    pub status: FileStatus,
    /// The name before a rename.
    #[serde(default)]
    pub previous_filename: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Removed,
    Modified,
    Renamed,
    Copied,
    Changed,
    Unchanged,
    /// A status GitHub added after this was written.
    #[serde(other)]
    Other,
}

/// A commit status state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusState {
    Error,
    Failure,
    Pending,
    Success,
}

/// A status to set on a commit; the latest one per `context` counts.
#[derive(Clone, Debug, Serialize)]
pub struct NewStatus<'a> {
    pub state: StatusState,
    pub context: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_url: Option<&'a str>,
}

/// A status as GitHub stored it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CommitStatus {
    pub id: u64,
    pub state: StatusState,
    pub context: String,
    pub description: Option<String>,
    pub target_url: Option<String>,
}

/// The combination of the latest status per context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CombinedState {
    /// Some context failed or errored.
    Failure,
    /// Some context is pending, or there is no status at all.
    Pending,
    Success,
}

/// `GET /repos/{repo}/commits/{ref}/status`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CombinedStatus {
    pub state: CombinedState,
    pub sha: String,
    pub total_count: u64,
    /// The latest status of each context (GitHub lists at most 100 here).
    pub statuses: Vec<CommitStatus>,
}

/// GitHub refuses a longer description with 422 ("description is too long (maximum is 140
/// characters)").
const MAX_DESCRIPTION: usize = 140;

/// `text` cut to GitHub's limit, with an ellipsis when something was cut.
fn short_description(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_DESCRIPTION) {
        None => text.into(),
        Some(_) => {
            let kept: String = text.chars().take(MAX_DESCRIPTION - 1).collect();
            format!("{kept}…").into()
        }
    }
}

impl InstallationClient {
    /// `GET /repos/{repo}/commits/{reference}` (a sha, or a branch or tag name). GitHub answers
    /// 422 for a reference it cannot resolve. A branch whose last segment is `status`,
    /// `statuses` or `check-runs` reads as that sub-resource on GitHub: pass a sha where the
    /// name comes from outside.
    pub async fn commit(&self, repo: &str, reference: &str) -> Result<Commit, GithubError> {
        self.get(&format!(
            "/repos/{repo}/commits/{}",
            ref_segments(reference)
        ))
        .await
    }

    /// `GET /repos/{repo}/compare/{base}...{head}` (branches, tags or shas): what `head` has
    /// that `base` lacks, from their merge base. Unrelated histories are a 404.
    pub async fn compare(
        &self,
        repo: &str,
        base: &str,
        head: &str,
    ) -> Result<Comparison, GithubError> {
        let (base, head) = (ref_segments(base), ref_segments(head));
        self.get(&format!("/repos/{repo}/compare/{base}...{head}"))
            .await
    }

    /// `POST /repos/{repo}/statuses/{sha}`. A description beyond GitHub's 140 characters is
    /// shortened rather than refused. `None` in dry run.
    pub async fn create_status(
        &self,
        repo: &str,
        sha: &str,
        status: &NewStatus<'_>,
    ) -> Result<Option<CommitStatus>, GithubError> {
        let description = status.description.map(short_description);
        let body = NewStatus {
            description: description.as_deref(),
            ..status.clone()
        };
        let answer: Value = self
            .post(&format!("/repos/{repo}/statuses/{}", segment(sha)), &body)
            .await?;
        created(self, "/repos/{owner}/{repo}/statuses/{ref}", answer)
    }

    /// `GET /repos/{repo}/commits/{reference}/status`: the latest status per context and
    /// their combination.
    pub async fn combined_status(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<CombinedStatus, GithubError> {
        self.get(&format!(
            "/repos/{repo}/commits/{}/status?per_page=100",
            ref_segments(reference)
        ))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_cut_to_githubs_limit() {
        assert_eq!(short_description("fine"), "fine");
        let exact = "é".repeat(MAX_DESCRIPTION);
        assert_eq!(short_description(&exact), exact);
        let long = short_description(&"é".repeat(MAX_DESCRIPTION + 1)).into_owned();
        assert_eq!(long.chars().count(), MAX_DESCRIPTION);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn a_commit_without_a_github_account_still_decodes() {
        let commit: Commit = serde_json::from_value(serde_json::json!({
            "sha": "b",
            "commit": {
                "message": "m",
                "author": { "name": "A", "email": "a@x", "date": "2024-01-01T00:00:01Z" },
                "tree": { "sha": "t" },
            },
            "author": null,
            "parents": [{ "sha": "a" }],
        }))
        .unwrap();
        assert_eq!(commit.author_login, None);
        assert_eq!(commit.parents, ["a"]);
        assert_eq!(
            commit.author.and_then(|a| a.date).map(|d| d.timestamp()),
            Some(1_704_067_201)
        );
    }
}
