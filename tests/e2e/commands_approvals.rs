//! Approvals bind to who gave them and to what they saw: a check run's "Re-run" obeys
//! `commands.roles.retest` like `/retest` does, and a fork's `/preview` approves the head
//! the maintainer saw, never a newer one.

use gitferry::store::DeliveryState;
use serde_json::json;

use crate::pipeline::{Pipeline, config, junit};
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
        config("GFA1", "")
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
