//! Git references and commit objects: what promotion, rollback and the merge queue move.
//!
//! Only branches (`refs/heads/…`) are addressed: every feature moves branches, and taking the
//! short name keeps a caller from moving a tag or `refs/pull/…` by mistake.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{created, ref_segments, refusal, segment};
use crate::github::{GithubError, InstallationClient};

/// A reference and the commit it points to.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "RefAnswer")]
pub struct GitRef {
    /// The full name, `refs/heads/main`.
    pub name: String,
    pub sha: String,
}

#[derive(Deserialize)]
struct RefAnswer {
    #[serde(rename = "ref")]
    name: String,
    object: Sha,
}

#[derive(Deserialize)]
struct Sha {
    sha: String,
}

impl From<RefAnswer> for GitRef {
    fn from(answer: RefAnswer) -> Self {
        Self {
            name: answer.name,
            sha: answer.object.sha,
        }
    }
}

/// What creating a branch did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BranchCreation {
    Created(GitRef),
    /// 422 "Reference already exists": a queue branch left from an earlier attempt, or our own
    /// create whose answer was lost and that the transport retried.
    AlreadyExists,
}

/// What a fast-forward did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FastForward {
    Moved(GitRef),
    /// 422 "Update is not a fast forward": the branch has commits the new sha does not
    /// contain (someone pushed meanwhile); the branch was left where it was.
    NotFastForward,
}

/// A commit object as the git data API shows it (with its tree, which building a merge commit
/// needs).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "GitCommitAnswer")]
pub struct GitCommit {
    pub sha: String,
    pub tree_sha: String,
    pub parents: Vec<String>,
    pub message: String,
}

#[derive(Deserialize)]
struct GitCommitAnswer {
    sha: String,
    tree: Sha,
    parents: Vec<Sha>,
    message: String,
}

impl From<GitCommitAnswer> for GitCommit {
    fn from(answer: GitCommitAnswer) -> Self {
        Self {
            sha: answer.sha,
            tree_sha: answer.tree.sha,
            parents: answer.parents.into_iter().map(|p| p.sha).collect(),
            message: answer.message,
        }
    }
}

/// A commit object to create: a merge commit lists the base first, then what is merged.
#[derive(Clone, Debug, Serialize)]
pub struct NewCommit<'a> {
    pub message: &'a str,
    pub tree: &'a str,
    pub parents: &'a [&'a str],
}

const REFS: &str = "/repos/{owner}/{repo}/git/refs";
const REF: &str = "/repos/{owner}/{repo}/git/refs/{ref}";

fn branch_path(repo: &str, branch: &str) -> String {
    format!("/repos/{repo}/git/refs/heads/{}", ref_segments(branch))
}

impl InstallationClient {
    /// `GET /repos/{repo}/git/ref/heads/{branch}`; `None` when there is no such branch (GitHub
    /// answers 404, the same as for a repository the installation cannot see).
    pub async fn branch_ref(
        &self,
        repo: &str,
        branch: &str,
    ) -> Result<Option<GitRef>, GithubError> {
        let path = format!("/repos/{repo}/git/ref/heads/{}", ref_segments(branch));
        match self.get(&path).await {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /repos/{repo}/git/refs`: `branch` at `sha`. `None` in dry run.
    pub async fn create_branch(
        &self,
        repo: &str,
        branch: &str,
        sha: &str,
    ) -> Result<Option<BranchCreation>, GithubError> {
        let body = json!({ "ref": format!("refs/heads/{branch}"), "sha": sha });
        match self.post(&format!("/repos/{repo}/git/refs"), &body).await {
            Ok(answer) => Ok(created(self, REFS, answer)?.map(BranchCreation::Created)),
            Err(e) => refusal(e, &[422], "reference already exists")
                .map(|_| Some(BranchCreation::AlreadyExists)),
        }
    }

    /// `PATCH /repos/{repo}/git/refs/heads/{branch}` without `force`: moves the branch only if
    /// `sha` contains its current commit (promotion, landing a tested merge). `None` in dry
    /// run. A missing branch is an error (422 "Reference does not exist").
    pub async fn fast_forward_branch(
        &self,
        repo: &str,
        branch: &str,
        sha: &str,
    ) -> Result<Option<FastForward>, GithubError> {
        let body = json!({ "sha": sha, "force": false });
        match self.patch(&branch_path(repo, branch), &body).await {
            Ok(answer) => Ok(created(self, REF, answer)?.map(FastForward::Moved)),
            Err(e) => {
                refusal(e, &[422], "not a fast forward").map(|_| Some(FastForward::NotFastForward))
            }
        }
    }

    /// `PATCH /repos/{repo}/git/refs/heads/{branch}` with `force`: points the branch at `sha`
    /// whatever it held (rollback, resetting a queue branch). `None` in dry run.
    pub async fn force_branch(
        &self,
        repo: &str,
        branch: &str,
        sha: &str,
    ) -> Result<Option<GitRef>, GithubError> {
        let body = json!({ "sha": sha, "force": true });
        let answer: Value = self.patch(&branch_path(repo, branch), &body).await?;
        created(self, REF, answer)
    }

    /// `DELETE /repos/{repo}/git/refs/heads/{branch}`. A branch that is already gone counts as
    /// deleted (GitHub answers 422 "Reference does not exist"): the caller wants it gone, and
    /// a retried delete whose first answer was lost must not fail.
    pub async fn delete_branch(&self, repo: &str, branch: &str) -> Result<(), GithubError> {
        match self.delete(&branch_path(repo, branch)).await {
            Ok(()) => Ok(()),
            Err(e) => refusal(e, &[422], "reference does not exist").map(drop),
        }
    }

    /// `GET /repos/{repo}/git/commits/{sha}`.
    pub async fn git_commit(&self, repo: &str, sha: &str) -> Result<GitCommit, GithubError> {
        self.get(&format!("/repos/{repo}/git/commits/{}", segment(sha)))
            .await
    }

    /// `POST /repos/{repo}/git/commits`: a commit object, on no branch until a ref is moved to
    /// it (the merge queue builds its merge commits this way). `None` in dry run.
    pub async fn create_commit(
        &self,
        repo: &str,
        commit: &NewCommit<'_>,
    ) -> Result<Option<GitCommit>, GithubError> {
        let answer: Value = self
            .post(&format!("/repos/{repo}/git/commits"), commit)
            .await?;
        created(self, "/repos/{owner}/{repo}/git/commits", answer)
    }
}
