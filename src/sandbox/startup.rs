//! The sandbox of a starting server: decided from the settings, checked against where
//! gitferry keeps its own files, and said in the log.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tracing::info;

use super::Sandbox;
use crate::settings::Settings;

/// The sandbox children get, said in the log: a missing Landlock is an error there (commands
/// from repositories will refuse to run), not a reason to stop serving webhooks.
pub fn from_settings(settings: &Settings) -> anyhow::Result<Sandbox> {
    let work_dir = settings.work_dir();
    let own_files = own_files(settings);
    let protected: Vec<&Path> = own_files.iter().map(PathBuf::as_path).collect();
    let sandbox = Sandbox::from_settings(
        settings.sandbox,
        settings.sandbox_read.as_deref(),
        settings.sandbox_write.as_deref(),
        &settings.run_as,
        &protected,
    )?;
    std::fs::create_dir_all(&work_dir)
        .with_context(|| format!("cannot create the work folder {}", work_dir.display()))?;
    sandbox.check_reachable(&work_dir)?;
    if sandbox.is_usable() {
        info!("{}", sandbox.describe());
    } else {
        tracing::error!("{}", sandbox.describe());
    }
    Ok(sandbox)
}

/// What no sandboxed command may reach: the private data folder, every run's checkout, and
/// the store, `.env` and key file wherever the operator put them.
fn own_files(settings: &Settings) -> Vec<PathBuf> {
    let mut files = vec![
        settings.data_dir.join(crate::data_dir::PRIVATE),
        settings.work_dir(),
        settings.env_file(),
    ];
    files.extend(settings.github_private_key_path.clone());
    let url = settings.database_url();
    if let Some(file) = url.strip_prefix("sqlite://") {
        let file = file.split('?').next().unwrap_or_default();
        if !file.is_empty() && !file.starts_with(':') {
            files.push(PathBuf::from(file));
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitferrys_own_files_are_protected_wherever_the_operator_put_them() {
        let settings = Settings::parse_from([
            "gitferry",
            "--data-dir",
            "/srv/gitferry",
            "--database-url",
            "sqlite:///opt/store/gitferry.db?mode=rwc",
            "--env-file",
            "/etc/gitferry/env",
            "--github-private-key-path",
            "/opt/keys/app.pem",
        ]);

        let files = own_files(&settings);

        for expected in [
            "/srv/gitferry/private",
            "/srv/gitferry/work",
            "/etc/gitferry/env",
            "/opt/keys/app.pem",
            "/opt/store/gitferry.db",
        ] {
            assert!(
                files.contains(&PathBuf::from(expected)),
                "{expected}: {files:?}"
            );
        }
    }

    #[test]
    fn a_store_under_a_readable_system_folder_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::parse_from([
            "gitferry".to_owned(),
            "--data-dir".to_owned(),
            dir.path().display().to_string(),
            "--database-url".to_owned(),
            "sqlite:///usr/local/share/gitferry.db".to_owned(),
        ]);

        let error = from_settings(&settings).unwrap_err();

        assert!(error.to_string().contains("would expose"), "{error}");
    }
}
