//! How long a person waits, measured: from a push's `synchronize` delivery to the preview link
//! on the PR, and to every check run complete; and from a `/retest` comment's delivery to the
//! bot's 👀 reaction.
//!
//! The real server (SQLite store) against the fake GitHub of the end-to-end tests, driven by
//! their one tester, with a step before the deploy, the deploy, and a step after it, each a
//! script that takes no time. For each of `FLOW_BENCH_PUSHES` pushes (default 30) to one pull
//! request, the fake is watched (every millisecond) for the sticky comment naming the new head
//! as ready, and for the head's check runs all concluded. Printed: p50, p90, max of each.
//!
//! ```sh
//! cargo bench --bench flow
//! ```

#[path = "../../tests/e2e/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::time::{Duration, Instant};

use support::tester::Tester;
use support::webhooks;

const CONFIG: &str = "\
pipeline:
  - name: unit
    run: [sh, -c, exit 0]
  - name: functional
    run: [sh, -c, exit 0]
    after: deploy
environments:
  preview:
    pull_requests: { base: [main] }
    deploy:
      provider: command
      deploy: [sh, -c, exit 0]
      destroy: [sh, -c, exit 0]
    url: \"https://shop-pr-{pr}.preview.example.com\"
";

const CHECKS: [&str; 3] = ["gitferry/unit", "gitferry/preview", "gitferry/functional"];

async fn until<T>(mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn summary(name: &str, samples: &mut [Duration]) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "RESULT {name} n={} p50_ms={:.1} p90_ms={:.1} max_ms={:.1}",
        samples.len(),
        pick(0.5).as_secs_f64() * 1000.0,
        pick(0.9).as_secs_f64() * 1000.0,
        samples[samples.len() - 1].as_secs_f64() * 1000.0,
    );
}

#[tokio::main]
async fn main() {
    let pushes: usize = std::env::var("FLOW_BENCH_PUSHES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let t = Tester::new()
        .config(CONFIG)
        .permission("bob", "write")
        .start()
        .await;
    let pr = t.open_pr("feature", &[("app.txt", "0")]).await;
    let mut link = Vec::new();
    let mut checks = Vec::new();
    for n in 1..=pushes {
        let pull = t.repo.pull(pr);
        let before = pull.head_sha.clone();
        let head = t
            .repo
            .commit_files(&pull.head_ref, &[("app.txt", n.to_string())], "work");
        let body = webhooks::pull_request(
            &t.repo,
            t.installation,
            pr,
            "synchronize",
            &pull.author,
            Some(&before),
        );
        let sent = Instant::now();
        let (status, _, _) = t.gitferry.deliver("pull_request", &body).await;
        assert_eq!(status, 202);
        let short = &head[..7];
        until(|| {
            let sticky = t.sticky(pr);
            let ready = sticky.contains("✅ Ready") && sticky.contains(short);
            ready.then_some(())
        })
        .await;
        link.push(sent.elapsed());
        until(|| {
            CHECKS
                .iter()
                .all(|name| {
                    t.repo
                        .check_run(&head, name)
                        .is_some_and(|run| run.conclusion.is_some())
                })
                .then_some(())
        })
        .await;
        checks.push(sent.elapsed());
    }
    summary("synchronize_to_preview_link", &mut link);
    summary("synchronize_to_all_checks_complete", &mut checks);

    let mut reaction = Vec::new();
    for _ in 0..pushes {
        let id = t.repo.add_comment(pr, "bob", "/retest unit");
        let body = webhooks::issue_comment(&t.repo, t.installation, pr, id, "created", "bob", None);
        let sent = Instant::now();
        let (status, _, _) = t.gitferry.deliver("issue_comment", &body).await;
        assert_eq!(status, 202);
        until(|| (!t.repo.reactions(id).is_empty()).then_some(())).await;
        reaction.push(sent.elapsed());
    }
    summary("retest_comment_to_reaction", &mut reaction);
    t.gitferry.stop().await;
}
