//! Which merged pull requests' changes each release brought (`0012_release_pulls.sql`): the
//! sticky comment's "where is my change".

use super::{Store, StoreError};
use crate::store::releases::Release;

/// One pull request's change in one environment, from one release.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ReleasedPull {
    pub pr: i64,
    pub environment: String,
    pub release_id: String,
    pub version: String,
    pub sha: String,
    pub since: i64,
    pub rolled_back_at: Option<i64>,
}

impl Store {
    /// Records that `release` brought these pull requests' changes (once per release).
    pub async fn record_release_pulls(
        &self,
        release: &Release,
        prs: &[i64],
        since: i64,
    ) -> Result<(), StoreError> {
        for pr in prs {
            sqlx::query(
                "INSERT INTO release_pulls (repository, pr, environment, release_id, version,
                                            sha, since)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT DO NOTHING",
            )
            .bind(&release.repository)
            .bind(pr)
            .bind(&release.environment)
            .bind(&release.id)
            .bind(release.version())
            .bind(&release.sha)
            .bind(since)
            .execute(self.pool())
            .await?;
        }
        Ok(())
    }

    /// Where a pull request's change went, oldest first.
    pub async fn released_pull(
        &self,
        repository: &str,
        pr: i64,
    ) -> Result<Vec<ReleasedPull>, StoreError> {
        Ok(sqlx::query_as::<_, ReleasedPull>(
            "SELECT pr, environment, release_id, version, sha, since, rolled_back_at
               FROM release_pulls WHERE repository = $1 AND pr = $2
              ORDER BY since, release_id",
        )
        .bind(repository)
        .bind(pr)
        .fetch_all(self.pool())
        .await?)
    }

    /// The pull requests the releases of `environment` at these shas brought (a promotion's
    /// changelog names where its commits came from without asking GitHub per commit).
    pub async fn pulls_released_at(
        &self,
        repository: &str,
        environment: &str,
        shas: &[String],
    ) -> Result<Vec<i64>, StoreError> {
        let mut prs = Vec::new();
        for sha in shas {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "SELECT DISTINCT pr FROM release_pulls
                  WHERE repository = $1 AND environment = $2 AND sha = $3",
            )
            .bind(repository)
            .bind(environment)
            .bind(sha)
            .fetch_all(self.pool())
            .await?;
            prs.extend(rows.into_iter().map(|(pr,)| pr));
        }
        prs.sort_unstable();
        prs.dedup();
        Ok(prs)
    }

    /// The releases were rolled back at `at`: the pull requests they brought, whose comments
    /// now say so.
    pub async fn roll_back_release_pulls(
        &self,
        repository: &str,
        release_ids: &[String],
        at: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut prs = Vec::new();
        for id in release_ids {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "UPDATE release_pulls SET rolled_back_at = $1
                  WHERE repository = $2 AND release_id = $3 AND rolled_back_at IS NULL
                 RETURNING pr",
            )
            .bind(at)
            .bind(repository)
            .bind(id)
            .fetch_all(self.pool())
            .await?;
            prs.extend(rows.into_iter().map(|(pr,)| pr));
        }
        prs.sort_unstable();
        prs.dedup();
        Ok(prs)
    }
}
