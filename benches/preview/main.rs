//! From a `pull_request.opened` delivery to the deploy provider being called, measured.
//!
//! The real server (SQLite store) against the fake GitHub of the end-to-end tests, with the
//! command provider: the deploy script's first act is to write the time it started. For each
//! of `PREVIEW_BENCH_PRS` pull requests (default 200), the time from just before the signed
//! delivery is POSTed to the script's start is one sample. Printed: p50, p90, p99, max, and
//! the GitHub requests made from one PR's delivery to its first successful preview.
//!
//! ```sh
//! cargo bench --bench preview
//! ```

#[path = "../../tests/e2e/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gitferry::store::DeliveryState;
use support::db::TestDb;
use support::fake_github::{FakeGitHub, PrSpec};
use support::gitferry::{Gitferry, eventually};
use support::payloads;

const CONFIG: &str = "\
environments:
  preview:
    pull_requests: { base: [main] }
    deploy:
      provider: command
      deploy: [sh, deploy.sh]
      destroy: [sh, -c, exit 0]
";

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let prs: usize = std::env::var("PREVIEW_BENCH_PRS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    let repo = fake.add_repo(installation, "octocat/shop");
    let dir = tempfile::tempdir().expect("temp dir");
    // The deploy script runs sandboxed: it may write only where the test servers let it.
    let stamps = support::sandbox::writable_dir();
    // `date +%s%N` is the script's first command: the provider has been called by then.
    let script = format!(
        "#!/bin/sh\ndate +%s%N > {}/$GITFERRY_PR\necho GITFERRY_URL=https://pr-$GITFERRY_PR.example.com\n",
        stamps.display()
    );
    repo.commit_files(
        "main",
        &[
            (".github/gitferry.yml", CONFIG.to_owned()),
            ("deploy.sh", script),
        ],
        "init",
    );
    let db = TestDb::sqlite();
    let work = dir.path().join("work").display().to_string();
    let gitferry = Gitferry::start_with(
        &db,
        &fake,
        gitferry::app::router(),
        &["--work-dir", &work, "--poll-interval", "1s"],
    )
    .await;

    let mut samples = Vec::with_capacity(prs);
    let mut first_requests = None;
    for n in 0..prs {
        let branch = format!("feature-{n}");
        let head = repo.commit_files(&branch, &[("app.txt", n.to_string())], "work");
        let pr = repo.open_pr(PrSpec::new(&branch, "main"));
        let body = payloads::pull_request(&repo, installation, pr, "opened");
        fake.clear_requests();
        let sent = now_ns();
        let (status, _, id) = gitferry.deliver("pull_request", &body).await;
        assert_eq!(status, 202);
        let stamp = stamps.join(pr.to_string());
        let called: u128 = eventually("the deploy script to start", || async {
            std::fs::read_to_string(&stamp)
                .ok()
                .and_then(|text| text.trim().parse().ok())
        })
        .await;
        samples.push(Duration::from_nanos((called.saturating_sub(sent)) as u64));
        gitferry.wait_for(&id, DeliveryState::Done).await;
        // The check run's success is the last thing a deploy reports.
        eventually("the preview to be ready", || async {
            repo.check_run(&head, "gitferry/preview")
                .filter(|c| c.conclusion.as_deref() == Some("success"))
        })
        .await;
        if n == 1 {
            // The second PR: config and token are cached, as for every PR after the first.
            first_requests = Some(fake.requests());
        }
    }
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "RESULT delivery_to_provider prs={} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        samples.len(),
        pick(0.50).as_secs_f64() * 1000.0,
        pick(0.90).as_secs_f64() * 1000.0,
        pick(0.99).as_secs_f64() * 1000.0,
        samples[samples.len() - 1].as_secs_f64() * 1000.0,
    );
    if let Some(requests) = first_requests {
        println!(
            "REQUESTS one PR, delivery to first successful preview: {}",
            requests.len()
        );
        for r in requests {
            println!("  {} {} -> {}", r.method, r.path, r.status);
        }
    }
    gitferry.stop().await;
}
