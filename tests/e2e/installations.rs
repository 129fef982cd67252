//! The installations table follows `installation` and `installation_repositories` deliveries,
//! and reads the full repository list back from GitHub as the App (JWT → installation token).

use gitferry::store::DeliveryState;
use serde_json::{Value, json};

use crate::support::db::TestDb;
use crate::support::fake_github::{FakeGitHub, Fault};
use crate::support::gitferry::{Gitferry, fixture};

fn with_installation(mut payload: Value, installation: u64, account: &str) -> Value {
    payload["installation"]["id"] = json!(installation);
    payload["installation"]["account"]["login"] = json!(account);
    payload
}

fn repositories(repos: &[(u64, &str)]) -> Value {
    repos
        .iter()
        .map(|(id, name)| json!({ "id": id, "full_name": name, "name": name.split('/').nth(1) }))
        .collect()
}

/// The real `installation.created` payload, re-pointed at `installation` and `repos`.
pub fn created_payload(installation: u64, repos: &[(u64, &str)]) -> Vec<u8> {
    let payload: Value =
        serde_json::from_slice(&fixture("installation", "created.payload.json")).expect("json");
    let mut payload = with_installation(payload, installation, "octocat");
    payload["repositories"] = repositories(repos);
    serde_json::to_vec(&payload).expect("json")
}

fn action_payload(action: &str, installation: u64) -> Vec<u8> {
    let payload: Value =
        serde_json::from_slice(&fixture("installation", "created.payload.json")).expect("json");
    let mut payload = with_installation(payload, installation, "octocat");
    payload["action"] = json!(action);
    serde_json::to_vec(&payload).expect("json")
}

fn repositories_payload(
    installation: u64,
    added: &[(u64, &str)],
    removed: &[(u64, &str)],
) -> Vec<u8> {
    let payload: Value =
        serde_json::from_slice(&fixture("installation_repositories", "added.payload.json"))
            .expect("json");
    let mut payload = with_installation(payload, installation, "octocat");
    payload["action"] = json!(if removed.is_empty() {
        "added"
    } else {
        "removed"
    });
    payload["repositories_added"] = repositories(added);
    payload["repositories_removed"] = repositories(removed);
    serde_json::to_vec(&payload).expect("json")
}

async fn repo_names(gitferry: &Gitferry, installation: u64) -> Vec<String> {
    gitferry
        .store
        .installation_repositories(installation as i64)
        .await
        .expect("query")
        .into_iter()
        .map(|r| r.full_name)
        .collect()
}

#[tokio::test]
async fn a_new_installation_is_stored_with_every_repository_github_reports() {
    for db in TestDb::all().await {
        let fake = FakeGitHub::start().await;
        let installation = fake.add_installation("octocat");
        let shop = fake.add_repo(installation, "octocat/shop");
        fake.add_repo(installation, "octocat/api");
        let gitferry = Gitferry::start(&db, &fake).await;

        // The payload names only one repository; GitHub's list has both.
        let body = created_payload(installation, &[(shop.id(), "octocat/shop")]);
        let (status, _, id) = gitferry.deliver("installation", &body).await;
        assert_eq!(status, 202);
        gitferry.wait_for(&id, DeliveryState::Done).await;

        assert_eq!(
            repo_names(&gitferry, installation).await,
            ["octocat/api", "octocat/shop"],
            "{}",
            db.dialect
        );
        let row = gitferry
            .store
            .installation(installation as i64)
            .await
            .expect("query")
            .expect("stored");
        assert_eq!(row.account_login, "octocat");
        assert_eq!(fake.tokens_issued(installation), 1);
        gitferry.stop().await;
    }
}

#[tokio::test]
async fn suspend_unsuspend_and_delete_follow_github() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    fake.add_repo(installation, "octocat/shop");
    let gitferry = Gitferry::start(&db, &fake).await;
    let id = installation as i64;

    let (_, _, d) = gitferry
        .deliver("installation", &created_payload(installation, &[]))
        .await;
    gitferry.wait_for(&d, DeliveryState::Done).await;

    let (_, _, d) = gitferry
        .deliver("installation", &action_payload("suspend", installation))
        .await;
    gitferry.wait_for(&d, DeliveryState::Done).await;
    let row = gitferry
        .store
        .installation(id)
        .await
        .expect("query")
        .expect("row");
    assert!(row.suspended_at.is_some());

    let (_, _, d) = gitferry
        .deliver("installation", &action_payload("unsuspend", installation))
        .await;
    gitferry.wait_for(&d, DeliveryState::Done).await;
    let row = gitferry
        .store
        .installation(id)
        .await
        .expect("query")
        .expect("row");
    assert!(row.suspended_at.is_none());

    let (_, _, d) = gitferry
        .deliver("installation", &action_payload("deleted", installation))
        .await;
    gitferry.wait_for(&d, DeliveryState::Done).await;
    assert!(
        gitferry
            .store
            .installation(id)
            .await
            .expect("query")
            .is_none()
    );
    assert!(repo_names(&gitferry, installation).await.is_empty());
}

#[tokio::test]
async fn repositories_added_and_removed_update_the_table() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    let gitferry = Gitferry::start(&db, &fake).await;

    let body = repositories_payload(installation, &[(1, "octocat/a"), (2, "octocat/b")], &[]);
    let (_, _, d) = gitferry.deliver("installation_repositories", &body).await;
    gitferry.wait_for(&d, DeliveryState::Done).await;
    assert_eq!(
        repo_names(&gitferry, installation).await,
        ["octocat/a", "octocat/b"]
    );

    let body = repositories_payload(installation, &[], &[(1, "octocat/a")]);
    let (_, _, d) = gitferry.deliver("installation_repositories", &body).await;
    gitferry.wait_for(&d, DeliveryState::Done).await;
    assert_eq!(repo_names(&gitferry, installation).await, ["octocat/b"]);
}

#[tokio::test]
async fn a_github_outage_is_retried_until_it_passes() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    fake.add_repo(installation, "octocat/shop");
    // More 502s than the client's own attempts: the delivery fails once and comes back.
    fake.fail_next("GET", "/installation/repositories", 5, Fault::Status(502));
    let gitferry = Gitferry::start(&db, &fake).await;

    let (_, _, d) = gitferry
        .deliver("installation", &created_payload(installation, &[]))
        .await;
    let row = gitferry.wait_for(&d, DeliveryState::Done).await;
    assert!(row.attempts >= 2, "attempts: {}", row.attempts);
    assert_eq!(repo_names(&gitferry, installation).await, ["octocat/shop"]);
}
