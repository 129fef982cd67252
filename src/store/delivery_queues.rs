//! The per-ordering-key queues of the inbox (migration 0004).
//!
//! Of one ordering key's unfinished deliveries only the oldest, its *head*, is `pending` or
//! `processing`; the rest are `waiting`. A claim therefore only ever reads heads, and a PR
//! whose first delivery keeps failing cannot make every claim wade through its backlog.
//!
//! `delivery_queues.unfinished` counts a key's pending, processing and waiting deliveries.
//! Every writer that changes that count touches the key's row first, inside its transaction:
//! on PostgreSQL the row lock serialises intake, completion and re-queueing of one key across
//! servers, so a delivery can never be left waiting with no head ahead of it; on SQLite the
//! single writer does the same.

use sqlx::AnyConnection;

use super::StoreError;

/// Counts `n` more unfinished deliveries of `key`: `true` when it had none, so the first of
/// them is the head and may run now; `false` when they all wait.
pub(super) async fn join(conn: &mut AnyConnection, key: &str, n: i64) -> Result<bool, StoreError> {
    let unfinished: i64 = sqlx::query_scalar(
        "INSERT INTO delivery_queues (ordering_key, unfinished) VALUES ($1, $2)
         ON CONFLICT (ordering_key) DO UPDATE SET unfinished = delivery_queues.unfinished + $2
         RETURNING unfinished",
    )
    .bind(key)
    .bind(n)
    .fetch_one(conn)
    .await?;
    Ok(unfinished == n)
}

/// Takes back `n` of a [`join`] whose deliveries turned out to be redeliveries, not stored.
pub(super) async fn retract(conn: &mut AnyConnection, key: &str, n: i64) -> Result<(), StoreError> {
    decrement(conn, key, n).await.map(|_| ())
}

/// The head of `key` finished (done or dead): the oldest waiting delivery, if any, becomes
/// the head.
pub(super) async fn advance(conn: &mut AnyConnection, key: &str) -> Result<(), StoreError> {
    if decrement(conn, key, 1).await? > 0 {
        sqlx::query(
            "UPDATE deliveries SET state = 'pending'
              WHERE id = (SELECT w.id FROM deliveries w
                           WHERE w.ordering_key = $1 AND w.state = 'waiting'
                           ORDER BY w.id LIMIT 1)",
        )
        .bind(key)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Counts `n` fewer unfinished deliveries, forgetting the key when none is left (the table
/// holds only keys with work, not every PR ever seen). Returns how many are left.
async fn decrement(conn: &mut AnyConnection, key: &str, n: i64) -> Result<i64, StoreError> {
    let left: Option<i64> = sqlx::query_scalar(
        "UPDATE delivery_queues SET unfinished = unfinished - $2
          WHERE ordering_key = $1 RETURNING unfinished",
    )
    .bind(key)
    .bind(n)
    .fetch_optional(&mut *conn)
    .await?;
    let left = left.unwrap_or(0);
    if left <= 0 {
        sqlx::query("DELETE FROM delivery_queues WHERE ordering_key = $1 AND unfinished <= 0")
            .bind(key)
            .execute(conn)
            .await?;
    }
    Ok(left)
}
