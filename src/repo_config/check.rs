//! `gitferry config check <file>`: validate a file and print every error.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::load::{MAX_CONFIG_BYTES, parse_bytes};

/// The outcome of checking one file, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The file as it was named on the command line.
    pub file: PathBuf,
    /// Every error, sorted by position; empty when the file is valid.
    pub errors: Vec<ConfigError>,
}

impl CheckReport {
    /// Whether the file is a valid config (exit status 0).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The exit status for the CLI: 0 when valid, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.is_ok() { 0 } else { 1 }
    }
}

/// One `file:line:column: message` line per error (the format editors and CI logs link to), or
/// `ok: <file> is a valid gitferry config`.
impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        if self.errors.is_empty() {
            return writeln!(f, "ok: {file} is a valid gitferry config");
        }
        for error in &self.errors {
            writeln!(
                f,
                "{file}:{}:{}: {}",
                error.line, error.column, error.message
            )?;
        }
        Ok(())
    }
}

/// Reads and checks the config at `path`. A file that cannot be read is reported as an error
/// at 1:1 like any other, so the CLI has one way to print and one exit status.
pub fn check_file(path: &Path) -> CheckReport {
    let errors = match read_capped(path) {
        Ok(bytes) => match parse_bytes(&bytes) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().collect(),
        },
        Err(error) => vec![ConfigError {
            line: 1,
            column: 1,
            path: String::new(),
            message: format!("cannot read the file: {error}"),
        }],
    };
    CheckReport {
        file: path.to_path_buf(),
        errors,
    }
}

/// Reads at most one byte more than the limit, so a huge file is refused without being loaded.
fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_CONFIG_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    File::open(path)?.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}
