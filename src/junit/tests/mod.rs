//! Tests over the real and handwritten fixtures in `tests/fixtures/junit/`, malformed and
//! oversized input, and the rendered summary.

mod dialects;
mod render;
mod robustness;

use std::path::PathBuf;
use std::time::Duration;

use super::{Limits, Report, parse, parse_file};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/junit")
        .join(name)
}

fn fixture(name: &str) -> Report {
    parse_file(&fixture_path(name), &Limits::default()).unwrap()
}

fn parse_str(xml: &str) -> Report {
    parse(xml.as_bytes(), &Limits::default()).unwrap()
}

/// (display name, file, line) of each kept failure.
fn failures(report: &Report) -> Vec<(String, Option<String>, Option<u32>)> {
    report
        .failures
        .iter()
        .map(|c| {
            let loc = c.location.as_ref();
            (
                c.display_name(),
                loc.map(|l| l.file.clone()),
                loc.and_then(|l| l.line),
            )
        })
        .collect()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
