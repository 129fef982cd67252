//! Child processes, for real: scripts in a temporary folder.

use super::*;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A folder with scripts in it, and the defaults a test changes one at a time.
struct Scene {
    dir: tempfile::TempDir,
    cancel: CancellationToken,
    timeout: Duration,
    output_cap: usize,
    confinement: Confinement,
}

impl Scene {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            cancel: CancellationToken::new(),
            timeout: Duration::from_secs(30),
            output_cap: 64 * 1024,
            confinement: Confinement::unconfined(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn script(&self, name: &str, body: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        format!("./{name}")
    }

    /// A spec for `program` in the scene's folder, with no variables of its own.
    fn spec<'a>(&'a self, program: &'a str, args: &'a [String]) -> Spec<'a> {
        Spec {
            program,
            args,
            cwd: self.dir.path(),
            env: &[],
            timeout: self.timeout,
            cancel: &self.cancel,
            output_cap: self.output_cap,
            sandbox: &self.confinement,
        }
    }

    async fn run(
        &self,
        program: &str,
        args: &[&str],
        env: &[(&str, String)],
    ) -> Result<Outcome, ProcessError> {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let spec = Spec {
            program,
            args: &args,
            cwd: self.dir.path(),
            env,
            timeout: self.timeout,
            cancel: &self.cancel,
            output_cap: self.output_cap,
            sandbox: &self.confinement,
        };
        run(&spec, &|_| {}).await
    }

    fn pid_in(&self, name: &str) -> Pid {
        let text = std::fs::read_to_string(self.path(name)).unwrap();
        Pid::from_raw(text.trim().parse().unwrap())
    }
}

/// Whether a process is gone, within a few seconds. A zombie counts as gone: it runs
/// nothing, and whether it is reaped depends on the container's init, not on gitferry.
async fn is_gone(pid: Pid) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit(')')
                .next()
                .unwrap_or("")
                .trim()
                .starts_with('Z')
        });
        if zombie || nix::sys::signal::kill(pid, None) == Err(Errno::ESRCH) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

const BACKGROUND_SLEEPER: &str = "sleep 300 &\necho $! > sleeper.pid\nwait";

#[tokio::test]
async fn exit_status_and_both_streams_are_captured_in_the_order_written() {
    let scene = Scene::new();
    let script = scene.script(
        "fail.sh",
        "echo one\necho two >&2\necho three\necho four >&2\nexit 3",
    );

    let outcome = scene.run(&script, &[], &[]).await.unwrap();

    assert_eq!(outcome.status.code(), Some(3));
    assert_eq!(outcome.output, "one\ntwo\nthree\nfour\n");
}

#[tokio::test]
async fn output_is_streamed_as_it_arrives() {
    let scene = Scene::new();
    let script = scene.script("chatty.sh", "echo one\necho two >&2\necho three");
    let seen = Mutex::new(String::new());
    let spec = scene.spec(&script, &[]);

    let outcome = run(&spec, &|text| seen.lock().unwrap().push_str(text))
        .await
        .unwrap();

    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), "one\ntwo\nthree\n".len(), "{seen}");
    assert_eq!(seen, outcome.output);
}

#[tokio::test]
async fn the_child_sees_the_given_variables_and_none_of_gitferrys_others() {
    // What `sh` sets by itself, whatever it inherits.
    const SHELL_OWN: &[&str] = &["PWD", "OLDPWD", "SHLVL", "_"];
    // Whatever else the test process has (CARGO_*, HOSTNAME, …) stands in for
    // GITHUB_PRIVATE_KEY & co., which a test cannot set without an `unsafe` `set_var`.
    let withheld: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| !INHERITED_VARIABLES.contains(&name.as_str()))
        .filter(|name| !SHELL_OWN.contains(&name.as_str()))
        .collect();
    assert!(
        !withheld.is_empty(),
        "the test process has no variable to withhold"
    );
    let scene = Scene::new();
    let script = scene.script("env.sh", "env");

    let outcome = scene
        .run(&script, &[], &[("GITFERRY_PR", "7".to_owned())])
        .await
        .unwrap();

    let names: Vec<&str> = outcome
        .output
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name))
        .collect();
    assert!(
        outcome.output.contains("GITFERRY_PR=7\n"),
        "{}",
        outcome.output
    );
    assert!(names.contains(&"PATH"), "{names:?}");
    let leaked: Vec<&String> = withheld
        .iter()
        .filter(|name| names.contains(&name.as_str()))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
}

#[test]
fn only_the_allowed_variables_are_inherited() {
    let parent = [
        ("PATH", "/usr/bin"),
        ("GITHUB_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----"),
        ("GITHUB_WEBHOOK_SECRET", "hunter2"),
        ("DATABASE_URL", "postgres://gitferry:secret@db/gitferry"),
        ("LANG", "C.UTF-8"),
    ]
    .map(|(name, value)| (OsString::from(name), OsString::from(value)));

    let names: Vec<OsString> = inherited(parent)
        .into_iter()
        .map(|(name, _)| name)
        .collect();

    assert_eq!(names, ["PATH", "LANG"]);
}

#[tokio::test]
async fn hostile_values_in_variables_and_arguments_are_never_executed() {
    let scene = Scene::new();
    let hostile = format!("$(touch {})", scene.path("pwned").display());
    let script = scene.script(
        "echo.sh",
        "echo \"ref: $GITFERRY_REF\"\necho arg: $1\necho unquoted: $GITFERRY_REF",
    );

    let outcome = scene
        .run(&script, &[&hostile], &[("GITFERRY_REF", hostile.clone())])
        .await
        .unwrap();

    assert!(outcome.status.success());
    assert!(!scene.path("pwned").exists(), "{}", outcome.output);
    assert!(
        outcome.output.contains(&format!("ref: {hostile}\n")),
        "{}",
        outcome.output
    );
    assert!(outcome.output.contains(&format!("arg: {hostile}\n")));
}

#[tokio::test]
async fn a_timeout_stops_the_whole_process_group() {
    let mut scene = Scene::new();
    scene.timeout = Duration::from_millis(500);
    let script = scene.script("hang.sh", &format!("echo started\n{BACKGROUND_SLEEPER}"));

    let error = scene.run(&script, &[], &[]).await.unwrap_err();

    let ProcessError::Timeout { output, .. } = &error else {
        panic!("expected a timeout, got {error:?}");
    };
    assert_eq!(output, "started\n");
    assert_eq!(error.to_string(), "`./hang.sh` did not finish within 500ms");
    assert!(is_gone(scene.pid_in("sleeper.pid")).await);
}

#[tokio::test]
async fn a_command_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let mut scene = Scene::new();
    scene.timeout = Duration::from_millis(300);
    let script = scene.script(
        "stubborn.sh",
        "trap '' TERM\nwhile true; do sleep 0.05; done",
    );
    let started = Instant::now();

    let error = scene.run(&script, &[], &[]).await.unwrap_err();

    assert!(matches!(error, ProcessError::Timeout { .. }), "{error:?}");
    assert!(started.elapsed() >= KILL_GRACE, "{:?}", started.elapsed());
}

#[tokio::test]
async fn cancelling_stops_the_whole_process_group() {
    let scene = Scene::new();
    let script = scene.script("hang.sh", BACKGROUND_SLEEPER);
    let cancel = scene.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });

    let error = scene.run(&script, &[], &[]).await.unwrap_err();

    assert!(matches!(error, ProcessError::Cancelled { .. }), "{error:?}");
    assert!(is_gone(scene.pid_in("sleeper.pid")).await);
}

#[tokio::test]
async fn what_a_command_leaves_running_is_killed_when_it_exits() {
    let scene = Scene::new();
    let script = scene.script("daemon.sh", "sleep 300 &\necho $! > sleeper.pid\necho up");

    let outcome = scene.run(&script, &[], &[]).await.unwrap();

    assert!(outcome.status.success());
    assert_eq!(outcome.output, "up\n");
    assert!(is_gone(scene.pid_in("sleeper.pid")).await);
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error_naming_it() {
    let scene = Scene::new();

    let script = scene.run("./not-there.sh", &["up"], &[]).await.unwrap_err();
    let program = scene
        .run("gitferry-no-such-program", &[], &[])
        .await
        .unwrap_err();

    assert_eq!(
        script.to_string(),
        "cannot run `./not-there.sh up`: no such file or directory"
    );
    assert_eq!(
        program.to_string(),
        "cannot run `gitferry-no-such-program`: no such program on PATH"
    );
}

#[tokio::test]
async fn a_file_that_is_not_executable_is_a_spawn_error() {
    let scene = Scene::new();
    std::fs::write(scene.path("plain.sh"), "#!/bin/sh\necho hi\n").unwrap();

    let error = scene.run("./plain.sh", &[], &[]).await.unwrap_err();

    assert_eq!(
        error.to_string(),
        "cannot run `./plain.sh`: permission denied (is it executable?)"
    );
}

#[tokio::test]
async fn a_missing_interpreter_is_named_as_the_cause() {
    let scene = Scene::new();
    let path = scene.path("odd.sh");
    std::fs::write(&path, "#!/no/such/interpreter\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();

    let error = scene.run("./odd.sh", &[], &[]).await.unwrap_err();

    assert!(error.to_string().contains("`#!` line"), "{error}");
}

#[tokio::test]
async fn huge_output_is_streamed_whole_but_kept_within_the_cap() {
    let mut scene = Scene::new();
    scene.output_cap = 64 * 1024;
    let script = scene.script("flood.sh", "head -c 5000000 /dev/zero | tr '\\0' x");
    let streamed = AtomicUsize::new(0);
    let spec = scene.spec(&script, &[]);

    let outcome = run(&spec, &|text| {
        streamed.fetch_add(text.len(), Ordering::Relaxed);
    })
    .await
    .unwrap();

    assert_eq!(streamed.load(Ordering::Relaxed), 5_000_000);
    assert!(
        outcome.output.len() <= scene.output_cap + 64,
        "{}",
        outcome.output.len()
    );
    assert!(outcome.output.contains("bytes left out"));
}

#[tokio::test]
async fn data_on_standard_output_is_kept_apart_and_whole() {
    let mut scene = Scene::new();
    scene.output_cap = 64 * 1024;
    let script = scene.script(
        "render.sh",
        "echo 'warning: deprecated field' >&2\n\
         head -c 300000 /dev/zero | tr '\\0' x\n\
         echo 'rendered' >&2",
    );
    let streamed = Mutex::new(String::new());
    let spec = scene.spec(&script, &[]);

    let captured = run_capturing_stdout(&spec, 1024 * 1024, &|text| {
        streamed.lock().unwrap().push_str(text);
    })
    .await
    .unwrap();

    assert!(captured.status.success());
    assert_eq!(captured.stdout.len(), 300_000);
    assert!(captured.stdout.iter().all(|byte| *byte == b'x'));
    assert_eq!(captured.stderr, "warning: deprecated field\nrendered\n");
    assert_eq!(streamed.into_inner().unwrap(), captured.stderr);
}

#[tokio::test]
async fn data_over_the_limit_is_refused_rather_than_cut() {
    let scene = Scene::new();
    let script = scene.script("render.sh", "head -c 100000 /dev/zero");
    let spec = scene.spec(&script, &[]);

    let error = run_capturing_stdout(&spec, 10_000, &|_| {})
        .await
        .unwrap_err();

    assert_eq!(
        error.to_string(),
        "`./render.sh` printed more than 10000 bytes on its standard output"
    );
}

#[tokio::test]
async fn a_character_split_across_writes_arrives_whole() {
    let scene = Scene::new();
    let script = scene.script("split.sh", "printf '\\303'\nsleep 0.2\nprintf '\\251\\n'");

    let outcome = scene.run(&script, &[], &[]).await.unwrap();

    assert_eq!(outcome.output, "é\n");
}

#[tokio::test]
async fn a_signal_shows_in_the_status() {
    let scene = Scene::new();
    let script = scene.script("suicide.sh", "kill -9 $$");

    let outcome = scene.run(&script, &[], &[]).await.unwrap();

    assert_eq!(outcome.status.signal(), Some(9));
}

#[test]
fn commands_are_shown_with_arguments_quoted_where_needed() {
    let args = ["up", "two words", "$(rm -rf /)", "it's", ""].map(String::from);

    assert_eq!(
        display_command("./scripts/preview.sh", &args),
        r#"./scripts/preview.sh up 'two words' '$(rm -rf /)' 'it'\''s' ''"#
    );
    assert_eq!(display_command("make", &[]), "make");
}

#[test]
fn an_incomplete_character_at_the_end_is_held_back() {
    assert_eq!(incomplete_utf8_suffix(b"abc"), 0);
    assert_eq!(incomplete_utf8_suffix("é".as_bytes()), 0);
    assert_eq!(incomplete_utf8_suffix(&"é".as_bytes()[..1]), 1);
    assert_eq!(incomplete_utf8_suffix(&"✓".as_bytes()[..2]), 2);
    assert_eq!(incomplete_utf8_suffix(&"🦀".as_bytes()[..3]), 3);
    assert_eq!(incomplete_utf8_suffix(b"\xff"), 0);
}

#[test]
fn a_long_tail_is_cut_to_its_end() {
    let output = format!("{}\nthe reason\n", "é".repeat(5_000));

    let tail = output_tail(&output);

    assert_eq!(tail.chars().count(), TAIL_CHARS);
    assert!(tail.starts_with('…'));
    assert!(tail.ends_with("é\nthe reason"));
}
