//! What the sandbox adds to a command's start: `/bin/true` run N times through
//! [`gitferry::process::run`] unconfined, then confined as a step is (Landlock ruleset built
//! and enforced, the run-as user when this runs as root, private `HOME` and `TMPDIR`), with
//! p50 and p90 of each and their difference. The issue's budget is 5 ms added.
//!
//! ```sh
//! cargo bench --bench sandbox
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use gitferry::process::{Spec, run};
use gitferry::sandbox::{Confinement, Mode, Policy, Sandbox, identity, landlock};
use tokio_util::sync::CancellationToken;

const RUNS: usize = 200;

async fn timings(dir: &Path, confinement: &Confinement) -> Vec<Duration> {
    let cancel = CancellationToken::new();
    let spec = Spec {
        program: "/bin/true",
        args: &[],
        cwd: dir,
        env: &[],
        timeout: Duration::from_secs(10),
        cancel: &cancel,
        output_cap: 4096,
        sandbox: confinement,
    };
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let outcome = run(&spec, &|_| {}).await.expect("/bin/true runs");
        assert!(outcome.status.success());
        times.push(started.elapsed());
    }
    times.sort();
    times
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let (abi, number) = landlock::probe().expect("this benchmark needs Landlock");
    let run_as = identity::resolve("nobody").expect("the run-as user");
    let sandbox = Sandbox::new(
        Mode::Landlock { abi, number },
        Policy::new(None, None).expect("the system policy"),
        run_as,
    );
    let root = tempfile::tempdir().expect("temp dir");
    let plain_dir = root.path().join("plain");
    let run_dir = root.path().join("run");
    std::fs::create_dir(&plain_dir).expect("dir");
    std::fs::create_dir(&run_dir).expect("dir");
    let confined = Confinement::prepare(&sandbox, &run_dir).expect("a confined run folder");

    // One warm-up of each, so neither pays for the first page-ins.
    timings(&plain_dir, &Confinement::unconfined()).await;
    timings(&run_dir, &confined).await;
    let plain = timings(&plain_dir, &Confinement::unconfined()).await;
    let boxed = timings(&run_dir, &confined).await;

    println!("{}", sandbox.describe());
    println!("{RUNS} runs of /bin/true through process::run");
    for (name, p) in [("p50", 50), ("p90", 90)] {
        let (a, b) = (percentile(&plain, p), percentile(&boxed, p));
        println!(
            "{name}: unconfined {}, sandboxed {}, added {}",
            ms(a),
            ms(b),
            ms(b.saturating_sub(a))
        );
    }
}
