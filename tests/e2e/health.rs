//! Probes and metrics.

use gitferry::store::DeliveryState;

use crate::support::db::TestDb;
use crate::support::fake_github::FakeGitHub;
use crate::support::gitferry::{Gitferry, fixture};

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    fake.add_repo(installation, "octocat/shop");
    let gitferry = Gitferry::start(&db, &fake).await;

    assert_eq!(gitferry.get("/healthz").await, (200, "ok\n".into()));
    let (status, body) = gitferry.get("/readyz").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("ready\nsandbox: "), "{body}");

    let body = crate::installations::created_payload(installation, &[]);
    let (_, _, id) = gitferry.deliver("installation", &body).await;
    gitferry.wait_for(&id, DeliveryState::Done).await;
    gitferry
        .deliver(
            "workflow_run",
            &fixture("workflow_run", "completed.payload.json"),
        )
        .await;

    let (status, metrics) = gitferry.get("/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "gitferry_deliveries_received_total{event=\"installation\"} 1",
        "gitferry_deliveries_received_total{event=\"workflow_run\"} 1",
        "gitferry_deliveries_processed_total{event=\"installation\"} 1",
        "gitferry_delivery_processing_seconds_count{event=\"installation\"} 1",
        "gitferry_github_api_calls_total{method=\"POST\",route=\"/app/installations/{installation_id}/access_tokens\",status=\"201\"} 1",
        "gitferry_github_api_calls_total{method=\"GET\",route=\"/installation/repositories\",status=\"200\"} 1",
        "gitferry_github_rate_limit_remaining ",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in\n{metrics}");
    }
}

#[tokio::test]
async fn json_logs_carry_the_delivery_id_of_each_delivery() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    let listen = crate::support::gitferry::free_listen_address();
    let child = crate::support::sandbox::gitferry_command()
        .args(["serve", "--listen", &listen, "--database-url", &db.url])
        .args([
            "--github-api-url",
            &fake.url(),
            "--github-app-id",
            &fake.app_id().to_string(),
        ])
        .args(["--github-private-key", fake.private_key_pem()])
        .args(["--github-webhook-secret", crate::support::gitferry::SECRET])
        .env("GITFERRY_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("GITFERRY_ENV_FILE", "/nonexistent/.env")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn gitferry serve");
    crate::support::gitferry::wait_until_healthy(&listen).await;
    let body = crate::installations::created_payload(installation, &[]);
    let id = crate::support::gitferry::delivery_id();
    let signature =
        gitferry::http::signature::sign(crate::support::gitferry::SECRET.as_bytes(), &body);
    let response = reqwest::Client::new()
        .post(format!("http://{listen}/api/github/webhooks"))
        .header("X-GitHub-Event", "installation")
        .header("X-GitHub-Delivery", &id)
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await
        .expect("deliver");
    assert_eq!(response.status().as_u16(), 202);
    let store = gitferry::store::Store::connect(&db.url)
        .await
        .expect("store");
    crate::support::gitferry::eventually("processed", || async {
        let row = store.find_delivery(&id).await.expect("query")?;
        (row.state == "done").then_some(())
    })
    .await;
    crate::support::gitferry::terminate(&child);
    let output = child.wait_with_output().await.expect("exit");
    let logs = String::from_utf8_lossy(&output.stderr);
    let processed = logs
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
        })
        .find(|entry| entry["message"] == "delivery processed")
        .unwrap_or_else(|| panic!("no processed line in\n{logs}"));
    assert_eq!(processed["span"]["delivery_id"], id.as_str());
    assert_eq!(processed["span"]["event"], "installation");
    assert!(
        !logs.contains("BEGIN RSA PRIVATE KEY"),
        "the key was logged"
    );
    assert!(
        !logs.contains(crate::support::gitferry::SECRET),
        "the webhook secret was logged"
    );
}
