//! `/healthz` latency and peak memory of `gitferry serve` under issue 11's hostile crowd: 300
//! slowloris clients and 20 large unsigned uploads. Prints p50/p99/max and peak RSS.
//!
//!     cargo bench --bench edge            # 20 s of load (EDGE_BENCH_SECONDS to change)
//!
//! The load generator is the one the `edge_load` end-to-end test uses.

#[path = "../../tests/e2e/support/load.rs"]
mod load;

use std::path::Path;
use std::time::Duration;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let seconds = std::env::var("EDGE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("temp dir");
    let report = load::run(
        Path::new(env!("CARGO_BIN_EXE_gitferry")),
        dir.path(),
        load::Plan::issue_11(Duration::from_secs(seconds)),
    )
    .await;
    report.print(&format!(
        "edge ({seconds} s, 300 slow clients, 20 × 24 MiB uploads)"
    ));
}
