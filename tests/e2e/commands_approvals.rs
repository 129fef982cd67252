//! Approvals bind to who gave them and to what they saw: a check run's "Re-run" obeys
//! `commands.roles.retest` like `/retest` does, and a fork's `/preview` approves the head
//! the maintainer saw, never a newer one.

use gitferry::store::DeliveryState;
use serde_json::json;

use gitferry::github::short_sha as short;

use crate::pipeline::{Pipeline, config, junit};
use crate::previews::{CONFIG, scenario};
use crate::previews_policies::{calls_for, open_fork_pr, reply_to, settled};
use crate::support::gitferry::fixture;

/// "Re-run" pressed on `gitferry/<step>` of `sha` by `sender`.
async fn press_rerun(p: &Pipeline, step: &str, sha: &str, sender: &str) {
    let mut rerun: serde_json::Value =
        serde_json::from_slice(&fixture("check_run", "rerequested.payload.json")).expect("json");
    rerun["check_run"]["name"] = json!(format!("gitferry/{step}"));
    rerun["check_run"]["head_sha"] = json!(sha);
    rerun["repository"] = p.s.repo.repo_json();
    rerun["installation"] = json!({ "id": p.s.installation });
    rerun["sender"] = p.s.repo.user_json(sender);
    let (status, _, id) =
        p.s.gitferry
            .deliver("check_run", &serde_json::to_vec(&rerun).expect("json"))
            .await;
    assert_eq!(status, 202);
    p.s.gitferry.wait_for(&id, DeliveryState::Done).await;
}

fn attempts(p: &Pipeline, step: &str) -> usize {
    p.steps()
        .iter()
        .filter(|l| l.starts_with(&format!("{step} ")))
        .count()
}

#[tokio::test]
async fn re_run_on_a_check_run_obeys_the_retest_role_of_its_sender() {
    let unit = junit("test_cart", &["test_add"], &[]);
    let narrowed = format!(
        "commands:\n  roles:\n    retest: {{ permission: admin }}\n{}",
        config("OCTOCAT_SHOP_GFA1", "")
    );
    let p = Pipeline::start(&narrowed, &unit, &unit).await;
    let (pr, head) = p.open_pr().await;
    p.finished(&head, "functional").await;
    p.s.repo.set_permission("bob", "write");
    p.s.repo.set_permission("dora", "admin");
    assert_eq!(attempts(&p, "unit"), 1);

    press_rerun(&p, "unit", &head, "bob").await;

    let reply =
        p.s.repo
            .bot_comments(pr)
            .into_iter()
            .map(|c| c.body)
            .find(|b| b.contains("Re-run of `gitferry/unit`"))
            .expect("the refusal is answered on the pull request");
    assert!(
        reply.contains("@bob `/retest` needs admin permission"),
        "{reply}"
    );
    assert!(reply.contains("You have write permission"), "{reply}");
    let audit =
        p.s.gitferry
            .store
            .audit_entries(&p.s.repo.full_name())
            .await
            .expect("audit");
    let refused = audit
        .iter()
        .find(|a| a.action == "rerun:unit")
        .expect("the refusal is audited");
    assert_eq!(
        (refused.actor.as_str(), refused.outcome.as_str()),
        ("bob", "refused")
    );

    // An admin's press runs it; that the refused press queued nothing shows in the count.
    press_rerun(&p, "unit", &head, "dora").await;
    p.finished(&head, "unit").await;
    crate::support::gitferry::eventually("unit's second attempt", || async {
        (attempts(&p, "unit") == 2).then_some(())
    })
    .await;
    let units =
        p.s.repo
            .check_runs()
            .into_iter()
            .filter(|r| r.head_sha == head && r.name == "gitferry/unit")
            .count();
    assert_eq!(units, 2, "one attempt for the admin, none for bob");
}

// --- A fork's approval binds to the head the maintainer saw ------------------------------

/// Red team: Mallory pushes B right after a maintainer approved A, before gitferry handled
/// the approval. B must not be deployed on the strength of an approval of A.
#[tokio::test]
async fn a_fork_push_racing_the_maintainers_preview_is_not_deployed_and_the_reply_says_why() {
    let s = scenario(CONFIG).await;
    s.repo.set_permission("bob", "write");
    let (fork, a, pr) = open_fork_pr(&s).await;
    settled(&s, pr, "awaiting_approval").await;

    let approval = s.repo.add_comment(pr, "bob", "/preview");
    let b = fork.commit_files("patch", &[("app.txt", "swapped after review")], "evil");
    s.deliver_comment(pr, approval, "bob").await;

    let answer = reply_to(&s, pr, approval);
    assert!(
        answer.contains(&format!(
            "This approves `{}` (the head when you commented), but the head is now `{}`",
            short(&a),
            short(&b)
        )),
        "{answer}"
    );
    assert!(
        answer.contains(&format!("comment `/preview {}`", short(&b))),
        "{answer}"
    );
    s.deliver_pr(pr, "synchronize").await;
    let parked = settled(&s, pr, "awaiting_approval").await;
    assert_eq!(parked.head_sha, b);
    assert_eq!(parked.approved_sha, None, "nothing was approved");
    assert!(calls_for(&s, pr).is_empty(), "{:?}", s.calls());
    assert!(s.repo.deployments().is_empty());
    let audit = s
        .gitferry
        .store
        .audit_entries(&s.repo.full_name())
        .await
        .expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.actor == "bob" && e.action == "command:preview")
    );

    // Naming A, now that B is the head, approves nothing either.
    let named_a = s
        .comment(pr, "bob", &format!("/preview {}", short(&a)))
        .await;
    assert!(
        reply_to(&s, pr, named_a).contains(&format!(
            "This approves `{}`, but the head is now `{}`",
            short(&a),
            short(&b)
        )),
        "{}",
        reply_to(&s, pr, named_a)
    );

    // Approving B by name deploys B.
    let named_b = s
        .comment(pr, "bob", &format!("/preview {}", short(&b)))
        .await;
    assert!(
        reply_to(&s, pr, named_b).contains(&format!("Deploying `{}`, approved", short(&b))),
        "{}",
        reply_to(&s, pr, named_b)
    );
    s.deployment_state(&b, "success").await;
    assert!(s.repo.deployments().iter().all(|d| d.sha != a));
}

#[tokio::test]
async fn a_maintainers_preview_of_an_unchanged_fork_head_deploys_it_and_names_it() {
    let s = scenario(CONFIG).await;
    s.repo.set_permission("bob", "write");
    let (_fork, a, pr) = open_fork_pr(&s).await;
    settled(&s, pr, "awaiting_approval").await;

    let approval = s.comment(pr, "bob", "/preview").await;

    assert!(
        reply_to(&s, pr, approval).contains(&format!("Deploying `{}`, approved", short(&a))),
        "{}",
        reply_to(&s, pr, approval)
    );
    s.deployment_state(&a, "success").await;
}

/// `/retest` on a fork's pull request is an approval to run its code, so it binds the same
/// way: a push racing it is not tested.
#[tokio::test]
async fn a_fork_push_racing_the_maintainers_retest_is_not_tested() {
    let unit = junit("test_cart", &["test_add"], &[]);
    let p = Pipeline::start(&config("OCTOCAT_SHOP_GFA2", ""), &unit, &unit).await;
    p.s.repo.set_permission("bob", "write");
    let (fork, a, pr) = open_fork_pr(&p.s).await;
    settled(&p.s, pr, "awaiting_approval").await;

    let approval = p.s.repo.add_comment(pr, "bob", "/retest unit");
    let b = fork.commit_files("patch", &[("app.txt", "swapped after review")], "evil");
    p.s.deliver_comment(pr, approval, "bob").await;

    let answer = reply_to(&p.s, pr, approval);
    assert!(
        answer.contains(&format!(
            "This approves `{}` (the head when you commented), but the head is now `{}`",
            short(&a),
            short(&b)
        )),
        "{answer}"
    );
    assert!(
        answer.contains(&format!("comment `/retest unit {}`", short(&b))),
        "{answer}"
    );
    for sha in [&a, &b] {
        let queued =
            p.s.gitferry
                .store
                .pipeline_steps_on_sha(&p.s.repo.full_name(), sha)
                .await
                .expect("store");
        assert!(queued.is_empty(), "steps queued on {sha}: {queued:?}");
    }
    assert_eq!(attempts(&p, "unit"), 0, "{:?}", p.steps());
}
