//! Preview environments when things go wrong, end to end: a push while a deploy runs, a deploy
//! that never finishes, gitferry restarting mid-deploy, bad input (namespace templates,
//! manifests), a failing Kubernetes API, a flaky GitHub, and the run log a failure links to.
//! Each story ends with what GitHub shows (deployments, the `gitferry/preview` check run, the
//! sticky `### Preview` section) and with nothing left half-done that the next deploy or
//! destroy cannot handle.

use gitferry::github::short_sha as short;
use std::path::PathBuf;

use sqlx::{AnyPool, Row};

use crate::previews::{Scenario, scenario_with};
use crate::support::db::TestDb;
use crate::support::fake_github::{Deployment, FakeGitHub, Fault, PrSpec, RepoHandle};
use crate::support::fake_kube::FakeKube;
use crate::support::gitferry::{Gitferry, eventually};
use crate::support::payloads;

// ---------------------------------------------------------------------------------------------
// The setting: the shared recording script (`scripts/preview.sh`, see previews.rs) wrapped in
// one that can be slow, and files outside the checkout through which the test steers it.
// ---------------------------------------------------------------------------------------------

/// Files outside every checkout, through which the test steers the wrapper script
/// (`scripts/faulty.sh`, around the shared recording `scripts/preview.sh`):
///
/// - while `hold` exists, the deploy of a commit with a `slow` file hangs (the cluster is slow
///   today) in a `sleep 30` it waits for, after writing its shell's and its `sleep`'s PIDs to
///   `pids`;
/// - while `gate` exists, the deploy of a commit with a `gated` file waits (a short poll), and
///   finishes normally once the test removes `gate`;
/// - a `say` file of the commit is printed to stderr first.
struct Outside {
    /// A folder the sandboxed script may write.
    dir: PathBuf,
}

impl Outside {
    fn new() -> Self {
        Self {
            dir: crate::support::sandbox::writable_dir(),
        }
    }

    fn hold(&self) -> PathBuf {
        self.dir.join("hold")
    }

    fn gate(&self) -> PathBuf {
        self.dir.join("gate")
    }

    fn pids(&self) -> PathBuf {
        self.dir.join("pids")
    }

    /// Deploys of `slow` commits hang from now on.
    fn make_slow(&self) {
        std::fs::write(self.hold(), "").expect("hold marker");
    }

    /// Deploys are quick again.
    fn make_quick(&self) {
        std::fs::remove_file(self.hold()).expect("hold marker removed");
    }

    /// The wrapper script, as a file of the repository.
    fn script(&self) -> String {
        format!(
            "#!/bin/sh\n\
             if [ -f say ]; then cat say >&2; fi\n\
             sh scripts/preview.sh \"$@\" || exit $?\n\
             while [ \"$1\" = up ] && [ -f gated ] && [ -f '{gate}' ]; do sleep 0.05; done\n\
             if [ \"$1\" = up ] && [ -f slow ] && [ -f '{hold}' ]; then\n\
             \x20 echo $$ > '{pids}.tmp'\n\
             \x20 sleep 30 &\n\
             \x20 echo $! >> '{pids}.tmp'\n\
             \x20 mv '{pids}.tmp' '{pids}'\n\
             \x20 wait $!\n\
             fi\n\
             exit 0\n",
            hold = self.hold().display(),
            gate = self.gate().display(),
            pids = self.pids().display(),
        )
    }

    /// Waits until a hanging deploy has written its PIDs, and returns them (shell, sleep).
    async fn hanging_deploy(&self) -> Vec<i32> {
        eventually("a deploy hanging in its script", || async {
            let text = std::fs::read_to_string(self.pids()).ok()?;
            let pids: Vec<i32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
            (pids.len() == 2).then_some(pids)
        })
        .await
    }
}

/// Whether the process is still there (a zombie waiting to be reaped counts as gone: it no
/// longer runs anything).
fn running(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

async fn all_gone(what: &str, pids: &[i32]) {
    eventually(what, || async {
        pids.iter().all(|pid| !running(*pid)).then_some(())
    })
    .await;
}

fn command_config(timeout: &str) -> String {
    format!(
        "\
environments:
  preview:
    pull_requests: {{ base: [main] }}
    deploy:
      provider: command
      deploy: [sh, scripts/faulty.sh, up]
      destroy: [sh, scripts/faulty.sh, down]
      timeout: {timeout}
    url: \"https://pr-{{pr}}.preview.example.com\"
"
    )
}

async fn command_scenario(outside: &Outside, timeout: &str) -> Scenario {
    let script = outside.script();
    scenario_with(
        &command_config(timeout),
        &[("scripts/faulty.sh", &script)],
        &[],
    )
    .await
}

/// The `gitferry/preview` check run on `sha` once it has a conclusion.
pub(crate) async fn concluded_check(
    s: &Scenario,
    sha: &str,
) -> crate::support::fake_github::CheckRun {
    eventually(&format!("a concluded preview check on {sha}"), || async {
        s.repo
            .check_run(sha, "gitferry/preview")
            .filter(|c| c.conclusion.is_some())
    })
    .await
}

pub(crate) async fn section_with(s: &Scenario, pr: u64, text: &str) -> String {
    eventually(&format!("the preview section saying {text:?}"), || async {
        Some(s.preview_section(pr)).filter(|b| b.contains(text))
    })
    .await
}

fn states(deployment: &Deployment) -> Vec<&str> {
    deployment
        .statuses
        .iter()
        .map(|s| s.state.as_str())
        .collect()
}

pub(crate) fn description(deployment: &Deployment) -> &str {
    &deployment.statuses.last().expect("a status").description
}

/// The run a deployment was made for (gitferry puts its id in the payload).
fn run_of(deployment: &Deployment) -> String {
    deployment.payload["gitferry_run"]
        .as_str()
        .expect("the deployment names its run")
        .to_owned()
}

/// The path (with its token) of a log link to this server.
fn log_path(s: &Scenario, log_url: &str) -> String {
    log_url
        .split_once(&s.gitferry.addr.to_string())
        .map(|(_, path)| path.to_owned())
        .expect("a log link to this server")
}

// ---------------------------------------------------------------------------------------------
// 1. A push while the previous head deploys
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_push_during_a_deploy_kills_it_and_deploys_the_new_head_instead() {
    let outside = Outside::new();
    outside.make_slow();
    let s = command_scenario(&outside, "1m").await;
    let first = s
        .repo
        .commit_files("feature", &[("slow", "yes"), ("app.txt", "v1")], "v1");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;

    // The first head's deploy has started and hangs in its script.
    let pids = outside.hanging_deploy().await;
    assert!(
        s.calls()[0].starts_with(&format!("up pr={pr} sha={first}")),
        "{:?}",
        s.calls()
    );
    assert!(pids.iter().all(|pid| running(*pid)), "{pids:?}");

    // A push of a quick commit supersedes it.
    let second = s.repo.delete_files("feature", &["slow"], "no longer slow");
    s.deliver_pr(pr, "synchronize").await;

    all_gone("the superseded deploy's processes are killed", &pids).await;
    let deployed = s.deployment_state(&second, "success").await;
    assert_eq!(states(&deployed), ["in_progress", "success"]);

    let superseded = s.deployment_state(&first, "inactive").await;
    assert!(
        !states(&superseded).contains(&"success"),
        "the superseded deploy was reported successful: {:?}",
        states(&superseded)
    );
    assert!(
        description(&superseded).contains("superseded"),
        "{}",
        description(&superseded)
    );
    assert_eq!(
        concluded_check(&s, &first).await.conclusion.as_deref(),
        Some("skipped")
    );
    assert_eq!(
        concluded_check(&s, &second).await.conclusion.as_deref(),
        Some("success")
    );

    let section = section_with(&s, pr, "✅ Ready").await;
    assert!(section.contains(short(&second)), "{section}");
    assert!(!section.contains(short(&first)), "{section}");
    let ups: Vec<String> = s
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("up"))
        .collect();
    assert_eq!(ups.len(), 2, "{ups:?}");
    assert!(ups[1].contains(&format!("sha={second}")), "{ups:?}");
}

// ---------------------------------------------------------------------------------------------
// 2. A deploy that does not finish
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_deploy_that_outlasts_its_timeout_fails_with_the_reason_and_can_still_be_destroyed() {
    let outside = Outside::new();
    outside.make_slow();
    // 1s is the shortest timeout the config accepts.
    let s = command_scenario(&outside, "1s").await;
    let head = s
        .repo
        .commit_files("feature", &[("slow", "yes")], "hangs forever");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;
    let pids = outside.hanging_deploy().await;

    let deployment = s.deployment_state(&head, "failure").await;
    let reason = description(&deployment);
    assert!(
        reason.contains("`sh scripts/faulty.sh up` did not finish within 1s"),
        "{reason}"
    );
    all_gone("the timed-out deploy's processes are killed", &pids).await;
    let check = concluded_check(&s, &head).await;
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    let section = section_with(&s, pr, "❌").await;
    assert!(section.contains("did not finish within 1s"), "{section}");
    assert!(section.contains(short(&head)), "{section}");

    // What the timed-out deploy may have created is torn down on close.
    s.repo.close_pr(pr);
    s.deliver_pr(pr, "closed").await;
    eventually("the destroy command ran", || async {
        s.calls()
            .iter()
            .any(|c| c.starts_with(&format!("down pr={pr} sha={head}")))
            .then_some(())
    })
    .await;
    s.deployment_state(&head, "inactive").await;
    section_with(&s, pr, "Destroyed").await;
}

// ---------------------------------------------------------------------------------------------
// 3. gitferry restarts in the middle of a deploy
// ---------------------------------------------------------------------------------------------

/// A scenario whose gitferry was stopped; `start` brings up a new one on the same database,
/// fake GitHub and work folder.
struct Stopped {
    fake: FakeGitHub,
    db: TestDb,
    dir: tempfile::TempDir,
    repo: RepoHandle,
    installation: u64,
    calls: PathBuf,
}

/// Stops gitferry gracefully (as on SIGTERM), keeping everything else.
async fn stop(s: Scenario) -> Stopped {
    let Scenario {
        fake,
        db,
        dir,
        gitferry,
        repo,
        installation,
        calls,
    } = s;
    gitferry.stop().await;
    Stopped {
        fake,
        db,
        dir,
        repo,
        installation,
        calls,
    }
}

impl Stopped {
    async fn start(self) -> Scenario {
        let work_dir = self.dir.path().join("work").display().to_string();
        let flags = ["--work-dir", &work_dir, "--reconcile-interval", "200ms"];
        let gitferry =
            Gitferry::start_with(&self.db, &self.fake, gitferry::app::router(), &flags).await;
        Scenario {
            fake: self.fake,
            db: self.db,
            dir: self.dir,
            gitferry,
            repo: self.repo,
            installation: self.installation,
            calls: self.calls,
        }
    }
}

/// The ids of runs still `running` in the store.
/// Waits until no run is `running` (a run ends just after the PR is told its outcome).
async fn no_run_left_running(db: &TestDb) {
    eventually("no preview run left running", || async {
        running_runs(db).await.is_empty().then_some(())
    })
    .await;
}

async fn running_runs(db: &TestDb) -> Vec<String> {
    let raw = AnyPool::connect(&db.url).await.expect("raw pool");
    let rows = sqlx::query("SELECT id FROM preview_runs WHERE state = 'running'")
        .fetch_all(&raw)
        .await
        .expect("preview runs");
    raw.close().await;
    rows.iter().map(|r| r.get::<String, _>("id")).collect()
}

/// A PR whose deploy hangs, and gitferry stopped and started again while it hung (the deploy
/// is quick again by the restart). Returns the scenario, the head, the PR and the deployment
/// the interrupted run had made.
async fn deploy_interrupted_by_a_restart(outside: &Outside) -> (Scenario, String, u64, Deployment) {
    outside.make_slow();
    let s = command_scenario(outside, "1m").await;
    let head = s
        .repo
        .commit_files("feature", &[("slow", "yes")], "slow today");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;
    let pids = outside.hanging_deploy().await;
    let interrupted = s.deployment_state(&head, "in_progress").await;

    let stopped = stop(s).await;
    // A graceful stop leaves no deploy process behind.
    all_gone("the interrupted deploy's processes are killed", &pids).await;
    outside.make_quick();
    let s = stopped.start().await;
    (s, head, pr, interrupted)
}

#[tokio::test]
async fn a_deploy_interrupted_by_a_restart_is_run_again_and_its_run_is_not_left_running() {
    let outside = Outside::new();
    let (s, head, pr, interrupted) = deploy_interrupted_by_a_restart(&outside).await;

    // The new gitferry takes the preview up at once (a graceful stop released it).
    let deployed = s.deployment_state(&head, "success").await;
    assert_ne!(deployed.id, interrupted.id);
    assert_eq!(
        concluded_check(&s, &head).await.conclusion.as_deref(),
        Some("success")
    );
    let section = section_with(&s, pr, "✅ Ready").await;
    assert!(section.contains(short(&head)), "{section}");
    let ups = s.calls().iter().filter(|c| c.starts_with("up")).count();
    assert_eq!(ups, 2, "{:?}", s.calls());

    // The interrupted run says it was interrupted; no run stays `running`.
    let run = s
        .gitferry
        .store
        .preview_run(&run_of(&interrupted))
        .await
        .expect("store")
        .expect("the interrupted run");
    assert_eq!(run.state, "failure", "{run:?}");
    assert!(run.finished_at.is_some(), "{run:?}");
    assert!(
        run.reason
            .as_deref()
            .unwrap_or_default()
            .contains("restart"),
        "{run:?}"
    );
    let redone = s
        .gitferry
        .store
        .preview_run(&run_of(&deployed))
        .await
        .expect("store")
        .expect("the new run");
    assert_eq!(redone.state, "success", "{redone:?}");
    no_run_left_running(&s.db).await;
}

#[tokio::test]
async fn a_deploy_interrupted_by_a_restart_leaves_no_deployment_in_progress_on_github() {
    let outside = Outside::new();
    let (s, head, _pr, interrupted) = deploy_interrupted_by_a_restart(&outside).await;
    s.deployment_state(&head, "success").await;

    // The deployment of the interrupted run is over too: GitHub must not show a deploy of
    // this commit in progress next to the one that succeeded.
    let left = eventually("the interrupted deployment ended", || async {
        s.repo
            .deployments()
            .into_iter()
            .find(|d| d.id == interrupted.id)
            .filter(|d| !matches!(d.latest_state(), Some("in_progress" | "queued" | "pending")))
    })
    .await;
    assert_ne!(left.latest_state(), Some("success"), "{:?}", states(&left));
}

// ---------------------------------------------------------------------------------------------
// 4. Bad input and failing services
// ---------------------------------------------------------------------------------------------

const MANIFESTS: &str = "\
apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { mode: preview }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec: { replicas: 1 }
";

fn kubernetes_config(namespace: &str) -> String {
    format!(
        "\
environments:
  preview:
    pull_requests: {{ base: [main] }}
    deploy: {{ provider: kubernetes, manifests: deploy/preview, namespace: \"{namespace}\" }}
    url: \"https://shop-pr-{{pr}}.preview.example.com\"
"
    )
}

/// The fake cluster and a kubeconfig pointing at it.
pub(crate) struct Cluster {
    pub(crate) kube: FakeKube,
    _dir: tempfile::TempDir,
    kubeconfig: String,
}

async fn cluster() -> Cluster {
    let kube = FakeKube::start().await;
    let (dir, kubeconfig) = kube.kubeconfig();
    Cluster {
        kube,
        kubeconfig,
        _dir: dir,
    }
}

/// A repository deploying `deploy/preview` (holding [`MANIFESTS`]) into `namespace` on the
/// fake cluster.
pub(crate) async fn kubernetes_scenario(namespace: &str) -> (Scenario, Cluster) {
    let cluster = cluster().await;
    let s = scenario_with(
        &kubernetes_config(namespace),
        &[("deploy/preview/app.yaml", MANIFESTS)],
        &["--kubeconfig", &cluster.kubeconfig],
    )
    .await;
    (s, cluster)
}

pub(crate) fn writes(kube: &FakeKube) -> usize {
    kube.requests().iter().filter(|r| r.is_write()).count()
}

#[tokio::test]
async fn a_namespace_template_that_can_render_to_nothing_is_refused_before_any_deploy() {
    // `{branch}` alone slugs to nothing on a branch like `___`; the config check refuses it
    // (a preview namespace must contain `{pr}`), so no such deploy is ever attempted.
    let (s, cluster) = kubernetes_scenario("{branch}").await;
    let main = s.repo.branch_sha("main").expect("main");
    let push = payloads::push(
        &s.repo,
        s.installation,
        &main,
        &main,
        &[".github/gitferry.yml"],
    );
    let (status, _, id) = s.gitferry.deliver("push", &push).await;
    assert_eq!(status, 202);
    s.gitferry
        .wait_for(&id, gitferry::store::DeliveryState::Done)
        .await;
    let config_check = s
        .repo
        .check_run(&main, "gitferry/config")
        .expect("the config check");
    assert_eq!(config_check.conclusion.as_deref(), Some("failure"));
    let annotation = config_check
        .output
        .annotations
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.ends_with("namespace"))
        })
        .unwrap_or_else(|| panic!("{:?}", config_check.output.annotations));
    assert!(
        annotation["message"]
            .as_str()
            .is_some_and(|m| m.contains("must contain {pr}")),
        "{annotation}"
    );

    let head = s
        .repo
        .commit_files("___", &[("app.txt", "x")], "odd branch");
    let pr = s.repo.open_pr(PrSpec::new("___", "main"));
    s.deliver_pr(pr, "opened").await;
    assert!(s.repo.deployments().is_empty());
    assert!(s.repo.check_run(&head, "gitferry/preview").is_none());
    assert!(
        cluster.kube.objects("namespaces", None).is_empty(),
        "{:?}",
        cluster.kube.names("namespaces", None)
    );
    assert_eq!(writes(&cluster.kube), 0);
}

#[tokio::test]
async fn a_branch_name_that_slugs_to_nothing_still_gets_a_valid_namespace_of_its_own() {
    let (s, cluster) = kubernetes_scenario("{branch}-pr-{pr}").await;
    let head = s
        .repo
        .commit_files("___", &[("app.txt", "x")], "odd branch");
    let pr = s.repo.open_pr(PrSpec::new("___", "main"));
    s.deliver_pr(pr, "opened").await;

    s.deployment_state(&head, "success").await;
    let namespace = format!("pr-{pr}");
    assert!(
        cluster.kube.namespace_exists(&namespace),
        "{:?}",
        cluster.kube.names("namespaces", None)
    );
    assert_eq!(cluster.kube.names("deployments", Some(&namespace)), ["web"]);
}

#[tokio::test]
async fn manifests_that_do_not_parse_fail_the_preview_naming_file_and_line_and_apply_nothing() {
    let (s, cluster) = kubernetes_scenario("shop-pr-{pr}").await;
    let broken = s.repo.commit_files(
        "feature",
        &[(
            "deploy/preview/app.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n data: [unclosed\n",
        )],
        "breaks the manifests",
    );
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;

    let deployment = s.deployment_state(&broken, "failure").await;
    let reason = description(&deployment);
    assert!(reason.contains("deploy/preview/app.yaml"), "{reason}");
    assert!(reason.contains("line 5"), "{reason}");
    assert_eq!(
        concluded_check(&s, &broken).await.conclusion.as_deref(),
        Some("failure")
    );
    let section = section_with(&s, pr, "❌").await;
    assert!(
        section.contains("deploy/preview/app.yaml") && section.contains("line 5"),
        "{section}"
    );
    let namespace = format!("shop-pr-{pr}");
    assert!(!cluster.kube.namespace_exists(&namespace));
    assert_eq!(writes(&cluster.kube), 0, "{:?}", cluster.kube.requests());

    // A fix deploys.
    let fixed = s.repo.commit_files(
        "feature",
        &[("deploy/preview/app.yaml", MANIFESTS)],
        "fixes the manifests",
    );
    s.deliver_pr(pr, "synchronize").await;
    s.deployment_state(&fixed, "success").await;
    assert_eq!(cluster.kube.names("deployments", Some(&namespace)), ["web"]);
}

#[tokio::test]
async fn a_kubernetes_api_error_fails_the_preview_with_its_message_and_the_next_push_deploys() {
    let (s, cluster) = kubernetes_scenario("shop-pr-{pr}").await;
    let first = s.repo.commit_files("feature", &[("app.txt", "v1")], "v1");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    let namespace = format!("shop-pr-{pr}");
    cluster.kube.fail_next(
        "PATCH",
        &format!("/apis/apps/v1/namespaces/{namespace}/deployments"),
        500,
    );
    s.deliver_pr(pr, "opened").await;

    let deployment = s.deployment_state(&first, "failure").await;
    let reason = description(&deployment);
    assert!(
        reason.contains("applying apps/v1 Deployment web"),
        "{reason}"
    );
    assert!(reason.contains("injected fault"), "{reason}");
    assert!(reason.contains("HTTP 500"), "{reason}");
    assert_eq!(
        concluded_check(&s, &first).await.conclusion.as_deref(),
        Some("failure")
    );
    let section = section_with(&s, pr, "❌").await;
    assert!(section.contains("injected fault"), "{section}");
    // Half of it was created before the API refused.
    assert!(cluster.kube.namespace_exists(&namespace));
    assert!(
        cluster
            .kube
            .names("deployments", Some(&namespace))
            .is_empty()
    );

    // What was half-created does not stand in the way of the next push.
    let second = s.repo.commit_files("feature", &[("app.txt", "v2")], "v2");
    s.deliver_pr(pr, "synchronize").await;
    s.deployment_state(&second, "success").await;
    assert_eq!(cluster.kube.names("deployments", Some(&namespace)), ["web"]);
    assert_eq!(
        cluster.kube.names("configmaps", Some(&namespace)),
        ["settings"]
    );
    assert_eq!(
        concluded_check(&s, &second).await.conclusion.as_deref(),
        Some("success")
    );
    let section = section_with(&s, pr, "✅ Ready").await;
    assert!(section.contains(short(&second)), "{section}");

    // And closing removes it all.
    s.repo.close_pr(pr);
    s.deliver_pr(pr, "closed").await;
    s.deployment_state(&second, "inactive").await;
    assert!(!cluster.kube.namespace_exists(&namespace));
}

#[tokio::test]
async fn github_failing_a_few_times_to_create_the_deployment_only_delays_the_preview() {
    let outside = Outside::new();
    let s = command_scenario(&outside, "1m").await;
    let head = s.repo.commit_files("feature", &[("app.txt", "v1")], "v1");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.fake
        .fail_next("POST", "/repos/*/*/deployments", 3, Fault::Status(502));
    s.deliver_pr(pr, "opened").await;

    let deployment = s.deployment_state(&head, "success").await;
    assert_eq!(states(&deployment), ["in_progress", "success"]);
    let creates: Vec<_> = s
        .fake
        .requests_to("POST", "/repos/octocat/shop/deployments")
        .into_iter()
        .filter(|r| r.path == "/repos/octocat/shop/deployments")
        .collect();
    assert_eq!(
        creates.iter().map(|r| r.status).collect::<Vec<_>>(),
        [502, 502, 502, 201]
    );
    assert_eq!(s.repo.deployments().len(), 1, "no duplicate deployment");
    assert_eq!(
        concluded_check(&s, &head).await.conclusion.as_deref(),
        Some("success")
    );
    section_with(&s, pr, "✅ Ready").await;
}

#[tokio::test]
async fn github_down_for_longer_than_one_requests_retries_only_delays_the_preview() {
    let outside = Outside::new();
    let s = command_scenario(&outside, "1m").await;
    let head = s.repo.commit_files("feature", &[("app.txt", "v1")], "v1");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    // More failures than one request is tried (4 attempts): the deploy attempt gives up.
    s.fake
        .fail_next("POST", "/repos/*/*/deployments", 6, Fault::Status(502));
    s.deliver_pr(pr, "opened").await;

    // Once GitHub answers again, the preview gets deployed, with no run left `running`.
    s.deployment_state(&head, "success").await;
    assert_eq!(
        concluded_check(&s, &head).await.conclusion.as_deref(),
        Some("success")
    );
    section_with(&s, pr, "✅ Ready").await;
    no_run_left_running(&s.db).await;
}

#[tokio::test]
async fn github_failing_when_the_success_is_reported_does_not_leave_the_preview_deploying() {
    let outside = Outside::new();
    std::fs::write(outside.gate(), "").expect("gate");
    let s = command_scenario(&outside, "1m").await;
    let head = s
        .repo
        .commit_files("feature", &[("gated", "yes")], "waits at the gate");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;
    s.deployment_state(&head, "in_progress").await;
    eventually("the deploy script started", || async {
        (!s.calls().is_empty()).then_some(())
    })
    .await;

    // The deploy finishes while GitHub fails every try of one request to set a status.
    s.fake.fail_next(
        "POST",
        "/repos/*/*/deployments/*/statuses",
        4,
        Fault::Status(502),
    );
    std::fs::remove_file(outside.gate()).expect("gate opened");

    // GitHub answers again: it must learn that the preview is ready.
    s.deployment_state(&head, "success").await;
    assert_eq!(
        concluded_check(&s, &head).await.conclusion.as_deref(),
        Some("success")
    );
    section_with(&s, pr, "✅ Ready").await;
}

// ---------------------------------------------------------------------------------------------
// 5. The run log behind a failure's link
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_failed_deploys_log_link_shows_the_scripts_stderr_as_plain_text() {
    let outside = Outside::new();
    let s = command_scenario(&outside, "1m").await;
    let head = s.repo.commit_files(
        "broken",
        &[
            ("fail-deploy", "yes"),
            ("say", "<script>alert(1)</script>\n"),
        ],
        "breaks the deploy",
    );
    let pr = s.repo.open_pr(PrSpec::new("broken", "main"));
    s.deliver_pr(pr, "opened").await;

    let deployment = s.deployment_state(&head, "failure").await;
    let failure = deployment.statuses.last().expect("status");
    let check = concluded_check(&s, &head).await;
    assert_eq!(check.details_url.as_deref(), Some(failure.log_url.as_str()));

    let response = s
        .gitferry
        .http
        .get(s.gitferry.url(&log_path(&s, &failure.log_url)))
        .send()
        .await
        .expect("GET the log");
    assert_eq!(response.status().as_u16(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        header("content-type").starts_with("text/plain"),
        "{}",
        header("content-type")
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    let log = response.text().await.expect("the log");
    assert!(
        log.starts_with(&format!("deploy of octocat/shop#{pr} at {head}: failure")),
        "{log}"
    );
    assert!(log.contains("image pull failed"), "{log}");
    // Served byte for byte as text, never as markup.
    assert!(log.contains("<script>alert(1)</script>"), "{log}");
    assert!(!log.contains("&lt;script"), "{log}");
}
