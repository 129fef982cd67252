//! The audit log: every command and operation, allowed or refused (DESIGN.md: "who asked, who
//! approved, what SHA, when, result").

use super::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub repository: String,
    pub pr: Option<i64>,
    pub sha: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub delivery_id: Option<String>,
    /// What triggered the entry (e.g. `comment:123:2` for the 2nd command of a comment):
    /// recording the same source and action twice is a no-op, so replays do not duplicate.
    pub source_id: Option<String>,
}

impl Store {
    /// Appends an entry; `false` when this source and action were already recorded.
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO audit_log (at, actor, action, repository, pr, sha, outcome, detail,
                                    delivery_id, source_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (source_id, action) DO NOTHING",
        )
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.repository)
        .bind(entry.pr)
        .bind(&entry.sha)
        .bind(&entry.outcome)
        .bind(&entry.detail)
        .bind(&entry.delivery_id)
        .bind(&entry.source_id)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// A repository's entries, oldest first.
    pub async fn audit_entries(&self, repository: &str) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(sqlx::query_as::<_, AuditEntry>(
            "SELECT at, actor, action, repository, pr, sha, outcome, detail, delivery_id, source_id
               FROM audit_log WHERE repository = $1 ORDER BY id",
        )
        .bind(repository)
        .fetch_all(self.pool())
        .await?)
    }
}
