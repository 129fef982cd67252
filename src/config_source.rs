//! Reading a repository's `.github/gitferry.yml` from its **default branch** (never a PR head:
//! DESIGN.md principle 4), with the last valid version as the fallback while the current one
//! is invalid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use crate::github::{GithubError, InstallationClient};
use crate::repo_config::{self, CONFIG_PATH, ConfigErrors, RepoConfig};
use crate::store::repo_configs::StoredConfig;
use crate::store::{Store, now_ms};

/// What the default branch says.
pub enum Loaded {
    /// No config file: gitferry stays quiet except for `/help`.
    Missing,
    Valid(Box<RepoConfig>),
    /// The current file is invalid; `fallback` is the last valid one, if there ever was one.
    Invalid {
        errors: ConfigErrors,
        fallback: Option<Box<RepoConfig>>,
    },
}

impl Loaded {
    /// The config to act on: the current one, else the last valid one.
    pub fn usable(&self) -> Option<&RepoConfig> {
        match self {
            Loaded::Missing => None,
            Loaded::Valid(config) => Some(config),
            Loaded::Invalid { fallback, .. } => fallback.as_deref(),
        }
    }
}

#[derive(Deserialize)]
struct Contents {
    sha: String,
    #[serde(default)]
    content: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the contents API returned undecodable base64 for {CONFIG_PATH}")]
    Encoding,
}

/// The config file at `reference` (a branch or sha): its blob sha and bytes, `None` if absent.
pub async fn fetch(
    gh: &InstallationClient,
    repo: &str,
    reference: &str,
) -> Result<Option<(String, Vec<u8>)>, LoadError> {
    let path = format!("/repos/{repo}/contents/{CONFIG_PATH}?ref={reference}");
    let contents: Contents = match gh.get(&path).await {
        Ok(contents) => contents,
        Err(err) if err.is_not_found() => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    let compact: String = contents.content.split_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| LoadError::Encoding)?;
    Ok(Some((contents.sha, bytes)))
}

/// How long a loaded config is trusted without a push saying it changed: pushes that touch the
/// file invalidate it at once; this only bounds the damage of a lost `push` delivery.
pub const CACHE_TTL: Duration = Duration::from_secs(300);

/// Loaded configs per repository, so a burst of comments or events costs one contents request.
#[derive(Default)]
pub struct ConfigCache {
    entries: Mutex<HashMap<String, (Arc<Loaded>, Instant)>>,
}

impl ConfigCache {
    /// The repository's config, from the cache or the default branch.
    pub async fn get(
        &self,
        gh: &InstallationClient,
        store: &Store,
        repo: &str,
        default_branch: &str,
    ) -> Result<Arc<Loaded>, LoadError> {
        if let Some((loaded, at)) = self.lock().get(repo)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(Arc::clone(loaded));
        }
        let loaded = Arc::new(load(gh, store, repo, default_branch).await?);
        self.lock()
            .insert(repo.to_owned(), (Arc::clone(&loaded), Instant::now()));
        Ok(loaded)
    }

    /// Forgets a repository's config (a push touched it).
    pub fn invalidate(&self, repo: &str) {
        self.lock().remove(repo);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Arc<Loaded>, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The repository's config as its default branch has it now. A valid file is remembered as
/// the fallback for later invalid ones.
pub async fn load(
    gh: &InstallationClient,
    store: &Store,
    repo: &str,
    default_branch: &str,
) -> Result<Loaded, LoadError> {
    let Some((blob_sha, bytes)) = fetch(gh, repo, default_branch).await? else {
        return Ok(Loaded::Missing);
    };
    match repo_config::parse_bytes(&bytes) {
        Ok(config) => {
            if let Ok(source) = String::from_utf8(bytes) {
                let stored = StoredConfig { blob_sha, source };
                store.save_valid_config(repo, &stored, now_ms()).await?;
            }
            Ok(Loaded::Valid(Box::new(config)))
        }
        Err(errors) => {
            let fallback = store
                .last_valid_config(repo)
                .await?
                .and_then(|stored| repo_config::parse(&stored.source).ok())
                .map(Box::new);
            Ok(Loaded::Invalid { errors, fallback })
        }
    }
}
