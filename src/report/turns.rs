//! One writer at a time per pull request's sticky comment, within this process.
//!
//! The lock map holds weak references: a PR's lock lives while someone waits for or holds it,
//! and the map is swept of dead entries as it grows, so it stays as small as the number of
//! PRs being written to at once.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};

type Turn = Arc<tokio::sync::Mutex<()>>;
type Turns = HashMap<(String, u64), Weak<tokio::sync::Mutex<()>>>;

static TURNS: LazyLock<Mutex<Turns>> = LazyLock::new(Mutex::default);

/// The lock of `repo`'s pull request `pr`; hold its guard across the read-edit-write.
pub fn for_pr(repo: &str, pr: u64) -> Turn {
    let mut turns = TURNS.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (repo.to_owned(), pr);
    if let Some(turn) = turns.get(&key).and_then(Weak::upgrade) {
        return turn;
    }
    if turns.len() >= 256 {
        turns.retain(|_, turn| turn.strong_count() > 0);
    }
    let turn = Turn::default();
    turns.insert(key, Arc::downgrade(&turn));
    turn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_pr_has_one_lock_and_others_do_not_wait_for_it() {
        let a = for_pr("octo/shop", 1);
        let again = for_pr("octo/shop", 1);
        assert!(Arc::ptr_eq(&a, &again));
        let _held = a.lock().await;
        let other = for_pr("octo/shop", 2);
        assert!(other.try_lock().is_ok());
        assert!(again.try_lock().is_err());
    }

    #[test]
    fn unused_locks_are_swept() {
        for pr in 0..1_000 {
            drop(for_pr("octo/sweep", pr));
        }
        let live = TURNS.lock().unwrap_or_else(PoisonError::into_inner).len();
        assert!(live <= 257, "{live}");
    }
}
