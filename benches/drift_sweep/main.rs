//! A drift sweep of many environments with nothing changed, counted: the GitHub and cluster
//! requests one sweep makes, per environment, and how long it takes.
//!
//! The real server (SQLite store) against the fake GitHub and the fake Kubernetes API of the
//! end-to-end tests. One repository with `DRIFT_SWEEP_ENVS` branch-bound environments (default
//! 100), each released once (two objects in its own namespace). Then every environment's last
//! sweep is moved into the past, as if `drift.every` had passed, and one sweep is timed from
//! there until every environment has its new check, and its requests are counted.
//!
//! ```sh
//! cargo bench --bench drift_sweep
//! ```

#[path = "../../tests/e2e/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gitferry::store::DeliveryState;
use gitferry::store::releases::ReleaseState;
use support::db::TestDb;
use support::fake_github::FakeGitHub;
use support::fake_kube::FakeKube;
use support::gitferry::{Gitferry, eventually_within};
use support::webhooks;

const MANIFESTS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { mode: fast }\n\
---\napiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  replicas: 2\n  \
selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    \
spec:\n      containers:\n        - { name: web, image: \"shop:v1\" }\n";

#[tokio::main]
async fn main() {
    let environments: usize = std::env::var("DRIFT_SWEEP_ENVS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let mut config = String::from("environments:\n");
    for n in 0..environments {
        config.push_str(&format!(
            "  env{n}:\n    branch: env{n}\n    deploy: {{ provider: kubernetes, manifests: deploy, namespace: shop-env{n} }}\n"
        ));
    }
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    let repo = fake.add_repo(installation, "octocat/shop");
    repo.commit_files(
        "main",
        &[
            (".github/gitferry.yml", config.as_str()),
            ("deploy/app.yaml", MANIFESTS),
        ],
        "init",
    );
    let kube = FakeKube::start().await;
    let (_kubeconfig_dir, kubeconfig) = kube.kubeconfig();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::sqlite();
    let work = dir.path().join("work").display().to_string();
    let gitferry = Gitferry::start_with(
        &db,
        &fake,
        gitferry::app::router(),
        &[
            "--work-dir",
            &work,
            "--poll-interval",
            "50ms",
            "--reconcile-interval",
            "200ms",
            "--kubeconfig",
            &kubeconfig,
        ],
    )
    .await;
    let main = repo.branch_sha("main").expect("main");
    for n in 0..environments {
        let branch = format!("env{n}");
        repo.create_branch(&branch, "main");
        let body = webhooks::push(&repo, installation, &branch, &"0".repeat(40), &main, "mona");
        let (status, _, id) = gitferry.deliver("push", &body).await;
        assert_eq!(status, 202);
        gitferry.wait_for(&id, DeliveryState::Done).await;
    }
    let long = Duration::from_secs(600);
    eventually_within(
        "every environment released and first swept",
        long,
        || async {
            let checks = gitferry.store.drift_sweeps().await.ok()?;
            let releases = gitferry.store.current_releases().await.ok()?;
            let verified = releases
                .iter()
                .filter(|r| r.state() == Some(ReleaseState::Verified))
                .count();
            (verified == environments && checks.len() == environments).then_some(())
        },
    )
    .await;
    // Let the first sweep's checks finish, then clear the logs and move time on.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pool = sqlx::SqlitePool::connect(&db.url).await.expect("the store");
    fake.clear_requests();
    kube.clear_requests();
    let started = Instant::now();
    sqlx::query("UPDATE drift_checks SET updated_at = 0, finished_at = NULL WHERE pr = 0")
        .execute(&pool)
        .await
        .expect("time passes");
    eventually_within("every environment swept again", long, || async {
        let checks = gitferry.store.drift_sweeps().await.ok()?;
        let mut done = 0;
        for (repository, environment, _) in &checks {
            let check = gitferry
                .store
                .drift_check(repository, environment, 0)
                .await
                .ok()??;
            if check.finished_at.is_some() && check.updated_at > 0 {
                done += 1;
            }
        }
        (done == environments).then_some(())
    })
    .await;
    let took = started.elapsed();
    let github = fake.requests();
    let cluster = kube.requests();
    let writes = cluster.iter().filter(|r| r.method != "GET").count()
        + github.iter().filter(|r| r.method != "GET").count();
    println!(
        "RESULT drift_sweep environments={environments} seconds={:.2} github_requests={} \
         github_per_env={:.2} cluster_requests={} cluster_per_env={:.2} writes={writes}",
        took.as_secs_f64(),
        github.len(),
        github.len() as f64 / environments as f64,
        cluster.len(),
        cluster.len() as f64 / environments as f64,
    );
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for r in &github {
        let shape = r.path.split('/').take(5).collect::<Vec<_>>().join("/");
        *kinds
            .entry(format!("github {} {shape}", r.method))
            .or_default() += 1;
    }
    for r in &cluster {
        let resource = r.path.rsplit('/').next().unwrap_or_default();
        *kinds
            .entry(format!("cluster {} …/{resource}", r.method))
            .or_default() += 1;
    }
    for (what, count) in kinds {
        println!("  {count:>5}  {what}");
    }
    pool.close().await;
    gitferry.stop().await;
}
