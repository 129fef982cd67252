//! The rest of a promotion's gate and merge: other apps' required checks, GitHub refusing to
//! move the branch, `auto_promote` and the hold, `rollback: reset`, and two gitferry processes
//! settling one approval at once.

use crate::notifications::{Receiver, set_variable};
use crate::promotions::{
    CONFIG, DEPLOY, gate, in_production, open_promotion, production_release, promote, shop, staged,
    status_comment,
};
use crate::support::fake_github::Fault;
use crate::support::gitferry::eventually;
use crate::support::replicas::Replicas;
use crate::support::webhooks;
use gitferry::store::DeliveryState;
use gitferry::store::releases::ReleaseState;

#[tokio::test]
async fn a_required_check_of_another_app_holds_the_merge_until_it_passes_then_promoted_is_notified()
{
    let (hook, hook_url) = Receiver::start(0).await;
    set_variable("OCTOCAT_SHOP_PROMO_HOOK", &hook_url);
    let config = format!(
        "{}notify:\n  - {{ on: [promoted], webhook: OCTOCAT_SHOP_PROMO_HOOK }}\n",
        CONFIG.replace(
            "    production: true\n",
            "    production: true\n    required_checks: [security-scan]\n",
        )
    );
    let t = shop(&config).await;
    let on = t.open_pr("notes", &[("notes.txt", "x")]).await;
    let candidate = staged(&t, "v1").await;
    // The scanner has started (GitHub sends `check_run.created`, which nothing waits for).
    t.repo
        .add_foreign_check_run(&candidate, "security-scan", None);
    let pr = promote(&t, on, &candidate).await;
    t.comment(pr, "root", "/approve").await;
    eventually("the gate to wait for the scanner", || async {
        (gate(&t, &candidate) == "Waiting for the required check `security-scan`").then_some(())
    })
    .await;
    assert!(status_comment(&t, pr).contains("- `security-scan`: pending"));
    assert_ne!(
        t.repo.branch_sha("main").as_deref(),
        Some(candidate.as_str())
    );

    // The scanner passes: its check run webhook opens the gate.
    t.check_from_other_app(&candidate, "security-scan", Some("success"))
        .await;
    let release = production_release(&t, &candidate).await;
    assert_eq!(release.approvers.as_deref(), Some("[\"root\"]"));
    let promoted = eventually("the promoted notification", || async {
        hook.received()
            .into_iter()
            .map(|(_, body)| body)
            .find(|body| body["event"] == "promoted")
    })
    .await;
    let text = promoted.to_string();
    assert!(
        text.contains("root") && text.contains("production"),
        "{text}"
    );
}

#[tokio::test]
async fn a_failed_required_status_is_named_and_nothing_merges() {
    let config = CONFIG.replace(
        "    production: true\n",
        "    production: true\n    required_checks: [ci/legacy]\n",
    );
    let t = shop(&config).await;
    let on = t.open_pr("notes", &[("notes.txt", "x")]).await;
    let candidate = staged(&t, "v1").await;
    t.repo.add_status(&candidate, "ci/legacy", "failure");
    let pr = promote(&t, on, &candidate).await;
    t.comment(pr, "root", "/approve").await;
    eventually("the failed status to be named", || async {
        (gate(&t, &candidate) == "Required check `ci/legacy` failed").then_some(())
    })
    .await;
    assert!(status_comment(&t, pr).contains("- `ci/legacy`: **failure**"));
    assert_ne!(
        t.repo.branch_sha("main").as_deref(),
        Some(candidate.as_str())
    );
}

#[tokio::test]
async fn branch_protection_refusing_the_merge_is_answered_with_what_to_change_and_a_retry_works() {
    let t = shop(CONFIG).await;
    let on = t.open_pr("notes", &[("notes.txt", "x")]).await;
    let candidate = staged(&t, "v1").await;
    let pr = promote(&t, on, &candidate).await;
    t.fake.fail_next(
        "PATCH",
        "/repos/octocat/shop/git/refs/heads/main",
        1,
        Fault::Status(422),
    );
    t.comment(pr, "root", "/approve").await;
    let answer = t
        .reply_containing(pr, "GitHub refused to move `main`")
        .await;
    assert!(answer.contains("allow the app"), "{answer}");
    t.wait_check(&candidate, "gitferry/promotion", "action_required")
        .await;
    assert_ne!(
        t.repo.branch_sha("main").as_deref(),
        Some(candidate.as_str())
    );
    let store = &t.gitferry.store;
    let promotion = store
        .promotion(&t.repo.full_name(), "production")
        .await
        .expect("store")
        .expect("a promotion");
    assert_eq!(promotion.state, "open", "nothing half-done is left");

    // Once the rule allows it, approving again merges.
    t.comment(pr, "root", "/approve").await;
    production_release(&t, &candidate).await;
}

#[tokio::test]
async fn auto_promote_opens_the_promotion_itself_but_not_while_a_rollback_holds_production() {
    let config = CONFIG.replace(
        "    production: true\n",
        "    production: true\n    auto_promote: true\n",
    );
    let t = shop(&config).await;
    let on = t.open_pr("notes", &[("notes.txt", "x")]).await;
    let first = staged(&t, "v1").await;
    let pr = eventually("the promotion opened by gitferry", || async {
        open_promotion(&t)
            .filter(|p| p.head_sha == first)
            .map(|p| p.number)
    })
    .await;
    t.comment(pr, "root", "/approve").await;
    production_release(&t, &first).await;
    let second = staged(&t, "v2").await;
    let pr = eventually("the next promotion", || async {
        open_promotion(&t)
            .filter(|p| p.head_sha == second)
            .map(|p| p.number)
    })
    .await;
    // dora did not ask for this one: her approval counts.
    t.review(pr, "dora", "approved").await;
    production_release(&t, &second).await;

    t.comment(on, "dora", "/rollback production").await;
    eventually("the rollback to be verified", || async {
        let releases = t
            .gitferry
            .store
            .releases_of(&t.repo.full_name(), Some("production"), 1)
            .await
            .ok()?;
        releases
            .first()
            .filter(|r| r.cause == "rollback" && r.state() == Some(ReleaseState::Verified))
            .cloned()
    })
    .await;
    let third = staged(&t, "v3").await;
    t.wait_check(&third, "gitferry/release/staging", "success")
        .await;
    assert!(
        open_promotion(&t).is_none(),
        "held: no promotion opens on its own"
    );
    // An authorised /promote lifts the hold and opens it.
    promote(&t, on, &third).await;
    assert!(
        t.gitferry
            .store
            .environment_hold(&t.repo.full_name(), "production")
            .await
            .expect("store")
            .is_none()
    );
}

#[tokio::test]
async fn with_rollback_reset_the_branch_is_moved_back_to_the_good_release_itself() {
    let config = CONFIG.replace(
        "    production: true\n",
        "    production: true\n    rollback: reset\n",
    );
    let t = shop(&config).await;
    let on = t.open_pr("notes", &[("notes.txt", "x")]).await;
    let first = in_production(&t, on, "v1").await;
    in_production(&t, on, "v2").await;

    t.comment(on, "dora", "/rollback production").await;
    eventually("main to be reset to the first release", || async {
        (t.repo.branch_sha("main").as_deref() == Some(first.as_str())).then_some(())
    })
    .await;
    let releases = t
        .gitferry
        .store
        .releases_of(&t.repo.full_name(), Some("production"), 1)
        .await
        .expect("store");
    assert_eq!(releases[0].cause, "rollback");
    assert_eq!(releases[0].sha, first);
}

#[tokio::test]
async fn two_gitferry_processes_on_one_postgresql_never_merge_one_promotion_twice() {
    let files = [
        (".github/gitferry.yml", CONFIG.to_owned()),
        ("scripts/deploy.sh", DEPLOY.to_owned()),
    ];
    let Some(replicas) = Replicas::start(&files).await else {
        return;
    };
    let Replicas {
        fake,
        repo,
        installation,
        a,
        b,
        ..
    } = &replicas;
    let installation = *installation;
    repo.set_permission("dora", "admin");
    repo.set_permission("root", "admin");
    let staged = repo.commit_files("latest", &[("app.txt", "v1")], "v1");
    let push = webhooks::push(
        repo,
        installation,
        "latest",
        &"0".repeat(40),
        &staged,
        "mona",
    );
    let (_, _, id) = a.deliver("push", &push).await;
    a.wait_for(&id, DeliveryState::Done).await;
    eventually("staging to verify", || async {
        repo.check_run(&staged, "gitferry/release/staging")
            .filter(|c| c.conclusion.as_deref() == Some("success"))
    })
    .await;
    repo.commit_files("notes", &[("notes.txt", "x")], "notes");
    let on =
        repo.open_pr(crate::support::fake_github::PrSpec::new("notes", "main").author("alice"));
    let comment = repo.add_comment(on, "dora", "/promote production");
    let hook = webhooks::issue_comment(repo, installation, on, comment, "created", "dora", None);
    let (_, _, id) = a.deliver("issue_comment", &hook).await;
    a.wait_for(&id, DeliveryState::Done).await;
    let pr = eventually("the promotion PR", || async {
        repo.pulls()
            .into_iter()
            .find(|p| p.head_ref == "gitferry/promote/production")
            .map(|p| p.number)
    })
    .await;

    // One approval, delivered to both at once (a redelivery racing the original).
    let review = repo.add_review(pr, "root", "APPROVED");
    let body = webhooks::review_submitted(repo, installation, pr, "root", "approved", review);
    let (first, second) = tokio::join!(
        a.deliver("pull_request_review", &body),
        b.deliver("pull_request_review", &body)
    );
    a.wait_for(&first.2, DeliveryState::Done).await;
    b.wait_for(&second.2, DeliveryState::Done).await;
    eventually("production to be verified", || async {
        a.store
            .releases_of("octocat/shop", Some("production"), 5)
            .await
            .ok()?
            .into_iter()
            .find(|r| r.state() == Some(ReleaseState::Verified))
    })
    .await;
    let releases = a
        .store
        .releases_of("octocat/shop", Some("production"), 5)
        .await
        .expect("store");
    assert_eq!(releases.len(), 1, "one release of the promotion");
    let merges = a
        .store
        .audit_entries("octocat/shop")
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "promotion" && e.outcome == "merged")
        .count();
    assert_eq!(merges, 1, "merged once");
    assert_eq!(
        fake.count("PATCH", "/repos/octocat/shop/git/refs/heads/main"),
        1,
        "main moved once"
    );
    replicas.stop().await;
}

const KUBERNETES: &str = "\
environments:
  staging:
    branch: latest
    deploy: { provider: kubernetes, manifests: deploy/app, namespace: shop-staging }
  production:
    branch: main
    promote_from: staging
    production: true
    deploy: { provider: kubernetes, manifests: deploy/app, namespace: shop-production }
";

fn manifests(mode: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{ name: settings }}\ndata: {{ mode: {mode} }}\n"
    )
}

#[tokio::test]
async fn on_kubernetes_production_gets_what_staging_verified_and_a_rollback_brings_it_back() {
    let kube = crate::support::fake_kube::FakeKube::start().await;
    let (_kubeconfig_dir, kubeconfig) = kube.kubeconfig();
    let t = crate::support::tester::Tester::new()
        .config(KUBERNETES)
        .permission("dora", "admin")
        .permission("root", "admin")
        .flag("--kubeconfig", &kubeconfig)
        .flag("--poll-interval", "100ms")
        .start()
        .await;
    let mode = |namespace: &str| {
        kube.object("configmaps", Some(namespace), "settings")
            .and_then(|c| c["data"]["mode"].as_str().map(str::to_owned))
    };
    let on = t.open_pr("notes", &[("notes.txt", "x")]).await;
    let mut released = Vec::new();
    for version in ["v1", "v2"] {
        let files = [("deploy/app/settings.yaml", manifests(version))];
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
        let sha = t.push_to("latest", "mona", &files).await;
        t.wait_check(&sha, "gitferry/release/staging", "success")
            .await;
        let pr = promote(&t, on, &sha).await;
        let body = t.repo.pull(pr).body;
        assert!(body.contains("- `deploy/app/settings.yaml`"), "{body}");
        // The promotion shows what production would get.
        let drift = eventually("the promotion's drift check", || async {
            t.repo
                .check_run(&sha, "gitferry/drift")
                .and_then(|c| c.output.summary)
        })
        .await;
        assert!(
            drift.contains("ConfigMap shop-production/settings"),
            "{drift}"
        );
        if version == "v2" {
            assert!(drift.contains("+  mode: v2"), "{drift}");
        }
        t.comment(pr, "root", "/approve").await;
        production_release(&t, &sha).await;
        assert_eq!(mode("shop-production").as_deref(), Some(version));
        released.push(sha);
    }
    t.comment(on, "dora", "/rollback production").await;
    eventually("production to run v1 again", || async {
        (mode("shop-production").as_deref() == Some("v1")).then_some(())
    })
    .await;
    assert_eq!(mode("shop-staging").as_deref(), Some("v2"));
}
