//! JUnit XML test reports: parsed into totals and the few cases worth showing, rendered as a
//! check-run summary and as annotations on the failing tests' lines.
//!
//! Reports come from many writers, each with its own dialect: pytest `--junitxml` (xunit1
//! gives `file` and a 0-based `line` per case; xunit2, pytest's default, gives neither),
//! Jest's `jest-junit` (`file` with `addFileAttribute`), cargo-nextest (retries as
//! `<flakyFailure>`/`<rerunFailure>`), Maven Surefire (the same retry elements) and Go's
//! `gotestsum` (no locations; `file_test.go:14:` in the failure text). The fixtures in
//! `tests/fixtures/junit/` are real reports from those tools where they could be run.
//!
//! The parser streams with quick-xml, so a 100,000-case report is read in bounded memory: the
//! totals are counters, failures are kept up to [`Limits::max_failures`] and the slowest cases
//! in a fixed-size heap. Garbage, truncated or oversized input is an error, never a panic.
//!
//! | file | responsibility |
//! |---|---|
//! | `model.rs` | `Report`, `Case`, `Limits` |
//! | `error.rs` | `JunitError` |
//! | `input.rs` | byte limit and line/column tracking under the XML reader |
//! | `parser.rs` | the streaming pass over XML events |
//! | `attrs.rs` | reading an element's attributes |
//! | `case.rs` | one test case's outcome, message and location |
//! | `location.rs` | `path:line` in failure text |
//! | `collect.rs` | bounded folding of cases into a `Report` |
//! | `merge.rs` | `Report::merge`: several reports of one step as one |
//! | `render.rs` | the Markdown summary and the annotations |

mod attrs;
mod case;
mod collect;
mod error;
mod input;
mod location;
mod merge;
mod model;
mod parser;
mod render;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

pub use error::JunitError;
pub use model::{Case, Limits, Location, Outcome, Report, Totals};
pub use render::{annotations, summary_markdown};

/// Reads one JUnit XML report from `reader` within `limits`.
pub fn parse(reader: impl BufRead, limits: &Limits) -> Result<Report, JunitError> {
    parser::parse(reader, limits)
}

/// Reads the report at `path`, refusing one over [`Limits::max_bytes`] before reading it.
pub fn parse_file(path: &Path, limits: &Limits) -> Result<Report, JunitError> {
    let io = |source| JunitError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > limits.max_bytes {
        return Err(JunitError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    parse(BufReader::with_capacity(64 * 1024, file), limits)
}
