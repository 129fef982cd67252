//! Parsing a 100,000-case JUnit report and rendering its summary: the issue's budget is 1 s
//! and 200 MB peak memory on the 2-core machine.
//!
//! The report is generated into a temporary file (passes, 1% failures with a `file:line` in
//! their text and realistic output, 5% skips, `<system-out>` on every tenth case), then read
//! with [`gitferry::junit::parse_file`] as the server would, and rendered. Peak memory is the
//! process's `VmHWM` from `/proc/self/status`, so it includes the benchmark's own baseline.
//!
//! ```sh
//! cargo bench --bench junit
//! ```

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

use gitferry::junit::{Limits, parse_file, summary_markdown};

const CASES: usize = 100_000;

fn report() -> String {
    let mut xml = String::with_capacity(CASES * 160);
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"bench\" time=\"321.5\">\n",
    );
    for suite in 0..CASES / 1_000 {
        let _ = writeln!(
            xml,
            "  <testsuite name=\"pkg.suite{suite}\" tests=\"1000\">"
        );
        for i in 0..1_000 {
            let n = suite * 1_000 + i;
            let time = (n * 7919 % 10_000) as f64 / 1_000.0;
            let _ = write!(
                xml,
                "    <testcase classname=\"pkg.suite{suite}\" name=\"test_{n}\" file=\"tests/suite{suite}.py\" time=\"{time:.3}\">"
            );
            if n % 100 == 0 {
                let _ = write!(
                    xml,
                    "<failure message=\"assert {n} == {}\">Traceback (most recent call last):\n  tests/suite{suite}.py:{}: in test_{n}\n    assert value == expected\nAssertionError</failure>",
                    n + 1,
                    i + 10
                );
            } else if n % 20 == 0 {
                xml.push_str("<skipped message=\"not on this platform\"/>");
            }
            if n % 10 == 0 {
                xml.push_str(
                    "<system-out>captured output line one\ncaptured output line two\n</system-out>",
                );
            }
            xml.push_str("</testcase>\n");
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("junit-100k.xml");
    {
        let xml = report();
        let mut file = std::fs::File::create(&path)?;
        file.write_all(xml.as_bytes())?;
    }
    let size_mb = std::fs::metadata(&path)?.len() as f64 / (1024.0 * 1024.0);
    let start = Instant::now();
    let report = parse_file(&path, &Limits::default())?;
    let summary = summary_markdown(&report, "pytest");
    let elapsed = start.elapsed();
    let t = &report.totals;
    println!(
        "report {size_mb:.1} MB: {} tests, {} passed, {} failed, {} skipped; {} failures kept; summary {} chars",
        t.tests,
        t.passed,
        t.failed,
        t.skipped,
        report.failures.len(),
        summary.chars().count()
    );
    println!(
        "RESULT junit_100k parse_and_render_ms={:.1} peak_rss_mb={:.1}",
        elapsed.as_secs_f64() * 1_000.0,
        peak_rss_mb()
    );
    Ok(())
}
