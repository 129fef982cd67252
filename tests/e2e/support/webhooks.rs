//! Webhooks as GitHub sends them: a real payload from `tests/fixtures/github/webhooks` with the
//! fake's own state laid over it, so a delivery carries every field GitHub's does (and a
//! handler reading one the fake does not model still finds a real value), while the fields
//! that matter to a scenario (numbers, shas, branches, people) are the fake's.

use serde_json::{Value, json};

use super::fake_github::RepoHandle;
use super::gitferry::fixture;

/// `fixture` (`<event>/<file>`) with `patch` laid over it: objects are merged key by key,
/// anything else (strings, numbers, arrays, `null`) replaces what the fixture had.
pub fn real(event: &str, file: &str, patch: Value) -> Vec<u8> {
    let mut payload: Value =
        serde_json::from_slice(&fixture(event, file)).expect("fixture is JSON");
    overlay(&mut payload, patch);
    serde_json::to_vec(&payload).expect("JSON payload")
}

fn overlay(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                match base.get_mut(&key) {
                    Some(slot) => overlay(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

/// What every delivery about `repo` carries.
fn common(repo: &RepoHandle, installation: u64, sender: &str) -> Value {
    json!({
        "repository": repo.repo_json(),
        "installation": { "id": installation },
        "sender": repo.user_json(sender),
    })
}

/// `pull_request.<action>` for PR `number` as the fake has it now, sent by `sender`.
pub fn pull_request(
    repo: &RepoHandle,
    installation: u64,
    number: u64,
    action: &str,
    sender: &str,
    before: Option<&str>,
) -> Vec<u8> {
    let pull = repo.pull_json(number);
    let mut patch = common(repo, installation, sender);
    patch["action"] = json!(action);
    patch["number"] = json!(number);
    if let Some(before) = before {
        patch["before"] = json!(before);
        patch["after"] = pull["head"]["sha"].clone();
    }
    patch["pull_request"] = pull;
    real("pull_request", "synchronize.payload.json", patch)
}

/// `push` of `branch` from `before` to `after`, by `pusher`.
pub fn push(
    repo: &RepoHandle,
    installation: u64,
    branch: &str,
    before: &str,
    after: &str,
    pusher: &str,
) -> Vec<u8> {
    let commit = repo.commit(after).expect("pushed commit exists");
    let mut patch = common(repo, installation, pusher);
    patch["ref"] = json!(format!("refs/heads/{branch}"));
    patch["before"] = json!(before);
    patch["after"] = json!(after);
    patch["created"] = json!(before.chars().all(|c| c == '0'));
    // The fixture is a tag's deletion: a push of a commit deletes nothing.
    patch["deleted"] = json!(after.chars().all(|c| c == '0'));
    patch["base_ref"] = Value::Null;
    patch["forced"] = json!(false);
    patch["pusher"] =
        json!({ "name": pusher, "email": format!("{pusher}@users.noreply.github.com") });
    let summary = json!({
        "id": after,
        "message": commit.message,
        "added": [],
        "removed": [],
        "modified": [],
    });
    patch["head_commit"] = summary.clone();
    patch["commits"] = json!([summary]);
    real("push", "payload.json", patch)
}

/// `issue_comment.<action>` for comment `id` on issue or PR `number`. `sender` is who acted:
/// the author for `created`, whoever edited for `edited` (`previous` is the body before).
pub fn issue_comment(
    repo: &RepoHandle,
    installation: u64,
    number: u64,
    id: u64,
    action: &str,
    sender: &str,
    previous: Option<&str>,
) -> Vec<u8> {
    let mut patch = common(repo, installation, sender);
    patch["action"] = json!(action);
    patch["issue"] = repo.issue_json(number);
    patch["comment"] = repo.comment_json(id);
    let file = if action == "edited" {
        patch["changes"] = json!({ "body": { "from": previous.unwrap_or_default() } });
        "edited.payload.json"
    } else {
        "created.payload.json"
    };
    real("issue_comment", file, patch)
}

/// `pull_request_review.submitted` for review `id` on PR `number`.
pub fn review_submitted(
    repo: &RepoHandle,
    installation: u64,
    number: u64,
    reviewer: &str,
    state: &str,
    id: u64,
) -> Vec<u8> {
    let pull = repo.pull_json(number);
    let mut patch = common(repo, installation, reviewer);
    patch["action"] = json!("submitted");
    patch["review"] = json!({
        "id": id,
        "user": repo.user_json(reviewer),
        "state": state,
        "commit_id": pull["head"]["sha"],
        "body": null,
    });
    patch["pull_request"] = pull;
    real("pull_request_review", "submitted.payload.json", patch)
}

/// `pull_request_review.dismissed`: `by` dismissed review `id`.
pub fn review_dismissed(
    repo: &RepoHandle,
    installation: u64,
    number: u64,
    by: &str,
    id: u64,
) -> Vec<u8> {
    let pull = repo.pull_json(number);
    let review = repo
        .reviews(number)
        .into_iter()
        .find(|r| r.id == id)
        .expect("the review exists");
    let mut patch = common(repo, installation, by);
    patch["action"] = json!("dismissed");
    patch["review"] = json!({
        "id": id,
        "user": repo.user_json(&review.user),
        "state": "dismissed",
        "commit_id": review.commit_id,
        "body": null,
    });
    patch["pull_request"] = pull;
    real("pull_request_review", "dismissed.payload.json", patch)
}

/// `check_run.<action>` for check run `id`, by `sender`.
pub fn check_run(
    repo: &RepoHandle,
    installation: u64,
    id: u64,
    action: &str,
    sender: &str,
) -> Vec<u8> {
    let mut patch = common(repo, installation, sender);
    patch["action"] = json!(action);
    patch["check_run"] = repo.check_run_json(id);
    let file = match action {
        "rerequested" => "rerequested.payload.json",
        "created" => "created.payload.json",
        _ => "completed.payload.json",
    };
    real("check_run", file, patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_merge_and_everything_else_is_replaced() {
        let mut base = json!({ "a": { "b": 1, "c": [1, 2] }, "d": "x", "e": { "f": 1 } });
        overlay(
            &mut base,
            json!({ "a": { "c": [3], "g": true }, "d": null, "h": 2 }),
        );
        assert_eq!(
            base,
            json!({ "a": { "b": 1, "c": [3], "g": true }, "d": null, "e": { "f": 1 }, "h": 2 })
        );
    }
}
