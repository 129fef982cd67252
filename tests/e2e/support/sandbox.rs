//! What scenarios need from gitferry's sandbox: its children run as `nobody` (the tests run as
//! root in CI) confined by Landlock, so a script that reports back to the test (a file of
//! calls, a marker) writes into a folder the sandbox lets it write: one shared folder, given
//! to every test server as GITFERRY_SANDBOX_WRITE, with a fresh subfolder per scenario.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The folder every test server lets its children write (created once per test process).
pub fn shared_writable() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("gitferry-e2e-writable-")
            .tempdir()
            .expect("temp dir")
            .keep();
        open_to_all(&dir);
        dir
    })
}

/// A fresh folder inside [`shared_writable`] that sandboxed children may write.
pub fn writable_dir() -> PathBuf {
    let dir = tempfile::tempdir_in(shared_writable())
        .expect("temp dir")
        .keep();
    open_to_all(&dir);
    dir
}

/// A folder the run-as user may pass through (not list): what gitferry needs above its work
/// folder.
pub fn passable(dir: &Path) {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711)).expect("chmod");
}

fn open_to_all(dir: &Path) {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
}

/// The `gitferry` binary, with its data folder in a fresh temporary folder rather than `data/`
/// in the crate's own folder.
pub fn gitferry_command() -> tokio::process::Command {
    let data = tempfile::tempdir().expect("temp dir").keep().join("data");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_gitferry"));
    command.env("GITFERRY_DATA_DIR", data);
    command
}
