//! `gitferry releases` reads the store a running server writes: each environment's releases,
//! newest first, with its last good release marked.

use gitferry::store::Store;
use gitferry::store::releases::{NewRelease, ReleaseCause, ReleaseProgress, ReleaseState};

use crate::support::db::TestDb;

async fn run(args: &[&str]) -> (bool, String, String) {
    let output = crate::support::sandbox::gitferry_command()
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run gitferry");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn released(store: &Store, id: &str, sha: &str, before: &str, state: ReleaseState) {
    let new = NewRelease {
        id,
        token_hash: "",
        repository: "octocat/shop",
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
    };
    store.record_release(&new, 1_000).await.expect("record");
    store
        .claim_release_work("cli-test", 100_000, 2_000)
        .await
        .expect("claim")
        .expect("due");
    let progress = ReleaseProgress {
        state,
        reason: (state == ReleaseState::Failed).then_some("step smoke did not pass"),
        url: Some("https://staging.example.com"),
        deployment_id: None,
        done: true,
    };
    store
        .mark_release(id, "cli-test", &progress, 3_000)
        .await
        .expect("mark");
}

#[tokio::test]
async fn releases_are_listed_newest_first_with_the_last_good_one_marked() {
    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.expect("store");
        store.migrate().await.expect("migrate");
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        released(&store, "r1", &a, &"0".repeat(40), ReleaseState::Verified).await;
        released(&store, "r2", &b, &a, ReleaseState::Failed).await;

        let (ok, text, err) = run(&[
            "releases",
            "--repo",
            "octocat/shop",
            "--env",
            "staging",
            "--database-url",
            &db.url,
        ])
        .await;
        assert!(ok, "{err}");
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 2, "{text}");
        assert!(rows[0].starts_with("staging-2  bbbbbbb  failed"), "{text}");
        assert!(rows[0].contains("step smoke did not pass"), "{text}");
        assert!(
            rows[1].starts_with("staging-1  aaaaaaa  verified"),
            "{text}"
        );
        assert!(rows[1].ends_with("(last good)"), "{text}");

        let (ok, json, err) = run(&[
            "releases",
            "--repo",
            "octocat/shop",
            "--json",
            "--database-url",
            &db.url,
        ])
        .await;
        assert!(ok, "{err}");
        let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(json[0]["version"], "staging-2", "{}", db.dialect);
        assert_eq!(json[1]["last_good"], true);

        let (ok, text, _) = run(&[
            "releases",
            "--repo",
            "octocat/shop",
            "--env",
            "production",
            "--database-url",
            &db.url,
        ])
        .await;
        assert!(ok);
        assert_eq!(text.trim(), "octocat/shop has no releases in production");
    }
}
