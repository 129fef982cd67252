//! The audit log as people read it: `gitferry audit` on the command line and `GET /api/audit`
//! behind its bearer token, on entries written by slash commands or straight into the store.

use gitferry::store::audit::AuditEntry;
use gitferry::store::{Store, now_ms};
use serde_json::Value;

use crate::support::db::TestDb;
use crate::support::tester::{REPO, Tester};

const CONFIG: &str = "\
environments:
  staging:
    branch: main
    deploy: { provider: command, deploy: [./deploy.sh], destroy: [./destroy.sh] }
  production:
    branch: release
    promote_from: staging
    deploy: { provider: command, deploy: [./deploy.sh], destroy: [./destroy.sh] }
";

const TOKEN: &str = "audit-api-token-0123456789abcdef0123456789";
const HOUR: i64 = 3_600_000;

/// `gitferry audit <args>` against the store at `database_url`.
async fn gitferry_audit(database_url: &str, args: &[&str]) -> std::process::Output {
    crate::support::sandbox::gitferry_command()
        .arg("audit")
        .args(["--database-url", database_url])
        .args(args)
        .env("GITFERRY_ENV_FILE", "/nonexistent/.env")
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("run gitferry")
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn entry(at: i64, repository: &str, environment: Option<&str>, action: &str) -> AuditEntry {
    AuditEntry {
        at,
        actor: "dora".into(),
        action: action.into(),
        repository: repository.into(),
        pr: None,
        sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
        outcome: "done".into(),
        detail: None,
        delivery_id: None,
        source_id: Some(format!("e2e:{action}")),
        environment: environment.map(str::to_owned),
    }
}

/// A day of one repository's releases and one of another's, the newest an hour old.
async fn seed(store: &Store) -> i64 {
    let now = now_ms();
    for e in [
        entry(now - 30 * HOUR, REPO, Some("staging"), "release staging-1"),
        entry(
            now - 26 * HOUR,
            REPO,
            Some("production"),
            "release production-1",
        ),
        entry(
            now - 3 * HOUR,
            "octocat/blog",
            Some("production"),
            "release blog",
        ),
        entry(now - 2 * HOUR, REPO, Some("staging"), "release staging-2"),
        entry(now - HOUR, REPO, Some("production"), "release production-2"),
    ] {
        assert!(store.record_audit(&e).await.expect("record"));
    }
    now
}

fn actions(json: &Value) -> Vec<String> {
    json.as_array()
        .expect("a JSON array")
        .iter()
        .map(|e| e["action"].as_str().expect("an action").to_owned())
        .collect()
}

#[tokio::test]
async fn audit_cli_tells_what_slash_commands_did_in_order() {
    let t = Tester::new()
        .config(CONFIG)
        .permission("bob", "write")
        .permission("carol", "read")
        .start()
        .await;
    let pr = t
        .open_pr("feature", &[("src/lib.rs", "fn shop() {}")])
        .await;
    t.comment(pr, "bob", "/help").await;
    t.comment(pr, "carol", "/promote production").await;

    let output = gitferry_audit(&t.db.url, &["--repo", REPO]).await;
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (line, (actor, action, outcome)) in lines.iter().zip([
        ("bob", "command:help", "allowed"),
        ("carol", "command:promote production", "refused"),
    ]) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(fields[0].ends_with('Z'), "UTC time first: {line}");
        assert_eq!(fields[1], actor, "{line}");
        assert!(line.contains(action), "{line}");
        assert!(line.contains(&format!("{REPO}#{pr}")), "{line}");
        assert!(line.contains(&format!("  {outcome}")), "{line}");
    }
    // The columns line up: the repository starts at the same place on both lines.
    let column = |line: &str| line.find(REPO).expect("repository");
    assert_eq!(column(lines[0]), column(lines[1]), "{text}");

    let output = gitferry_audit(&t.db.url, &["--repo", REPO, "--json"]).await;
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout).expect("one JSON array");
    assert_eq!(
        actions(&json),
        ["command:help", "command:promote production"]
    );
    let refused = &json[1];
    assert_eq!(refused["actor"], "carol");
    assert_eq!(refused["outcome"], "refused");
    assert_eq!(refused["pr"], pr);
    assert!(refused["delivery_id"].is_string(), "{refused}");
    assert!(refused["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(refused["time"].as_str().is_some_and(|t| t.ends_with('Z')));

    let output = gitferry_audit(&t.db.url, &["--repo", "octocat/other"]).await;
    assert_eq!(stdout(&output), "no audit entries match\n");
}

#[tokio::test]
async fn audit_cli_filters_by_repository_environment_and_since_on_every_dialect() {
    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let now = seed(&store).await;
        store.close().await;
        let json = |args: &'static [&'static str]| {
            let url = db.url.clone();
            async move {
                let mut all = vec!["--json"];
                all.extend(args);
                let output = gitferry_audit(&url, &all).await;
                assert!(output.status.success(), "{args:?}: {output:?}");
                actions(&serde_json::from_slice(&output.stdout).expect("JSON"))
            }
        };
        assert_eq!(
            json(&["--repo", REPO, "--env", "production"]).await,
            ["release production-1", "release production-2"],
            "{}",
            db.dialect
        );
        assert_eq!(
            json(&["--env", "production", "--since", "1d"]).await,
            ["release blog", "release production-2"],
            "{}",
            db.dialect
        );
        assert_eq!(
            json(&["--repo", REPO, "--since", "1d"]).await,
            ["release staging-2", "release production-2"],
            "{}",
            db.dialect
        );
        let since = chrono::DateTime::from_timestamp_millis(now - 3 * HOUR)
            .expect("time")
            .to_rfc3339();
        let output = gitferry_audit(&db.url, &["--json", "--since", &since]).await;
        assert_eq!(
            actions(&serde_json::from_slice(&output.stdout).expect("JSON")),
            ["release blog", "release staging-2", "release production-2"],
            "{}",
            db.dialect
        );
        // A limit keeps the newest, still oldest first, and says there may be more.
        let output = gitferry_audit(&db.url, &["--json", "--limit", "2"]).await;
        assert_eq!(
            actions(&serde_json::from_slice(&output.stdout).expect("JSON")),
            ["release staging-2", "release production-2"],
            "{}",
            db.dialect
        );
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("the newest 2 entries"),
            "{output:?}"
        );
        let output = gitferry_audit(&db.url, &["--env", "staging"]).await;
        let text = stdout(&output);
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.lines()
                .all(|l| l.contains(" staging ") && l.contains("0123456 ")),
            "environment and short sha on each line: {text}"
        );
    }
}

#[tokio::test]
async fn audit_cli_refuses_a_since_it_cannot_read() {
    let db = TestDb::sqlite();
    let output = gitferry_audit(&db.url, &["--since", "last tuesday"]).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("\"last tuesday\"") && stderr.contains("RFC 3339"),
        "{stderr}"
    );
    let output = gitferry_audit(&db.url, &["--limit", "0"]).await;
    assert_eq!(output.status.code(), Some(2), "clap refuses it: {output:?}");
}

#[tokio::test]
async fn audit_cli_help_shows_examples() {
    let output = crate::support::sandbox::gitferry_command()
        .args(["audit", "--help"])
        .output()
        .await
        .expect("run gitferry");
    let help = stdout(&output);
    for needle in [
        "--repo",
        "--env",
        "--since",
        "--json",
        "--limit",
        "Examples:",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
}

async fn api_tester() -> Tester {
    Tester::new().flag("--api-token", TOKEN).start().await
}

async fn get(t: &Tester, path: &str, authorization: Option<&str>) -> reqwest::Response {
    let mut request = t.gitferry.http.get(t.gitferry.url(path));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.expect("GET")
}

#[tokio::test]
async fn audit_api_does_not_exist_without_its_token() {
    let t = Tester::new().start().await;
    seed(&t.gitferry.store).await;
    for authorization in [None, Some("Bearer anything-at-all")] {
        let response = get(&t, "/api/audit", authorization).await;
        assert_eq!(response.status(), 404);
        assert!(response.headers().get("www-authenticate").is_none());
    }
}

#[tokio::test]
async fn audit_api_wants_the_bearer_token_before_anything_else() {
    let t = api_tester().await;
    seed(&t.gitferry.store).await;
    let wrong = format!("Bearer {}x", &TOKEN[..TOKEN.len() - 1]);
    let basic = format!("Basic {TOKEN}");
    for (path, authorization) in [
        ("/api/audit", None),
        ("/api/audit", Some(wrong.as_str())),
        ("/api/audit", Some("Bearer ")),
        ("/api/audit", Some(basic.as_str())),
        ("/api/audit", Some(TOKEN)),
        // Refused as unauthenticated, not as malformed: the query is not even looked at.
        ("/api/audit?since=never&bogus=1", None),
    ] {
        let response = get(&t, path, authorization).await;
        assert_eq!(response.status(), 401, "{path} {authorization:?}");
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let body = response.text().await.expect("body");
        assert!(!body.contains(TOKEN) && !body.contains("release"), "{body}");
    }
}

#[tokio::test]
async fn audit_api_answers_json_filtered_like_the_cli() {
    let t = api_tester().await;
    let now = seed(&t.gitferry.store).await;
    let bearer = format!("Bearer {TOKEN}");
    let json = |path: String| {
        let (t, bearer) = (&t, bearer.clone());
        async move {
            let response = get(t, &path, Some(&bearer)).await;
            assert_eq!(response.status(), 200, "{path}");
            let headers = response.headers().clone();
            assert!(
                headers["content-type"]
                    .to_str()
                    .is_ok_and(|v| v.starts_with("application/json")),
                "{headers:?}"
            );
            assert_eq!(headers["cache-control"], "no-store");
            response.json::<Value>().await.expect("JSON")
        }
    };
    let all = json("/api/audit".into()).await;
    assert_eq!(actions(&all).len(), 5);
    assert_eq!(all[0]["action"], "release staging-1", "oldest first");
    assert_eq!(all[0]["environment"], "staging");
    assert_eq!(all[0]["repository"], REPO);
    assert!(all[0]["at"].is_i64() && all[0]["time"].is_string());
    assert_eq!(
        actions(&json(format!("/api/audit?repo={REPO}&env=production")).await),
        ["release production-1", "release production-2"]
    );
    assert_eq!(
        actions(&json("/api/audit?env=production&since=1d".into()).await),
        ["release blog", "release production-2"]
    );
    let since = chrono::DateTime::from_timestamp_millis(now - 3 * HOUR)
        .expect("time")
        .to_rfc3339()
        .replace('+', "%2B");
    assert_eq!(
        actions(&json(format!("/api/audit?repo=octocat%2Fshop&since={since}")).await),
        ["release staging-2", "release production-2"]
    );
    assert_eq!(
        actions(&json("/api/audit?limit=1".into()).await),
        ["release production-2"]
    );
    assert!(
        actions(&json("/api/audit?env=preview".into()).await).is_empty(),
        "no match is an empty array"
    );
}

#[tokio::test]
async fn audit_api_refuses_bad_parameters_with_a_one_line_reason() {
    let t = api_tester().await;
    let bearer = format!("Bearer {TOKEN}");
    for (query, reason) in [
        ("since=last%20tuesday", "RFC 3339"),
        ("since=2025-02-30T00:00:00Z", "RFC 3339"),
        ("limit=0", "1 to 1000"),
        ("limit=5000", "1 to 1000"),
        ("limit=many", "1 to 1000"),
        ("environment=production", "environment"),
    ] {
        let response = get(&t, &format!("/api/audit?{query}"), Some(&bearer)).await;
        assert_eq!(response.status(), 400, "{query}");
        let body = response.text().await.expect("body");
        assert_eq!(body.lines().count(), 1, "{query}: {body}");
        assert!(body.contains(reason), "{query}: {body}");
    }
}
