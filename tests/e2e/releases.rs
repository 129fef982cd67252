//! Releases of a branch-bound environment: a push to its branch is deployed there after the
//! steps before the deploy, verified by the steps after it, numbered, and reported as a
//! Deployment of the environment and the `gitferry/release/<env>` check run.

use crate::notifications::{Receiver, set_variable};

use crate::support::fake_github::{PrSpec, PrState};
use crate::support::gitferry::eventually;
use crate::support::replicas::Replicas;
use crate::support::tester::{Tester, TesterBuilder};
use crate::support::webhooks;
use gitferry::store::DeliveryState;
use gitferry::store::releases::ReleaseState;

const CONFIG: &str = "\
pipeline:
  - name: unit
    run: [sh, ci/unit.sh]
  - name: smoke
    run: [sh, ci/smoke.sh]
    after: deploy
environments:
  staging:
    branch: latest
    deploy:
      provider: command
      deploy: [sh, scripts/deploy.sh]
      destroy: [sh, scripts/deploy.sh]
    url: \"https://staging.shop.example.com\"
";

const UNIT: &str = "echo \"unit on $GITFERRY_SHORT_SHA\"\n";
/// Fails when the commit carries `broken.txt`, against the URL it is given.
const SMOKE: &str = "echo \"smoke against $GITFERRY_PREVIEW_URL\"\n[ ! -f broken.txt ]\n";
const DEPLOY: &str = "echo \"deploying $GITFERRY_SHORT_SHA to $GITFERRY_ENV\"\n";

/// A repository whose staging deploys from `latest`, with `unit` as its step before the
/// deploy.
fn repository(config: &str, unit: &str) -> TesterBuilder {
    Tester::new()
        .config(config)
        .file("ci/unit.sh", unit)
        .file("ci/smoke.sh", SMOKE)
        .file("scripts/deploy.sh", DEPLOY)
        .flag("--poll-interval", "100ms")
}

async fn staging() -> Tester {
    repository(CONFIG, UNIT).start().await
}

async fn state_of(t: &Tester, sha: &str) -> Option<ReleaseState> {
    let releases = t
        .gitferry
        .store
        .releases_of(&t.repo.full_name(), Some("staging"), 10)
        .await
        .ok()?;
    releases
        .into_iter()
        .find(|r| r.sha == sha)
        .and_then(|r| r.state())
}

async fn reaches(t: &Tester, sha: &str, state: ReleaseState) {
    eventually(&format!("the release to be {}", state.as_str()), || async {
        (state_of(t, sha).await == Some(state)).then_some(())
    })
    .await;
}

/// The release's check run title.
fn title(t: &Tester, sha: &str) -> Option<String> {
    t.repo
        .check_run(sha, "gitferry/release/staging")
        .and_then(|c| c.output.title)
}

#[tokio::test]
async fn a_push_to_stagings_branch_is_released_there_and_verified_by_the_steps_after_it() {
    let t = staging().await;
    let sha = t.push_to("latest", "mona", &[("app.txt", "v1")]).await;

    t.wait_check(&sha, "gitferry/unit", "success").await;
    t.wait_check(&sha, "gitferry/smoke", "success").await;
    t.wait_check(&sha, "gitferry/release/staging", "success")
        .await;
    reaches(&t, &sha, ReleaseState::Verified).await;

    assert_eq!(
        title(&t, &sha).as_deref(),
        Some("staging-1 is live in staging and verified")
    );
    let deployments = t.repo.deployments();
    let deployment = deployments
        .iter()
        .find(|d| d.sha == sha)
        .expect("a deployment of the released sha");
    assert_eq!(deployment.environment, "staging");
    assert!(!deployment.transient_environment);
    let last = deployment.statuses.last().expect("statuses");
    assert_eq!(last.state, "success");
    assert_eq!(last.environment_url, "https://staging.shop.example.com");
    let store = &t.gitferry.store;
    let good = store
        .last_good_release(&t.repo.full_name(), "staging")
        .await
        .expect("store")
        .expect("a last good release");
    assert_eq!(
        (good.sha.as_str(), good.version()),
        (sha.as_str(), "staging-1".into())
    );
    assert_eq!(good.actor.as_deref(), Some("mona"));
    let story: Vec<(String, String, Option<String>)> = eventually("the audit story", || async {
        let entries = store.audit_entries(&t.repo.full_name()).await.ok()?;
        let story: Vec<_> = entries
            .into_iter()
            .filter(|e| e.action.starts_with("release"))
            .map(|e| (e.actor, e.action, e.environment))
            .collect();
        (story.len() == 2).then_some(story)
    })
    .await;
    let staging = Some("staging".to_owned());
    assert_eq!(
        story,
        vec![
            ("mona".into(), "release".into(), staging.clone()),
            ("gitferry".into(), "release:verified".into(), staging),
        ]
    );
}

#[tokio::test]
async fn a_failing_step_after_the_deploy_fails_the_release_and_the_last_good_one_stays() {
    let t = staging().await;
    let good = t.push_to("latest", "mona", &[("app.txt", "v1")]).await;
    t.wait_check(&good, "gitferry/release/staging", "success")
        .await;

    let bad = t.push_to("latest", "mona", &[("broken.txt", "yes")]).await;
    t.wait_check(&bad, "gitferry/smoke", "failure").await;
    t.wait_check(&bad, "gitferry/release/staging", "failure")
        .await;
    reaches(&t, &bad, ReleaseState::Failed).await;
    assert_eq!(
        title(&t, &bad).as_deref(),
        Some("staging-2 failed: step smoke did not pass")
    );
    let last_good = t
        .gitferry
        .store
        .last_good_release(&t.repo.full_name(), "staging")
        .await
        .expect("store")
        .expect("still one");
    assert_eq!(last_good.sha, good, "a rollback would return here");
}

#[tokio::test]
async fn a_failing_step_before_the_deploy_blocks_the_release() {
    let t = repository(CONFIG, "exit 1\n").start().await;
    let sha = t.push_to("latest", "mona", &[("app.txt", "v1")]).await;
    t.wait_check(&sha, "gitferry/release/staging", "failure")
        .await;
    reaches(&t, &sha, ReleaseState::Blocked).await;
    assert!(
        t.repo.deployments().iter().all(|d| d.sha != sha),
        "nothing was deployed"
    );
    t.wait_check(&sha, "gitferry/smoke", "skipped").await;
}

#[tokio::test]
async fn an_admins_rollback_returns_staging_to_its_last_good_tree_and_verifies_it_again() {
    let t = repository(CONFIG, UNIT)
        .permission("dora", "admin")
        .permission("bob", "write")
        .start()
        .await;
    let good = t.push_to("latest", "mona", &[("app.txt", "v1")]).await;
    t.wait_check(&good, "gitferry/release/staging", "success")
        .await;
    let newer = t.push_to("latest", "mona", &[("app.txt", "v2")]).await;
    t.wait_check(&newer, "gitferry/release/staging", "success")
        .await;
    let pr = t.open_pr("feature", &[("other.txt", "x")]).await;

    t.comment(pr, "bob", "/rollback staging").await;
    let refused = t.reply_containing(pr, "/rollback").await;
    assert!(refused.contains("needs admin permission"), "{refused}");
    assert_eq!(t.repo.branch_sha("latest").as_deref(), Some(newer.as_str()));

    t.comment(pr, "dora", "/rollback staging").await;
    let reply = t.reply_containing(pr, "Rolling **staging** back").await;
    assert!(reply.contains("staging-1"), "{reply}");
    let head = t.repo.branch_sha("latest").expect("latest");
    assert_ne!(head, newer);
    let tree = |sha: &str| t.repo.commit(sha).expect("commit").tree_sha;
    assert_eq!(tree(&head), tree(&good), "exactly the good release's tree");
    assert_eq!(
        t.repo.commit(&head).expect("commit").parents,
        vec![newer.clone()],
        "linear history"
    );

    t.wait_check(&head, "gitferry/smoke", "success").await;
    t.wait_check(&head, "gitferry/release/staging", "success")
        .await;
    let unit = t.repo.check_run(&head, "gitferry/unit").expect("unit");
    assert_eq!(unit.conclusion.as_deref(), Some("success"), "passed before");
    let store = &t.gitferry.store;
    let releases = store
        .releases_of(&t.repo.full_name(), Some("staging"), 10)
        .await
        .expect("store");
    let states: Vec<(String, String, String)> = releases
        .iter()
        .map(|r| (r.version(), r.cause.clone(), r.state.clone()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("staging-3".into(), "rollback".into(), "verified".into()),
            ("staging-2".into(), "push".into(), "rolled_back".into()),
            ("staging-1".into(), "push".into(), "verified".into()),
        ]
    );

    t.comment(pr, "dora", "/rollback staging 1234567").await;
    let listed = t.reply_containing(pr, "is not a verified release").await;
    assert!(
        listed.contains("staging-3") && listed.contains("staging-1"),
        "{listed}"
    );

    // Named by version: staging-1 is staging-3's tree already.
    t.comment(pr, "dora", "/rollback staging staging-1").await;
    let already = t
        .reply_containing(pr, "already runs the tree of staging-1")
        .await;
    assert!(already.contains("nothing to do"), "{already}");
}

#[tokio::test]
async fn with_auto_rollback_a_release_failing_its_checks_is_rolled_back_by_gitferry() {
    let (hook, hook_url) = Receiver::start(0).await;
    set_variable("OCTOCAT_SHOP_REL_HOOK", &hook_url);
    let config = format!(
        "{}notify:\n  - {{ on: [released, release_failed, rolled_back], webhook: OCTOCAT_SHOP_REL_HOOK }}\n",
        CONFIG.replace(
            "    branch: latest\n",
            "    branch: latest\n    auto_rollback: true\n"
        )
    );
    let t = repository(&config, UNIT).start().await;
    let good = t.push_to("latest", "mona", &[("app.txt", "v1")]).await;
    t.wait_check(&good, "gitferry/release/staging", "success")
        .await;
    let bad = t.push_to("latest", "mona", &[("broken.txt", "yes")]).await;
    t.wait_check(&bad, "gitferry/release/staging", "failure")
        .await;

    let head = eventually("latest to be rolled back", || async {
        t.repo.branch_sha("latest").filter(|sha| *sha != bad)
    })
    .await;
    let tree = |sha: &str| t.repo.commit(sha).expect("commit").tree_sha;
    assert_eq!(tree(&head), tree(&good));
    t.wait_check(&head, "gitferry/release/staging", "success")
        .await;
    let store = &t.gitferry.store;
    let rollback = store
        .releases_of(&t.repo.full_name(), Some("staging"), 1)
        .await
        .expect("store")
        .remove(0);
    assert_eq!(
        (rollback.cause.as_str(), rollback.actor.as_deref()),
        ("rollback", Some("gitferry"))
    );
    let audit = store
        .audit_entries(&t.repo.full_name())
        .await
        .expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "rollback" && e.actor == "gitferry"),
        "{audit:?}"
    );
    let events = eventually("four notifications", || async {
        let mut events: Vec<String> = hook
            .received()
            .into_iter()
            .filter_map(|(_, body)| body["event"].as_str().map(str::to_owned))
            .collect();
        events.sort();
        (events.len() == 4).then_some(events)
    })
    .await;
    assert_eq!(
        events,
        ["release_failed", "released", "released", "rolled_back"]
    );
}

#[tokio::test]
async fn a_merged_pull_request_is_told_where_its_change_is_and_when_it_was_rolled_back() {
    let t = repository(CONFIG, UNIT)
        .permission("dora", "admin")
        .start()
        .await;
    let first = t.push_to("latest", "mona", &[("app.txt", "v1")]).await;
    t.wait_check(&first, "gitferry/release/staging", "success")
        .await;
    let pr = t
        .open_pr_with(PrSpec::new("feature", "latest"), &[("feature.txt", "new")])
        .await;
    let merged = t.merge(pr, "dora").await;
    t.wait_check(&merged, "gitferry/release/staging", "success")
        .await;
    let told = eventually("the PR to be told", || async {
        let sticky = t.sticky(pr);
        sticky.contains("In **staging** since").then_some(sticky)
    })
    .await;
    assert!(told.contains("(staging-2, `"), "{told}");

    t.comment(pr, "dora", "/rollback staging").await;
    let rolled = eventually("the PR to hear of the rollback", || async {
        let sticky = t.sticky(pr);
        sticky
            .contains("Rolled back from **staging**")
            .then_some(sticky)
    })
    .await;
    assert!(rolled.contains("staging-2 had it"), "{rolled}");
}

/// GitHub may deliver one push twice under different delivery ids, and two replicas may each
/// get one: a sha is released (and deployed) once.
#[tokio::test]
async fn two_gitferry_processes_on_one_postgresql_never_release_one_push_twice() {
    let calls = crate::support::sandbox::writable_dir().join("release-calls");
    let deploy = format!("echo \"$GITFERRY_SHA\" >> {}\n", calls.display());
    let files = [
        (".github/gitferry.yml", CONFIG.to_owned()),
        ("ci/unit.sh", UNIT.to_owned()),
        ("ci/smoke.sh", SMOKE.to_owned()),
        ("scripts/deploy.sh", deploy),
    ];
    let Some(replicas) = Replicas::start(&files).await else {
        return;
    };
    let Replicas {
        repo,
        installation,
        a,
        b,
        ..
    } = &replicas;
    let installation = *installation;

    let mut before = "0".repeat(40);
    let mut shas = Vec::new();
    for n in 0..3 {
        let after = repo.commit_files("latest", &[("app.txt", format!("v{n}"))], "work");
        let body = webhooks::push(repo, installation, "latest", &before, &after, "mona");
        // The same push, twice, one to each replica.
        let (first, second) = tokio::join!(a.deliver("push", &body), b.deliver("push", &body));
        assert_eq!((first.0, second.0), (202, 202));
        a.wait_for(&first.2, DeliveryState::Done).await;
        b.wait_for(&second.2, DeliveryState::Done).await;
        before = after.clone();
        shas.push(after);
    }
    let last = shas.last().expect("pushed").clone();
    let releases = eventually("the last push to be verified", || async {
        let releases = a
            .store
            .releases_of("octocat/shop", Some("staging"), 10)
            .await
            .ok()?;
        releases
            .first()
            .is_some_and(|r| r.sha == last && r.state() == Some(ReleaseState::Verified))
            .then_some(releases)
    })
    .await;
    let mut released: Vec<&str> = releases.iter().map(|r| r.sha.as_str()).collect();
    released.sort_unstable();
    let mut pushed: Vec<&str> = shas.iter().map(String::as_str).collect();
    pushed.sort_unstable();
    assert_eq!(released, pushed, "one release per push");
    let deployed = std::fs::read_to_string(&calls).unwrap_or_default();
    for sha in &shas {
        let times = deployed.lines().filter(|l| l == sha).count();
        assert!(times <= 1, "{sha} deployed {times} times:\n{deployed}");
    }
    assert_eq!(deployed.lines().filter(|l| *l == last).count(), 1);
    replicas.stop().await;
}

const KUBERNETES_CONFIG: &str = "\
environments:
  staging:
    branch: latest
    deploy: { provider: kubernetes, manifests: deploy/staging, namespace: shop-staging }
    url: \"https://staging.shop.example.com\"
";

fn manifests(mode: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{ name: settings }}\ndata: {{ mode: {mode} }}\n\
         ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{ name: web }}\nspec: {{ replicas: 1 }}\n"
    )
}

#[tokio::test]
async fn on_kubernetes_each_release_is_applied_and_a_rollback_brings_the_good_content_back() {
    let kube = crate::support::fake_kube::FakeKube::start().await;
    let (_kubeconfig_dir, kubeconfig) = kube.kubeconfig();
    let t = Tester::new()
        .config(KUBERNETES_CONFIG)
        .permission("dora", "admin")
        .flag("--kubeconfig", &kubeconfig)
        .flag("--poll-interval", "100ms")
        .start()
        .await;
    let mode = || {
        kube.object("configmaps", Some("shop-staging"), "settings")
            .and_then(|c| c["data"]["mode"].as_str().map(str::to_owned))
    };
    let good = t
        .push_to(
            "latest",
            "mona",
            &[("deploy/staging/app.yaml", &manifests("v1"))],
        )
        .await;
    t.wait_check(&good, "gitferry/release/staging", "success")
        .await;
    assert_eq!(mode().as_deref(), Some("v1"));
    assert_eq!(kube.names("deployments", Some("shop-staging")), ["web"]);

    let newer = t
        .push_to(
            "latest",
            "mona",
            &[("deploy/staging/app.yaml", &manifests("v2"))],
        )
        .await;
    t.wait_check(&newer, "gitferry/release/staging", "success")
        .await;
    assert_eq!(mode().as_deref(), Some("v2"));

    let pr = t.open_pr("feature", &[("other.txt", "x")]).await;
    t.comment(pr, "dora", "/rollback staging").await;
    let head = eventually("latest to be rolled back", || async {
        t.repo.branch_sha("latest").filter(|sha| *sha != newer)
    })
    .await;
    t.wait_check(&head, "gitferry/release/staging", "success")
        .await;
    assert_eq!(
        mode().as_deref(),
        Some("v1"),
        "the good release's content again"
    );
}

#[tokio::test]
async fn promote_opens_one_promotion_pr_pinned_to_stagings_verified_release_and_updates_it() {
    let t = crate::promotions::shop(crate::promotions::CONFIG).await;
    let first = t.push_to("latest", "mona", &[("app.txt", "v1")]).await;
    t.wait_check(&first, "gitferry/release/staging", "success")
        .await;
    let pr = t.open_pr("feature", &[("other.txt", "x")]).await;

    t.comment(pr, "bob", "/promote production").await;
    let refused = t.reply_containing(pr, "/promote").await;
    assert!(refused.contains("needs admin permission"), "{refused}");

    t.comment(pr, "dora", "/promote production").await;
    let opened = t.reply_containing(pr, "to promote staging-1").await;
    let promotions = |head: &str| {
        t.repo
            .pulls()
            .into_iter()
            .filter(|p| p.head_ref == head && p.state == PrState::Open)
            .collect::<Vec<_>>()
    };
    let open = promotions("gitferry/promote/production");
    assert_eq!(open.len(), 1, "{opened}");
    let promotion = &open[0];
    assert_eq!(promotion.base_ref, "main");
    assert_eq!(
        promotion.head_sha, first,
        "pinned to staging's verified sha"
    );
    assert!(
        promotion.body.contains("**staging-1**"),
        "{}",
        promotion.body
    );
    assert!(
        opened.contains(&format!("#{}", promotion.number)),
        "{opened}"
    );

    // A newer verified staging release moves the open promotion by itself.
    let second = t.push_to("latest", "mona", &[("app.txt", "v2")]).await;
    t.wait_check(&second, "gitferry/release/staging", "success")
        .await;
    // The branch moves first, then the body says so.
    eventually("the promotion to follow staging", || async {
        let open = promotions("gitferry/promote/production");
        (open.len() == 1 && open[0].head_sha == second && open[0].body.contains("**staging-2**"))
            .then_some(())
    })
    .await;

    // /promote again: the same PR already proposes the newest verified release.
    t.comment(pr, "dora", "/promote production").await;
    let unchanged = t.reply_containing(pr, "already promotes").await;
    assert!(unchanged.contains("staging-2"), "{unchanged}");
    let open = promotions("gitferry/promote/production");
    assert_eq!(open.len(), 1, "never a second promotion PR");
    assert_eq!(open[0].head_sha, second);
}

#[tokio::test]
async fn a_newer_push_supersedes_a_release_in_flight_and_stops_its_steps() {
    let slow_unit = "if [ \"$(cat app.txt)\" = slow ]; then sleep 30; fi\n";
    let t = repository(CONFIG, slow_unit).start().await;
    let old = t.push_to("latest", "mona", &[("app.txt", "slow")]).await;
    eventually("the old unit to run", || async {
        t.repo
            .check_run(&old, "gitferry/unit")
            .filter(|c| c.status == "in_progress")
    })
    .await;
    let new = t.push_to("latest", "mona", &[("app.txt", "fast")]).await;
    t.wait_check(&old, "gitferry/unit", "cancelled").await;
    t.wait_check(&old, "gitferry/smoke", "cancelled").await;
    t.wait_check(&new, "gitferry/release/staging", "success")
        .await;
    reaches(&t, &old, ReleaseState::Superseded).await;
    assert!(
        t.repo.deployments().iter().all(|d| d.sha != old),
        "the superseded release was never deployed"
    );
}

#[tokio::test]
async fn a_promotion_pr_merged_by_hand_still_releases_and_says_it_was_not_approved_through_gitferry()
 {
    let t = crate::promotions::shop(crate::promotions::CONFIG).await;
    let staged = t.push_to("latest", "mona", &[("app.txt", "v1")]).await;
    t.wait_check(&staged, "gitferry/release/staging", "success")
        .await;
    let pr = t.open_pr("feature", &[("other.txt", "x")]).await;
    t.comment(pr, "dora", "/promote production").await;
    let promotion = eventually("the promotion PR", || async {
        t.repo
            .pulls()
            .into_iter()
            .find(|p| p.head_ref == "gitferry/promote/production")
    })
    .await;

    let merged = t.merge(promotion.number, "mona").await;
    t.wait_check(&merged, "gitferry/release/production", "success")
        .await;
    let store = &t.gitferry.store;
    let release = store
        .releases_of(&t.repo.full_name(), Some("production"), 1)
        .await
        .expect("store")
        .remove(0);
    assert_eq!(
        (release.cause.as_str(), release.approvers.as_deref()),
        ("promotion", Some("[]"))
    );
    let audit = store
        .audit_entries(&t.repo.full_name())
        .await
        .expect("audit");
    assert!(
        audit.iter().any(|e| e.action == "release"
            && e.environment.as_deref() == Some("production")
            && e.outcome.contains("not approved through gitferry")),
        "{audit:?}"
    );
}
