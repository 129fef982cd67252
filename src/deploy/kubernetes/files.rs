//! Reading the manifests folder of the deployed commit. The files come from the pull
//! request, so the walk stays inside the workspace (a symbolic link out of it is refused, a
//! linked folder is not followed) and stops at a size limit instead of reading without end.

use std::path::{Path, PathBuf};

use super::manifests::{self, Manifest};
use crate::deploy::DeployError;

/// Most manifest bytes read from one folder.
pub const MAX_TOTAL_BYTES: u64 = 32 * 1024 * 1024;

/// Every object in the `*.yaml`, `*.yml` and `*.json` files under `folder` (relative to the
/// workspace root), files in sorted path order.
pub fn read(root: &Path, folder: &str) -> Result<Vec<Manifest>, DeployError> {
    let dir = root.join(folder);
    if !dir.is_dir() {
        return Err(DeployError::Manifests(format!(
            "the folder `{folder}` does not exist in this commit"
        )));
    }
    let real_root = root.canonicalize().map_err(|e| {
        DeployError::Manifests(format!("cannot read the workspace {}: {e}", root.display()))
    })?;
    if !dir.canonicalize().is_ok_and(|d| d.starts_with(&real_root)) {
        return Err(DeployError::Manifests(format!(
            "the folder `{folder}` leads outside the repository"
        )));
    }
    let mut files = Vec::new();
    walk(&real_root, root, &dir, &mut files)?;
    files.sort();

    let mut total = 0u64;
    let mut objects = Vec::new();
    for path in files {
        let shown = relative(root, &path);
        let size = std::fs::metadata(&path)
            .map(|m| m.len())
            .unwrap_or_default();
        total += size;
        if total > MAX_TOTAL_BYTES {
            return Err(DeployError::Manifests(format!(
                "the manifests under `{folder}` are larger than {} MiB (stopped at {shown})",
                MAX_TOTAL_BYTES / (1024 * 1024)
            )));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| DeployError::Manifests(format!("cannot read {shown}: {e}")))?;
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        objects.extend(manifests::parse(&shown, &text, json)?);
    }
    Ok(objects)
}

fn walk(
    real_root: &Path,
    root: &Path,
    dir: &Path,
    out: &mut Vec<PathBuf>,
) -> Result<(), DeployError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| DeployError::Manifests(format!("cannot list {}: {e}", relative(root, dir))))?;
    for entry in entries {
        let entry = entry.map_err(|e| {
            DeployError::Manifests(format!("cannot list {}: {e}", relative(root, dir)))
        })?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| {
            DeployError::Manifests(format!("cannot read {}: {e}", relative(root, &path)))
        })?;
        if kind.is_symlink() {
            let target = path
                .canonicalize()
                .ok()
                .filter(|t| t.starts_with(real_root));
            match target {
                None => {
                    return Err(DeployError::Manifests(format!(
                        "{} is a symbolic link that leads outside the repository",
                        relative(root, &path)
                    )));
                }
                // Linked folders are not followed: a link to a parent would never end.
                Some(target) if target.is_dir() => continue,
                Some(_) if is_manifest(&path) => out.push(path),
                Some(_) => {}
            }
        } else if kind.is_dir() {
            walk(real_root, root, &path, out)?;
        } else if kind.is_file() && is_manifest(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_manifest(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["yaml", "yml", "json"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    })
}

/// The path as the repository names it, for messages.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ";

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn files_are_read_recursively_in_sorted_order_and_others_ignored() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "deploy/b.yaml", &format!("{CM}b\n"));
        write(dir.path(), "deploy/a/z.yml", &format!("{CM}az\n"));
        write(
            dir.path(),
            "deploy/c.json",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#,
        );
        write(dir.path(), "deploy/README.md", "not a manifest");
        let found = read(dir.path(), "deploy").unwrap();
        let names: Vec<_> = found.iter().map(Manifest::name).collect();
        assert_eq!(names, ["az", "b", "c"]);
        assert_eq!(found[0].origin, "deploy/a/z.yml, document 1");
    }

    #[test]
    fn a_missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), "deploy/preview").unwrap_err().to_string();
        assert!(
            err.contains("the folder `deploy/preview` does not exist"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_repository_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret.yaml", &format!("{CM}stolen\n"));
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "deploy/ok.yaml", &format!("{CM}ok\n"));
        std::os::unix::fs::symlink(
            outside.path().join("secret.yaml"),
            dir.path().join("deploy/x.yaml"),
        )
        .unwrap();
        let err = read(dir.path(), "deploy").unwrap_err().to_string();
        assert!(
            err.contains("deploy/x.yaml is a symbolic link that leads outside"),
            "{err}"
        );
    }
}
