//! The local runner: a step's command as a child process on the gitferry host, in the
//! commit's checkout. Everything hard (no shell, a cleared environment, the process group
//! killed on timeout or cancel, capped output) is `process`'s; this adapts it to a step and
//! bounds how many steps run at once on this host.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{Exit, Runner, RunnerError, StepRun};
use crate::deploy::BoxFuture;
use crate::process::{self, ProcessError, Spec};

/// Most bytes of a step's output kept in memory at once besides its log; the log is the
/// record, this only bounds what `process` holds for the error text.
const OUTPUT_CAP: usize = 64 * 1024;

/// Runs steps as child processes, at most `slots` at once on this host (whatever the
/// repositories' own `runner.concurrency`): builds are CPU-bound and one host has so many.
#[derive(Clone)]
pub struct LocalRunner {
    slots: Arc<Semaphore>,
}

impl LocalRunner {
    pub fn new(max_parallel: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_parallel.max(1))),
        }
    }

    async fn run_step(&self, run: StepRun<'_>) -> Result<Exit, RunnerError> {
        let _slot = tokio::select! {
            slot = self.slots.acquire() => slot.map_err(|_| RunnerError::Cancelled)?,
            () = run.cancel.cancelled() => return Err(RunnerError::Cancelled),
        };
        let Some((program, args)) = run.argv.split_first() else {
            return Err(RunnerError::Failed("the step has no command".to_owned()));
        };
        let cwd = working_dir(&run)?;
        let env: Vec<(&str, String)> = run
            .env
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect();
        run.log.line(format!(
            "$ {} (in {})",
            process::display_command(program, args),
            run.dir.unwrap_or(".")
        ));
        let spec = Spec {
            program,
            args,
            cwd: &cwd,
            env: &env,
            timeout: run.timeout,
            cancel: run.cancel,
            output_cap: OUTPUT_CAP,
            sandbox: run.workspace.confinement(),
        };
        let log = run.log.clone();
        match process::run(&spec, &move |text| log.append(text)).await {
            Ok(outcome) => Ok(Exit {
                success: outcome.status.success(),
                description: process::describe_status(outcome.status),
            }),
            Err(ProcessError::Timeout { after, .. }) => Err(RunnerError::Timeout { after }),
            Err(ProcessError::Cancelled { .. }) => Err(RunnerError::Cancelled),
            Err(other) => Err(RunnerError::Failed(other.to_string())),
        }
    }
}

impl Runner for LocalRunner {
    fn run<'a>(&'a self, run: StepRun<'a>) -> BoxFuture<'a, Result<Exit, RunnerError>> {
        Box::pin(self.run_step(run))
    }
}

/// The step's `dir` inside the checkout; a missing folder is the step's error (said plainly),
/// not a spawn failure with an OS message.
fn working_dir(run: &StepRun<'_>) -> Result<PathBuf, RunnerError> {
    let root = run.workspace.root();
    let cwd = match run.dir {
        Some(dir) => root.join(dir),
        None => root.to_owned(),
    };
    if cwd.is_dir() {
        Ok(cwd)
    } else {
        Err(RunnerError::Failed(format!(
            "the step's folder `{}` does not exist in this commit",
            run.dir.unwrap_or(".")
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::deploy::Workspace;
    use crate::runs::RunLog;

    struct Fixture {
        dir: tempfile::TempDir,
        log: RunLog,
        cancel: CancellationToken,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("app")).unwrap();
            Self {
                dir,
                log: RunLog::default(),
                cancel: CancellationToken::new(),
            }
        }

        async fn run(
            &self,
            runner: &LocalRunner,
            argv: &[&str],
            dir: Option<&str>,
            timeout: Duration,
        ) -> Result<Exit, RunnerError> {
            let workspace = Workspace::new(self.dir.path());
            self.run_in(runner, &workspace, argv, dir, timeout).await
        }

        async fn run_in(
            &self,
            runner: &LocalRunner,
            workspace: &Workspace,
            argv: &[&str],
            dir: Option<&str>,
            timeout: Duration,
        ) -> Result<Exit, RunnerError> {
            let argv: Vec<String> = argv.iter().map(|s| (*s).to_owned()).collect();
            let env = vec![("GITFERRY_STEP".to_owned(), "unit".to_owned())];
            runner
                .run(StepRun {
                    id: "0123456789abcdef",
                    repository: "octo/shop",
                    sha: "abc",
                    step: "unit",
                    argv: &argv,
                    dir,
                    env: &env,
                    timeout,
                    junit: &[],
                    workspace,
                    source_url: None,
                    log: &self.log,
                    cancel: &self.cancel,
                })
                .await
        }
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_passing_command_runs_in_its_folder_with_the_step_variables() {
        let fixture = Fixture::new();
        let runner = LocalRunner::new(2);
        let exit = fixture
            .run(
                &runner,
                &["sh", "-c", "pwd; echo step=$GITFERRY_STEP"],
                Some("app"),
                MINUTE,
            )
            .await
            .unwrap();
        assert_eq!(
            exit,
            Exit {
                success: true,
                description: "exit status 0".to_owned()
            }
        );
        let log = fixture.log.text();
        assert!(log.contains("/app\n"), "{log}");
        assert!(log.contains("step=unit"), "{log}");
    }

    #[tokio::test]
    async fn without_landlock_a_step_fails_saying_why_and_runs_nothing() {
        use crate::sandbox::{Confinement, Mode, Policy, Sandbox};
        let fixture = Fixture::new();
        let sandbox = Sandbox::new(Mode::Unavailable, Policy::new(None, None).unwrap(), None);
        let run_dir = fixture.dir.path().join("run");
        std::fs::create_dir(&run_dir).unwrap();
        let workspace =
            Workspace::confined(&run_dir, Confinement::prepare(&sandbox, &run_dir).unwrap());
        let error = fixture
            .run_in(
                &LocalRunner::new(1),
                &workspace,
                &["touch", "ran"],
                None,
                MINUTE,
            )
            .await
            .unwrap_err();

        assert!(matches!(&error, RunnerError::Failed(text) if text.contains("Landlock")));
        assert!(
            error.to_string().contains("GITFERRY_SANDBOX=off"),
            "{error}"
        );
        assert!(!run_dir.join("ran").exists());
    }

    #[tokio::test]
    async fn a_failing_command_is_an_exit_not_an_error() {
        let fixture = Fixture::new();
        let exit = fixture
            .run(&LocalRunner::new(1), &["sh", "-c", "exit 3"], None, MINUTE)
            .await
            .unwrap();
        assert!(!exit.success);
        assert_eq!(exit.description, "exit status 3");
    }

    #[tokio::test]
    async fn a_missing_folder_or_program_is_said_plainly() {
        let fixture = Fixture::new();
        let runner = LocalRunner::new(1);
        let missing_dir = fixture
            .run(&runner, &["true"], Some("nope"), MINUTE)
            .await
            .unwrap_err();
        assert_eq!(
            missing_dir.to_string(),
            "the step's folder `nope` does not exist in this commit"
        );
        let missing_program = fixture
            .run(&runner, &["no-such-program-gitferry"], None, MINUTE)
            .await
            .unwrap_err();
        assert!(matches!(missing_program, RunnerError::Failed(_)));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_process_group() {
        let fixture = Fixture::new();
        let marker = fixture.dir.path().join("survivor");
        let script = format!("(sleep 3; touch {}) & sleep 30", marker.display());
        let err = fixture
            .run(
                &LocalRunner::new(1),
                &["sh", "-c", &script],
                None,
                Duration::from_millis(300),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, RunnerError::Timeout { .. }), "{err}");
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(!marker.exists(), "the background child outlived the step");
    }

    #[tokio::test]
    async fn cancel_stops_a_step_waiting_for_a_slot_and_a_running_one() {
        let fixture = Fixture::new();
        let runner = LocalRunner::new(1);
        let cancel = fixture.cancel.clone();
        let started = Instant::now();
        let (first, second, ()) = tokio::join!(
            fixture.run(&runner, &["sleep", "30"], None, MINUTE),
            fixture.run(&runner, &["sleep", "30"], None, MINUTE),
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                cancel.cancel();
            }
        );
        assert!(matches!(first, Err(RunnerError::Cancelled)));
        assert!(matches!(second, Err(RunnerError::Cancelled)));
        // Not a timing assertion on speed: only that neither waited for `sleep 30`.
        assert!(started.elapsed() < Duration::from_secs(25));
    }

    #[tokio::test]
    async fn the_host_limit_runs_steps_one_after_the_other() {
        let fixture = Fixture::new();
        let runner = LocalRunner::new(1);
        let log_path = fixture.dir.path().join("order");
        let script = format!(
            "echo start >> {p}; sleep 0.3; echo end >> {p}",
            p = log_path.display()
        );
        let argv = ["sh", "-c", script.as_str()];
        let (a, b) = tokio::join!(
            fixture.run(&runner, &argv, None, MINUTE),
            fixture.run(&runner, &argv, None, MINUTE),
        );
        assert!(a.unwrap().success && b.unwrap().success);
        let order = std::fs::read_to_string(&log_path).unwrap();
        assert_eq!(order, "start\nend\nstart\nend\n");
    }
}
