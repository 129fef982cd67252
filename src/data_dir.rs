//! gitferry's data folder (`GITFERRY_DATA_DIR`): where its own files live by default, kept
//! apart from everything a child process may reach.
//!
//! ```text
//! <data>/          0711  gitferry's; others may pass through but not list it
//! <data>/private/  0700  the SQLite store and the `.env` the setup page writes
//! <data>/work/     0711  one checkout per run, each 0700 and owned by the run-as user
//! ```
//!
//! The work folder must be reachable by the user steps run as, so the data folder cannot be
//! `0700` itself; what must stay unreadable (store, credentials) is one level down, in a
//! folder only gitferry's user can enter, whatever modes SQLite gives its files.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The folder holding the store and credentials.
pub const PRIVATE: &str = "private";
/// The folder holding the runs' checkouts.
pub const WORK: &str = "work";

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("cannot create {}: {source}", path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error(
        "{} belongs to uid {owner}, not to gitferry's user (uid {expected}): another user could \
         read or replace gitferry's store and credentials there. Give it to gitferry's user \
         or choose another GITFERRY_DATA_DIR",
        path.display()
    )]
    Owner {
        path: PathBuf,
        owner: u32,
        expected: u32,
    },
    #[error("{} is not a folder", path.display())]
    NotAFolder { path: PathBuf },
}

/// Creates the data folder's layout under `root` (or checks the existing one): each folder
/// owned by gitferry's user and set to its mode.
pub fn prepare(root: &Path) -> Result<(), DataDirError> {
    ensure(root, 0o711)?;
    ensure(&root.join(PRIVATE), 0o700)?;
    ensure(&root.join(WORK), 0o711)
}

/// Makes `path` a folder with exactly `mode`, refusing one that another user owns.
fn ensure(path: &Path, mode: u32) -> Result<(), DataDirError> {
    let create = |source| DataDirError::Create {
        path: path.to_owned(),
        source,
    };
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
    {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(create(error)),
    }
    let metadata = std::fs::symlink_metadata(path).map_err(create)?;
    if !metadata.is_dir() {
        return Err(DataDirError::NotAFolder {
            path: path.to_owned(),
        });
    }
    let expected = nix::unistd::geteuid().as_raw();
    if metadata.uid() != expected {
        return Err(DataDirError::Owner {
            path: path.to_owned(),
            owner: metadata.uid(),
            expected,
        });
    }
    if metadata.mode() & 0o7777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(create)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn a_new_data_folder_keeps_the_store_private_and_the_work_folder_reachable() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("data");

        prepare(&root).unwrap();

        assert_eq!(mode(&root), 0o711);
        assert_eq!(mode(&root.join(PRIVATE)), 0o700);
        assert_eq!(mode(&root.join(WORK)), 0o711);
    }

    #[test]
    fn loose_modes_of_an_existing_data_folder_are_tightened() {
        let root = tempfile::tempdir().unwrap();
        let private = root.path().join(PRIVATE);
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o755)).unwrap();

        prepare(root.path()).unwrap();

        assert_eq!(mode(&private), 0o700);
    }

    #[test]
    fn a_data_folder_owned_by_another_user_is_refused() {
        if !nix::unistd::geteuid().is_root() {
            return; // making a folder another user owns needs root, as CI runs it
        }
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::chown(root.path(), Some(65534), Some(65534)).unwrap();

        let error = prepare(root.path()).unwrap_err();

        assert!(
            matches!(error, DataDirError::Owner { owner: 65534, .. }),
            "{error}"
        );
    }

    #[test]
    fn a_file_in_the_way_is_a_clear_error() {
        let parent = tempfile::tempdir().unwrap();
        let file = parent.path().join("data");
        std::fs::write(&file, "").unwrap();

        let error = prepare(&file).unwrap_err();

        assert!(matches!(error, DataDirError::NotAFolder { .. }), "{error}");
    }
}
