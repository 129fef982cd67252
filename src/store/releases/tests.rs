//! Releases on every configured dialect (SQLite always, PostgreSQL when
//! `GITFERRY_TEST_DATABASE_URL` is set).

use super::*;
use crate::store::testing::TestStore;

const REPO: &str = "octocat/shop";

async fn stores() -> Vec<TestStore> {
    let mut stores = vec![TestStore::sqlite().await];
    stores.extend(TestStore::postgres().await);
    stores
}

fn push<'a>(id: &'a str, sha: &'a str, before: &'a str) -> NewRelease<'a> {
    NewRelease {
        id,
        token_hash: "",
        repository: REPO,
        environment: "staging",
        sha,
        before_sha: before,
        branch: "latest",
        default_branch: "main",
        installation_id: 1,
        cause: ReleaseCause::Push,
        actor: Some("mona"),
        approvers: None,
        rollback_of: None,
    }
}

async fn finish(store: &Store, id: &str, state: ReleaseState, now: i64) {
    let claimed = store
        .claim_release_work("w", now + 60_000, now)
        .await
        .expect("claim")
        .expect("a release is due");
    assert_eq!(claimed.id, id);
    let progress = ReleaseProgress {
        state,
        reason: None,
        url: Some("https://staging.example.com"),
        deployment_id: Some(7),
        done: true,
    };
    assert!(
        store
            .mark_release(id, "w", &progress, now)
            .await
            .expect("mark")
    );
}

#[tokio::test]
async fn each_push_is_the_environments_next_numbered_release_and_a_replay_records_nothing() {
    for t in stores().await {
        let s = &t.store;
        let first = s
            .record_release(&push("r1", "aaa", "000"), 1_000)
            .await
            .unwrap();
        let first = first.expect("recorded").release;
        assert_eq!((first.seq, first.version()), (1, "staging-1".to_owned()));
        assert_eq!(first.state(), Some(ReleaseState::Queued), "{}", t.dialect);
        let second = s
            .record_release(&push("r2", "bbb", "aaa"), 2_000)
            .await
            .unwrap();
        assert_eq!(second.expect("recorded").release.seq, 2);
        let replay = s
            .record_release(&push("r3", "bbb", "aaa"), 3_000)
            .await
            .unwrap();
        assert!(replay.is_none(), "the same push again: {}", t.dialect);
        let production = NewRelease {
            environment: "production",
            ..push("r4", "bbb", "000")
        };
        let other = s.record_release(&production, 4_000).await.unwrap();
        assert_eq!(other.expect("recorded").release.version(), "production-1");
    }
}

#[tokio::test]
async fn a_newer_push_supersedes_the_releases_still_in_flight_but_not_finished_ones() {
    for t in stores().await {
        let s = &t.store;
        s.record_release(&push("r1", "aaa", "000"), 1_000)
            .await
            .unwrap();
        finish(s, "r1", ReleaseState::Verified, 1_500).await;
        s.record_release(&push("r2", "bbb", "aaa"), 2_000)
            .await
            .unwrap();
        let third = s
            .record_release(&push("r3", "ccc", "bbb"), 3_000)
            .await
            .unwrap()
            .expect("recorded");
        assert_eq!(third.superseded, vec!["r2".to_owned()], "{}", t.dialect);
        let r2 = s.release("r2").await.unwrap().expect("r2");
        assert_eq!(r2.state(), Some(ReleaseState::Superseded));
        assert_eq!(r2.reason.as_deref(), Some("superseded by staging-3"));
        assert_eq!(r2.due, 0, "no work left for it");
        let r1 = s.release("r1").await.unwrap().expect("r1");
        assert_eq!(r1.state(), Some(ReleaseState::Verified), "kept");
    }
}

#[tokio::test]
async fn the_last_good_release_is_the_newest_verified_one() {
    for t in stores().await {
        let s = &t.store;
        assert!(
            s.last_good_release(REPO, "staging")
                .await
                .unwrap()
                .is_none()
        );
        s.record_release(&push("r1", "aaa", "000"), 1_000)
            .await
            .unwrap();
        finish(s, "r1", ReleaseState::Verified, 1_100).await;
        s.record_release(&push("r2", "bbb", "aaa"), 2_000)
            .await
            .unwrap();
        finish(s, "r2", ReleaseState::Failed, 2_100).await;
        let good = s.last_good_release(REPO, "staging").await.unwrap();
        assert_eq!(good.map(|r| r.id), Some("r1".to_owned()), "{}", t.dialect);
        let listed: Vec<String> = s
            .releases_of(REPO, Some("staging"), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.version())
            .collect();
        assert_eq!(listed, vec!["staging-2", "staging-1"]);
        assert_eq!(s.releases_of(REPO, None, 10).await.unwrap().len(), 2);
        assert!(
            s.releases_of(REPO, Some("production"), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_release_is_worked_on_by_one_holder_and_a_lapsed_holder_cannot_write() {
    for t in stores().await {
        let s = &t.store;
        s.record_release(&push("r1", "aaa", "000"), 1_000)
            .await
            .unwrap();
        let taken = s.claim_release_work("a", 61_000, 1_000).await.unwrap();
        assert_eq!(taken.map(|r| r.id), Some("r1".to_owned()));
        assert!(
            s.claim_release_work("b", 62_000, 2_000)
                .await
                .unwrap()
                .is_none()
        );
        // `a` dies; its lease lapses and `b` takes the release over.
        let taken = s.claim_release_work("b", 130_000, 70_000).await.unwrap();
        assert_eq!(taken.map(|r| r.id), Some("r1".to_owned()), "{}", t.dialect);
        let late = ReleaseProgress {
            state: ReleaseState::Verified,
            reason: None,
            url: None,
            deployment_id: None,
            done: true,
        };
        assert!(!s.mark_release("r1", "a", &late, 71_000).await.unwrap());
        assert!(
            s.renew_release_lease("r1", "a", 200_000)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            s.renew_release_lease("r1", "b", 200_000).await.unwrap(),
            Some(ReleaseState::Queued)
        );
        assert!(
            s.store_release_log("r1", "b", "deployed", 72_000)
                .await
                .unwrap()
        );
    }
}
