//! Small value types that the config's sections share.
//!
//! Each one validates itself while it is deserialized, so a bad value is reported at its own
//! key (`pipeline[0].run`, `environments.preview.ttl`) and code that holds one never re-checks.

mod argv;
mod duration;
mod env_var;
mod names;
mod paths;
mod template;

pub use argv::Argv;
pub use duration::Duration;
pub use env_var::EnvVarName;
pub use names::StepName;
pub use paths::{JsonPointer, RepoPath};
pub use template::{Placeholder, Template, TemplateValues, branch_slug};

pub(crate) use names::{
    is_branch_name, is_dns_label, is_environment_name, is_github_login, is_team, is_variable_name,
};

/// Shows a user-written string inside an error message, cut short when it is long.
///
/// Messages end up in check-run annotations (64 KB at most) and terminals; a 1 MiB key must not
/// turn into a 1 MiB message.
pub(crate) fn shown(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    if text.chars().count() <= MAX_CHARS {
        return text.to_owned();
    }
    let head: String = text.chars().take(MAX_CHARS - 1).collect();
    format!("{head}…")
}
