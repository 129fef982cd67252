//! Queries on the `deliveries` table: the inbox of webhook deliveries.
//!
//! A delivery moves `pending → processing → done`, or back to `pending` with a later
//! `available_at` after a failure, or to `dead` after its last attempt. One that arrives
//! while its ordering key (its PR or repository) has unfinished work is `waiting` until the
//! deliveries ahead of it finish ([`super::delivery_queues`]). `ignored` deliveries
//! (events gitferry does not handle) are stored for the record and never claimed.
//!
//! Claiming sets a *lease*: `lease_owner` is a token unique to that claim, `lease_until` when
//! it lapses. Every later write names the token, so a worker whose lease lapsed (and whose
//! delivery another worker took) cannot overwrite the newer claim's outcome.

use std::sync::LazyLock;

use sqlx::Row;

use super::{Store, StoreError, delivery_queues};
use crate::jobs::{ClaimSql, Holder, LeasedQueue};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    /// Behind an earlier unfinished delivery of its ordering key (see
    /// [`super::delivery_queues`]); becomes `pending` when that one finishes.
    Waiting,
    Processing,
    Done,
    Ignored,
    Dead,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Waiting => "waiting",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Ignored => "ignored",
            Self::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => Self::Pending,
            "waiting" => Self::Waiting,
            "processing" => Self::Processing,
            "done" => Self::Done,
            "ignored" => Self::Ignored,
            "dead" => Self::Dead,
            _ => return None,
        })
    }
}

/// A verified delivery about to be stored.
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository: Option<String>,
    pub ordering_key: Option<String>,
    pub payload: String,
    pub received_at: i64,
    pub state: DeliveryState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// The `X-GitHub-Delivery` was stored before (a redelivery): nothing was written.
    Duplicate,
}

/// A delivery a worker holds under lease.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<i64>,
    pub repository: Option<String>,
    pub payload: String,
    pub received_at: i64,
    /// Including this claim.
    pub attempts: i64,
    pub lease_owner: String,
}

/// What became of a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Claimable again at this time (Unix ms).
    RetryAt(i64),
    Dead,
}

/// One row of `gitferry deliveries` listings.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeliverySummary {
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub repository: Option<String>,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at: i64,
}

const INSERT_DELIVERY: &str = "
INSERT INTO deliveries (delivery_id, event, action, installation_id, repository, ordering_key,
                        payload, received_at, state, available_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8)
ON CONFLICT (delivery_id) DO NOTHING";

/// The inbox as a leased queue. Only queue heads are `pending` or `processing` (see
/// [`super::delivery_queues`]), so the oldest claimable one is free to run, and the
/// `(state, available_at)` index reads nothing else. A lapsed lease leaves its delivery
/// `processing`, so `due` takes those too (the attempt that died counts).
const QUEUE: LeasedQueue = LeasedQueue {
    table: "deliveries",
    key: &["id"],
    holder: Holder::Token("lease_owner"),
    due: "(c.state = 'pending' AND c.available_at <= $2)
        OR (c.state = 'processing' AND c.lease_until < $2)",
    order: "c.id",
    on_claim: "state = 'processing', attempts = attempts + 1",
    held: "state = 'processing'",
    returning: "id, delivery_id, event, action, installation_id, repository, payload, \
        received_at, attempts, lease_owner",
};

/// The statements on claimed deliveries, built once from [`QUEUE`].
struct Statements {
    claim: ClaimSql,
    renew: String,
    /// Binds `(now, error, id, lease_owner)`; returns the ordering key (see `finish_claimed`).
    complete: String,
    /// Binds `(available_at, error, id, lease_owner)`.
    retry: String,
    /// Binds `(now, error, id, lease_owner)`; returns the ordering key.
    dead: String,
    /// Binds `(available_at, id, lease_owner)`.
    release: String,
}

static SQL: LazyLock<Statements> = LazyLock::new(|| Statements {
    claim: QUEUE.claim(),
    renew: QUEUE.renew(),
    complete: format!(
        "{} RETURNING ordering_key",
        QUEUE.update_held(
            "state = 'done', finished_at = $1, last_error = $2, \
             lease_owner = NULL, lease_until = NULL",
            2
        )
    ),
    retry: QUEUE.update_held(
        "state = 'pending', available_at = $1, last_error = $2, \
         lease_owner = NULL, lease_until = NULL",
        2,
    ),
    dead: format!(
        "{} RETURNING ordering_key",
        QUEUE.update_held(
            "state = 'dead', finished_at = $1, last_error = $2, \
             lease_owner = NULL, lease_until = NULL",
            2
        )
    ),
    // The attempt is not counted: the worker gave it back unfinished.
    release: QUEUE.update_held(
        "state = 'pending', attempts = attempts - 1, available_at = $1, \
         lease_owner = NULL, lease_until = NULL",
        1,
    ),
});

/// The queue a new delivery joins: its ordering key when it is to be worked on.
fn queue_of(delivery: &NewDelivery) -> Option<&str> {
    match delivery.state {
        DeliveryState::Pending => delivery.ordering_key.as_deref(),
        _ => None,
    }
}

/// Stores one key's new deliveries (in arrival order) with one update of its queue row, not
/// one per delivery: a burst on one PR is a single row write (on PostgreSQL, one row version
/// instead of a chain the batch would walk again and again). The first stored delivery is the
/// head if the queue was empty; the rest wait. Redeliveries are not stored and not counted.
async fn insert_queued(
    conn: &mut sqlx::AnyConnection,
    key: &str,
    group: &[(usize, &NewDelivery)],
    outcomes: &mut [Inserted],
) -> Result<(), StoreError> {
    let joined = i64::try_from(group.len()).unwrap_or(i64::MAX);
    let mut head_is_free = delivery_queues::join(&mut *conn, key, joined).await?;
    let mut redeliveries = 0;
    for &(index, delivery) in group {
        let state = if head_is_free {
            DeliveryState::Pending
        } else {
            DeliveryState::Waiting
        };
        outcomes[index] = insert_row(&mut *conn, delivery, state).await?;
        match outcomes[index] {
            Inserted::New => head_is_free = false,
            Inserted::Duplicate => redeliveries += 1,
        }
    }
    if redeliveries > 0 {
        delivery_queues::retract(conn, key, redeliveries).await?;
    }
    Ok(())
}

async fn insert_row(
    conn: &mut sqlx::AnyConnection,
    delivery: &NewDelivery,
    state: DeliveryState,
) -> Result<Inserted, StoreError> {
    let result = sqlx::query(INSERT_DELIVERY)
        .bind(&delivery.delivery_id)
        .bind(&delivery.event)
        .bind(&delivery.action)
        .bind(delivery.installation_id)
        .bind(&delivery.repository)
        .bind(&delivery.ordering_key)
        .bind(&delivery.payload)
        .bind(delivery.received_at)
        .bind(state.as_str())
        .execute(conn)
        .await?;
    Ok(if result.rows_affected() == 1 {
        Inserted::New
    } else {
        Inserted::Duplicate
    })
}

impl Store {
    /// Stores a delivery unless its delivery id is already stored.
    pub async fn insert_delivery(&self, delivery: &NewDelivery) -> Result<Inserted, StoreError> {
        let mut outcomes = self
            .insert_deliveries(std::slice::from_ref(delivery))
            .await?;
        Ok(outcomes.pop().unwrap_or(Inserted::Duplicate))
    }

    /// Stores a batch in one transaction (group commit: one write and, on PostgreSQL, one
    /// fsync for many deliveries), answering for each whether it was new. A delivery id that
    /// appears twice in the batch is new once and a duplicate after.
    ///
    /// The batch is written grouped by ordering key (arrival order kept within a key, which
    /// is the only order the inbox promises): each key's queue row is written once, and
    /// concurrent batches lock their keys' rows in one global order, so they cannot deadlock
    /// on PostgreSQL.
    pub async fn insert_deliveries(
        &self,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<Inserted>, StoreError> {
        let mut order: Vec<(usize, &NewDelivery)> = deliveries.iter().enumerate().collect();
        order.sort_by_key(|(_, delivery)| queue_of(delivery));
        let mut outcomes = vec![Inserted::Duplicate; deliveries.len()];
        let mut tx = self.pool().begin().await?;
        let mut rest = order.as_slice();
        while let Some(&(index, first)) = rest.first() {
            let queue = queue_of(first);
            let len = match queue {
                Some(_) => rest
                    .iter()
                    .take_while(|(_, d)| queue_of(d) == queue)
                    .count(),
                None => 1,
            };
            let (group, tail) = rest.split_at(len);
            rest = tail;
            match queue {
                Some(key) => insert_queued(&mut tx, key, group, &mut outcomes).await?,
                None => outcomes[index] = insert_row(&mut tx, first, first.state).await?,
            }
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Takes the oldest claimable delivery whose ordering key has no earlier unfinished one.
    pub async fn claim_delivery(
        &self,
        lease_owner: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<ClaimedDelivery>, StoreError> {
        let claimed = sqlx::query_as::<_, ClaimedDelivery>(SQL.claim.get(self.dialect()))
            .bind(lease_until)
            .bind(now)
            .bind(lease_owner)
            .fetch_optional(self.pool())
            .await?;
        Ok(claimed)
    }

    /// Extends a lease; `false` when the lease was lost (it lapsed and another worker claimed).
    pub async fn renew_lease(
        &self,
        id: i64,
        lease_owner: &str,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        self.update_claimed(&SQL.renew, lease_until, id, lease_owner)
            .await
    }

    /// Marks a claimed delivery done; `false` when the lease had been lost.
    pub async fn complete_delivery(
        &self,
        id: i64,
        lease_owner: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.finish_claimed(&SQL.complete, now, None, id, lease_owner)
            .await
    }

    /// Records a failed attempt: back to `pending` until `RetryAt` (still its key's head, so
    /// the deliveries behind it keep waiting), or `dead` (and the next one becomes the head).
    pub async fn fail_delivery(
        &self,
        id: i64,
        lease_owner: &str,
        error: &str,
        outcome: FailureOutcome,
        now: i64,
    ) -> Result<bool, StoreError> {
        match outcome {
            FailureOutcome::RetryAt(at) => {
                let result = sqlx::query(SQL.retry.as_str())
                    .bind(at)
                    .bind(error)
                    .bind(id)
                    .bind(lease_owner)
                    .execute(self.pool())
                    .await?;
                Ok(result.rows_affected() == 1)
            }
            FailureOutcome::Dead => {
                self.finish_claimed(&SQL.dead, now, Some(error), id, lease_owner)
                    .await
            }
        }
    }

    /// Ends a claimed delivery for good with `sql`, which binds `($1, $2, $3, $4) = (now,
    /// error, id, lease_owner)` and returns the row's ordering key; in the same transaction
    /// the key's next delivery becomes its head. `false` when the lease had been lost.
    async fn finish_claimed(
        &self,
        sql: &'static str,
        now: i64,
        error: Option<&str>,
        id: i64,
        lease_owner: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let finished: Option<Option<String>> = sqlx::query_scalar(sql)
            .bind(now)
            .bind(error)
            .bind(id)
            .bind(lease_owner)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(key) = finished else {
            return Ok(false);
        };
        if let Some(key) = key {
            delivery_queues::advance(&mut tx, &key).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Gives a delivery back without counting the attempt (graceful shutdown).
    pub async fn release_delivery(
        &self,
        id: i64,
        lease_owner: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.update_claimed(&SQL.release, now, id, lease_owner)
            .await
    }

    /// Runs an update on a claimed row, binding `($1, $2, $3) = (value, id, lease_owner)`;
    /// `false` when the lease was no longer this caller's.
    async fn update_claimed(
        &self,
        sql: &'static str,
        value: i64,
        id: i64,
        lease_owner: &str,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(sql)
            .bind(value)
            .bind(id)
            .bind(lease_owner)
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Deliveries in one state, oldest first, at most `limit`.
    pub async fn list_deliveries(
        &self,
        state: DeliveryState,
        limit: i64,
    ) -> Result<Vec<DeliverySummary>, StoreError> {
        let rows = sqlx::query_as::<_, DeliverySummary>(
            "SELECT delivery_id, event, action, repository, state, attempts, last_error, received_at
               FROM deliveries WHERE state = $1 ORDER BY id LIMIT $2",
        )
        .bind(state.as_str())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }

    /// One delivery by its `X-GitHub-Delivery` id.
    pub async fn find_delivery(
        &self,
        delivery_id: &str,
    ) -> Result<Option<DeliverySummary>, StoreError> {
        let row = sqlx::query_as::<_, DeliverySummary>(
            "SELECT delivery_id, event, action, repository, state, attempts, last_error, received_at
               FROM deliveries WHERE delivery_id = $1",
        )
        .bind(delivery_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }

    /// Puts a dead delivery back in the queue with a fresh set of attempts, behind whatever
    /// its ordering key has unfinished.
    pub async fn requeue_dead_delivery(
        &self,
        delivery_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let requeued: Option<(i64, Option<String>)> = sqlx::query_as(
            "UPDATE deliveries
                SET state = CASE WHEN ordering_key IS NULL THEN 'pending' ELSE 'waiting' END,
                    attempts = 0, available_at = $1, finished_at = NULL
              WHERE delivery_id = $2 AND state = 'dead'
             RETURNING id, ordering_key",
        )
        .bind(now)
        .bind(delivery_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, key)) = requeued else {
            return Err(StoreError::NoDeadDelivery(delivery_id.to_owned()));
        };
        if let Some(key) = key
            && delivery_queues::join(&mut tx, &key, 1).await?
        {
            sqlx::query("UPDATE deliveries SET state = 'pending' WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many deliveries are in each state (for tests, `/readyz` detail and the CLI).
    pub async fn count_deliveries(&self, state: DeliveryState) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM deliveries WHERE state = $1")
            .bind(state.as_str())
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Dialect;

    /// The claim must find its candidates through the `(state, …)` index, which holds only
    /// queue heads under `pending`/`processing`: a plan that scans `deliveries` would make
    /// every claim cost O(backlog) again (the defect the per-key queues fixed).
    #[tokio::test]
    async fn the_sqlite_claim_searches_by_state_and_never_scans() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let store = Store::connect(&url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let claim = SQL.claim.get(Dialect::Sqlite);
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {claim}")))
            .bind(0_i64)
            .bind(0_i64)
            .bind("owner")
            .fetch_all(store.pool())
            .await
            .expect("explain");
        let plan: Vec<String> = rows
            .iter()
            .map(|row| row.try_get::<String, _>("detail").expect("detail"))
            .collect();
        let candidate_reads: Vec<&String> =
            plan.iter().filter(|step| step.contains(" c ")).collect();
        assert!(!candidate_reads.is_empty(), "{plan:?}");
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN")),
            "{plan:?}"
        );
        for step in candidate_reads {
            assert!(
                step.starts_with("SEARCH c USING INDEX deliveries_claimable (state="),
                "claim step {step:?} reads more than the heads; plan: {plan:?}"
            );
        }
    }
}
