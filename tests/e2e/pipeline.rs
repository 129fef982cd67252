//! The pipeline end to end: steps run on the PR's head before and after its preview, each as a
//! check run with its test results; the sticky comment's tests section; Slack and DingTalk
//! hear the outcome; a timeout or a newer push kills the step's whole process group; `/retest`
//! and the check run's Re-run start a step again; a PR failure is compared with `main`.

use std::path::Path;

use gitferry::notify::channels::dingtalk_sign;
use gitferry::store::DeliveryState;
use serde_json::json;

use crate::notifications::{Receiver, set_variable, url_params};
use crate::previews::{Scenario, scenario_with};
use crate::support::fake_github::{CheckRun, PrSpec};
use crate::support::gitferry::{eventually, fixture};
use crate::support::payloads;

/// A JUnit report as pytest's xunit writes it; `failures` are `(name, file:line)`.
pub(crate) fn junit(suite: &str, passed: &[&str], failures: &[(&str, &str)]) -> String {
    let mut cases = String::new();
    for name in passed {
        cases.push_str(&format!(
            "<testcase classname=\"tests.{suite}\" name=\"{name}\" time=\"0.01\"/>"
        ));
    }
    for (name, at) in failures {
        cases.push_str(&format!(
            "<testcase classname=\"tests.{suite}\" name=\"{name}\" time=\"0.02\">\
             <failure message=\"AssertionError: expected 200\">{at}: AssertionError: expected 200</failure>\
             </testcase>"
        ));
    }
    format!(
        "<?xml version=\"1.0\"?><testsuites><testsuite name=\"{suite}\" tests=\"{}\" failures=\"{}\">{cases}</testsuite></testsuites>",
        passed.len() + failures.len(),
        failures.len()
    )
}

/// A step script: records how it was called in `calls`, copies `report` to where the config
/// expects it, and exits with `code`.
fn step_script(calls: &Path, name: &str, report: &str, code: i32) -> String {
    format!(
        "set -e\n\
         echo \"{name} sha=$GITFERRY_SHA preview=${{GITFERRY_PREVIEW_URL:-none}} attempt=$GITFERRY_ATTEMPT\" >> {calls}\n\
         mkdir -p reports\n\
         cat > reports/{name}.xml <<'XML'\n{report}\nXML\n\
         echo \"ran {name}\"\n\
         exit {code}\n",
        calls = calls.display()
    )
}

pub(crate) fn config(prefix: &str, extra_steps: &str) -> String {
    format!(
        "\
pipeline:
  - name: unit
    run: [sh, ci/unit.sh]
    junit: [reports/unit.xml]
  - name: functional
    run: [sh, ci/functional.sh]
    junit: [\"reports/*.xml\"]
    after: deploy
{extra_steps}\
environments:
  preview:
    pull_requests: {{ base: [main] }}
    deploy:
      provider: command
      deploy: [sh, scripts/preview.sh, up]
      destroy: [sh, scripts/preview.sh, down]
    url: \"https://pr-{{pr}}.preview.example.com\"
notify:
  - {{ on: [tests_failed, tests_passed], slack: {prefix}_SLACK }}
  - {{ on: [tests_failed], dingtalk: {prefix}_DING, secret: {prefix}_DING_SECRET }}
"
    )
}

pub(crate) struct Pipeline {
    pub(crate) s: Scenario,
    steps: std::path::PathBuf,
}

impl Pipeline {
    pub(crate) async fn start(config: &str, unit: &str, functional: &str) -> Self {
        let steps = crate::support::sandbox::writable_dir().join("steps");
        let unit_script = step_script(&steps, "unit", unit, 0);
        let functional_script = step_script(&steps, "functional", functional, 1);
        let s = scenario_with(
            config,
            &[
                ("ci/unit.sh", unit_script.as_str()),
                ("ci/functional.sh", functional_script.as_str()),
            ],
            &["--poll-interval", "100ms"],
        )
        .await;
        Self { s, steps }
    }

    pub(crate) fn steps(&self) -> Vec<String> {
        std::fs::read_to_string(&self.steps)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub(crate) async fn open_pr(&self) -> (u64, String) {
        let head = self
            .s
            .repo
            .commit_files("feature", &[("app.txt", "v1")], "work");
        let pr = self.s.repo.open_pr(PrSpec::new("feature", "main"));
        self.s.deliver_pr(pr, "opened").await;
        (pr, head)
    }

    pub(crate) async fn finished(&self, sha: &str, step: &str) -> CheckRun {
        eventually(&format!("gitferry/{step} completed on {sha}"), || async {
            self.s
                .repo
                .check_runs()
                .into_iter()
                .filter(|r| r.head_sha == sha && r.name == format!("gitferry/{step}"))
                .filter(|r| r.status == "completed")
                .max_by_key(|r| r.id)
        })
        .await
    }

    fn tests_section(&self, pr: u64) -> String {
        self.s
            .repo
            .bot_comments(pr)
            .into_iter()
            .map(|c| c.body)
            .find(|b| b.contains("### Tests"))
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn unit_passes_functional_fails_against_the_preview_and_everyone_hears_of_it() {
    let (slack, slack_url) = Receiver::start(0).await;
    let (ding, ding_url) = Receiver::start(0).await;
    set_variable("OCTOCAT_SHOP_GFP1_SLACK", &slack_url);
    set_variable(
        "OCTOCAT_SHOP_GFP1_DING",
        &format!("{ding_url}?access_token=robot"),
    );
    set_variable("OCTOCAT_SHOP_GFP1_DING_SECRET", "SEC-pipeline");
    let unit = junit("test_cart", &["test_add", "test_remove", "test_total"], &[]);
    let functional = junit(
        "test_checkout",
        &["test_home_page"],
        &[("test_pay", "tests/test_checkout.py:42")],
    );
    let p = Pipeline::start(&config("OCTOCAT_SHOP_GFP1", ""), &unit, &functional).await;
    let (pr, head) = p.open_pr().await;

    let unit_run = p.finished(&head, "unit").await;
    assert_eq!(unit_run.conclusion.as_deref(), Some("success"));
    let unit_summary = unit_run.output.summary.clone().unwrap_or_default();
    assert!(unit_summary.contains('3'), "{unit_summary}");

    let functional_run = p.finished(&head, "functional").await;
    assert_eq!(functional_run.conclusion.as_deref(), Some("failure"));
    let annotations = &functional_run.output.annotations;
    assert_eq!(annotations.len(), 1, "{annotations:?}");
    assert_eq!(annotations[0]["path"], "tests/test_checkout.py");
    assert_eq!(annotations[0]["start_line"], 42);
    assert_eq!(annotations[0]["annotation_level"], "failure");
    let details = functional_run.details_url.clone().expect("a log link");
    let (status, log) = p.s.gitferry.get(&log_path(&details)).await;
    assert_eq!(status, 200, "{log}");
    assert!(log.contains("ran functional"), "{log}");

    // Order: unit before the deploy, functional after it, against the preview's URL.
    let steps = p.steps();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(
        steps[0].starts_with("unit ") && steps[0].contains("preview=none"),
        "{steps:?}"
    );
    assert!(
        steps[1].contains(&format!("preview=https://pr-{pr}.")),
        "{steps:?}"
    );

    let section = eventually("the tests section with both steps", || async {
        let section = p.tests_section(pr);
        (section.contains("functional")
            && section.contains("test\\_pay")
            && section.contains("unit"))
        .then_some(section)
    })
    .await;
    assert!(
        section.find("functional") < section.find("| unit").or(section.rfind("unit")),
        "failures first:\n{section}"
    );
    assert!(section.contains("tests/test_checkout.py:42"), "{section}");
    assert!(section.contains("<details>"), "{section}");

    let (_, slack_message) = eventually("Slack's message", || async {
        slack.received().into_iter().next()
    })
    .await;
    let text = slack_message["text"].as_str().unwrap_or_default();
    assert!(
        text.contains(&format!(
            "Tests failed on octocat/shop#{pr} at {}",
            &head[..7]
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("/octocat/shop/commit/{head}|{}>", &head[..7])),
        "the commit is named and linked: {text}"
    );
    let (query, ding_message) = eventually("DingTalk's message", || async {
        ding.received().into_iter().next()
    })
    .await;
    assert_eq!(ding_message["msgtype"], "markdown");
    let ding_text = ding_message["markdown"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        ding_text.contains(&format!("[{}](", &head[..7])) && ding_text.contains(&head),
        "the commit is named and linked: {ding_text}"
    );
    let params: std::collections::HashMap<String, String> =
        url_params(&query.unwrap_or_default()).into_iter().collect();
    let timestamp: i64 = params["timestamp"].parse().expect("a timestamp");
    assert_eq!(params["sign"], dingtalk_sign("SEC-pipeline", timestamp));
    eventually("both sent", || async {
        (p.s.gitferry.store.count_notifications("sent").await.ok()? == 2).then_some(())
    })
    .await;
    assert_eq!((slack.received().len(), ding.received().len()), (1, 1));
}

/// `https://…/runs/abc?token=…` → `/runs/abc?token=…`, to ask gitferry directly.
fn log_path(url: &str) -> String {
    url.find("/runs/")
        .map_or_else(String::new, |at| url[at..].to_owned())
}

/// The head's steps and its deploy start from one fetch of its commit: the second and third
/// neither wait for GitHub nor spend its rate limit.
#[tokio::test]
async fn a_heads_commit_is_fetched_once_for_its_steps_and_its_deploy() {
    let unit = junit("test_cart", &["test_add"], &[]);
    let functional = junit("test_checkout", &["test_home_page"], &[]);
    let p = Pipeline::start(&config("OCTOCAT_SHOP_GFP9", ""), &unit, &functional).await;
    let (pr, head) = p.open_pr().await;
    p.finished(&head, "unit").await;
    p.finished(&head, "functional").await;
    let steps = p.steps();
    assert_eq!(steps.len(), 2, "both steps ran: {steps:?}");
    let tarball = format!("/repos/{}/tarball/{head}", p.s.repo.full_name());
    assert_eq!(
        p.s.fake.count("GET", &tarball),
        1,
        "one fetch for unit, the deploy and functional"
    );

    // A newer head is a newer commit: fetched anew.
    let newer =
        p.s.repo
            .commit_files("feature", &[("app.txt", "v2")], "more");
    p.s.deliver_pr(pr, "synchronize").await;
    p.finished(&newer, "functional").await;
    let tarball = format!("/repos/{}/tarball/{newer}", p.s.repo.full_name());
    assert_eq!(p.s.fake.count("GET", &tarball), 1);
}

#[tokio::test]
async fn a_failing_unit_step_stops_the_deploy_and_the_steps_after_it_say_why() {
    let unit = junit(
        "test_cart",
        &["test_add"],
        &[("test_total", "tests/test_cart.py:7")],
    );
    let functional = junit("test_checkout", &["test_home_page"], &[]);
    let p = Pipeline::start(&config("OCTOCAT_SHOP_GFP2", ""), &unit, &functional).await;
    let (pr, head) = p.open_pr().await;

    let unit_run = p.finished(&head, "unit").await;
    assert_eq!(
        unit_run.conclusion.as_deref(),
        Some("failure"),
        "the report has a failure"
    );
    let functional_run = p.finished(&head, "functional").await;
    assert_eq!(functional_run.conclusion.as_deref(), Some("skipped"));
    let title = functional_run.output.title.unwrap_or_default();
    assert!(title.contains("step unit did not pass"), "{title}");
    let preview = eventually("the preview check", || async {
        p.s.repo
            .check_run(&head, "gitferry/preview")
            .filter(|r| r.status == "completed")
    })
    .await;
    assert_eq!(preview.conclusion.as_deref(), Some("skipped"));
    assert!(
        p.s.calls().is_empty(),
        "nothing was deployed: {:?}",
        p.s.calls()
    );
    assert!(p.s.preview_section(pr).contains("was not deployed"));
    assert_eq!(p.steps().len(), 1, "only unit ran");
}

/// The step exits 0 but its report is cut off half-way: nobody knows whether its tests
/// passed, so the step fails and says which file could not be read, where, and why.
#[tokio::test]
async fn a_malformed_report_fails_the_step_and_names_the_file_and_position() {
    let truncated = "<testsuites>\n<testsuite name=\"cart\" tests=\"2\">\n<testcase name=\"a\">";
    let functional = junit("test_checkout", &["test_home_page"], &[]);
    let p = Pipeline::start(&config("OCTOCAT_SHOP_GFP7", ""), truncated, &functional).await;
    let (pr, head) = p.open_pr().await;

    let unit_run = p.finished(&head, "unit").await;
    assert_eq!(
        unit_run.conclusion.as_deref(),
        Some("failure"),
        "an unreadable report is no pass"
    );
    let title = unit_run.output.title.clone().unwrap_or_default();
    assert!(
        title.starts_with(
            "Results unknown: the test report reports/unit.xml: malformed JUnit XML at line "
        ),
        "{title}"
    );
    assert!(title.contains(", column "), "{title}");
    let summary = unit_run.output.summary.clone().unwrap_or_default();
    assert!(summary.contains("reports/unit\\.xml"), "{summary}");
    let section = eventually("the tests section", || async {
        let section = p.tests_section(pr);
        section.contains("Results unknown").then_some(section)
    })
    .await;
    assert!(
        section.contains("Test reports that could not be read"),
        "{section}"
    );
}

#[tokio::test]
async fn a_timed_out_step_is_killed_with_everything_it_started() {
    let marker = crate::support::sandbox::writable_dir().join("survivor");
    let slow = format!(
        "  - name: slow\n    run: [sh, -c, \"(sleep 3; touch {}) & sleep 60\"]\n    timeout: 1s\n",
        marker.display()
    );
    let unit = junit("test_cart", &["test_add"], &[]);
    let p = Pipeline::start(&config("OCTOCAT_SHOP_GFP3", &slow), &unit, &unit).await;
    let (_, head) = p.open_pr().await;
    let run = p.finished(&head, "slow").await;
    assert_eq!(run.conclusion.as_deref(), Some("timed_out"));
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert!(!marker.exists(), "the step's background child outlived it");
}

#[tokio::test]
async fn a_newer_push_cancels_the_older_heads_steps_and_kills_their_processes() {
    let markers = crate::support::sandbox::writable_dir();
    let slow = format!(
        "  - name: slow\n    run: [sh, -c, \"(sleep 3; touch {}/survivor-$GITFERRY_SHA) & sleep 60\"]\n",
        markers.display()
    );
    let unit = junit("test_cart", &["test_add"], &[]);
    let p = Pipeline::start(&config("OCTOCAT_SHOP_GFP4", &slow), &unit, &unit).await;
    let (pr, first) = p.open_pr().await;
    eventually("slow running", || async {
        p.s.repo
            .check_run(&first, "gitferry/slow")
            .filter(|r| r.status == "in_progress")
    })
    .await;
    let second =
        p.s.repo
            .commit_files("feature", &[("app.txt", "v2")], "more work");
    p.s.deliver_pr(pr, "synchronize").await;

    let cancelled = p.finished(&first, "slow").await;
    assert_eq!(cancelled.conclusion.as_deref(), Some("cancelled"));
    eventually("slow running on the new head", || async {
        p.s.repo.check_run(&second, "gitferry/slow")
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert!(
        !markers.join(format!("survivor-{first}")).exists(),
        "the cancelled step's background child outlived it"
    );
}

#[tokio::test]
async fn retest_and_re_run_start_a_step_again() {
    let unit = junit("test_cart", &["test_add"], &[]);
    let functional = junit("test_checkout", &["test_home_page"], &[]);
    let p = Pipeline::start(&config("OCTOCAT_SHOP_GFP5", ""), &unit, &functional).await;
    let (pr, head) = p.open_pr().await;
    p.finished(&head, "functional").await;
    p.s.repo.set_permission("bob", "write");

    let comment = p.s.repo.add_comment(pr, "bob", "/retest unit");
    let payload = json!({
        "action": "created",
        "issue": p.s.repo.issue_json(pr),
        "comment": p.s.repo.comment_json(comment),
        "repository": p.s.repo.repo_json(),
        "sender": { "login": "bob" },
        "installation": { "id": p.s.installation },
    });
    let (status, _, id) =
        p.s.gitferry
            .deliver(
                "issue_comment",
                &serde_json::to_vec(&payload).expect("json"),
            )
            .await;
    assert_eq!(status, 202);
    p.s.gitferry.wait_for(&id, DeliveryState::Done).await;
    eventually("unit's second attempt", || async {
        (p.steps()
            .iter()
            .filter(|l| l.starts_with("unit ") && l.ends_with("attempt=2"))
            .count()
            == 1)
            .then_some(())
    })
    .await;
    let reply =
        p.s.repo
            .bot_comments(pr)
            .into_iter()
            .map(|c| c.body)
            .find(|b| b.contains("again on"))
            .expect("an answer");
    assert!(reply.contains("Running `unit` again"), "{reply}");

    let mut rerun: serde_json::Value =
        serde_json::from_slice(&fixture("check_run", "rerequested.payload.json")).expect("json");
    rerun["check_run"]["name"] = json!("gitferry/functional");
    rerun["check_run"]["head_sha"] = json!(head);
    rerun["repository"] = p.s.repo.repo_json();
    rerun["installation"] = json!({ "id": p.s.installation });
    let (status, _, id) =
        p.s.gitferry
            .deliver("check_run", &serde_json::to_vec(&rerun).expect("json"))
            .await;
    assert_eq!(status, 202);
    p.s.gitferry.wait_for(&id, DeliveryState::Done).await;
    eventually(
        "functional's second attempt, against the preview",
        || async {
            p.steps()
                .into_iter()
                .find(|l| l.starts_with("functional ") && l.ends_with("attempt=2"))
                .filter(|l| l.contains("preview=https://"))
        },
    )
    .await;
    let runs: Vec<CheckRun> =
        p.s.repo
            .check_runs()
            .into_iter()
            .filter(|r| r.head_sha == head && r.name == "gitferry/unit")
            .collect();
    assert_eq!(runs.len(), 2, "each attempt is a check run of its own");
}

#[tokio::test]
async fn a_failure_main_has_too_is_already_failing_and_a_fresh_one_is_new() {
    let main_report = junit(
        "test_cart",
        &["test_add"],
        &[("test_total", "tests/test_cart.py:7")],
    );
    let pr_report = junit(
        "test_cart",
        &[],
        &[
            ("test_total", "tests/test_cart.py:7"),
            ("test_add", "tests/test_cart.py:3"),
        ],
    );
    let p = Pipeline::start(&config("OCTOCAT_SHOP_GFP6", ""), &main_report, &main_report).await;
    // main runs its steps on push: those results are the base.
    let main = p.s.repo.branch_sha("main").expect("main");
    let body = payloads::push(&p.s.repo, p.s.installation, &"0".repeat(40), &main, &[]);
    let (status, _, id) = p.s.gitferry.deliver("push", &body).await;
    assert_eq!(status, 202);
    p.s.gitferry.wait_for(&id, DeliveryState::Done).await;
    assert_eq!(
        p.finished(&main, "unit").await.conclusion.as_deref(),
        Some("failure")
    );

    let head = p.s.repo.commit_files(
        "feature",
        &[(
            "ci/unit.sh",
            step_script(&p.steps, "unit", &pr_report, 1).as_str(),
        )],
        "break add",
    );
    let pr = p.s.repo.open_pr(PrSpec::new("feature", "main"));
    p.s.deliver_pr(pr, "opened").await;
    let run = p.finished(&head, "unit").await;
    let summary = run.output.summary.unwrap_or_default();
    assert!(summary.contains("new failure"), "{summary}");
    assert!(summary.contains("already failing"), "{summary}");
    let section = eventually("the tests section", || async {
        let section = p.tests_section(pr);
        section.contains("new failure").then_some(section)
    })
    .await;
    let (new, old) = (section.find("test\\_add"), section.find("test\\_total"));
    assert!(new.is_some() && new < old, "new first:\n{section}");
}
