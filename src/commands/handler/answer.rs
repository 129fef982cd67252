//! Answers on the pull request that a replayed delivery edits instead of repeating.

use crate::github::{GithubError, InstallationClient};
use crate::report::list_comments;

/// Posts `text` on the pull request under a hidden `marker`, or edits the comment a previous
/// attempt posted with that marker: a replayed delivery answers once.
pub async fn answer_once(
    gh: &InstallationClient,
    repo: &str,
    number: u64,
    bot_login: &str,
    marker: &str,
    text: &str,
) -> Result<(), GithubError> {
    let body = format!("{marker}\n{text}");
    let existing = list_comments(gh, repo, number, bot_login)
        .await?
        .into_iter()
        .find(|c| c.author_is_app && c.body.starts_with(marker));
    match existing {
        Some(comment) if comment.body == body => Ok(()),
        Some(comment) => gh.update_issue_comment(repo, comment.id.0, &body).await,
        None => gh
            .create_issue_comment::<serde_json::Value>(repo, number, &body)
            .await
            .map(|_| ()),
    }
}
