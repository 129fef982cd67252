//! The generated statements' semantics on every configured dialect (SQLite always, PostgreSQL
//! when `GITFERRY_TEST_DATABASE_URL` is set): two claimers never get the same row, a lapsed
//! lease is claimable again, and a holder whose row was taken over cannot write. First on a
//! table of the tests' own, then through each queue of the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::Row;

use super::*;
use crate::store::deliveries::{DeliveryState, NewDelivery};
use crate::store::notifications::NewNotification;
use crate::store::pipeline::{NewStep, StepConclusion, StepOutcome, StepState};
use crate::store::previews::{PreviewHead, PreviewOutcome, PreviewStatus};
use crate::store::testing::TestStore;
use crate::store::{Dialect, Store};

/// A queue of the tests' own, shaped like the inbox: `pending`, then `running` under a lease.
const JOBS: LeasedQueue = LeasedQueue {
    table: "leased_jobs",
    key: &["id"],
    holder: Holder::Token("lease_owner"),
    due: "c.state = 'pending' OR (c.state = 'running' AND c.lease_until < $2)",
    order: "c.id",
    on_claim: "state = 'running', attempts = attempts + 1",
    held: "state = 'running'",
    returning: "id, attempts",
};

async fn with_jobs(store: &Store, rows: i64) {
    sqlx::query(
        "CREATE TABLE leased_jobs (
             id          BIGINT PRIMARY KEY,
             state       TEXT   NOT NULL,
             attempts    BIGINT NOT NULL DEFAULT 0,
             lease_owner TEXT,
             lease_until BIGINT,
             result      TEXT
         )",
    )
    .execute(store.pool())
    .await
    .expect("create the test queue");
    for id in 1..=rows {
        sqlx::query("INSERT INTO leased_jobs (id, state) VALUES ($1, 'pending')")
            .bind(id)
            .execute(store.pool())
            .await
            .expect("insert a job");
    }
}

/// Claims one job: its id and attempts.
async fn claim_job(store: &Store, owner: &str, until: i64, now: i64) -> Option<(i64, i64)> {
    let sql = JOBS.claim().get(store.dialect()).to_owned();
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(until)
        .bind(now)
        .bind(owner)
        .fetch_optional(store.pool())
        .await
        .expect("claim")
}

/// The holder's write of a result; whether it was written.
async fn finish_job(store: &Store, id: i64, owner: &str, result: &str) -> bool {
    let sql = JOBS.update_held(
        "state = 'done', result = $1, lease_owner = NULL, lease_until = NULL",
        1,
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(result)
        .bind(id)
        .bind(owner)
        .execute(store.pool())
        .await
        .expect("finish")
        .rows_affected()
        == 1
}

async fn renew_job(store: &Store, id: i64, owner: &str, until: i64) -> bool {
    sqlx::query(sqlx::AssertSqlSafe(JOBS.renew()))
        .bind(until)
        .bind(id)
        .bind(owner)
        .execute(store.pool())
        .await
        .expect("renew")
        .rows_affected()
        == 1
}

#[test]
fn only_the_postgres_claim_skips_locked_rows_and_guards_number_after_the_set() {
    let claim = JOBS.claim();
    assert!(!claim.get(Dialect::Sqlite).contains("SKIP LOCKED"));
    assert_eq!(
        claim
            .get(Dialect::Postgres)
            .matches("FOR UPDATE SKIP LOCKED")
            .count(),
        1
    );
    let two_keys = LeasedQueue {
        key: &["repository", "pr"],
        ..JOBS
    };
    assert_eq!(
        two_keys.update_held("result = $1, state = $2", 2),
        "UPDATE leased_jobs SET result = $1, state = $2\n \
         WHERE repository = $3 AND pr = $4 AND lease_owner = $5 AND state = 'running'"
    );
    assert!(
        two_keys.claim().get(Dialect::Sqlite).contains(
            "WHERE (repository, pr) = (\n    SELECT c.repository, c.pr FROM leased_jobs c"
        )
    );
    let counted = LeasedQueue {
        holder: Holder::Counter("attempts"),
        held: "",
        ..JOBS
    };
    assert_eq!(
        counted.renew(),
        "UPDATE leased_jobs SET lease_until = $1\n WHERE id = $2 AND attempts = $3"
    );
    assert!(
        counted
            .claim()
            .get(Dialect::Sqlite)
            .contains("SET lease_until = $1, attempts = attempts + 1,")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_claimers_never_get_the_same_row() {
    const ROWS: i64 = 40;
    for db in TestStore::all().await {
        with_jobs(&db.store, ROWS).await;
        let mut claimers = tokio::task::JoinSet::new();
        for claimer in 0..6 {
            let store = db.store.clone();
            claimers.spawn(async move {
                let owner = format!("claimer-{claimer}");
                let mut taken = Vec::new();
                while let Some((id, _)) = claim_job(&store, &owner, 60_000, 1_000).await {
                    taken.push(id);
                    tokio::task::yield_now().await;
                }
                (owner, taken)
            });
        }
        let mut holders: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        while let Some(done) = claimers.join_next().await {
            let (owner, taken) = done.expect("claimer");
            for id in taken {
                holders.entry(id).or_default().push(owner.clone());
            }
        }
        assert_eq!(
            holders.len(),
            ROWS as usize,
            "{}: every row is claimed",
            db.dialect
        );
        for (id, owners) in &holders {
            assert_eq!(
                owners.len(),
                1,
                "{}: row {id} claimed by {owners:?}",
                db.dialect
            );
            let (owner,): (String,) =
                sqlx::query_as("SELECT lease_owner FROM leased_jobs WHERE id = $1")
                    .bind(id)
                    .fetch_one(db.store.pool())
                    .await
                    .expect("row");
            assert_eq!(
                &owner, &owners[0],
                "{}: the row names its claimer",
                db.dialect
            );
        }
    }
}

#[tokio::test]
async fn a_lapsed_lease_is_claimable_again_and_its_old_holder_cannot_write() {
    for db in TestStore::all().await {
        let store = &db.store;
        with_jobs(store, 1).await;
        assert_eq!(claim_job(store, "a", 2_000, 1_000).await, Some((1, 1)));
        assert_eq!(
            claim_job(store, "b", 2_500, 1_500).await,
            None,
            "{}: nobody takes a row while its lease holds",
            db.dialect
        );
        assert!(renew_job(store, 1, "a", 3_000).await, "the holder renews");
        assert_eq!(claim_job(store, "b", 4_000, 2_500).await, None, "renewed");

        // a stalls past its lease: b takes the row over, counting a second attempt.
        assert_eq!(claim_job(store, "b", 9_000, 3_500).await, Some((1, 2)));
        assert!(!renew_job(store, 1, "a", 9_500).await, "{}", db.dialect);
        assert!(
            !finish_job(store, 1, "a", "stale").await,
            "{}: the old holder cannot write",
            db.dialect
        );
        assert!(finish_job(store, 1, "b", "fresh").await);
        assert!(
            !finish_job(store, 1, "b", "twice").await,
            "held: running only"
        );
        let row = sqlx::query("SELECT state, result, lease_owner FROM leased_jobs WHERE id = 1")
            .fetch_one(store.pool())
            .await
            .expect("row");
        assert_eq!(row.get::<String, _>("state"), "done");
        assert_eq!(row.get::<String, _>("result"), "fresh");
        assert_eq!(row.get::<Option<String>, _>("lease_owner"), None);
        assert_eq!(
            claim_job(store, "c", 99_000, 50_000).await,
            None,
            "done is not due"
        );
    }
}

#[tokio::test]
async fn every_store_queue_hands_a_lapsed_claim_over_and_refuses_its_old_holder() {
    for db in TestStore::all().await {
        let store = Arc::new(db.store.clone());
        deliveries(&store).await;
        previews(&store).await;
        pipeline_steps(&store).await;
        notifications(&store).await;
    }
}

async fn deliveries(store: &Store) {
    store
        .insert_delivery(&NewDelivery {
            delivery_id: "d-1".to_owned(),
            event: "push".to_owned(),
            action: None,
            installation_id: Some(1),
            repository: Some("octocat/shop".to_owned()),
            ordering_key: Some("octocat/shop".to_owned()),
            payload: "{}".to_owned(),
            received_at: 1_000,
            state: DeliveryState::Pending,
        })
        .await
        .expect("insert");
    let a = store
        .claim_delivery("a", 2_000, 1_000)
        .await
        .expect("claim");
    let a = a.expect("due");
    assert_eq!((a.attempts, a.lease_owner.as_str()), (1, "a"));
    assert!(
        store
            .claim_delivery("b", 3_000, 1_500)
            .await
            .expect("claim")
            .is_none()
    );
    let b = store
        .claim_delivery("b", 9_000, 2_500)
        .await
        .expect("claim");
    let b = b.expect("the lapsed lease is claimable");
    assert_eq!((b.id, b.attempts), (a.id, 2));
    assert!(!store.renew_lease(a.id, "a", 9_500).await.expect("renew"));
    assert!(
        !store
            .complete_delivery(a.id, "a", 3_000)
            .await
            .expect("complete")
    );
    assert!(
        !store
            .release_delivery(a.id, "a", 3_000)
            .await
            .expect("release")
    );
    assert!(
        store
            .complete_delivery(b.id, "b", 3_000)
            .await
            .expect("complete")
    );
    assert_eq!(
        store
            .count_deliveries(DeliveryState::Done)
            .await
            .expect("count"),
        1
    );
}

async fn previews(store: &Store) {
    let head = PreviewHead {
        repository: "octocat/shop",
        pr: 7,
        installation_id: 1,
        environment: "preview",
        head_sha: "aaa",
        head_ref: "feature",
        base_ref: "main",
        default_branch: "main",
        from_fork: false,
        approved_sha: None,
    };
    store.want_preview_up(&head, 1_000).await.expect("want");
    let a = store
        .claim_preview_work("a", 2_000, 1_000)
        .await
        .expect("claim");
    let generation = a.expect("due").generation;
    assert!(
        store
            .claim_preview_work("b", 3_000, 1_500)
            .await
            .expect("claim")
            .is_none()
    );
    let b = store
        .claim_preview_work("b", 9_000, 2_500)
        .await
        .expect("claim");
    assert_eq!(b.map(|p| p.generation), Some(generation), "taken over");
    let outcome = PreviewOutcome {
        status: PreviewStatus::Ready,
        deployed_sha: Some("aaa"),
        namespace: None,
        url: None,
        deployment_id: None,
        run_id: None,
        reason: None,
    };
    let repo = "octocat/shop";
    assert_eq!(
        store
            .renew_preview_lease(repo, 7, "a", 9_500)
            .await
            .expect("renew"),
        None
    );
    assert!(
        !store
            .mark_preview(repo, 7, "a", &outcome, 3_000)
            .await
            .expect("mark")
    );
    assert!(
        !store
            .take_preview_slot(repo, 7, "a", 5, 3_000)
            .await
            .expect("slot")
    );
    let finished = store.finish_preview_work(repo, 7, "a", generation, &outcome, 3_000);
    assert!(!finished.await.expect("finish"));
    let finished = store.finish_preview_work(repo, 7, "b", generation, &outcome, 3_000);
    assert!(finished.await.expect("finish"));
    let preview = store.preview(repo, 7).await.expect("read").expect("row");
    assert_eq!(
        (preview.status(), preview.done_generation),
        (PreviewStatus::Ready, generation)
    );
}

async fn pipeline_steps(store: &Store) {
    let step = NewStep {
        id: "s1",
        token_hash: "",
        repository: "octocat/shop",
        pr: 7,
        installation_id: 1,
        sha: "aaa",
        branch: "feature",
        base_ref: "main",
        default_branch: "main",
        step: "test",
        after_deploy: false,
        concurrency: 4,
        actor: None,
        state: StepState::Due,
        preview_url: None,
        conclusion: None,
        reason: None,
    };
    store
        .queue_pipeline_steps(&[step], 1_000)
        .await
        .expect("queue");
    let a = store
        .claim_pipeline_step("a", 2_000, 1_000)
        .await
        .expect("claim");
    assert_eq!(a.map(|s| s.state()), Some(StepState::Running));
    assert!(
        store
            .claim_pipeline_step("b", 3_000, 1_500)
            .await
            .expect("claim")
            .is_none()
    );
    let b = store
        .claim_pipeline_step("b", 9_000, 2_500)
        .await
        .expect("claim");
    assert_eq!(b.map(|s| s.id), Some("s1".to_owned()), "runs again");
    let outcome = StepOutcome {
        conclusion: StepConclusion::Success,
        reason: None,
        summary: None,
        failed_tests: None,
        log: "",
    };
    let renewed = store.renew_pipeline_lease("s1", "a", 9_500, Some("stale"));
    assert_eq!(renewed.await.expect("renew"), None);
    assert!(
        !store
            .record_pipeline_outcome("s1", "a", &outcome, 3_000)
            .await
            .expect("record")
    );
    assert!(
        store
            .record_pipeline_outcome("s1", "b", &outcome, 3_000)
            .await
            .expect("record")
    );
    assert!(
        !store
            .finish_pipeline_report("s1", "a", 3_000)
            .await
            .expect("report")
    );
    assert!(
        store
            .finish_pipeline_report("s1", "b", 3_000)
            .await
            .expect("report")
    );
}

async fn notifications(store: &Store) {
    let queued = store.queue_notification(
        &NewNotification {
            dedupe_key: "n-1",
            repository: "octocat/shop",
            event: "preview.ready",
            channel: "slack",
            url_var: "SLACK_URL",
            secret_var: None,
            message: "{}",
        },
        1_000,
    );
    assert!(queued.await.expect("queue"));
    let a = store.claim_notification(1_000, 1_000).await.expect("claim");
    let a = a.expect("due");
    assert_eq!(a.attempts, 1);
    assert!(
        store
            .claim_notification(1_500, 1_000)
            .await
            .expect("claim")
            .is_none()
    );
    let b = store.claim_notification(2_500, 1_000).await.expect("claim");
    let b = b.expect("the lapsed lease is claimable");
    assert_eq!((b.id, b.attempts), (a.id, 2));
    assert!(!store.notification_sent(&a, 3_000).await.expect("sent"));
    assert!(
        !store
            .notification_failed(&a, "late", Some(9_000))
            .await
            .expect("failed")
    );
    assert!(store.notification_sent(&b, 3_000).await.expect("sent"));
    assert_eq!(store.count_notifications("sent").await.expect("count"), 1);
}
