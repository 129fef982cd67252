//! Promotions (`0013_promotions.sql`): the one promotion pull request per target environment
//! and the candidate it proposes, the `/approve`s given on it, and the holds a rollback puts
//! on an environment.
//!
//! Merging is claimed under a lease: the row moves from `open` to `merging` for one owner, so
//! two processes handling two approvals of one promotion at once never merge it twice, and a
//! process that died mid-merge leaves a claim another may take once the lease lapses.

use super::{Store, StoreError};

/// Where a promotion is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromotionState {
    /// Proposed; waits for its approvals and checks.
    Open,
    /// One process is merging it.
    Merging,
    /// gitferry merged it.
    Merged,
    /// Closed or merged by hand: no longer gitferry's to merge.
    Closed,
}

impl PromotionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Merging => "merging",
            Self::Merged => "merged",
            Self::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Open, Self::Merging, Self::Merged, Self::Closed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A promotion as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Promotion {
    pub repository: String,
    pub environment: String,
    pub pr: i64,
    /// The candidate's sha: the head of `gitferry/promote/<environment>`.
    pub sha: String,
    /// The upstream release it proposes.
    pub candidate_id: String,
    /// Who asked for it (`/promote`), or `gitferry`: their own approval never counts.
    pub proposed_by: String,
    pub state: String,
    pub merged_sha: Option<String>,
    pub updated_at: i64,
}

impl Promotion {
    pub fn state(&self) -> Option<PromotionState> {
        PromotionState::parse(&self.state)
    }
}

/// A hold on automatic promotion into an environment.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Hold {
    pub reason: String,
    pub set_by: String,
    pub since: i64,
}

const COLUMNS: &str =
    "repository, environment, pr, sha, candidate_id, proposed_by, state, merged_sha, updated_at";

impl Store {
    /// Records that pull request `pr` proposes `sha` (release `candidate_id`) to
    /// `environment`. It replaces the environment's previous promotion unless that one is
    /// being merged right now (then `false`: the caller waits for that merge).
    pub async fn propose_promotion(
        &self,
        promotion: &Promotion,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO promotions (repository, environment, pr, sha, candidate_id,
                                     proposed_by, state, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)
             ON CONFLICT (repository, environment) DO UPDATE
                SET pr = excluded.pr, sha = excluded.sha, candidate_id = excluded.candidate_id,
                    proposed_by = excluded.proposed_by, state = 'open', merged_sha = NULL,
                    owner = NULL, lease_until = NULL, updated_at = excluded.updated_at
              WHERE promotions.state <> 'merging' OR promotions.lease_until < $7",
        )
        .bind(&promotion.repository)
        .bind(&promotion.environment)
        .bind(promotion.pr)
        .bind(&promotion.sha)
        .bind(&promotion.candidate_id)
        .bind(&promotion.proposed_by)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The environment's promotion, whatever its state.
    pub async fn promotion(
        &self,
        repository: &str,
        environment: &str,
    ) -> Result<Option<Promotion>, StoreError> {
        Ok(sqlx::query_as::<_, Promotion>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM promotions WHERE repository = $1 AND environment = $2"
        )))
        .bind(repository)
        .bind(environment)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The promotion pull request `pr` is, if it is one.
    pub async fn promotion_of_pull(
        &self,
        repository: &str,
        pr: i64,
    ) -> Result<Option<Promotion>, StoreError> {
        Ok(sqlx::query_as::<_, Promotion>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM promotions WHERE repository = $1 AND pr = $2"
        )))
        .bind(repository)
        .bind(pr)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The open promotions proposing `sha` (a check on it may be what they wait for).
    pub async fn open_promotions_at(
        &self,
        repository: &str,
        sha: &str,
    ) -> Result<Vec<Promotion>, StoreError> {
        Ok(sqlx::query_as::<_, Promotion>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM promotions
              WHERE repository = $1 AND sha = $2 AND state = 'open'"
        )))
        .bind(repository)
        .bind(sha)
        .fetch_all(self.pool())
        .await?)
    }

    /// Claims the merge of promotion `pr` at `sha` for `owner` until `lease_until`: whether
    /// this caller may merge. Only an open promotion still proposing `sha` is claimed (or one
    /// whose merger's lease lapsed).
    pub async fn claim_promotion_merge(
        &self,
        promotion: &Promotion,
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE promotions SET state = 'merging', owner = $1, lease_until = $2,
                                   updated_at = $3
              WHERE repository = $4 AND environment = $5 AND pr = $6 AND sha = $7
                AND (state = 'open' OR (state = 'merging' AND lease_until < $3))",
        )
        .bind(owner)
        .bind(lease_until)
        .bind(now)
        .bind(&promotion.repository)
        .bind(&promotion.environment)
        .bind(promotion.pr)
        .bind(&promotion.sha)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends `owner`'s merge: `Some(sha)` merged as `sha`, `None` not merged (back to open).
    /// Whether `owner` still held the claim.
    pub async fn finish_promotion_merge(
        &self,
        promotion: &Promotion,
        owner: &str,
        merged_sha: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let state = match merged_sha {
            Some(_) => PromotionState::Merged,
            None => PromotionState::Open,
        };
        let done = sqlx::query(
            "UPDATE promotions SET state = $1, merged_sha = $2, owner = NULL, lease_until = NULL,
                                   updated_at = $3
              WHERE repository = $4 AND environment = $5 AND pr = $6 AND state = 'merging'
                AND owner = $7",
        )
        .bind(state.as_str())
        .bind(merged_sha)
        .bind(now)
        .bind(&promotion.repository)
        .bind(&promotion.environment)
        .bind(promotion.pr)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Promotion pull request `pr` was closed or merged without gitferry.
    pub async fn close_promotion(
        &self,
        repository: &str,
        pr: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE promotions SET state = 'closed', updated_at = $1
              WHERE repository = $2 AND pr = $3 AND state = 'open'",
        )
        .bind(now)
        .bind(repository)
        .bind(pr)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// `login` approved commit `sha` of promotion pull request `pr` with `/approve`; whether
    /// this is new.
    pub async fn record_promotion_approval(
        &self,
        repository: &str,
        pr: i64,
        sha: &str,
        login: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO promotion_approvals (repository, pr, sha, login, at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(repository)
        .bind(pr)
        .bind(sha)
        .bind(login)
        .bind(at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The `/approve`s of pull request `pr`: (login, sha, at), oldest first.
    pub async fn promotion_approvals(
        &self,
        repository: &str,
        pr: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT login, sha, at FROM promotion_approvals
              WHERE repository = $1 AND pr = $2 ORDER BY at, login",
        )
        .bind(repository)
        .bind(pr)
        .fetch_all(self.pool())
        .await?)
    }

    /// Holds automatic promotion into `environment` (a rollback did); the first hold stays.
    pub async fn hold_environment(
        &self,
        repository: &str,
        environment: &str,
        hold: &Hold,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO environment_holds (repository, environment, reason, set_by, since)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(repository)
        .bind(environment)
        .bind(&hold.reason)
        .bind(&hold.set_by)
        .bind(hold.since)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn environment_hold(
        &self,
        repository: &str,
        environment: &str,
    ) -> Result<Option<Hold>, StoreError> {
        Ok(sqlx::query_as::<_, Hold>(
            "SELECT reason, set_by, since FROM environment_holds
              WHERE repository = $1 AND environment = $2",
        )
        .bind(repository)
        .bind(environment)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Lifts the hold; whether there was one.
    pub async fn release_hold(
        &self,
        repository: &str,
        environment: &str,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM environment_holds WHERE repository = $1 AND environment = $2")
                .bind(repository)
                .bind(environment)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::TestStore;

    fn proposal(pr: i64, sha: &str) -> Promotion {
        Promotion {
            repository: "octocat/shop".into(),
            environment: "production".into(),
            pr,
            sha: sha.into(),
            candidate_id: format!("release-{sha}"),
            proposed_by: "mona".into(),
            ..Promotion::default()
        }
    }

    #[tokio::test]
    async fn one_of_two_mergers_wins_and_a_lapsed_claim_can_be_taken_over() {
        for t in TestStore::all().await {
            let s = &t.store;
            let p = proposal(7, "aaa");
            assert!(s.propose_promotion(&p, 1_000).await.unwrap());
            assert!(
                s.claim_promotion_merge(&p, "one", 61_000, 1_000)
                    .await
                    .unwrap()
            );
            assert!(
                !s.claim_promotion_merge(&p, "two", 61_000, 1_001)
                    .await
                    .unwrap(),
                "{}: a second merger of one promotion is refused",
                t.dialect
            );
            assert!(
                !s.propose_promotion(&proposal(7, "bbb"), 2_000)
                    .await
                    .unwrap(),
                "{}: a merge in hand is not replaced",
                t.dialect
            );
            assert!(
                s.claim_promotion_merge(&p, "two", 200_000, 70_000)
                    .await
                    .unwrap()
            );
            assert!(
                !s.finish_promotion_merge(&p, "one", Some("m1"), 70_001)
                    .await
                    .unwrap(),
                "{}: the lapsed owner cannot record",
                t.dialect
            );
            assert!(
                s.finish_promotion_merge(&p, "two", Some("m2"), 70_002)
                    .await
                    .unwrap()
            );
            let merged = s
                .promotion("octocat/shop", "production")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(merged.state(), Some(PromotionState::Merged));
            assert_eq!(merged.merged_sha.as_deref(), Some("m2"));
            assert!(
                !s.claim_promotion_merge(&p, "three", 300_000, 80_000)
                    .await
                    .unwrap(),
                "{}: a merged promotion is never merged again",
                t.dialect
            );
        }
    }

    #[tokio::test]
    async fn a_moved_promotion_cannot_be_merged_at_its_old_sha() {
        for t in TestStore::all().await {
            let s = &t.store;
            assert!(
                s.propose_promotion(&proposal(7, "aaa"), 1_000)
                    .await
                    .unwrap()
            );
            assert!(
                s.propose_promotion(&proposal(7, "bbb"), 2_000)
                    .await
                    .unwrap()
            );
            assert!(
                !s.claim_promotion_merge(&proposal(7, "aaa"), "one", 9_000, 3_000)
                    .await
                    .unwrap(),
                "{}",
                t.dialect
            );
            assert_eq!(
                s.open_promotions_at("octocat/shop", "bbb")
                    .await
                    .unwrap()
                    .len(),
                1
            );
            assert!(s.close_promotion("octocat/shop", 7, 4_000).await.unwrap());
            assert!(
                s.open_promotions_at("octocat/shop", "bbb")
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    }

    #[tokio::test]
    async fn approvals_are_kept_per_commit_and_holds_until_lifted() {
        for t in TestStore::all().await {
            let s = &t.store;
            assert!(
                s.record_promotion_approval("r", 7, "aaa", "ann", 1)
                    .await
                    .unwrap()
            );
            assert!(
                !s.record_promotion_approval("r", 7, "aaa", "ann", 2)
                    .await
                    .unwrap()
            );
            assert!(
                s.record_promotion_approval("r", 7, "bbb", "ann", 3)
                    .await
                    .unwrap()
            );
            let approvals = s.promotion_approvals("r", 7).await.unwrap();
            assert_eq!(
                approvals,
                vec![
                    ("ann".to_owned(), "aaa".to_owned(), 1),
                    ("ann".to_owned(), "bbb".to_owned(), 3)
                ]
            );
            let hold = Hold {
                reason: "rolled back to production-2".into(),
                set_by: "mona".into(),
                since: 5,
            };
            s.hold_environment("r", "production", &hold).await.unwrap();
            assert_eq!(
                s.environment_hold("r", "production").await.unwrap(),
                Some(hold)
            );
            assert!(s.release_hold("r", "production").await.unwrap());
            assert!(!s.release_hold("r", "production").await.unwrap());
            assert_eq!(s.environment_hold("r", "production").await.unwrap(), None);
        }
    }
}
