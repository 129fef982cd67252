//! Two `gitferry serve` processes on one store share the periodic ticks: each tick runs on
//! exactly one of them, and when its holder is killed (`kill -9`, no goodbye) the other takes
//! it over once the holder's lease has lapsed.

use std::time::Duration;

use gitferry::store::Store;
use gitferry::store::ticks::TickLease;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::Child;

use crate::support::db::TestDb;
use crate::support::gitferry::{eventually, free_listen_address, terminate, wait_until_healthy};
use crate::support::sandbox::gitferry_command;

const TICK: &str = "preview.reconcile";
const LEASE: &str = "1500ms";

fn replica(db: &TestDb, work: &tempfile::TempDir) -> (Child, String) {
    let listen = free_listen_address();
    let child = gitferry_command()
        .args(["serve", "--listen", &listen, "--database-url", &db.url])
        .args(["--tick-lease", LEASE, "--reconcile-interval", "100ms"])
        .args(["--work-dir", &work.path().display().to_string()])
        .env("GITFERRY_ENV_FILE", work.path().join(".env"))
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("spawn gitferry serve");
    (child, listen)
}

/// The pid in a lease holder's name (`tick/<pid>/<random>`).
fn holder_pid(lease: &TickLease) -> Option<u32> {
    lease.holder.as_deref()?.split('/').nth(1)?.parse().ok()
}

async fn lease(store: &Store) -> Option<TickLease> {
    store.tick_lease(TICK).await.expect("query")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_s_tick_moves_to_the_other_within_one_lease() {
    for db in TestDb::all().await {
        let work = tempfile::tempdir().expect("work dir");
        let (first, first_listen) = replica(&db, &work);
        wait_until_healthy(&first_listen).await;
        let store = Store::connect(&db.url).await.expect("store");
        let first_pid = first.id().expect("running");
        eventually("the first replica holds the tick", || async {
            (lease(&store).await.as_ref().and_then(holder_pid) == Some(first_pid)).then_some(())
        })
        .await;
        let (second, second_listen) = replica(&db, &work);
        wait_until_healthy(&second_listen).await;
        let second_pid = second.id().expect("running");

        // While both live, the tick stays with its holder and keeps running there.
        let runs_before = lease(&store).await.expect("row").runs;
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = lease(&store).await.expect("row");
            assert_eq!(
                holder_pid(&now),
                Some(first_pid),
                "{}: the tick moved",
                db.dialect
            );
        }
        assert!(
            lease(&store).await.expect("row").runs > runs_before,
            "the tick runs"
        );

        // kill -9: the holder gives nothing back.
        let held_until = lease(&store).await.expect("row").lease_until;
        kill(Pid::from_raw(first_pid as i32), Signal::SIGKILL).expect("SIGKILL");
        let taken = eventually("the second replica takes the tick", || async {
            let now = lease(&store).await?;
            (holder_pid(&now) == Some(second_pid)).then_some(now)
        })
        .await;
        let acquired_at = taken.acquired_at.expect("acquired");
        assert!(
            acquired_at >= held_until,
            "{}: taken while the dead holder's lease still ran",
            db.dialect
        );
        eprintln!(
            "{}: tick taken over {} ms after the dead holder's lease lapsed",
            db.dialect,
            acquired_at - held_until
        );
        let runs_at_takeover = taken.runs;
        eventually("the tick runs on the second replica", || async {
            (lease(&store).await?.runs > runs_at_takeover).then_some(())
        })
        .await;
        terminate(&second);
        let status = second.wait_with_output().await.expect("exit").status;
        assert!(status.success(), "clean stop: {status:?}");
        assert_eq!(
            lease(&store).await.expect("row").holder,
            None,
            "released on stop"
        );
        store.close().await;
    }
}
