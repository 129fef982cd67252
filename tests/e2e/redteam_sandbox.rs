//! Red team: what a hostile repository tries from the three places its commands run on
//! gitferry's host (a local pipeline step, a `provider: command` deploy, a kubernetes `render`
//! command). Each runs the same attack script: read the store, the `.env`, the App's key file,
//! gitferry's `/proc/<pid>/environ` and another run's checkout; write outside its workspace;
//! forge a delivery in the store; send gitferry `SIGTERM`. Every attempt must fail, the run's
//! log must show each denial, and gitferry (this test process) and its store must be unharmed.
//!
//! It needs what CI has: Linux with Landlock, and root (so children also run as `nobody`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use gitferry::store::DeliveryState;
use sqlx::Row;

use crate::support::db::TestDb;
use crate::support::fake_github::{FakeGitHub, PrSpec, RepoHandle};
use crate::support::fake_kube::FakeKube;
use crate::support::gitferry::{Gitferry, eventually};
use crate::support::payloads;

/// What every attack tries; each must end in `<label>: denied`.
const ATTEMPTS: &[&str] = &[
    "read-store",
    "read-env",
    "read-key",
    "read-environ",
    "read-other-checkout",
    "list-work-dir",
    "write-outside",
    "write-data-dir",
    "insert-delivery",
    "corrupt-store",
    "signal-gitferry",
];

/// The forged delivery the attack tries to insert.
const FORGED: &str = "forged-by-a-pull-request";

/// gitferry with its secrets where an attacker would look for them.
struct Target {
    _fake: FakeGitHub,
    db: TestDb,
    repo: RepoHandle,
    installation: u64,
    gitferry: Gitferry,
    store_file: PathBuf,
    env_file: PathBuf,
    key_file: PathBuf,
    other_checkout: PathBuf,
    outside: PathBuf,
    _cluster: Option<(FakeKube, tempfile::TempDir)>,
}

impl Target {
    async fn start(with_cluster: bool) -> Self {
        let fake = FakeGitHub::start().await;
        let installation = fake.add_installation("octocat");
        let repo = fake.add_repo(installation, "octocat/shop");
        let db = TestDb::sqlite();
        let cluster = if with_cluster {
            let kube = FakeKube::start().await;
            let (dir, kubeconfig) = kube.kubeconfig();
            Some((kube, dir, kubeconfig))
        } else {
            None
        };
        let mut flags = vec!["--reconcile-interval", "200ms"];
        if let Some((_, _, kubeconfig)) = &cluster {
            flags.extend(["--kubeconfig", kubeconfig.as_str()]);
        }
        let gitferry = Gitferry::start_with(&db, &fake, gitferry::app::router(), &flags).await;
        let settings = &gitferry.server.as_ref().expect("running").ctx.settings;
        let private = settings.data_dir.join(gitferry::data_dir::PRIVATE);
        let work_dir = settings.work_dir();
        let env_file = settings.env_file();
        secret_file(&env_file, "GITHUB_WEBHOOK_SECRET=env-file-secret\n");
        let key_file = private.join("app.pem");
        secret_file(&key_file, fake.private_key_pem());
        let other_checkout = another_runs_checkout(&work_dir);
        Self {
            store_file: PathBuf::from(db.url.trim_start_matches("sqlite://")),
            env_file,
            key_file,
            other_checkout,
            outside: crate::support::sandbox::writable_dir()
                .parent()
                .expect("a parent")
                .with_file_name(format!("gitferry-redteam-{}", std::process::id())),
            _fake: fake,
            db,
            repo,
            installation,
            gitferry,
            _cluster: cluster.map(|(kube, dir, _)| (kube, dir)),
        }
    }

    /// The attack, as a script of the repository. `$1` says where it runs from.
    fn script(&self) -> String {
        let settings = &self.gitferry.server.as_ref().expect("running").ctx.settings;
        let store = self.store_file.display();
        format!(
            "#!/bin/sh\n\
             who=$1\n\
             try() {{ label=$1; shift; if \"$@\" >/dev/null 2>&1; then echo \"$who $label: ESCAPED\" >&2; \
             else echo \"$who $label: denied\" >&2; fi; }}\n\
             try read-store cat '{store}'\n\
             try read-env cat '{env}'\n\
             try read-key cat '{key}'\n\
             try read-environ cat /proc/{pid}/environ\n\
             try read-other-checkout cat '{other}'\n\
             try list-work-dir ls '{work}'\n\
             try write-outside sh -c 'echo pwned > {outside}-'$who\n\
             try write-data-dir sh -c 'echo pwned > {data}/planted-'$who\n\
             try insert-delivery sqlite3 '{store}' \"INSERT INTO deliveries (delivery_id, event, \
             payload, received_at, state, available_at) VALUES ('{forged}-$who', 'issue_comment', \
             '{{}}', 0, 'pending', 0)\"\n\
             try corrupt-store sh -c 'echo pwned >> {store}'\n\
             try signal-gitferry kill -TERM {pid}\n\
             exit 1\n",
            env = self.env_file.display(),
            key = self.key_file.display(),
            pid = std::process::id(),
            other = self.other_checkout.display(),
            work = settings.work_dir().display(),
            outside = self.outside.display(),
            data = settings.data_dir.display(),
            forged = FORGED,
        )
    }

    /// Puts `config` and the attack on `main`, opens a PR and returns its head.
    async fn open_pr(&self, config: &str) -> String {
        self.repo.commit_files(
            "main",
            &[
                (".github/gitferry.yml", config.to_owned()),
                ("scripts/attack.sh", self.script()),
                ("deploy/preview/app.yaml", String::new()),
            ],
            "init",
        );
        let head = self
            .repo
            .commit_files("feature", &[("app.txt", "v1")], "feature");
        let pr = self.repo.open_pr(PrSpec::new("feature", "main"));
        let body = payloads::pull_request(&self.repo, self.installation, pr, "opened");
        let (status, _, id) = self.gitferry.deliver("pull_request", &body).await;
        assert_eq!(status, 202);
        self.gitferry.wait_for(&id, DeliveryState::Done).await;
        head
    }

    /// The run log behind a link gitferry gave GitHub.
    async fn log(&self, url: &str) -> String {
        let path = url
            .split_once(&self.gitferry.addr.to_string())
            .map(|(_, path)| path.to_owned())
            .expect("a log link to this server");
        eventually(&format!("the log at {path} saying it is over"), || async {
            let (status, body) = self.gitferry.get(&path).await;
            (status == 200 && body.contains("signal-gitferry")).then_some(body)
        })
        .await
    }

    /// The log of a failed preview deploy of `head`.
    async fn failed_deploy_log(&self, head: &str) -> String {
        let deployment = eventually("a failed preview deployment", || async {
            self.repo
                .deployments()
                .into_iter()
                .find(|d| d.sha == head && matches!(d.latest_state(), Some("failure" | "error")))
        })
        .await;
        let status = deployment.statuses.last().expect("a status");
        self.log(&status.log_url).await
    }

    /// Every attempt from `who` was denied, gitferry still serves, nothing was planted, and the
    /// store holds no forged delivery and passes its integrity check.
    async fn assert_unharmed(&self, who: &str, log: &str) {
        for attempt in ATTEMPTS {
            let line = format!("{who} {attempt}: denied");
            assert!(log.contains(&line), "no `{line}` in the log:\n{log}");
        }
        assert!(!log.contains("ESCAPED"), "an attempt succeeded:\n{log}");
        assert!(!log.contains("env-file-secret") && !log.contains("PRIVATE KEY"));
        assert_eq!(self.gitferry.get("/healthz").await.0, 200);
        let settings = &self.gitferry.server.as_ref().expect("running").ctx.settings;
        let planted = settings.data_dir.join(format!("planted-{who}"));
        assert!(
            !planted.exists() && !Path::new(&format!("{}-{who}", self.outside.display())).exists()
        );
        let pool = sqlx::AnyPool::connect(&self.db.url)
            .await
            .expect("the store opens");
        let forged = sqlx::query("SELECT COUNT(*) AS n FROM deliveries WHERE delivery_id LIKE ?")
            .bind(format!("{FORGED}%"))
            .fetch_one(&pool)
            .await
            .expect("the store answers");
        assert_eq!(forged.get::<i64, _>("n"), 0);
        let check = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .expect("integrity check");
        assert_eq!(check.get::<String, _>(0), "ok");
        assert_eq!(
            std::fs::read_to_string(&self.env_file).expect("the .env is still there"),
            "GITHUB_WEBHOOK_SECRET=env-file-secret\n"
        );
    }
}

/// A file only gitferry's user may read, as the setup page writes `.env`.
fn secret_file(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write a secret");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// A checkout of another run, owned by the user runs get (so that only the sandbox, not file
/// permissions, keeps this run out of it).
fn another_runs_checkout(work_dir: &Path) -> PathBuf {
    let dir = work_dir.join("checkout-0123456789abcdef");
    std::fs::create_dir_all(&dir).expect("another checkout");
    let file = dir.join("secret.txt");
    std::fs::write(&file, "another repository's code").expect("write");
    if nix::unistd::geteuid().is_root() {
        for path in [&dir, &file] {
            std::os::unix::fs::chown(path, Some(65534), Some(65534)).expect("chown");
        }
    }
    file
}

/// The attacker reads nothing that a fresh checkout does not give it: Landlock, a run-as
/// user that is not root, and a live test server are all required here.
fn require_a_sandbox() {
    let sandbox = gitferry::sandbox::landlock::probe();
    assert!(
        sandbox.is_some(),
        "this red-team test needs Landlock (CI runs it on a kernel that has it)"
    );
}

#[tokio::test]
async fn a_pipeline_step_cannot_touch_gitferry_or_its_store() {
    require_a_sandbox();
    let t = Target::start(false).await;

    let head = t
        .open_pr("pipeline:\n  - name: attack\n    run: [sh, scripts/attack.sh, step]\n")
        .await;

    let run = eventually("the attack step finished", || async {
        t.repo
            .check_run(&head, "gitferry/attack")
            .filter(|r| r.status == "completed")
    })
    .await;
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let log = t.log(run.details_url.as_deref().expect("a log link")).await;
    t.assert_unharmed("step", &log).await;
}

#[tokio::test]
async fn a_command_deploy_cannot_touch_gitferry_or_its_store() {
    require_a_sandbox();
    let t = Target::start(false).await;

    let head = t
        .open_pr(
            "environments:\n  preview:\n    pull_requests: { base: [main] }\n    deploy:\n      \
             provider: command\n      deploy: [sh, scripts/attack.sh, deploy]\n      \
             destroy: [sh, scripts/attack.sh, destroy]\n",
        )
        .await;

    let log = t.failed_deploy_log(&head).await;
    t.assert_unharmed("deploy", &log).await;
}

#[tokio::test]
async fn a_render_command_cannot_touch_gitferry_or_its_store() {
    require_a_sandbox();
    let t = Target::start(true).await;

    let head = t
        .open_pr(
            "environments:\n  preview:\n    pull_requests: { base: [main] }\n    deploy:\n      \
             provider: kubernetes\n      manifests: deploy/preview\n      \
             namespace: \"shop-pr-{pr}\"\n      render: [sh, scripts/attack.sh, render]\n",
        )
        .await;

    let log = t.failed_deploy_log(&head).await;
    t.assert_unharmed("render", &log).await;
}
