//! Webhook payload shapes more than one feature reads, decoded with only the fields they use
//! (GitHub's payloads are large; unknown fields are ignored).

use serde::Deserialize;

/// `pull_request.*`.
#[derive(Debug, Deserialize)]
pub struct PullRequestEvent {
    pub action: String,
    pub pull_request: PullRequest,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<User>,
}

#[derive(Debug, Deserialize)]
pub struct PullRequest {
    pub number: i64,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub merged: bool,
    pub head: Branch,
    pub base: Branch,
}

impl PullRequest {
    /// Whether the head lives in another repository than `repository` (a deleted fork counts).
    pub fn is_from_fork(&self, repository: &str) -> bool {
        self.head.repo.as_ref().map(|r| r.full_name.as_str()) != Some(repository)
    }
}

#[derive(Debug, Deserialize)]
pub struct Branch {
    pub sha: String,
    #[serde(rename = "ref")]
    pub name: String,
    /// `null` when the fork was deleted.
    pub repo: Option<BranchRepository>,
}

#[derive(Debug, Deserialize)]
pub struct BranchRepository {
    pub full_name: String,
}

#[derive(Debug, Deserialize)]
pub struct Repository {
    pub full_name: String,
    pub default_branch: String,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub login: String,
}
