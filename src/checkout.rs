//! A commit's files on disk: its tarball unpacked into a fresh directory that is removed when
//! the [`Checkout`] is dropped. Deploys (and pipeline steps) run in one; nothing is shared
//! between runs, so one run cannot see or spoil another's files.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use crate::deploy::Workspace;
use crate::sandbox::{Confinement, Sandbox, SandboxError};

/// Most bytes a checkout may unpack to: a tarball that inflates beyond it (a zip bomb, or a
/// repository far larger than a deploy needs) is refused instead of filling the disk.
pub const MAX_UNPACKED_BYTES: u64 = 2 * 1024 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("cannot create a working directory under {dir}: {source}")]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("the commit's tarball cannot be unpacked: {0}")]
    Unpack(String),
    #[error("the commit's files exceed {} MB unpacked", MAX_UNPACKED_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the unpacking task failed: {0}")]
    Join(String),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

/// An unpacked commit; its directory is removed on drop.
#[derive(Debug)]
pub struct Checkout {
    dir: PathBuf,
    workspace: Workspace,
}

impl Checkout {
    /// Unpacks a GitHub tarball (one top-level folder) into a new directory under `parent`,
    /// prepared for `sandbox` (see [`Confinement::prepare`]).
    pub async fn unpack(
        tarball: std::sync::Arc<Vec<u8>>,
        parent: &Path,
        sandbox: &Sandbox,
    ) -> Result<Self, CheckoutError> {
        let parent = parent.to_owned();
        let sandbox = sandbox.clone();
        tokio::task::spawn_blocking(move || {
            let mut checkout = unpack_blocking(&tarball, &parent, MAX_UNPACKED_BYTES)?;
            checkout.confine(&sandbox)?;
            Ok(checkout)
        })
        .await
        .map_err(|e| CheckoutError::Join(e.to_string()))?
    }

    /// An empty checkout, for operations that have no commit to work from (destroying an
    /// environment whose commit is gone).
    pub fn empty(parent: &Path, sandbox: &Sandbox) -> Result<Self, CheckoutError> {
        let dir = fresh_dir(parent)?;
        let mut checkout = Self {
            workspace: Workspace::new(dir.clone()),
            dir,
        };
        checkout.confine(sandbox)?;
        Ok(checkout)
    }

    /// Gives the checkout's folder a private home and temporary folder and hands it to the
    /// sandbox's user; commands run in the workspace are confined to it from then on.
    fn confine(&mut self, sandbox: &Sandbox) -> Result<(), CheckoutError> {
        let confinement = Confinement::prepare(sandbox, &self.dir)?;
        self.workspace = Workspace::confined(self.workspace.root().to_owned(), confinement);
        Ok(())
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %err, "cannot remove a checkout");
        }
    }
}

fn fresh_dir(parent: &Path) -> Result<PathBuf, CheckoutError> {
    let create = |source| CheckoutError::CreateDir {
        dir: parent.to_owned(),
        source,
    };
    std::fs::create_dir_all(parent).map_err(create)?;
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| create(std::io::Error::other(e.to_string())))?;
    let dir = parent.join(format!("checkout-{}", hex::encode(random)));
    std::fs::create_dir(&dir).map_err(create)?;
    Ok(dir)
}

fn unpack_blocking(tarball: &[u8], parent: &Path, limit: u64) -> Result<Checkout, CheckoutError> {
    let dir = fresh_dir(parent)?;
    // From here on, dropping `checkout` removes the directory, also on error.
    let mut checkout = Checkout {
        workspace: Workspace::new(dir.clone()),
        dir: dir.clone(),
    };
    let unpack = |e: std::io::Error| CheckoutError::Unpack(e.to_string());
    let mut archive = tar::Archive::new(GzDecoder::new(tarball));
    archive.set_preserve_permissions(true);
    let mut total = 0u64;
    let mut top: Option<PathBuf> = None;
    for entry in archive.entries().map_err(unpack)? {
        let mut entry = entry.map_err(unpack)?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            // GitHub's tarballs start with a global header holding the commit id.
            let mut ignored = Vec::new();
            entry.read_to_end(&mut ignored).map_err(unpack)?;
            continue;
        }
        total = total.saturating_add(entry.header().size().unwrap_or(0));
        if total > limit {
            return Err(CheckoutError::TooLarge);
        }
        let path = entry.path().map_err(unpack)?.into_owned();
        if let Some(first) = path.components().next() {
            top.get_or_insert_with(|| PathBuf::from(first.as_os_str()));
        }
        // `unpack_in` refuses entries that would land outside `dir` (`..`, absolute paths,
        // writing through a symlink); `false` means it skipped such an entry.
        if !entry.unpack_in(&dir).map_err(unpack)? {
            return Err(CheckoutError::Unpack(format!(
                "the entry {} points outside the checkout",
                path.display()
            )));
        }
    }
    if let Some(top) = top {
        let root = dir.join(top);
        if root.is_dir() {
            checkout.workspace = Workspace::new(root);
        }
    }
    Ok(checkout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;

    fn off() -> Sandbox {
        let policy = crate::sandbox::Policy::new(None, None).unwrap();
        Sandbox::new(crate::sandbox::Mode::Off, policy, None)
    }

    #[tokio::test]
    async fn a_checkout_has_a_private_home_and_tmp_beside_the_repository_owned_by_the_run_as_user()
    {
        use std::os::unix::fs::MetadataExt;
        let parent = tempfile::tempdir().unwrap();
        let nobody = crate::sandbox::Identity {
            name: "nobody".into(),
            uid: 65534,
            gid: 65534,
        };
        let run_as = nix::unistd::geteuid().is_root().then_some(nobody);
        let sandbox = Sandbox::new(crate::sandbox::Mode::Off, off().policy().clone(), run_as);
        let bytes = tarball(&[("octo-shop-abc1234/app/main.rs", b"fn main() {}", 0o644)]);

        let checkout = Checkout::unpack(bytes.into(), parent.path(), &sandbox)
            .await
            .unwrap();

        let confinement = checkout.workspace().confinement();
        let home = confinement.home().unwrap();
        assert_eq!(home.parent(), checkout.workspace().root().parent());
        assert!(home.is_dir() && confinement.tmp().unwrap().is_dir());
        let run_dir = std::fs::metadata(home.parent().unwrap()).unwrap();
        assert_eq!(run_dir.mode() & 0o777, 0o700);
        if let Some(user) = sandbox.run_as() {
            let file = checkout.workspace().root().join("app/main.rs");
            for path in [home.as_path(), file.as_path(), home.parent().unwrap()] {
                assert_eq!(std::fs::metadata(path).unwrap().uid(), user.uid, "{path:?}");
            }
        }
    }

    fn tarball(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        for (path, data, mode) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(*mode);
            header.set_cksum();
            tar.append_data(&mut header, path, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[tokio::test]
    async fn the_tarballs_top_folder_becomes_the_workspace_and_modes_are_kept() {
        let parent = tempfile::tempdir().unwrap();
        let bytes = tarball(&[
            (
                "octo-shop-abc1234/deploy.sh",
                b"#!/bin/sh\necho hi\n",
                0o755,
            ),
            (
                "octo-shop-abc1234/k8s/app.yaml",
                b"kind: ConfigMap\n",
                0o644,
            ),
        ]);
        let checkout = Checkout::unpack(bytes.into(), parent.path(), &off())
            .await
            .unwrap();
        let root = checkout.workspace().root().to_owned();
        assert!(root.ends_with("octo-shop-abc1234"));
        assert!(root.join("k8s/app.yaml").is_file());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(root.join("deploy.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        drop(checkout);
        assert!(!root.exists(), "dropped checkouts are removed");
    }

    #[tokio::test]
    async fn a_tarball_inflating_past_the_limit_is_refused_and_leaves_nothing() {
        let parent = tempfile::tempdir().unwrap();
        let big = vec![0u8; 4096];
        let bytes = tarball(&[("top/a", &big, 0o644), ("top/b", &big, 0o644)]);
        let err = unpack_blocking(&bytes, parent.path(), 5000).unwrap_err();
        assert!(matches!(err, CheckoutError::TooLarge));
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn garbage_is_a_clear_error() {
        let parent = tempfile::tempdir().unwrap();
        let err = Checkout::unpack(b"not a tarball".to_vec().into(), parent.path(), &off())
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the commit's tarball cannot be unpacked"),
            "{err}"
        );
    }
}
