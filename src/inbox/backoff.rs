//! When a failed delivery is tried again.

use std::hash::BuildHasher;
use std::time::Duration;

/// Longest wait between two attempts, whatever the attempt number.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// Exponential backoff: `base · 2^(attempt-1)`, capped, with up to 25 % random jitter so that
/// deliveries that failed together (a GitHub outage) do not all come back in the same second.
/// A cause that names its own wait (`Retry-After`, rate-limit reset) wins if it is longer.
pub fn retry_delay(attempt: u32, base: Duration, at_least: Option<Duration>) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let exponential = base.saturating_mul(1u32 << exponent).min(MAX_BACKOFF);
    let jitter_range = exponential.as_millis() as u64 / 4;
    let jitter = if jitter_range == 0 {
        0
    } else {
        // A randomly seeded hasher is std's cheapest source of randomness; no crypto needed.
        std::collections::hash_map::RandomState::new().hash_one(attempt) % jitter_range
    };
    let delay = exponential + Duration::from_millis(jitter);
    match at_least {
        Some(wait) if wait > delay => wait,
        _ => delay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_each_attempt_within_jitter() {
        let base = Duration::from_secs(2);
        for (attempt, expected) in [(1, 2), (2, 4), (3, 8), (4, 16)] {
            let delay = retry_delay(attempt, base, None);
            let low = Duration::from_secs(expected);
            assert!(
                delay >= low && delay <= low + low / 4,
                "attempt {attempt}: {delay:?}"
            );
        }
    }

    #[test]
    fn is_capped_at_an_hour_and_a_quarter() {
        let delay = retry_delay(40, Duration::from_secs(2), None);
        assert!(delay <= MAX_BACKOFF + MAX_BACKOFF / 4);
    }

    #[test]
    fn a_longer_retry_after_wins() {
        let delay = retry_delay(1, Duration::from_secs(1), Some(Duration::from_secs(90)));
        assert_eq!(delay, Duration::from_secs(90));
    }
}
