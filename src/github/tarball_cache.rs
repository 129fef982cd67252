//! A head's commit, fetched once and shared: its steps and its deploy all start from the same
//! tarball, so the second and later ones neither wait for GitHub nor spend its rate limit.
//! Concurrent askers for one commit share one fetch (single flight). Each run still unpacks
//! it into a fresh folder of its own ([`crate::checkout::Checkout`]): only the bytes, which
//! a commit id names immutably, are shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::client::InstallationClient;
use super::error::GithubError;

/// How long a fetched commit is kept: long enough for a head's steps and its deploy, which
/// start within seconds of each other, short enough not to hold memory for idle heads.
const KEEP_FOR: Duration = Duration::from_secs(10 * 60);

/// Most bytes kept at once; the oldest commits go first past it.
const MAX_BYTES: usize = 256 * 1024 * 1024;

type Key = (String, String);

struct Slot {
    bytes: OnceCell<Arc<Vec<u8>>>,
    created: Instant,
}

/// Commit tarballs by repository and sha.
pub struct TarballCache {
    keep_for: Duration,
    max_bytes: usize,
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
}

impl Default for TarballCache {
    fn default() -> Self {
        Self::new(KEEP_FOR, MAX_BYTES)
    }
}

impl TarballCache {
    pub fn new(keep_for: Duration, max_bytes: usize) -> Self {
        Self {
            keep_for,
            max_bytes,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The tarball of `repo` at `sha`: from memory, from a fetch already under way, or
    /// fetched now. A failed fetch is not kept: the next asker tries again.
    pub async fn get(
        &self,
        gh: &InstallationClient,
        repo: &str,
        sha: &str,
    ) -> Result<Arc<Vec<u8>>, GithubError> {
        self.get_with(repo, sha, || async {
            gh.tarball(repo, sha).await.map(Arc::new)
        })
        .await
    }

    async fn get_with<F, Fut>(
        &self,
        repo: &str,
        sha: &str,
        fetch: F,
    ) -> Result<Arc<Vec<u8>>, GithubError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Arc<Vec<u8>>, GithubError>>,
    {
        let key = (repo.to_owned(), sha.to_owned());
        let slot = {
            let mut slots = self.lock();
            let keep_for = self.keep_for;
            slots.retain(|_, slot| slot.created.elapsed() < keep_for);
            slots
                .entry(key.clone())
                .or_insert_with(|| {
                    Arc::new(Slot {
                        bytes: OnceCell::new(),
                        created: Instant::now(),
                    })
                })
                .clone()
        };
        let bytes = slot.bytes.get_or_try_init(fetch).await?.clone();
        self.trim(&key);
        Ok(bytes)
    }

    /// Drops the oldest commits while more than the limit is kept (`just` last: it is in use).
    fn trim(&self, just: &Key) {
        let mut slots = self.lock();
        loop {
            let held: usize = slots
                .values()
                .filter_map(|slot| slot.bytes.get().map(|b| b.len()))
                .sum();
            if held <= self.max_bytes {
                return;
            }
            let oldest = slots
                .iter()
                .filter(|(key, slot)| *key != just && slot.bytes.get().is_some())
                .min_by_key(|(_, slot)| slot.created)
                .map(|(key, _)| key.clone());
            match oldest.or_else(|| slots.contains_key(just).then(|| just.clone())) {
                Some(key) => {
                    slots.remove(&key);
                }
                None => return,
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn fetcher(calls: &AtomicUsize, size: usize) -> Result<Arc<Vec<u8>>, GithubError> {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Ok(Arc::new(vec![7; size]))
    }

    #[tokio::test]
    async fn a_commit_is_fetched_once_for_every_asker_even_at_the_same_moment() {
        let cache = TarballCache::default();
        let calls = AtomicUsize::new(0);
        let (a, b, c) = tokio::join!(
            cache.get_with("o/r", "abc", || fetcher(&calls, 10)),
            cache.get_with("o/r", "abc", || fetcher(&calls, 10)),
            cache.get_with("o/r", "abc", || fetcher(&calls, 10)),
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
        assert_eq!(c.unwrap().len(), 10);
        cache
            .get_with("o/r", "abc", || fetcher(&calls, 10))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1, "kept for the next step");
    }

    #[tokio::test]
    async fn another_commit_or_repository_is_another_fetch() {
        let cache = TarballCache::default();
        let calls = AtomicUsize::new(0);
        cache
            .get_with("o/r", "abc", || fetcher(&calls, 1))
            .await
            .unwrap();
        cache
            .get_with("o/r", "def", || fetcher(&calls, 1))
            .await
            .unwrap();
        cache
            .get_with("o/fork", "abc", || fetcher(&calls, 1))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_kept() {
        let cache = TarballCache::default();
        let failed = cache
            .get_with("o/r", "abc", || async {
                Err(GithubError::InvalidRequest("GitHub is down".into()))
            })
            .await;
        assert!(failed.is_err());
        let calls = AtomicUsize::new(0);
        cache
            .get_with("o/r", "abc", || fetcher(&calls, 1))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn commits_expire_and_the_oldest_go_past_the_byte_limit() {
        let calls = AtomicUsize::new(0);
        let expiring = TarballCache::new(Duration::ZERO, MAX_BYTES);
        expiring
            .get_with("o/r", "a", || fetcher(&calls, 1))
            .await
            .unwrap();
        expiring
            .get_with("o/r", "a", || fetcher(&calls, 1))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2, "expired at once");

        let small = TarballCache::new(KEEP_FOR, 25);
        let calls = AtomicUsize::new(0);
        small
            .get_with("o/r", "a", || fetcher(&calls, 10))
            .await
            .unwrap();
        small
            .get_with("o/r", "b", || fetcher(&calls, 10))
            .await
            .unwrap();
        small
            .get_with("o/r", "c", || fetcher(&calls, 10))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        small
            .get_with("o/r", "c", || fetcher(&calls, 10))
            .await
            .unwrap();
        small
            .get_with("o/r", "b", || fetcher(&calls, 10))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3, "b and c are kept");
        small
            .get_with("o/r", "a", || fetcher(&calls, 10))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 4, "a, the oldest, went");
        let huge = TarballCache::new(KEEP_FOR, 5);
        huge.get_with("o/r", "x", || fetcher(&calls, 10))
            .await
            .unwrap();
        huge.get_with("o/r", "x", || fetcher(&calls, 10))
            .await
            .unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            6,
            "larger than the limit: not kept"
        );
    }
}
