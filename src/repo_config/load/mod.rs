//! From text to a validated [`RepoConfig`], with every error at its line and column.
//!
//! 1. [`limits`]: size and UTF-8, before any parser runs.
//! 2. [`scan`]: saphyr's event stream gives syntax errors with positions, the hostile-input
//!    limits (aliases, depth) and the position of every value.
//! 3. [`sections`]: serde (`serde_yaml_ng` values, `serde_path_to_error` for where) builds
//!    the types section by section, entry by entry.
//! 4. `validate`: rules that need more than one value (unique names, references between
//!    sections, templates that only make sense in some environments).
//!
//! Problems from 3 and 4 carry paths; the index from 2 turns them into lines and columns.

mod index;
mod limits;
mod path;
mod problem;
mod scan;
mod sections;
mod serde_message;
mod suggest;

pub use limits::MAX_CONFIG_BYTES;

pub(crate) use path::ConfigPath;
pub(crate) use problem::Problem;
#[cfg(test)]
pub(crate) use scan::{MAX_ALIAS_NODES, MAX_DEPTH};
pub(crate) use sections::{Deserialized, Section};
pub(crate) use serde_message::{at_key, with_suggestion};
pub(crate) use suggest::did_you_mean;

use crate::repo_config::error::{ConfigError, ConfigErrors};
use crate::repo_config::model::RepoConfig;
use crate::repo_config::validate;

/// See [`crate::repo_config::parse_bytes`].
pub(crate) fn parse_bytes(bytes: &[u8]) -> Result<RepoConfig, ConfigErrors> {
    parse_text(limits::decode(bytes)?)
}

/// See [`crate::repo_config::parse`].
pub(crate) fn parse_text(text: &str) -> Result<RepoConfig, ConfigErrors> {
    parse_text_for(text, &|_| None)
}

/// See [`crate::repo_config::parse_bytes_for`].
pub(crate) fn parse_bytes_for(
    bytes: &[u8],
    refusal: &dyn Fn(&str) -> Option<String>,
) -> Result<RepoConfig, ConfigErrors> {
    parse_text_for(limits::decode(bytes)?, refusal)
}

/// See [`crate::repo_config::parse_for`].
pub(crate) fn parse_text_for(
    text: &str,
    refusal: &dyn Fn(&str) -> Option<String>,
) -> Result<RepoConfig, ConfigErrors> {
    limits::check_size(text.len())?;
    // A byte-order mark is invisible in editors; columns on line 1 should not count it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    limits::check_separators(text)?;
    let index = scan::scan(text).map_err(ConfigErrors::one)?;
    let document = serde_yaml_ng::from_str(text).map_err(|error| {
        let (line, column) = error
            .location()
            .map_or((1, 1), |at| (at.line(), at.column()));
        ConfigErrors::one(ConfigError {
            line,
            column,
            path: String::new(),
            message: format!("YAML error: {error}"),
        })
    })?;
    let mut loaded = sections::load(document);
    let found = validate::validate(&loaded);
    loaded.problems.extend(found);
    let refused = validate::variables::check(&loaded, refusal);
    loaded.problems.extend(refused);
    let errors = loaded
        .problems
        .into_iter()
        .map(|problem| problem.locate(&index))
        .collect();
    match ConfigErrors::new(errors) {
        Some(errors) => Err(errors),
        None => Ok(loaded.config),
    }
}
