//! Installation access tokens, cached per installation with single-flight refresh.
//!
//! A token lives an hour; minting one costs a JWT signature and an API call that counts against
//! the App's rate limit. Each installation has its own async lock: the first caller that finds
//! no usable token exchanges one while the others wait on the lock and then reuse it, so a burst
//! of N deliveries for one installation costs one exchange, not N, and installations do not
//! wait for each other.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};

use super::error::GithubError;
use super::ids::InstallationId;

/// A freshly minted token and when GitHub says it expires.
#[derive(Debug)]
pub(crate) struct MintedToken {
    pub(crate) token: SecretString,
    pub(crate) expires_at: SystemTime,
}

struct Cached {
    token: SecretString,
    expires_at: SystemTime,
    /// The credentials generation that minted it; tokens of a replaced App are stale.
    generation: u64,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

pub(crate) struct TokenCache {
    slots: Mutex<HashMap<InstallationId, Slot>>,
    /// Tokens are replaced this long before they expire, so a token handed out stays valid for
    /// the retries (and slow requests) that follow.
    refresh_margin: Duration,
}

impl TokenCache {
    pub(crate) fn new(refresh_margin: Duration) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            refresh_margin,
        }
    }

    fn slot(&self, id: InstallationId) -> Slot {
        // A poisoned map is still a valid map (inserts are atomic), so keep going.
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(id).or_default().clone()
    }

    /// The cached token for `id` if it is from `generation` and not near expiry; otherwise
    /// runs `mint` (once, whoever else is waiting) and caches its result.
    pub(crate) async fn get_or_mint<F, Fut>(
        &self,
        id: InstallationId,
        generation: u64,
        mint: F,
    ) -> Result<SecretString, GithubError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<MintedToken, GithubError>>,
    {
        let slot = self.slot(id);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref()
            && c.generation == generation
            && c.expires_at > SystemTime::now() + self.refresh_margin
        {
            return Ok(c.token.clone());
        }
        let minted = mint().await?;
        tracing::debug!(installation = %id, "minted installation token");
        *cached = Some(Cached {
            token: minted.token.clone(),
            expires_at: minted.expires_at,
            generation,
        });
        Ok(minted.token)
    }

    /// Forgets `token` after GitHub rejected it (revoked, or the App was re-installed). A token
    /// that another caller already replaced is left alone.
    pub(crate) async fn invalidate(&self, id: InstallationId, token: &SecretString) {
        let slot = self.slot(id);
        let mut cached = slot.lock().await;
        if cached
            .as_ref()
            .is_some_and(|c| c.token.expose_secret() == token.expose_secret())
        {
            *cached = None;
        }
    }

    /// Drops every token (the App's credentials changed).
    pub(crate) fn clear(&self) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
