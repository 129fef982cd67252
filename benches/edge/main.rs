//! `/healthz` latency and peak memory of `gitferry serve` under issue 11's hostile crowd: 300
//! slowloris clients and 20 large unsigned uploads. Prints p50/p99/max and peak RSS.
//!
//!     cargo bench --bench edge            # 20 s of load (EDGE_BENCH_SECONDS to change)
//!     EDGE_BENCH_SLOW=0 EDGE_BENCH_UPLOADS=0 cargo bench --bench edge   # the same, unloaded
//!
//! The load generator is the one the `edge_load` end-to-end test uses.

#[path = "../../tests/e2e/support/load.rs"]
mod load;

use std::path::Path;
use std::time::Duration;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let knob = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let seconds = knob("EDGE_BENCH_SECONDS", 20);
    let plan = load::Plan {
        slow_clients: knob("EDGE_BENCH_SLOW", 300),
        uploads: knob("EDGE_BENCH_UPLOADS", 20),
        ..load::Plan::issue_11(Duration::from_secs(seconds as u64))
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let report = load::run(Path::new(env!("CARGO_BIN_EXE_gitferry")), dir.path(), plan).await;
    report.print(&format!(
        "edge ({seconds} s, {} slow clients, {} × 24 MiB uploads)",
        plan.slow_clients, plan.uploads
    ));
}
