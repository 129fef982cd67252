//! One run's confinement: its folder (the checkout with a private `HOME` and `TMPDIR` beside
//! the repository's files), handed to the run-as user, and the rules applied to each child
//! started in it.

use std::io;
use std::path::{Path, PathBuf};

use super::{Mode, Sandbox, SandboxError, landlock};

/// The private home folder, inside the run's folder but beside the repository's files (a
/// tarball's single top folder is `owner-repo-sha`, so the names cannot meet).
pub const HOME_DIR: &str = ".home";
/// The private temporary folder, likewise.
pub const TMP_DIR: &str = ".tmp";

/// How children of one run are confined. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Confinement {
    run: Option<Run>,
}

#[derive(Debug, Clone)]
struct Run {
    sandbox: Sandbox,
    /// The run's folder: read-write for its children, and all they may write besides the
    /// operator's `GITFERRY_SANDBOX_WRITE`.
    dir: PathBuf,
}

impl Confinement {
    /// No confinement at all: children see gitferry's `HOME` and user and every file. Only for
    /// tests and tools that run nothing from a repository; every run gitferry makes gets
    /// [`Confinement::prepare`].
    pub fn unconfined() -> Self {
        Self { run: None }
    }

    /// Prepares `dir`, a run's fresh folder (already unpacked, or empty), for `sandbox`: a
    /// private home and temporary folder in it, and the whole folder owned by the run-as user
    /// (mode 0700), so that a child that is not root can work in it and nobody else can look.
    pub fn prepare(sandbox: &Sandbox, dir: &Path) -> Result<Self, SandboxError> {
        let failed = |source| SandboxError::RunDir {
            dir: dir.to_owned(),
            source,
        };
        for private in [HOME_DIR, TMP_DIR] {
            std::fs::create_dir(dir.join(private)).map_err(failed)?;
        }
        if let Some(user) = sandbox.run_as() {
            hand_over(dir, user.uid, user.gid).map_err(failed)?;
        }
        set_mode(dir, 0o700).map_err(failed)?;
        Ok(Self {
            run: Some(Run {
                sandbox: sandbox.clone(),
                dir: dir.to_owned(),
            }),
        })
    }

    /// The private home, when confined.
    pub fn home(&self) -> Option<PathBuf> {
        self.run.as_ref().map(|run| run.dir.join(HOME_DIR))
    }

    /// The private temporary folder, when confined.
    pub fn tmp(&self) -> Option<PathBuf> {
        self.run.as_ref().map(|run| run.dir.join(TMP_DIR))
    }

    /// Whether children are confined (or refused) at all.
    pub fn is_confined(&self) -> bool {
        self.run.is_some()
    }

    /// Applies the confinement to a command about to be spawned: the private `HOME` and
    /// `TMPDIR` (over any inherited ones), the run-as user, and the Landlock rules enforced in
    /// the child before `exec`. Refuses where Landlock was asked for and is missing.
    pub fn apply(&self, command: &mut tokio::process::Command) -> Result<(), SandboxError> {
        let Some(run) = &self.run else {
            return Ok(());
        };
        let abi = match run.sandbox.mode() {
            Mode::Unavailable => return Err(SandboxError::Unavailable),
            Mode::Off => None,
            Mode::Landlock { abi, .. } => Some(*abi),
        };
        command
            .env("HOME", run.dir.join(HOME_DIR))
            .env("TMPDIR", run.dir.join(TMP_DIR));
        if let Some(user) = run.sandbox.run_as() {
            // std switches group, then drops supplementary groups, then switches user, in the
            // child before `chdir` and `exec`.
            command.uid(user.uid).gid(user.gid);
        }
        if let Some(abi) = abi {
            let rules =
                landlock::ruleset(abi, run.sandbox.policy(), std::slice::from_ref(&run.dir))
                    .map_err(SandboxError::Rules)?;
            let mut rules = Some(rules);
            let restrict = move || match rules.take() {
                Some(rules) => landlock::enforce(rules),
                // Called once per child; a second call cannot happen, but must not run free.
                None => Err(io::Error::from_raw_os_error(nix::libc::EINVAL)),
            };
            // SAFETY: the closure runs in the forked child before `exec`. It allocates
            // nothing on its success path and makes only the two system calls of
            // `landlock::enforce`; the rules were built (and their files opened) before the
            // fork, and their descriptors are close-on-exec.
            unsafe {
                command.pre_exec(restrict);
            }
        }
        Ok(())
    }
}

/// `chown -Rh uid:gid dir`, without following symbolic links (a checkout may hold links to
/// anywhere; only the links themselves change owner).
fn hand_over(dir: &Path, uid: u32, gid: u32) -> io::Result<()> {
    let mut pending = vec![dir.to_owned()];
    while let Some(path) = pending.pop() {
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid))?;
        if std::fs::symlink_metadata(&path)?.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                pending.push(entry?.path());
            }
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}
