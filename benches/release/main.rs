//! From a `push` to an environment's branch to its deploy provider being called, measured.
//!
//! The real server (SQLite store) against the fake GitHub of the end-to-end tests, with the
//! command provider: the deploy script's first act is to write the time it started. For each
//! of `RELEASE_BENCH_PUSHES` pushes to `latest` (staging's branch; default 100), the time from
//! just before the signed delivery is POSTed to the script's start is one sample; the next push
//! waits until the release is verified. Printed: p50, p90, p99, max, and the GitHub requests
//! one release makes from its push to its verification.
//!
//! ```sh
//! cargo bench --bench release
//! ```

#[path = "../../tests/e2e/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gitferry::store::DeliveryState;
use gitferry::store::releases::ReleaseState;
use support::db::TestDb;
use support::fake_github::FakeGitHub;
use support::gitferry::{Gitferry, eventually};
use support::webhooks;

const CONFIG: &str = "\
environments:
  staging:
    branch: latest
    deploy:
      provider: command
      deploy: [sh, deploy.sh]
      destroy: [sh, -c, exit 0]
    url: \"https://staging.example.com\"
";

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let pushes: usize = std::env::var("RELEASE_BENCH_PUSHES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    let repo = fake.add_repo(installation, "octocat/shop");
    let dir = tempfile::tempdir().expect("temp dir");
    // The deploy script runs sandboxed: it may write only where the test servers let it.
    let stamps = support::sandbox::writable_dir();
    let script = format!(
        "#!/bin/sh\ndate +%s%N > {}/$GITFERRY_SHA\n",
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

    let mut samples = Vec::with_capacity(pushes);
    let mut one_release = None;
    for n in 0..pushes {
        let before = repo.branch_sha("latest").unwrap_or_else(|| "0".repeat(40));
        let after = repo.commit_files("latest", &[("app.txt", n.to_string())], "work");
        let body = webhooks::push(&repo, installation, "latest", &before, &after, "mona");
        fake.clear_requests();
        let sent = now_ns();
        let (status, _, id) = gitferry.deliver("push", &body).await;
        assert_eq!(status, 202);
        let stamp = stamps.join(&after);
        let called: u128 = eventually("the deploy script to start", || async {
            std::fs::read_to_string(&stamp)
                .ok()
                .and_then(|text| text.trim().parse().ok())
        })
        .await;
        samples.push(Duration::from_nanos((called.saturating_sub(sent)) as u64));
        gitferry.wait_for(&id, DeliveryState::Done).await;
        eventually("the release to be verified", || async {
            let releases = gitferry
                .store
                .releases_of("octocat/shop", Some("staging"), 1)
                .await
                .ok()?;
            releases
                .first()
                .filter(|r| r.sha == after && r.state() == Some(ReleaseState::Verified))
                .map(|_| ())
        })
        .await;
        if n == 1 {
            // The second release: config and token are cached, as for every one after.
            one_release = Some(fake.requests());
        }
    }
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "RESULT push_to_provider pushes={} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        samples.len(),
        pick(0.50).as_secs_f64() * 1000.0,
        pick(0.90).as_secs_f64() * 1000.0,
        pick(0.99).as_secs_f64() * 1000.0,
        samples[samples.len() - 1].as_secs_f64() * 1000.0,
    );
    if let Some(requests) = one_release {
        println!("REQUESTS one release, push to verified: {}", requests.len());
        for r in requests {
            println!("  {} {} -> {}", r.method, r.path, r.status);
        }
    }
    gitferry.stop().await;
}
