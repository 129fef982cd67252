//! The `gitferry/config` check: invalid configs are reported on the commit that makes them,
//! with an annotation on each error's line; the last valid config stays in use.

use gitferry::store::DeliveryState;
use serde_json::json;

use crate::support::db::TestDb;
use crate::support::fake_github::{FakeGitHub, PrSpec, RepoHandle};
use crate::support::gitferry::Gitferry;
use crate::support::payloads;

const VALID: &str = "pipeline:\n  - name: unit\n    run: [make, test]\n";
const INVALID: &str =
    "pipeline:\n  - name: unit\n    run: make test\nmerge_qeue:\n  batch_size: 4\n";

async fn setup() -> (FakeGitHub, TestDb, Gitferry, RepoHandle, u64) {
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    let repo = fake.add_repo(installation, "octocat/shop");
    repo.commit_files("main", &[(".github/gitferry.yml", VALID)], "init");
    let db = TestDb::sqlite();
    let gitferry = Gitferry::start(&db, &fake).await;
    (fake, db, gitferry, repo, installation)
}

async fn push(
    gitferry: &Gitferry,
    repo: &RepoHandle,
    installation: u64,
    before: &str,
    after: &str,
    touched: &[&str],
) {
    let body = payloads::push(repo, installation, before, after, touched);
    let (status, _, id) = gitferry.deliver("push", &body).await;
    assert_eq!(status, 202);
    gitferry.wait_for(&id, DeliveryState::Done).await;
}

/// Commits `content` as the config on `main` and delivers the push; returns the new sha.
async fn push_config(
    gitferry: &Gitferry,
    repo: &RepoHandle,
    installation: u64,
    content: &str,
) -> String {
    let before = repo.branch_sha("main").expect("main");
    let after = repo.commit_files("main", &[(".github/gitferry.yml", content)], "config");
    push(
        gitferry,
        repo,
        installation,
        &before,
        &after,
        &[".github/gitferry.yml"],
    )
    .await;
    after
}

async fn pull_request_opened(gitferry: &Gitferry, repo: &RepoHandle, installation: u64, pr: u64) {
    let body = payloads::pull_request(repo, installation, pr, "opened");
    let (_, _, id) = gitferry.deliver("pull_request", &body).await;
    gitferry.wait_for(&id, DeliveryState::Done).await;
}

#[tokio::test]
async fn an_invalid_config_pushed_to_the_default_branch_fails_its_check_with_line_annotations() {
    let (_fake, _db, gitferry, repo, installation) = setup().await;
    let after = push_config(&gitferry, &repo, installation, INVALID).await;

    let run = repo
        .check_run(&after, "gitferry/config")
        .expect("check run on the pushed commit");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        run.output.title.as_deref(),
        Some("2 errors in the configuration")
    );
    let lines: Vec<(u64, String)> = run
        .output
        .annotations
        .iter()
        .map(|a| {
            (
                a["start_line"].as_u64().expect("line"),
                a["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].0, 3);
    assert!(lines[0].1.contains("[make, test]"), "{lines:?}");
    assert_eq!(lines[1].0, 4);
    assert!(
        lines[1].1.contains("did you mean `merge_queue`?"),
        "{lines:?}"
    );
    assert!(
        run.output
            .annotations
            .iter()
            .all(|a| a["path"] == ".github/gitferry.yml")
    );

    // The bot keeps the last valid config: the stored fallback is still the first file.
    let stored = gitferry
        .store
        .last_valid_config("octocat/shop")
        .await
        .expect("query");
    assert!(stored.is_none() || stored.is_some_and(|s| s.source == VALID));
}

#[tokio::test]
async fn a_valid_config_push_passes_and_becomes_the_fallback() {
    let (_fake, _db, gitferry, repo, installation) = setup().await;
    let newer = format!("{VALID}drift: {{ every: 5m }}\n");
    let after = push_config(&gitferry, &repo, installation, &newer).await;
    let run = repo
        .check_run(&after, "gitferry/config")
        .expect("check run");
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    let stored = gitferry
        .store
        .last_valid_config("octocat/shop")
        .await
        .expect("query")
        .expect("saved");
    assert_eq!(stored.source, newer);

    // A push that does not touch the file is not checked.
    let later = repo.commit_files("main", &[("README.md", "hi")], "docs");
    push(
        &gitferry,
        &repo,
        installation,
        &after,
        &later,
        &["README.md"],
    )
    .await;
    assert!(repo.check_run(&later, "gitferry/config").is_none());
}

#[tokio::test]
async fn a_pull_request_changing_the_config_gets_the_check_on_its_head() {
    let (_fake, _db, gitferry, repo, installation) = setup().await;
    let head = repo.commit_files(
        "feature",
        &[(".github/gitferry.yml", INVALID)],
        "change config",
    );
    let pr = repo.open_pr(PrSpec::new("feature", "main").author("alice"));
    pull_request_opened(&gitferry, &repo, installation, pr).await;
    let run = repo
        .check_run(&head, "gitferry/config")
        .expect("check on the PR head");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.output
            .summary
            .as_deref()
            .unwrap_or("")
            .contains("Fix it before merging")
    );
    // Validated, never used: nothing was stored from the PR (the default branch's config
    // may be, as other features read it).
    let stored = gitferry
        .store
        .last_valid_config("octocat/shop")
        .await
        .expect("query");
    assert!(
        stored.as_ref().is_none_or(|c| c.source == VALID),
        "{stored:?}"
    );

    // A PR that leaves the config alone gets no config check.
    let other = repo.commit_files("docs", &[("README.md", "docs")], "docs");
    let pr2 = repo.open_pr(PrSpec::new("docs", "main").author("alice"));
    pull_request_opened(&gitferry, &repo, installation, pr2).await;
    assert!(repo.check_run(&other, "gitferry/config").is_none());
}

#[tokio::test]
async fn re_run_on_the_config_check_validates_that_commit_again() {
    let (_fake, _db, gitferry, repo, installation) = setup().await;
    let sha = repo.branch_sha("main").expect("main");
    let mut payload: serde_json::Value = serde_json::from_slice(
        &crate::support::gitferry::fixture("check_run", "rerequested.payload.json"),
    )
    .expect("fixture");
    payload["check_run"]["name"] = json!("gitferry/config");
    payload["check_run"]["head_sha"] = json!(sha);
    payload["check_run"]["external_id"] = json!(format!("config:{sha}"));
    payload["repository"] = repo.repo_json();
    payload["installation"] = json!({ "id": installation });
    let (status, _, id) = gitferry
        .deliver("check_run", &serde_json::to_vec(&payload).expect("json"))
        .await;
    assert_eq!(status, 202);
    gitferry.wait_for(&id, DeliveryState::Done).await;
    let run = repo
        .check_run(&sha, "gitferry/config")
        .expect("check run created by the re-run");
    assert_eq!(run.conclusion.as_deref(), Some("success"));
}
