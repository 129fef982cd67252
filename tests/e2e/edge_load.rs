//! Issue 11's slowloris and memory scenario against the real `gitferry serve` binary: 300
//! clients trickling their headers and 20 large unsigned uploads (half without a signature,
//! half with one that only the whole body can disprove), for a few seconds. The process must
//! stay under 100 MB resident and keep answering `/healthz`. Latencies are printed, not
//! asserted (`cargo bench --bench edge` measures them on a quiet machine).

use std::path::Path;
use std::time::Duration;

use crate::support::load::{self, Plan};

const MEMORY_BOUND_KIB: u64 = 100 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_and_large_unsigned_uploads_leave_memory_bounded_and_healthz_answering() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = load::run(
        Path::new(env!("CARGO_BIN_EXE_gitferry")),
        dir.path(),
        Plan::issue_11(Duration::from_secs(6)),
    )
    .await;
    report.print("edge_load");

    assert!(
        report.peak_rss_kib < MEMORY_BOUND_KIB,
        "peak RSS {} KiB (idle {} KiB) is over 100 MB",
        report.peak_rss_kib,
        report.idle_rss_kib
    );
    assert!(!report.probes.is_empty());
    let failed = report.probes.iter().filter(|p| p.is_none()).count();
    assert_eq!(failed, 0, "/healthz went unanswered {failed} times");
    assert!(report.slow_connections >= 300, "{report:?}");
    // The uploads really happened: refused unread (401) or for want of budget (503).
    assert!(report.uploads_refused_401 > 0, "{report:?}");
}
