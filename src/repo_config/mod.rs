//! The repository's config, `.github/gitferry.yml`: types, validation, JSON Schema.
//!
//! gitferry reads the file from the repository's **default branch only** (design principle 4);
//! loading it from GitHub is the caller's job. This module is pure: text in, a validated
//! [`RepoConfig`] or every error with its line and column out.
//!
//! ```
//! let config = gitferry::repo_config::parse("pipeline:\n  - { name: unit, run: [make, test] }\n")
//!     .map_err(|errors| errors.to_string())?;
//! assert_eq!(config.pipeline[0].run.program(), "make");
//! # Ok::<(), String>(())
//! ```
//!
//! The reference for users is `docs/config.md`; `gitferry config check` uses [`check_file`]
//! and `gitferry config schema` prints [`json_schema`].

mod check;
mod error;
mod load;
mod model;
mod schema;
mod validate;
mod values;

#[cfg(test)]
mod tests;

pub use check::{CheckReport, check_file};
pub use error::{ConfigError, ConfigErrors};
pub use load::MAX_CONFIG_BYTES;
pub use model::*;
pub use schema::json_schema;
pub use values::{
    Argv, Duration, EnvVarName, JsonPointer, Placeholder, RepoPath, StepName, Template,
    TemplateValues, branch_slug,
};

/// Where the config lives in a repository.
pub const CONFIG_PATH: &str = ".github/gitferry.yml";

/// Parses and validates a config.
///
/// An empty file (or `{}`) is a valid config with every default. Errors are sorted by
/// position; the file is refused whole if any value is wrong, so a half-understood config is
/// never used.
pub fn parse(text: &str) -> Result<RepoConfig, ConfigErrors> {
    load::parse_text(text)
}

/// Like [`parse`], for the bytes fetched from GitHub: refuses more than [`MAX_CONFIG_BYTES`]
/// and text that is not UTF-8 before parsing anything.
pub fn parse_bytes(bytes: &[u8]) -> Result<RepoConfig, ConfigErrors> {
    load::parse_bytes(bytes)
}

/// Like [`parse`], for one repository: `refusal` says why a variable of the gitferry process
/// the config names may not be used by it (`None`: it may), and each refused name is an error
/// at its line. The operator's allow-list (`crate::secrets::allow`) is such a rule.
pub fn parse_for(
    text: &str,
    refusal: &dyn Fn(&str) -> Option<String>,
) -> Result<RepoConfig, ConfigErrors> {
    load::parse_text_for(text, refusal)
}

/// [`parse_for`] for the bytes fetched from GitHub (see [`parse_bytes`]).
pub fn parse_bytes_for(
    bytes: &[u8],
    refusal: &dyn Fn(&str) -> Option<String>,
) -> Result<RepoConfig, ConfigErrors> {
    load::parse_bytes_for(bytes, refusal)
}

/// Every variable of the gitferry process `config` names: step secrets, notification URLs and
/// signing secrets, kubeconfigs.
pub fn named_variables(config: &RepoConfig) -> Vec<&EnvVarName> {
    validate::variables::names(config)
}
