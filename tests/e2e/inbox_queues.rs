//! The inbox's per-PR queues, on every configured dialect: a claim only ever sees queue heads,
//! and however intake, failures, dead letters and re-queues interleave, no delivery is left
//! waiting with nothing ahead of it and one PR's deliveries run in arrival order.

use std::collections::{BTreeMap, BTreeSet};

use gitferry::store::{DeliveryState, FailureOutcome, NewDelivery, Store, now_ms};
use sqlx::{AnyPool, Row};

use crate::support::db::TestDb;

async fn open(db: &TestDb) -> (Store, AnyPool) {
    let store = Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let raw = AnyPool::connect(&db.url).await.expect("raw pool");
    (store, raw)
}

fn delivery(id: &str, key: &str) -> NewDelivery {
    NewDelivery {
        delivery_id: id.into(),
        event: "pull_request".into(),
        action: Some("synchronize".into()),
        installation_id: Some(1),
        repository: Some("octocat/shop".into()),
        ordering_key: Some(key.into()),
        payload: "{}".into(),
        received_at: now_ms(),
        state: DeliveryState::Pending,
    }
}

async fn state_of(store: &Store, id: &str) -> String {
    store
        .find_delivery(id)
        .await
        .expect("query")
        .expect("stored")
        .state
}

#[tokio::test]
async fn a_failing_head_keeps_its_prs_backlog_waiting_and_out_of_every_claim() {
    for db in TestDb::all().await {
        let (store, _raw) = open(&db).await;
        let stuck = "repo:1#7";
        for n in 0..200 {
            store
                .insert_delivery(&delivery(&format!("a{n}"), stuck))
                .await
                .expect("insert");
        }
        store
            .insert_delivery(&delivery("b0", "repo:1#8"))
            .await
            .expect("insert");
        assert_eq!(state_of(&store, "a0").await, "pending");
        assert_eq!(state_of(&store, "a1").await, "waiting");
        assert_eq!(state_of(&store, "b0").await, "pending");

        // PR 7's first delivery fails and backs off for a minute.
        let now = now_ms();
        let head = store
            .claim_delivery("w/0", now + 30_000, now)
            .await
            .expect("claim")
            .expect("a0 is claimable");
        assert_eq!(head.delivery_id, "a0");
        let later = FailureOutcome::RetryAt(now + 60_000);
        assert!(
            store
                .fail_delivery(head.id, "w/0", "GitHub said 502", later, now)
                .await
                .expect("fail")
        );

        // PR 8 is not held up by PR 7's queue, and PR 7's followers are not candidates.
        let other = store
            .claim_delivery("w/1", now + 30_000, now)
            .await
            .expect("claim")
            .expect("b0 is claimable");
        assert_eq!(other.delivery_id, "b0", "{}", db.dialect);
        assert!(
            store
                .complete_delivery(other.id, "w/1", now)
                .await
                .expect("done")
        );
        assert!(
            store
                .claim_delivery("w/1", now + 30_000, now)
                .await
                .expect("claim")
                .is_none()
        );
        assert_eq!(
            store
                .count_deliveries(DeliveryState::Pending)
                .await
                .expect("count"),
            1
        );
        assert_eq!(
            store
                .count_deliveries(DeliveryState::Waiting)
                .await
                .expect("count"),
            199
        );

        // When the head is dead-lettered, the next delivery of PR 7 runs.
        let retry = store
            .claim_delivery("w/0", now + 90_000, now + 61_000)
            .await
            .expect("claim")
            .expect("a0 again after its backoff");
        assert_eq!((retry.delivery_id.as_str(), retry.attempts), ("a0", 2));
        assert!(
            store
                .fail_delivery(retry.id, "w/0", "gave up", FailureOutcome::Dead, now)
                .await
                .expect("dead")
        );
        let next = store
            .claim_delivery("w/0", now + 90_000, now + 61_000)
            .await
            .expect("claim")
            .expect("a1 is the head now");
        assert_eq!(next.delivery_id, "a1");
    }
}

#[tokio::test]
async fn a_redelivery_of_a_waiting_delivery_changes_nothing() {
    for db in TestDb::all().await {
        let (store, raw) = open(&db).await;
        store
            .insert_delivery(&delivery("x0", "k"))
            .await
            .expect("insert");
        store
            .insert_delivery(&delivery("x1", "k"))
            .await
            .expect("insert");
        let again = store
            .insert_delivery(&delivery("x1", "k"))
            .await
            .expect("again");
        assert_eq!(again, gitferry::store::Inserted::Duplicate);
        assert_invariants(&raw, &db).await;
        assert_eq!(state_of(&store, "x1").await, "waiting");
    }
}

#[tokio::test]
async fn a_batch_mixing_prs_redeliveries_and_ignored_events_keeps_each_prs_order() {
    for db in TestDb::all().await {
        let (store, raw) = open(&db).await;
        store
            .insert_delivery(&delivery("old", "repo:1#2"))
            .await
            .expect("insert");
        let ignored = NewDelivery {
            state: DeliveryState::Ignored,
            ..delivery("label", "repo:1#1")
        };
        let batch = [
            delivery("a0", "repo:1#1"),
            delivery("b0", "repo:1#2"),
            ignored,
            delivery("a1", "repo:1#1"),
            delivery("a0", "repo:1#1"),
            delivery("old", "repo:1#2"),
        ];
        let outcomes = store.insert_deliveries(&batch).await.expect("batch");
        use gitferry::store::Inserted::{Duplicate, New};
        assert_eq!(outcomes, vec![New, New, New, New, Duplicate, Duplicate]);
        let states = [
            ("a0", "pending"),
            ("a1", "waiting"),
            ("b0", "waiting"),
            ("label", "ignored"),
            ("old", "pending"),
        ];
        for (id, state) in states {
            assert_eq!(state_of(&store, id).await, state, "{}: {id}", db.dialect);
        }
        assert_invariants(&raw, &db).await;
    }
}

#[tokio::test]
async fn a_requeued_dead_letter_waits_behind_its_prs_unfinished_work() {
    for db in TestDb::all().await {
        let (store, raw) = open(&db).await;
        let now = now_ms();
        store
            .insert_delivery(&delivery("d0", "k"))
            .await
            .expect("insert");
        let d0 = store
            .claim_delivery("w", now + 30_000, now + 5_000)
            .await
            .expect("claim")
            .expect("d0");
        store
            .fail_delivery(d0.id, "w", "boom", FailureOutcome::Dead, now)
            .await
            .expect("dead");
        store
            .insert_delivery(&delivery("d1", "k"))
            .await
            .expect("insert");
        assert_eq!(state_of(&store, "d1").await, "pending");

        store
            .requeue_dead_delivery("d0", now)
            .await
            .expect("requeue");
        assert_eq!(state_of(&store, "d0").await, "waiting");
        assert_invariants(&raw, &db).await;

        let d1 = store
            .claim_delivery("w", now + 30_000, now + 5_000)
            .await
            .expect("claim")
            .expect("d1");
        assert_eq!(d1.delivery_id, "d1");
        store
            .complete_delivery(d1.id, "w", now)
            .await
            .expect("done");
        assert_eq!(state_of(&store, "d0").await, "pending");
        assert_invariants(&raw, &db).await;
    }
}

/// A deterministic pseudo-random interleaving of everything that touches the queues.
#[tokio::test]
async fn random_interleavings_never_strand_a_delivery_or_reorder_a_pr() {
    for db in TestDb::all().await {
        let (store, raw) = open(&db).await;
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let keys = ["repo:1#1", "repo:1#2", "repo:1#3", "repo:2"];
        let mut next_id = 0u32;
        let mut held: Vec<(i64, String, String)> = Vec::new(); // (row id, lease, key)
        let mut dead: Vec<String> = Vec::new();
        let mut requeued_keys: BTreeSet<String> = BTreeSet::new();
        let mut arrival: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut finished: BTreeSet<String> = BTreeSet::new();
        let now = now_ms();

        for step in 0..400 {
            match rng.below(10) {
                0..=3 => {
                    let key = keys[rng.below(keys.len() as u64) as usize];
                    let id = format!("r{next_id}");
                    next_id += 1;
                    store
                        .insert_delivery(&delivery(&id, key))
                        .await
                        .expect("insert");
                    arrival.entry(key.into()).or_default().push(id);
                }
                4 if next_id > 0 => {
                    // GitHub redelivers something already stored.
                    let id = format!("r{}", rng.below(u64::from(next_id)));
                    let key = keys[0];
                    let outcome = store
                        .insert_delivery(&delivery(&id, key))
                        .await
                        .expect("redeliver");
                    assert_eq!(outcome, gitferry::store::Inserted::Duplicate);
                }
                5 | 6 => {
                    let lease = format!("w/{step}");
                    if let Some(claimed) = store
                        .claim_delivery(&lease, now + 60_000, now + 5_000)
                        .await
                        .expect("claim")
                    {
                        let key = key_of(&arrival, &claimed.delivery_id);
                        if !requeued_keys.contains(&key) {
                            let first_unfinished = arrival[&key]
                                .iter()
                                .find(|id| !finished.contains(*id))
                                .cloned();
                            assert_eq!(
                                first_unfinished.as_deref(),
                                Some(claimed.delivery_id.as_str()),
                                "{}: {key} ran out of order",
                                db.dialect
                            );
                        }
                        held.push((claimed.id, lease, claimed.delivery_id));
                    }
                }
                7 | 8 if !held.is_empty() => {
                    let (row, lease, id) = held.remove(rng.below(held.len() as u64) as usize);
                    let failure = match rng.below(3) {
                        0 => None,
                        1 => Some(FailureOutcome::RetryAt(now)),
                        _ => Some(FailureOutcome::Dead),
                    };
                    let written = match failure {
                        None => store.complete_delivery(row, &lease, now).await,
                        Some(outcome) => {
                            store.fail_delivery(row, &lease, "boom", outcome, now).await
                        }
                    };
                    assert!(written.expect("finish"), "the lease is still held");
                    if failure != Some(FailureOutcome::RetryAt(now)) {
                        finished.insert(id.clone());
                    }
                    if failure == Some(FailureOutcome::Dead) {
                        dead.push(id);
                    }
                }
                9 if !dead.is_empty() => {
                    let id = dead.remove(rng.below(dead.len() as u64) as usize);
                    store
                        .requeue_dead_delivery(&id, now)
                        .await
                        .expect("requeue");
                    finished.remove(&id);
                    requeued_keys.insert(key_of(&arrival, &id));
                }
                _ => {}
            }
            assert_invariants(&raw, &db).await;
        }

        // Drain: everything left runs to completion, nothing is stranded.
        for (row, lease, _) in held.drain(..) {
            store
                .complete_delivery(row, &lease, now)
                .await
                .expect("done");
        }
        while let Some(claimed) = store
            .claim_delivery("drain", now + 60_000, now + 5_000)
            .await
            .expect("claim")
        {
            store
                .complete_delivery(claimed.id, "drain", now)
                .await
                .expect("done");
        }
        for state in [
            DeliveryState::Pending,
            DeliveryState::Waiting,
            DeliveryState::Processing,
        ] {
            assert_eq!(
                store.count_deliveries(state).await.expect("count"),
                0,
                "{state:?}"
            );
        }
        let counters: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM delivery_queues")
            .fetch_one(&raw)
            .await
            .expect("count");
        assert_eq!(counters, 0, "{}: empty queues are forgotten", db.dialect);
    }
}

fn key_of(arrival: &BTreeMap<String, Vec<String>>, id: &str) -> String {
    arrival
        .iter()
        .find(|(_, ids)| ids.iter().any(|i| i == id))
        .map(|(key, _)| key.clone())
        .expect("a known delivery")
}

/// Per key: at most one head; a waiting delivery always has a head ahead of it; the counter
/// equals the unfinished deliveries.
async fn assert_invariants(raw: &AnyPool, db: &TestDb) {
    let rows = sqlx::query(
        "SELECT ordering_key,
                SUM(CASE WHEN state IN ('pending', 'processing') THEN 1 ELSE 0 END) AS heads,
                SUM(CASE WHEN state = 'waiting' THEN 1 ELSE 0 END) AS waiting,
                COALESCE((SELECT q.unfinished FROM delivery_queues q
                           WHERE q.ordering_key = d.ordering_key), 0) AS counted
           FROM deliveries d
          WHERE ordering_key IS NOT NULL
          GROUP BY ordering_key",
    )
    .fetch_all(raw)
    .await
    .expect("invariants");
    for row in rows {
        let key: String = row.get("ordering_key");
        let heads: i64 = row.get("heads");
        let waiting: i64 = row.get("waiting");
        let counted: i64 = row.get("counted");
        assert!(heads <= 1, "{}: {key} has {heads} heads", db.dialect);
        assert!(
            waiting == 0 || heads == 1,
            "{}: {key} has {waiting} waiting and no head",
            db.dialect
        );
        assert_eq!(heads + waiting, counted, "{}: {key}'s counter", db.dialect);
    }
}

struct XorShift(u64);

impl XorShift {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}
