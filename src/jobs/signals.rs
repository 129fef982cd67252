//! How the webhook side and an executor talk within one process: "work was written, look
//! now" and "this work is obsolete, stop it now". Across processes the store is the channel
//! (executors poll, and leases carry what was cancelled), so these only make things sooner.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// One executor's wake-up, and the cancel tokens of the work it has in hand, by key.
pub struct Signals<K> {
    wake: Notify,
    running: Mutex<HashMap<K, CancellationToken>>,
}

impl<K> Default for Signals<K> {
    fn default() -> Self {
        Self {
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash> Signals<K> {
    /// Work was written: look now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// What the executor's claim loop waits on.
    pub fn wake_up(&self) -> &Notify {
        &self.wake
    }

    /// This work is obsolete (superseded, cancelled): stop it now (its processes are killed,
    /// its Jobs deleted) instead of at its next lease renewal. Work not in hand here is left
    /// to the store.
    pub fn cancel<'k>(&self, keys: impl IntoIterator<Item = &'k K>)
    where
        K: 'k,
    {
        let running = self.lock();
        for key in keys {
            if let Some(cancel) = running.get(key) {
                cancel.cancel();
            }
        }
    }

    /// The executor took up work under `key`.
    pub fn track(&self, key: K, cancel: CancellationToken) {
        self.lock().insert(key, cancel);
    }

    /// The work under `key` is over.
    pub fn untrack(&self, key: &K) {
        self.lock().remove(key);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, CancellationToken>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_stops_only_the_work_named_and_in_hand() {
        let signals = Signals::<String>::default();
        let (a, b) = (CancellationToken::new(), CancellationToken::new());
        signals.track("a".to_owned(), a.clone());
        signals.track("b".to_owned(), b.clone());
        signals.cancel(&["a".to_owned(), "gone".to_owned()]);
        assert!(a.is_cancelled());
        assert!(!b.is_cancelled());
        signals.untrack(&"b".to_owned());
        signals.cancel(&["b".to_owned()]);
        assert!(!b.is_cancelled(), "untracked work is the store's business");
    }

    #[tokio::test]
    async fn a_wake_before_the_wait_is_not_lost() {
        let signals = Signals::<String>::default();
        signals.wake();
        signals.wake_up().notified().await;
    }
}
