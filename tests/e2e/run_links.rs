//! Run-log links: the store keeps only their tokens' hashes (red team: whoever reads the store,
//! a backup or the outbox finds no token that opens a log), logs expire after the retention
//! with a page that says so, and migration 0008 turns the links stored in plain text before it
//! into hashes without breaking the links already posted.

use gitferry::runs::{RunLinks, token_hash, token_matches};
use gitferry::store::Store;
use sqlx::{AnyPool, Row};

use crate::notifications::{Receiver, set_variable};
use crate::previews::{CONFIG, scenario_with};
use crate::support::db::TestDb;
use crate::support::fake_github::PrSpec;
use crate::support::gitferry::eventually;

/// `http://127.0.0.1:…/runs/<id>?token=…` → `/runs/<id>?token=…`.
fn path_of(url: &str) -> String {
    url.find("/runs/")
        .map(|at| url[at..].to_owned())
        .expect("a run link")
}

fn token_of(url: &str) -> String {
    url.split_once("?token=")
        .map(|(_, token)| token.to_owned())
        .expect("a token")
}

/// Every byte SQLite wrote: the database file and its write-ahead log.
fn database_bytes(db: &TestDb) -> Vec<u8> {
    let path = db.url.trim_start_matches("sqlite://");
    let mut bytes = std::fs::read(path).expect("the database file");
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn no_token_that_opens_a_log_is_ever_written_to_the_store() {
    let (slack, slack_url) = Receiver::start(0).await;
    set_variable("OCTOCAT_SHOP_GFR1_SLACK", &slack_url);
    let config = format!(
        "{CONFIG}notify:\n  - {{ on: [preview_ready], slack: OCTOCAT_SHOP_GFR1_SLACK }}\n\
         pipeline:\n  - name: unit\n    run: [sh, -c, \"echo unit ran\"]\n"
    );
    let s = scenario_with(&config, &[], &[]).await;
    let head = s.repo.commit_files("feature", &[("app.txt", "v1")], "v1");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;
    let deployment = s.deployment_state(&head, "success").await;
    let link = deployment
        .statuses
        .last()
        .map(|status| status.log_url.clone())
        .expect("a log link");
    let (status, log) = s.gitferry.get(&path_of(&link)).await;
    assert_eq!(status, 200, "{log}");

    // The notification, sent from the outbox, carries a working link too.
    let (_, message) = eventually("Slack's message", || async {
        slack.received().into_iter().next()
    })
    .await;
    let text = message["text"].as_str().unwrap_or_default().to_owned();
    let sent = text
        .split(['<', '|'])
        .find(|part| part.contains("/runs/"))
        .expect("the deploy log's link in the message");
    assert_eq!(s.gitferry.get(&path_of(sent)).await.0, 200, "{text}");

    // The step's check run links its log, redrawn from the run id by whoever reported it.
    let unit = eventually("gitferry/unit completed", || async {
        s.repo
            .check_run(&head, "gitferry/unit")
            .filter(|run| run.status == "completed")
    })
    .await;
    let step_link = unit.details_url.clone().expect("the step's log link");
    let (status, step_log) = s.gitferry.get(&path_of(&step_link)).await;
    assert_eq!(status, 200, "{step_log}");
    assert!(step_log.contains("unit ran"), "{step_log}");

    // The attacker has the database (a backup, a replica) and looks for the tokens.
    let bytes = database_bytes(&s.db);
    for link in [&link, &step_link] {
        let token = token_of(link);
        assert!(contains(&bytes, &token_hash(&token)), "the hash is kept");
        assert!(
            !contains(&bytes, &token),
            "the token {token} is nowhere in the store"
        );
    }
    assert!(!contains(&bytes, &token_of(sent)));
}

#[tokio::test]
async fn an_expired_log_answers_gone_and_is_purged_from_the_store() {
    let s = scenario_with(CONFIG, &[], &["--run-retention", "1s"]).await;
    let head = s.repo.commit_files("feature", &[("app.txt", "v1")], "v1");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;
    let deployment = s.deployment_state(&head, "success").await;
    let link = deployment
        .statuses
        .last()
        .map(|status| status.log_url.clone())
        .expect("a log link");
    let run_id = link
        .split("/runs/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .expect("a run id")
        .to_owned();

    // The background purge empties the log and marks it expired.
    let run = eventually("the log purged", || async {
        s.gitferry
            .store
            .preview_run(&run_id)
            .await
            .ok()
            .flatten()
            .filter(|run| run.log_expired_at.is_some())
    })
    .await;
    assert_eq!(run.log, "", "the log is gone from the store");

    let (status, page) = s.gitferry.get(&path_of(&link)).await;
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("expired"), "{page}");
    assert!(page.contains("GITFERRY_RUN_RETENTION"), "{page}");
    // Still no hint for someone without the token.
    let (status, _) = s
        .gitferry
        .get(&format!("/runs/{run_id}?token={}", "0".repeat(32)))
        .await;
    assert_eq!(status, 404);
}

/// A pipeline step's row as migration 0007 left it: its link in `log_url`, the token in it.
async fn insert_step_before_0008(pool: &AnyPool, id: &str, token: &str) {
    sqlx::query(
        "INSERT INTO pipeline_steps (id, token_hash, repository, pr, installation_id, sha,
             branch, base_ref, default_branch, step, attempt, after_deploy, concurrency, state,
             conclusion, log, created_at, started_at, finished_at, updated_at, log_url)
         VALUES ($1, $2, 'octocat/shop', 7, 1, 'abc', 'feature', 'main', 'main', 'unit', 1, 0,
                 2, 'done', 'success', 'ran unit', 1, 2, 3, 3, $3)",
    )
    .bind(id)
    .bind(token_hash(token))
    .bind(format!(
        "https://gitferry.example.com/runs/{id}?token={token}"
    ))
    .execute(pool)
    .await
    .expect("a 0007 row");
}

#[tokio::test]
async fn migration_0008_keeps_only_hashes_and_the_posted_links_still_open() {
    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.expect("connect");
        store.migrate_to(7).await.expect("migrations up to 0007");
        let pool = AnyPool::connect(&db.url).await.expect("pool");
        let token = "0123456789abcdef0123456789abcdef";
        insert_step_before_0008(&pool, "7f3a9c01d2e4b5a6", token).await;

        store
            .migrate()
            .await
            .expect("migration 0008 on existing rows");

        let columns = sqlx::query("SELECT * FROM pipeline_steps")
            .fetch_all(&pool)
            .await
            .expect("rows");
        assert_eq!(columns.len(), 1, "{}", db.dialect);
        assert!(
            sqlx::query("SELECT log_url FROM pipeline_steps")
                .fetch_all(&pool)
                .await
                .is_err(),
            "{}: the column holding tokens is gone",
            db.dialect
        );
        let row = sqlx::query("SELECT token_hash, log FROM pipeline_steps WHERE id = $1")
            .bind("7f3a9c01d2e4b5a6")
            .fetch_one(&pool)
            .await
            .expect("the row");
        let hash: String = row.get("token_hash");
        assert!(
            token_matches(token, &hash),
            "{}: the posted link opens",
            db.dialect
        );
        let step = store
            .pipeline_step("7f3a9c01d2e4b5a6")
            .await
            .expect("read")
            .expect("the step");
        assert_eq!(step.log, "ran unit");
        assert_eq!(step.log_expired_at, None);
        let links = RunLinks::new(b"any key", "https://gitferry.example.com");
        assert_eq!(
            links.shown(&step.id, &step.token_hash),
            None,
            "{}: a random token cannot be derived again, so no link is redrawn",
            db.dialect
        );
        pool.close().await;
        store.close().await;
    }
}

fn preview_run(id: &str, finished_at: Option<i64>) -> gitferry::store::previews::PreviewRun {
    gitferry::store::previews::PreviewRun {
        id: id.to_owned(),
        token_hash: token_hash(id),
        repository: "octocat/shop".to_owned(),
        pr: 7,
        operation: "deploy".to_owned(),
        sha: "abc".to_owned(),
        generation: 1,
        state: if finished_at.is_some() {
            "success"
        } else {
            "running"
        }
        .to_owned(),
        reason: None,
        log: format!("log of {id}"),
        started_at: 1_000,
        finished_at,
        log_expired_at: None,
    }
}

#[tokio::test]
async fn the_purge_empties_only_logs_past_the_cutoff_and_only_once() {
    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.expect("connect");
        store.migrate().await.expect("migrate");
        for run in [
            preview_run("old", Some(5_000)),
            preview_run("recent", Some(20_000)),
            preview_run("running", None),
        ] {
            store.start_preview_run(&run).await.expect("a run");
        }

        assert_eq!(
            store.purge_run_logs(10_000, 30_000).await.expect("purge"),
            1
        );
        assert_eq!(
            store.purge_run_logs(10_000, 31_000).await.expect("again"),
            0,
            "{}: nothing more",
            db.dialect
        );

        let read = |id: &'static str| {
            let store = store.clone();
            async move { store.preview_run(id).await.expect("read").expect("the run") }
        };
        let old = read("old").await;
        assert_eq!((old.log.as_str(), old.log_expired_at), ("", Some(30_000)));
        assert_eq!(read("recent").await.log, "log of recent");
        assert_eq!(read("running").await.log, "log of running");
        store.close().await;
    }
}
