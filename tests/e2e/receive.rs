//! `gitferry receive`: one payload from a file, processed as if delivered.

use crate::support::db::TestDb;
use crate::support::fake_github::FakeGitHub;

async fn receive(
    fake: &FakeGitHub,
    db: &TestDb,
    payload: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    crate::support::sandbox::gitferry_command()
        .args(["receive", "--event", "installation"])
        .arg(payload)
        .args(["--database-url", &db.url, "--github-api-url", &fake.url()])
        .args([
            "--github-app-id",
            &fake.app_id().to_string(),
            "--github-private-key",
            fake.private_key_pem(),
        ])
        .args(extra)
        .env("RUST_LOG", "warn")
        .env("GITFERRY_ENV_FILE", "/nonexistent/.env")
        .output()
        .await
        .expect("run gitferry receive")
}

#[tokio::test]
async fn receive_processes_a_payload_file_and_dry_run_keeps_the_store_untouched() {
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    fake.add_repo(installation, "octocat/shop");
    let dir = tempfile::tempdir().expect("dir");
    let payload = dir.path().join("installation.json");
    std::fs::write(
        &payload,
        crate::installations::created_payload(installation, &[]),
    )
    .expect("write");
    let db = TestDb::sqlite();

    let dry = receive(&fake, &db, &payload, &["--dry-run"]).await;
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout),
        "installation.created: processed\n"
    );
    // Reads went to GitHub (they change nothing) …
    assert_eq!(fake.count("GET", "/installation/repositories"), 1);
    // … but the configured store was not written.
    let store = gitferry::store::Store::connect(&db.url)
        .await
        .expect("store");
    store.migrate().await.expect("migrate");
    assert!(
        store
            .installation(installation as i64)
            .await
            .expect("query")
            .is_none()
    );

    let real = receive(&fake, &db, &payload, &[]).await;
    assert!(
        real.status.success(),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    let stored = store
        .installation_repositories(installation as i64)
        .await
        .expect("query");
    assert_eq!(stored.len(), 1);
}

#[tokio::test]
async fn receive_of_an_unhandled_event_says_so() {
    let fake = FakeGitHub::start().await;
    let db = TestDb::sqlite();
    let payload =
        crate::support::gitferry::fixtures_dir().join("workflow_run/completed.payload.json");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gitferry"))
        .args(["receive", "--event", "workflow_run"])
        .arg(&payload)
        .args(["--database-url", &db.url, "--github-api-url", &fake.url()])
        .env("GITFERRY_ENV_FILE", "/nonexistent/.env")
        .output()
        .expect("run");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "gitferry does not handle workflow_run events: nothing to do\n"
    );
}
