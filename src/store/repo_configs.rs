//! The last valid `.github/gitferry.yml` of each repository, kept so that an invalid push
//! never leaves a repository without a configuration (issue: "the bot keeps using the last
//! valid config"). The source text is stored, not a serialised struct, so schema changes in
//! gitferry never make a stored row unreadable: it is parsed again on load.

use super::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredConfig {
    pub blob_sha: String,
    pub source: String,
}

impl Store {
    pub async fn save_valid_config(
        &self,
        repository: &str,
        config: &StoredConfig,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO repo_configs (repository, blob_sha, source, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (repository) DO UPDATE
                SET blob_sha = excluded.blob_sha, source = excluded.source,
                    updated_at = excluded.updated_at",
        )
        .bind(repository)
        .bind(&config.blob_sha)
        .bind(&config.source)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn last_valid_config(
        &self,
        repository: &str,
    ) -> Result<Option<StoredConfig>, StoreError> {
        Ok(sqlx::query_as::<_, StoredConfig>(
            "SELECT blob_sha, source FROM repo_configs WHERE repository = $1",
        )
        .bind(repository)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn forget_config(&self, repository: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM repo_configs WHERE repository = $1")
            .bind(repository)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
