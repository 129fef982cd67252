//! One promotion, from `/promote production` to production's branch holding the candidate,
//! counted: every GitHub request gitferry makes on the way, listed, with any request repeated
//! within one step flagged.
//!
//! The real server (SQLite store) against the fake GitHub of the end-to-end tests. Staging has
//! a verified release; an admin comments `/promote production` on a pull request (gitferry
//! opens the promotion pull request), another admin approves it with a review (gitferry checks
//! the gate and fast-forwards `main`). `PROMOTION_BENCH_ROUNDS` promotions (default 20) give
//! the time from the approval's delivery to `main` moving (p50, max).
//!
//! ```sh
//! cargo bench --bench promotion
//! ```

#[path = "../../tests/e2e/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use gitferry::store::DeliveryState;
use gitferry::store::releases::ReleaseState;
use support::db::TestDb;
use support::fake_github::{FakeGitHub, PrSpec, RepoHandle};
use support::gitferry::{Gitferry, eventually};
use support::webhooks;

const CONFIG: &str = "\
environments:
  staging:
    branch: latest
    deploy:
      provider: command
      deploy: [sh, -c, exit 0]
      destroy: [sh, -c, exit 0]
  production:
    branch: main
    promote_from: staging
    deploy:
      provider: command
      deploy: [sh, -c, exit 0]
      destroy: [sh, -c, exit 0]
";

struct Shop {
    fake: FakeGitHub,
    repo: RepoHandle,
    installation: u64,
    gitferry: Gitferry,
}

impl Shop {
    async fn deliver(&self, event: &str, body: &[u8]) {
        let (status, _, id) = self.gitferry.deliver(event, body).await;
        assert_eq!(status, 202);
        self.gitferry.wait_for(&id, DeliveryState::Done).await;
    }

    async fn verified(&self, environment: &str, sha: &str) {
        eventually("the release to be verified", || async {
            self.gitferry
                .store
                .releases_of("octocat/shop", Some(environment), 5)
                .await
                .ok()?
                .into_iter()
                .find(|r| r.sha == sha && r.state() == Some(ReleaseState::Verified))
        })
        .await;
    }

    /// A verified staging release of `content`.
    async fn stage(&self, content: &str) -> String {
        let before = self
            .repo
            .branch_sha("latest")
            .unwrap_or_else(|| "0".repeat(40));
        let after = self
            .repo
            .commit_files("latest", &[("app.txt", content)], "work");
        let body = webhooks::push(
            &self.repo,
            self.installation,
            "latest",
            &before,
            &after,
            "mona",
        );
        self.deliver("push", &body).await;
        self.verified("staging", &after).await;
        after
    }
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("PROMOTION_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    let repo = fake.add_repo(installation, "octocat/shop");
    repo.commit_files("main", &[(".github/gitferry.yml", CONFIG)], "init");
    repo.commit_files("notes", &[("notes.txt", "x")], "notes");
    repo.set_permission("dora", "admin");
    repo.set_permission("root", "admin");
    let on = repo.open_pr(PrSpec::new("notes", "main").author("alice"));
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::sqlite();
    let work = dir.path().join("work").display().to_string();
    let gitferry = Gitferry::start_with(
        &db,
        &fake,
        gitferry::app::router(),
        &["--work-dir", &work, "--poll-interval", "1s"],
    )
    .await;
    let shop = Shop {
        fake,
        repo,
        installation,
        gitferry,
    };

    let mut samples = Vec::new();
    let mut listed = None;
    for round in 0..rounds {
        let candidate = shop.stage(&format!("v{round}")).await;
        shop.fake.clear_requests();
        let comment = shop.repo.add_comment(on, "dora", "/promote production");
        let hook = webhooks::issue_comment(
            &shop.repo,
            shop.installation,
            on,
            comment,
            "created",
            "dora",
            None,
        );
        shop.deliver("issue_comment", &hook).await;
        let promote_requests = shop.fake.requests();
        let pr = shop
            .repo
            .pulls()
            .into_iter()
            .find(|p| p.head_ref == "gitferry/promote/production" && p.head_sha == candidate)
            .expect("the promotion PR")
            .number;
        shop.fake.clear_requests();
        let review = shop.repo.add_review(pr, "root", "APPROVED");
        let body = webhooks::review_submitted(
            &shop.repo,
            shop.installation,
            pr,
            "root",
            "approved",
            review,
        );
        let started = Instant::now();
        let (status, _, id) = shop.gitferry.deliver("pull_request_review", &body).await;
        assert_eq!(status, 202);
        eventually("main to hold the candidate", || async {
            (shop.repo.branch_sha("main").as_deref() == Some(candidate.as_str())).then_some(())
        })
        .await;
        samples.push(started.elapsed());
        shop.gitferry.wait_for(&id, DeliveryState::Done).await;
        shop.verified("production", &candidate).await;
        let mut approve_requests = shop.fake.requests();
        // From the approval to the merged ref; what follows is the promotion's check run and
        // comment, then production's release (as any release: deployment, its check run, the
        // merged PRs told).
        let merged_at = approve_requests
            .iter()
            .position(|r| r.method == "PATCH" && r.path.ends_with("/git/refs/heads/main"))
            .map_or(approve_requests.len(), |at| at + 1);
        let release_requests = approve_requests.split_off(merged_at).len();
        if round == 1 {
            // The second promotion: config and token are cached, as for every one after.
            listed = Some((promote_requests, approve_requests, release_requests));
        }
    }
    samples.sort();
    println!(
        "RESULT approval_to_merged rounds={} p50_ms={:.2} max_ms={:.2}",
        samples.len(),
        samples[samples.len() / 2].as_secs_f64() * 1000.0,
        samples[samples.len() - 1].as_secs_f64() * 1000.0,
    );
    if let Some((promote, approve, release)) = listed {
        println!(
            "REQUESTS one promotion: /promote {} + approval to merged ref {} = {} \
             (after it: {release} more for the promotion's check run and comment and \
             production's release)",
            promote.len(),
            approve.len(),
            promote.len() + approve.len()
        );
        for (step, requests) in [("/promote", promote), ("approval", approve)] {
            println!("  {step}:");
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for r in &requests {
                let query = r
                    .query
                    .as_deref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                let request = format!("{} {}{query}", r.method, r.path);
                *seen.entry(request.clone()).or_default() += 1;
                println!("    {request} -> {}", r.status);
            }
            for (request, times) in seen.into_iter().filter(|(_, n)| *n > 1) {
                println!("    REPEATED {times}x: {request}");
            }
        }
    }
    shop.gitferry.stop().await;
}
