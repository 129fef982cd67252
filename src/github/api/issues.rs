//! Issue and pull-request comments, and reactions on them.

use serde::de::DeserializeOwned;
use serde_json::json;

use super::created;
use crate::github::{GithubError, InstallationClient};

/// An issue as gitferry keeps track of it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct IssueRef {
    pub number: u64,
    pub state: String,
    pub html_url: String,
}

impl InstallationClient {
    /// Opens an issue; `None` in dry run (GitHub was not asked).
    pub async fn create_issue(
        &self,
        repo: &str,
        title: &str,
        body: &str,
    ) -> Result<Option<IssueRef>, GithubError> {
        let answer: serde_json::Value = self
            .post(
                &format!("/repos/{repo}/issues"),
                &json!({ "title": title, "body": body }),
            )
            .await?;
        created(self, "/repos/{owner}/{repo}/issues", answer)
    }

    /// Rewrites issue `number`'s body, and closes or reopens it when `state` says so.
    pub async fn update_issue(
        &self,
        repo: &str,
        number: u64,
        body: &str,
        state: Option<&str>,
    ) -> Result<IssueRef, GithubError> {
        let mut change = json!({ "body": body });
        if let Some(state) = state {
            change["state"] = json!(state);
        }
        self.patch(&format!("/repos/{repo}/issues/{number}"), &change)
            .await
    }

    /// Every comment on issue or pull request `number`, oldest first (all pages).
    pub async fn issue_comments<T: DeserializeOwned>(
        &self,
        repo: &str,
        number: u64,
    ) -> Result<Vec<T>, GithubError> {
        self.paginate(&format!("/repos/{repo}/issues/{number}/comments"), None)
            .await
    }

    /// Posts a comment; what GitHub answered, or `None` in dry run (GitHub was not asked).
    pub async fn create_issue_comment<T: DeserializeOwned>(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<Option<T>, GithubError> {
        let route = "/repos/{owner}/{repo}/issues/{number}/comments";
        let answer: serde_json::Value = self
            .post(
                &format!("/repos/{repo}/issues/{number}/comments"),
                &json!({ "body": body }),
            )
            .await?;
        created(self, route, answer)
    }

    /// Replaces comment `id`'s text.
    pub async fn update_issue_comment(
        &self,
        repo: &str,
        id: u64,
        body: &str,
    ) -> Result<(), GithubError> {
        let _: serde_json::Value = self
            .patch(
                &format!("/repos/{repo}/issues/comments/{id}"),
                &json!({ "body": body }),
            )
            .await?;
        Ok(())
    }

    pub async fn delete_issue_comment(&self, repo: &str, id: u64) -> Result<(), GithubError> {
        self.delete(&format!("/repos/{repo}/issues/comments/{id}"))
            .await
    }

    /// Reacts to comment `id` (`eyes`, `+1`, …).
    pub async fn react_to_comment(
        &self,
        repo: &str,
        id: u64,
        content: &str,
    ) -> Result<(), GithubError> {
        let _: serde_json::Value = self
            .post(
                &format!("/repos/{repo}/issues/comments/{id}/reactions"),
                &json!({ "content": content }),
            )
            .await?;
        Ok(())
    }
}
