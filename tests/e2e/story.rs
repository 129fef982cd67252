//! A pull request's life told as a story through the one tester: it opens, its steps and
//! preview run, a push replaces them, a writer retests, the author closes it. Each action
//! sends the webhooks GitHub would send (real payloads with the fake's state laid over them).

use crate::support::gitferry::eventually;
use crate::support::tester::{AUTHOR, Tester};

const CONFIG: &str = "\
pipeline:
  - name: unit
    run: [sh, ci/unit.sh]
environments:
  preview:
    pull_requests: { base: [main] }
    deploy:
      provider: command
      deploy: [sh, scripts/preview.sh, up]
      destroy: [sh, scripts/preview.sh, down]
    url: \"https://shop-pr-{pr}.preview.example.com\"
";

const UNIT: &str = "echo \"unit on $GITFERRY_SHORT_SHA attempt $GITFERRY_ATTEMPT\"\n";
const PREVIEW: &str = "echo \"preview $1 for $GITFERRY_SHORT_SHA\"\n";

async fn story() -> Tester {
    Tester::new()
        .config(CONFIG)
        .file("ci/unit.sh", UNIT)
        .file("scripts/preview.sh", PREVIEW)
        .permission("bob", "write")
        .flag("--poll-interval", "100ms")
        .start()
        .await
}

/// The sticky comment with what changes from run to run (shas, times, the server's port)
/// replaced by names, fit for a snapshot.
fn stable(t: &Tester, text: &str, shas: &[(&str, &str)]) -> String {
    let mut text = text.replace(&t.gitferry.addr.to_string(), "gitferry");
    for (sha, name) in shas {
        text = text
            .replace(sha, &format!("<{name}>"))
            .replace(&sha[..7], &format!("<{name}>"));
    }
    text.lines()
        .map(|line| match line.find("/runs/") {
            Some(at) => {
                let end = line[at + 6..].find('?').map_or(line.len(), |e| at + 6 + e);
                format!("{}/runs/<id>{}", &line[..at], &line[end..])
            }
            None => line.to_owned(),
        })
        .map(|line| match line.find("token=") {
            Some(at) => {
                let end = line[at..]
                    .find([')', ' ', '"'])
                    .map_or(line.len(), |e| at + e);
                format!("{}token=<token>{}", &line[..at], &line[end..])
            }
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_pull_request_opens_is_pushed_to_retested_and_closed() {
    let t = story().await;
    let pr = t.open_pr("feature", &[("app.txt", "v1")]).await;
    let first = t.head(pr);
    t.wait_check(&first, "gitferry/unit", "success").await;
    t.wait_check(&first, "gitferry/preview", "success").await;

    let second = t.push(pr, &[("app.txt", "v2")]).await;
    t.wait_check(&second, "gitferry/unit", "success").await;
    t.wait_check(&second, "gitferry/preview", "success").await;

    t.comment(pr, "bob", "/retest unit").await;
    eventually("a second attempt of unit", || async {
        let runs = t.repo.check_runs();
        let attempts = runs
            .iter()
            .filter(|run| run.head_sha == second && run.name == "gitferry/unit")
            .filter(|run| run.conclusion.as_deref() == Some("success"))
            .count();
        (attempts == 2).then_some(())
    })
    .await;

    t.close(pr, AUTHOR).await;
    let destroyed = eventually("the preview is gone", || async {
        let sticky = t.sticky(pr);
        sticky.contains("🧹 Destroyed").then_some(sticky)
    })
    .await;
    insta::assert_snapshot!(stable(
        &t,
        &destroyed,
        &[(&first, "first"), (&second, "second")]
    ));
}

#[tokio::test]
async fn a_merged_pull_request_tears_its_preview_down_and_its_merge_is_tested_on_main() {
    let t = story().await;
    let pr = t.open_pr("feature", &[("app.txt", "v1")]).await;
    let head = t.head(pr);
    t.wait_check(&head, "gitferry/preview", "success").await;

    let merge = t.merge(pr, "bob").await;
    // The push of the merge commit to the default branch runs the steps there (the base
    // later pull requests are compared with); the merged PR's preview goes.
    t.wait_check(&merge, "gitferry/unit", "success").await;
    let sticky = eventually("the preview is gone", || async {
        let sticky = t.sticky(pr);
        sticky.contains("🧹 Destroyed").then_some(sticky)
    })
    .await;
    assert!(sticky.contains("merged"), "{sticky}");
    assert!(t.repo.pull(pr).merged);
    assert_eq!(t.repo.branch_sha("main").as_deref(), Some(merge.as_str()));
}
