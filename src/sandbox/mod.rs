//! What a child process gitferry starts on its own host may touch (design: "Security
//! model"). Pipeline steps of the local runner, `provider: command` deploys and `render`
//! commands all come from a repository, so they are treated as hostile:
//!
//! - **Landlock** ([`landlock`]) limits them to read-only system folders, the run's own folder
//!   (the checkout, a private `HOME` and `TMPDIR`) and the operator's extra paths
//!   ([`policy`]); with ABI 6 and later they cannot signal gitferry or reach its abstract
//!   sockets. `no_new_privs` is set, so no set-uid program gives the rights back.
//! - **Another user** ([`identity`]) when gitferry can switch: root never runs a step.
//! - **No silent fallback.** Without Landlock the commands refuse to run unless the operator
//!   chose `GITFERRY_SANDBOX=off`; [`Sandbox::describe`] says which mode is in force at
//!   start-up and on `/readyz`.
//!
//! A [`Sandbox`] is decided once at start-up; each run gets a [`Confinement`] for its own
//! folder ([`confinement`]), which `process` applies to the child before `exec`.

pub mod confinement;
pub mod identity;
pub mod landlock;
pub mod policy;
pub mod startup;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use confinement::Confinement;
pub use identity::Identity;
pub use policy::Policy;

/// `GITFERRY_SANDBOX`: what the operator asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SandboxSetting {
    /// Landlock; commands refuse to run where the kernel does not offer it.
    Landlock,
    /// No Landlock: children can read and write whatever their user can. The explicit opt-out
    /// for hosts without Landlock; never the default.
    Off,
}

/// Which confinement is in force for this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Landlock at this ABI.
    Landlock { abi: ::landlock::ABI, number: u8 },
    /// The operator opted out.
    Off,
    /// Landlock was asked for and the kernel does not offer it: nothing runs.
    Unavailable,
}

/// Why the sandbox cannot be set up, or a command cannot run in it.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("{setting}: `{}` is not an absolute path", path.display())]
    RelativePath {
        setting: &'static str,
        path: PathBuf,
    },
    #[error("{setting}: `{}` does not exist", path.display())]
    MissingPath {
        setting: &'static str,
        path: PathBuf,
    },
    #[error(
        "the sandbox would expose gitferry's own files: `{}` (system folder, \
         GITFERRY_SANDBOX_READ or GITFERRY_SANDBOX_WRITE) contains `{}`; move the data \
         folder (GITFERRY_DATA_DIR) or the work folder (GITFERRY_WORK_DIR) elsewhere",
        allowed.display(),
        protected.display()
    )]
    Exposes {
        allowed: PathBuf,
        protected: PathBuf,
    },
    #[error("GITFERRY_RUN_AS: there is no user `{0}` on this host")]
    UnknownUser(String),
    #[error(
        "refusing to run a command from the repository without a sandbox: this kernel does not \
         offer Landlock. Run gitferry on Linux 5.13 or later with Landlock enabled, use the \
         kubernetes runner, or set GITFERRY_SANDBOX=off to run such commands unconfined"
    )]
    Unavailable,
    #[error("cannot prepare the run's folder {}: {source}", dir.display())]
    RunDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the work folder {} is not reachable by {user}, whom commands run as: {} (mode {mode:o}) \
         lets only its owner through. Make it (and the folders above it) at least mode 0711, or \
         choose another GITFERRY_WORK_DIR",
        work_dir.display(),
        blocking.display()
    )]
    Unreachable {
        work_dir: PathBuf,
        user: String,
        blocking: PathBuf,
        mode: u32,
    },
    #[error("cannot build the sandbox's rules: {0}")]
    Rules(#[source] std::io::Error),
}

/// The sandbox of this process, decided at start-up; cheap to clone.
#[derive(Debug, Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    mode: Mode,
    policy: Policy,
    run_as: Option<Identity>,
}

impl Sandbox {
    /// The sandbox the operator asked for, on this kernel. `protected` are gitferry's own
    /// folders, which no allowed path may contain.
    pub fn from_settings(
        setting: SandboxSetting,
        read: Option<&str>,
        write: Option<&str>,
        run_as: &str,
        protected: &[&Path],
    ) -> Result<Self, SandboxError> {
        let policy = Policy::new(read, write)?;
        let run_as = identity::resolve(run_as)?;
        policy.check_exposes_none_of(protected)?;
        if run_as.is_none() {
            // A child of gitferry's own user could read gitferry's environment (secrets) from
            // `/proc/<pid>/environ`; Landlock does not stop that once `/proc` is allowed.
            let own = PathBuf::from(format!("/proc/{}", std::process::id()));
            policy.check_exposes_none_of(&[&own])?;
        }
        let mode = match setting {
            SandboxSetting::Off => Mode::Off,
            SandboxSetting::Landlock => match landlock::probe() {
                Some((abi, number)) => Mode::Landlock { abi, number },
                None => Mode::Unavailable,
            },
        };
        Ok(Self::new(mode, policy, run_as))
    }

    pub fn new(mode: Mode, policy: Policy, run_as: Option<Identity>) -> Self {
        Self {
            inner: Arc::new(Inner {
                mode,
                policy,
                run_as,
            }),
        }
    }

    pub fn mode(&self) -> &Mode {
        &self.inner.mode
    }

    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The user children switch to, if they switch.
    pub fn run_as(&self) -> Option<&Identity> {
        self.inner.run_as.as_ref()
    }

    /// One line for the start-up log and `/readyz`, e.g. `sandbox: landlock abi 7, children
    /// run as nobody`.
    pub fn describe(&self) -> String {
        let mode = match &self.inner.mode {
            Mode::Landlock { number, .. } if *number >= 6 => format!("landlock abi {number}"),
            Mode::Landlock { number, .. } => {
                format!("landlock abi {number} (signals and abstract sockets not scoped)")
            }
            Mode::Off => "off (GITFERRY_SANDBOX=off), children are not confined".to_owned(),
            Mode::Unavailable => {
                "unavailable (no Landlock in this kernel): local steps, command deploys and \
                 render commands refuse to run"
                    .to_owned()
            }
        };
        let user = match &self.inner.run_as {
            Some(identity) => format!("children run as {}", identity.name),
            None => format!(
                "children run as gitferry's own user (uid {})",
                nix::unistd::geteuid()
            ),
        };
        format!("sandbox: {mode}, {user}")
    }

    /// Checks at start-up that the run-as user can pass through every folder down to
    /// `work_dir` (where each run's own folder is handed to it), rather than letting every
    /// command fail later with "permission denied".
    pub fn check_reachable(&self, work_dir: &Path) -> Result<(), SandboxError> {
        use std::os::unix::fs::MetadataExt;
        let Some(user) = self.run_as() else {
            return Ok(());
        };
        let real = work_dir
            .canonicalize()
            .map_err(|source| SandboxError::RunDir {
                dir: work_dir.to_owned(),
                source,
            })?;
        for folder in real.ancestors() {
            let Ok(metadata) = std::fs::metadata(folder) else {
                continue;
            };
            let mode = metadata.mode();
            let passes = mode & 0o001 != 0
                || (metadata.uid() == user.uid && mode & 0o100 != 0)
                || (metadata.gid() == user.gid && mode & 0o010 != 0);
            if !passes {
                return Err(SandboxError::Unreachable {
                    work_dir: work_dir.to_owned(),
                    user: user.name.clone(),
                    blocking: folder.to_owned(),
                    mode: mode & 0o7777,
                });
            }
        }
        Ok(())
    }

    /// Whether commands can run at all.
    pub fn is_usable(&self) -> bool {
        self.inner.mode != Mode::Unavailable
    }
}

#[cfg(test)]
mod tests;
