//! Secrets end to end: a step that prints its secret (as it is, base64, URL-encoded, in two
//! pieces) shows `***` in its check run, the sticky comment and its `/runs` log; a fork's head
//! runs without secrets unless the step says `secrets_for_forks: true`, and its check run names
//! what was withheld; a config naming another repository's variable fails `gitferry/config` at
//! the line and runs nothing.

use gitferry::store::DeliveryState;
use serde_json::json;

use crate::notifications::set_variable;
use crate::previews::{Scenario, scenario_with};
use crate::support::fake_github::{CheckRun, PrSpec, RepoHandle};
use crate::support::gitferry::eventually;
use crate::support::payloads;

/// What the masking test's step is given: long enough to be masked, with characters that
/// URL-encoding changes.
const SECRET: &str = "s3cr3t value/with+chars";
const SECRET_URL_ENCODED: &str = "s3cr3t%20value%2Fwith%2Bchars";

/// Prints its secret every way a careless script might, then fails (so the output tail shows
/// in the check run and the sticky comment).
const LEAKY_STEP: &str = "\
printf 'token: %s\\n' \"$TOKEN\"
printf 'basic: '; printf 'x%s' \"$TOKEN\" | base64
printf 'query: ?t=%s\\n' \"$ENCODED\"
first=$(printf '%s' \"$TOKEN\" | cut -c1-8)
rest=$(printf '%s' \"$TOKEN\" | cut -c9-)
printf 'split: %s' \"$first\"
sleep 0.3
printf '%s\\n' \"$rest\"
exit 1
";

fn leaky_config(variable: &str) -> String {
    format!(
        "\
pipeline:
  - name: leaky
    run: [sh, ci/leaky.sh]
    env:
      TOKEN: {{ secret: {variable} }}
      ENCODED: \"{SECRET_URL_ENCODED}\"
"
    )
}

async fn finished(s: &Scenario, sha: &str, step: &str) -> CheckRun {
    eventually(&format!("gitferry/{step} completed on {sha}"), || async {
        s.repo
            .check_runs()
            .into_iter()
            .filter(|r| r.head_sha == sha && r.name == format!("gitferry/{step}"))
            .filter(|r| r.status == "completed")
            .max_by_key(|r| r.id)
    })
    .await
}

/// The `/runs/…` log behind a check run's link, as gitferry serves it.
async fn served_log(s: &Scenario, run: &CheckRun) -> String {
    let url = run.details_url.clone().expect("a log link");
    let path = url
        .find("/runs/")
        .map(|at| url[at..].to_owned())
        .expect("a runs link");
    let (status, log) = s.gitferry.get(&path).await;
    assert_eq!(status, 200, "{log}");
    log
}

async fn open_pr(s: &Scenario) -> (u64, String) {
    let head = s.repo.commit_files("feature", &[("app.txt", "v1")], "work");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;
    (pr, head)
}

#[tokio::test]
async fn a_step_printing_its_secret_shows_only_stars_in_the_check_run_the_comment_and_the_log() {
    set_variable("OCTOCAT_SHOP_SEC1_TOKEN", SECRET);
    let s = scenario_with(
        &leaky_config("OCTOCAT_SHOP_SEC1_TOKEN"),
        &[("ci/leaky.sh", LEAKY_STEP)],
        &["--poll-interval", "100ms"],
    )
    .await;
    let (pr, head) = open_pr(&s).await;

    let run = finished(&s, &head, "leaky").await;
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let log = served_log(&s, &run).await;
    let summary = run.output.summary.clone().unwrap_or_default();
    let comment = eventually("the tests section with the step's output", || async {
        s.repo
            .bot_comments(pr)
            .into_iter()
            .map(|c| c.body)
            .find(|b| b.contains("Output of leaky"))
    })
    .await;
    for (place, text) in [
        ("log", &log),
        ("check run", &summary),
        ("comment", &comment),
    ] {
        for line in ["token: ***", "query: ?t=***", "split: ***"] {
            assert!(text.contains(line), "{place} lacks `{line}`:\n{text}");
        }
        assert!(
            text.contains("basic: ") && text.contains("***"),
            "{place}:\n{text}"
        );
        for leak in ["s3cr3t", "value/with", "with+chars", SECRET_URL_ENCODED] {
            assert!(!text.contains(leak), "{place} leaks `{leak}`:\n{text}");
        }
        let base64 = base64_of(&format!("x{SECRET}"));
        assert!(
            !text.contains(&base64[4..20]),
            "{place} leaks the base64:\n{text}"
        );
    }
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

// --- Forks -------------------------------------------------------------------------------

/// Two steps recording whether they got their secret: `plain`, and `trusted` that may have it
/// on forks.
fn fork_config(variable: &str, calls: &str) -> String {
    format!(
        "\
pipeline:
  - name: plain
    run: [sh, -c, 'echo \"plain token=${{TOKEN:-unset}}\" >> {calls}']
    env:
      TOKEN: {{ secret: {variable} }}
  - name: trusted
    run: [sh, -c, 'echo \"trusted token=${{TOKEN:-unset}}\" >> {calls}']
    secrets_for_forks: true
    env:
      TOKEN: {{ secret: {variable} }}
"
    )
}

#[tokio::test]
async fn a_forks_step_approved_by_retest_runs_without_its_secret_unless_the_step_allows_it() {
    set_variable("OCTOCAT_SHOP_SEC2_TOKEN", "fork-bait-token-value");
    // Steps run sandboxed: they report into a folder the sandbox lets them write.
    let calls = crate::support::sandbox::writable_dir().join("calls");
    let config = fork_config("OCTOCAT_SHOP_SEC2_TOKEN", &calls.display().to_string());
    let s = scenario_with(&config, &[], &["--poll-interval", "100ms"]).await;
    s.repo.set_permission("bob", "write");
    let fork: RepoHandle = s.repo.fork("mallory");
    let head = fork.commit_files("patch", &[("app.txt", "from a fork")], "fork work");
    let pr = s.repo.open_pr(
        PrSpec::new("patch", "main")
            .in_fork(&fork)
            .author("mallory"),
    );
    s.deliver_pr(pr, "opened").await;
    assert!(
        !calls.exists(),
        "nothing of a fork runs before a maintainer asks"
    );

    s.comment(pr, "bob", "/retest").await;

    let plain = finished(&s, &head, "plain").await;
    let trusted = finished(&s, &head, "trusted").await;
    let mut recorded: Vec<String> = std::fs::read_to_string(&calls)
        .expect("both steps ran")
        .lines()
        .map(str::to_owned)
        .collect();
    recorded.sort();
    assert_eq!(
        recorded,
        ["plain token=unset", "trusted token=fork-bait-token-value"]
    );
    let summary = plain.output.summary.clone().unwrap_or_default();
    assert!(
        summary.contains("This head comes from a fork, so the step ran without its secrets")
            && summary.contains("`TOKEN (OCTOCAT_SHOP_SEC2_TOKEN)`"),
        "{summary}"
    );
    let log = served_log(&s, &plain).await;
    assert!(log.contains("runs without its secrets TOKEN"), "{log}");
    let trusted_summary = trusted.output.summary.clone().unwrap_or_default();
    assert!(
        !trusted_summary.contains("without its secrets"),
        "{trusted_summary}"
    );
}

// --- The allow-list ----------------------------------------------------------------------

const STEALING: &str = "\
pipeline:
  - name: steal
    run: [sh, -c, 'echo stolen=$T']
    env:
      T: { secret: GLOBEX_VAULT_TOKEN }
";

async fn push_config(s: &Scenario, content: &str) -> String {
    let before = s.repo.branch_sha("main").expect("main");
    let after = s
        .repo
        .commit_files("main", &[(".github/gitferry.yml", content)], "config");
    let body = payloads::push(
        &s.repo,
        s.installation,
        &before,
        &after,
        &[".github/gitferry.yml"],
    );
    let (status, _, id) = s.gitferry.deliver("push", &body).await;
    assert_eq!(status, 202);
    s.gitferry.wait_for(&id, DeliveryState::Done).await;
    after
}

#[tokio::test]
async fn a_config_naming_another_repositorys_variable_fails_its_check_at_the_line_and_runs_nothing()
{
    set_variable("GLOBEX_VAULT_TOKEN", "globex-crown-jewels");
    let s = scenario_with(STEALING, &[], &["--poll-interval", "100ms"]).await;

    // The default branch's config names it: it is not used, so the PR runs nothing.
    let (pr, head) = open_pr(&s).await;
    let queued = s
        .gitferry
        .store
        .pipeline_steps_of("octocat/shop", pr as i64, "", &head)
        .await
        .expect("the store");
    assert!(queued.is_empty(), "{queued:?}");

    let after = push_config(&s, &format!("{STEALING}# touched\n")).await;
    let check = s
        .repo
        .check_run(&after, "gitferry/config")
        .expect("the config check on the pushed commit");
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    let annotation = &check.output.annotations[0];
    assert_eq!(annotation["start_line"], 5, "the line of the secret");
    let message = annotation["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("octocat/shop may not use the variable GLOBEX_VAULT_TOKEN")
            && message.contains("starting with OCTOCAT_SHOP_")
            && message.contains("GITFERRY_REPO_SECRETS=octocat/shop=GLOBEX_VAULT_TOKEN"),
        "{message}"
    );
    assert!(s.repo.check_run(&head, "gitferry/steal").is_none());
}

#[tokio::test]
async fn the_operator_can_allow_a_repository_another_variable() {
    let s = scenario_with(
        "",
        &[],
        &["--repo-secrets", "octocat/*=GLOBEX_VAULT_*;other/repo=X"],
    )
    .await;

    let after = push_config(&s, STEALING).await;

    let check = s
        .repo
        .check_run(&after, "gitferry/config")
        .expect("the config check on the pushed commit");
    assert_eq!(check.conclusion.as_deref(), Some("success"), "{check:?}");
}

/// A notification queued under an older config (or by a bug) that names another repository's
/// variable is not sent there: the sender asks the allow-list again.
#[tokio::test]
async fn the_sender_refuses_a_queued_notification_naming_another_repositorys_variable() {
    let (hook, hook_url) = crate::notifications::Receiver::start(0).await;
    set_variable("GLOBEX_SEC4_HOOK", &hook_url);
    set_variable("OCTOCAT_SHOP_SEC4_HOOK", &hook_url);
    let s = scenario_with(
        "",
        &[],
        &["--poll-interval", "50ms", "--notify-retry-backoff", "1h"],
    )
    .await;
    let message = |title: &str| {
        json!({
            "event": "preview_ready", "repository": "octocat/shop", "pr": 1, "sha": null,
            "actor": null, "title": title, "text": "", "links": [],
        })
        .to_string()
    };
    for (key, variable) in [
        ("stolen", "GLOBEX_SEC4_HOOK"),
        ("own", "OCTOCAT_SHOP_SEC4_HOOK"),
    ] {
        let body = message(key);
        let row = gitferry::store::notifications::NewNotification {
            dedupe_key: key,
            repository: "octocat/shop",
            event: "preview_ready",
            channel: "webhook",
            url_var: variable,
            secret_var: None,
            message: &body,
        };
        let queued = s.gitferry.store.queue_notification(&row, 0).await;
        assert!(queued.expect("the store"));
    }

    // The sender takes them oldest first, one at a time: once the own one is sent, the stolen
    // one was tried before it.
    eventually("the repository's own notification sent", || async {
        (s.gitferry.store.count_notifications("sent").await.ok()? == 1).then_some(())
    })
    .await;
    let received = hook.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].1["title"], "own", "{received:?}");
    assert_eq!(
        s.gitferry.store.count_notifications("pending").await.ok(),
        Some(1),
        "the refused one waits for its retry"
    );
}

/// A deploy command is given no secrets, but may still print one it found elsewhere (a file
/// committed by mistake): its log, the failure on the PR and the notification mask it.
#[tokio::test]
async fn a_deploy_printing_a_value_the_config_names_is_masked_on_the_pr_and_in_its_log() {
    let (hook, hook_url) = crate::notifications::Receiver::start(0).await;
    let leaked = format!("{hook_url}?key=deploy-leak-2f7c");
    set_variable("OCTOCAT_SHOP_SEC5_HOOK", &leaked);
    let config = "\
environments:
  preview:
    pull_requests: { base: [main] }
    deploy: { provider: command, deploy: [sh, scripts/leak.sh], destroy: [\"true\"] }
notify:
  - { on: [preview_failed], webhook: OCTOCAT_SHOP_SEC5_HOOK }
";
    let script = format!("echo \"calling {leaked}\"\necho \"failed at {leaked}\" >&2\nexit 3\n");
    let s = scenario_with(
        config,
        &[("scripts/leak.sh", &script)],
        &["--poll-interval", "50ms"],
    )
    .await;
    let (pr, head) = open_pr(&s).await;

    let check = finished(&s, &head, "preview").await;
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    let summary = check.output.summary.clone().unwrap_or_default();
    let log = served_log(&s, &check).await;
    let section = s.preview_section(pr);
    let (_, message) = eventually("the failure's notification", || async {
        hook.received().into_iter().next()
    })
    .await;
    let notified = message.to_string();
    for (place, text) in [
        ("check run", &summary),
        ("log", &log),
        ("comment", &section),
        ("notification", &notified),
    ] {
        assert!(!text.contains("deploy-leak-2f7c"), "{place} leaks:\n{text}");
    }
    assert!(log.contains("calling ***"), "{log}");
    assert!(summary.contains("***"), "{summary}");
}
