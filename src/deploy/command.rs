//! The command provider (`provider: command`): the repository's own scripts deploy, tear down
//! and describe the environment.
//!
//! The commands come from the config on the default branch and run in the workspace (the
//! commit being deployed) through [`crate::process::run`]: no shell, none of gitferry's
//! secrets, the pull request's values as `GITFERRY_*` variables. A script reports where the
//! environment lives by printing a line `GITFERRY_URL=https://…`.
//!
//! Idempotency (see [`Provider`]) is the scripts' part of the contract: `deploy` run twice is
//! a redeploy, `destroy` of something already gone exits 0.

use crate::deploy::{Applied, BoxFuture, DeployError, Observed, Provider, Request, StatusCheck};
use crate::process;
use crate::repo_config::{Argv, CommandDeploy};
use crate::runs::RunLog;

/// The line a deploy command prints to say where the environment is.
const URL_PREFIX: &str = "GITFERRY_URL=";

/// Deploys by running the configured commands.
#[derive(Debug, Clone)]
pub struct CommandProvider {
    config: CommandDeploy,
}

impl CommandProvider {
    pub fn new(config: CommandDeploy) -> Self {
        Self { config }
    }

    async fn deploy(&self, request: Request<'_>) -> Result<Applied, DeployError> {
        let ran = self.run(&self.config.deploy, request).await?;
        Ok(Applied {
            url: announced_url(&ran.output, request.log).or_else(|| request.target.url.clone()),
            summary: vec![format!("`{}` exited 0", ran.command)],
        })
    }

    async fn tear_down(&self, request: Request<'_>) -> Result<(), DeployError> {
        let destroy = self.config.destroy.as_ref().ok_or_else(|| {
            DeployError::Settings("no `destroy` command is configured".to_owned())
        })?;
        self.run(destroy, request).await?;
        Ok(())
    }

    async fn status(&self, request: Request<'_>) -> Result<Observed, DeployError> {
        let Some(status) = &self.config.status else {
            return Ok(Observed::default());
        };
        let ran = self.run(status, request).await?;
        Ok(Observed {
            objects: vec![serde_json::Value::String(ran.output)],
        })
    }

    /// `status` as a drift check: exit 0 in sync, 2 drifted, anything else an error.
    async fn drift_status(&self, request: Request<'_>) -> Result<Option<StatusCheck>, DeployError> {
        let Some(status) = &self.config.status else {
            return Ok(None);
        };
        let (command, outcome) = self.spawn(status, request).await?;
        match outcome.status.code() {
            Some(0) => Ok(Some(StatusCheck {
                drifted: false,
                output: outcome.output,
            })),
            Some(DRIFTED_EXIT) => Ok(Some(StatusCheck {
                drifted: true,
                output: outcome.output,
            })),
            _ => Err(DeployError::CommandFailed {
                command,
                status: format!(
                    "{}; a drift check exits 0 (in sync) or {DRIFTED_EXIT} (drifted)",
                    process::describe_status(outcome.status)
                ),
                output_tail: process::output_tail(&outcome.output),
            }),
        }
    }

    /// Runs one of the commands in the workspace, its output streamed into the deploy log;
    /// anything but exit status 0 is an error.
    async fn run(&self, argv: &Argv, request: Request<'_>) -> Result<Ran, DeployError> {
        let (command, outcome) = self.spawn(argv, request).await?;
        if !outcome.status.success() {
            return Err(DeployError::CommandFailed {
                command,
                status: process::describe_status(outcome.status),
                output_tail: process::output_tail(&outcome.output),
            });
        }
        Ok(Ran {
            command,
            output: outcome.output,
        })
    }

    /// Runs one of the commands in the workspace, its output streamed into the deploy log;
    /// the command as shown, and how it ended.
    async fn spawn(
        &self,
        argv: &Argv,
        request: Request<'_>,
    ) -> Result<(String, process::Outcome), DeployError> {
        let command = process::display_command(argv.program(), argv.args());
        let root = request.workspace.root();
        let mut env = request.target.environment_variables();
        // Lossy only for a non-UTF-8 path, which gitferry never creates for a workspace.
        env.push(("GITFERRY_WORKSPACE", root.to_string_lossy().into_owned()));
        let spec = process::Spec {
            program: argv.program(),
            args: argv.args(),
            cwd: root,
            env: &env,
            timeout: self.config.timeout.get(),
            cancel: request.cancel,
            output_cap: crate::runs::log::DEFAULT_CAP,
            sandbox: request.workspace.confinement(),
        };
        request.log.line(format!("$ {command}"));
        let outcome = process::run(&spec, &|text| request.log.append(text))
            .await
            .map_err(DeployError::from)?;
        Ok((command, outcome))
    }
}

impl Provider for CommandProvider {
    fn apply<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<Applied, DeployError>> {
        Box::pin(self.deploy(request))
    }

    fn destroy<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<(), DeployError>> {
        Box::pin(self.tear_down(request))
    }

    fn observe<'a>(&'a self, request: Request<'a>) -> BoxFuture<'a, Result<Observed, DeployError>> {
        Box::pin(self.status(request))
    }

    fn desired<'a>(
        &'a self,
        _request: Request<'a>,
    ) -> BoxFuture<'a, Result<Option<Vec<serde_json::Value>>, DeployError>> {
        Box::pin(async { Ok(None) })
    }

    fn status_check<'a>(
        &'a self,
        request: Request<'a>,
    ) -> BoxFuture<'a, Result<Option<StatusCheck>, DeployError>> {
        Box::pin(self.drift_status(request))
    }

    fn unserved<'a>(
        &'a self,
        _kinds: Vec<(String, String)>,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, DeployError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// The exit status of a `status` command that found drift.
const DRIFTED_EXIT: i32 = 2;

/// A command that exited 0.
struct Ran {
    command: String,
    output: String,
}

/// The URL of the last acceptable `GITFERRY_URL=http(s)://…` line, if the command printed
/// one. A script runs the pull request's code, so what it prints is hostile: a URL that could
/// break out of a chat link (see [`crate::web_url`]) is ignored, and the log says why, so the
/// repository's owner can see what happened to their URL.
fn announced_url(output: &str, log: &RunLog) -> Option<String> {
    let mut found = None;
    for line in output.lines() {
        let Some(url) = line.trim().strip_prefix(URL_PREFIX).map(str::trim) else {
            continue;
        };
        match crate::web_url::check(url) {
            Ok(url) => found = Some(url.to_owned()),
            Err(why) => log.line(format!(
                "gitferry: ignored a {URL_PREFIX} line because {why}: {:?}",
                url.chars().take(200).collect::<String>()
            )),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;

    use crate::deploy::{Target, Workspace};
    use crate::repo_config::Deploy;
    use crate::runs::RunLog;

    /// A workspace with scripts, a preview target and a provider configured from YAML.
    struct Scene {
        dir: tempfile::TempDir,
        workspace: Workspace,
        target: Target,
        log: RunLog,
        cancel: CancellationToken,
    }

    impl Scene {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let workspace = Workspace::new(dir.path());
            Self {
                dir,
                workspace,
                target: Target {
                    repository: "acme/shop".to_owned(),
                    environment: "preview".to_owned(),
                    pr: Some(42),
                    sha: "0123456789abcdef0123456789abcdef01234567".to_owned(),
                    branch: "feature/login".to_owned(),
                    base: Some("latest".to_owned()),
                    namespace: Some("shop-pr-42".to_owned()),
                    url: Some("https://shop-pr-42.preview.example.com".to_owned()),
                },
                log: RunLog::default(),
                cancel: CancellationToken::new(),
            }
        }

        fn script(&self, name: &str, body: &str) {
            let path = self.dir.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }

        fn request(&self) -> Request<'_> {
            Request {
                target: &self.target,
                workspace: &self.workspace,
                log: &self.log,
                cancel: &self.cancel,
            }
        }
    }

    /// `deploy:` config for the command provider, e.g. `"deploy: [./deploy.sh]"`.
    fn provider(yaml: &str) -> CommandProvider {
        let deploy = serde_yaml_ng::from_str::<Deploy>(&format!("provider: command\n{yaml}\n"));
        match deploy.unwrap() {
            Deploy::Command(config) => CommandProvider::new(config),
            Deploy::Kubernetes(_) => panic!("not a command config"),
        }
    }

    #[tokio::test]
    async fn without_landlock_a_deploy_fails_saying_why_and_runs_nothing() {
        use crate::sandbox::{Confinement, Mode, Policy, Sandbox};
        let mut scene = Scene::new();
        scene.script("deploy.sh", "touch ran");
        let sandbox = Sandbox::new(Mode::Unavailable, Policy::new(None, None).unwrap(), None);
        let confinement = Confinement::prepare(&sandbox, scene.dir.path()).unwrap();
        scene.workspace = Workspace::confined(scene.dir.path(), confinement);

        let error = provider("deploy: [./deploy.sh]")
            .apply(scene.request())
            .await
            .unwrap_err();

        assert!(matches!(error, DeployError::Spawn { .. }), "{error}");
        assert!(
            error.to_string().contains("GITFERRY_SANDBOX=off"),
            "{error}"
        );
        assert!(!scene.dir.path().join("ran").exists());
    }

    #[tokio::test]
    async fn the_url_a_script_prints_is_the_environments_url() {
        let scene = Scene::new();
        scene.script(
            "deploy.sh",
            "echo GITFERRY_URL=https://first.example.com\n\
             echo deploying\n\
             echo '  GITFERRY_URL=https://pr-42.example.com  '\n\
             echo GITFERRY_URL=not-a-url",
        );

        let applied = provider("deploy: [./deploy.sh, up]")
            .apply(scene.request())
            .await
            .unwrap();

        assert_eq!(applied.url.as_deref(), Some("https://pr-42.example.com"));
        assert_eq!(applied.summary, ["`./deploy.sh up` exited 0"]);
        assert!(
            scene.log.text().starts_with("$ ./deploy.sh up\n"),
            "{}",
            scene.log.text()
        );
        assert!(scene.log.text().contains("deploying\n"));
        assert!(
            scene
                .log
                .text()
                .contains("ignored a GITFERRY_URL= line because it is not an http"),
            "{}",
            scene.log.text()
        );
    }

    #[tokio::test]
    async fn a_url_that_would_break_out_of_a_chat_link_is_ignored_and_the_log_says_why() {
        let scene = Scene::new();
        scene.script(
            "deploy.sh",
            "echo GITFERRY_URL=https://pr-42.example.com\n\
             echo 'GITFERRY_URL=https://evil.example.com|<!channel>'\n\
             echo 'GITFERRY_URL=https://evil.example.com)[@all](https://x'\n\
             echo 'GITFERRY_URL=javascript:alert(document.cookie)'",
        );

        let applied = provider("deploy: [./deploy.sh]")
            .apply(scene.request())
            .await
            .unwrap();

        assert_eq!(applied.url.as_deref(), Some("https://pr-42.example.com"));
        let log = scene.log.text();
        assert!(log.contains("because it contains `|`"), "{log}");
        assert!(log.contains("because it contains `)`"), "{log}");
        assert!(log.contains("because it contains `(`"), "{log}");
    }

    #[tokio::test]
    async fn without_a_url_line_the_configured_url_is_used() {
        let scene = Scene::new();
        scene.script("deploy.sh", "echo deployed");

        let applied = provider("deploy: [./deploy.sh]")
            .apply(scene.request())
            .await
            .unwrap();

        assert_eq!(
            applied.url.as_deref(),
            Some("https://shop-pr-42.preview.example.com")
        );
    }

    #[tokio::test]
    async fn a_failing_deploy_says_how_it_failed_and_shows_the_end_of_its_output() {
        let scene = Scene::new();
        scene.script(
            "deploy.sh",
            "for n in $(seq 1 40); do echo \"step $n\"; done\n\
             echo 'error: quota exceeded' >&2\n\
             exit 3",
        );

        let error = provider("deploy: [./deploy.sh]")
            .apply(scene.request())
            .await
            .unwrap_err();

        let DeployError::CommandFailed {
            status,
            output_tail,
            ..
        } = &error
        else {
            panic!("expected a failed command, got {error:?}");
        };
        assert_eq!(status, "exit status 3");
        assert_eq!(output_tail.lines().count(), process::TAIL_LINES);
        assert!(
            error
                .to_string()
                .starts_with("`./deploy.sh` failed (exit status 3): step 27\nstep 28\n")
        );
        assert!(
            error
                .to_string()
                .ends_with("step 40\nerror: quota exceeded")
        );
        assert!(scene.log.text().contains("step 1\n"));
    }

    #[tokio::test]
    async fn the_pull_requests_values_reach_the_script_as_variables() {
        let scene = Scene::new();
        scene.script(
            "deploy.sh",
            "echo \"pr=$GITFERRY_PR sha=$GITFERRY_SHA ref=$GITFERRY_REF\"\n\
             echo \"env=$GITFERRY_ENV namespace=$GITFERRY_NAMESPACE\"\n\
             echo \"workspace=$GITFERRY_WORKSPACE pwd=$(pwd)\"",
        );

        provider("deploy: [./deploy.sh]")
            .apply(scene.request())
            .await
            .unwrap();

        let log = scene.log.text();
        assert!(
            log.contains(&format!(
                "pr=42 sha={} ref=feature/login\n",
                scene.target.sha
            )),
            "{log}"
        );
        assert!(log.contains("env=preview namespace=shop-pr-42\n"), "{log}");
        let root = scene.dir.path().display();
        assert!(
            log.contains(&format!("workspace={root} pwd={root}\n")),
            "{log}"
        );
    }

    #[tokio::test]
    async fn a_hostile_branch_name_is_never_executed() {
        let mut scene = Scene::new();
        let pwned = scene.dir.path().join("pwned");
        scene.target.branch = format!("$(touch {})", pwned.display());
        scene.script(
            "deploy.sh",
            "echo \"deploying $GITFERRY_REF\"\necho $GITFERRY_REF",
        );

        provider("deploy: [./deploy.sh]")
            .apply(scene.request())
            .await
            .unwrap();

        assert!(!pwned.exists());
        assert!(
            scene
                .log
                .text()
                .contains(&format!("deploying {}\n", scene.target.branch))
        );
    }

    #[tokio::test]
    async fn a_deploy_that_hangs_times_out() {
        let scene = Scene::new();
        scene.script("deploy.sh", "echo waiting\nsleep 300");

        let error = provider("deploy: [./deploy.sh]\ntimeout: 300ms")
            .apply(scene.request())
            .await
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "`./deploy.sh` did not finish within 300ms"
        );
        assert!(scene.log.text().contains("waiting\n"));
    }

    #[tokio::test]
    async fn a_superseded_deploy_is_cancelled() {
        let scene = Scene::new();
        scene.script("deploy.sh", "sleep 300");
        let cancel = scene.cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cancel.cancel();
        });

        let error = provider("deploy: [./deploy.sh]")
            .apply(scene.request())
            .await
            .unwrap_err();

        assert!(matches!(error, DeployError::Cancelled), "{error:?}");
    }

    #[tokio::test]
    async fn a_missing_script_cannot_be_run() {
        let scene = Scene::new();

        let error = provider("deploy: [./scripts/preview.sh, up]")
            .apply(scene.request())
            .await
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "cannot run `./scripts/preview.sh up`: no such file or directory"
        );
    }

    #[tokio::test]
    async fn destroy_runs_the_destroy_command() {
        let scene = Scene::new();
        scene.script("destroy.sh", "echo \"tearing down $GITFERRY_NAMESPACE\"");

        provider("deploy: [./deploy.sh]\ndestroy: [./destroy.sh]")
            .destroy(scene.request())
            .await
            .unwrap();

        assert!(scene.log.text().contains("tearing down shop-pr-42\n"));
    }

    #[tokio::test]
    async fn destroy_without_a_destroy_command_is_a_settings_error() {
        let scene = Scene::new();

        let error = provider("deploy: [./deploy.sh]")
            .destroy(scene.request())
            .await
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "the deploy settings are incomplete: no `destroy` command is configured"
        );
    }

    #[tokio::test]
    async fn the_status_command_is_the_drift_check_by_its_exit_status() {
        let scene = Scene::new();
        let provider = provider("deploy: [./deploy.sh]\nstatus: [./status.sh]");
        scene.script("status.sh", "echo 'no changes'");
        let clean = provider.status_check(scene.request()).await.unwrap();
        assert_eq!(
            clean,
            Some(StatusCheck {
                drifted: false,
                output: "no changes\n".to_owned()
            })
        );
        scene.script("status.sh", "echo '~ replicas: 2 -> 5'; exit 2");
        let drifted = provider.status_check(scene.request()).await.unwrap();
        assert!(drifted.is_some_and(|d| d.drifted && d.output.contains("replicas: 2 -> 5")));
        scene.script("status.sh", "echo 'cannot reach the API' >&2; exit 1");
        let error = provider.status_check(scene.request()).await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("a drift check exits 0 (in sync) or 2 (drifted)"),
            "{error}"
        );
        assert!(
            error.to_string().contains("cannot reach the API"),
            "{error}"
        );
        let without = provider_without_status()
            .status_check(scene.request())
            .await;
        assert_eq!(without.unwrap(), None);
    }

    fn provider_without_status() -> CommandProvider {
        provider("deploy: [./deploy.sh]")
    }

    #[tokio::test]
    async fn observe_returns_what_the_status_command_prints() {
        let scene = Scene::new();
        scene.script("status.sh", "echo 'web: 2/2 ready'");

        let observed = provider("deploy: [./deploy.sh]\nstatus: [./status.sh]")
            .observe(scene.request())
            .await
            .unwrap();

        assert_eq!(
            observed.objects,
            [serde_json::Value::String("web: 2/2 ready\n".to_owned())]
        );
    }

    #[tokio::test]
    async fn observe_without_a_status_command_sees_nothing() {
        let scene = Scene::new();

        let observed = provider("deploy: [./deploy.sh]")
            .observe(scene.request())
            .await
            .unwrap();

        assert_eq!(observed, Observed::default());
    }

    #[test]
    fn a_status_says_whether_the_command_exited_or_was_killed() {
        assert_eq!(
            process::describe_status(ExitStatus::from_raw(3 << 8)),
            "exit status 3"
        );
        assert_eq!(
            process::describe_status(ExitStatus::from_raw(9)),
            "killed by signal 9 (SIGKILL)"
        );
    }
}
