//! Queries on `notifications`, the outbox the notification sender works from (migration 0006).

use super::{Store, StoreError};

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
        let row = sqlx::query_as::<_, QueuedNotification>(
            "UPDATE notifications
                SET attempts = attempts + 1, lease_until = $1, available_at = $1
              WHERE id = (SELECT id FROM notifications
                           WHERE state = 'pending' AND available_at <= $2
                           ORDER BY available_at, id LIMIT 1)
                -- Checked again on the row itself: on PostgreSQL a concurrent sender that
                -- took it first has moved its available_at, and this one passes.
                AND state = 'pending' AND available_at <= $2
             RETURNING id, repository, event, channel, url_var, secret_var, message, attempts",
        )
        .bind(now + lease_ms)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }

    pub async fn notification_sent(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notifications SET state = 'sent', sent_at = $1, last_error = NULL
              WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a failed attempt: due again at `retry_at`, or `dead` when `None`.
    pub async fn notification_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let (state, available_at) = match retry_at {
            Some(at) => ("pending", at),
            None => ("dead", 0),
        };
        sqlx::query(
            "UPDATE notifications SET state = $1, available_at = $2, last_error = $3
              WHERE id = $4",
        )
        .bind(state)
        .bind(available_at)
        .bind(error)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
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
