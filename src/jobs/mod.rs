//! Background work's seam: periodic ticks that run on one replica at a time.
//!
//! A feature that needs something done on a schedule (preview TTL and reconcile today; the
//! drift sweep and the merge queue next) registers a [`Tick`] in `app::ticks`, as it
//! registers webhook handlers in `app::router`; it never starts a loop of its own. The lease
//! behind each tick lives in the store, so several `gitferry serve` processes on one
//! PostgreSQL share the work without running a tick twice at once.

mod ticks;

pub use ticks::{Held, Scheduler, Tick};

#[cfg(test)]
mod tests;
