//! The durable inbox under load, failure, crashes, shutdown and several servers.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gitferry::router::{HandlerError, Router};
use gitferry::store::{DeliveryState, NewDelivery, now_ms};
use serde_json::json;

use crate::support::db::TestDb;
use crate::support::fake_github::FakeGitHub;
use crate::support::gitferry::{Gitferry, delivery_id, eventually};

/// Delivery ids in the order handlers saw them.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, id: &str) {
        self.0.lock().expect("lock").push(id.to_owned());
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().expect("lock").clone()
    }
}

fn pr_event(repo_id: u64, number: u64, action: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "head": { "sha": "h", "ref": "feature", "repo": { "full_name": "octocat/shop" } },
            "base": { "sha": "b", "ref": "main", "repo": { "full_name": "octocat/shop" } },
        },
        "repository": { "id": repo_id, "full_name": "octocat/shop", "default_branch": "main" },
        "installation": { "id": 1 },
    }))
    .expect("json")
}

/// A router whose `pull_request` handler records each delivery, the first one slowly.
fn recording_router(seen: &Seen, delay_first: Duration) -> Router {
    let seen = seen.clone();
    let mut router = Router::default();
    router.on("pull_request", move |_ctx, event| {
        let seen = seen.clone();
        async move {
            if seen.all().is_empty() {
                tokio::time::sleep(delay_first).await;
            }
            seen.push(&event.delivery_id);
            Ok(())
        }
    });
    router
}

#[tokio::test]
async fn one_pull_requests_deliveries_are_processed_in_arrival_order() {
    for db in TestDb::all().await {
        let fake = FakeGitHub::start().await;
        let seen = Seen::default();
        let gitferry = Gitferry::start_with(
            &db,
            &fake,
            recording_router(&seen, Duration::from_millis(300)),
            &["--workers", "4"],
        )
        .await;
        let mut sent = Vec::new();
        for action in [
            "opened",
            "synchronize",
            "labeled",
            "synchronize",
            "edited",
            "closed",
        ] {
            let (status, _, id) = gitferry
                .deliver("pull_request", &pr_event(9, 1, action))
                .await;
            assert_eq!(status, 202);
            sent.push(id);
        }
        for id in &sent {
            gitferry.wait_for(id, DeliveryState::Done).await;
        }
        assert_eq!(seen.all(), sent, "{}", db.dialect);
        gitferry.stop().await;
    }
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_dead_lettered_listed_and_requeued() {
    for db in TestDb::all().await {
        a_delivery_that_keeps_failing_is_dead_lettered_listed_and_requeued_on(db).await;
    }
}

async fn a_delivery_that_keeps_failing_is_dead_lettered_listed_and_requeued_on(db: TestDb) {
    let fake = FakeGitHub::start().await;
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut router = Router::default();
    {
        let healthy = Arc::clone(&healthy);
        router.on("pull_request", move |_ctx, _event| {
            let healthy = healthy.load(std::sync::atomic::Ordering::SeqCst);
            async move {
                if healthy {
                    Ok(())
                } else {
                    Err(HandlerError::retry(anyhow::anyhow!(
                        "deploy backend unreachable"
                    )))
                }
            }
        });
    }
    let gitferry = Gitferry::start_with(&db, &fake, router, &["--max-attempts", "3"]).await;
    let (_, _, id) = gitferry
        .deliver("pull_request", &pr_event(9, 2, "opened"))
        .await;
    let dead = gitferry.wait_for(&id, DeliveryState::Dead).await;
    assert_eq!(dead.attempts, 3);
    assert_eq!(
        dead.last_error.as_deref(),
        Some("deploy backend unreachable")
    );

    let listed = run_cli(&["deliveries", "--failed", "--database-url", &db.url]).await;
    assert!(
        listed.contains(&id) && listed.contains("pull_request.opened"),
        "{listed}"
    );
    assert!(
        listed.contains("attempts=3  last error: deploy backend unreachable"),
        "{listed}"
    );

    healthy.store(true, std::sync::atomic::Ordering::SeqCst);
    let requeued = run_cli(&["deliveries", "--database-url", &db.url, "retry", &id]).await;
    assert!(requeued.contains("queued again"), "{requeued}");
    let done = gitferry.wait_for(&id, DeliveryState::Done).await;
    assert_eq!(done.attempts, 1);

    let again = crate::support::sandbox::gitferry_command()
        .args(["deliveries", "--database-url", &db.url, "retry", &id])
        .output()
        .await
        .expect("run gitferry");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no dead-lettered delivery with id"));
}

async fn run_cli(args: &[&str]) -> String {
    let output = crate::support::sandbox::gitferry_command()
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run gitferry");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_at_once() {
    for db in TestDb::all().await {
        a_permanent_failure_is_dead_lettered_at_once_on(db).await;
    }
}

async fn a_permanent_failure_is_dead_lettered_at_once_on(db: TestDb) {
    let fake = FakeGitHub::start().await;
    let gitferry = Gitferry::start(&db, &fake).await;
    // An installation payload without an account cannot be understood, however often tried.
    let body =
        serde_json::to_vec(&json!({"action": "created", "installation": {"id": 5}})).expect("json");
    let (status, _, id) = gitferry.deliver("installation", &body).await;
    assert_eq!(status, 202);
    let dead = gitferry.wait_for(&id, DeliveryState::Dead).await;
    assert_eq!(dead.attempts, 1);
    assert!(
        dead.last_error
            .as_deref()
            .unwrap_or("")
            .contains("installation.created payload lacks")
    );
}

#[tokio::test]
async fn a_delivery_held_by_a_dead_worker_is_taken_again_after_its_lease() {
    for db in TestDb::all().await {
        let fake = FakeGitHub::start().await;
        let seen = Seen::default();
        // A worker of another process claimed this delivery, then the process was killed.
        let store = gitferry::store::Store::connect(&db.url)
            .await
            .expect("store");
        store.migrate().await.expect("migrate");
        let id = delivery_id();
        store
            .insert_delivery(&NewDelivery {
                delivery_id: id.clone(),
                event: "pull_request".into(),
                action: Some("opened".into()),
                installation_id: Some(1),
                repository: Some("octocat/shop".into()),
                ordering_key: Some("repo:9#3".into()),
                payload: String::from_utf8(pr_event(9, 3, "opened")).expect("utf8"),
                received_at: now_ms(),
                state: DeliveryState::Pending,
            })
            .await
            .expect("insert");
        let claimed = store
            .claim_delivery("killed-worker/0", now_ms() + 800, now_ms())
            .await
            .expect("claim");
        assert!(claimed.is_some());

        let gitferry =
            Gitferry::start_with(&db, &fake, recording_router(&seen, Duration::ZERO), &[]).await;
        let done = gitferry.wait_for(&id, DeliveryState::Done).await;
        assert_eq!(done.attempts, 2, "{}", db.dialect);
        assert_eq!(seen.all(), vec![id.clone()]);
        // The dead worker's late answer cannot overwrite the outcome.
        assert!(
            !store
                .complete_delivery(claimed.expect("claimed").id, "killed-worker/0", now_ms())
                .await
                .expect("query")
        );
        gitferry.stop().await;
    }
}

#[tokio::test]
async fn two_servers_on_one_postgresql_never_process_a_delivery_twice() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("GITFERRY_TEST_DATABASE_URL not set: skipped");
        return;
    };
    let fake = FakeGitHub::start().await;
    let seen = Seen::default();
    let router = || {
        let seen = seen.clone();
        let mut router = Router::default();
        router.on("pull_request", move |_ctx, event| {
            let seen = seen.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                seen.push(&event.delivery_id);
                Ok(())
            }
        });
        router
    };
    let a = Gitferry::start_with(&db, &fake, router(), &["--workers", "4"]).await;
    let b = Gitferry::start_with(&db, &fake, router(), &["--workers", "4"]).await;
    let mut sent = Vec::new();
    for n in 0..200u64 {
        let server = if n % 2 == 0 { &a } else { &b };
        let (status, _, id) = server
            .deliver("pull_request", &pr_event(9, n % 17, "synchronize"))
            .await;
        assert_eq!(status, 202);
        sent.push(id);
    }
    eventually("all deliveries processed", || async {
        (seen.all().len() >= sent.len()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let processed = seen.all();
    let unique: HashSet<_> = processed.iter().collect();
    assert_eq!(
        processed.len(),
        sent.len(),
        "some delivery was processed twice"
    );
    assert_eq!(unique.len(), sent.len());
    for id in &sent {
        assert_eq!(a.delivery(id).await.expect("row").state, "done");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn shutdown_finishes_work_in_hand_or_releases_it_after_the_grace_period() {
    for db in TestDb::all().await {
        shutdown_finishes_work_in_hand_or_releases_it_after_the_grace_period_on(db).await;
    }
}

async fn shutdown_finishes_work_in_hand_or_releases_it_after_the_grace_period_on(db: TestDb) {
    let fake = FakeGitHub::start().await;
    let mut router = Router::default();
    router.on("pull_request", |_ctx, event| async move {
        let slow = event.pull_request()?.pull_request.number == 2;
        tokio::time::sleep(Duration::from_millis(if slow { 30_000 } else { 500 })).await;
        Ok(())
    });
    let gitferry = Gitferry::start_with(&db, &fake, router, &["--shutdown-grace", "1s"]).await;
    let (_, _, quick) = gitferry
        .deliver("pull_request", &pr_event(9, 1, "opened"))
        .await;
    let (_, _, slow) = gitferry
        .deliver("pull_request", &pr_event(9, 2, "opened"))
        .await;
    eventually("both claimed", || async {
        (gitferry
            .store
            .count_deliveries(DeliveryState::Processing)
            .await
            .expect("count")
            == 2)
            .then_some(())
    })
    .await;
    gitferry.stop().await;
    let store = gitferry::store::Store::connect(&db.url)
        .await
        .expect("store");

    let quick = store
        .find_delivery(&quick)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(quick.state, "done");
    let slow = store
        .find_delivery(&slow)
        .await
        .expect("query")
        .expect("row");
    assert_eq!((slow.state.as_str(), slow.attempts), ("pending", 0));
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_with_exit_status_0() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let listen = crate::support::gitferry::free_listen_address();
    let mut child = crate::support::sandbox::gitferry_command()
        .args([
            "serve",
            "--listen",
            &listen,
            "--database-url",
            &db.url,
            "--github-api-url",
            &fake.url(),
        ])
        .env("RUST_LOG", "warn")
        .env("GITFERRY_ENV_FILE", "/nonexistent/.env")
        .kill_on_drop(true)
        .spawn()
        .expect("spawn gitferry serve");
    crate::support::gitferry::wait_until_healthy(&listen).await;
    crate::support::gitferry::terminate(&child);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits within the grace period")
        .expect("wait");
    assert_eq!(status.code(), Some(0));
}
