//! The sandbox for real: children started through `process` in a prepared run folder try what
//! a hostile step would, and fail.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::*;
use crate::process::{self, Outcome, ProcessError, Spec};

/// A run folder prepared for a sandbox, and a secret beside it that no child may read.
struct Scene {
    sandbox: Sandbox,
    _root: tempfile::TempDir,
    run_dir: PathBuf,
    secret: PathBuf,
    confinement: Confinement,
}

impl Scene {
    fn new(mode: Mode) -> Self {
        Self::with_user(mode, run_as())
    }

    fn with_user(mode: Mode, user: Option<Identity>) -> Self {
        let root = tempfile::tempdir().unwrap();
        let run_dir = root.path().join("run");
        std::fs::create_dir(&run_dir).unwrap();
        let secret = root.path().join("secret.env");
        std::fs::write(&secret, "GITHUB_WEBHOOK_SECRET=hunter2\n").unwrap();
        let sandbox = Sandbox::new(mode, Policy::new(None, None).unwrap(), user);
        // The test's temporary folder is 0700 root's: the run-as user must pass through it.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let confinement = Confinement::prepare(&sandbox, &run_dir).unwrap();
        Self {
            sandbox,
            _root: root,
            run_dir,
            secret,
            confinement,
        }
    }

    /// A scene with Landlock, or `None` (and a note) on a kernel without it.
    fn landlock() -> Option<Self> {
        Self::landlock_as(run_as())
    }

    fn landlock_as(user: Option<Identity>) -> Option<Self> {
        let Some((abi, number)) = landlock::probe() else {
            eprintln!("skipped: this kernel has no Landlock (CI has it)");
            return None;
        };
        Some(Self::with_user(Mode::Landlock { abi, number }, user))
    }

    async fn sh(&self, script: &str) -> Result<Outcome, ProcessError> {
        let args = ["-c".to_owned(), script.to_owned()];
        let cancel = CancellationToken::new();
        let spec = Spec {
            program: "sh",
            args: &args,
            cwd: &self.run_dir,
            env: &[],
            timeout: Duration::from_secs(30),
            cancel: &cancel,
            output_cap: 64 * 1024,
            sandbox: &self.confinement,
        };
        process::run(&spec, &|_| {}).await
    }
}

/// `nobody` when the tests run as root (as in CI), else gitferry's own user.
fn run_as() -> Option<Identity> {
    identity::resolve("nobody").unwrap()
}

#[test]
fn the_mode_in_force_is_said_in_one_line() {
    let policy = Policy::new(None, None).unwrap();
    let nobody = Identity {
        name: "nobody".into(),
        uid: 65534,
        gid: 65534,
    };
    let landlock = Mode::Landlock {
        abi: ::landlock::ABI::V7,
        number: 7,
    };

    let confined = Sandbox::new(landlock, policy.clone(), Some(nobody));
    let off = Sandbox::new(Mode::Off, policy.clone(), None);
    let unavailable = Sandbox::new(Mode::Unavailable, policy, None);

    assert_eq!(
        confined.describe(),
        "sandbox: landlock abi 7, children run as nobody"
    );
    assert!(
        off.describe()
            .starts_with("sandbox: off (GITFERRY_SANDBOX=off)")
    );
    assert!(unavailable.describe().contains("refuse to run"));
    assert!(confined.is_usable() && off.is_usable() && !unavailable.is_usable());
}

#[test]
fn asking_for_landlock_gets_it_or_says_it_is_unavailable_never_off() {
    let sandbox =
        Sandbox::from_settings(SandboxSetting::Landlock, None, None, "nobody", &[]).unwrap();

    match landlock::probe() {
        Some((_, number)) => {
            assert!(matches!(sandbox.mode(), Mode::Landlock { number: n, .. } if *n == number))
        }
        None => assert_eq!(sandbox.mode(), &Mode::Unavailable),
    }
    let off = Sandbox::from_settings(SandboxSetting::Off, None, None, "nobody", &[]).unwrap();
    assert_eq!(off.mode(), &Mode::Off);
}

#[test]
fn an_operator_path_exposing_gitferrys_data_stops_the_start() {
    let data = tempfile::tempdir().unwrap();
    let private = data.path().join("private");
    std::fs::create_dir(&private).unwrap();
    let read = data.path().display().to_string();

    let error = Sandbox::from_settings(
        SandboxSetting::Landlock,
        Some(&read),
        None,
        "nobody",
        &[&private],
    )
    .unwrap_err();

    assert!(matches!(error, SandboxError::Exposes { .. }), "{error}");
}

#[test]
fn a_work_folder_the_run_as_user_cannot_reach_stops_the_start() {
    let nobody = Identity {
        name: "nobody".into(),
        uid: 65534,
        gid: 65534,
    };
    let sandbox = Sandbox::new(Mode::Off, Policy::new(None, None).unwrap(), Some(nobody));
    let closed = tempfile::tempdir().unwrap();
    let work = closed.path().join("work");
    std::fs::create_dir(&work).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = |mode| std::fs::Permissions::from_mode(mode);
    std::fs::set_permissions(closed.path(), mode(0o700)).unwrap();

    let error = sandbox.check_reachable(&work).unwrap_err();
    std::fs::set_permissions(closed.path(), mode(0o711)).unwrap();

    assert!(matches!(error, SandboxError::Unreachable { .. }), "{error}");
    assert!(error.to_string().contains("mode 700"), "{error}");
    sandbox.check_reachable(&work).unwrap();
}

#[test]
fn proc_is_refused_while_children_keep_gitferrys_user() {
    let own_user = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .unwrap()
        .name;

    let error = Sandbox::from_settings(
        SandboxSetting::Landlock,
        Some("/proc"),
        None,
        &own_user,
        &[],
    )
    .unwrap_err();

    assert!(matches!(error, SandboxError::Exposes { .. }), "{error}");
}

#[tokio::test]
async fn without_landlock_commands_refuse_to_run_and_say_how_to_opt_out() {
    let scene = Scene::new(Mode::Unavailable);
    let marker = scene.run_dir.join("ran");

    let error = scene
        .sh(&format!("touch {}", marker.display()))
        .await
        .unwrap_err();

    assert!(matches!(error, ProcessError::Sandbox { .. }), "{error}");
    assert!(
        error.to_string().contains("GITFERRY_SANDBOX=off"),
        "{error}"
    );
    assert!(!marker.exists(), "nothing ran");
}

#[tokio::test]
async fn with_the_sandbox_off_commands_run_with_a_private_home_all_the_same() {
    let scene = Scene::new(Mode::Off);

    let outcome = scene.sh("echo \"$HOME|$TMPDIR\"").await.unwrap();

    let home = scene.confinement.home().unwrap();
    let tmp = scene.confinement.tmp().unwrap();
    assert_eq!(
        outcome.output,
        format!("{}|{}\n", home.display(), tmp.display())
    );
}

#[tokio::test]
async fn a_confined_child_works_in_its_folder_home_and_tmp() {
    let Some(scene) = Scene::landlock() else {
        return;
    };

    let outcome = scene
        .sh(
            "echo built > out.txt && cat out.txt && touch \"$HOME/.cache\" \"$TMPDIR/x\" \
             && ls /usr/bin/env >/dev/null && head -c 4 /dev/urandom | wc -c",
        )
        .await
        .unwrap();

    assert!(outcome.status.success(), "{}", outcome.output);
    assert_eq!(outcome.output, "built\n4\n");
}

#[tokio::test]
async fn a_confined_child_cannot_read_or_write_outside_its_folder() {
    let Some(scene) = Scene::landlock() else {
        return;
    };
    let outside = scene.secret.with_file_name("planted");

    let read = scene
        .sh(&format!("cat {}", scene.secret.display()))
        .await
        .unwrap();
    let write = scene
        .sh(&format!("echo x > {}", outside.display()))
        .await
        .unwrap();
    let tmp = scene
        .sh("touch /tmp/gitferry-sandbox-escape")
        .await
        .unwrap();
    let proc = scene
        .sh("cat /proc/1/environ; cat /proc/self/status")
        .await
        .unwrap();

    assert!(
        !read.status.success() && read.output.contains("Permission denied"),
        "{}",
        read.output
    );
    assert!(!read.output.contains("hunter2"));
    assert!(
        !write.status.success() && !outside.exists(),
        "{}",
        write.output
    );
    assert!(!tmp.status.success(), "{}", tmp.output);
    assert!(
        !proc.status.success() && proc.output.contains("Permission denied"),
        "{}",
        proc.output
    );
}

#[tokio::test]
async fn a_confined_child_cannot_signal_gitferry_even_as_its_own_user() {
    // gitferry's own user, so that only Landlock's signal scope stands in the way.
    let Some(scene) = Scene::landlock_as(None) else {
        return;
    };
    let Mode::Landlock { number, .. } = scene.sandbox.mode() else {
        unreachable!()
    };
    if *number < 6 {
        eprintln!("skipped: signals are scoped from Landlock ABI 6 on");
        return;
    }

    let outcome = scene
        .sh(&format!("kill -TERM {}", std::process::id()))
        .await
        .unwrap();

    assert!(!outcome.status.success(), "{}", outcome.output);
    assert!(
        outcome.output.contains("not permitted"),
        "{}",
        outcome.output
    );
}

#[tokio::test]
async fn root_hands_the_child_to_the_run_as_user() {
    let Some(scene) = Scene::landlock() else {
        return;
    };
    let Some(user) = scene.sandbox.run_as() else {
        eprintln!("skipped: only root switches users");
        return;
    };

    let outcome = scene.sh("id -u; id -G").await.unwrap();

    assert_eq!(outcome.output, format!("{}\n{}\n", user.uid, user.gid));
}

#[tokio::test]
async fn git_works_in_the_sandbox_with_its_private_home() {
    let Some(scene) = Scene::landlock() else {
        return;
    };

    let outcome = scene
        .sh(
            "git init -q repo && cd repo && git config user.email ci@example.com \
             && git config user.name ci && echo hi > a && git add a \
             && git commit -qm first && git log --format=%s && git config --global core.pager cat",
        )
        .await
        .unwrap();

    assert!(outcome.status.success(), "{}", outcome.output);
    assert_eq!(outcome.output, "first\n");
    assert!(
        scene
            .confinement
            .home()
            .unwrap()
            .join(".gitconfig")
            .is_file()
    );
}
