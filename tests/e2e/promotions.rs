//! Promotion from staging to production: approvals of the exact commit by the people the
//! environment names, gitferry's own merge (fast-forward, or a tree-exact commit over its
//! rollbacks), the hold a rollback puts on production, and the refusals, each answered.

use crate::support::fake_github::{PrSpec, PrState, PullRequest};
use crate::support::gitferry::eventually;
use crate::support::tester::{AUTHOR, Tester};
use gitferry::store::releases::ReleaseState;

pub(crate) const CONFIG: &str = "\
environments:
  staging:
    branch: latest
    deploy:
      provider: command
      deploy: [sh, scripts/deploy.sh]
      destroy: [sh, scripts/deploy.sh]
  production:
    branch: main
    promote_from: staging
    production: true
    approvals:
      min: 1
      permission: admin
    deploy:
      provider: command
      deploy: [sh, scripts/deploy.sh]
      destroy: [sh, scripts/deploy.sh]
";

pub(crate) const DEPLOY: &str = "echo \"deploying $GITFERRY_SHORT_SHA to $GITFERRY_ENV\"\n";
pub(crate) const PROMOTION: &str = "gitferry/promote/production";

/// dora and root are admins; bob may write.
pub(crate) async fn shop(config: &str) -> Tester {
    Tester::new()
        .config(config)
        .file("scripts/deploy.sh", DEPLOY)
        .permission("dora", "admin")
        .permission("root", "admin")
        .permission("bob", "write")
        .flag("--poll-interval", "100ms")
        .start()
        .await
}

/// A push to staging's branch, released and verified there.
pub(crate) async fn staged(t: &Tester, content: &str) -> String {
    let sha = t.push_to("latest", "mona", &[("app.txt", content)]).await;
    t.wait_check(&sha, "gitferry/release/staging", "success")
        .await;
    sha
}

/// The open promotion pull request into production.
pub(crate) fn open_promotion(t: &Tester) -> Option<PullRequest> {
    t.repo
        .pulls()
        .into_iter()
        .find(|p| p.head_ref == PROMOTION && p.state == PrState::Open)
}

/// `dora` asks for a promotion on `on`; the open promotion PR once it proposes `sha`.
pub(crate) async fn promote(t: &Tester, on: u64, sha: &str) -> u64 {
    t.comment(on, "dora", "/promote production").await;
    eventually("the promotion PR to propose the candidate", || async {
        open_promotion(t)
            .filter(|p| p.head_sha == sha)
            .map(|p| p.number)
    })
    .await
}

/// A verified staging release of `content`, promoted to production (root approves) and
/// verified there: its sha.
pub(crate) async fn in_production(t: &Tester, on: u64, content: &str) -> String {
    let sha = staged(t, content).await;
    let pr = promote(t, on, &sha).await;
    t.comment(pr, "root", "/approve").await;
    production_release(t, &sha).await;
    sha
}

/// The `gitferry/promotion` check run's title on `sha`.
pub(crate) fn gate(t: &Tester, sha: &str) -> String {
    t.repo
        .check_run(sha, "gitferry/promotion")
        .and_then(|c| c.output.title)
        .unwrap_or_default()
}

/// The status comment gitferry keeps on the promotion PR.
pub(crate) fn status_comment(t: &Tester, pr: u64) -> String {
    t.replies(pr)
        .into_iter()
        .find(|r| r.contains("gitferry:promotion"))
        .unwrap_or_default()
}

pub(crate) async fn production_release(
    t: &Tester,
    sha: &str,
) -> gitferry::store::releases::Release {
    eventually("production's release to be verified", || async {
        t.gitferry
            .store
            .releases_of(&t.repo.full_name(), Some("production"), 20)
            .await
            .ok()?
            .into_iter()
            .find(|r| r.sha == sha && r.state() == Some(ReleaseState::Verified))
    })
    .await
}

pub(crate) fn tree(t: &Tester, sha: &str) -> String {
    t.repo.commit(sha).expect("commit").tree_sha
}

#[tokio::test]
async fn only_an_admins_approval_of_the_exact_commit_merges_and_production_runs_what_staging_verified()
 {
    let t = shop(CONFIG).await;
    // A feature merged into staging's branch is released there, and its PR is told.
    t.repo.create_branch("latest", "main");
    let feature = t
        .open_pr_with(
            PrSpec::new("cart", "latest").author(AUTHOR),
            &[("cart.txt", "cart")],
        )
        .await;
    let merged = t.merge(feature, "mona").await;
    t.wait_check(&merged, "gitferry/release/staging", "success")
        .await;
    eventually("the feature PR to be told it is in staging", || async {
        t.sticky(feature).contains("In **staging**").then_some(())
    })
    .await;

    let promotion = promote(&t, feature, &merged).await;
    eventually("the gate to wait for an approval", || async {
        (gate(&t, &merged) == "Waiting for 1 more approval").then_some(())
    })
    .await;
    let body = t.repo.pull(promotion).body;
    assert!(body.contains("1 approval from admin permission"), "{body}");

    // bob may write, not approve; dora asked for it; neither counts.
    t.review(promotion, "bob", "approved").await;
    t.review(promotion, "dora", "approved").await;
    eventually("the comment to say why neither counts", || async {
        let comment = status_comment(&t, promotion);
        (comment.contains("not approvers of this environment: `@bob`")
            && comment.contains("their own promotion: `@dora`"))
        .then_some(())
    })
    .await;
    assert_ne!(
        t.repo.branch_sha("main").as_deref(),
        Some(merged.as_str()),
        "not merged"
    );

    // A newer verified staging release moves the promotion: root's approval of the old head,
    // delivered late, no longer counts.
    let newer = staged(&t, "v2").await;
    eventually("the promotion to move", || async {
        open_promotion(&t).filter(|p| p.head_sha == newer)
    })
    .await;
    t.review_of(promotion, "root", "approved", &merged).await;
    eventually("the stale approval to be named", || async {
        status_comment(&t, promotion)
            .contains("given before the promotion last moved: `@root`")
            .then_some(())
    })
    .await;
    assert_ne!(t.repo.branch_sha("main").as_deref(), Some(newer.as_str()));

    // root approves the head: gitferry fast-forwards main to exactly the verified sha.
    t.review(promotion, "root", "approved").await;
    eventually("main to be fast-forwarded", || async {
        (t.repo.branch_sha("main").as_deref() == Some(newer.as_str())).then_some(())
    })
    .await;
    let release = production_release(&t, &newer).await;
    assert_eq!(release.cause, "promotion");
    assert_eq!(release.approvers.as_deref(), Some("[\"root\"]"));
    t.wait_check(&newer, "gitferry/promotion", "success").await;
    assert!(t.repo.pull(promotion).merged, "GitHub shows it merged");
    let deployment = t
        .repo
        .deployments()
        .into_iter()
        .find(|d| d.environment == "production")
        .expect("a production deployment");
    assert!(deployment.production_environment);
    eventually("the feature PR to be told it is in production", || async {
        t.sticky(feature)
            .contains("In **production**")
            .then_some(())
    })
    .await;

    let audit = t
        .gitferry
        .store
        .audit_entries(&t.repo.full_name())
        .await
        .expect("audit");
    let story: Vec<(String, String)> = audit
        .iter()
        .filter(|e| e.environment.as_deref() == Some("production"))
        .map(|e| (e.action.clone(), e.outcome.clone()))
        .collect();
    let at = |action: &str, outcome: &str| {
        story
            .iter()
            .position(|(a, o)| a == action && o.starts_with(outcome))
            .unwrap_or_else(|| panic!("no {action} {outcome} in {story:?}"))
    };
    assert!(at("promotion", "proposed") < at("approval", "counted"));
    assert!(at("approval", "counted") < at("promotion", "merged"));
    assert!(at("promotion", "merged") < at("release", "recorded, approved"));
}

#[tokio::test]
async fn after_a_rollback_production_is_held_until_promote_and_then_gets_exactly_stagings_tree() {
    let t = shop(CONFIG).await;
    let on = t.open_pr("notes", &[("notes.txt", "x")]).await;
    let first = in_production(&t, on, "v1").await;
    let second = in_production(&t, on, "v2").await;

    // A third promotion is open when production is rolled back: it is held.
    let third = staged(&t, "v3").await;
    let pr = promote(&t, on, &third).await;
    t.comment(on, "dora", "/rollback production").await;
    let rolled = eventually("the rollback commit on main", || async {
        t.repo
            .branch_sha("main")
            .filter(|sha| *sha != second && tree(&t, sha) == tree(&t, &first))
    })
    .await;
    production_release(&t, &rolled).await;
    t.review(pr, "root", "approved").await;
    eventually("the hold to show on the promotion", || async {
        gate(&t, &third).starts_with("On hold").then_some(())
    })
    .await;
    assert!(status_comment(&t, pr).contains("rolled back to production-1"));
    assert_eq!(t.repo.branch_sha("main").as_deref(), Some(rolled.as_str()));

    // bob may not lift it; dora's /promote does, and root's approval then merges it over the
    // rollback with exactly staging's tree.
    t.comment(on, "bob", "/promote production").await;
    assert!(open_promotion(&t).is_some());
    t.comment(on, "dora", "/promote production").await;
    let head = eventually("main to carry the promotion", || async {
        t.repo.branch_sha("main").filter(|sha| *sha != rolled)
    })
    .await;
    assert_eq!(
        tree(&t, &head),
        tree(&t, &third),
        "exactly what staging verified"
    );
    let parents = t.repo.commit(&head).expect("commit").parents;
    assert_eq!(parents, vec![rolled.clone(), third.clone()]);
    production_release(&t, &head).await;
    assert!(t.repo.pull(pr).merged);
}

#[tokio::test]
async fn a_hotfix_pushed_straight_to_production_makes_the_next_promotion_refuse_naming_it() {
    let t = shop(CONFIG).await;
    let on = t.open_pr("notes", &[("notes.txt", "x")]).await;
    in_production(&t, on, "v1").await;

    let hotfix = t.push_to("main", "mona", &[("app.txt", "v1-hotfix")]).await;
    production_release(&t, &hotfix).await;
    let second = staged(&t, "v2").await;
    let pr = promote(&t, on, &second).await;
    t.comment(pr, "root", "/approve").await;
    let refusal = t
        .reply_containing(pr, "never went through **staging**")
        .await;
    assert!(
        refusal.contains(&format!("`{}`", &hotfix[..7])),
        "names the hotfix: {refusal}"
    );
    t.wait_check(&second, "gitferry/promotion", "action_required")
        .await;
    assert_eq!(t.repo.branch_sha("main").as_deref(), Some(hotfix.as_str()));
}

#[tokio::test]
async fn a_withdrawn_approval_puts_the_promotion_back_to_waiting_and_outsiders_are_told_who_may_approve()
 {
    let config = CONFIG.replace("      min: 1\n", "      min: 2\n");
    let t = shop(&config).await;
    let on = t.open_pr("notes", &[("notes.txt", "x")]).await;
    let first = staged(&t, "v1").await;
    let pr = promote(&t, on, &first).await;

    t.comment(pr, "bob", "/approve").await;
    let refused = t
        .reply_containing(pr, "approving promotions into **production** needs")
        .await;
    assert!(refused.contains("admin permission"), "{refused}");
    assert!(refused.contains("Nothing changed"), "{refused}");

    let review = t.review(pr, "root", "approved").await;
    eventually("one of two", || async {
        status_comment(&t, pr)
            .contains("1 of 2 approvals")
            .then_some(())
    })
    .await;
    t.dismiss_review(pr, review, "dora").await;
    eventually("back to none", || async {
        status_comment(&t, pr)
            .contains("0 of 2 approvals")
            .then_some(())
    })
    .await;
    assert_eq!(gate(&t, &first), "Waiting for 2 more approvals");
    assert_ne!(t.repo.branch_sha("main").as_deref(), Some(first.as_str()));
}

/// Red team: someone with push access puts their own commit on gitferry's promotion branch,
/// and an admin approves what the pull request now shows.
#[tokio::test]
async fn a_commit_pushed_onto_the_promotion_branch_is_never_merged_even_when_approved() {
    let t = shop(CONFIG).await;
    let on = t.open_pr("notes", &[("notes.txt", "x")]).await;
    let candidate = staged(&t, "v1").await;
    let pr = promote(&t, on, &candidate).await;
    let planted = t
        .push_to(PROMOTION, "mallory", &[("app.txt", "backdoor")])
        .await;
    assert_eq!(t.head(pr), planted);
    t.review(pr, "root", "approved").await;
    t.comment(pr, "root", "/approve").await;
    t.wait_check(&planted, "gitferry/promotion", "failure")
        .await;
    let answer = t
        .replies(pr)
        .into_iter()
        .find(|r| r.contains("The promotion is moving"))
        .expect("the /approve answer");
    assert!(answer.contains("nothing was approved"), "{answer}");
    assert_ne!(t.repo.branch_sha("main").as_deref(), Some(planted.as_str()));
    assert!(
        t.gitferry
            .store
            .releases_of(&t.repo.full_name(), Some("production"), 5)
            .await
            .expect("store")
            .is_empty(),
        "nothing released"
    );
}
