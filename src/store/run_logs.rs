//! Run logs past their retention (see [`crate::runs::retention`]), for every kind of run:
//! preview deploys and destroys (`preview_runs`), pipeline steps (`pipeline_steps`) and
//! releases (`releases`).

use super::{Store, StoreError};

impl Store {
    /// Empties the logs of runs that finished before `cutoff` and marks them expired at `now`
    /// (their pages then say so, whatever the retention is later set to). Returns how many
    /// logs were purged; a second call purges nothing more.
    pub async fn purge_run_logs(&self, cutoff: i64, now: i64) -> Result<u64, StoreError> {
        let mut purged = 0;
        for table in ["preview_runs", "pipeline_steps", "releases"] {
            let sql = format!(
                "UPDATE {table} SET log = '', log_expired_at = $1
                  WHERE finished_at < $2 AND log_expired_at IS NULL"
            );
            let result = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .bind(cutoff)
                .execute(self.pool())
                .await?;
            purged += result.rows_affected();
        }
        Ok(purged)
    }
}
