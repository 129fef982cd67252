//! One `<testcase>` while it is being read: its attributes, its final outcome as its children
//! reveal it, and its failure text up to a cap. [`CaseBuilder::finish`] decides its message
//! and location once everything about it is known.

use std::time::Duration;

use super::attrs::Attrs;
use super::location;
use super::model::{Case, Limits, Location, Outcome};
use crate::report::units::prefix_bytes;

pub(crate) struct CaseBuilder {
    attrs: Attrs,
    zero_based_lines: bool,
    outcome: Outcome,
    message: Option<String>,
    text: String,
    text_full: bool,
    pub(crate) retries: u32,
}

impl CaseBuilder {
    pub(crate) fn new(attrs: Attrs, zero_based_lines: bool) -> Self {
        CaseBuilder {
            attrs,
            zero_based_lines,
            outcome: Outcome::Passed,
            message: None,
            text: String::new(),
            text_full: false,
            retries: 0,
        }
    }

    /// Records a `<failure>`, `<error>` or `<skipped>` child. The first failure or error wins
    /// (its text is the one captured); a failure outranks a skip. Returns whether this child's
    /// text should be captured.
    pub(crate) fn set_outcome(&mut self, outcome: Outcome, message: Option<String>) -> bool {
        if self.outcome.is_failure() {
            return false;
        }
        self.outcome = outcome;
        self.message = message;
        outcome.is_failure()
    }

    pub(crate) fn push_text(&mut self, text: &str, max: usize) {
        if self.text_full {
            return;
        }
        let room = max.saturating_sub(self.text.len());
        let piece = prefix_bytes(text, room);
        self.text.push_str(piece);
        self.text_full = piece.len() < text.len();
    }

    pub(crate) fn finish(self, limits: &Limits) -> Case {
        let text = self.text.trim_matches('\n');
        let text = (!text.trim().is_empty()).then(|| text.to_owned());
        let message = self
            .message
            .filter(|m| !m.trim().is_empty() && m.trim() != "Failed")
            .or_else(|| text.as_deref().and_then(first_line))
            .map(|m| prefix_bytes(&m, limits.max_field_bytes).to_owned());
        let line = self
            .attrs
            .line
            .map(|l| {
                if self.zero_based_lines {
                    l.saturating_add(1)
                } else {
                    l
                }
            })
            .filter(|&l| l > 0);
        let file = self.attrs.file.filter(|f| !f.trim().is_empty());
        let location = match (file, line) {
            (Some(file), Some(line)) => Some(Location {
                file,
                line: Some(line),
            }),
            (file, _) => {
                let stem = self.attrs.classname.as_deref().and_then(class_stem);
                let found = text.as_deref().and_then(|t| {
                    let by_stem = || stem.and_then(|s| location::find_by_stem(t, s));
                    file.is_none()
                        .then(by_stem)
                        .flatten()
                        .or_else(|| location::find(t, file.as_deref()))
                });
                match (file, found) {
                    (Some(file), found) => Some(Location {
                        file,
                        line: found.map(|(_, l)| l),
                    }),
                    (None, Some((file, l))) => Some(Location {
                        file: prefix_bytes(&file, limits.max_field_bytes).to_owned(),
                        line: Some(l),
                    }),
                    (None, None) => None,
                }
            }
        };
        Case {
            classname: self.attrs.classname.unwrap_or_default(),
            name: self.attrs.name.unwrap_or_default(),
            time: self.attrs.time.unwrap_or(Duration::ZERO),
            outcome: self.outcome,
            message,
            text,
            location,
            retries: self.retries,
        }
    }
}

/// The first line of a failure's text that says something: Go's `=== RUN` banner is skipped,
/// so a `go test` failure shows its `file_test.go:14: expected ...` line.
fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("=== "))
        .map(str::to_owned)
}

/// The last segment of a class name (`CalculatorTest` of `com.example.CalculatorTest`), which
/// names the source file in Java-like languages.
fn class_stem(classname: &str) -> Option<&str> {
    classname
        .rsplit(['.', '/', ':', ' '])
        .next()
        .filter(|s| !s.is_empty())
}
