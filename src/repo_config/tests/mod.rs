//! Scenario tests of the config: what users write, and what they are told.

mod cli;
mod docs;
mod full_example;
mod hostile;
mod keys_and_types;
mod properties;
mod rules;

use super::parse;

/// Every error of `yaml`, as `line:column: message`.
pub(super) fn errors(yaml: &str) -> Vec<String> {
    match parse(yaml) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .errors()
            .iter()
            .map(|error| format!("{}:{}: {}", error.line, error.column, error.message))
            .collect(),
    }
}

/// Asserts that `yaml` has exactly one error, `line:column: message`.
#[track_caller]
pub(super) fn assert_error(yaml: &str, expected: &str) {
    assert_eq!(errors(yaml), [expected], "for:\n{yaml}");
}

/// The paths of the errors of `yaml`.
pub(super) fn error_paths(yaml: &str) -> Vec<String> {
    match parse(yaml) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .errors()
            .iter()
            .map(|error| error.path.clone())
            .collect(),
    }
}
