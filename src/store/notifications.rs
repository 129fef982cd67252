//! Queries on `notifications`, the outbox the notification sender works from (migration 0006).
//!
//! A claim holds a notification for a short lease by moving its `available_at` past the
//! lease: a sender that dies while sending leaves it due again once the lease is over. The
//! table has no owner column; each claim counts an attempt instead, and the count a claim
//! returns is its token, so a sender whose lease lapsed (and whose notification another
//! sender claimed) cannot record its outcome over the newer attempt's.

use std::sync::LazyLock;

use super::{Store, StoreError};
use crate::jobs::{ClaimSql, Holder, LeasedQueue};

/// The outbox as a leased queue, oldest due first.
const QUEUE: LeasedQueue = LeasedQueue {
    table: "notifications",
    key: &["id"],
    holder: Holder::Counter("attempts"),
    due: "c.state = 'pending' AND c.available_at <= $2",
    order: "c.available_at, c.id",
    on_claim: "available_at = $1",
    held: "state = 'pending'",
    returning: "id, repository, event, channel, url_var, secret_var, message, attempts",
};

/// The statements on claimed notifications, built once from [`QUEUE`].
struct Statements {
    claim: ClaimSql,
    /// Binds `(now, id, attempts)`.
    sent: String,
    /// Binds `(state, available_at, error, id, attempts)`.
    failed: String,
}

static SQL: LazyLock<Statements> = LazyLock::new(|| Statements {
    claim: QUEUE.claim(),
    sent: QUEUE.update_held("state = 'sent', sent_at = $1, last_error = NULL", 1),
    failed: QUEUE.update_held("state = $1, available_at = $2, last_error = $3", 3),
});

/// A message for one channel, about to be queued.
#[derive(Clone, Debug)]
pub struct NewNotification<'a> {
    /// Unique per event and channel: queueing it again is a no-op.
    pub dedupe_key: &'a str,
    pub repository: &'a str,
    pub event: &'a str,
    pub channel: &'a str,
    pub url_var: &'a str,
    pub secret_var: Option<&'a str>,
    pub message: &'a str,
}

/// A queued notification the sender holds under a short lease.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct QueuedNotification {
    pub id: i64,
    pub repository: String,
    pub event: String,
    pub channel: String,
    pub url_var: String,
    pub secret_var: Option<String>,
    pub message: String,
    /// Including this attempt.
    pub attempts: i64,
}

impl Store {
    /// Queues a notification; `false` when one with its dedupe key exists already.
    pub async fn queue_notification(
        &self,
        notification: &NewNotification<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO notifications (dedupe_key, repository, event, channel, url_var,
                                        secret_var, message, state, available_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8)
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(notification.dedupe_key)
        .bind(notification.repository)
        .bind(notification.event)
        .bind(notification.channel)
        .bind(notification.url_var)
        .bind(notification.secret_var)
        .bind(notification.message)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Takes the oldest due notification for `lease_ms`; a sender that dies while sending
    /// leaves it to be taken again (a message may then arrive twice, which beats never).
    pub async fn claim_notification(
        &self,
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<QueuedNotification>, StoreError> {
        let row = sqlx::query_as::<_, QueuedNotification>(SQL.claim.get(self.dialect()))
            .bind(now + lease_ms)
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        Ok(row)
    }

    /// Records that the claimed notification was sent; `false` (nothing written) when its
    /// lease lapsed and another sender claimed it meanwhile.
    pub async fn notification_sent(
        &self,
        claimed: &QueuedNotification,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(SQL.sent.as_str())
            .bind(now)
            .bind(claimed.id)
            .bind(claimed.attempts)
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records a failed attempt of the claimed notification: due again at `retry_at`, or
    /// `dead` when `None`. `false` (nothing written) when another sender claimed it meanwhile.
    pub async fn notification_failed(
        &self,
        claimed: &QueuedNotification,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let (state, available_at) = match retry_at {
            Some(at) => ("pending", at),
            None => ("dead", 0),
        };
        let result = sqlx::query(SQL.failed.as_str())
            .bind(state)
            .bind(available_at)
            .bind(error)
            .bind(claimed.id)
            .bind(claimed.attempts)
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// How many notifications are in `state` (tests, health detail).
    pub async fn count_notifications(&self, state: &str) -> Result<i64, StoreError> {
        let count = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE state = $1")
            .bind(state)
            .fetch_one(self.pool())
            .await?;
        Ok(count)
    }
}
