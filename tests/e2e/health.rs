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
    assert_eq!(gitferry.get("/readyz").await, (200, "ready\n".into()));

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
