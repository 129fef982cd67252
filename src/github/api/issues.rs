//! Issue and pull-request comments, and reactions on them.

use serde::de::DeserializeOwned;
use serde_json::json;

use super::created;
use crate::github::{GithubError, InstallationClient};

impl InstallationClient {
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
