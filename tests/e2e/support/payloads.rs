//! Webhook payloads for scenarios, shaped as GitHub sends them, from the fake's own state.

use serde_json::{Value, json};

use super::fake_github::RepoHandle;

/// A push of `after` onto `main` whose commit changed `touched`.
pub fn push(
    repo: &RepoHandle,
    installation: u64,
    before: &str,
    after: &str,
    touched: &[&str],
) -> Vec<u8> {
    to_vec(json!({
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "commits": [{ "id": after, "added": [], "modified": touched, "removed": [] }],
        "repository": repo.repo_json(),
        "installation": { "id": installation },
    }))
}

/// `pull_request.<action>` for PR `number` as the fake has it now.
pub fn pull_request(repo: &RepoHandle, installation: u64, number: u64, action: &str) -> Vec<u8> {
    to_vec(json!({
        "action": action,
        "number": number,
        "pull_request": repo.pull_json(number),
        "repository": repo.repo_json(),
        "installation": { "id": installation },
    }))
}

fn to_vec(payload: Value) -> Vec<u8> {
    serde_json::to_vec(&payload).expect("JSON payload")
}
