//! Preview environments with the command provider, end to end: a PR opens → its head is
//! deployed by the configured script (as a child process, values as variables) → GitHub
//! shows a Deployment, the `gitferry/preview` check and the sticky section, and the log is
//! behind a tokened link; a push redeploys; closing destroys.

use std::path::{Path, PathBuf};

use crate::support::db::TestDb;
use crate::support::fake_github::{Deployment, FakeGitHub, PrSpec, RepoHandle};
use crate::support::gitferry::{Gitferry, eventually};
use crate::support::payloads;

/// A deploy script that records each call in `calls` (outside the checkout, so the test can
/// read it) and prints the preview's address the way a real script would.
pub fn script(calls: &Path) -> String {
    format!(
        "#!/bin/sh\nset -e\n\
         echo \"$1 pr=$GITFERRY_PR sha=$GITFERRY_SHA ref=$GITFERRY_REF env=$GITFERRY_ENV ns=$GITFERRY_NAMESPACE\" >> {calls}\n\
         if [ \"$1\" = up ] && [ -f fail-deploy ]; then echo 'image pull failed' >&2; exit 3; fi\n\
         echo \"applying preview for $GITFERRY_REF\"\n\
         [ \"$1\" = up ] && echo \"GITFERRY_URL=https://pr-$GITFERRY_PR.dyn.example.com\"\n\
         exit 0\n",
        calls = calls.display()
    )
}

pub const CONFIG: &str = "\
environments:
  preview:
    pull_requests: { base: [main] }
    deploy:
      provider: command
      deploy: [sh, scripts/preview.sh, up]
      destroy: [sh, scripts/preview.sh, down]
      timeout: 1m
    url: \"https://pr-{pr}.preview.example.com\"
";

/// A repository with a preview environment and a running gitferry. Shared by the preview
/// scenarios in other files (`previews_*.rs`).
#[allow(dead_code)] // `fake`, `db` and `dir` are kept alive here; some scenarios read them
pub struct Scenario {
    pub fake: FakeGitHub,
    pub db: TestDb,
    pub dir: tempfile::TempDir,
    pub gitferry: Gitferry,
    pub repo: RepoHandle,
    pub installation: u64,
    /// One line per deploy-script call: `up|down pr=… sha=… ref=… env=… ns=…`.
    pub calls: PathBuf,
}

pub async fn scenario(config: &str) -> Scenario {
    scenario_with(config, &[], &[]).await
}

/// A repository whose `main` holds `config`, the recording deploy script and `files`, and a
/// gitferry with `flags` on top of the test defaults.
pub async fn scenario_with(config: &str, files: &[(&str, &str)], flags: &[&str]) -> Scenario {
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("octocat");
    let repo = fake.add_repo(installation, "octocat/shop");
    let dir = tempfile::tempdir().expect("temp dir");
    crate::support::sandbox::passable(dir.path());
    let calls = crate::support::sandbox::writable_dir().join("calls");
    let mut tree = vec![
        (".github/gitferry.yml", config.to_owned()),
        ("scripts/preview.sh", script(&calls)),
    ];
    tree.extend(files.iter().map(|(path, text)| (*path, (*text).to_owned())));
    repo.commit_files("main", &tree, "init");
    let db = TestDb::sqlite();
    let work_dir = dir.path().join("work").display().to_string();
    let mut all_flags = vec!["--work-dir", &work_dir, "--reconcile-interval", "200ms"];
    all_flags.extend_from_slice(flags);
    let gitferry = Gitferry::start_with(&db, &fake, gitferry::app::router(), &all_flags).await;
    Scenario {
        fake,
        db,
        dir,
        gitferry,
        repo,
        installation,
        calls,
    }
}

impl Scenario {
    pub async fn deliver_pr(&self, number: u64, action: &str) {
        let body = payloads::pull_request(&self.repo, self.installation, number, action);
        self.gitferry.deliver_processed("pull_request", &body).await;
    }

    /// `author`'s comment `id` on `pr` reaches gitferry (written earlier, handled now).
    pub async fn deliver_comment(&self, pr: u64, id: u64, author: &str) {
        let body = crate::support::webhooks::issue_comment(
            &self.repo,
            self.installation,
            pr,
            id,
            "created",
            author,
            None,
        );
        self.gitferry
            .deliver_processed("issue_comment", &body)
            .await;
    }

    /// `author` writes `body` on the pull request; GitHub tells gitferry. Returns its id.
    pub async fn comment(&self, pr: u64, author: &str, body: &str) -> u64 {
        let id = self.repo.add_comment(pr, author, body);
        self.deliver_comment(pr, id, author).await;
        id
    }

    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.calls)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub async fn deployment_state(&self, sha: &str, state: &str) -> Deployment {
        eventually(
            &format!("a deployment of {sha} in state {state}"),
            || async {
                self.repo
                    .deployments()
                    .into_iter()
                    .find(|d| d.sha == sha && d.latest_state() == Some(state))
            },
        )
        .await
    }

    pub fn preview_section(&self, pr: u64) -> String {
        self.repo
            .bot_comments(pr)
            .into_iter()
            .map(|c| c.body)
            .find(|b| b.contains("### Preview"))
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn a_pull_request_gets_a_preview_that_follows_its_pushes_and_goes_when_it_closes() {
    let s = scenario(CONFIG).await;
    let head = s
        .repo
        .commit_files("feature", &[("app.txt", "v1")], "feature work");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;

    let deployment = s.deployment_state(&head, "success").await;
    assert_eq!(deployment.environment, format!("preview/pr-{pr}"));
    assert!(deployment.transient_environment && !deployment.production_environment);
    let success = deployment.statuses.last().expect("status");
    assert_eq!(
        success.environment_url,
        format!("https://pr-{pr}.dyn.example.com"),
        "the URL the script printed wins over the template"
    );
    let states: Vec<&str> = deployment
        .statuses
        .iter()
        .map(|s| s.state.as_str())
        .collect();
    assert_eq!(states, ["in_progress", "success"]);
    assert_eq!(
        s.calls(),
        [format!(
            "up pr={pr} sha={head} ref=feature env=preview ns=shop-pr-{pr}"
        )]
    );

    let check = eventually("the check run to complete", || async {
        s.repo
            .check_run(&head, "gitferry/preview")
            .filter(|c| c.conclusion.is_some())
    })
    .await;
    assert_eq!(check.conclusion.as_deref(), Some("success"));
    assert_eq!(check.details_url.as_deref(), Some(success.log_url.as_str()));
    let section = eventually("the preview section says ready", || async {
        Some(s.preview_section(pr)).filter(|b| b.contains("✅ Ready"))
    })
    .await;
    assert!(
        section.contains(&format!("https://pr-{pr}.dyn.example.com")),
        "{section}"
    );

    // The log is behind the link's token, and only there.
    let log_path = success
        .log_url
        .split_once(&s.gitferry.addr.to_string())
        .map(|(_, path)| path.to_owned())
        .expect("log link on this server");
    let (status, log) = s.gitferry.get(&log_path).await;
    assert_eq!(status, 200);
    assert!(log.contains("applying preview for feature"), "{log}");
    let without_token = log_path.split('?').next().expect("path");
    assert_eq!(s.gitferry.get(without_token).await.0, 404);
    assert_eq!(
        s.gitferry
            .get(&format!("{without_token}?token=guess"))
            .await
            .0,
        404
    );

    // A push redeploys the new head.
    let second = s
        .repo
        .commit_files("feature", &[("app.txt", "v2")], "more work");
    s.deliver_pr(pr, "synchronize").await;
    s.deployment_state(&second, "success").await;
    assert_eq!(s.calls().len(), 2);
    assert!(s.calls()[1].contains(&format!("sha={second}")));

    // Closing destroys it, and the last deployment goes inactive.
    s.repo.close_pr(pr);
    s.deliver_pr(pr, "closed").await;
    s.deployment_state(&second, "inactive").await;
    assert!(
        s.calls()[2].starts_with(&format!("down pr={pr} sha={second}")),
        "{:?}",
        s.calls()
    );
    let section = eventually("the preview section says destroyed", || async {
        Some(s.preview_section(pr)).filter(|b| b.contains("Destroyed"))
    })
    .await;
    assert!(section.contains("the pull request was closed"), "{section}");

    // Runs are counted when they end, just after the PR is told.
    for line in [
        "gitferry_preview_runs_total{operation=\"deploy\",outcome=\"success\"} 2",
        "gitferry_preview_runs_total{operation=\"destroy\",outcome=\"success\"} 1",
    ] {
        eventually(line, || async {
            let (_, metrics) = s.gitferry.get("/metrics").await;
            metrics.contains(line).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn a_failing_deploy_fails_the_check_and_the_deployment_with_the_scripts_words() {
    let s = scenario(CONFIG).await;
    let head = s
        .repo
        .commit_files("broken", &[("fail-deploy", "yes")], "breaks the deploy");
    let pr = s.repo.open_pr(PrSpec::new("broken", "main"));
    s.deliver_pr(pr, "opened").await;

    let deployment = s.deployment_state(&head, "failure").await;
    let failure = deployment.statuses.last().expect("status");
    assert!(
        failure.description.contains("exit status 3"),
        "{}",
        failure.description
    );
    let check = eventually("a failed check", || async {
        s.repo
            .check_run(&head, "gitferry/preview")
            .filter(|c| c.conclusion.is_some())
    })
    .await;
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    let section = s.preview_section(pr);
    assert!(section.contains("image pull failed"), "{section}");

    // Nothing half-created stands in the way: closing still runs the destroy command.
    s.repo.close_pr(pr);
    s.deliver_pr(pr, "closed").await;
    eventually("the destroy ran", || async {
        s.calls()
            .iter()
            .any(|c| c.starts_with("down"))
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_branch_name_never_reaches_a_shell() {
    let s = scenario(CONFIG).await;
    let pwned = s.calls.with_file_name("pwned");
    // A legal ref name (no spaces): `${IFS}` would become one in a shell.
    let branch = format!("$(touch${{IFS}}{})", pwned.display());
    let head = s
        .repo
        .commit_files(&branch, &[("app.txt", "x")], "evil branch");
    let pr = s.repo.open_pr(PrSpec::new(&branch, "main"));
    s.deliver_pr(pr, "opened").await;
    s.deployment_state(&head, "success").await;
    assert!(
        s.calls()[0].contains(&format!("ref={branch}")),
        "{:?}",
        s.calls()
    );
    assert!(!pwned.exists(), "the branch name was executed");
}

const KUBERNETES_CONFIG: &str = "\
environments:
  preview:
    pull_requests: { base: [main] }
    deploy: { provider: kubernetes, manifests: deploy/preview, namespace: \"shop-pr-{pr}\" }
    url: \"https://shop-pr-{pr}.preview.example.com\"
";

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

#[tokio::test]
async fn on_kubernetes_a_preview_is_a_namespace_applied_from_the_head_and_deleted_on_close() {
    let kube = crate::support::fake_kube::FakeKube::start().await;
    let (_kubeconfig_dir, kubeconfig) = kube.kubeconfig();
    let s = scenario_with(
        KUBERNETES_CONFIG,
        &[("deploy/preview/app.yaml", MANIFESTS)],
        &["--kubeconfig", &kubeconfig],
    )
    .await;
    let head = s.repo.commit_files("feature", &[("app.txt", "v1")], "work");
    let pr = s.repo.open_pr(PrSpec::new("feature", "main"));
    s.deliver_pr(pr, "opened").await;

    let deployment = s.deployment_state(&head, "success").await;
    let namespace = format!("shop-pr-{pr}");
    assert_eq!(
        deployment.statuses.last().expect("status").environment_url,
        format!("https://shop-pr-{pr}.preview.example.com")
    );
    assert!(kube.namespace_exists(&namespace));
    assert_eq!(kube.names("deployments", Some(&namespace)), ["web"]);
    let settings = kube
        .object("configmaps", Some(&namespace), "settings")
        .expect("the ConfigMap was applied");
    assert_eq!(
        settings["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "gitferry"
    );
    assert_eq!(
        settings["metadata"]["labels"]["gitferry.dev/pr"],
        pr.to_string()
    );

    s.repo.close_pr(pr);
    s.deliver_pr(pr, "closed").await;
    s.deployment_state(&head, "inactive").await;
    assert!(
        !kube.namespace_exists(&namespace),
        "destroy waits until the namespace is gone"
    );
}

/// The GitHub requests of one pull request's preview, from its `opened` delivery to the
/// check run's success, once the installation token and the config are cached (as for every
/// PR but a repository's first): each has a reason, none is repeated without one. The
/// figures are in `benches/preview/README.md`.
/// The first event of a repository finds no config cached: the default branch's file is read
/// once (by the config check, which remembers it for the preview handler after it), and the
/// PR head's once (to see whether the PR changes it).
#[tokio::test]
async fn a_cold_config_cache_reads_the_default_branch_config_once() {
    let s = scenario(CONFIG).await;
    let head = s.repo.commit_files("cold", &[("app.txt", "cold")], "work");
    let pr = s.repo.open_pr(PrSpec::new("cold", "main"));
    s.deliver_pr(pr, "opened").await;
    eventually("the preview check to succeed", || async {
        s.repo
            .check_run(&head, "gitferry/preview")
            .filter(|c| c.conclusion.as_deref() == Some("success"))
    })
    .await;
    let mut reads: Vec<String> = s
        .fake
        .requests_to("GET", "/repos/octocat/shop/contents/")
        .iter()
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    reads.sort();
    let mut expected = [format!("ref={head}"), "ref=main".to_owned()];
    expected.sort();
    assert_eq!(
        reads, expected,
        "one read of the head's config and one of main's"
    );
}

#[tokio::test]
async fn a_preview_costs_fourteen_github_requests_and_none_is_repeated_without_need() {
    let s = scenario(CONFIG).await;
    for (n, branch) in ["warm-up", "counted"].into_iter().enumerate() {
        let head = s.repo.commit_files(branch, &[("app.txt", branch)], "work");
        let pr = s.repo.open_pr(PrSpec::new(branch, "main"));
        if n == 1 {
            s.fake.clear_requests();
        }
        s.deliver_pr(pr, "opened").await;
        eventually("the preview check to succeed", || async {
            s.repo
                .check_run(&head, "gitferry/preview")
                .filter(|c| c.conclusion.as_deref() == Some("success"))
        })
        .await;
    }
    let routes: Vec<String> = s
        .fake
        .requests()
        .iter()
        .map(|r| match r.path.strip_prefix("/_codeload/") {
            // The pre-signed download GitHub redirects to (codeload.github.com on github.com).
            Some(_) => format!("{} codeload", r.method),
            None => format!("{} {}", r.method, gitferry::github::route_template(&r.path)),
        })
        .collect();
    let expected = [
        "GET /repos/{owner}/{repo}/contents/{path}", // the config check: does the PR change it?
        "POST /repos/{owner}/{repo}/deployments",
        "POST /repos/{owner}/{repo}/deployments/{id}/statuses", // in_progress
        "GET /repos/{owner}/{repo}/issues/{number}/comments",   // find the sticky comment
        "POST /repos/{owner}/{repo}/issues/{number}/comments",  // "Deploying"
        "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
        "POST /repos/{owner}/{repo}/check-runs", // in progress
        "GET /repos/{owner}/{repo}/tarball/{param}", // the commit's files: a redirect…
        "GET codeload",                          // …to the download
        "POST /repos/{owner}/{repo}/deployments/{id}/statuses", // success
        "GET /repos/{owner}/{repo}/issues/{number}/comments",
        "PATCH /repos/{owner}/{repo}/issues/comments/{id}", // "Ready", edited in place
        "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
        "PATCH /repos/{owner}/{repo}/check-runs/{id}", // success, updated in place
    ];
    assert_eq!(routes, expected, "{routes:#?}");
}
