//! GitHub can deliver one `pull_request` event twice under different delivery ids. The second
//! copy must change nothing: deployments are keyed by (environment, sha), so a head that is
//! deployed or deploying gets no second Deployment, and its deploy is not restarted.

use crate::previews::{CONFIG, scenario};
use crate::support::fake_github::PrSpec;

#[tokio::test]
async fn a_repeated_pull_request_event_creates_no_second_deployment_for_the_same_sha() {
    let s = scenario(CONFIG).await;
    let first = s.repo.commit_files("feature", &[("app.txt", "v1")], "v1");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;
    // The same event again, while the head deploys (or just after).
    s.deliver_pr(pr, "opened").await;
    s.deployment_state(&first, "success").await;

    // Again once it is deployed: nothing is wanted anew, so nothing is queued.
    let before = s
        .gitferry
        .store
        .preview("octocat/shop", pr as i64)
        .await
        .unwrap()
        .expect("a preview");
    for action in ["opened", "synchronize", "reopened"] {
        s.deliver_pr(pr, action).await;
    }
    let after = s
        .gitferry
        .store
        .preview("octocat/shop", pr as i64)
        .await
        .unwrap()
        .expect("a preview");
    assert_eq!(after.generation, before.generation, "nothing new is wanted");
    assert_eq!(after.done_generation, after.generation, "no work is due");

    // A real push deploys as always; by the time it is done, a deploy queued by any of the
    // copies above would have been done too.
    let second = s.repo.commit_files("feature", &[("app.txt", "v2")], "v2");
    s.deliver_pr(pr, "synchronize").await;
    s.deployment_state(&second, "success").await;

    let of_first: Vec<_> = s
        .repo
        .deployments()
        .into_iter()
        .filter(|d| d.sha == first)
        .collect();
    assert_eq!(of_first.len(), 1, "one Deployment per sha: {of_first:#?}");
    let ups: Vec<String> = s
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("up"))
        .collect();
    assert_eq!(ups.len(), 2, "one deploy per head: {ups:?}");
}
