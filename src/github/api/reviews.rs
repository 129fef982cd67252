//! Pull request reviews: who approved what.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::time;
use crate::github::{GithubError, InstallationClient};

/// A review as `GET /repos/{repo}/pulls/{number}/reviews` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "ReviewAnswer")]
pub struct Review {
    pub id: u64,
    /// `None` for a deleted account (GitHub shows `null`).
    pub user: Option<String>,
    /// The reviewer is an app (`type: Bot`): a bot's approval is nobody's judgement.
    pub bot: bool,
    pub state: ReviewState,
    /// The head the reviewer saw. An approval counts for that commit only: a push after it
    /// is unreviewed code, so the merge queue compares this with the sha it merges.
    pub commit_id: Option<String>,
    /// `None` while the review is pending.
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewState {
    Approved,
    ChangesRequested,
    Commented,
    Dismissed,
    Pending,
    /// A state GitHub added after this was written.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct ReviewAnswer {
    id: u64,
    user: Option<Login>,
    state: ReviewState,
    #[serde(default)]
    commit_id: Option<String>,
    #[serde(default, deserialize_with = "time::optional")]
    submitted_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Login {
    login: String,
    #[serde(rename = "type", default)]
    kind: String,
}

impl From<ReviewAnswer> for Review {
    fn from(answer: ReviewAnswer) -> Self {
        Self {
            id: answer.id,
            bot: answer.user.as_ref().is_some_and(|u| u.kind == "Bot"),
            user: answer.user.map(|u| u.login),
            state: answer.state,
            commit_id: answer.commit_id,
            submitted_at: answer.submitted_at,
        }
    }
}

impl Review {
    /// Whether this is an approval of exactly `sha`.
    pub fn approves(&self, sha: &str) -> bool {
        self.state == ReviewState::Approved && self.commit_id.as_deref() == Some(sha)
    }
}

impl InstallationClient {
    /// Every review of pull request `number`, oldest first (all pages).
    pub async fn pull_reviews(&self, repo: &str, number: u64) -> Result<Vec<Review>, GithubError> {
        self.paginate(&format!("/repos/{repo}/pulls/{number}/reviews"), None)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_reviews_and_deleted_users_decode() {
        let review: Review = serde_json::from_value(serde_json::json!({
            "id": 1, "user": null, "state": "PENDING", "commit_id": "abc", "body": "",
        }))
        .unwrap();
        assert_eq!(review.user, None);
        assert_eq!(review.submitted_at, None);
        assert!(!review.approves("abc"));
        let review: Review = serde_json::from_value(serde_json::json!({
            "id": 2, "user": { "login": "alice" }, "state": "APPROVED", "commit_id": "abc",
            "submitted_at": "2024-01-01T00:00:00Z",
        }))
        .unwrap();
        assert!(review.approves("abc"));
        assert!(
            !review.approves("def"),
            "an approval binds to the commit it saw"
        );
    }
}
