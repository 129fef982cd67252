//! The preview rows on every configured dialect: a push during a deploy supersedes it, the
//! queue keeps its order, a lost lease cannot write.

use gitferry::store::Store;
use gitferry::store::previews::{PreviewHead, PreviewOutcome, PreviewStatus};

use crate::support::db::TestDb;

async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

fn head<'a>(pr: i64, sha: &'a str) -> PreviewHead<'a> {
    PreviewHead {
        repository: "octocat/shop",
        pr,
        installation_id: 1,
        environment: "preview",
        head_sha: sha,
        head_ref: "feature",
        base_ref: "main",
        default_branch: "main",
        from_fork: false,
        approved_sha: None,
    }
}

fn ready(sha: &str) -> PreviewOutcome<'_> {
    PreviewOutcome {
        status: PreviewStatus::Ready,
        deployed_sha: Some(sha),
        namespace: Some("shop-pr-7"),
        url: Some("https://pr-7.example.com"),
        deployment_id: Some(10),
        run_id: Some("run-1"),
        reason: None,
    }
}

#[tokio::test]
async fn a_push_during_a_deploy_supersedes_it_and_the_newer_head_is_due() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        store
            .want_preview_up(&head(7, "aaa"), 1_000)
            .await
            .expect("want");
        let work = store
            .claim_preview_work("w1", 60_000, 2_000)
            .await
            .expect("claim")
            .expect("due");
        assert_eq!((work.head_sha.as_str(), work.generation), ("aaa", 1));
        // Nobody else takes it while the lease holds.
        assert!(
            store
                .claim_preview_work("w2", 60_000, 2_000)
                .await
                .expect("claim")
                .is_none()
        );

        // A push arrives mid-deploy.
        let pushed = store
            .want_preview_up(&head(7, "bbb"), 3_000)
            .await
            .expect("push");
        assert_eq!(pushed.generation, 2);
        assert_eq!(
            pushed.requested_at, 1_000,
            "{}: keeps its place",
            db.dialect
        );
        assert_eq!(
            store
                .renew_preview_lease("octocat/shop", 7, "w1", 70_000)
                .await
                .expect("renew"),
            Some(2),
            "the worker learns it was superseded"
        );
        let recorded = store
            .finish_preview_work("octocat/shop", 7, "w1", 1, &ready("aaa"), 4_000)
            .await
            .expect("finish");
        assert!(
            !recorded,
            "{}: the old deploy's result is discarded",
            db.dialect
        );
        let row = store
            .preview("octocat/shop", 7)
            .await
            .expect("get")
            .expect("row");
        assert_eq!(row.deployed_sha, None);

        let work = store
            .claim_preview_work("w2", 60_000, 5_000)
            .await
            .expect("claim")
            .expect("the newer head is due");
        assert_eq!((work.head_sha.as_str(), work.generation), ("bbb", 2));
        assert!(
            store
                .finish_preview_work("octocat/shop", 7, "w2", 2, &ready("bbb"), 6_000)
                .await
                .expect("finish")
        );
        let row = store
            .preview("octocat/shop", 7)
            .await
            .expect("get")
            .expect("row");
        assert_eq!(row.status(), PreviewStatus::Ready);
        assert_eq!(row.deployed_sha.as_deref(), Some("bbb"));
        assert_eq!(row.touched_at, 6_000);
        assert!(
            store
                .claim_preview_work("w3", 60_000, 7_000)
                .await
                .expect("claim")
                .is_none()
        );
    }
}

#[tokio::test]
async fn progress_needs_the_lease_and_a_lapsed_lease_is_taken_over() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        store
            .want_preview_up(&head(8, "aaa"), 1_000)
            .await
            .expect("want");
        store
            .want_preview_up(&head(9, "ccc"), 1_500)
            .await
            .expect("want");
        let first = store
            .claim_preview_work("dead-worker", 2_500, 2_000)
            .await
            .expect("claim")
            .expect("due");
        assert_eq!(first.pr, 8, "oldest request first");
        let deploying = PreviewOutcome {
            status: PreviewStatus::Deploying,
            ..ready("aaa")
        };
        assert!(
            store
                .mark_preview("octocat/shop", 8, "dead-worker", &deploying, 2_100)
                .await
                .expect("mark")
        );
        assert!(
            !store
                .mark_preview("octocat/shop", 8, "someone-else", &deploying, 2_100)
                .await
                .expect("mark")
        );
        // The worker died; after its lease the row is claimed again, still oldest first.
        let again = store
            .claim_preview_work("w2", 60_000, 3_000)
            .await
            .expect("claim")
            .expect("due again");
        assert_eq!((again.pr, again.status()), (8, PreviewStatus::Deploying));
        assert!(
            !store
                .finish_preview_work("octocat/shop", 8, "dead-worker", 1, &ready("aaa"), 3_100)
                .await
                .expect("late write"),
            "{}: the dead worker's late result is refused",
            db.dialect
        );
    }
}

#[tokio::test]
async fn closing_wants_it_down_and_reopening_wants_it_up_at_the_back_of_the_queue() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        store
            .want_preview_up(&head(7, "aaa"), 1_000)
            .await
            .expect("want");
        let down = store
            .want_preview_down("octocat/shop", 7, "the pull request was closed", 2_000)
            .await
            .expect("down")
            .expect("exists");
        assert_eq!((down.wanted.as_str(), down.generation), ("down", 2));
        assert!(
            store
                .want_preview_down("octocat/shop", 99, "closed", 2_000)
                .await
                .expect("down")
                .is_none()
        );
        let up = store
            .want_preview_up(&head(7, "aaa"), 5_000)
            .await
            .expect("reopen");
        assert_eq!((up.wanted.as_str(), up.requested_at), ("up", 5_000));
    }
}
