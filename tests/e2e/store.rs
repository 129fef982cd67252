//! Store queries not covered by a scenario elsewhere, on every configured dialect.

use gitferry::store::audit::AuditEntry;
use gitferry::store::installations::{Installation, InstalledRepository};
use gitferry::store::repo_configs::StoredConfig;
use gitferry::store::{Store, now_ms};

use crate::support::db::TestDb;

async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

fn entry(source: &str, outcome: &str) -> AuditEntry {
    AuditEntry {
        at: now_ms(),
        actor: "dora".into(),
        action: "command:promote production".into(),
        repository: "octocat/shop".into(),
        pr: Some(7),
        sha: Some("abc1234".into()),
        outcome: outcome.into(),
        detail: None,
        delivery_id: Some("d-1".into()),
        source_id: Some(source.into()),
        environment: None,
    }
}

#[tokio::test]
async fn the_audit_log_keeps_each_source_and_action_once() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        assert!(
            store
                .record_audit(&entry("comment:1:0", "allowed"))
                .await
                .expect("insert")
        );
        assert!(
            !store
                .record_audit(&entry("comment:1:0", "allowed"))
                .await
                .expect("replay")
        );
        assert!(
            store
                .record_audit(&entry("comment:2:0", "refused"))
                .await
                .expect("insert")
        );
        let entries = store.audit_entries("octocat/shop").await.expect("query");
        let outcomes: Vec<&str> = entries.iter().map(|e| e.outcome.as_str()).collect();
        assert_eq!(outcomes, ["allowed", "refused"], "{}", db.dialect);
        let expected = AuditEntry {
            at: entries[0].at,
            ..entry("comment:1:0", "allowed")
        };
        assert_eq!(entries[0], expected);
    }
}

#[tokio::test]
async fn the_last_valid_config_is_replaced_and_forgotten() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        assert!(
            store
                .last_valid_config("octocat/shop")
                .await
                .expect("query")
                .is_none()
        );
        for (sha, source) in [("b1", "pipeline: []\n"), ("b2", "drift: { every: 5m }\n")] {
            let config = StoredConfig {
                blob_sha: sha.into(),
                source: source.into(),
            };
            store
                .save_valid_config("octocat/shop", &config, now_ms())
                .await
                .expect("save");
        }
        let stored = store
            .last_valid_config("octocat/shop")
            .await
            .expect("query")
            .expect("row");
        assert_eq!(
            (stored.blob_sha.as_str(), stored.source.as_str()),
            ("b2", "drift: { every: 5m }\n"),
            "{}",
            db.dialect
        );
        store.forget_config("octocat/shop").await.expect("forget");
        assert!(
            store
                .last_valid_config("octocat/shop")
                .await
                .expect("query")
                .is_none()
        );
    }
}

#[tokio::test]
async fn installations_and_their_repositories_round_trip() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let installation = Installation {
            id: 9,
            account_login: "octocat".into(),
            account_type: "User".into(),
        };
        store
            .upsert_installation(&installation, now_ms())
            .await
            .expect("upsert");
        let repos = [
            InstalledRepository {
                repository_id: 1,
                full_name: "octocat/a".into(),
            },
            InstalledRepository {
                repository_id: 2,
                full_name: "octocat/b".into(),
            },
        ];
        store
            .add_installation_repositories(9, &repos)
            .await
            .expect("add");
        store
            .add_installation_repositories(9, &repos[..1])
            .await
            .expect("add again is a no-op");
        store
            .remove_installation_repositories(9, &[2])
            .await
            .expect("remove");
        assert_eq!(
            store.installation_repositories(9).await.expect("query"),
            repos[..1],
            "{}",
            db.dialect
        );
        store
            .replace_installation_repositories(9, &repos[1..])
            .await
            .expect("replace");
        assert_eq!(
            store.installation_repositories(9).await.expect("query"),
            repos[1..]
        );
        store
            .set_installation_suspended(9, Some(5), now_ms())
            .await
            .expect("suspend");
        assert_eq!(
            store
                .installation(9)
                .await
                .expect("query")
                .expect("row")
                .suspended_at,
            Some(5)
        );
        store.delete_installation(9).await.expect("delete");
        assert!(store.installation(9).await.expect("query").is_none());
        assert!(
            store
                .installation_repositories(9)
                .await
                .expect("query")
                .is_empty()
        );
    }
}
