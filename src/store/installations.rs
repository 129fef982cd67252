//! Queries on `installations` and `installation_repositories`: where the App is installed.

use super::{Store, StoreError};

/// An installation as a webhook payload describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installation {
    pub id: i64,
    pub account_login: String,
    pub account_type: String,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InstalledRepository {
    pub repository_id: i64,
    pub full_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InstallationRow {
    pub id: i64,
    pub account_login: String,
    pub account_type: String,
    pub suspended_at: Option<i64>,
}

impl Store {
    /// Creates or refreshes an installation (un-suspending it).
    pub async fn upsert_installation(
        &self,
        installation: &Installation,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO installations (id, account_login, account_type, suspended_at, updated_at)
             VALUES ($1, $2, $3, NULL, $4)
             ON CONFLICT (id) DO UPDATE
                SET account_login = excluded.account_login,
                    account_type = excluded.account_type,
                    updated_at = excluded.updated_at",
        )
        .bind(installation.id)
        .bind(&installation.account_login)
        .bind(&installation.account_type)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn delete_installation(&self, id: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM installation_repositories WHERE installation_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM installations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `suspended_at = None` un-suspends.
    pub async fn set_installation_suspended(
        &self,
        id: i64,
        suspended_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE installations SET suspended_at = $1, updated_at = $2 WHERE id = $3")
            .bind(suspended_at)
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn add_installation_repositories(
        &self,
        installation_id: i64,
        repositories: &[InstalledRepository],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        upsert_repositories(&mut tx, installation_id, repositories).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_installation_repositories(
        &self,
        installation_id: i64,
        repository_ids: &[i64],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for repository_id in repository_ids {
            sqlx::query(
                "DELETE FROM installation_repositories
                  WHERE installation_id = $1 AND repository_id = $2",
            )
            .bind(installation_id)
            .bind(repository_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Makes the stored repository list exactly `repositories` (after reading it from GitHub).
    pub async fn replace_installation_repositories(
        &self,
        installation_id: i64,
        repositories: &[InstalledRepository],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM installation_repositories WHERE installation_id = $1")
            .bind(installation_id)
            .execute(&mut *tx)
            .await?;
        upsert_repositories(&mut tx, installation_id, repositories).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn installation(&self, id: i64) -> Result<Option<InstallationRow>, StoreError> {
        Ok(sqlx::query_as::<_, InstallationRow>(
            "SELECT id, account_login, account_type, suspended_at FROM installations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn installation_repositories(
        &self,
        installation_id: i64,
    ) -> Result<Vec<InstalledRepository>, StoreError> {
        Ok(sqlx::query_as::<_, InstalledRepository>(
            "SELECT repository_id, full_name FROM installation_repositories
              WHERE installation_id = $1 ORDER BY full_name",
        )
        .bind(installation_id)
        .fetch_all(self.pool())
        .await?)
    }
}

async fn upsert_repositories(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    installation_id: i64,
    repositories: &[InstalledRepository],
) -> Result<(), StoreError> {
    for repository in repositories {
        sqlx::query(
            "INSERT INTO installation_repositories (installation_id, repository_id, full_name)
             VALUES ($1, $2, $3)
             ON CONFLICT (installation_id, repository_id) DO UPDATE
                SET full_name = excluded.full_name",
        )
        .bind(installation_id)
        .bind(repository.repository_id)
        .bind(&repository.full_name)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
