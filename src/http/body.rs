//! Reading a webhook body with its memory reserved up front and a deadline on the whole read.
//!
//! Without a budget, twenty unsigned 24 MB uploads held open took the process to half a
//! gigabyte: the HMAC can only be checked once the body is in memory. So every body reserves
//! its bytes from one process-wide budget before the first byte is read (its `Content-Length`,
//! or the 25 MB maximum when the length is not announced), and gives them back when the request
//! is done. When the budget is spent the request is refused at once (503, `Retry-After`)
//! instead of queueing memory. The deadline covers the whole body, not each chunk, so a body
//! trickled a byte at a time cannot hold its reservation for longer than that.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt as _;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// Bytes of request bodies that may be in memory at once, shared by all connections.
#[derive(Clone, Debug)]
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    total: usize,
    /// Bytes reserved now, for `/metrics`.
    reserved: Gauge,
}

/// Bytes held for one body until it is dropped.
#[derive(Debug)]
pub struct Reservation {
    _permit: OwnedSemaphorePermit,
    bytes: usize,
    reserved: Gauge,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.reserved.dec_by(gauge_value(self.bytes));
    }
}

fn gauge_value(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

impl Reservation {
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("too many webhook bodies are being received at once; retry later")]
    BudgetSpent,
    #[error("the body is larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("the body did not arrive within {0:?}")]
    TimedOut(Duration),
    #[error("the body could not be read: {0}")]
    Read(String),
}

impl BodyBudget {
    /// A budget of `total` bytes whose reservations are reported on `reserved`.
    pub fn new(total: usize, reserved: Gauge) -> Self {
        Self {
            bytes: Arc::new(Semaphore::new(total.min(Semaphore::MAX_PERMITS))),
            total,
            reserved,
        }
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// Holds `bytes` of the budget, or says it is spent; never waits.
    pub fn reserve(&self, bytes: usize) -> Result<Reservation, BodyError> {
        let permits = u32::try_from(bytes).map_err(|_| BodyError::BudgetSpent)?;
        match Arc::clone(&self.bytes).try_acquire_many_owned(permits) {
            Ok(permit) => {
                self.reserved.inc_by(gauge_value(bytes));
                Ok(Reservation {
                    _permit: permit,
                    bytes,
                    reserved: self.reserved.clone(),
                })
            }
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
                Err(BodyError::BudgetSpent)
            }
        }
    }
}

/// Makes buffers of 1 MiB and more come straight from the kernel and go straight back to it.
///
/// glibc otherwise raises its mmap threshold to the size of the last large buffer freed, so
/// the next 24 MB body comes from an arena heap, and freed arena memory above the (also
/// raised) trim threshold stays resident: under a stream of large uploads the process kept
/// ~120 MB beyond the 64 MB budget. A fixed threshold keeps resident memory at what the live
/// bodies use. Called once at start-up; elsewhere than glibc it does nothing.
pub fn return_large_buffers_promptly() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD: libc::c_int = 1 << 20;
        // SAFETY: mallopt only changes glibc's allocation thresholds; it takes the allocator's
        // own locks and has no memory-safety preconditions.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
        }
    }
}

/// How much to reserve for a body: what it announces, or `max` when it announces nothing.
/// A body announcing more than `max` is refused without reading it.
pub fn reservation_size(content_length: Option<u64>, max: usize) -> Result<usize, BodyError> {
    match content_length {
        None => Ok(max),
        Some(length) => match usize::try_from(length) {
            Ok(length) if length <= max => Ok(length),
            _ => Err(BodyError::TooLarge { max }),
        },
    }
}

/// Bytes hashed and copied between two turns given to other tasks.
const YIELD_EVERY_BYTES: usize = 256 * 1024;

/// Reads `body` into one buffer of exactly the reserved size (no second copy on the way), at
/// most `reservation.bytes()` long, all of it within `deadline`. Each chunk is also shown to
/// `inspect` as it arrives (the HMAC), so no pass over the whole body blocks the runtime.
pub async fn read(
    body: Body,
    reservation: &Reservation,
    deadline: Duration,
    mut inspect: impl FnMut(&[u8]),
) -> Result<Vec<u8>, BodyError> {
    let max = reservation.bytes();
    let collect = async move {
        let mut body = body;
        // Capacity only: pages are touched as bytes arrive, so an announced-but-unsent body
        // costs no memory.
        let mut buffer = Vec::with_capacity(max);
        let mut since_yield = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|err| BodyError::Read(err.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if buffer.len() + data.len() > max {
                    return Err(BodyError::TooLarge { max });
                }
                inspect(&data);
                buffer.extend_from_slice(&data);
                // A fast sender keeps every read ready, so tokio's own budget would let this
                // task hash ~128 chunks (tens of ms) before `/healthz` gets a turn.
                since_yield += data.len();
                if since_yield >= YIELD_EVERY_BYTES {
                    since_yield = 0;
                    tokio::task::yield_now().await;
                }
            }
        }
        Ok(buffer)
    };
    tokio::time::timeout(deadline, collect)
        .await
        .map_err(|_| BodyError::TimedOut(deadline))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_and_given_back() {
        let reserved = Gauge::default();
        let budget = BodyBudget::new(100, reserved.clone());
        let first = budget.reserve(60).expect("fits");
        assert_eq!(reserved.get(), 60);
        assert_eq!(budget.reserve(60).unwrap_err(), BodyError::BudgetSpent);
        let small = budget.reserve(40).expect("the rest fits");
        assert_eq!(reserved.get(), 100);
        drop(first);
        drop(small);
        assert_eq!(reserved.get(), 0);
        budget.reserve(100).expect("all of it is back");
    }

    #[test]
    fn an_unannounced_length_reserves_the_maximum() {
        assert_eq!(reservation_size(None, 25), Ok(25));
        assert_eq!(reservation_size(Some(10), 25), Ok(10));
        assert_eq!(
            reservation_size(Some(26), 25),
            Err(BodyError::TooLarge { max: 25 })
        );
        assert_eq!(
            reservation_size(Some(u64::MAX), 25),
            Err(BodyError::TooLarge { max: 25 })
        );
    }

    #[tokio::test]
    async fn a_body_longer_than_its_reservation_is_refused() {
        let budget = BodyBudget::new(1000, Gauge::default());
        let reservation = budget.reserve(4).expect("fits");
        let err = read(
            Body::from("12345"),
            &reservation,
            Duration::from_secs(5),
            |_| {},
        )
        .await
        .unwrap_err();
        assert_eq!(err, BodyError::TooLarge { max: 4 });
        let mut seen = Vec::new();
        let ok = read(
            Body::from("1234"),
            &reservation,
            Duration::from_secs(5),
            |chunk| seen.extend_from_slice(chunk),
        )
        .await
        .expect("fits exactly");
        assert_eq!(ok, b"1234");
        assert_eq!(seen, b"1234", "every byte is inspected");
    }

    #[tokio::test]
    async fn a_trickled_body_runs_out_of_time_as_a_whole() {
        let budget = BodyBudget::new(1000, Gauge::default());
        let reservation = budget.reserve(100).expect("fits");
        // A byte every 20 ms for 100 bytes: each chunk is prompt, the whole (2 s) is not.
        let chunks = futures_util::stream::unfold(0u8, |n| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            (n < 100).then(|| (Ok::<_, std::io::Error>(vec![b'a']), n + 1))
        });
        let deadline = Duration::from_millis(200);
        let err = read(Body::from_stream(chunks), &reservation, deadline, |_| {})
            .await
            .unwrap_err();
        assert_eq!(err, BodyError::TimedOut(deadline));
    }
}
