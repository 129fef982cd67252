//! What a sandboxed child may touch: read-only system folders, the operator's extra paths, the
//! run's own folder. Plain data and checks, no system calls beyond `stat`, so the rules can be
//! tested (and shown) without a kernel that has Landlock.

use std::path::{Path, PathBuf};

use super::SandboxError;

/// Folders every child may read and execute from: the programs, libraries and configuration
/// that `sh`, `git`, `make` or a system `python3` need. Missing ones (no `/lib64` on some
/// distributions) are skipped.
pub const SYSTEM_READ: &[&str] = &["/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc"];

/// Device files every child may read and write: the harmless sinks and sources tools expect.
/// The rest of `/dev` (disks, `/dev/mem`, ttys) stays out of reach.
pub const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// The paths of a sandbox, before any run: what is readable and what is writable besides the
/// run's own folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Readable and executable (system folders and `GITFERRY_SANDBOX_READ`).
    pub read: Vec<PathBuf>,
    /// Readable, writable and executable (`GITFERRY_SANDBOX_WRITE`), in every run.
    pub write: Vec<PathBuf>,
    /// Device files, readable and writable.
    pub devices: Vec<PathBuf>,
}

impl Policy {
    /// The system folders and devices that exist here, plus the operator's paths (colon
    /// separated, as in `PATH`). An operator path must be absolute and exist: a typo would
    /// otherwise fail every run later with a less clear error.
    pub fn new(extra_read: Option<&str>, extra_write: Option<&str>) -> Result<Self, SandboxError> {
        let existing = |paths: &[&str]| -> Vec<PathBuf> {
            paths
                .iter()
                .map(PathBuf::from)
                .filter(|path| path.exists())
                .collect()
        };
        let mut read = existing(SYSTEM_READ);
        read.extend(operator_paths("GITFERRY_SANDBOX_READ", extra_read)?);
        Ok(Self {
            read,
            write: operator_paths("GITFERRY_SANDBOX_WRITE", extra_write)?,
            devices: existing(DEVICES),
        })
    }

    /// Refuses a policy that would let a child reach gitferry's own files: a readable or
    /// writable path that is (or contains) one of `protected` (the private data folder, the
    /// work folder holding every run's checkout).
    pub fn check_exposes_none_of(&self, protected: &[&Path]) -> Result<(), SandboxError> {
        for allowed in self.read.iter().chain(&self.write) {
            let allowed_real = real(allowed);
            for &guarded in protected {
                if real(guarded).starts_with(&allowed_real) {
                    return Err(SandboxError::Exposes {
                        allowed: allowed.clone(),
                        protected: guarded.to_owned(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A path with its symbolic links resolved where it exists, so that `/data` and a link to it
/// compare equal; made absolute otherwise (a store file not created yet).
fn real(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_owned())
}

/// Parses a colon-separated list of absolute, existing paths; empty entries are ignored.
pub fn operator_paths(
    setting: &'static str,
    value: Option<&str>,
) -> Result<Vec<PathBuf>, SandboxError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(':')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            let path = PathBuf::from(entry.trim());
            if !path.is_absolute() {
                return Err(SandboxError::RelativePath { setting, path });
            }
            if !path.exists() {
                return Err(SandboxError::MissingPath { setting, path });
            }
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_folders_and_the_operators_paths_are_readable() {
        let tool = tempfile::tempdir().unwrap();
        let extra = tool.path().display().to_string();

        let policy = Policy::new(Some(&format!("{extra}:")), None).unwrap();

        assert!(policy.read.contains(&PathBuf::from("/usr")));
        assert!(policy.read.contains(&PathBuf::from("/etc")));
        assert!(policy.read.contains(&tool.path().to_owned()));
        assert!(policy.write.is_empty());
        assert!(policy.devices.contains(&PathBuf::from("/dev/null")));
        assert!(!policy.read.iter().any(|path| path.starts_with("/proc")));
        assert!(!policy.read.iter().any(|path| path == Path::new("/")));
    }

    #[test]
    fn several_writable_paths_are_split_on_colons() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let value = format!("{}:{}", a.path().display(), b.path().display());

        let policy = Policy::new(None, Some(&value)).unwrap();

        assert_eq!(policy.write, vec![a.path().to_owned(), b.path().to_owned()]);
    }

    #[test]
    fn a_relative_or_missing_path_is_a_clear_error() {
        let relative = Policy::new(Some("tools/bin"), None).unwrap_err();
        let missing = Policy::new(None, Some("/no/such/gitferry/path")).unwrap_err();

        assert_eq!(
            relative.to_string(),
            "GITFERRY_SANDBOX_READ: `tools/bin` is not an absolute path"
        );
        assert_eq!(
            missing.to_string(),
            "GITFERRY_SANDBOX_WRITE: `/no/such/gitferry/path` does not exist"
        );
    }

    #[test]
    fn a_path_that_would_expose_gitferrys_data_is_refused() {
        let data = tempfile::tempdir().unwrap();
        let private = data.path().join("private");
        std::fs::create_dir(&private).unwrap();
        let parent = data.path().display().to_string();

        let policy = Policy::new(Some(&parent), None).unwrap();
        let error = policy.check_exposes_none_of(&[&private]).unwrap_err();

        assert!(matches!(error, SandboxError::Exposes { .. }), "{error}");
        assert!(
            error
                .to_string()
                .contains("GITFERRY_SANDBOX_READ or GITFERRY_SANDBOX_WRITE")
        );
    }

    #[test]
    fn a_path_beside_gitferrys_data_is_fine() {
        let (data, tools) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let tools = tools.path().display().to_string();

        let policy = Policy::new(Some(&tools), Some(&tools)).unwrap();

        policy.check_exposes_none_of(&[data.path()]).unwrap();
    }
}
