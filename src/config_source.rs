//! Reading a repository's `.github/gitferry.yml` from its **default branch** (never a PR head:
//! DESIGN.md principle 4), with the last valid version as the fallback while the current one
//! is invalid.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

use crate::github::{GithubError, InstallationClient};
use crate::repo_config::{self, CONFIG_PATH, ConfigErrors, RepoConfig};
use crate::secrets::RepoSecrets;
use crate::store::repo_configs::StoredConfig;
use crate::store::{Store, StoreError, now_ms};
use crate::ttl_cache::TtlCache;

/// What the default branch says.
pub enum Loaded {
    /// No config file: gitferry stays quiet except for `/help`.
    Missing,
    Valid {
        blob_sha: String,
        config: Box<RepoConfig>,
    },
    /// The current file is invalid; `fallback` is the last valid one, if there ever was one.
    Invalid {
        blob_sha: String,
        errors: ConfigErrors,
        fallback: Option<Box<RepoConfig>>,
    },
}

impl Loaded {
    /// The config to act on: the current one, else the last valid one.
    pub fn usable(&self) -> Option<&RepoConfig> {
        match self {
            Loaded::Missing => None,
            Loaded::Valid { config, .. } => Some(config),
            Loaded::Invalid { fallback, .. } => fallback.as_deref(),
        }
    }

    /// The git blob of the file on the default branch, to tell whether a PR changes it.
    pub fn blob_sha(&self) -> Option<&str> {
        match self {
            Loaded::Missing => None,
            Loaded::Valid { blob_sha, .. } | Loaded::Invalid { blob_sha, .. } => Some(blob_sha),
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
    Store(#[from] StoreError),
    #[error("the contents API returned undecodable base64 for {CONFIG_PATH}")]
    Encoding,
}

/// The config file at `reference` (a branch or sha): its blob sha and bytes, `None` if absent.
pub async fn fetch(
    gh: &InstallationClient,
    repo: &str,
    reference: &str,
) -> Result<Option<(String, Vec<u8>)>, LoadError> {
    let contents: Contents = match gh.contents(repo, CONFIG_PATH, reference).await {
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
pub struct ConfigCache(TtlCache<String, Arc<Loaded>>, RepoSecrets);

impl Default for ConfigCache {
    fn default() -> Self {
        Self::new(RepoSecrets::default())
    }
}

impl ConfigCache {
    /// A cache whose configs are checked against the operator's allow-list of variables.
    pub fn new(secrets: RepoSecrets) -> Self {
        Self(TtlCache::new(CACHE_TTL), secrets)
    }

    /// The repository's config, from the cache or the default branch.
    pub async fn get(
        &self,
        gh: &InstallationClient,
        store: &Store,
        repo: &str,
        default_branch: &str,
    ) -> Result<Arc<Loaded>, LoadError> {
        if let Some(loaded) = self.0.get(&repo.to_owned()) {
            return Ok(loaded);
        }
        let loaded = Arc::new(load(gh, store, repo, default_branch, &self.1).await?);
        self.0.put(repo.to_owned(), Arc::clone(&loaded));
        Ok(loaded)
    }

    /// The cached config, without reading GitHub (or the store) when there is none.
    pub fn peek(&self, repo: &str) -> Option<Arc<Loaded>> {
        self.0.get(&repo.to_owned())
    }

    /// Forgets a repository's config (a push touched it).
    pub fn invalidate(&self, repo: &str) {
        self.0.remove(&repo.to_owned());
    }
}

/// Parses `repo`'s config file: a variable it names that the operator's allow-list does not
/// give it is an error at its line, so a config naming one is never used.
pub fn parse_for(
    bytes: &[u8],
    repo: &str,
    secrets: &RepoSecrets,
) -> Result<RepoConfig, ConfigErrors> {
    repo_config::parse_bytes_for(bytes, &|name| {
        secrets.refusal(repo, name).map(|r| r.to_string())
    })
}

/// Parses a config file of the default branch; a valid one is kept as the repository's
/// fallback for later invalid ones.
pub async fn parse_and_remember(
    store: &Store,
    repo: &str,
    blob_sha: &str,
    bytes: Vec<u8>,
    secrets: &RepoSecrets,
) -> Result<Result<RepoConfig, ConfigErrors>, StoreError> {
    let parsed = parse_for(&bytes, repo, secrets);
    if parsed.is_ok()
        && let Ok(source) = String::from_utf8(bytes)
    {
        let stored = StoredConfig {
            blob_sha: blob_sha.to_owned(),
            source,
        };
        store.save_valid_config(repo, &stored, now_ms()).await?;
    }
    Ok(parsed)
}

/// The repository's config as its default branch has it now.
pub async fn load(
    gh: &InstallationClient,
    store: &Store,
    repo: &str,
    default_branch: &str,
    secrets: &RepoSecrets,
) -> Result<Loaded, LoadError> {
    let Some((blob_sha, bytes)) = fetch(gh, repo, default_branch).await? else {
        return Ok(Loaded::Missing);
    };
    match parse_and_remember(store, repo, &blob_sha, bytes, secrets).await? {
        Ok(config) => Ok(Loaded::Valid {
            blob_sha,
            config: Box::new(config),
        }),
        Err(errors) => {
            let fallback = store
                .last_valid_config(repo)
                .await?
                // Checked again: the allow-list may have narrowed since it was stored.
                .and_then(|stored| parse_for(stored.source.as_bytes(), repo, secrets).ok())
                .map(Box::new);
            Ok(Loaded::Invalid {
                blob_sha,
                errors,
                fallback,
            })
        }
    }
}
