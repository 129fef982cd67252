//! Errors in a config file, each at a line and column.

use std::fmt;

use serde_json::{Value, json};

/// One thing wrong with a config file.
///
/// `path` says which value (`environments.preview.ttl`, `pipeline[0].run`; empty for the file
/// as a whole); `line` and `column` (1-based) say where it is written, so the CLI can print
/// `file:line:column` and a check run can annotate the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ConfigError {
    pub line: usize,
    pub column: usize,
    pub path: String,
    pub message: String,
}

impl ConfigError {
    /// A check-run annotation (`output.annotations[]` of the Checks API) for this error in the
    /// file `file_path` (repository-relative, e.g. `.github/gitferry.yml`).
    ///
    /// Errors sit on one line, so the columns are always included (GitHub accepts columns only
    /// when `start_line == end_line`).
    pub fn annotation(&self, file_path: &str) -> Value {
        let title = if self.path.is_empty() {
            "gitferry config".to_owned()
        } else {
            format!("gitferry config: {}", self.path)
        };
        json!({
            "path": file_path,
            "start_line": self.line,
            "end_line": self.line,
            "start_column": self.column,
            "end_column": self.column,
            "annotation_level": "failure",
            "message": self.message,
            "title": truncate(&title, 255),
        })
    }
}

/// Every error found in a config file, sorted by position; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    /// The most errors kept: a hostile file could produce one per line, and no reader (or
    /// check run) needs more than this to start fixing.
    pub const MAX: usize = 100;

    /// Sorts errors by position and keeps the first [`Self::MAX`], with a last one saying how
    /// many were left out. `None` when there are no errors.
    pub(crate) fn new(mut errors: Vec<ConfigError>) -> Option<Self> {
        if errors.is_empty() {
            return None;
        }
        errors.sort_by_key(|error| (error.line, error.column));
        errors.dedup();
        if errors.len() > Self::MAX {
            let left_out = errors.len() - Self::MAX;
            errors.truncate(Self::MAX);
            let (line, column) = errors
                .last()
                .map_or((1, 1), |last| (last.line, last.column));
            errors.push(ConfigError {
                line,
                column,
                path: String::new(),
                message: format!("… and {left_out} more errors, not shown"),
            });
        }
        Some(Self(errors))
    }

    /// A single error (for problems with the file as a whole).
    pub(crate) fn one(error: ConfigError) -> Self {
        Self(vec![error])
    }

    /// The errors, in order of position.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false; here for clippy's `len_without_is_empty` and for symmetry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Check-run annotations for all errors (send them 50 per request).
    pub fn annotations(&self, file_path: &str) -> Vec<Value> {
        self.0
            .iter()
            .map(|error| error.annotation(file_path))
            .collect()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Cuts `text` to at most `max` characters (GitHub refuses longer annotation fields).
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(line: usize, path: &str) -> ConfigError {
        ConfigError {
            line,
            column: 3,
            path: path.into(),
            message: "bad".into(),
        }
    }

    #[test]
    fn an_error_becomes_a_failure_annotation_on_its_line() {
        let annotation = error(7, "environments.preview.ttl").annotation(".github/gitferry.yml");
        assert_eq!(
            annotation,
            json!({
                "path": ".github/gitferry.yml",
                "start_line": 7,
                "end_line": 7,
                "start_column": 3,
                "end_column": 3,
                "annotation_level": "failure",
                "message": "bad",
                "title": "gitferry config: environments.preview.ttl",
            })
        );
    }

    #[test]
    fn errors_are_sorted_and_capped() {
        let many = (0..150).rev().map(|line| error(line + 1, "x")).collect();
        let errors = ConfigErrors::new(many).unwrap();
        assert_eq!(errors.len(), ConfigErrors::MAX + 1);
        assert_eq!(errors.errors()[0].line, 1);
        assert_eq!(
            errors.errors()[100].message,
            "… and 50 more errors, not shown"
        );
    }
}
