//! The scheduled drift sweep: a hand edit in the cluster opens one "Drift in <env>" issue,
//! notifies once, is kept up to date, and the issue closes when the drift is gone.

use serde_json::json;

use crate::drift::released_swept;
use crate::notifications::{Receiver, set_variable};
use crate::support::fake_kube::FakeKube;
use crate::support::gitferry::eventually;
use crate::support::tester::Tester;

const CONFIG: &str = "\
environments:
  staging:
    branch: latest
    deploy: { provider: kubernetes, manifests: deploy/app, namespace: shop-staging }
notify:
  - { on: [drift_detected], webhook: OCTOCAT_SHOP_DRIFT_HOOK }
";

const MANIFESTS: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  \
     replicas: 2\n  selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    \
     spec:\n      containers:\n        - { name: web, image: \"shop:v1\" }\n";

/// As if `drift.every` had passed since each environment's last sweep.
async fn later(t: &Tester) {
    let pool = sqlx::SqlitePool::connect(&t.db.url)
        .await
        .expect("the store");
    sqlx::query("UPDATE drift_checks SET updated_at = 0 WHERE pr = 0")
        .execute(&pool)
        .await
        .expect("time passes");
    pool.close().await;
}

fn drift_issues(t: &Tester) -> Vec<crate::support::fake_github::Issue> {
    t.repo
        .issues()
        .into_iter()
        .filter(|i| i.title == "Drift in staging")
        .collect()
}

#[tokio::test]
async fn a_hand_edit_opens_one_issue_notifies_once_and_the_issue_closes_when_it_is_gone() {
    let (hook, hook_url) = Receiver::start(0).await;
    set_variable("OCTOCAT_SHOP_DRIFT_HOOK", &hook_url);
    let kube = FakeKube::start().await;
    let t = released_swept(&kube, CONFIG, MANIFESTS, "200ms").await;
    let store = &t.gitferry.store;
    let repo = t.repo.full_name();
    eventually("the first sweep to find staging in sync", || async {
        store
            .environment_drift(&repo, "staging")
            .await
            .ok()
            .flatten()
            .filter(|d| d.drifted == 0)
    })
    .await;
    assert!(drift_issues(&t).is_empty(), "no drift, no issue");

    kube.edit(
        "deployments",
        Some("shop-staging"),
        "web",
        "kubectl-edit",
        |o| {
            o["spec"]["replicas"] = json!(5);
            o["spec"]["template"]["spec"]["containers"][0]["image"] = json!("shop:hotpatched");
        },
    );
    later(&t).await;
    let issue = eventually("the drift issue", || async {
        drift_issues(&t).into_iter().find(|i| i.open)
    })
    .await;
    assert!(issue.body.contains("spec.replicas"), "{}", issue.body);
    assert!(issue.body.contains("shop:hotpatched"), "{}", issue.body);
    let notified = || {
        hook.received()
            .into_iter()
            .filter(|(_, body)| body["event"] == "drift_detected")
            .count()
    };
    eventually("drift_detected", || async {
        (notified() == 1).then_some(())
    })
    .await;

    // The next sweep finds the same drift: the issue is kept, nobody is told twice.
    later(&t).await;
    eventually("the second sweep", || async {
        store
            .drift_check(&repo, "staging", 0)
            .await
            .ok()
            .flatten()
            .filter(|c| c.updated_at > 0 && c.outcome.is_some())
    })
    .await;
    assert_eq!(drift_issues(&t).len(), 1, "one issue per environment");
    assert_eq!(notified(), 1, "notified once per change of the drift");

    kube.edit(
        "deployments",
        Some("shop-staging"),
        "web",
        "kubectl-edit",
        |o| {
            o["spec"]["replicas"] = json!(2);
            o["spec"]["template"]["spec"]["containers"][0]["image"] = json!("shop:v1");
        },
    );
    later(&t).await;
    eventually("the issue to close", || async {
        drift_issues(&t).into_iter().find(|i| !i.open)
    })
    .await;
    let closing = t.repo.comments(issue.number);
    assert!(
        closing.iter().any(|c| c.body.contains("The drift is gone")),
        "{closing:?}"
    );
    let (_, metrics) = t.gitferry.get("/metrics").await;
    assert!(
        metrics.contains(
            "gitferry_drift_objects{repository=\"octocat/shop\",environment=\"staging\"} 0"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn in_heal_mode_the_hand_edit_is_taken_back_audited_and_the_issue_closes() {
    let kube = FakeKube::start().await;
    let config = format!(
        "{}drift:\n  mode: heal\n",
        CONFIG.replace(
            "notify:\n  - { on: [drift_detected], webhook: OCTOCAT_SHOP_DRIFT_HOOK }\n",
            ""
        )
    );
    let t = released_swept(&kube, &config, MANIFESTS, "200ms").await;
    let replicas = || {
        kube.object("deployments", Some("shop-staging"), "web")
            .and_then(|d| d["spec"]["replicas"].as_i64())
    };
    kube.edit(
        "deployments",
        Some("shop-staging"),
        "web",
        "kubectl-edit",
        |o| {
            o["spec"]["replicas"] = json!(9);
        },
    );
    later(&t).await;
    eventually("the edit to be taken back", || async {
        (replicas() == Some(2)).then_some(())
    })
    .await;
    let issue = eventually("the issue to close", || async {
        drift_issues(&t).into_iter().find(|i| !i.open)
    })
    .await;
    let comments = t.repo.comments(issue.number);
    assert!(
        comments.iter().any(|c| c.body.contains("drift.mode: heal")),
        "{comments:?}"
    );
    let audit = t
        .gitferry
        .store
        .audit_entries(&t.repo.full_name())
        .await
        .expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "drift heal" && e.outcome == "healed" && e.actor == "gitferry"),
        "{audit:?}"
    );
}
