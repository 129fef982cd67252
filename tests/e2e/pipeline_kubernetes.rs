//! The pipeline's Kubernetes runner against the fake Kubernetes API: a step runs as a Job,
//! its log and JUnit reports come back, its exit code becomes the step's result, and its Job
//! is deleted (with its pods) however it ends, all over the real wire protocol.

use std::time::Duration;

use gitferry::deploy::Workspace;
use gitferry::pipeline::runner::kubernetes::KubernetesRunner;
use gitferry::pipeline::runner::{Exit, Runner, RunnerError, StepRun};
use gitferry::repo_config::Runner as RunnerConfig;
use gitferry::runs::RunLog;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::fake_kube::{Deletion, FakeKube, JobScript};

const NS: &str = "gitferry-runs";
const RUN_ID: &str = "0123456789abcdef";
const JOB: &str = "gitferry-unit-tests-0123456789abcdef";
const SOURCE_URL: &str = "https://codeload.github.com/acme/shop/legacy.tar.gz/abc1234?token=SECRET";
const TIMEOUT: Duration = Duration::from_secs(600);

/// `<testsuite name="unit"/>`, base64.
const REPORT_B64: &str = "PHRlc3RzdWl0ZSBuYW1lPSJ1bml0Ii8+";

/// The fake cluster with the runs' namespace, a workspace for reports, and the step's inputs.
struct Scenario {
    kube: FakeKube,
    runner: KubernetesRunner,
    workspace: tempfile::TempDir,
    log: RunLog,
    cancel: CancellationToken,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    junit: Vec<String>,
}

impl Scenario {
    async fn new() -> Self {
        let kube = FakeKube::start().await;
        kube.insert(json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": NS } }));
        let config = RunnerConfig {
            image: Some("registry.example.com/ci:1".to_owned()),
            ..RunnerConfig::default()
        };
        let runner = KubernetesRunner::new(kube.client(), &config)
            .with_polling(Duration::from_millis(10))
            .with_start_grace(Duration::from_millis(50));
        Scenario {
            kube,
            runner,
            workspace: tempfile::tempdir().expect("a workspace"),
            log: RunLog::default(),
            cancel: CancellationToken::new(),
            argv: vec!["make".to_owned(), "test".to_owned()],
            env: vec![("CI".to_owned(), "true".to_owned())],
            junit: vec!["reports/*.xml".to_owned()],
        }
    }

    async fn run(&self) -> Result<Exit, RunnerError> {
        let workspace = Workspace::new(self.workspace.path());
        self.runner
            .run(StepRun {
                id: RUN_ID,
                repository: "acme/shop",
                sha: "abc1234",
                step: "unit_tests",
                argv: &self.argv,
                dir: Some("app"),
                env: &self.env,
                timeout: TIMEOUT,
                junit: &self.junit,
                workspace: &workspace,
                source_url: Some(SOURCE_URL),
                log: &self.log,
                cancel: &self.cancel,
            })
            .await
    }

    /// The Job as the runner created it.
    fn created_job(&self) -> Value {
        let created = self.kube.created("jobs");
        assert_eq!(created.len(), 1, "{created:#?}");
        created[0].clone()
    }

    /// Nothing of the run is left in the cluster (its Secret neither), and the Job went by a
    /// Background delete.
    fn assert_cleaned_up(&self) {
        assert_eq!(self.kube.names("jobs", Some(NS)), Vec::<String>::new());
        assert_eq!(self.kube.names("pods", Some(NS)), Vec::<String>::new());
        assert_eq!(self.kube.names("secrets", Some(NS)), Vec::<String>::new());
        let job_deletions: Vec<Deletion> = self
            .kube
            .deletions()
            .into_iter()
            .filter(|d| d.plural == "jobs")
            .collect();
        assert_eq!(
            job_deletions.last(),
            Some(&Deletion {
                plural: "jobs".to_owned(),
                namespace: NS.to_owned(),
                name: JOB.to_owned(),
                propagation_policy: Some("Background".to_owned()),
            })
        );
    }
}

/// The container's variables: a plain value, or `secret:<name>/<key>` for a `secretKeyRef`.
fn env_of(job: &Value) -> Vec<(String, String)> {
    job.pointer("/spec/template/spec/containers/0/env")
        .and_then(Value::as_array)
        .expect("the container's env")
        .iter()
        .map(|v| {
            let value = match v.pointer("/valueFrom/secretKeyRef") {
                Some(reference) => format!(
                    "secret:{}/{}",
                    reference["name"].as_str().unwrap_or_default(),
                    reference["key"].as_str().unwrap_or_default()
                ),
                None => v["value"].as_str().unwrap_or_default().to_owned(),
            };
            (v["name"].as_str().unwrap_or_default().to_owned(), value)
        })
        .collect()
}

/// The data of a Secret as the runner wrote it, decoded.
fn secret_data(secret: &Value) -> Vec<(String, String)> {
    use base64::Engine as _;
    secret["data"]
        .as_object()
        .expect("the Secret's data")
        .iter()
        .map(|(key, value)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.as_str().unwrap_or_default())
                .expect("base64");
            (key.clone(), String::from_utf8(bytes).expect("text"))
        })
        .collect()
}

#[tokio::test]
async fn a_passing_step_runs_as_a_job_of_the_configured_image_and_is_cleaned_up() {
    let mut s = Scenario::new().await;
    s.argv = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        "echo \"$1\"".to_owned(),
        "step".to_owned(),
        "$(touch /tmp/pwned)".to_owned(),
    ];
    s.kube.script_job(
        "gitferry-unit-tests-",
        JobScript {
            log: "compiling\nall 12 tests passed\n".to_owned(),
            delay: Duration::from_millis(30),
            ..JobScript::default()
        },
    );

    let exit = s.run().await.expect("the step ran");

    assert_eq!(
        exit,
        Exit {
            success: true,
            description: "exit status 0".to_owned()
        }
    );
    let job = s.created_job();
    assert_eq!(job["metadata"]["name"], JOB);
    assert_eq!(job["metadata"]["namespace"], NS);
    assert_eq!(
        job["metadata"]["labels"],
        json!({
            "app.kubernetes.io/managed-by": "gitferry",
            "gitferry.dev/run": RUN_ID,
            "gitferry.dev/step": "unit_tests",
        })
    );
    assert_eq!(job["spec"]["backoffLimit"], 0);
    assert_eq!(job["spec"]["activeDeadlineSeconds"], 600);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["automountServiceAccountToken"], false);
    let container = &pod["containers"][0];
    assert_eq!(container["name"], "step");
    assert_eq!(container["image"], "registry.example.com/ci:1");
    let command: Vec<String> = serde_json::from_value(container["command"].clone()).unwrap();
    assert_eq!(command[..2], ["sh", "-c"]);
    assert_eq!(
        command[2],
        gitferry::pipeline::runner::kubernetes::wrapper::WRAPPER
    );
    assert_eq!(command[3], "gitferry-step");
    assert_eq!(command[4..], s.argv[..], "the argv are literal arguments");
    let by_ref = |key: &str| (key.to_owned(), format!("secret:{JOB}/{key}"));
    let plain = |key: &str, value: &str| (key.to_owned(), value.to_owned());
    assert_eq!(
        env_of(&job),
        vec![
            by_ref("CI"),
            by_ref("GITFERRY_SOURCE_URL"),
            plain("GITFERRY_STEP_DIR", "app"),
            plain("GITFERRY_JUNIT", "reports/*.xml"),
            plain("GITFERRY_WORKSPACE", "/workspace"),
            plain("HOME", "/tmp"),
            plain("TMPDIR", "/tmp"),
        ]
    );
    let log = s.log.text();
    assert!(log.contains("compiling\nall 12 tests passed\n"), "{log}");
    assert!(
        !log.contains("SECRET"),
        "the source URL stays out of the log: {log}"
    );
    s.assert_cleaned_up();
}

#[tokio::test]
async fn a_failing_step_keeps_its_exit_code_and_brings_its_report_back() {
    let s = Scenario::new().await;
    s.kube.script_job(
        "",
        JobScript {
            exit_code: 3,
            log: format!(
                "1 test failed\n::gitferry-junit begin reports/unit.xml::\n{REPORT_B64}\n\
                 ::gitferry-junit end::\n"
            ),
            ..JobScript::default()
        },
    );

    let exit = s.run().await.expect("the step ran");

    assert_eq!(
        exit,
        Exit {
            success: false,
            description: "exit status 3".to_owned()
        }
    );
    let report = std::fs::read_to_string(s.workspace.path().join("reports/unit.xml"))
        .expect("the report is in the workspace");
    assert_eq!(report, "<testsuite name=\"unit\"/>");
    let log = s.log.text();
    assert!(log.contains("1 test failed\n"), "{log}");
    assert!(!log.contains("::gitferry-junit"), "{log}");
    assert!(!log.contains(REPORT_B64), "{log}");
    s.assert_cleaned_up();
}

#[tokio::test]
async fn a_report_path_leaving_the_repository_is_refused() {
    let s = Scenario::new().await;
    s.kube.script_job(
        "",
        JobScript {
            log: format!(
                "::gitferry-junit begin ../escape.xml::\n{REPORT_B64}\n::gitferry-junit end::\n"
            ),
            ..JobScript::default()
        },
    );

    let exit = s.run().await.expect("the step ran");

    assert!(exit.success);
    let parent = s.workspace.path().parent().expect("the workspace's parent");
    assert!(!parent.join("escape.xml").exists());
    assert_eq!(std::fs::read_dir(s.workspace.path()).unwrap().count(), 0);
    let log = s.log.text();
    assert!(
        log.contains("skipped the JUnit report \"../escape.xml\": its path must be relative"),
        "{log}"
    );
}

#[tokio::test]
async fn a_job_past_its_deadline_is_a_timeout() {
    let s = Scenario::new().await;
    s.kube.script_job(
        "",
        JobScript {
            deadline_exceeded: true,
            ..JobScript::default()
        },
    );

    let error = s.run().await.expect_err("the deadline passed");

    assert!(
        matches!(error, RunnerError::Timeout { after } if after == TIMEOUT),
        "{error:?}"
    );
    s.assert_cleaned_up();
}

#[tokio::test]
async fn cancelling_a_running_step_deletes_its_job() {
    let s = Scenario::new().await;
    s.kube.script_job(
        "",
        JobScript {
            delay: Duration::from_secs(3600),
            ..JobScript::default()
        },
    );

    let cancel_once_running = async {
        while s.kube.names("pods", Some(NS)).is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        s.cancel.cancel();
    };
    let (result, ()) = tokio::join!(s.run(), cancel_once_running);

    assert!(matches!(result, Err(RunnerError::Cancelled)), "{result:?}");
    s.assert_cleaned_up();
}

#[tokio::test]
async fn an_image_that_never_pulls_fails_the_step_naming_the_reason() {
    let s = Scenario::new().await;
    s.kube.script_job(
        "",
        JobScript {
            never_starts_reason: Some("ImagePullBackOff".to_owned()),
            ..JobScript::default()
        },
    );

    let error = s.run().await.expect_err("the container never started");

    let RunnerError::Failed(message) = &error else {
        panic!("expected Failed, got {error:?}");
    };
    assert_eq!(
        message,
        "the step's container cannot start: ImagePullBackOff: Back-off pulling image \
         \"registry.example.com/ci:1\""
    );
    s.assert_cleaned_up();
}

#[tokio::test]
async fn a_refused_create_fails_clearly_and_leaves_nothing_behind() {
    let s = Scenario::new().await;
    s.kube
        .fail_next("POST", "/apis/batch/v1/namespaces/gitferry-runs/jobs", 500);

    let error = s.run().await.expect_err("the cluster refused");

    let RunnerError::Failed(message) = &error else {
        panic!("expected Failed, got {error:?}");
    };
    assert_eq!(
        message,
        "the cluster refused the Job: creating the Job gitferry-unit-tests-0123456789abcdef: \
         Internal error occurred: injected fault (500) (HTTP 500)"
    );
    assert_eq!(s.kube.names("jobs", Some(NS)), Vec::<String>::new());
    assert_eq!(s.kube.names("pods", Some(NS)), Vec::<String>::new());
    assert_eq!(
        s.kube.names("secrets", Some(NS)),
        Vec::<String>::new(),
        "the run's Secret is deleted too"
    );
}

#[tokio::test]
async fn a_leftover_job_of_the_same_name_is_replaced() {
    let s = Scenario::new().await;
    s.kube.insert(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": JOB, "namespace": NS },
        "spec": { "template": { "spec": { "containers": [{ "name": "step", "image": "old" }] } } },
    }));
    let leftover_uid =
        s.kube.object("jobs", Some(NS), JOB).expect("the leftover")["metadata"]["uid"].clone();

    let exit = s.run().await.expect("the step ran");

    assert!(exit.success);
    let deletions: Vec<Deletion> = s
        .kube
        .deletions()
        .into_iter()
        .filter(|d| d.plural == "jobs")
        .collect();
    assert_eq!(
        deletions.len(),
        2,
        "the leftover, then the run's Job: {deletions:#?}"
    );
    assert_eq!(
        deletions[0].propagation_policy.as_deref(),
        Some("Background")
    );
    let job = s.created_job();
    assert_ne!(job["metadata"]["uid"], leftover_uid);
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/ci:1"
    );
    let log = s.log.text();
    assert!(
        log.contains(
            "replacing the Job gitferry-unit-tests-0123456789abcdef left by an earlier attempt"
        ),
        "{log}"
    );
    s.assert_cleaned_up();
}

#[tokio::test]
async fn secrets_and_the_source_link_reach_the_pod_only_through_a_per_run_secret() {
    let mut s = Scenario::new().await;
    s.env = vec![
        ("API_TOKEN".to_owned(), "tok-3f9a1c77e2".to_owned()),
        ("CI".to_owned(), "true".to_owned()),
    ];
    s.kube.script_job(
        "gitferry-unit-tests-",
        JobScript {
            log: "ok\n".to_owned(),
            delay: Duration::from_millis(30),
            ..JobScript::default()
        },
    );

    let exit = s.run().await.expect("the step ran");

    assert!(exit.success);
    let job = s.created_job();
    let spec = job.to_string();
    assert!(
        !spec.contains("tok-3f9a1c77e2"),
        "no value in the Job: {spec}"
    );
    assert!(
        !spec.contains("token=SECRET"),
        "no source link in the Job: {spec}"
    );
    let env = env_of(&job);
    assert!(env.contains(&("API_TOKEN".to_owned(), format!("secret:{JOB}/API_TOKEN"))));
    // The Secret as written: first alone, then owned by the Job it feeds.
    let secrets = s.kube.applied("secrets");
    assert_eq!(secrets.len(), 2, "{secrets:#?}");
    assert_eq!(secrets[0]["metadata"]["ownerReferences"], Value::Null);
    let secret = &secrets[1];
    assert_eq!(secret["metadata"]["name"], JOB);
    assert_eq!(
        secret_data(secret),
        vec![
            ("API_TOKEN".to_owned(), "tok-3f9a1c77e2".to_owned()),
            ("CI".to_owned(), "true".to_owned()),
            ("GITFERRY_SOURCE_URL".to_owned(), SOURCE_URL.to_owned()),
        ]
    );
    let owner = &secret["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "Job");
    assert_eq!(owner["name"], JOB);
    assert_eq!(owner["uid"], job["metadata"]["uid"]);
    let deleted: Vec<Deletion> = s
        .kube
        .deletions()
        .into_iter()
        .filter(|d| d.plural == "secrets")
        .collect();
    assert_eq!(deleted.len(), 1, "{deleted:#?}");
    s.assert_cleaned_up();
}

#[tokio::test]
async fn step_pods_run_restricted_with_the_configured_resources_and_no_token() {
    let mut s = Scenario::new().await;
    let config: RunnerConfig = serde_yaml_ng::from_str(
        "kind: kubernetes\nimage: registry.example.com/ci:1\nresources:\n  limits: { cpu: 500m, memory: 1Gi }\n",
    )
    .expect("a runner config");
    s.runner = KubernetesRunner::new(s.kube.client(), &config)
        .with_polling(Duration::from_millis(10))
        .with_start_grace(Duration::from_millis(50));

    s.run().await.expect("the step ran");

    let job = s.created_job();
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let container = &pod["containers"][0];
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(
        container["resources"],
        json!({
            "requests": { "cpu": "250m", "memory": "256Mi" },
            "limits": { "cpu": "500m", "memory": "1Gi" },
        })
    );
    s.assert_cleaned_up();
}

#[tokio::test]
async fn a_configured_service_account_gets_its_token_mounted() {
    let mut s = Scenario::new().await;
    let config = RunnerConfig {
        image: Some("registry.example.com/ci:1".to_owned()),
        service_account: Some("deployer".to_owned()),
        ..RunnerConfig::default()
    };
    s.runner = KubernetesRunner::new(s.kube.client(), &config)
        .with_polling(Duration::from_millis(10))
        .with_start_grace(Duration::from_millis(50));

    s.run().await.expect("the step ran");

    let pod = &s.created_job()["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "deployer");
    assert_eq!(pod["automountServiceAccountToken"], true);
}
