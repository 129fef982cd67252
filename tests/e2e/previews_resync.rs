//! Lost webhooks: GitHub's state is re-read on a timer (`preview.resync`), so a pull request
//! closed or pushed to without its webhook reaching gitferry is still handled, and an
//! unchanged pull request costs a free `304`.

use gitferry::store::DeliveryState;

use crate::previews::{CONFIG, Scenario, scenario_with};
use crate::support::fake_github::PrSpec;
use crate::support::gitferry::eventually;

async fn resyncing() -> Scenario {
    scenario_with(CONFIG, &[], &["--resync-interval", "200ms"]).await
}

#[tokio::test]
async fn a_pull_request_closed_without_a_webhook_loses_its_preview() {
    let s = resyncing().await;
    let head = s.repo.commit_files("feature", &[("app.txt", "v1")], "work");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;
    s.deployment_state(&head, "success").await;

    s.repo.close_pr(pr); // GitHub's `closed` webhook never arrives.

    s.deployment_state(&head, "inactive").await;
    eventually("the destroy script ran", || async {
        s.calls()
            .iter()
            .any(|call| call.starts_with(&format!("down pr={pr} ")))
            .then_some(())
    })
    .await;
    let caught_up: Vec<_> = s
        .gitferry
        .store
        .list_deliveries(DeliveryState::Done, 100)
        .await
        .expect("deliveries")
        .into_iter()
        .filter(|d| d.delivery_id.starts_with("resync-"))
        .collect();
    assert_eq!(
        caught_up.len(),
        1,
        "one delivery stands for the lost webhook: {caught_up:?}"
    );
    assert_eq!(caught_up[0].action.as_deref(), Some("closed"));
}

#[tokio::test]
async fn a_push_without_a_webhook_is_deployed_and_an_unchanged_pull_request_costs_a_304() {
    let s = resyncing().await;
    let first = s.repo.commit_files("feature", &[("app.txt", "v1")], "work");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;
    s.deployment_state(&first, "success").await;

    let second = s.repo.commit_files("feature", &[("app.txt", "v2")], "more");
    s.deployment_state(&second, "success").await;

    // Nothing changes any more: the re-reads are conditional and answered 304.
    let pull_path = format!("/repos/octocat/shop/pulls/{pr}");
    s.fake.clear_requests();
    eventually("a few more re-reads", || async {
        (s.fake
            .requests()
            .iter()
            .filter(|r| r.path == pull_path)
            .count()
            >= 3)
            .then_some(())
    })
    .await;
    let statuses: Vec<u16> = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.path == pull_path)
        .map(|r| r.status)
        .collect();
    assert!(statuses.iter().all(|status| *status == 304), "{statuses:?}");
    let deployments = s.repo.deployments();
    assert_eq!(
        deployments.iter().filter(|d| d.sha == second).count(),
        1,
        "the caught-up push is deployed once"
    );
}
