//! Why a JUnit report could not be read. Each variant carries what a person needs to find the
//! problem in the file (a position, a limit), since the report usually comes from someone
//! else's CI step and the message ends up in a check run.

use std::path::PathBuf;

/// A JUnit report that could not be turned into a [`super::Report`].
#[derive(Debug, thiserror::Error)]
pub enum JunitError {
    /// The report file could not be opened or read.
    #[error("reading JUnit report {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The report is bigger than [`super::Limits::max_bytes`]; refused rather than parsed, so
    /// one runaway report cannot take the server's memory or time.
    #[error("JUnit report is larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
    /// The bytes are not well-formed XML, or not a JUnit report at all.
    #[error("malformed JUnit XML at line {line}, column {column} (byte {offset}): {message}")]
    Malformed {
        line: u64,
        column: u64,
        offset: u64,
        message: String,
    },
}
