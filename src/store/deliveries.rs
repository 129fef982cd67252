//! Queries on the `deliveries` table: the inbox of webhook deliveries.
//!
//! A delivery moves `pending → processing → done`, or back to `pending` with a later
//! `available_at` after a failure, or to `dead` after its last attempt. `ignored` deliveries
//! (events gitferry does not handle) are stored for the record and never claimed.
//!
//! Claiming sets a *lease*: `lease_owner` is a token unique to that claim, `lease_until` when
//! it lapses. Every later write names the token, so a worker whose lease lapsed (and whose
//! delivery another worker took) cannot overwrite the newer claim's outcome.

use sqlx::Row;

use super::{Dialect, Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Processing,
    Done,
    Ignored,
    Dead,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Ignored => "ignored",
            Self::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => Self::Pending,
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

/// A new delivery may not run before the oldest unfinished one of its ordering key, which it
/// waits behind anyway: giving it that key's `available_at` keeps it out of the claim's
/// candidates instead of making every claim test it and pass it over. With a PR whose first
/// delivery is in backoff during a burst, that is the difference between testing a handful of
/// rows and testing the whole backlog on every claim.
const INSERT_DELIVERY: &str = "
INSERT INTO deliveries (delivery_id, event, action, installation_id, repository, ordering_key,
                        payload, received_at, state, available_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
        COALESCE((SELECT CASE WHEN h.available_at > $8 THEN h.available_at ELSE $8 END
                    FROM deliveries h
                   WHERE h.ordering_key = $6 AND h.state IN ('pending', 'processing')
                   ORDER BY h.id LIMIT 1), $8))
ON CONFLICT (delivery_id) DO NOTHING";

/// After a failure, the deliveries queued behind it wait at least as long (see
/// [`INSERT_DELIVERY`] for why).
const DEFER_FOLLOWERS: &str = "
UPDATE deliveries SET available_at = $1
 WHERE ordering_key = (SELECT f.ordering_key FROM deliveries f WHERE f.id = $2)
   AND id > $2 AND state = 'pending' AND available_at < $1";

/// The claim statement; `$lock` is the row-locking clause of the candidate subquery.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE deliveries
   SET state = 'processing', attempts = attempts + 1, lease_owner = $1, lease_until = $2
 WHERE id = (
    SELECT d.id FROM deliveries d
     WHERE ((d.state = 'pending' AND d.available_at <= $3)
            OR (d.state = 'processing' AND d.lease_until < $3))
       AND NOT EXISTS (
            SELECT 1 FROM deliveries e
             WHERE e.ordering_key = d.ordering_key AND e.id < d.id
               AND e.state IN ('pending', 'processing'))
     ORDER BY d.id
     LIMIT 1",
            $lock,
            ")
RETURNING id, delivery_id, event, action, installation_id, repository, payload, received_at,
          attempts, lease_owner"
        )
    };
}

/// SQLite has one writer at a time, so the subquery and the update cannot interleave.
const CLAIM_SQLITE: &str = claim_sql!("");

/// `FOR UPDATE SKIP LOCKED`: concurrent servers pass over a row another transaction is
/// claiming instead of queueing behind it (or claiming it twice).
const CLAIM_POSTGRES: &str = claim_sql!("\n     FOR UPDATE SKIP LOCKED");

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
    pub async fn insert_deliveries(
        &self,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<Inserted>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let mut outcomes = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            let result = sqlx::query(INSERT_DELIVERY)
                .bind(&delivery.delivery_id)
                .bind(&delivery.event)
                .bind(&delivery.action)
                .bind(delivery.installation_id)
                .bind(&delivery.repository)
                .bind(&delivery.ordering_key)
                .bind(&delivery.payload)
                .bind(delivery.received_at)
                .bind(delivery.state.as_str())
                .execute(&mut *tx)
                .await?;
            outcomes.push(if result.rows_affected() == 1 {
                Inserted::New
            } else {
                Inserted::Duplicate
            });
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
        let sql = match self.dialect() {
            Dialect::Sqlite => CLAIM_SQLITE,
            Dialect::Postgres => CLAIM_POSTGRES,
        };
        let claimed = sqlx::query_as::<_, ClaimedDelivery>(sql)
            .bind(lease_owner)
            .bind(lease_until)
            .bind(now)
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
        self.update_claimed(
            "UPDATE deliveries SET lease_until = $1
              WHERE id = $2 AND lease_owner = $3 AND state = 'processing'",
            lease_until,
            id,
            lease_owner,
        )
        .await
    }

    /// Marks a claimed delivery done; `false` when the lease had been lost.
    pub async fn complete_delivery(
        &self,
        id: i64,
        lease_owner: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.update_claimed(
            "UPDATE deliveries
                SET state = 'done', finished_at = $1, lease_owner = NULL, lease_until = NULL,
                    last_error = NULL
              WHERE id = $2 AND lease_owner = $3 AND state = 'processing'",
            now,
            id,
            lease_owner,
        )
        .await
    }

    /// Records a failed attempt: back to `pending` until `RetryAt` (the deliveries queued
    /// behind it are deferred as long), or `dead`.
    pub async fn fail_delivery(
        &self,
        id: i64,
        lease_owner: &str,
        error: &str,
        outcome: FailureOutcome,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let query = match outcome {
            FailureOutcome::RetryAt(at) => sqlx::query(
                "UPDATE deliveries
                    SET state = 'pending', available_at = $1, last_error = $2,
                        lease_owner = NULL, lease_until = NULL
                  WHERE id = $3 AND lease_owner = $4 AND state = 'processing'",
            )
            .bind(at),
            FailureOutcome::Dead => sqlx::query(
                "UPDATE deliveries
                    SET state = 'dead', finished_at = $1, last_error = $2,
                        lease_owner = NULL, lease_until = NULL
                  WHERE id = $3 AND lease_owner = $4 AND state = 'processing'",
            )
            .bind(now),
        };
        let result = query
            .bind(error)
            .bind(id)
            .bind(lease_owner)
            .execute(&mut *tx)
            .await?;
        let written = result.rows_affected() == 1;
        if let (true, FailureOutcome::RetryAt(at)) = (written, outcome) {
            sqlx::query(DEFER_FOLLOWERS)
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(written)
    }

    /// Gives a delivery back without counting the attempt (graceful shutdown).
    pub async fn release_delivery(
        &self,
        id: i64,
        lease_owner: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.update_claimed(
            "UPDATE deliveries
                SET state = 'pending', attempts = attempts - 1, available_at = $1,
                    lease_owner = NULL, lease_until = NULL
              WHERE id = $2 AND lease_owner = $3 AND state = 'processing'",
            now,
            id,
            lease_owner,
        )
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

    /// Puts a dead delivery back in the queue with a fresh set of attempts.
    pub async fn requeue_dead_delivery(
        &self,
        delivery_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(
            "UPDATE deliveries SET state = 'pending', attempts = 0, available_at = $1,
                                   finished_at = NULL
              WHERE delivery_id = $2 AND state = 'dead'",
        )
        .bind(now)
        .bind(delivery_id)
        .execute(self.pool())
        .await?;
        if result.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::NoDeadDelivery(delivery_id.to_owned()))
        }
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
