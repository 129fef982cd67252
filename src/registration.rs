//! Registering the GitHub App from `app-manifest.yml` and keeping what GitHub sends back.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use secrecy::ExposeSecret;

use crate::app::AppContext;
use crate::github::{AppCredentials, ManifestConversion};

/// The manifest as shipped; URLs are filled in per server.
const MANIFEST_YAML: &str = include_str!("../app-manifest.yml");

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("app-manifest.yml is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("app-manifest.yml must be a mapping")]
    NotAMapping,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot write the App credentials to {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the private key GitHub returned is unusable: {0}")]
    Key(#[from] crate::github::GithubError),
}

/// The manifest to post to GitHub, pointing webhooks and redirects at `public_url`.
pub fn app_manifest(public_url: &str) -> Result<serde_json::Value, ManifestError> {
    let mut manifest: serde_json::Value = serde_yaml_ng::from_str(MANIFEST_YAML)?;
    let object = manifest.as_object_mut().ok_or(ManifestError::NotAMapping)?;
    object.insert("url".into(), public_url.into());
    object.insert(
        "hook_attributes".into(),
        serde_json::json!({ "url": format!("{public_url}/api/github/webhooks"), "active": true }),
    );
    object.insert(
        "redirect_url".into(),
        format!("{public_url}/setup/callback").into(),
    );
    object.insert("setup_url".into(), format!("{public_url}/").into());
    Ok(manifest)
}

/// The keys gitferry writes; other lines of an existing file are kept as they are.
const KEYS: &[&str] = &[
    "GITHUB_APP_ID",
    "GITHUB_APP_SLUG",
    "GITHUB_PRIVATE_KEY",
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_CLIENT_ID",
    "GITHUB_CLIENT_SECRET",
];

/// Writes the App's credentials to a dotenv file readable only by this user (0600), through
/// a temporary file and a rename, so a crash never leaves half a key behind.
pub fn save_credentials(path: &Path, app: &ManifestConversion) -> Result<(), SaveError> {
    let write_error = |source| SaveError::Write {
        path: path.display().to_string(),
        source,
    };
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(write_error(err)),
    };
    let mut text: String = existing
        .lines()
        .filter(|line| {
            !KEYS
                .iter()
                .any(|key| line.trim_start().starts_with(&format!("{key}=")))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let values = [
        app.id.to_string(),
        app.slug.clone(),
        app.pem.expose_secret().replace('\n', "\\n"),
        app.webhook_secret.expose_secret().to_owned(),
        app.client_id.clone(),
        app.client_secret.expose_secret().to_owned(),
    ];
    for (key, value) in KEYS.iter().zip(values) {
        text.push_str(&format!("{key}=\"{value}\"\n"));
    }
    let tmp = path.with_extension("gitferry-tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(write_error)?;
    file.write_all(text.as_bytes()).map_err(write_error)?;
    file.sync_all().map_err(write_error)?;
    std::fs::rename(&tmp, path).map_err(write_error)?;
    Ok(())
}

/// Keeps a freshly registered App and starts using it in this process, without a restart.
/// The key is checked before anything is written, so an unusable answer saves nothing.
pub fn adopt(ctx: &AppContext, app: &ManifestConversion) -> Result<(), SaveError> {
    let credentials = AppCredentials::from_pem(app.id, app.pem.expose_secret())?;
    save_credentials(&ctx.settings.env_file(), app)?;
    ctx.github.set_credentials(credentials);
    ctx.set_webhook_secret(app.webhook_secret.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_points_github_at_this_server() {
        let manifest = app_manifest("https://ferry.example.com").expect("valid manifest");
        assert_eq!(
            manifest["hook_attributes"]["url"],
            "https://ferry.example.com/api/github/webhooks"
        );
        assert_eq!(
            manifest["redirect_url"],
            "https://ferry.example.com/setup/callback"
        );
        assert_eq!(manifest["default_permissions"]["checks"], "write");
        assert!(
            manifest["default_events"]
                .as_array()
                .is_some_and(|events| events.iter().any(|e| e == "issue_comment"))
        );
    }
}
