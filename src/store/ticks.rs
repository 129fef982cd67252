//! Queries on `tick_leases` (migration 0009): which replica runs each periodic tick.
//!
//! A tick's row is its lease. Taking it is one conditional `UPDATE` (free, lapsed, or already
//! ours), so two replicas racing for it cannot both win on either dialect. Every later write
//! names the holder, so a replica whose lease lapsed cannot record a run as its own.

use super::{Store, StoreError};

/// What the store knows of one tick, for `/readyz`-style reports and tests.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TickLease {
    pub name: String,
    pub holder: Option<String>,
    pub lease_until: i64,
    pub acquired_at: Option<i64>,
    pub next_due_at: i64,
    pub runs: i64,
    pub last_started_at: Option<i64>,
    pub last_finished_at: Option<i64>,
    pub last_error: Option<String>,
}

impl Store {
    /// Takes (or keeps) the lease on `name` until `lease_until`. `Some(next_due_at)` when
    /// `holder` holds it now, `None` when another replica does. The row is created on first use.
    pub async fn take_tick_lease(
        &self,
        name: &str,
        holder: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        sqlx::query("INSERT INTO tick_leases (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(self.pool())
            .await?;
        let next_due_at: Option<(i64,)> = sqlx::query_as(
            "UPDATE tick_leases
                SET acquired_at = CASE WHEN holder = $2 THEN acquired_at ELSE $4 END,
                    holder = $2, lease_until = $3
              WHERE name = $1 AND (holder = $2 OR holder IS NULL OR lease_until < $4)
          RETURNING next_due_at",
        )
        .bind(name)
        .bind(holder)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(next_due_at.map(|(due,)| due))
    }

    /// Gives the lease up (on shutdown), so another replica takes the tick at once instead of
    /// after the lease lapses.
    pub async fn release_tick_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tick_leases SET holder = NULL, lease_until = 0
              WHERE name = $1 AND holder = $2",
        )
        .bind(name)
        .bind(holder)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records that the holder starts a run; `false` when the lease is no longer its own (the
    /// run must not happen).
    pub async fn start_tick_run(
        &self,
        name: &str,
        holder: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let started = sqlx::query(
            "UPDATE tick_leases SET last_started_at = $3, runs = runs + 1
              WHERE name = $1 AND holder = $2 AND lease_until >= $3",
        )
        .bind(name)
        .bind(holder)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(started.rows_affected() == 1)
    }

    /// Records the end of a run and when the next one is due; ignored when the lease was lost
    /// meanwhile (the new holder keeps its own schedule).
    pub async fn finish_tick_run(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        next_due_at: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tick_leases SET last_finished_at = $3, next_due_at = $4, last_error = $5
              WHERE name = $1 AND holder = $2",
        )
        .bind(name)
        .bind(holder)
        .bind(now)
        .bind(next_due_at)
        .bind(error)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// One tick's row, if it ever ran.
    pub async fn tick_lease(&self, name: &str) -> Result<Option<TickLease>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT name, holder, lease_until, acquired_at, next_due_at, runs, last_started_at,
                    last_finished_at, last_error
               FROM tick_leases WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?)
    }
}
