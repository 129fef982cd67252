//! Two replicas (two schedulers on one store) sharing ticks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Scheduler, Tick};
use crate::store::{Store, now_ms};

/// Who ran the tick, from when to when (Unix ms).
type Runs = Arc<Mutex<Vec<(String, i64, i64)>>>;

async fn store_in(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}", dir.path().join("ticks.db").display());
    let store = Store::connect(&url).await.expect("store");
    store.migrate().await.expect("migrate");
    store
}

/// A replica whose one tick records its runs, each taking a little while.
fn replica(name: &'static str, runs: &Runs, lease: Duration) -> Scheduler<()> {
    let mut scheduler = Scheduler::new(lease);
    let runs = Arc::clone(runs);
    scheduler.register(Tick::new(
        "test.sweep",
        Duration::from_millis(20),
        move |(), held| {
            let runs = Arc::clone(&runs);
            async move {
                assert_eq!(held.tick(), "test.sweep");
                let start = now_ms();
                tokio::time::sleep(Duration::from_millis(15)).await;
                runs.lock()
                    .unwrap()
                    .push((name.to_owned(), start, now_ms()));
                Ok(())
            }
        },
    ));
    scheduler
}

fn start(
    scheduler: Scheduler<()>,
    store: Store,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let stop = CancellationToken::new();
    let task = tokio::spawn(scheduler.run(store, (), stop.clone()));
    (stop, task)
}

async fn wait_for(runs: &Runs, what: &str, check: impl Fn(&[(String, i64, i64)]) -> bool) {
    for _ in 0..500 {
        if check(&runs.lock().unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}: {:?}", runs.lock().unwrap());
}

fn assert_never_overlapping(runs: &[(String, i64, i64)]) {
    let mut sorted = runs.to_vec();
    sorted.sort_by_key(|run| run.1);
    for pair in sorted.windows(2) {
        assert!(
            pair[0].2 <= pair[1].1,
            "two runs overlapped: {:?} and {:?}",
            pair[0],
            pair[1]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_never_run_a_tick_at_once_and_a_clean_stop_hands_it_over() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Runs = Arc::default();
    let lease = Duration::from_millis(600);
    let (stop_a, a) = start(replica("a", &runs, lease), store_in(&dir).await);
    let (stop_b, b) = start(replica("b", &runs, lease), store_in(&dir).await);

    wait_for(&runs, "ten runs", |runs| runs.len() >= 10).await;
    let first = runs.lock().unwrap()[0].0.clone();
    assert!(
        runs.lock().unwrap().iter().all(|run| run.0 == first),
        "the holder keeps its tick while it lives: {:?}",
        runs.lock().unwrap()
    );

    // The holder stops cleanly: it gives the lease back and the other replica goes on.
    let (stop_holder, holder, stop_other, other) = if first == "a" {
        (stop_a, a, stop_b, b)
    } else {
        (stop_b, b, stop_a, a)
    };
    stop_holder.cancel();
    holder.await.unwrap();
    let before = runs.lock().unwrap().len();
    wait_for(&runs, "the other replica's runs", |runs| {
        runs[before..].iter().filter(|run| run.0 != first).count() >= 3
    })
    .await;
    stop_other.cancel();
    other.await.unwrap();
    assert_never_overlapping(&runs.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_dies_loses_its_tick_once_the_lease_lapses() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    let runs: Runs = Arc::default();
    let lease = Duration::from_millis(400);
    let (_never, a) = start(replica("a", &runs, lease), store.clone());
    wait_for(&runs, "a's first run", |runs| !runs.is_empty()).await;
    let (stop_b, b) = start(replica("b", &runs, lease), store_in(&dir).await);

    // Killed, not stopped: no lease is given back.
    a.abort();
    let _ = a.await;
    let died_at = now_ms();
    let held_until = store
        .tick_lease("test.sweep")
        .await
        .unwrap()
        .expect("the tick has a row")
        .lease_until;
    wait_for(&runs, "b taking the tick over", |runs| {
        runs.iter().any(|run| run.0 == "b")
    })
    .await;
    let row = store.tick_lease("test.sweep").await.unwrap().unwrap();
    let taken_at = row.acquired_at.expect("b acquired the lease");
    assert!(
        taken_at >= held_until,
        "b took the tick before a's lease lapsed ({taken_at} < {held_until})"
    );
    eprintln!("takeover {} ms after the holder died", taken_at - died_at);
    stop_b.cancel();
    b.await.unwrap();
    assert_never_overlapping(&runs.lock().unwrap());
    let released = store.tick_lease("test.sweep").await.unwrap().unwrap();
    assert_eq!(released.holder, None, "a clean stop gives the lease back");
}

#[tokio::test]
async fn a_failing_tick_is_recorded_and_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    let attempts = Arc::new(Mutex::new(0));
    let mut scheduler = Scheduler::new(Duration::from_millis(300));
    let counter = Arc::clone(&attempts);
    scheduler.register(Tick::new(
        "test.flaky",
        Duration::from_millis(10),
        move |(), _| {
            let counter = Arc::clone(&counter);
            async move {
                *counter.lock().unwrap() += 1;
                anyhow::bail!("the cluster did not answer")
            }
        },
    ));
    let (stop, task) = start(scheduler, store.clone());
    for _ in 0..500 {
        if *attempts.lock().unwrap() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    task.await.unwrap();
    assert!(
        *attempts.lock().unwrap() >= 3,
        "a failure does not stop the tick"
    );
    let row = store.tick_lease("test.flaky").await.unwrap().unwrap();
    assert_eq!(
        row.last_error.as_deref(),
        Some("the cluster did not answer")
    );
    assert!(row.runs >= 3);
}
