//! The durable delivery queue: ingest (verified deliveries → store) and the workers that claim
//! and process them, with retries, dead letters and leases (DESIGN.md principle 1).

pub mod backoff;
pub mod envelope;
pub mod group_commit;
pub mod ingest;
pub mod worker;

pub use ingest::{Ingest, IngestError, IngestOutcome};
pub use worker::{WorkerConfig, WorkerPool};
